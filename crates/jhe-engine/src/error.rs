//! Errors of the network half of the engine: every message is plain and says what to do next.
//!
//! The UI receives an error as `{"kind": "...", "message": "..."}` (see [`Error::kind`] and
//! [`ErrorKind`], the one list of kinds, exported to the UI's TypeScript with the `ts` feature);
//! the CLI maps errors to exit codes (see [`Error::exit_code`]). Messages name no front end: the
//! CLI adds its own hints (`jhe login`, `JHE_API_KEY`) when it prints them.

use serde::ser::SerializeStruct;
use serde::{Deserialize, Serialize, Serializer};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text typed as a server address is not a usable URL.
    #[error("\"{input}\" is not a server address JHE Desktop can use: {reason}. Type the full address, for example https://jhe.example.org")]
    InvalidUrl { input: String, reason: String },

    /// `http://` to a host that is not this computer.
    #[error("{url} uses plain http://, which would send your sign-in and the study data unencrypted over the network. Use the server's https:// address (plain http:// is only allowed for a server on this computer: 127.0.0.1, ::1, or localhost names that resolve there).")]
    InsecureUrl { url: String },

    /// Something answered, but it is not a JupyterHealth Exchange.
    #[error("{url} does not look like a JupyterHealth Exchange server: {detail}. Check the address (it is the address of the JHE web portal, without /api or /o at the end) with your study's data manager.")]
    NotJhe { url: String, detail: String },

    /// Nothing answered: DNS failure, connection refused, TLS failure, time-out.
    #[error("Could not reach {url}: {detail}. Check the address and your network connection, then try again.")]
    Unreachable { url: String, detail: String },

    /// The API key or the password was wrong, or the browser sign-in failed or was cancelled.
    #[error("Sign-in failed: {reason}")]
    SignInFailed { reason: String },

    /// The saved sign-in no longer works (token revoked, refresh token used or revoked).
    #[error("Please sign in again: {reason}")]
    SignInAgain { reason: String },

    /// Nothing is saved for this server.
    #[error("You are not signed in to {server}. Sign in first with your practitioner account.")]
    NotSignedIn { server: String },

    /// A patient (participant) account tried to use the research UI.
    #[error("This is a participant (patient) account. JHE Desktop is for research staff: sign in with your practitioner account instead.")]
    PatientAccount,

    /// HTTP 403: the account may not see this.
    #[error("Your account cannot see {what} — ask its manager to add you to the study's organization (or check the id).")]
    Forbidden { what: String },

    /// HTTP 404.
    #[error("{what} was not found on the server. Check the id; it may have been removed, or belong to another server.")]
    NotFound { what: String },

    /// 5xx that did not go away after retrying.
    #[error("The server had a problem ({status} {summary}) and was still failing after {attempts} tries. Try again in a few minutes; an export resumes where it stopped. If this keeps happening, tell the server's administrator.")]
    Server {
        status: u16,
        summary: String,
        attempts: usize,
    },

    /// 429 that did not go away after retrying.
    #[error("The server asked JHE Desktop to slow down and was still refusing after {attempts} tries. Wait a few minutes and try again; an export resumes where it stopped.")]
    RateLimited { attempts: usize },

    /// Connection drops, time-outs and broken bodies that did not go away after retrying.
    #[error("The connection to the server kept failing ({detail}) after {attempts} tries. Check your network connection and try again; an export resumes where it stopped.")]
    Network { detail: String, attempts: usize },

    /// Another 4xx: the server refused the request as sent.
    #[error("The server refused the request ({status}: {summary}). This is likely a bug in JHE Desktop or an unexpected server version; please report it with this message.")]
    Rejected { status: u16, summary: String },

    /// A 2xx whose body is not what JHE sends.
    #[error("The server sent an answer JHE Desktop does not understand ({detail}). Check that the address is a JupyterHealth Exchange server; if it is, please report this.")]
    BadResponse { detail: String },

    /// The user cancelled.
    #[error(
        "Cancelled. What was already downloaded is kept; run the same export again to resume."
    )]
    Cancelled,

    /// The OS keychain failed.
    #[error("The system keychain could not be used ({detail}). Unlock the keychain (or, on Linux, start a Secret Service such as GNOME Keyring), then try again.")]
    Keychain { detail: String },

    /// Wrong input from the caller (ids, dates, options).
    #[error("{0}")]
    InvalidInput(String),

    /// Writing the export failed.
    #[error("Writing the export failed: {detail}. Check that the output folder is writable and the disk is not full, then run the export again to resume.")]
    Export { detail: String },

    /// The local (encrypted) copy of a study could not be read or written; `detail` is the
    /// copy's own plain sentence.
    #[error("{detail}")]
    LocalCopy { detail: String },
}

/// Every kind of failure a front end can be told about, as the stable names the UI and `--json`
/// output use (`"invalid_url"`, …). The engine's errors use most of them; the app adds `io`
/// (reading files back) and `internal` (a bug in the app).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    InvalidUrl,
    InsecureUrl,
    NotJhe,
    Unreachable,
    SignInFailed,
    SignInAgain,
    NotSignedIn,
    PatientAccount,
    Forbidden,
    NotFound,
    Server,
    RateLimited,
    Network,
    Rejected,
    BadResponse,
    Cancelled,
    Keychain,
    InvalidInput,
    Export,
    /// A study's local copy on this computer could not be read or written.
    LocalCopy,
    /// Files on this computer could not be read or written (the app's offline review, pickers).
    Io,
    /// An encrypted export needs its passphrase, or the one given does not open it (the app
    /// asks for it and tries again).
    Passphrase,
    /// A bug or an unexpected state inside the app.
    Internal,
}

