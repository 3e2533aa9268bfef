//! Fault injection for clients' tests: server errors, latency, dropped connections mid-body and
//! rate limiting, applied to the data APIs (`/api/v1`, `/FHIR/R5`).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::http::{typed, with_header};
use crate::AppState;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Faults {
    /// Share of data requests answered 500, 502 or 503 (0.0–1.0).
    pub error_rate: f64,
    /// Added latency per data request, in milliseconds.
    pub latency_ms: u64,
    /// Share of data responses whose connection is dropped halfway through the body.
    pub drop_rate: f64,
    /// Share of data requests answered 429 with `Retry-After`.
    pub rate_limit_rate: f64,
    /// The `Retry-After` value, in seconds.
    pub retry_after_s: u64,
    /// Seed of the fault sequence, so a failing test can be replayed.
    pub seed: u64,
}

impl Faults {
    pub fn any(&self) -> bool {
        self.error_rate > 0.0
            || self.latency_ms > 0
            || self.drop_rate > 0.0
            || self.rate_limit_rate > 0.0
    }
}

/// Counts faults injected, for tests to assert that they really happened.
#[derive(Default, Debug)]
pub struct FaultStats {
    pub requests: AtomicU64,
    pub errors: AtomicU64,
    pub drops: AtomicU64,
    pub rate_limited: AtomicU64,
}

fn uniform(seed: u64, n: u64, salt: u64) -> f64 {
    // splitmix64: a deterministic per-request draw.
    let mut z = seed
        .wrapping_add(n.wrapping_mul(0x9E37_79B9_7F4A_7C15))
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^= z >> 31;
    (z >> 11) as f64 / (1u64 << 53) as f64
}

pub async fn inject(State(st): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let path = req.uri().path();
    let data_api = path.starts_with("/api/v1/") || path.starts_with("/FHIR/R5");
    let f = st.faults.read().clone();
    if !data_api || !f.any() {
        return next.run(req).await;
    }
    let n = st.fault_stats.requests.fetch_add(1, Ordering::Relaxed);
    if f.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.latency_ms)).await;
    }
    if uniform(f.seed, n, 1) < f.rate_limit_rate {
        st.fault_stats.rate_limited.fetch_add(1, Ordering::Relaxed);
        return with_header(
            typed(
                StatusCode::TOO_MANY_REQUESTS,
                "application/json",
                "{\"detail\":\"Request was throttled.\"}",
            ),
            header::RETRY_AFTER,
            &f.retry_after_s.to_string(),
        );
    }
    let e = uniform(f.seed, n, 2);
    if e < f.error_rate {
        st.fault_stats.errors.fetch_add(1, Ordering::Relaxed);
        let status = match (e / f.error_rate * 3.0) as u32 {
            0 => StatusCode::INTERNAL_SERVER_ERROR,
            1 => StatusCode::BAD_GATEWAY,
            _ => StatusCode::SERVICE_UNAVAILABLE,
        };
        // What a reverse proxy in front of JHE sends: an HTML page, not JSON.
        let reason = status.canonical_reason().unwrap_or("Error");
        let body = format!(
            "<html>\r\n<head><title>{} {reason}</title></head>\r\n<body>\r\n<center><h1>{} {reason}</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
            status.as_u16(),
            status.as_u16()
        );
        return typed(status, "text/html", body);
    }
    let drop = uniform(f.seed, n, 3) < f.drop_rate;
    let resp = next.run(req).await;
    if !drop {
        return resp;
    }
    st.fault_stats.drops.fetch_add(1, Ordering::Relaxed);
    let (mut parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return (StatusCode::INTERNAL_SERVER_ERROR, "").into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    // Announce the full length, send half, then fail the stream: the client sees the
    // connection close mid-body.
    parts.headers.insert(
        header::CONTENT_LENGTH,
        HeaderValue::from(bytes.len() as u64),
    );
    let stream = futures_util::stream::iter(vec![
        Ok::<bytes::Bytes, std::io::Error>(half),
        Err(std::io::Error::new(
            std::io::ErrorKind::ConnectionReset,
            "fault injection: connection dropped",
        )),
    ]);
    Response::from_parts(parts, Body::from_stream(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_are_deterministic_and_spread() {
        let hits = (0..10_000).filter(|n| uniform(7, *n, 2) < 0.1).count();
        assert!((800..1200).contains(&hits), "{hits}");
        assert_eq!(uniform(7, 42, 1), uniform(7, 42, 1));
        assert_ne!(uniform(7, 42, 1), uniform(8, 42, 1));
    }
}
