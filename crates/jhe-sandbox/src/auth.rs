//! OAuth 2 / OIDC as django-oauth-toolkit 3.4 behaves in JHE: opaque tokens, client credentials
//! for practitioner API keys, authorization code with mandatory PKCE and loopback redirects,
//! refresh-token rotation, revocation, introspection, and the Django login form.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};
use base64::Engine;
use rand::Rng;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::http::{base_url, django_html, json_response, query_pairs};
use crate::time::now_us;
use crate::world::{alnum, Grant, UserType, World, PASSWORD};
use crate::AppState;

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

fn html_error_400(msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title></title></head><body><h2>Error: invalid_request</h2><p>{msg}</p></body></html>"
    );
    (
        StatusCode::BAD_REQUEST,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        body,
    )
        .into_response()
}

pub async fn openid_configuration(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let body = json!({
        "issuer": format!("{b}/o"),
        "authorization_endpoint": format!("{b}/o/authorize/"),
        "token_endpoint": format!("{b}/o/token/"),
        "userinfo_endpoint": format!("{b}/o/userinfo/"),
        "jwks_uri": format!("{b}/o/.well-known/jwks.json"),
        "scopes_supported": ["openid", "email"],
        "response_types_supported": ["code", "token", "id_token", "id_token token", "code token", "code id_token", "code id_token token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "claims_supported": ["sub"],
        "prompt_values_supported": ["none", "login"],
        "client_id_metadata_document_supported": false
    });
    cors(json_response(StatusCode::OK, &body))
}

pub async fn authorization_server(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let body = json!({
        "issuer": format!("{b}/o"),
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code", "implicit", "password", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "scopes_supported": ["email", "openid"],
        "client_id_metadata_document_supported": false,
        "authorization_endpoint": format!("{b}/o/authorize/"),
        "token_endpoint": format!("{b}/o/token/"),
        "revocation_endpoint": format!("{b}/o/revoke_token/"),
        "introspection_endpoint": format!("{b}/o/introspect/"),
        "code_challenge_methods_supported": ["plain", "S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": format!("{b}/o/.well-known/jwks.json")
    });
    cors(json_response(StatusCode::OK, &body))
}

pub async fn jwks() -> Response {
    // The sandbox signs ID tokens with HS256 (key: the client id); this key set is published
    // only so that discovery documents resolve.
    let body = json!({"keys": [{
        "alg": "RS256", "use": "sig", "kid": "jhe-sandbox-demo-key", "e": "AQAB", "kty": "RSA",
        "n": "0x0v_XXmgR8GcumOHj2HcsD8TvWZeIHFJWsfg5c5dMz3B9fBD_Z10fekbL9pQukb9GCVcwg54jrneDHMgza1YOxBlb9DqvR4CsFv9UvioJgDr7hfhp78E3z2"
    }]});
    cors(json_response(StatusCode::OK, &body))
}

pub fn cors(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}

fn form(body: &[u8]) -> HashMap<String, String> {
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

fn scope_ok(requested: Option<&String>) -> Result<String, ()> {
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
    let (cid, secret) = client_auth(&headers, &f);
    let world = state.world.read();
    let Some(app) = cid.as_deref().and_then(|c| world.app_by_client_id(c)) else {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    };
    if !app.public && app.client_secret != secret {
        return oauth_error(StatusCode::UNAUTHORIZED, "invalid_client");
    }
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
    cors(
        (
            StatusCode::OK,
            [(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            )],
            "",
        )
            .into_response(),
    )
}

pub async fn introspect(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = form(&body);
    let (cid, secret) = client_auth(&headers, &f);
    let world = state.world.read();
    let authed = cid
        .as_deref()
        .and_then(|c| world.app_by_client_id(c))
        .is_some_and(|a| a.public || a.client_secret == secret);
    if !authed {
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

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_string())
}

/// DOT's `redirect_to_uri_allowed`: component-wise; for registered http loopback IPs the port is
/// ignored; `localhost` is not a loopback IP here; the path must match exactly.
pub fn redirect_allowed(registered: &str, requested: &str) -> bool {
    let (Some(reg), Some(req)) = (split_uri(registered), split_uri(requested)) else {
        return false;
    };
    if reg.scheme != req.scheme || reg.host != req.host || reg.path != req.path {
        return false;
    }
    let loopback = reg.scheme == "http" && (reg.host == "127.0.0.1" || reg.host == "[::1]");
    if !loopback && reg.port != req.port {
        return false;
    }
    reg.query
        .split('&')
        .filter(|p| !p.is_empty())
        .all(|p| req.query.split('&').any(|q| q == p))
}

struct UriParts<'a> {
    scheme: &'a str,
    host: String,
    port: Option<&'a str>,
    path: &'a str,
    query: &'a str,
}

fn split_uri(s: &str) -> Option<UriParts<'_>> {
    let (scheme, rest) = s.split_once("://")?;
    let (authority, path_query) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    let (path, query) = path_query.split_once('?').unwrap_or((path_query, ""));
    let (host, port) = if let Some(stripped) = authority.strip_prefix('[') {
        let end = stripped.find(']')?;
        let host = format!("[{}]", &stripped[..end]);
        let port = stripped[end + 1..].strip_prefix(':');
        (host, port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p)),
            None => (authority.to_string(), None),
        }
    };
    Some(UriParts {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
        path: if path.is_empty() { "/" } else { path },
        query,
    })
}