impl ErrorKind {
    /// The stable name, e.g. `"invalid_url"` (what serde writes).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::InvalidUrl => "invalid_url",
            ErrorKind::InsecureUrl => "insecure_url",
            ErrorKind::NotJhe => "not_jhe",
            ErrorKind::Unreachable => "unreachable",
            ErrorKind::SignInFailed => "sign_in_failed",
            ErrorKind::SignInAgain => "sign_in_again",
            ErrorKind::NotSignedIn => "not_signed_in",
            ErrorKind::PatientAccount => "patient_account",
            ErrorKind::Forbidden => "forbidden",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Server => "server",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Network => "network",
            ErrorKind::Rejected => "rejected",
            ErrorKind::BadResponse => "bad_response",
            ErrorKind::Cancelled => "cancelled",
            ErrorKind::Keychain => "keychain",
            ErrorKind::InvalidInput => "invalid_input",
            ErrorKind::Export => "export",
            ErrorKind::LocalCopy => "local_copy",
            ErrorKind::Io => "io",
            ErrorKind::Passphrase => "passphrase",
            ErrorKind::Internal => "internal",
        }
    }
}

/// `kind == "not_found"`: the stable name compared as text (tests, logs).
impl PartialEq<&str> for ErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Error {
    /// A stable machine-readable name, used by the UI and by `--json` output.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::InvalidUrl { .. } => ErrorKind::InvalidUrl,
            Error::InsecureUrl { .. } => ErrorKind::InsecureUrl,
            Error::NotJhe { .. } => ErrorKind::NotJhe,
            Error::Unreachable { .. } => ErrorKind::Unreachable,
            Error::SignInFailed { .. } => ErrorKind::SignInFailed,
            Error::SignInAgain { .. } => ErrorKind::SignInAgain,
            Error::NotSignedIn { .. } => ErrorKind::NotSignedIn,
            Error::PatientAccount => ErrorKind::PatientAccount,
            Error::Forbidden { .. } => ErrorKind::Forbidden,
            Error::NotFound { .. } => ErrorKind::NotFound,
            Error::Server { .. } => ErrorKind::Server,
            Error::RateLimited { .. } => ErrorKind::RateLimited,
            Error::Network { .. } => ErrorKind::Network,
            Error::Rejected { .. } => ErrorKind::Rejected,
            Error::BadResponse { .. } => ErrorKind::BadResponse,
            Error::Cancelled => ErrorKind::Cancelled,
            Error::Keychain { .. } => ErrorKind::Keychain,
            Error::InvalidInput(_) => ErrorKind::InvalidInput,
            Error::Export { .. } => ErrorKind::Export,
            Error::LocalCopy { .. } => ErrorKind::LocalCopy,
        }
    }

    /// Exit code of the `jhe` CLI for this error (documented in `jhe --help`).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::InvalidInput(_) => 2,
            Error::SignInFailed { .. }
            | Error::SignInAgain { .. }
            | Error::NotSignedIn { .. }
            | Error::PatientAccount
            | Error::Keychain { .. } => 3,
            Error::Forbidden { .. } => 4,
            Error::InvalidUrl { .. }
            | Error::InsecureUrl { .. }
            | Error::NotJhe { .. }
            | Error::Unreachable { .. }
            | Error::NotFound { .. }
            | Error::Server { .. }
            | Error::RateLimited { .. }
            | Error::Network { .. }
            | Error::Rejected { .. }
            | Error::BadResponse { .. } => 5,
            Error::Export { .. } | Error::LocalCopy { .. } => 7,
            Error::Cancelled => 130,
        }
    }

    /// True for failures that another try later may fix (network, server, rate limit).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            Error::Server { .. } | Error::RateLimited { .. } | Error::Network { .. }
        )
    }

    pub(crate) fn bad_response(detail: impl Into<String>) -> Error {
        Error::BadResponse {
            detail: detail.into(),
        }
    }
}

impl Serialize for Error {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut st = s.serialize_struct("Error", 2)?;
        st.serialize_field("kind", &self.kind())?;
        st.serialize_field("message", &self.to_string())?;
        st.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_kind_and_message() {
        let e = Error::Forbidden {
            what: "study 30003".into(),
        };
        let v = serde_json::to_value(&e).unwrap_or_default();
        assert_eq!(v["kind"], "forbidden");
        assert!(v["message"]
            .as_str()
            .unwrap_or_default()
            .contains("ask its manager"));
    }

    #[test]
    fn kind_names_are_what_serde_writes() {
        for k in [
            ErrorKind::InvalidUrl,
            ErrorKind::NotSignedIn,
            ErrorKind::BadResponse,
            ErrorKind::Io,
            ErrorKind::Passphrase,
            ErrorKind::Internal,
        ] {
            assert_eq!(
                serde_json::to_value(k).unwrap_or_default(),
                serde_json::Value::from(k.as_str())
            );
        }
        assert_eq!(ErrorKind::SignInAgain.to_string(), "sign_in_again");
    }

    #[test]
    fn exit_codes_are_distinct_per_class() {
        assert_eq!(Error::Cancelled.exit_code(), 130);
        assert_eq!(Error::PatientAccount.exit_code(), 3);
        assert_eq!(Error::InvalidInput("x".into()).exit_code(), 2);
        assert_eq!(
            Error::Forbidden {
                what: String::new()
            }
            .exit_code(),
            4
        );
    }
}
