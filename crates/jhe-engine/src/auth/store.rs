//! Where secrets live: the OS keychain (macOS Keychain, Windows Credential Manager, Secret
//! Service on Linux) through `keyring`, or an in-memory store for tests. Never plain files.

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Which program's keychain entries: the desktop app and the `jhe` command line keep their own,
/// so signing out of one never signs the other out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeychainOwner {
    Desktop,
    Cli,
}

impl KeychainOwner {
    /// The keychain "service" name of this program's entries (one entry per server address).
    pub fn service(self) -> &'static str {
        match self {
            KeychainOwner::Desktop => "org.jupyterhealth.jhe-desktop",
            KeychainOwner::Cli => "org.jupyterhealth.jhe-cli",
        }
    }
}

/// A place to keep one secret per account (the account is the server's address).
pub trait SecretStore: Send + Sync {
    fn get(&self, account: &str) -> Result<Option<String>>;
    fn set(&self, account: &str, secret: &str) -> Result<()>;
    /// Deleting what is not there is not an error.
    fn delete(&self, account: &str) -> Result<()>;
}

/// What is saved per server.
#[derive(Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum SavedSignIn {
    /// A practitioner API key (base64 of `client_id:client_secret`).
    ApiKey { api_key: String },
    /// A browser sign-in: the latest refresh token (it rotates on every use).
    Browser {
        client_id: String,
        refresh_token: String,
    },
}

impl std::fmt::Debug for SavedSignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SavedSignIn::ApiKey { .. } => f.write_str("ApiKey { api_key: <redacted> }"),
            SavedSignIn::Browser { client_id, .. } => write!(
                f,
                "Browser {{ client_id: {client_id:?}, refresh_token: <redacted> }}"
            ),
        }
    }
}

impl SavedSignIn {
    pub fn load(store: &dyn SecretStore, account: &str) -> Result<Option<SavedSignIn>> {
        match store.get(account)? {
            None => Ok(None),
            Some(s) => serde_json::from_str(&s)
                .map(Some)
                .map_err(|_| Error::Keychain {
                    detail: "the saved sign-in is unreadable; sign in again to replace it".into(),
                }),
        }
    }

    pub fn save(&self, store: &dyn SecretStore, account: &str) -> Result<()> {
        let s = serde_json::to_string(self).map_err(|e| Error::Keychain {
            detail: e.to_string(),
        })?;
        store.set(account, &s)
    }
}

/// The OS keychain.
#[derive(Clone, Debug)]
pub struct KeyringStore {
    service: String,
}

impl KeyringStore {
    /// The entries of `owner` (the desktop app or the command line).
    pub fn of(owner: KeychainOwner) -> KeyringStore {
        KeyringStore::new(owner.service())
    }

    pub fn new(service: &str) -> KeyringStore {
        KeyringStore {
            service: service.to_string(),
        }
    }

    fn entry(&self, account: &str) -> Result<keyring::Entry> {
        keyring::Entry::new(&self.service, account).map_err(keychain_error)
    }
}

fn keychain_error(e: keyring::Error) -> Error {
    Error::Keychain {
        detail: match e {
            keyring::Error::NoStorageAccess(_) => "no keychain is available or it is locked".into(),
            keyring::Error::PlatformFailure(p) => format!("the keychain failed: {p}"),
            other => other.to_string(),
        },
    }
}

impl SecretStore for KeyringStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        match self.entry(account)?.get_password() {
            Ok(s) => Ok(Some(s)),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(keychain_error(e)),
        }
    }

    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.entry(account)?
            .set_password(secret)
            .map_err(keychain_error)
    }

    fn delete(&self, account: &str) -> Result<()> {
        match self.entry(account)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(keychain_error(e)),
        }
    }
}

/// Secrets in memory only (tests, and runs that must not touch the keychain).
#[derive(Default)]
pub struct MemoryStore {
    map: Mutex<HashMap<String, String>>,
}

impl MemoryStore {
    pub fn new() -> MemoryStore {
        MemoryStore::default()
    }
}

impl SecretStore for MemoryStore {
    fn get(&self, account: &str) -> Result<Option<String>> {
        Ok(self
            .map
            .lock()
            .map_err(|_| Error::Keychain {
                detail: "poisoned".into(),
            })?
            .get(account)
            .cloned())
    }
    fn set(&self, account: &str, secret: &str) -> Result<()> {
        self.map
            .lock()
            .map_err(|_| Error::Keychain {
                detail: "poisoned".into(),
            })?
            .insert(account.to_string(), secret.to_string());
        Ok(())
    }
    fn delete(&self, account: &str) -> Result<()> {
        self.map
            .lock()
            .map_err(|_| Error::Keychain {
                detail: "poisoned".into(),
            })?
            .remove(account);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn saved_sign_ins_never_show_secrets_in_debug() {
        let s = SavedSignIn::Browser {
            client_id: "jhe-desktop".into(),
            refresh_token: "SECRET-REFRESH".into(),
        };
        assert!(!format!("{s:?}").contains("SECRET"));
        let k = SavedSignIn::ApiKey {
            api_key: "SECRET-KEY".into(),
        };
        assert!(!format!("{k:?}").contains("SECRET"));
    }

    #[test]
    fn memory_store_round_trips() -> Result<()> {
        let m = MemoryStore::new();
        let s = SavedSignIn::ApiKey {
            api_key: "k".into(),
        };
        s.save(&m, "https://a")?;
        assert_eq!(SavedSignIn::load(&m, "https://a")?, Some(s));
        m.delete("https://a")?;
        m.delete("https://a")?;
        assert_eq!(SavedSignIn::load(&m, "https://a")?, None);
        Ok(())
    }

    /// The keychain must be the platform's real one, never keyring's in-memory mock.
    #[test]
    fn keyring_uses_the_platform_store_not_the_mock() -> Result<()> {
        let entry = KeyringStore::of(KeychainOwner::Desktop).entry("https://example.org")?;
        let cred = entry.get_credential();
        assert!(cred
            .downcast_ref::<keyring::mock::MockCredential>()
            .is_none());
        #[cfg(target_os = "linux")]
        assert!(cred
            .downcast_ref::<keyring::secret_service::SsCredential>()
            .is_some());
        #[cfg(target_os = "macos")]
        assert!(cred
            .downcast_ref::<keyring::macos::MacCredential>()
            .is_some());
        #[cfg(target_os = "windows")]
        assert!(cred
            .downcast_ref::<keyring::windows::WinCredential>()
            .is_some());
        Ok(())
    }

    /// Run against a real Secret Service (the e2e step starts one: `tests/e2e/run.sh`): the app's
    /// and the command line's sign-ins to the same server are separate entries, and deleting one
    /// (what "Sign out" does) leaves the other.
    #[test]
    #[ignore = "needs a real, unlocked keychain"]
    fn real_keychain_keeps_the_apps_and_the_clis_sign_ins_apart() -> Result<()> {
        let account = format!("https://keychain-test-{}.example.org", std::process::id());
        let app = KeyringStore::of(KeychainOwner::Desktop);
        let cli = KeyringStore::of(KeychainOwner::Cli);
        app.set(&account, "app-secret")?;
        cli.set(&account, "cli-secret")?;
        assert_eq!(app.get(&account)?.as_deref(), Some("app-secret"));
        assert_eq!(cli.get(&account)?.as_deref(), Some("cli-secret"));
        app.delete(&account)?;
        assert_eq!(app.get(&account)?, None);
        assert_eq!(cli.get(&account)?.as_deref(), Some("cli-secret"));
        cli.delete(&account)?;
        assert_eq!(cli.get(&account)?, None);
        Ok(())
    }
}
