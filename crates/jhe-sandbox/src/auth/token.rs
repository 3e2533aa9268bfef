//! The token endpoint (client credentials, authorization code with PKCE, refresh rotation),
//! revocation, introspection and userinfo, with DOT's error bodies and ID tokens.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::{cors, random_token};
use crate::http::{base_url, django_html, json_response, typed};
use crate::time::now_us;
use crate::world::{Grant, World};
use crate::AppState;

fn oauth_error(status: StatusCode, error: &str) -> Response {
    let mut r = json_response(status, &json!({ "error": error }));
    r.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if status == StatusCode::UNAUTHORIZED {
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_client\""),
        );
    }
    r
}

pub(super) fn form(body: &[u8]) -> HashMap<String, String> {
    form_urlencoded::parse(body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// Client credentials from HTTP Basic (`base64(urlencoded id : urlencoded secret)`) or the body.
fn client_auth(
    headers: &HeaderMap,
    f: &HashMap<String, String>,
) -> (Option<String>, Option<String>) {
    if let Some(basic) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
    {
        if let Ok(raw) = base64::engine::general_purpose::STANDARD.decode(basic.trim()) {
            if let Ok(s) = String::from_utf8(raw) {
                if let Some((id, secret)) = s.split_once(':') {
                    let dec = |x: &str| {
                        percent_encoding::percent_decode_str(x)
                            .decode_utf8_lossy()
                            .into_owned()
                    };
                    return (Some(dec(id)), Some(dec(secret)));
                }
            }
        }
        return (None, None);
    }
    (f.get("client_id").cloned(), f.get("client_secret").cloned())
}

/// The calling client, when it is known and (unless public) presents its secret.
fn authed_client<'w>(
    world: &'w World,
    headers: &HeaderMap,
    f: &HashMap<String, String>,
) -> Option<&'w crate::world::App> {
    let (cid, secret) = client_auth(headers, f);
    cid.as_deref()
        .and_then(|c| world.app_by_client_id(c))
        .filter(|a| a.public || a.client_secret == secret)
}

pub(super) fn scope_ok(requested: Option<&String>) -> Result<String, ()> {
    match requested.map(|s| s.trim()).filter(|s| !s.is_empty()) {
        None => Ok("openid email".to_string()),
        Some(s) => {
            if s.split_whitespace().all(|p| p == "openid" || p == "email") {
                Ok(s.split_whitespace().collect::<Vec<_>>().join(" "))
            } else {
                Err(())
            }
        }
    }
}

fn id_token(base: &str, client_id: &str, user_id: u32, email: &str, nonce: Option<&str>) -> String {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    let now = now_us() / 1_000_000;
    let header = json!({"alg": "HS256", "typ": "JWT", "kid": "jhe-sandbox"});
    let mut claims = json!({
        "aud": client_id, "iat": now, "at_hash": random_token(22), "sub": user_id.to_string(),
        "email": email, "iss": format!("{base}/o"), "exp": now + 36_000, "auth_time": now,
        "jti": random_token(32)
    });
    if let (Some(n), Some(obj)) = (nonce, claims.as_object_mut()) {
        obj.insert("nonce".into(), Value::String(n.to_string()));
    }
    let signing_input = format!(
        "{}.{}",
        B64.encode(header.to_string()),
        B64.encode(claims.to_string())
    );
    // HMAC-SHA256 with the client id as key (a sandbox stand-in for DOT's RS256).
    let mac = hmac_sha256(client_id.as_bytes(), signing_input.as_bytes());
    format!("{signing_input}.{}", B64.encode(mac))
}

/// An ID token when the grant's scope asks for `openid`.
fn id_token_for(
    world: &World,
    base: &str,
    client_id: &str,
    user_id: u32,
    scope: &str,
    nonce: Option<&str>,
) -> Option<String> {
    scope.split_whitespace().any(|s| s == "openid").then(|| {
        let email = world
            .user(user_id)
            .map(|u| u.email.clone())
            .unwrap_or_default();
        id_token(base, client_id, user_id, &email, nonce)
    })
}

