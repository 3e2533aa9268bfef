//! Walking FHIR Observation searches completely: every page, `next` links re-applied to the
//! configured base URL, de-duplication by id, the server's `total` checked, cancellation
//! between pages.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

use crate::api::{with_query, ObservationQuery, Session, PAGE_SIZE};
use crate::error::{Error, Result};
use crate::http;
use crate::models::Bundle;

/// Cancels a running job. Clone it freely; cancelling one clone cancels all.
#[derive(Clone, Debug, Default)]
pub struct CancelToken(tokio_util::sync::CancellationToken);

impl CancelToken {
    pub fn new() -> CancelToken {
        CancelToken::default()
    }
    pub fn cancel(&self) {
        self.0.cancel();
    }
    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
    /// Resolves once cancelled.
    pub async fn cancelled(&self) {
        self.0.cancelled().await;
    }
    /// A token cancelled with this one, that can also be cancelled on its own.
    pub fn child(&self) -> CancelToken {
        CancelToken(self.0.child_token())
    }
    /// `Err(Cancelled)` once cancelled.
    pub fn check(&self) -> Result<()> {
        if self.is_cancelled() {
            Err(Error::Cancelled)
        } else {
            Ok(())
        }
    }
    /// Runs `fut`, or stops with `Err(Cancelled)` as soon as this token is cancelled.
    pub async fn run<T>(&self, fut: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        self.check()?;
        tokio::select! {
            biased;
            _ = self.0.cancelled() => Err(Error::Cancelled),
            r = fut => r,
        }
    }
}

/// Everything one search returned.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Fetched {
    /// FHIR Observation resources, de-duplicated by id, in server order.
    pub resources: Vec<Value>,
    /// The `total` of the last page the server sent.
    pub server_total: u64,
    /// Rows that came twice (pages shifting under concurrent uploads) and were dropped.
    pub duplicates: u64,
    pub pages: u64,
    /// Walks of the search (a second walk is made when the first came up short).
    pub walks: u32,
}

impl Fetched {
    pub fn is_complete(&self) -> bool {
        self.resources.len() as u64 == self.server_total
    }
}

/// Fetches every observation of `q`, sorted by `_lastUpdated` (new uploads land at the end, so
/// pages do not shift). When fewer unique rows than the server's `total` arrive, the search is
/// walked once more and the rows merged. `on_rows(n)` is called with the number of new rows
/// after every page.
pub async fn fetch_observations(
    session: &Session,
    q: &ObservationQuery,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<Fetched> {
    let endpoint = session.fhir_observation_endpoint();
    let mut params = q.params();
    params.push(("_sort".into(), "_lastUpdated".into()));
    params.push(("_count".into(), PAGE_SIZE.to_string()));
    let first = with_query(&endpoint, &params);
    let what = q.describe();
    let mut out = Fetched::default();
    let mut seen: HashSet<String> = HashSet::new();
    for walk in 1..=2u32 {
        out.walks = walk;
        let mut url = first.clone();
        let mut visited = HashSet::new();
        loop {
            if !visited.insert(url.clone()) {
                return Err(Error::bad_response(format!(
                    "{what}: the server's next-page link points back to a page already read"
                )));
            }
            let v = cancel.run(session.get_url(&url, &what)).await?;
            let bundle: Bundle = serde_json::from_value(v)
                .map_err(|e| Error::bad_response(format!("{what}: not a FHIR Bundle ({e})")))?;
            out.pages += 1;
            if let Some(t) = bundle.total {
                out.server_total = t;
            }
            let next = bundle.next().map(str::to_string);
            let mut new_rows = 0;
            for e in bundle.entry {
                let key = match e.resource.get("id") {
                    Some(Value::String(s)) => s.clone(),
                    Some(other) => other.to_string(),
                    None => e.resource.to_string(),
                };
                if seen.insert(key) {
                    out.resources.push(e.resource);
                    new_rows += 1;
                } else if walk == 1 {
                    out.duplicates += 1;
                }
            }
            if new_rows > 0 {
                on_rows(new_rows);
            }
            match next {
                Some(n) => url = http::rebase_next(&endpoint, &n)?,
                None => break,
            }
            cancel.check()?;
        }
        if out.resources.len() as u64 >= out.server_total {
            break;
        }
        tracing::warn!(
            "{what}: {} of {} arrived; walking the search again",
            out.resources.len(),
            out.server_total
        );
    }
    Ok(out)
}
