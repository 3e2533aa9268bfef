//! The Admin REST API (`/api/v1/…`), with JHE's authorization rules, pagination and quirks.
//!
//! This module holds what every Admin handler shares (the request's query, JHE's paginated
//! envelope, the practitioner check, id parsing, "remember the current study"); the handlers are
//! grouped by resource: `orgs` (profile, organizations), `studies`, `patients` (incl. consents),
//! `sources` (data sources, clients, API keys) and `observations`.

mod observations;
mod orgs;
mod patients;
mod sources;
mod studies;

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
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

struct Req {
    base: String,
    path: String,
    /// Pairs as sent (for links).
    raw_pairs: Vec<(String, String)>,
    /// Pairs with snake_case names (for reading).
    pairs: Vec<(String, String)>,
}

impl Req {
    fn new(headers: &HeaderMap, uri: &Uri, raw: Option<String>) -> Req {
        let raw_pairs = query_pairs(raw.as_deref());
        let pairs = raw_pairs
            .iter()
            .map(|(k, v)| (snake(k), v.clone()))
            .collect();
        Req {
            base: base_url(headers),
            path: uri.path().to_string(),
            raw_pairs,
            pairs,
        }
    }
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
}

fn practitioner(state: &AppState, headers: &HeaderMap) -> Result<Caller, Response> {
    let c = caller(state, headers, Api::Admin)?;
    if !c.is_practitioner() {
        return Err(detail(
            StatusCode::NOT_FOUND,
            "No Practitioner matches the given query.",
        ));
    }
    Ok(c)
}

/// `{id}` and the optional `{sub}` of a detail route (one handler serves both routes).
fn id_and_sub(p: &HashMap<String, String>) -> (String, String) {
    let get = |k: &str| p.get(k).cloned().unwrap_or_default();
    (get("id"), get("sub"))
}

fn parse_id(path: &str, raw: &str) -> Result<u32, Response> {
    raw.parse::<u32>().map_err(|_| value_error_500(path, raw))
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
    v.get(snake_name).or_else(|| {
        let camel: String = snake_name
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
            .collect();
        v.get(camel)
    })
}
