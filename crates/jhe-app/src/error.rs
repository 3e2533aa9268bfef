//! Every operation fails with `{kind, message}`: the engine's errors keep their kind and plain
//! message; the app adds a few of its own (no session, files that cannot be read, bugs, …).
//! The kinds are [`ErrorKind`], the one list shared with the UI (generated TypeScript).

use jhe_engine::error::ErrorKind;
use serde::{Serialize, Serializer};

use crate::ipc::BackendError;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Engine(#[from] jhe_engine::error::Error),
    /// A command that needs a signed-in session ran without one.
    #[error("You are not signed in. Sign in (or open the demo exchange) first.")]
    NotSignedIn,
    /// Reading files (offline review) failed.
    #[error("{0}")]
    Io(String),
    #[error("{0}")]
    InvalidInput(String),
    #[error("{0}")]
    NotFound(String),
    /// An encrypted export was opened without its passphrase, or with another one.
    #[error("{0}")]
    Passphrase(String),
    /// A bug or an unexpected state inside the app.
    #[error("Something went wrong inside JHE Desktop: {0}. Please report this.")]
    Internal(String),
}

impl Error {
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Engine(e) => e.kind(),
            Error::NotSignedIn => ErrorKind::NotSignedIn,
            Error::Io(_) => ErrorKind::Io,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::NotFound(_) => ErrorKind::NotFound,
            Error::Passphrase(_) => ErrorKind::Passphrase,
            Error::Internal(_) => ErrorKind::Internal,
        }
    }

    pub fn to_backend(&self) -> BackendError {
        BackendError {
            kind: self.kind(),
            message: self.to_string(),
        }
    }

    pub fn cancelled() -> Error {
        Error::Engine(jhe_engine::error::Error::Cancelled)
    }
}

impl From<tokio::task::JoinError> for Error {
    fn from(e: tokio::task::JoinError) -> Self {
        Error::Internal(e.to_string())
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_backend().serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_message() {
        let v = serde_json::to_value(Error::Engine(jhe_engine::error::Error::SignInFailed {
            reason: "the API key was not accepted".into(),
        }))
        .unwrap_or_default();
        assert_eq!(v["kind"], "sign_in_failed");
        assert!(v["message"]
            .as_str()
            .unwrap_or_default()
            .starts_with("Sign-in failed"));
        let v = serde_json::to_value(Error::NotSignedIn).unwrap_or_default();
        assert_eq!(v["kind"], "not_signed_in");
    }

    #[test]
    fn bugs_in_the_app_are_reported_as_internal_not_as_the_servers_fault() {
        let v =
            serde_json::to_value(Error::Internal("a lock was poisoned".into())).unwrap_or_default();
        assert_eq!(v["kind"], "internal");
        assert!(v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("Please report this"));
    }
}
