//! Browser sign-in (RFC 8252): authorization code + PKCE S256, received on a loopback
//! redirect `http://127.0.0.1:<ephemeral port>/callback`.
//!
//! The caller opens the browser (a callback receives the URL), the user signs in on the JHE web
//! page, and the browser is sent back to the small one-shot listener here.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use url::Url;

use super::pkce::{new_state, Pkce};
use super::TokenResponse;
use crate::error::{Error, Result};
use crate::http::RetryPolicy;
use crate::server_check::ServerInfo;

/// The public client JHE Desktop registers on a JHE server (configurable per server).
pub const DEFAULT_CLIENT_ID: &str = "jhe-desktop";

/// How a browser sign-in is run.
#[derive(Clone, Debug)]
pub struct BrowserOptions {
    /// The public OAuth client registered on the server for JHE Desktop.
    pub client_id: String,
    /// How long to wait for the user to finish in the browser.
    pub timeout: Duration,
    /// The redirect path registered with the client (`http://127.0.0.1/callback`).
    pub redirect_path: String,
}

impl Default for BrowserOptions {
    fn default() -> Self {
        BrowserOptions {
            client_id: DEFAULT_CLIENT_ID.to_string(),
            timeout: Duration::from_secs(300),
            redirect_path: "/callback".to_string(),
        }
    }
}

/// What came back on the loopback redirect.
enum Callback {
    Code(String),
    Denied(String),
}

/// Runs the whole flow and returns the tokens.
pub(crate) async fn sign_in(
    server: &ServerInfo,
    policy: &RetryPolicy,
    opts: &BrowserOptions,
    open_browser: impl FnOnce(&str),
) -> Result<TokenResponse> {
    if server.authorization_endpoint.is_empty() {
        return Err(Error::SignInFailed {
            reason:
                "this server does not offer browser sign-in; use a practitioner API key instead."
                    .into(),
        });
    }
    let listener = TcpListener::bind(("127.0.0.1", 0))
        .await
        .map_err(|e| Error::SignInFailed {
            reason: format!("could not open a local port to receive the browser sign-in ({e}); use an API key instead."),
        })?;
    let port = listener
        .local_addr()
        .map_err(|e| Error::SignInFailed {
            reason: format!("could not open a local port ({e})."),
        })?
        .port();
    let redirect_uri = format!("http://127.0.0.1:{port}{}", opts.redirect_path);
    let pkce = Pkce::new();
    let state = new_state();
    let mut auth_url = Url::parse(&server.authorization_endpoint)
        .map_err(|_| Error::bad_response("the server's authorization address is not a URL"))?;
    auth_url
        .query_pairs_mut()
        .append_pair("response_type", "code")
        .append_pair("client_id", &opts.client_id)
        .append_pair("redirect_uri", &redirect_uri)
        .append_pair("scope", "openid email")
        .append_pair("state", &state)
        .append_pair("code_challenge", &pkce.challenge)
        .append_pair("code_challenge_method", "S256");
    open_browser(auth_url.as_str());

    let got = tokio::time::timeout(
        opts.timeout,
        wait_for_callback(&listener, &opts.redirect_path, &state),
    )
    .await
    .map_err(|_| Error::SignInFailed {
        reason: format!(
            "no answer from the browser within {} seconds. Try again, and finish signing in on the JHE page that opens.",
            opts.timeout.as_secs()
        ),
    })??;
    let code = match got {
        Callback::Code(c) => c,
        Callback::Denied(why) => {
            return Err(Error::SignInFailed {
                reason: format!("the server did not sign you in ({why})."),
            })
        }
    };
    let client = crate::http::post_client(policy.request_timeout)?;
    let (status, body) = super::post_form(
        &client,
        policy,
        &server.token_endpoint,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("client_id", &opts.client_id),
            ("redirect_uri", &redirect_uri),
            ("code_verifier", &pkce.verifier),
        ],
        None,
    )
    .await?;
    super::token_or_error((status, body), |err| {
        Error::SignInFailed {
        reason: match err {
            "invalid_grant" => "the sign-in code was refused (codes last 60 seconds). Please try again.".into(),
            "invalid_client" => format!("the app's client id \"{}\" is not registered on this server. Ask its administrator to register a public client \"{}\" with the redirect URI http://127.0.0.1/callback, or use an API key.", opts.client_id, opts.client_id),
            other => format!("the server refused the sign-in ({other})."),
        },
    }
    })
}

