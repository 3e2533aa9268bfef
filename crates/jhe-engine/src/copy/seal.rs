//! Encryption at rest of a local copy: every file of a copy is an age file for one X25519
//! recipient, whose secret key lives in the OS keychain (one key per server), never on disk.
//!
//! On a machine without a keychain (a server running `jhe sync --watch`), the key can be given in
//! the `JHE_COPY_KEY` environment variable (an `AGE-SECRET-KEY-1…` string, as `age-keygen`
//! prints), which then takes the keychain's place.

use std::str::FromStr;

use age::secrecy::ExposeSecret;

use super::CopyError;
use crate::auth::SecretStore;

/// The environment variable that replaces the keychain entry.
pub const KEY_ENV: &str = "JHE_COPY_KEY";

/// The key of one server's local copies.
#[derive(Clone)]
pub struct CopyKey {
    identity: age::x25519::Identity,
    recipient: age::x25519::Recipient,
}

impl CopyKey {
    /// The keychain account holding the key of `server`'s copies.
    pub fn account(server: &str) -> String {
        format!("copy-key:{}", server.trim_end_matches('/'))
    }

    /// The key from `JHE_COPY_KEY`, else from the keychain; a new one (saved there) when there
    /// is none yet and `create` is set.
    pub fn load(
        store: &dyn SecretStore,
        server: &str,
        create: bool,
    ) -> Result<Option<CopyKey>, CopyError> {
        if let Ok(k) = std::env::var(KEY_ENV) {
            return CopyKey::parse(k.trim()).map(Some);
        }
        let account = CopyKey::account(server);
        let keychain = |e: crate::error::Error| CopyError::Keychain(e.to_string());
        if let Some(k) = store.get(&account).map_err(keychain)? {
            return CopyKey::parse(&k).map(Some);
        }
        if !create {
            return Ok(None);
        }
        let identity = age::x25519::Identity::generate();
        store
            .set(&account, identity.to_string().expose_secret())
            .map_err(keychain)?;
        Ok(Some(CopyKey::from_identity(identity)))
    }

    /// A key for tests and benchmarks (not kept anywhere).
    pub fn generate() -> CopyKey {
        CopyKey::from_identity(age::x25519::Identity::generate())
    }

    fn parse(s: &str) -> Result<CopyKey, CopyError> {
        age::x25519::Identity::from_str(s)
            .map(CopyKey::from_identity)
            .map_err(|_| {
                CopyError::Keychain("the saved key of the local copies is not an age key".into())
            })
    }

    fn from_identity(identity: age::x25519::Identity) -> CopyKey {
        let recipient = identity.to_public();
        CopyKey {
            identity,
            recipient,
        }
    }

    pub fn seal(&self, plain: &[u8]) -> Result<Vec<u8>, CopyError> {
        age::encrypt(&self.recipient, plain).map_err(|e| CopyError::Crypto(e.to_string()))
    }

    pub fn open(&self, sealed: &[u8]) -> Result<Vec<u8>, CopyError> {
        age::decrypt(&self.identity, sealed).map_err(|_| CopyError::WrongKey)
    }
}

/// A new key as text, for [`KEY_ENV`] on a computer without a keychain.
pub fn new_key_text() -> String {
    age::x25519::Identity::generate()
        .to_string()
        .expose_secret()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_is_sealed_opens_with_its_key_only() {
        let (a, b) = (CopyKey::generate(), CopyKey::generate());
        let sealed = a.seal(b"Mary Smith 142 mg/dL").expect("seal");
        assert!(!sealed.windows(5).any(|w| w == b"Smith"));
        assert_eq!(a.open(&sealed).expect("open"), b"Mary Smith 142 mg/dL");
        assert!(matches!(b.open(&sealed), Err(CopyError::WrongKey)));
    }

    #[test]
    fn the_key_is_made_once_per_server_and_kept_in_the_store() {
        let store = crate::auth::MemoryStore::new();
        let k1 = CopyKey::load(&store, "http://h:1/", true)
            .expect("key")
            .expect("made");
        let k2 = CopyKey::load(&store, "http://h:1", false)
            .expect("key")
            .expect("kept");
        assert_eq!(k2.open(&k1.seal(b"x").expect("seal")).expect("open"), b"x");
        assert!(CopyKey::load(&store, "http://other", false)
            .expect("ok")
            .is_none());
    }
}
