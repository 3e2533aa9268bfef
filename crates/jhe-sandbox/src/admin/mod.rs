//! The Admin REST API (`/api/v1/…`), with JHE's authorization rules, pagination and quirks.
//!
//! This module holds what every Admin handler shares (the request as handlers read it: caller,
//! `{id}`, filters and JHE's paginated envelope; "remember the current study"); the handlers are
//! grouped by resource: `orgs` (profile, organizations), `studies`, `patients` (incl. consents),
//! `sources` (data sources, clients, API keys) and `observations`.

mod observations;
mod orgs;
mod patients;
mod sources;
mod studies;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{FromRequestParts, OptionalFromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

pub use observations::{admin_observation_query, observation_detail, observations};
pub use orgs::{org_detail, org_types, orgs, profile, user_orgs};
pub use patients::{global_lookup, patient_detail, patient_me, patients};
pub use sources::{
    all_scopes, clients, data_source_detail, data_sources, practitioner_client_detail,
    practitioner_clients,
};
pub use studies::{studies, study_detail};

use crate::caller::{caller, Api, Caller};
use crate::http::{
    base_url, detail, first, json_response, page_links, page_params, query_pairs, snake,
    value_error_500,
};
use crate::world::{Role, World};
use crate::AppState;

pub(super) type S = State<Arc<AppState>>;

/// What an Admin handler reads of its request: the headers (for the caller and the links), the
/// path with its `{id}` and `{sub}`, and the query (filters, and page links that keep them).
pub struct Req {
    headers: HeaderMap,
    base: String,
    path: String,
    /// The route's parameters (none on a list route).
    params: HashMap<String, String>,
    /// Pairs as sent (for links).
    raw_pairs: Vec<(String, String)>,
    /// Pairs with snake_case names (for reading).
    pairs: Vec<(String, String)>,
}

impl<St: Send + Sync> FromRequestParts<St> for Req {
    /// axum's own answer to a path parameter that is not UTF-8.
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &St) -> Result<Req, Response> {
        let params =
            <Path<HashMap<String, String>> as OptionalFromRequestParts<St>>::from_request_parts(
                parts, state,
            )
            .await
            .map_err(IntoResponse::into_response)?
            .map(|Path(p)| p)
            .unwrap_or_default();
        let raw_pairs = query_pairs(parts.uri.query());
        let pairs = raw_pairs
            .iter()
            .map(|(k, v)| (snake(k), v.clone()))
            .collect();
        Ok(Req {
            base: base_url(&parts.headers),
            headers: parts.headers.clone(),
            path: parts.uri.path().to_string(),
            params,
            raw_pairs,
            pairs,
        })
    }
}

