//! Shared HTTP plumbing: JHE's error bodies, query strings, absolute links and page-number
//! pagination. A leaf module: it knows no handler, token or caller.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

/// A response with this status, `Content-Type` and body.
pub fn typed(status: StatusCode, content_type: &'static str, body: impl Into<Body>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, HeaderValue::from_static(content_type))],
        body.into(),
    )
        .into_response()
}

/// `r` with the header `name: value`; left out when `value` is not a valid header value.
pub fn with_header(mut r: Response, name: HeaderName, value: &str) -> Response {
    if let Ok(v) = HeaderValue::from_str(value) {
        r.headers_mut().insert(name, v);
    }
    r
}

/// JSON response with JHE's content type.
pub fn json_response(status: StatusCode, body: &Value) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    typed(status, "application/json", bytes)
}

pub fn detail(status: StatusCode, msg: &str) -> Response {
    json_response(status, &json!({ "detail": msg }))
}

pub fn outcome(status: StatusCode, msg: &str) -> Response {
    json_response(status, &outcome_body(msg))
}

pub fn outcome_body(msg: &str) -> Value {
    json!({
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "error", "code": "processing", "diagnostics": msg}]
    })
}

/// Django's HTML error page (DEBUG on), as JHE answers unhandled errors and unknown paths.
pub fn django_html(status: StatusCode, title: &str, exception: Option<&str>) -> Response {
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('\'', "&#x27;")
            .replace('"', "&quot;")
    };
    let body = format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n  <meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\">\n  <title>{}</title>\n</head>\n<body>\n<div id=\"summary\">\n  <h1>{}</h1>\n  <pre class=\"exception_value\">{}</pre>\n</div>\n</body>\n</html>\n",
        esc(title),
        esc(title),
        esc(exception.unwrap_or(""))
    );
    typed(status, "text/html; charset=utf-8", body)
}

pub fn not_found_page(path: &str) -> Response {
    django_html(
        StatusCode::NOT_FOUND,
        &format!("Page not found at {path}"),
        None,
    )
}

pub fn value_error_500(path: &str, got: &str) -> Response {
    django_html(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("ValueError at {path}"),
        Some(&format!("Field 'id' expected a number but got '{got}'.")),
    )
}

/// `scheme://host` as Django builds it: from the Host header, or the proxy's
/// `X-Forwarded-Host` / `X-Forwarded-Proto` (JHE trusts both).
pub fn base_url(headers: &HeaderMap) -> String {
    let get = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|s| s.split(',').next().unwrap_or(s).trim().to_string())
    };
    let scheme = get("x-forwarded-proto").unwrap_or_else(|| "http".into());
    let host = get("x-forwarded-host")
        .or_else(|| get("host"))
        .unwrap_or_else(|| "127.0.0.1".into());
    format!("{scheme}://{host}")
}

/// Decoded query pairs in request order (repeated names kept).
pub fn query_pairs(raw: Option<&str>) -> Vec<(String, String)> {
    raw.map(|q| {
        form_urlencoded::parse(q.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect()
    })
    .unwrap_or_default()
}

/// djangorestframework-camel-case's middleware: query parameter *names* become snake_case.
pub fn snake(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 4);
    for (i, ch) in name.chars().enumerate() {
        if ch.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(ch.to_ascii_lowercase());
        } else {
            out.push(ch);
        }
    }
    out
}

