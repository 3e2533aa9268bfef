//! Searches: JHE's parameters (patient, organization, study, identifier, code, date,
//! `_lastUpdated`, `_sort`, `_summary=count`) and its searchset bundles with `_page` links.

use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use super::resources::*;

use crate::caller::{caller, Api, Caller};
use crate::http::{base_url, json_response, outcome};
use crate::store::Query;

use super::{unsupported, AUX};
use crate::http::{first, iri_to_uri, page_params, py_urlencode, query_pairs, Page};
use crate::store::SortKey;
use crate::time::{parse_prefixed, DateError};
use crate::world::World;
use crate::AppState;

struct Search {
    base: String,
    path: String,
    raw_query: Option<String>,
    pairs: Vec<(String, String)>,
}

impl Search {
    fn get(&self, k: &str) -> Option<&str> {
        first(&self.pairs, k)
    }
    fn all(&self, k: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == k)
            .map(|(_, v)| v.as_str())
            .collect()
    }
    fn self_url(&self) -> String {
        match self.raw_query.as_deref().filter(|q| !q.is_empty()) {
            Some(q) => format!("{}{}?{}", self.base, self.path, iri_to_uri(q)),
            None => format!("{}{}", self.base, self.path),
        }
    }
    fn page(&self, total: usize) -> Result<Page, Response> {
        page_params(self.get("_page"), self.get("_count"), 20, 1000, total)
            .map_err(|_| outcome(StatusCode::NOT_FOUND, "Invalid page."))
    }
    fn link(&self, page: usize) -> String {
        let mut p: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "_page")
            .cloned()
            .collect();
        if page > 1 {
            p.push(("_page".into(), page.to_string()));
        }
        let q = py_urlencode(&p);
        if q.is_empty() {
            format!("{}{}", self.base, self.path)
        } else {
            format!("{}{}?{}", self.base, self.path, q)
        }
    }
    /// A searchset over `total` results; `entries` renders the page's slice.
    fn bundle(
        &self,
        total: usize,
        entries: impl FnOnce(std::ops::Range<usize>) -> Vec<Value>,
    ) -> Response {
        let summary_count = self.get("_summary") == Some("count");
        let page = or_reply!(self.page(total));
        let mut links = vec![json!({"relation": "self", "url": self.self_url()})];
        let mut entry = Vec::new();
        if !summary_count {
            if page.page > 1 {
                links.push(json!({"relation": "previous", "url": self.link(page.page - 1)}));
            }
            if page.has_next(total) {
                links.push(json!({"relation": "next", "url": self.link(page.page + 1)}));
            }
            entry = entries(page.range(total))
                .into_iter()
                .map(|r| json!({"resource": r}))
                .collect();
        }
        json_response(
            StatusCode::OK,
            &json!({"resourceType": "Bundle", "type": "searchset", "total": total, "entry": entry, "link": links, "meta": {}}),
        )
    }
    /// A searchset over all of `items`, the page's ones rendered by `render`.
    fn bundle_of<T>(&self, items: &[T], render: impl FnMut(&T) -> Value) -> Response {
        self.bundle(items.len(), |r| items[r].iter().map(render).collect())
    }
}

fn not_authorized(what: &str) -> Response {
    outcome(
        StatusCode::FORBIDDEN,
        &format!("Current user is not authorized to access {what}."),
    )
}

/// A reference parameter's id; not a number is JHE's 422.
fn id_param(v: &str) -> Result<u32, Response> {
    v.parse().map_err(|_| {
        outcome(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("Field 'id' expected a number but got '{v}'."),
        )
    })
}

