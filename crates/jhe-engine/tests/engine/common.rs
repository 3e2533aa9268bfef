//! Helpers of the engine's integration tests (the demo accounts and look-ups shared with the CLI
//! and app tests are in `jhe_sandbox::demo`): a small sandbox, sessions, a browser that fills in the
//! sandbox's login form, and small stand-in servers (an HTML login page, a reverse proxy).
#![allow(dead_code)]

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::Router;
use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::auth::BrowserOptions;
use jhe_engine::http::RetryPolicy;
use jhe_engine::server_check::{check_server, ServerInfo};
use jhe_sandbox::{Config, Sandbox};
use polars::prelude::*;
use reqwest::redirect::Policy;

pub use jhe_sandbox::demo::{DEMO_STUDY, MARY, PETER, TOM};

pub fn small() -> Config {
    Config::small()
}

pub async fn sandbox() -> Sandbox {
    sandbox_with(small()).await
}

pub async fn sandbox_with(cfg: Config) -> Sandbox {
    Sandbox::start(cfg).await.expect("sandbox starts")
}

pub fn fast() -> SessionOptions {
    SessionOptions {
        retry: RetryPolicy::fast(),
    }
}

pub fn api_key(sb: &Sandbox, email: &str) -> String {
    sb.info()
        .api_key(email)
        .map(str::to_string)
        .expect("practitioner has a key")
}

pub async fn server(sb: &Sandbox) -> ServerInfo {
    check_server(sb.url())
        .await
        .expect("sandbox is a JHE server")
}

pub async fn session(sb: &Sandbox, email: &str) -> Session {
    let info = server(sb).await;
    Session::sign_in_with_api_key(&info, &api_key(sb, email), fast())
        .await
        .expect("API key sign-in")
}

/// Exports the whole demo study into `dir` with the default options (CSV, one file per type).
pub async fn export_whole_study(
    s: &Session,
    dir: impl Into<std::path::PathBuf>,
) -> jhe_engine::error::Result<jhe_engine::jobs::ExportOutcome> {
    let req = jhe_engine::jobs::ExportRequest::new(DEMO_STUDY, dir);
    jhe_engine::jobs::export_study(s, req, |_| {}, jhe_engine::cancel::CancelToken::new()).await
}

/// The observations the study filter returns for the whole study.
pub fn study_total(sb: &Sandbox, study: u64) -> u64 {
    sb.info().study_observations(study).expect("study exists")
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

fn cookie(r: &reqwest::Response, name: &str) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|v| v.split(';').next().unwrap_or("").to_string())
        .find(|c| c.starts_with(&format!("{name}=")))
}

fn location(r: &reqwest::Response) -> Result<String, String> {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .ok_or_else(|| format!("no redirect (status {})", r.status()))
}

fn field(html: &str, name: &str) -> Result<String, String> {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .map(|s| s.replace("&amp;", "&").replace("&quot;", "\""))
        .ok_or_else(|| format!("no field {name}"))
}

/// What the test "browser" does at the loopback redirect.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Callback {
    /// Follow it as sent.
    Follow,
    /// Change the `state` parameter before following.
    TamperState,
    /// Send forged answers first (wrong state, no state, an attacker's code), then the real one.
    ForgedThenReal,
}