pub fn first<'a>(pairs: &'a [(String, String)], name: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// Python's `urlencode` of sorted pairs (quote_plus on names and values).
pub fn py_urlencode(pairs: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = pairs.iter().collect();
    sorted.sort();
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in sorted {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Django's `iri_to_uri` on the raw request target: characters outside its safe set are
/// percent-encoded (so `|` becomes `%7C`, while `:` and `/` stay).
pub fn iri_to_uri(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let safe = b.is_ascii_alphanumeric() || b"/#%[]=:;$&()+,!?*@'~-._".contains(&b);
        if safe {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Page-number pagination as JHE's paginators do it.
pub struct Page {
    pub page: usize,
    pub size: usize,
}

pub enum PageError {
    Invalid,
}

/// `page` (1-based; 0, past the end or not a number is "Invalid page.") and the page size
/// (default 20, capped at `max`, 0 or garbage means the default).
pub fn page_params(
    page: Option<&str>,
    size: Option<&str>,
    default: usize,
    max: usize,
    total: usize,
) -> Result<Page, PageError> {
    let size = size
        .and_then(|s| s.parse::<usize>().ok())
        .filter(|n| *n > 0)
        .map(|n| n.min(max))
        .unwrap_or(default);
    let page = match page {
        None => 1,
        Some("last") => total.div_ceil(size).max(1),
        Some(p) => p.parse::<usize>().map_err(|_| PageError::Invalid)?,
    };
    let pages = total.div_ceil(size).max(1);
    if page == 0 || page > pages {
        return Err(PageError::Invalid);
    }
    Ok(Page { page, size })
}

impl Page {
    pub fn range(&self, total: usize) -> std::ops::Range<usize> {
        let start = (self.page - 1) * self.size;
        start.min(total)..(start + self.size).min(total)
    }
    pub fn has_next(&self, total: usize) -> bool {
        self.page * self.size < total
    }
}

/// `next`/`previous` links: the request's parameters (spelling kept) re-sorted, with the page
/// parameter set, or dropped for page 1.
pub fn page_links(
    base: &str,
    path: &str,
    pairs: &[(String, String)],
    page_param: &str,
    page: &Page,
    total: usize,
) -> (Option<String>, Option<String>) {
    let without: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| k != page_param)
        .cloned()
        .collect();
    let link = |n: usize| {
        let mut p = without.clone();
        if n > 1 {
            p.push((page_param.to_string(), n.to_string()));
        }
        let q = py_urlencode(&p);
        if q.is_empty() {
            format!("{base}{path}")
        } else {
            format!("{base}{path}?{q}")
        }
    };
    let next = page.has_next(total).then(|| link(page.page + 1));
    let previous = (page.page > 1).then(|| link(page.page - 1));
    (next, previous)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_like_jhe() {
        let pairs = query_pairs(Some(
            "organization_id=20003&study_id=30001&patient_id=40001&page_size=5&page=2",
        ));
        let page = page_params(Some("2"), Some("5"), 20, 1000, 30)
            .ok()
            .unwrap();
        let (next, prev) = page_links(
            "http://127.0.0.1:8000",
            "/api/v1/observations",
            &pairs,
            "page",
            &page,
            30,
        );
        assert_eq!(next.unwrap(), "http://127.0.0.1:8000/api/v1/observations?organization_id=20003&page=3&page_size=5&patient_id=40001&study_id=30001");
        assert_eq!(prev.unwrap(), "http://127.0.0.1:8000/api/v1/observations?organization_id=20003&page_size=5&patient_id=40001&study_id=30001");
    }

    #[test]
    fn fhir_links_encode_like_python() {
        let pairs = query_pairs(Some(
            "patient=40001&code=https://w3id.org/openmhealth%7Comh:blood-glucose:4.0&_count=3",
        ));
        assert_eq!(
            py_urlencode(&pairs),
            "_count=3&code=https%3A%2F%2Fw3id.org%2Fopenmhealth%7Comh%3Ablood-glucose%3A4.0&patient=40001"
        );
        assert_eq!(
            iri_to_uri("patient=40001&code=https://w3id.org/openmhealth|omh:blood-glucose:4.0"),
            "patient=40001&code=https://w3id.org/openmhealth%7Comh:blood-glucose:4.0"
        );
    }

    #[test]
    fn page_edges() {
        assert!(page_params(Some("0"), None, 20, 1000, 30).is_err());
        assert!(page_params(Some("abc"), None, 20, 1000, 30).is_err());
        assert!(page_params(Some("3"), None, 20, 1000, 30).is_err());
        assert!(page_params(None, None, 20, 1000, 0).is_ok());
        assert_eq!(
            page_params(None, Some("5000"), 20, 1000, 10)
                .ok()
                .unwrap()
                .size,
            1000
        );
        assert_eq!(
            page_params(None, Some("abc"), 20, 1000, 10)
                .ok()
                .unwrap()
                .size,
            20
        );
        assert_eq!(snake("organizationId"), "organization_id");
        assert_eq!(snake("pageSize"), "page_size");
    }
}
