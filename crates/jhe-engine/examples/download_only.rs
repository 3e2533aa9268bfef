//! The server's own limit, for `bench/export.sh`: the same FHIR pages `jhe export` requests
//! (one participant × one type at a time, `_count=1000`, following `next`, the same parallelism),
//! downloaded and thrown away — no JSON parsing, no decoding, nothing written.
//!
//! `cargo run --release -p jhe-engine --example download_only -- URL TOKEN STUDY [PARALLEL]`
//! prints one JSON line: {"pages", "bytes", "seconds"}.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use futures_util::{stream, StreamExt};
use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn get_json(http: &reqwest::Client, url: &str, token: &str) -> Result<Value, BoxError> {
    Ok(http
        .get(url)
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?)
}

/// The `next` link of a searchset, found without parsing the page.
fn next_link(page: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(page).ok()?;
    let at = text.rfind("\"relation\":\"next\"")?;
    let rest = &text[at..];
    let start = rest.find("\"url\":\"")? + 7;
    let end = rest[start..].find('"')? + start;
    Some(rest[start..end].to_string())
}

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, token, study, rest @ ..] = args.as_slice() else {
        return Err("usage: download_only URL TOKEN STUDY [PARALLEL]".into());
    };
    let parallel: usize = rest.first().and_then(|p| p.parse().ok()).unwrap_or(4);
    let http = reqwest::Client::new();
    let t0 = Instant::now();
    let mut patients = Vec::new();
    let mut next = Some(format!(
        "{url}/api/v1/studies/{study}/patients?page_size=1000"
    ));
    while let Some(u) = next {
        let page = get_json(&http, &u, token).await?;
        for p in page["results"].as_array().into_iter().flatten() {
            patients.extend(p["id"].as_u64());
        }
        next = page["next"].as_str().map(str::to_string);
    }
    let scopes = get_json(
        &http,
        &format!("{url}/api/v1/studies/{study}/scope_requests"),
        token,
    )
    .await?;
    let codes: Vec<(String, String)> = scopes
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| {
            Some((
                s["scopeCode"]["codingSystem"].as_str()?.to_string(),
                s["scopeCode"]["codingCode"].as_str()?.to_string(),
            ))
        })
        .collect();
    let units: Vec<(u64, String)> = patients
        .iter()
        .flat_map(|p| codes.iter().map(move |(s, c)| (*p, format!("{s}|{c}"))))
        .collect();
    let pages = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let results: Vec<Result<(), BoxError>> = stream::iter(units)
        .map(|(patient, code)| {
            let (http, pages, bytes) = (http.clone(), pages.clone(), bytes.clone());
            // exactly the search `jhe export` makes (study filter, patient, code, sort, size)
            let first = format!(
                "{url}/FHIR/R5/Observation?patient._has%3AGroup%3Amember%3A_id={study}&patient={patient}&code={}&_sort=_lastUpdated&_count=1000",
                url::form_urlencoded::byte_serialize(code.as_bytes()).collect::<String>()
            );
            async move {
                let mut next = Some(first);
                while let Some(u) = next {
                    let body = http
                        .get(&u)
                        .bearer_auth(token)
                        .send()
                        .await?
                        .error_for_status()?
                        .bytes()
                        .await?;
                    pages.fetch_add(1, Ordering::Relaxed);
                    bytes.fetch_add(body.len() as u64, Ordering::Relaxed);
                    next = next_link(&body);
                }
                Ok(())
            }
        })
        .buffer_unordered(parallel.max(1))
        .collect()
        .await;
    for r in results {
        r?;
    }
    println!(
        "{}",
        serde_json::json!({"pages": pages.load(Ordering::Relaxed), "bytes": bytes.load(Ordering::Relaxed), "seconds": t0.elapsed().as_secs_f64()})
    );
    Ok(())
}