/// The patients a search may return rows for, after JHE's `patient`, `patient.organization`,
/// study and identifier filters (403 where JHE answers 403).
fn scoped_patients(
    world: &World,
    c: &Caller,
    s: &Search,
) -> Result<(Vec<u32>, Option<Vec<u32>>), Response> {
    if !c.is_practitioner() {
        // Patients see only their own data; JHE ignores the filters silently.
        return Ok((c.patient_id.into_iter().collect(), None));
    }
    let member = world.member_orgs(c.user_id);
    let mut patients: Vec<u32> = world
        .patients
        .iter()
        .filter(|p| p.orgs.iter().any(|o| member.contains(o)))
        .map(|p| p.id)
        .collect();
    let mut scopes = None;
    if let Some(v) = s.get("patient") {
        let id = id_param(v)?;
        if !patients.contains(&id) {
            return Err(not_authorized(&format!("Patient/{id}")));
        }
        patients.retain(|p| *p == id);
    }
    if let Some(v) = s.get("patient.organization") {
        let id = id_param(v)?;
        if !member.contains(&id) {
            return Err(not_authorized(&format!("Organization/{id}")));
        }
        patients.retain(|p| world.patient(*p).is_some_and(|p| p.orgs.contains(&id)));
    }
    if let Some(v) = s.get("patient._has:Group:member:_id") {
        let id = id_param(v)?;
        match world.study(id) {
            Some(st) if member.contains(&st.org) => {
                patients.retain(|p| st.patients.iter().any(|(_, sp)| sp == p));
                scopes = Some(world.study_scope_ids(st));
            }
            _ => return Err(not_authorized(&format!("Group/{id}"))),
        }
    }
    for key in ["identifier", "patient.identifier"] {
        if let Some(v) = s.get(key) {
            // Without a `|` JHE drops the filter; with one, only the value part is used.
            if let Some((_, value)) = v.split_once('|') {
                patients.retain(|p| {
                    world
                        .patient(*p)
                        .is_some_and(|p| p.identifiers.iter().any(|i| i.value == value))
                });
            }
        }
    }
    Ok((patients, scopes))
}

fn date_filters(
    s: &Search,
    name: &str,
) -> Result<Vec<(crate::time::Cmp, crate::time::Bound)>, Response> {
    let mut out = Vec::new();
    for raw in s.all(name) {
        match parse_prefixed(raw) {
            Ok(f) => out.push(f),
            Err(DateError::Syntax) => {
                let label = if name == "date" {
                    "date"
                } else {
                    "_lastUpdated"
                };
                return Err(outcome(
                    StatusCode::BAD_REQUEST,
                    &format!(
                        "[ErrorDetail(string=\"Invalid {label} value: '{raw}'.\", code='invalid')]"
                    ),
                ));
            }
            Err(DateError::Impossible(msg)) => {
                return Err(outcome(StatusCode::UNPROCESSABLE_ENTITY, &msg));
            }
        }
    }
    Ok(out)
}

fn sort_keys(s: &Search) -> Vec<SortKey> {
    s.get("_sort")
        .map(|v| {
            v.split(',')
                .filter_map(|k| match k.trim() {
                    "date" => Some(SortKey::Date),
                    "-date" => Some(SortKey::DateDesc),
                    "_lastUpdated" => Some(SortKey::LastUpdated),
                    "-_lastUpdated" => Some(SortKey::LastUpdatedDesc),
                    _ => None,
                })
                .collect()
        })
        .unwrap_or_default()
}

fn observation_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let (patients, study_scopes) = or_reply!(scoped_patients(&world, c, s));
    let date = or_reply!(date_filters(s, "date"));
    let last_updated = or_reply!(date_filters(s, "_lastUpdated"));
    let mut q = Query {
        patients,
        scopes: study_scopes,
        date,
        last_updated,
        sort: sort_keys(s),
        ..Default::default()
    };
    if let Some(code) = s.get("code") {
        // The system is required and comma lists are not supported: both match nothing.
        let found = code
            .split_once('|')
            .and_then(|(sys, c)| world.scope_by_code(sys, c))
            .map(|sc| sc.id);
        match found {
            Some(id) => {
                q.scopes = Some(match q.scopes {
                    Some(list) if !list.contains(&id) => vec![],
                    _ => vec![id],
                })
            }
            None => q.empty = true,
        }
    }
    if let Some(status) = s.get("status") {
        if status != "final" {
            q.empty = true;
        }
    }
    if let Some(id) = s.get("_id") {
        match id.parse() {
            Ok(i) => q.id = Some(i),
            Err(_) => q.empty = true,
        }
    }
    let store = st.store.read();
    if s.get("_summary") == Some("count") {
        let total = store.count(&q);
        return s.bundle(total, |_| Vec::new());
    }
    let hits = store.search(&q);
    s.bundle_of(&hits, |i| observation_resource(&world, store.row(*i)))
}