/// A person in a browser: opens the authorize URL, is sent to the login form, signs in, and is
/// redirected back to the app's loopback listener.
pub async fn browser(authorize: String, email: String, cb: Callback) -> Result<(), String> {
    let http = client();
    let base = {
        let u = url::Url::parse(&authorize).map_err(|e| e.to_string())?;
        format!(
            "{}://{}",
            u.scheme(),
            u.host_str().unwrap_or("127.0.0.1").to_string()
                + &u.port().map(|p| format!(":{p}")).unwrap_or_default()
        )
    };
    let r = http
        .get(&authorize)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let login = location(&r)?;
    if !login.starts_with("/accounts/login/") {
        return Err(format!("expected the login page, got {login}"));
    }
    let form = http
        .get(format!("{base}{login}"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let csrf_cookie = cookie(&form, "csrftoken").ok_or("no csrf cookie")?;
    let html = form.text().await.map_err(|e| e.to_string())?;
    let csrf = field(&html, "csrfmiddlewaretoken")?;
    let next = field(&html, "next")?;
    let r = http
        .post(format!("{base}/accounts/login/"))
        .header("Cookie", &csrf_cookie)
        .form(&[
            ("csrfmiddlewaretoken", csrf.as_str()),
            ("login", email.as_str()),
            ("password", "Jhe1234!"),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let session = cookie(&r, "sessionid").ok_or("login failed: no session cookie")?;
    let back = location(&r)?;
    let r = http
        .get(format!("{base}{back}"))
        .header("Cookie", &session)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let mut redirect = location(&r)?;
    if !redirect.starts_with("http://127.0.0.1:") {
        return Err(format!("expected the loopback redirect, got {redirect}"));
    }
    if cb == Callback::TamperState {
        redirect = redirect.replace("state=", "state=tampered");
    }
    if cb == Callback::ForgedThenReal {
        let (base, _) = redirect.split_once('?').unwrap_or((&redirect, ""));
        for forged in [
            redirect.replace("state=", "state=tampered"),
            format!("{base}?code=attackers-code"),
            format!("{base}?code=attackers-code&state=guess"),
            format!("{base}?error=access_denied&state=guess"),
        ] {
            let r = http.get(&forged).send().await.map_err(|e| e.to_string())?;
            if r.status() != reqwest::StatusCode::BAD_REQUEST {
                return Err(format!("forged answer {forged}: {}", r.status()));
            }
        }
    }
    // The app's listener answers with a small page.
    http.get(&redirect)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Browser sign-in through the sandbox's login form.
pub async fn browser_session(
    sb: &Sandbox,
    email: &str,
) -> Result<Session, jhe_engine::error::Error> {
    let info = server(sb).await;
    let email = email.to_string();
    Session::sign_in_with_browser(&info, &BrowserOptions::default(), fast(), move |url| {
        let url = url.to_string();
        tokio::spawn(async move {
            if let Err(e) = browser(url, email, Callback::Follow).await {
                eprintln!("browser: {e}");
            }
        });
    })
    .await
}

/// A stand-in server answering every request with the same response.
pub async fn fixed_server(
    status: StatusCode,
    content_type: &'static str,
    body: &'static str,
) -> String {
    let app = Router::new().fallback(move || async move {
        (status, [("content-type", content_type)], body).into_response()
    });
    serve(app).await
}

async fn serve(app: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}")
}

/// A reverse proxy ([`jhe_sandbox::proxy`]) in front of a sandbox that (a) tells the server it
/// is reached as `forwarded_host` (so its links point there) and (b) when `corrupt` is on,
/// breaks the OMH payload of the first observation of up to three FHIR pages (always the same
/// observations), and (c) when `drop_heart_rate` is on, drops the last entry of every
/// heart-rate page.
pub struct Proxy {
    pub url: String,
    pub corrupted: Arc<std::sync::Mutex<HashSet<String>>>,
    pub drop_heart_rate: Arc<AtomicBool>,
    _running: jhe_sandbox::proxy::Proxy,
}

/// A FHIR Observation search page (not a count).
fn is_search_page(path: &str) -> bool {
    path.starts_with("/FHIR/R5/Observation") && !path.contains("_summary")
}

pub async fn proxy(upstream: &str, forwarded_host: Option<&str>, corrupt: bool) -> Proxy {
    let corrupted: Arc<std::sync::Mutex<HashSet<String>>> = Arc::default();
    let drop_heart_rate = Arc::new(AtomicBool::new(false));
    let (set, drop_hr) = (corrupted.clone(), drop_heart_rate.clone());
    let rewrite: jhe_sandbox::proxy::Rewrite = Arc::new(move |path, v| {
        if !is_search_page(path) {
            return false;
        }
        if corrupt {
            if let Some(first) = v.pointer_mut("/entry/0/resource") {
                let id = first
                    .get("id")
                    .and_then(|i| i.as_str())
                    .unwrap_or("")
                    .to_string();
                let mut set = set.lock().expect("lock");
                if set.len() < 3 || set.contains(&id) {
                    set.insert(id);
                    if let Some(d) = first.pointer_mut("/valueAttachment/data") {
                        *d = serde_json::Value::String("%%% not base64 %%%".into());
                    }
                }
            }
        }
        if drop_hr.load(Ordering::Relaxed) && path.contains("heart-rate") {
            if let Some(entries) = v.get_mut("entry").and_then(|e| e.as_array_mut()) {
                entries.pop();
            }
        }
        true
    });
    let running = jhe_sandbox::proxy::start(upstream, forwarded_host, Some(rewrite))
        .await
        .expect("proxy starts");
    Proxy {
        url: running.url.clone(),
        corrupted,
        drop_heart_rate,
        _running: running,
    }
}

/// Reads every data file of an export: (rows, distinct observation ids).
pub fn read_export(dir: &Path, manifest: &jhe_engine::export::Manifest) -> (u64, HashSet<i64>) {
    let mut rows = 0;
    let mut ids = HashSet::new();
    for f in manifest.files.iter().filter(|f| f.role == "data") {
        let path = dir.join(&f.name);
        let df = if f.format == "parquet" {
            let file = std::fs::File::open(&path).expect("open data file");
            ParquetReader::new(file).finish().expect("parquet")
        } else {
            CsvReadOptions::default()
                .with_has_header(true)
                .try_into_reader_with_file_path(Some(path.clone()))
                .expect("csv reader")
                .finish()
                .expect("csv")
        };
        rows += df.height() as u64;
        let col = df.column("observation_id").expect("observation_id column");
        let col = col.cast(&DataType::Int64).expect("ids are integers");
        for id in col.i64().expect("i64").iter().flatten() {
            ids.insert(id);
        }
    }
    (rows, ids)
}

/// Every file under `dir` (recursively), with its path relative to `dir`.
pub fn files_in(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("inside").display().to_string();
                out.push((rel, p));
            }
        }
    }
    out.sort();
    out
}
