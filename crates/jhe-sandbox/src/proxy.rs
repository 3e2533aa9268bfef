//! A reverse proxy for tests, in front of a sandbox (or any server): it forwards every request,
//! can tell the server it is reached under another host (`X-Forwarded-Host`, so the server's
//! links point there), and hands each successful JSON answer to a rewrite hook, which plays a
//! broken network or a broken middlebox (rows dropped, payloads corrupted). One home for the
//! engine's and the CLI's tests.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::Value;

/// Changes a JSON answer in place: `(path and query of the request, parsed body)`; returns
/// whether it changed anything.
pub type Rewrite = Arc<dyn Fn(&str, &mut Value) -> bool + Send + Sync>;

/// The headers the proxy passes back besides the body.
const PASSED_HEADERS: [&str; 5] = [
    "content-type",
    "location",
    "www-authenticate",
    "retry-after",
    "set-cookie",
];

/// A running proxy; it stops when dropped.
pub struct Proxy {
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Starts a proxy on a free loopback port in front of `upstream` (`http://host:port`).
pub async fn start(
    upstream: &str,
    forwarded_host: Option<&str>,
    rewrite: Option<Rewrite>,
) -> std::io::Result<Proxy> {
    let upstream = upstream.trim_end_matches('/').to_string();
    let fwd = forwarded_host.map(str::to_string);
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(std::io::Error::other)?;
    let app = Router::new().fallback(move |req: Request| {
        let (upstream, fwd, http, rewrite) =
            (upstream.clone(), fwd.clone(), http.clone(), rewrite.clone());
        async move { forward(req, &upstream, fwd.as_deref(), &http, rewrite.as_ref()).await }
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    Ok(Proxy {
        url: format!("http://{addr}"),
        task,
    })
}

async fn forward(
    req: Request,
    upstream: &str,
    fwd: Option<&str>,
    http: &reqwest::Client,
    rewrite: Option<&Rewrite>,
) -> Response {
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_string())
        .unwrap_or_default();
    let mut rb = http.request(req.method().clone(), format!("{upstream}{path}"));
    for (k, v) in req.headers() {
        if k != "host" && k != "content-length" {
            rb = rb.header(k, v);
        }
    }
    if let Some(h) = fwd {
        rb = rb.header("x-forwarded-host", h);
    }
    let body = axum::body::to_bytes(req.into_body(), 64 << 20)
        .await
        .unwrap_or_default();
    let resp = match rb.body(body).send().await {
        Ok(r) => r,
        Err(e) => return (StatusCode::BAD_GATEWAY, e.to_string()).into_response(),
    };
    let status = StatusCode::from_u16(resp.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let headers = resp.headers().clone();
    let mut bytes = resp.bytes().await.unwrap_or_default().to_vec();
    if let Some(rewrite) = rewrite.filter(|_| status.is_success()) {
        if let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) {
            if rewrite(&path, &mut v) {
                bytes = serde_json::to_vec(&v).unwrap_or_default();
            }
        }
    }
    let mut out = Response::new(Body::from(bytes));
    *out.status_mut() = status;
    for name in PASSED_HEADERS {
        for v in headers.get_all(name) {
            if let Ok(v) = HeaderValue::from_bytes(v.as_bytes()) {
                out.headers_mut().append(name, v);
            }
        }
    }
    out
}