fn registered_uris(world: &World, app_pk: u32, base: &str) -> Vec<String> {
    world
        .app(app_pk)
        .map(|a| {
            a.redirect_uris
                .iter()
                .map(|u| u.replace("{SITE}", base))
                .collect()
        })
        .unwrap_or_default()
}

pub async fn authorize(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
) -> Response {
    let Some(user_id) =
        cookie(&headers, "sessionid").and_then(|s| state.auth.lock().sessions.get(&s).copied())
    else {
        let next = uri
            .path_and_query()
            .map(|pq| pq.as_str().to_string())
            .unwrap_or_default();
        let enc: String = percent_encoding::utf8_percent_encode(&next, NEXT_SET).to_string();
        return redirect(&format!("/accounts/login/?next={enc}"));
    };
    let pairs = query_pairs(raw.as_deref());
    let get = |k: &str| crate::http::first(&pairs, k).map(str::to_string);
    let base = base_url(&headers);
    let world = state.world.read();
    let Some(app) = get("client_id").and_then(|c| world.app_by_client_id(&c).cloned()) else {
        return html_error_400("Invalid client_id parameter value.");
    };
    let regs = registered_uris(&world, app.pk, &base);
    let redirect_uri = match get("redirect_uri") {
        Some(r) => {
            if !regs.iter().any(|reg| redirect_allowed(reg, &r)) {
                return html_error_400("Mismatching redirect URI.");
            }
            r
        }
        None => match regs.first() {
            Some(r) => r.clone(),
            None => return html_error_400("Missing redirect URI."),
        },
    };
    let state_param = get("state");
    let back = |params: &[(&str, String)]| {
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in params {
            ser.append_pair(k, v);
        }
        if let Some(s) = &state_param {
            ser.append_pair("state", s);
        }
        let sep = if redirect_uri.contains('?') { '&' } else { '?' };
        redirect(&format!("{redirect_uri}{sep}{}", ser.finish()))
    };
    if get("response_type").as_deref() != Some("code") || app.grant != Grant::AuthorizationCode {
        return back(&[("error", "unsupported_response_type".into())]);
    }
    let Some(challenge) = get("code_challenge") else {
        return back(&[
            ("error", "invalid_request".into()),
            ("error_description", "Code challenge required.".into()),
        ]);
    };
    let method = get("code_challenge_method").unwrap_or_else(|| "plain".into());
    if method != "S256" && method != "plain" {
        return back(&[
            ("error", "invalid_request".into()),
            (
                "error_description",
                "Unsupported code challenge method.".into(),
            ),
        ]);
    }
    let scope = match scope_ok(get("scope").as_ref()) {
        Ok(s) => s,
        Err(()) => return back(&[("error", "invalid_scope".into())]),
    };
    let code = random_token(30);
    state.auth.lock().codes.insert(
        code.clone(),
        Code {
            user_id,
            app_pk: app.pk,
            redirect_uri: redirect_uri.clone(),
            challenge,
            method,
            scope,
            expires_us: now_us() + 60_000_000,
            nonce: get("nonce"),
        },
    );
    back(&[("code", code)])
}

