//! HTTP with retries: exponential backoff with jitter for 5xx, time-outs, dropped connections
//! (including bodies that break halfway) and 429 (honouring `Retry-After`). 401 is handed back
//! to the caller (the session re-authenticates once); 403 and other 4xx are never retried.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::header::{HeaderMap, ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use reqwest::{Method, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};

pub const USER_AGENT: &str = concat!("jhe-desktop/", env!("CARGO_PKG_VERSION"));

/// How hard to try before giving up.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(default)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub max_retries: usize,
    pub min_delay: Duration,
    pub max_delay: Duration,
    /// `Retry-After` values above this are shortened to it.
    pub max_retry_after: Duration,
    /// Whole request, body included.
    pub request_timeout: Duration,
    pub connect_timeout: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 8,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(120),
            request_timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(15),
        }
    }
}

impl RetryPolicy {
    /// Short delays, for tests against a local server.
    pub fn fast() -> RetryPolicy {
        RetryPolicy {
            max_retries: 12,
            min_delay: Duration::from_millis(5),
            max_delay: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(2),
            request_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
        }
    }
}

/// Counters for what the HTTP layer did (shown in summaries, asserted in tests).
#[derive(Debug, Default)]
pub struct HttpStats {
    pub requests: AtomicU64,
    pub retries: AtomicU64,
    pub server_errors: AtomicU64,
    pub rate_limited: AtomicU64,
    pub transport_errors: AtomicU64,
    pub reauthentications: AtomicU64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct HttpStatsSnapshot {
    pub requests: u64,
    pub retries: u64,
    pub server_errors: u64,
    pub rate_limited: u64,
    pub transport_errors: u64,
    pub reauthentications: u64,
}

impl HttpStats {
    pub fn snapshot(&self) -> HttpStatsSnapshot {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        HttpStatsSnapshot {
            requests: g(&self.requests),
            retries: g(&self.retries),
            server_errors: g(&self.server_errors),
            rate_limited: g(&self.rate_limited),
            transport_errors: g(&self.transport_errors),
            reauthentications: g(&self.reauthentications),
        }
    }
}

/// The most a page of the data APIs may be, after decompression (a JHE page of 1,000
/// observations is ~1–3 MiB): a larger or endless body, or a gzip bomb, is an error.
pub const MAX_PAGE_BYTES: usize = 64 << 20;
/// The most a discovery, token or profile document may be, after decompression.
pub const MAX_DOCUMENT_BYTES: usize = 1 << 20;
/// Redirects followed at most in a row (same origin only, see [`same_origin_redirects`]).
const MAX_REDIRECTS: usize = 5;

/// GET redirects: followed only within the origin the request went to (scheme, host, port: an
/// `http://` address may move to `https://` on the same host), never from https to http, at
/// most [`MAX_REDIRECTS`]; anything else is not followed and the 3xx answer is what the caller
/// sees. A server cannot send the client, with its bearer token, somewhere else.
pub(crate) fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().cloned();
        let next = attempt.url();
        let Some(first) = first else {
            return attempt.stop();
        };
        let upgrade = first.scheme() == "http" && next.scheme() == "https";
        let same = first.host_str() == next.host_str()
            && (upgrade
                || (first.scheme() == next.scheme()
                    && first.port_or_known_default() == next.port_or_known_default()));
        let downgrade =
            attempt.previous().iter().any(|u| u.scheme() == "https") && next.scheme() == "http";
        if !same || downgrade || attempt.previous().len() > MAX_REDIRECTS {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

fn build_client(timeout: Duration, redirect: reqwest::redirect::Policy) -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(15)))
        .redirect(redirect)
        .build()
        .map_err(|e| Error::Network {
            detail: format!("the HTTP client could not start: {e}"),
            attempts: 0,
        })
}

/// A client without retries, for discovery (GETs, same-origin redirects only).
pub(crate) fn plain_client(timeout: Duration) -> Result<reqwest::Client> {
    build_client(timeout, same_origin_redirects())
}

/// A client for the POSTs that carry secrets (token, revoke): it follows no redirect at all, so
/// an API key, a refresh token or a PKCE verifier is only ever sent to the endpoint announced.
pub(crate) fn post_client(timeout: Duration) -> Result<reqwest::Client> {
    build_client(timeout, reqwest::redirect::Policy::none())
}

/// Why a body was not read to the end.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// The connection broke off.
    Transport(reqwest::Error),
    /// Larger than the cap (after decompression).
    TooLarge { cap: usize },
}