fn hmac_sha256(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut k = [0u8; 64];
    if key.len() > 64 {
        k[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        k[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(k.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(k.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

pub async fn token(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type");
    }
    let f = form(&body);
    let base = base_url(&headers);
    let (cid, secret) = client_auth(&headers, &f);
    let world = state.world.read();
    let app = cid
        .as_deref()
        .and_then(|c| world.app_by_client_id(c))
        .cloned();
    let grant = f.get("grant_type").map(String::as_str).unwrap_or("");
    let Some(app) = app else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    // Confidential clients must present their secret; public clients may not have one.
    if !app.public {
        match (&app.client_secret, &secret) {
            (Some(expected), Some(given)) if expected == given => {}
            _ => return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client"),
        }
    }
    let scope = match scope_ok(f.get("scope")) {
        Ok(s) => s,
        Err(()) => return oauth_error(StatusCode::BAD_REQUEST, "invalid_scope"),
    };
    let mut auth = state.auth.lock();
    let lifetime = auth.lifetime_s;
    let ok = |access: String, refresh: Option<String>, scope: &str, id_token: Option<String>| {
        let mut body = json!({
            "access_token": access, "expires_in": lifetime, "token_type": "Bearer", "scope": scope
        });
        if let Some(obj) = body.as_object_mut() {
            if let Some(r) = refresh {
                obj.insert("refresh_token".into(), Value::String(r));
            }
            if let Some(t) = id_token {
                obj.insert("id_token".into(), Value::String(t));
            }
        }
        let mut r = json_response(StatusCode::OK, &body);
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        cors(r)
    };
    match grant {
        "client_credentials" => {
            if app.grant != Grant::ClientCredentials {
                return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
            }
            let Some(owner) = app.user_id else {
                return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
            };
            let access = auth.issue(owner, app.pk, &scope, true);
            ok(access, None, &scope, None)
        }
        "authorization_code" => {
            if app.grant != Grant::AuthorizationCode {
                return oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client");
            }
            let code = f.get("code").cloned().unwrap_or_default();
            let Some(c) = auth.codes.remove(&code) else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let pkce_ok = match c.method.as_str() {
                "S256" => {
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .encode(Sha256::digest(verifier.as_bytes()))
                        == c.challenge
                }
                _ => verifier == c.challenge,
            };
            let redirect_ok =
                f.get("redirect_uri").map(String::as_str) == Some(c.redirect_uri.as_str());
            if c.app_pk != app.pk || c.expires_us <= now_us() || !pkce_ok || !redirect_ok {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            let (access, refresh) = auth.issue_pair(c.user_id, app.pk, &c.scope);
            let idt = id_token_for(
                &world,
                &base,
                &app.client_id,
                c.user_id,
                &c.scope,
                c.nonce.as_deref(),
            );
            ok(access, Some(refresh), &c.scope, idt)
        }
        "refresh_token" => {
            let rt = f.get("refresh_token").cloned().unwrap_or_default();
            let Some(r) = auth.refresh.get(&rt).cloned() else {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            };
            if r.app_pk != app.pk {
                return oauth_error(StatusCode::BAD_REQUEST, "invalid_grant");
            }
            // Rotation with no grace period: the old pair dies now.
            auth.refresh.remove(&rt);
            auth.tokens.remove(&r.access);
            let (access, refresh) = auth.issue_pair(r.user_id, app.pk, &r.scope);
            let idt = id_token_for(&world, &base, &app.client_id, r.user_id, &r.scope, None);
            ok(access, Some(refresh), &r.scope, idt)
        }
        "password" | "implicit" | "urn:ietf:params:oauth:grant-type:device_code" => {
            oauth_error(StatusCode::BAD_REQUEST, "unauthorized_client")
        }
        _ => oauth_error(StatusCode::BAD_REQUEST, "unsupported_grant_type"),
    }
}

pub async fn revoke(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = form(&body);
    let world = state.world.read();
    let Some(app) = authed_client(&world, &headers, &f) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    let token = f.get("token").cloned().unwrap_or_default();
    let mut auth = state.auth.lock();
    if auth.tokens.get(&token).is_some_and(|t| t.app_pk == app.pk) {
        auth.tokens.remove(&token);
    }
    if let Some(r) = auth.refresh.get(&token).cloned() {
        if r.app_pk == app.pk {
            auth.refresh.remove(&token);
            auth.tokens.remove(&r.access);
        }
    }
    cors(typed(StatusCode::OK, "text/html; charset=utf-8", ""))
}

pub async fn introspect(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = form(&body);
    let world = state.world.read();
    if authed_client(&world, &headers, &f).is_none() {
        return crate::http::detail(
            StatusCode::FORBIDDEN,
            "Authentication credentials were not provided.",
        );
    }
    let token = f.get("token").cloned().unwrap_or_default();
    let auth = state.auth.lock();
    let body = match auth.check_access(&token) {
        Some(t) => {
            let client_id = world
                .app(t.app_pk)
                .map(|a| a.client_id.clone())
                .unwrap_or_default();
            let mut b = json!({"active": true, "scope": t.scope, "exp": t.expires_us / 1_000_000, "client_id": client_id});
            if !t.client_credentials {
                if let (Some(obj), Some(u)) = (b.as_object_mut(), world.user(t.user_id)) {
                    obj.insert("username".into(), Value::String(u.email.clone()));
                }
            }
            b
        }
        None => json!({"active": false}),
    };
    json_response(StatusCode::OK, &body)
}

pub async fn userinfo(State(state): State<Arc<AppState>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    let info = state.auth.lock().check_access(token);
    let Some(info) = info else {
        let mut r = (StatusCode::UNAUTHORIZED, "").into_response();
        r.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer error=\"invalid_token\""),
        );
        return cors(r);
    };
    if info.client_credentials {
        // JHE: the token has no user; DOT's userinfo view crashes.
        return django_html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "AttributeError at /o/userinfo/",
            Some("'NoneType' object has no attribute 'pk'"),
        );
    }
    let world = state.world.read();
    let email = world
        .user(info.user_id)
        .map(|u| u.email.clone())
        .unwrap_or_default();
    cors(json_response(
        StatusCode::OK,
        &json!({"sub": info.user_id.to_string(), "email": email}),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_known_vector() {
        // RFC 4231 test case 2.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