fn patient_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let (ids, _) = or_reply!(scoped_patients(&world, c, s));
    let starts = |field: &str, q: Option<&str>| {
        q.is_none_or(|q| field.to_lowercase().starts_with(&q.to_lowercase()))
    };
    let mut list: Vec<&crate::world::Patient> = ids
        .iter()
        .filter_map(|i| world.patient(*i))
        .filter(|p| starts(&p.name_family, s.get("family")))
        .filter(|p| starts(&p.name_given, s.get("given")))
        .filter(|p| {
            s.get("name")
                .is_none_or(|n| starts(&p.name_family, Some(n)) || starts(&p.name_given, Some(n)))
        })
        .filter(|p| s.get("birthdate").is_none_or(|b| p.birth_date == b))
        .filter(|p| s.get("_id").is_none_or(|i| p.id.to_string() == i))
        .collect();
    list.sort_by(|a, b| {
        a.name_family
            .cmp(&b.name_family)
            .then(a.name_given.cmp(&b.name_given))
            .then(a.id.cmp(&b.id))
    });
    s.bundle_of(&list, |p| patient_resource(p))
}

fn group_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let member = if c.is_practitioner() {
        world.member_orgs(c.user_id)
    } else {
        Vec::new()
    };
    let own_patient = c.patient_id;
    let mut list: Vec<&crate::world::Study> = world
        .studies
        .iter()
        .filter(|st| {
            member.contains(&st.org)
                || own_patient.is_some_and(|p| st.patients.iter().any(|(_, sp)| *sp == p))
        })
        .filter(|st| {
            s.get("patient")
                .is_none_or(|p| st.patients.iter().any(|(_, sp)| sp.to_string() == p))
        })
        .filter(|st| s.get("_id").is_none_or(|i| st.id.to_string() == i))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    s.bundle_of(&list, |g| group_resource(g))
}

fn organization_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let member = world.member_orgs(c.user_id);
    let mut list: Vec<&crate::world::Org> = world
        .orgs
        .iter()
        .filter(|o| member.contains(&o.id))
        .filter(|o| {
            s.get("name")
                .is_none_or(|n| o.name.to_lowercase().starts_with(&n.to_lowercase()))
        })
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    s.bundle_of(&list, |o| org_resource(o))
}

fn device_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let mut list: Vec<&crate::world::DataSource> = match s.get("patient._has:Group:member:_id") {
        Some(v) => {
            let member = world.member_orgs(c.user_id);
            match v.parse::<u32>().ok().and_then(|id| world.study(id)) {
                Some(study) if member.contains(&study.org) => study
                    .data_sources
                    .iter()
                    .filter_map(|(_, d)| world.data_source(*d))
                    .collect(),
                _ => return not_authorized(&format!("Group/{v}")),
            }
        }
        None => world.data_sources.iter().collect(),
    };
    list.sort_by(|a, b| a.name.cmp(b.name));
    s.bundle_of(&list, |d| device_resource(d))
}

fn practitioner_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let member = world.member_orgs(c.user_id);
    let mut list: Vec<&crate::world::User> = world
        .practitioner_users()
        .filter(|u| world.member_orgs(u.id).iter().any(|o| member.contains(o)))
        .filter(|u| {
            s.get("name").is_none_or(|n| {
                let n = n.to_lowercase();
                u.last_name.to_lowercase().starts_with(&n)
                    || u.first_name.to_lowercase().starts_with(&n)
            })
        })
        .collect();
    list.sort_by(|a, b| a.last_name.cmp(&b.last_name).then(a.id.cmp(&b.id)));
    s.bundle_of(&list, |u| practitioner_resource(u))
}

fn qr_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let (patients, _) = or_reply!(scoped_patients(&world, c, s));
    let mut list: Vec<&crate::world::AuxRecord> = world
        .aux
        .iter()
        .filter(|a| patients.contains(&a.patient))
        .collect();
    list.sort_by(|a, b| b.authored.cmp(a.authored));
    s.bundle_of(&list, |a| qr_resource(&world, a))
}

pub(super) fn search(
    st: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    raw: Option<String>,
    rtype: &str,
) -> Response {
    let c = or_reply!(caller(st, headers, Api::Fhir));
    let s = Search {
        base: base_url(headers),
        path: uri.path().to_string(),
        pairs: query_pairs(raw.as_deref()),
        raw_query: raw,
    };
    match rtype {
        "Observation" => observation_search(st, &c, &s),
        "Patient" => patient_search(st, &c, &s),
        "Group" => group_search(st, &c, &s),
        "Organization" => organization_search(st, &c, &s),
        "Device" => device_search(st, &c, &s),
        "Practitioner" => practitioner_search(st, &c, &s),
        "QuestionnaireResponse" => qr_search(st, &c, &s),
        t if AUX.contains(&t) => s.bundle(0, |_| Vec::new()),
        t => unsupported(t),
    }
}