impl Req {
    fn get(&self, name: &str) -> Option<&str> {
        first(&self.pairs, name)
    }
    /// An integer filter; a non-integer makes Django raise ValueError (HTTP 500, HTML).
    fn int(&self, name: &str) -> Result<Option<u32>, Response> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<u32>()
                .map(Some)
                .map_err(|_| value_error_500(&self.path, v)),
        }
    }
    /// Integer filters, read in order: the first bad one answers.
    fn ints<const N: usize>(&self, names: [&str; N]) -> Result<[Option<u32>; N], Response> {
        let mut out = [None; N];
        for (slot, name) in out.iter_mut().zip(names) {
            *slot = self.int(name)?;
        }
        Ok(out)
    }
    /// The signed-in caller.
    fn caller(&self, st: &AppState) -> Result<Caller, Response> {
        caller(st, &self.headers, Api::Admin)
    }
    /// The caller, who must be a practitioner.
    fn practitioner(&self, st: &AppState) -> Result<Caller, Response> {
        let c = self.caller(st)?;
        if !c.is_practitioner() {
            return Err(no_match("Practitioner"));
        }
        Ok(c)
    }
    /// The `{id}` of a detail route; a non-number makes Django raise ValueError (HTTP 500).
    fn id(&self) -> Result<u32, Response> {
        let raw = self.params.get("id").map_or("", String::as_str);
        raw.parse::<u32>()
            .map_err(|_| value_error_500(&self.path, raw))
    }
    /// Who asks a detail route, and for which `{id}`: the caller is checked first, as JHE
    /// answers 401 before a bad id's 500.
    fn caller_and_id(&self, st: &AppState) -> Result<(Caller, u32), Response> {
        let c = self.caller(st)?;
        Ok((c, self.id()?))
    }
    /// The `{sub}` of a detail route, "" on the route without one (one handler serves both).
    fn sub(&self) -> &str {
        self.params.get("sub").map_or("", String::as_str)
    }
    /// JHE's paginated envelope over `total` items; `items` renders the slice.
    fn paginate(
        &self,
        total: usize,
        max: usize,
        items: impl FnOnce(std::ops::Range<usize>) -> Vec<Value>,
    ) -> Response {
        let page = match page_params(self.get("page"), self.get("page_size"), 20, max, total) {
            Ok(p) => p,
            Err(_) => return detail(StatusCode::NOT_FOUND, "Invalid page."),
        };
        let page_name = self
            .raw_pairs
            .iter()
            .find(|(k, _)| snake(k) == "page")
            .map(|(k, _)| k.clone())
            .unwrap_or_else(|| "page".into());
        let (next, previous) = page_links(
            &self.base,
            &self.path,
            &self.raw_pairs,
            &page_name,
            &page,
            total,
        );
        let results = items(page.range(total));
        json_response(
            StatusCode::OK,
            &json!({"count": total, "next": next, "previous": previous, "results": results}),
        )
    }
    /// One page of an Admin list (at most 1,000 a page, as JHE), each item rendered by `render`.
    fn list<T>(&self, items: &[T], render: impl FnMut(&T) -> Value) -> Response {
        self.paginate(items.len(), 1000, |r| items[r].iter().map(render).collect())
    }
}

fn remember(st: &AppState, user: u32, org: Option<u32>, study: Option<u32>, clear_study: bool) {
    let mut world = st.world.write();
    if let Some(u) = world.users.iter_mut().find(|u| u.id == user) {
        if org.is_some() {
            u.current_org = org;
        }
        if study.is_some() {
            u.current_study = study;
        } else if clear_study {
            u.current_study = None;
        }
    }
}

fn can_manage(world: &World, user: u32, org: u32) -> bool {
    matches!(world.role(user, org), Some(Role::Manager | Role::Member))
}

fn body_json(body: &[u8]) -> Value {
    serde_json::from_slice(body).unwrap_or(Value::Null)
}

/// `field` in snake_case or camelCase.
fn field<'a>(v: &'a Value, snake_name: &str) -> Option<&'a Value> {
    v.get(snake_name).or_else(|| v.get(camel(snake_name)))
}

/// `scope_code_id` → `scopeCodeId`.
fn camel(snake_name: &str) -> String {
    snake_name
        .split('_')
        .enumerate()
        .map(|(i, w)| {
            if i == 0 {
                w.to_string()
            } else {
                let mut c = w.chars();
                c.next()
                    .map(|f| f.to_uppercase().chain(c).collect())
                    .unwrap_or_default()
            }
        })
        .collect()
}

/// A body field JHE requires, read by `as_t`; when it is absent (or not of that type), DRF's 400
/// naming it in camelCase.
fn required<'a, T>(
    v: &'a Value,
    snake_name: &str,
    as_t: impl FnOnce(&'a Value) -> Option<T>,
) -> Result<T, Response> {
    field(v, snake_name)
        .and_then(as_t)
        .ok_or_else(|| field_required(&camel(snake_name)))
}

/// DRF's answer to a missing field: 400 `{"<name>": ["This field is required."]}`.
fn field_required(name: &str) -> Response {
    let mut body = serde_json::Map::new();
    body.insert(name.to_string(), json!(["This field is required."]));
    json_response(StatusCode::BAD_REQUEST, &Value::Object(body))
}

/// Django's 404 when no `what` has the id: "No Patient matches the given query."
fn no_match(what: &str) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        &format!("No {what} matches the given query."),
    )
}