async fn wait_for_callback(listener: &TcpListener, path: &str, state: &str) -> Result<Callback> {
    loop {
        let (mut stream, _) = listener.accept().await.map_err(|e| Error::SignInFailed {
            reason: format!("the local sign-in listener failed ({e})."),
        })?;
        let Some(target) = read_request_target(&mut stream).await else {
            continue;
        };
        let Ok(url) = Url::parse(&format!("http://127.0.0.1{target}")) else {
            respond(
                &mut stream,
                400,
                "Bad request",
                "This address is not a sign-in answer.",
            )
            .await;
            continue;
        };
        if url.path() != path {
            // Favicons and the like.
            respond(&mut stream, 404, "Not found", "Nothing here.").await;
            continue;
        }
        let q: std::collections::HashMap<String, String> = url.query_pairs().into_owned().collect();
        if q.get("state").map(String::as_str) != Some(state) {
            // A forged or stale answer (another tab, another app, a page that guessed the
            // port): refused, and the real one is still awaited until the time-out.
            tracing::warn!("sign-in: an answer with the wrong state was refused; still waiting");
            respond(
                &mut stream,
                400,
                "Sign-in not accepted",
                "This answer does not belong to the sign-in JHE Desktop started, so it was ignored. Finish the sign-in in the tab JHE Desktop opened.",
            )
            .await;
            continue;
        }
        if let Some(err) = q.get("error") {
            let desc = q
                .get("error_description")
                .map(|d| format!("{err}: {d}"))
                .unwrap_or_else(|| err.clone());
            respond(
                &mut stream,
                400,
                "Sign-in failed",
                "JupyterHealth Exchange did not sign you in. Go back to JHE Desktop for details.",
            )
            .await;
            return Ok(Callback::Denied(desc));
        }
        if let Some(code) = q.get("code").filter(|c| !c.is_empty()) {
            respond(
                &mut stream,
                200,
                "Signed in",
                "You are signed in to JHE Desktop. You can close this tab and go back to the app.",
            )
            .await;
            return Ok(Callback::Code(code.clone()));
        }
        respond(
            &mut stream,
            400,
            "Sign-in failed",
            "The answer carried no sign-in code.",
        )
        .await;
        return Ok(Callback::Denied("no code in the answer".into()));
    }
}

/// Reads the request line of an HTTP/1.x request and returns its target (`/callback?…`).
async fn read_request_target(stream: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 1024];
    let read = async {
        loop {
            let n = stream.read(&mut chunk).await.ok()?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > 16 * 1024 {
                break;
            }
        }
        Some(())
    };
    tokio::time::timeout(Duration::from_secs(10), read)
        .await
        .ok()??;
    let text = String::from_utf8_lossy(&buf);
    let line = text.lines().next()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?;
    let target = parts.next()?;
    (method == "GET" && target.starts_with('/')).then(|| target.to_string())
}

async fn respond(stream: &mut TcpStream, status: u16, title: &str, text: &str) {
    let reason = match status {
        200 => "OK",
        404 => "Not Found",
        _ => "Bad Request",
    };
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title} – JHE Desktop</title></head>\
         <body style=\"font-family:sans-serif;max-width:36em;margin:4em auto\"><h1>{title}</h1><p>{text}</p></body></html>"
    );
    let resp = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(resp.as_bytes()).await;
    let _ = stream.shutdown().await;
}
