//! Errors of the network half of the engine: every message is plain and says what to do next.
//!
//! The UI receives an error as `{"kind": "...", "message": "..."}` (see [`Error::kind`]); the CLI
//! maps kinds to exit codes (see [`Error::exit_code`]).

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text typed as a server address is not a usable URL.
    #[error("\"{input}\" is not a server address JHE Desktop can use: {reason}. Type the full address, for example https://jhe.example.org")]
    InvalidUrl { input: String, reason: String },

    /// `http://` to a host that is not this computer.
    #[error("{url} uses plain http://, which would send your sign-in and the study data unencrypted over the network. Use the server's https:// address (plain http:// is only allowed for a server on this computer: 127.0.0.1, ::1 or localhost).")]
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
    #[error("You are not signed in to {server}. Sign in first (with `jhe login`, or set JHE_API_KEY to your practitioner API key).")]
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
    #[error("The system keychain could not be used ({detail}). Unlock the keychain (or, on Linux, start a Secret Service such as GNOME Keyring), or pass the API key in JHE_API_KEY instead.")]
    Keychain { detail: String },

    /// Wrong input from the caller (ids, dates, options).
    #[error("{0}")]
    InvalidInput(String),

    /// Writing the export failed.
    #[error("Writing the export failed: {detail}. Check that the output folder is writable and the disk is not full, then run the export again to resume.")]
    Export { detail: String },
}

impl Error {
    /// A stable machine-readable name, used by the UI and by `--json` output.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::InvalidUrl { .. } => "invalid_url",
            Error::InsecureUrl { .. } => "insecure_url",
            Error::NotJhe { .. } => "not_jhe",
            Error::Unreachable { .. } => "unreachable",
            Error::SignInFailed { .. } => "sign_in_failed",
            Error::SignInAgain { .. } => "sign_in_again",
            Error::NotSignedIn { .. } => "not_signed_in",
            Error::PatientAccount => "patient_account",
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::Server { .. } => "server",
            Error::RateLimited { .. } => "rate_limited",
            Error::Network { .. } => "network",
            Error::Rejected { .. } => "rejected",
            Error::BadResponse { .. } => "bad_response",
            Error::Cancelled => "cancelled",
            Error::Keychain { .. } => "keychain",
            Error::InvalidInput(_) => "invalid_input",
            Error::Export { .. } => "export",
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
            Error::Export { .. } => 7,
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
        st.serialize_field("kind", self.kind())?;
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
