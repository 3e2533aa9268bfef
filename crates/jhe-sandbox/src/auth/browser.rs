//! Browser sign-in: the Django login form (CSRF, session cookie) and `/o/authorize/` with
//! mandatory PKCE and DOT's loopback redirect matching.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use super::token::{form, scope_ok};
use super::{random_token, Code};
use crate::http::{base_url, django_html, query_pairs, typed, with_header};
use crate::time::now_us;
use crate::world::{Grant, UserType, World, PASSWORD};
use crate::AppState;

fn html_error_400(msg: &str) -> Response {
    let body = format!(
        "<!DOCTYPE html><html><head><title></title></head><body><h2>Error: invalid_request</h2><p>{msg}</p></body></html>"
    );
    typed(StatusCode::BAD_REQUEST, "text/html; charset=utf-8", body)
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
    with_header(
        typed(StatusCode::FOUND, "text/html; charset=utf-8", ""),
        header::LOCATION,
        location,
    )
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
    with_header(
        Html(body).into_response(),
        header::SET_COOKIE,
        &format!("csrftoken={csrf}; Path=/; SameSite=Lax"),
    )
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
            with_header(
                redirect(&target),
                header::SET_COOKIE,
                &format!("sessionid={sid}; HttpOnly; Path=/; SameSite=Lax"),
            )
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
}
