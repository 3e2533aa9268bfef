//! OAuth 2 / OIDC as django-oauth-toolkit 3.4 behaves in JHE: opaque tokens, client credentials
//! for practitioner API keys, authorization code with mandatory PKCE and loopback redirects,
//! refresh-token rotation, revocation, introspection, and the Django login form.
//!
//! This module holds the token store ([`AuthState`]); the endpoints live in `discovery`
//! (well-known documents), `token` (token, revoke, introspect, userinfo) and `browser` (the
//! login form and `/o/authorize/`).

mod browser;
mod discovery;
mod token;

use std::collections::HashMap;

use rand::Rng;

pub use browser::{authorize, login_form, login_submit, redirect_allowed};
pub use discovery::{authorization_server, cors, jwks, openid_configuration};
pub use token::{introspect, revoke, token, userinfo};

use crate::time::now_us;
use crate::world::{alnum, Grant, World};

#[derive(Clone, Debug)]
struct Token {
    user_id: u32,
    app_pk: u32,
    expires_us: i64,
    scope: String,
    client_credentials: bool,
}

#[derive(Clone, Debug)]
struct Refresh {
    user_id: u32,
    app_pk: u32,
    access: String,
    scope: String,
}

#[derive(Clone, Debug)]
struct Code {
    user_id: u32,
    app_pk: u32,
    redirect_uri: String,
    challenge: String,
    method: String,
    scope: String,
    expires_us: i64,
    nonce: Option<String>,
}

#[derive(Clone, Debug)]
pub struct TokenInfo {
    pub user_id: u32,
    pub app_pk: u32,
    pub client_credentials: bool,
    pub scope: String,
    pub expires_us: i64,
}

pub struct AuthState {
    tokens: HashMap<String, Token>,
    refresh: HashMap<String, Refresh>,
    codes: HashMap<String, Code>,
    sessions: HashMap<String, u32>,
    csrf: HashMap<String, ()>,
    pub lifetime_s: i64,
}

fn random_token(len: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

impl AuthState {
    pub fn new(lifetime_s: i64) -> AuthState {
        AuthState {
            tokens: HashMap::new(),
            refresh: HashMap::new(),
            codes: HashMap::new(),
            sessions: HashMap::new(),
            csrf: HashMap::new(),
            lifetime_s,
        }
    }

    pub fn check_access(&self, token: &str) -> Option<TokenInfo> {
        let t = self.tokens.get(token)?;
        if t.expires_us <= now_us() {
            return None;
        }
        Some(TokenInfo {
            user_id: t.user_id,
            app_pk: t.app_pk,
            client_credentials: t.client_credentials,
            scope: t.scope.clone(),
            expires_us: t.expires_us,
        })
    }

    fn issue(&mut self, user_id: u32, app_pk: u32, scope: &str, cc: bool) -> String {
        let token = random_token(30);
        self.tokens.insert(
            token.clone(),
            Token {
                user_id,
                app_pk,
                expires_us: now_us() + self.lifetime_s * 1_000_000,
                scope: scope.to_string(),
                client_credentials: cc,
            },
        );
        token
    }

    /// An access token with its refresh token (authorization-code and refresh grants).
    fn issue_pair(&mut self, user_id: u32, app_pk: u32, scope: &str) -> (String, String) {
        let access = self.issue(user_id, app_pk, scope, false);
        let refresh = random_token(30);
        self.refresh.insert(
            refresh.clone(),
            Refresh {
                user_id,
                app_pk,
                access: access.clone(),
                scope: scope.to_string(),
            },
        );
        (access, refresh)
    }

    /// Fault injection and tests: every access and refresh token stops working at once.
    pub fn revoke_all(&mut self) -> usize {
        let n = self.tokens.len();
        self.tokens.clear();
        self.refresh.clear();
        n
    }

    /// Issues a token directly (tests and the in-process demo mode).
    pub fn issue_for_user(&mut self, user_id: u32, app_pk: u32) -> String {
        self.issue(user_id, app_pk, "openid email", false)
    }
}

/// Makes a new practitioner client (API key) for `user_id`; returns its app pk.
pub fn new_practitioner_client(world: &mut World, user_id: u32, label: &str) -> Option<u32> {
    let practitioner_id = world.user(user_id)?.practitioner_id?;
    let mut rng = <rand_chacha::ChaCha8Rng as rand::SeedableRng>::from_rng(&mut rand::rng());
    let pk = world.next_ids.app;
    world.next_ids.app += 1;
    let pc = world.next_ids.practitioner_client;
    world.next_ids.practitioner_client += 1;
    let now = chrono::Utc::now();
    world.apps.push(crate::world::App {
        pk,
        client_id: alnum(&mut rng, 16),
        client_secret: Some(alnum(&mut rng, 32)),
        name: format!(
            "_practitioner_client_{practitioner_id}_{}",
            now.format("%Y%m%d%H%M%S")
        ),
        public: false,
        grant: Grant::ClientCredentials,
        redirect_uris: vec![],
        user_id: Some(user_id),
        invitation_url: None,
        created: crate::time::iso_z(now.timestamp_micros()),
        label: Some(label.to_string()),
        practitioner_client_id: Some(pc),
    });
    Some(pk)
}