const NEXT_SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'/')
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn redirect(location: &str) -> Response {
    let mut r = (
        StatusCode::FOUND,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        )],
        "",
    )
        .into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn login_page(next: &str, csrf: &str, error: Option<&str>) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    let err = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", esc(e)))
        .unwrap_or_default();
    let body = format!(
        r#"<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign In | JupyterHealth Exchange (sandbox)</title>
<style>body{{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}}label{{display:block;margin:.8rem 0 .2rem}}input{{width:100%;padding:.5rem;font-size:1rem}}button{{margin-top:1rem;padding:.6rem 1.2rem;font-size:1rem}}.error{{color:#b00020}}.note{{color:#555;font-size:.9rem}}</style></head>
<body><h1>Sign In</h1>
<p class="note">JupyterHealth Exchange sandbox: demo accounts use the password <code>{PASSWORD}</code>, e.g. <code>manager_mary@example.com</code>.</p>
{err}
<form method="post" action="/accounts/login/">
<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">
<input type="hidden" name="next" value="{next}">
<label for="id_login">Email</label><input type="email" name="login" id="id_login" autocomplete="email" required>
<label for="id_password">Password</label><input type="password" name="password" id="id_password" autocomplete="current-password" required>
<button type="submit">Sign In</button>
</form></body></html>"#,
        next = esc(next),
    );
    let mut r = Html(body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("csrftoken={csrf}; Path=/; SameSite=Lax")) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    r
}

pub async fn login_form(State(state): State<Arc<AppState>>, RawQuery(raw): RawQuery) -> Response {
    let pairs = query_pairs(raw.as_deref());
    let next = crate::http::first(&pairs, "next")
        .unwrap_or("/")
        .to_string();
    let csrf = random_token(32);
    state.auth.lock().csrf.insert(csrf.clone(), ());
    login_page(&next, &csrf, None)
}

pub async fn login_submit(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let f = form(&body);
    let next = f.get("next").cloned().unwrap_or_else(|| "/".into());
    let token = f.get("csrfmiddlewaretoken").cloned().unwrap_or_default();
    let csrf_ok = cookie(&headers, "csrftoken").is_some_and(|c| c == token)
        && state.auth.lock().csrf.contains_key(&token);
    if !csrf_ok {
        return django_html(
            StatusCode::FORBIDDEN,
            "Forbidden (403)",
            Some("CSRF verification failed. Request aborted."),
        );
    }
    let email = f.get("login").cloned().unwrap_or_default();
    let password = f.get("password").cloned().unwrap_or_default();
    let user = {
        let world = state.world.read();
        world
            .user_by_email(&email)
            .filter(|u| u.user_type == UserType::Practitioner || u.patient_id.is_some())
            .map(|u| u.id)
    };
    match user {
        Some(uid) if password == PASSWORD => {
            let sid = random_token(32);
            state.auth.lock().sessions.insert(sid.clone(), uid);
            // Only local paths: never an open redirect.
            let target = if next.starts_with('/') && !next.starts_with("//") {
                next
            } else {
                "/".to_string()
            };
            let mut r = redirect(&target);
            if let Ok(v) =
                HeaderValue::from_str(&format!("sessionid={sid}; HttpOnly; Path=/; SameSite=Lax"))
            {
                r.headers_mut().insert(header::SET_COOKIE, v);
            }
            r
        }
        _ => {
            let csrf = random_token(32);
            state.auth.lock().csrf.insert(csrf.clone(), ());
            login_page(
                &next,
                &csrf,
                Some("The email address and/or password you specified are not correct."),
            )
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_redirects_like_dot() {
        let reg = "http://127.0.0.1/callback";
        assert!(redirect_allowed(reg, "http://127.0.0.1:49152/callback"));
        assert!(redirect_allowed(reg, "http://127.0.0.1/callback"));
        assert!(!redirect_allowed(
            reg,
            "http://127.0.0.1:49152/auth/callback"
        ));
        assert!(!redirect_allowed(reg, "http://localhost:49152/callback"));
        assert!(redirect_allowed(
            "http://[::1]/callback",
            "http://[::1]:40000/callback"
        ));
        assert!(!redirect_allowed(
            "https://jhe.example.org/auth/callback",
            "https://jhe.example.org:444/auth/callback"
        ));
        assert!(!redirect_allowed(
            "http://localhost:8000/auth/callback",
            "http://localhost:8001/auth/callback"
        ));
    }

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