impl BodyError {
    /// Plain words for messages.
    pub(crate) fn describe(&self) -> String {
        match self {
            BodyError::Transport(e) => describe_transport_error(e),
            BodyError::TooLarge { cap } => format!(
                "the server's answer was larger than {} MiB, which no JupyterHealth Exchange answer is; reading stopped there",
                cap >> 20
            ),
        }
    }
}

/// Reads a response body, at most `cap` bytes after decompression (a gzip bomb or an endless
/// body stops at the cap instead of filling the memory).
pub(crate) async fn read_capped(
    mut resp: reqwest::Response,
    cap: usize,
) -> std::result::Result<bytes::Bytes, BodyError> {
    if resp.content_length().is_some_and(|n| n > cap as u64) {
        return Err(BodyError::TooLarge { cap });
    }
    let mut buf = bytes::BytesMut::new();
    while let Some(chunk) = resp.chunk().await.map_err(BodyError::Transport)? {
        if buf.len() + chunk.len() > cap {
            return Err(BodyError::TooLarge { cap });
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

/// One failed attempt.
#[derive(Debug)]
pub(crate) enum Fail {
    /// Connection refused/reset, time-out, body broken off.
    Transport(String),
    /// 5xx.
    Server { status: u16, summary: String },
    /// 429.
    RateLimited { retry_after: Option<Duration> },
    /// 401: the token is missing, expired or revoked.
    Unauthorized,
    /// Any other non-2xx, or a 2xx that is not JSON.
    Final(Error),
}

impl Fail {
    fn retryable(&self) -> bool {
        matches!(
            self,
            Fail::Transport(_) | Fail::Server { .. } | Fail::RateLimited { .. }
        )
    }
}

/// The retrying JSON client shared by a session.
pub(crate) struct Http {
    client: reqwest::Client,
    policy: RetryPolicy,
    pub(crate) stats: Arc<HttpStats>,
}

/// What a request is about, for messages: "study 30006", "the patients of study 30006".
pub(crate) type What<'a> = &'a str;

impl Http {
    pub(crate) fn new(policy: RetryPolicy) -> Result<Http> {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(policy.request_timeout)
            .connect_timeout(policy.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(30))
            .redirect(same_origin_redirects())
            .build()
            .map_err(|e| Error::Network {
                detail: format!("the HTTP client could not start: {e}"),
                attempts: 0,
            })?;
        Ok(Http {
            client,
            policy,
            stats: Arc::new(HttpStats::default()),
        })
    }

    pub(crate) fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// GET `url` with `bearer`, retrying transient failures, and read a successful body with
    /// `parse` (inside the retry loop, so a body cut short is fetched again; large pages are
    /// parsed straight into typed rows without a `serde_json::Value` tree). Returns
    /// `Err(Unauthorized)` on 401 (not retried here), any other failure as an [`Error`] inside
    /// `Fail::Final`.
    pub(crate) async fn get_parsed<T>(
        &self,
        url: &str,
        bearer: &str,
        what: What<'_>,
        parse: &(dyn Fn(&[u8]) -> serde_json::Result<T> + Sync),
    ) -> std::result::Result<T, Fail> {
        let attempts = AtomicU64::new(0);
        let once = || async {
            attempts.fetch_add(1, Ordering::Relaxed);
            self.attempt(Method::GET, url, bearer, what, parse).await
        };
        let builder = ExponentialBuilder::default()
            .with_min_delay(self.policy.min_delay)
            .with_max_delay(self.policy.max_delay)
            .with_max_times(self.policy.max_retries)
            .with_factor(2.0)
            .with_jitter();
        let max_ra = self.policy.max_retry_after;
        let result = once
            .retry(builder)
            .when(Fail::retryable)
            .adjust(|e, dur| match (e, dur) {
                (
                    Fail::RateLimited {
                        retry_after: Some(ra),
                    },
                    Some(_),
                ) => Some((*ra).min(max_ra)),
                (_, d) => d,
            })
            .notify(|e, dur| {
                self.stats.retries.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(
                    "retrying {} in {:?} after {}",
                    redact_url(url),
                    dur,
                    match e {
                        Fail::Transport(d) => d.clone(),
                        Fail::Server { status, summary } => format!("{status} {summary}"),
                        Fail::RateLimited { .. } => "429 Too Many Requests".into(),
                        _ => String::new(),
                    }
                );
            })
            .await;
        let n = attempts.load(Ordering::Relaxed) as usize;
        result.map_err(|e| match e {
            Fail::Transport(detail) => Fail::Final(Error::Network {
                detail,
                attempts: n,
            }),
            Fail::Server { status, summary } => Fail::Final(Error::Server {
                status,
                summary,
                attempts: n,
            }),
            Fail::RateLimited { .. } => Fail::Final(Error::RateLimited { attempts: n }),
            other => other,
        })
    }

    async fn attempt<T>(
        &self,
        method: Method,
        url: &str,
        bearer: &str,
        what: What<'_>,
        parse: &(dyn Fn(&[u8]) -> serde_json::Result<T> + Sync),
    ) -> std::result::Result<T, Fail> {
        self.stats.requests.fetch_add(1, Ordering::Relaxed);
        let resp = self
            .client
            .request(method, url)
            .bearer_auth(bearer)
            .header(ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| {
                self.stats.transport_errors.fetch_add(1, Ordering::Relaxed);
                Fail::Transport(describe_transport_error(&e))
            })?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match read_capped(resp, MAX_PAGE_BYTES).await {
            Ok(b) => b,
            Err(BodyError::Transport(e)) => {
                self.stats.transport_errors.fetch_add(1, Ordering::Relaxed);
                return Err(Fail::Transport(format!(
                    "the answer broke off halfway ({})",
                    describe_transport_error(&e)
                )));
            }
            Err(e @ BodyError::TooLarge { .. }) => {
                return Err(Fail::Final(Error::bad_response(format!(
                    "{what}: {}",
                    e.describe()
                ))))
            }
        };
        classify(status, &headers, &body, what, &self.stats, parse)
    }
}

fn classify<T>(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
    what: What<'_>,
    stats: &HttpStats,
    parse: &(dyn Fn(&[u8]) -> serde_json::Result<T> + Sync),
) -> std::result::Result<T, Fail> {
    let code = status.as_u16();
    if status.is_success() {
        if looks_like_html(body) {
            return Err(Fail::Final(Error::bad_response(format!(
                "a web page{} came back where data was expected; a sign-in proxy may be in the way",
                html_title(body)
                    .map(|t| format!(" titled \"{t}\""))
                    .unwrap_or_default()
            ))));
        }
        return parse(body).map_err(|e| {
            // A 200 whose JSON is cut short is a broken transfer: try again.
            if e.is_eof() {
                stats.transport_errors.fetch_add(1, Ordering::Relaxed);
                Fail::Transport("the answer was cut short".into())
            } else {
                Fail::Final(Error::bad_response(match e.classify() {
                    serde_json::error::Category::Data => {
                        format!("{what}: not the expected data ({e})")
                    }
                    _ => format!("invalid JSON: {e}"),
                }))
            }
        });
    }
    match code {
        401 => Err(Fail::Unauthorized),
        429 => {
            stats.rate_limited.fetch_add(1, Ordering::Relaxed);
            Err(Fail::RateLimited {
                retry_after: retry_after(headers),
            })
        }
        500..=599 => {
            stats.server_errors.fetch_add(1, Ordering::Relaxed);
            Err(Fail::Server {
                status: code,
                summary: summarize_body(headers, body),
            })
        }
        403 => Err(Fail::Final(Error::Forbidden {
            what: what.to_string(),
        })),
        404 => Err(Fail::Final(Error::NotFound {
            what: capitalize(what),
        })),
        _ => Err(Fail::Final(Error::Rejected {
            status: code,
            summary: summarize_body(headers, body),
        })),
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

/// `Retry-After` as seconds or an HTTP date.
pub(crate) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let v = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(s) = v.parse::<u64>() {
        return Some(Duration::from_secs(s));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0);
    Some(Duration::from_secs(secs as u64))
}

/// A one-line summary of an error body: JSON `detail`, OperationOutcome diagnostics, OAuth
/// `error_description`/`error`, an HTML page's title, or the first line of text.
pub(crate) fn summarize_body(headers: &HeaderMap, body: &[u8]) -> String {
    let ctype = headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if ctype.contains("html") || looks_like_html(body) {
        return html_title(body).unwrap_or_else(|| "an error page".to_string());
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Some(s) = json_message(&v) {
            return truncate(&s, 200);
        }
        return truncate(&v.to_string(), 200);
    }
    let text = String::from_utf8_lossy(body);
    let line = text.lines().map(str::trim).find(|l| !l.is_empty());
    line.map(|l| truncate(l, 200))
        .unwrap_or_else(|| "no details".to_string())
}

pub(crate) fn json_message(v: &Value) -> Option<String> {
    if let Some(d) = v.get("detail").and_then(Value::as_str) {
        return Some(d.to_string());
    }
    if let Some(d) = v.get("error_description").and_then(Value::as_str) {
        return Some(d.to_string());
    }
    if let Some(d) = v.get("error").and_then(Value::as_str) {
        return Some(d.to_string());
    }
    if v.get("resourceType").and_then(Value::as_str) == Some("OperationOutcome") {
        let diags: Vec<&str> = v
            .get("issue")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|i| i.get("diagnostics").and_then(Value::as_str))
                    .collect()
            })
            .unwrap_or_default();
        if !diags.is_empty() {
            return Some(diags.join("; "));
        }
    }
    None
}

pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max).collect();
    out.push('…');
    out
}

