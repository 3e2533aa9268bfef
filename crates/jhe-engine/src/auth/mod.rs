//! Signing in: a practitioner API key (client credentials over HTTP Basic), or the browser
//! (authorization code + PKCE S256 on a loopback redirect, refresh tokens with rotation).
//!
//! [`Auth`] hands out access tokens, renews them before they expire, and renews once more when
//! the server rejects one (the caller then retries once; a second 401 means "sign in again").

pub mod browser;
mod pkce;
pub mod store;

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::{ExponentialBuilder, Retryable};
use base64::Engine;
use serde::Deserialize;
use serde_json::Value;

pub use browser::{BrowserOptions, DEFAULT_CLIENT_ID};
pub use store::{KeychainOwner, KeyringStore, MemoryStore, SavedSignIn, SecretStore};

use crate::error::{Error, Result};
use crate::http::{self, RetryPolicy};
use crate::server_check::ServerInfo;

/// A token endpoint answer.
#[derive(Clone, Deserialize)]
pub(crate) struct TokenResponse {
    pub access_token: String,
    #[serde(default, deserialize_with = "lenient_expires_in")]
    pub expires_in: Option<i64>,
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// Where a rotated refresh token is written.
#[derive(Clone)]
pub(crate) struct Persist {
    pub store: Arc<dyn SecretStore>,
    pub account: String,
}

struct State {
    saved: SavedSignIn,
    access: Option<String>,
    expires_at: Option<Instant>,
    /// Bumped on every new access token; 0 = none obtained yet.
    generation: u64,
}

pub(crate) struct Auth {
    server: ServerInfo,
    client: reqwest::Client,
    policy: RetryPolicy,
    state: tokio::sync::Mutex<State>,
    persist: std::sync::Mutex<Option<Persist>>,
}

/// Normalises a pasted API key: the base64 `key` from the JHE profile page, or a raw
/// `client_id:client_secret` pair. Returns the base64 form.
pub fn normalize_api_key(input: &str) -> Result<String> {
    let key: String = input.split_whitespace().collect();
    let key = key.strip_prefix("Basic").map(str::to_string).unwrap_or(key);
    let bad = || {
        Error::SignInFailed {
        reason: "that does not look like a JHE API key. Copy the whole key from your JHE profile page (Profile → API Key); it is a long string of letters and digits, often ending in '='.".into(),
    }
    };
    if key.is_empty() {
        return Err(bad());
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    if let Ok(bytes) = b64.decode(key.as_bytes()) {
        if let Ok(s) = String::from_utf8(bytes) {
            if let Some((id, secret)) = s.split_once(':') {
                if !id.is_empty() && !secret.is_empty() {
                    return Ok(key);
                }
            }
        }
    }
    if let Some((id, secret)) = key.split_once(':') {
        if !id.is_empty() && !secret.is_empty() {
            return Ok(b64.encode(key.as_bytes()));
        }
    }
    Err(bad())
}

/// The client id inside an API key.
pub fn api_key_client_id(key: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(key.as_bytes())
        .ok()?;
    let s = String::from_utf8(bytes).ok()?;
    s.split_once(':').map(|(id, _)| id.to_string())
}

impl Auth {
    pub(crate) fn new(
        server: ServerInfo,
        policy: RetryPolicy,
        saved: SavedSignIn,
        initial: Option<TokenResponse>,
        persist: Option<Persist>,
    ) -> Result<Auth> {
        let client = http::post_client(policy.request_timeout)?;
        let mut st = State {
            saved,
            access: None,
            expires_at: None,
            generation: 0,
        };
        if let Some(t) = initial {
            apply(&mut st, t);
        }
        Ok(Auth {
            server,
            client,
            policy,
            state: tokio::sync::Mutex::new(st),
            persist: std::sync::Mutex::new(persist),
        })
    }

    /// The saved sign-in as it is now (the refresh token may have rotated).
    pub(crate) async fn saved(&self) -> SavedSignIn {
        self.state.lock().await.saved.clone()
    }

    /// From now on, write rotated refresh tokens to `persist`.
    pub(crate) fn set_persist_target(&self, persist: Option<Persist>) {
        if let Ok(mut p) = self.persist.lock() {
            *p = persist;
        }
    }

    /// A valid access token and its generation, renewing it first when it is about to expire.
    pub(crate) async fn token(&self) -> Result<(String, u64)> {
        let mut st = self.state.lock().await;
        if let (Some(a), Some(exp)) = (&st.access, st.expires_at) {
            if Instant::now() < exp {
                return Ok((a.clone(), st.generation));
            }
        } else if let (Some(a), None) = (&st.access, st.expires_at) {
            return Ok((a.clone(), st.generation));
        }
        self.renew(&mut st).await?;
        Ok((st.access.clone().unwrap_or_default(), st.generation))
    }

    /// The token of generation `stale` was rejected (401): get a new one, unless another task
    /// already did.
    pub(crate) async fn after_unauthorized(&self, stale: u64) -> Result<(String, u64)> {
        let mut st = self.state.lock().await;
        if st.generation != stale {
            if let Some(a) = &st.access {
                return Ok((a.clone(), st.generation));
            }
        }
        st.access = None;
        self.renew(&mut st).await?;
        Ok((st.access.clone().unwrap_or_default(), st.generation))
    }

    async fn renew(&self, st: &mut State) -> Result<()> {
        let initial = st.generation == 0;
        let resp = match &st.saved {
            SavedSignIn::ApiKey { api_key } => {
                let r = self
                    .post_form(
                        &self.server.token_endpoint,
                        &[("grant_type", "client_credentials")],
                        Some(api_key),
                    )
                    .await?;
                token_or_error(r, |err| {
                    let reason = match err {
                        "invalid_client" => "the API key was not accepted (it may have been deleted, or mistyped). Copy it again from your JHE profile page (Profile → API Key), or create a new one there.".to_string(),
                        "unauthorized_client" => "this API key may not be used for sign-in on this server (it is not a practitioner API key).".to_string(),
                        other => format!("the server refused the API key ({other})."),
                    };
                    if initial {
                        Error::SignInFailed { reason }
                    } else {
                        Error::SignInAgain { reason }
                    }
                })?
            }
            SavedSignIn::Browser {
                client_id,
                refresh_token,
            } => {
                let r = self
                    .post_form(
                        &self.server.token_endpoint,
                        &[
                            ("grant_type", "refresh_token"),
                            ("refresh_token", refresh_token),
                            ("client_id", client_id),
                        ],
                        None,
                    )
                    .await?;
                token_or_error(r, |err| {
                    Error::SignInAgain {
                    reason: match err {
                        "invalid_grant" => "your browser sign-in has expired or was signed out elsewhere.".to_string(),
                        "invalid_client" => format!("the app's client id \"{client_id}\" is no longer registered on this server."),
                        other => format!("the server refused to renew the sign-in ({other})."),
                    },
                }
                })?
            }
        };
        if let (SavedSignIn::Browser { client_id, .. }, Some(new_refresh)) =
            (&st.saved, &resp.refresh_token)
        {
            // Rotation: the old refresh token is dead now, keep the new one everywhere.
            st.saved = SavedSignIn::Browser {
                client_id: client_id.clone(),
                refresh_token: new_refresh.clone(),
            };
            let target = self.persist.lock().ok().and_then(|p| p.clone());
            if let Some(p) = target {
                if let Err(e) = st.saved.save(p.store.as_ref(), &p.account) {
                    tracing::warn!("could not save the renewed sign-in: {e}");
                }
            }
        }
        apply(st, resp);
        Ok(())
    }

    /// Signs out: revokes the current access token and (browser) the refresh token.
    pub(crate) async fn revoke(&self) -> Result<()> {
        let st = self.state.lock().await;
        let url = &self.server.revocation_endpoint;
        match &st.saved {
            SavedSignIn::ApiKey { api_key } => {
                if let Some(a) = &st.access {
                    self.post_form(url, &[("token", a)], Some(api_key)).await?;
                }
            }
            SavedSignIn::Browser {
                client_id,
                refresh_token,
            } => {
                self.post_form(
                    url,
                    &[
                        ("token", refresh_token),
                        ("token_type_hint", "refresh_token"),
                        ("client_id", client_id),
                    ],
                    None,
                )
                .await?;
                if let Some(a) = &st.access {
                    self.post_form(
                        url,
                        &[
                            ("token", a),
                            ("token_type_hint", "access_token"),
                            ("client_id", client_id),
                        ],
                        None,
                    )
                    .await?;
                }
            }
        }
        Ok(())
    }

    /// POSTs a form, retrying transport errors, 5xx and 429. Returns the status and JSON body
    /// (`Null` when the body is not JSON).
    pub(crate) async fn post_form(
        &self,
        url: &str,
        form: &[(&str, &str)],
        basic: Option<&str>,
    ) -> Result<(u16, Value)> {
        post_form(&self.client, &self.policy, url, form, basic).await
    }
}

/// The longest token lifetime believed: a server announcing more (or garbage) gets this, so a
/// huge `expires_in` can neither overflow the clock arithmetic nor keep a token "valid" forever.
const MAX_TOKEN_LIFETIME_S: u64 = 30 * 24 * 3600;

/// `expires_in` as sent: any JSON number (or numeric string), negative counts as expired;
/// anything else as absent.
fn lenient_expires_in<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<i64>, D::Error> {
    let v = Option::<Value>::deserialize(d)?;
    let secs = match v {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    Ok(secs
        .filter(|s| s.is_finite())
        .map(|s| s.clamp(0.0, MAX_TOKEN_LIFETIME_S as f64) as i64))
}

fn apply(st: &mut State, t: TokenResponse) {
    st.access = Some(t.access_token);
    st.expires_at = t.expires_in.map(|secs| {
        let secs = (secs.max(0) as u64).min(MAX_TOKEN_LIFETIME_S);
        // Renew a little early: a tenth of the lifetime, at most a minute.
        let margin = (secs / 10).min(60);
        let now = Instant::now();
        now.checked_add(Duration::from_secs(secs - margin))
            .unwrap_or(now)
    });
    st.generation += 1;
}

fn token_or_error(
    (status, body): (u16, Value),
    on_oauth_error: impl FnOnce(&str) -> Error,
) -> Result<TokenResponse> {
    if (200..300).contains(&status) {
        return serde_json::from_value(body).map_err(|_| {
            Error::bad_response("the token endpoint answered without an access token")
        });
    }
    let err = body
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if err.is_empty() {
        return Err(Error::Rejected {
            status,
            summary: http::json_message(&body).unwrap_or_else(|| "no details".into()),
        });
    }
    Err(on_oauth_error(&err))
}

pub(crate) async fn post_form(
    client: &reqwest::Client,
    policy: &RetryPolicy,
    url: &str,
    form: &[(&str, &str)],
    basic: Option<&str>,
) -> Result<(u16, Value)> {
    enum F {
        Retry(String),
        Server(u16, String),
        Done(Error),
    }
    let once = || async {
        let mut req = client
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(form);
        if let Some(k) = basic {
            req = req.header(reqwest::header::AUTHORIZATION, format!("Basic {k}"));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| F::Retry(http::describe_transport_error(&e)))?;
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let body = match http::read_capped(resp, http::MAX_DOCUMENT_BYTES).await {
            Ok(b) => b,
            Err(http::BodyError::Transport(e)) => {
                return Err(F::Retry(http::describe_transport_error(&e)))
            }
            Err(e) => return Err(F::Done(Error::bad_response(e.describe()))),
        };
        if (300..400).contains(&status) {
            let to = headers
                .get(reqwest::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("another address");
            return Err(F::Done(Error::bad_response(format!(
                "the server answered a sign-in request with a redirect (HTTP {status}) to {to}; JHE Desktop sends keys and tokens only to the address the server announced, so it did not follow. Ask the server's administrator to check the token address"
            ))));
        }
        if status >= 500 || status == 429 {
            return Err(F::Server(status, http::summarize_body(&headers, &body)));
        }
        if http::looks_like_html(&body) && status >= 300 {
            return Err(F::Done(Error::Rejected {
                status,
                summary: http::summarize_body(&headers, &body),
            }));
        }
        Ok((status, serde_json::from_slice(&body).unwrap_or(Value::Null)))
    };
    let retries = policy.max_retries.min(4);
    once.retry(
        ExponentialBuilder::default()
            .with_min_delay(policy.min_delay)
            .with_max_delay(policy.max_delay)
            .with_max_times(retries)
            .with_jitter(),
    )
    .when(|e| matches!(e, F::Retry(_) | F::Server(..)))
    .await
    .map_err(|e| match e {
        F::Retry(detail) => Error::Network {
            detail,
            attempts: retries + 1,
        },
        F::Server(status, summary) => Error::Server {
            status,
            summary,
            attempts: retries + 1,
        },
        F::Done(e) => e,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_are_normalised() -> Result<()> {
        let b64 = base64::engine::general_purpose::STANDARD.encode("abc:secret");
        assert_eq!(normalize_api_key(&format!("  {b64}\n"))?, b64);
        assert_eq!(normalize_api_key("abc:secret")?, b64);
        assert_eq!(api_key_client_id(&b64).as_deref(), Some("abc"));
        assert!(matches!(
            normalize_api_key("hello"),
            Err(Error::SignInFailed { .. })
        ));
        Ok(())
    }
}