pub(crate) fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(512)];
    let s = String::from_utf8_lossy(head)
        .trim_start()
        .to_ascii_lowercase();
    s.starts_with("<!doctype html") || s.starts_with("<html") || s.starts_with("<head")
}

/// The `<title>` of an HTML page, whitespace collapsed.
pub(crate) fn html_title(body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let lower = text.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = text[open_end..close]
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let title = title
        .replace("&amp;", "&")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'");
    (!title.is_empty()).then(|| truncate(&title, 120))
}

/// Plain words for a reqwest transport error.
pub(crate) fn describe_transport_error(e: &reqwest::Error) -> String {
    use std::error::Error as _;
    let mut chain = String::new();
    let mut src = e.source();
    while let Some(s) = src {
        chain.push_str(&s.to_string().to_ascii_lowercase());
        chain.push(' ');
        src = s.source();
    }
    if e.is_timeout() {
        return "the server did not answer in time".into();
    }
    if chain.contains("dns error")
        || chain.contains("failed to lookup")
        || chain.contains("name or service not known")
        || chain.contains("no such host")
        || chain.contains("nodename nor servname")
    {
        return "no server has that name (check the spelling of the address)".into();
    }
    if chain.contains("certificate") || chain.contains("tls") || chain.contains("handshake") {
        return "its security certificate could not be verified (is this the right https:// address?)".into();
    }
    if chain.contains("connection refused") {
        return "nothing is answering at that address (connection refused)".into();
    }
    if e.is_connect() {
        return "the connection could not be made".into();
    }
    if chain.contains("connection reset") || chain.contains("broken pipe") {
        return "the connection was dropped".into();
    }
    if e.is_body() || e.is_decode() {
        return "the answer broke off".into();
    }
    let s = chain.trim();
    if s.is_empty() {
        "the connection failed".into()
    } else {
        format!("the connection failed: {}", truncate(s, 160))
    }
}

/// A URL for logs: the path and the query parameter names, no values.
pub(crate) fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => {
            let names: Vec<String> = u.query_pairs().map(|(k, _)| k.into_owned()).collect();
            if names.is_empty() {
                u.path().to_string()
            } else {
                format!("{}?{}", u.path(), names.join(","))
            }
        }
        Err(_) => "<url>".into(),
    }
}

/// Applies the query string of a `next` link to `endpoint` (our base URL and path): behind a
/// proxy the server builds links with its internal scheme and host.
pub(crate) fn rebase_next(endpoint: &str, next: &str) -> Result<String> {
    let parsed = url::Url::parse(next)
        .or_else(|_| url::Url::parse("http://placeholder.invalid").and_then(|b| b.join(next)))
        .map_err(|_| Error::bad_response(format!("a next-page link is not a URL: {next}")))?;
    let base = endpoint.split('?').next().unwrap_or(endpoint);
    Ok(match parsed.query() {
        Some(q) => format!("{base}?{q}"),
        None => base.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_titles_are_summarised() {
        let page =
            b"<html>\r\n<head><title>502 Bad   Gateway</title></head><body>...</body></html>";
        assert_eq!(html_title(page).as_deref(), Some("502 Bad Gateway"));
        assert!(looks_like_html(b"  <!DOCTYPE html><html>"));
        let mut h = HeaderMap::new();
        h.insert(
            CONTENT_TYPE,
            "text/html".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(summarize_body(&h, page), "502 Bad Gateway");
        assert_eq!(
            summarize_body(&HeaderMap::new(), br#"{"detail":"Invalid page."}"#),
            "Invalid page."
        );
    }

    #[test]
    fn next_links_keep_only_their_query() {
        let r = rebase_next(
            "https://jhe.example.org/FHIR/R5/Observation?_count=1000",
            "http://internal:8000/FHIR/R5/Observation?_count=1000&_page=2",
        );
        assert_eq!(
            r.ok().as_deref(),
            Some("https://jhe.example.org/FHIR/R5/Observation?_count=1000&_page=2")
        );
    }

    #[test]
    fn retry_after_seconds() {
        let mut h = HeaderMap::new();
        h.insert(RETRY_AFTER, "3".parse().unwrap_or_else(|_| unreachable!()));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(3)));
    }
}
