//! The Admin REST API (`/api/v1/…`), with JHE's authorization rules, pagination and quirks.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use crate::http::{
    base_url, caller, detail, first, json_response, not_found_page, page_links, page_params,
    query_pairs, snake, value_error_500, Api, Caller,
};
use crate::render;
use crate::store::Query;
use crate::world::{Role, UserType, World};
use crate::AppState;

type S = State<Arc<AppState>>;

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

fn parse_id(path: &str, raw: &str) -> Result<u32, Response> {
    raw.parse::<u32>().map_err(|_| value_error_500(path, raw))
}

pub async fn profile(State(st): S, headers: HeaderMap) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = st.world.read();
    let Some(u) = world.user(c.user_id) else {
        return detail(StatusCode::NOT_FOUND, "No JheUser matches the given query.");
    };
    let body = match u.user_type {
        UserType::Practitioner => {
            let mut settings = serde_json::Map::new();
            if let Some(s) = u.current_study {
                settings.insert("currentStudyId".into(), json!(s));
            }
            if let Some(o) = u.current_org {
                settings.insert("currentOrganizationId".into(), json!(o));
            }
            json!({
                "id": u.id, "email": u.email, "firstName": u.first_name, "lastName": u.last_name,
                "patient": null, "userType": "practitioner", "isSuperuser": u.is_superuser,
                "settings": settings
            })
        }
        UserType::Patient => {
            let p = u.patient_id.and_then(|p| world.patient(p)).map(|p| {
                let full = render::patient(&world, p);
                json!({"id": full["id"], "jheUserId": full["jheUserId"], "identifiers": full["identifiers"], "organizations": full["organizations"]})
            });
            json!({"id": u.id, "patient": p, "userType": "patient", "isSuperuser": false})
        }
    };
    json_response(StatusCode::OK, &body)
}

pub async fn user_orgs(State(st): S, headers: HeaderMap) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = st.world.read();
    let mut ids = world.member_orgs(c.user_id);
    ids.sort_unstable();
    let list: Vec<Value> = ids
        .iter()
        .filter_map(|id| world.org(*id))
        .map(|o| render::org(&world, o, None))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

pub async fn orgs(State(st): S, headers: HeaderMap, uri: Uri, RawQuery(q): RawQuery) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    let part_of = match req.int("part_of") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let world = st.world.read();
    let mut list: Vec<&crate::world::Org> = world
        .orgs
        .iter()
        .filter(|o| part_of.is_none_or(|p| o.part_of == Some(p)))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    req.paginate(list.len(), 1000, |r| {
        list[r]
            .iter()
            .map(|o| render::org(&world, o, Some(c.user_id)))
            .collect()
    })
}

pub async fn org_types(State(st): S, headers: HeaderMap) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let types = [
        ("root", "ROOT"),
        ("prov", "Healthcare Provider"),
        ("dept", "Hospital Department"),
        ("team", "Organizational team"),
        ("govt", "Government"),
        ("ins", "Insurance Company"),
        ("pay", "Payer"),
        ("edu", "Educational Institute"),
        ("reli", "Religious Institution"),
        ("crs", "Clinical Research Sponsor"),
        ("cg", "Community Group"),
        ("bus", "Non-Healthcare Business or Corporation"),
        ("other", "Other"),
        ("laboratory", "Laboratory"),
        ("imaging", "Imaging Center"),
        ("pharmacy", "Pharmacy"),
        ("health-information-network", "Health Information Network"),
        ("health-data-aggregator", "Health Data Aggregator"),
    ];
    let mut m = serde_json::Map::new();
    for (k, v) in types {
        m.insert(k.into(), json!(v));
    }
    json_response(StatusCode::OK, &Value::Object(m))
}

pub async fn org_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    Path((id, sub)): Path<(String, String)>,
) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let world = st.world.read();
    let Some(o) = world.org(id) else {
        return detail(
            StatusCode::NOT_FOUND,
            "No Organization matches the given query.",
        );
    };
    let body = match sub.as_str() {
        "" => render::org(&world, o, Some(c.user_id)),
        "tree" => render::org_tree(&world, o, Some(c.user_id)),
        "studies" => Value::Array(
            world
                .studies
                .iter()
                .filter(|s| s.org == id)
                .map(render::study_flat)
                .collect(),
        ),
        "users" => {
            let mut users: Vec<Value> = world
                .memberships
                .iter()
                .filter(|m| m.1 == id)
                .filter_map(|m| world.user(m.0).map(|u| (u, m.2)))
                .map(|(u, role)| json!({"id": u.id, "email": u.email, "firstName": u.first_name, "lastName": u.last_name, "role": role.as_str()}))
                .collect();
            users.sort_by_key(|u| u["lastName"].as_str().unwrap_or("").to_string());
            Value::Array(users)
        }
        _ => return not_found_page(uri.path()),
    };
    json_response(StatusCode::OK, &body)
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

pub async fn studies(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let c = match practitioner(&st, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    let org = match req.int("organization_id") {
        Ok(o) => o,
        Err(r) => return r,
    };
    remember(&st, c.user_id, org, None, false);
    let world = st.world.read();
    let member = world.member_orgs(c.user_id);
    let mut list: Vec<&crate::world::Study> = world
        .studies
        .iter()
        .filter(|s| member.contains(&s.org) && org.is_none_or(|o| s.org == o))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    req.paginate(list.len(), 1000, |r| {
        list[r].iter().map(|s| render::study(&world, s)).collect()
    })
}

pub async fn study_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    method: Method,
    RawQuery(q): RawQuery,
    Path((id, sub)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    if method == Method::POST && sub == "scope_requests" {
        return add_scope_request(&st, &c, id, &body);
    }
    let world = st.world.read();
    let study = world.study(id);
    let forbidden = || {
        detail(
            StatusCode::FORBIDDEN,
            "Current User does not have authorization to access this Study.",
        )
    };
    match sub.as_str() {
        "" => match study {
            Some(s) if world.can_see_study(c.user_id, s) => {
                json_response(StatusCode::OK, &render::study(&world, s))
            }
            _ => forbidden(),
        },
        "patients" => {
            let ids: Vec<u32> = match study {
                Some(s) if world.can_see_study(c.user_id, s) => {
                    let mut v: Vec<u32> = s.patients.iter().map(|(_, p)| *p).collect();
                    v.sort_unstable();
                    v
                }
                _ => Vec::new(),
            };
            req.paginate(ids.len(), 1000, |r| {
                ids[r]
                    .iter()
                    .filter_map(|p| world.patient(*p))
                    .map(|p| render::patient(&world, p))
                    .collect()
            })
        }
        // No membership check on these three, as in JHE: any study id is readable.
        "scope_requests" => study_links(study, |s| {
            s.scope_requests
                .iter()
                .filter_map(|(rid, sc)| world.scope(*sc).map(|sc| json!({"id": rid, "study": render::study_nested(s), "scopeCode": render::scope(sc)})))
                .collect()
        }),
        "data_sources" => study_links(study, |s| {
            s.data_sources
                .iter()
                .filter_map(|(lid, d)| world.data_source(*d).map(|d| json!({"id": lid, "study": render::study_nested(s), "dataSource": render::data_source_brief(d)})))
                .collect()
        }),
        "clients" => study_links(study, |s| {
            s.clients
                .iter()
                .filter_map(|(lid, a)| world.app(*a).map(|a| json!({"id": lid, "study": render::study_nested(s), "client": render::app_row(a, &req.base)})))
                .collect()
        }),
        _ => not_found_page(uri.path()),
    }
}

/// A study's plain-array sub-list (empty for an unknown study).
fn study_links(
    study: Option<&crate::world::Study>,
    items: impl FnOnce(&crate::world::Study) -> Vec<Value>,
) -> Response {
    json_response(
        StatusCode::OK,
        &Value::Array(study.map(items).unwrap_or_default()),
    )
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

fn add_scope_request(st: &AppState, c: &Caller, study_id: u32, body: &[u8]) -> Response {
    let v = body_json(body);
    let Some(scope_id) = field(&v, "scope_code_id").and_then(Value::as_u64) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"scopeCodeId": ["This field is required."]}),
        );
    };
    let mut world = st.world.write();
    let Some(org) = world.study(study_id).map(|s| s.org) else {
        return detail(
            StatusCode::FORBIDDEN,
            "Current User does not have authorization to access this Study.",
        );
    };
    if !c.is_practitioner() || !can_manage(&world, c.user_id, org) {
        return detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        );
    }
    let scope_id = scope_id as u32;
    let Some(scope) = world.scope(scope_id).cloned() else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"scopeCodeId": [format!("Invalid pk \"{scope_id}\" - object does not exist.")]}),
        );
    };
    let rid = world.next_ids.scope_request;
    world.next_ids.scope_request += 1;
    let Some(s) = world.studies.iter_mut().find(|s| s.id == study_id) else {
        return detail(StatusCode::NOT_FOUND, "No Study matches the given query.");
    };
    s.scope_requests.push((rid, scope_id));
    let nested = render::study_nested(s);
    json_response(
        StatusCode::CREATED,
        &json!({"id": rid, "study": nested, "scopeCode": render::scope(&scope)}),
    )
}

pub async fn patients(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let c = match practitioner(&st, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    let (org, study, pid) = match (
        req.int("organization_id"),
        req.int("study_id"),
        req.int("patient_id"),
    ) {
        (Ok(a), Ok(b), Ok(c)) => (a, b, c),
        (Err(r), _, _) | (_, Err(r), _) | (_, _, Err(r)) => return r,
    };
    let ident = req.get("patient_identifier_value").map(str::to_string);
    remember(&st, c.user_id, org, study, true);
    let world = st.world.read();
    let member = world.member_orgs(c.user_id);
    let study_patients: Option<Vec<u32>> = study.map(|sid| {
        world
            .study(sid)
            .map(|s| s.patients.iter().map(|(_, p)| *p).collect())
            .unwrap_or_default()
    });
    let list: Vec<&crate::world::Patient> = world
        .patients
        .iter()
        .filter(|p| p.orgs.iter().any(|o| member.contains(o)))
        .filter(|p| org.is_none_or(|o| p.orgs.contains(&o)))
        .filter(|p| study_patients.as_ref().is_none_or(|sp| sp.contains(&p.id)))
        .filter(|p| pid.is_none_or(|i| p.id == i))
        .filter(|p| {
            ident
                .as_ref()
                .is_none_or(|v| p.identifiers.iter().any(|i| &i.value == v))
        })
        .collect();
    req.paginate(list.len(), 1000, |r| {
        list[r].iter().map(|p| render::patient(&world, p)).collect()
    })
}

pub async fn patient_me(State(st): S, headers: HeaderMap) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let world = st.world.read();
    match c.patient_id.and_then(|p| world.patient(p)) {
        Some(p) => json_response(StatusCode::OK, &render::patient(&world, p)),
        None => detail(StatusCode::NOT_FOUND, "No Patient matches the given query."),
    }
}

pub async fn global_lookup(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let req = Req::new(&headers, &uri, q);
    let Some(email) = req.get("email") else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"email": ["This field is required."]}),
        );
    };
    let world = st.world.read();
    let list: Vec<Value> = world
        .patients
        .iter()
        .filter(|p| p.email == email)
        .map(|p| render::patient(&world, p))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

pub async fn patient_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    method: Method,
    RawQuery(q): RawQuery,
    Path((id, sub)): Path<(String, String)>,
    body: axum::body::Bytes,
) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    if !{
        let w = st.world.read();
        w.patient(id).is_some()
    } {
        return detail(StatusCode::NOT_FOUND, "No Patient matches the given query.");
    }
    match sub.as_str() {
        "" => {
            let world = st.world.read();
            let Some(p) = world.patient(id) else {
                return detail(StatusCode::NOT_FOUND, "No Patient matches the given query.");
            };
            if !c.is_practitioner() && c.patient_id != Some(id) {
                return detail(
                    StatusCode::FORBIDDEN,
                    "You do not have permission to perform this action.",
                );
            }
            json_response(StatusCode::OK, &render::patient(&world, p))
        }
        "consents" => {
            {
                let world = st.world.read();
                let Some(p) = world.patient(id) else {
                    return detail(StatusCode::NOT_FOUND, "No Patient matches the given query.");
                };
                let allowed = if c.is_practitioner() {
                    world.can_see_patient(c.user_id, p)
                } else {
                    c.patient_id == Some(id)
                };
                if !allowed {
                    return detail(
                        StatusCode::FORBIDDEN,
                        "This Practitioner not authorized to access this Patient",
                    );
                }
            }
            if req
                .get("reset")
                .is_some_and(|v| v.eq_ignore_ascii_case("true"))
            {
                // In JHE this deletes every consent of the patient. A client must never send
                // it, so the sandbox refuses loudly instead of imitating the data loss.
                return detail(
                    StatusCode::BAD_REQUEST,
                    "reset=true deletes all of this patient's consents on a real JHE server; the sandbox refuses it because a client must never send it.",
                );
            }
            match method {
                Method::GET => consents_view(&st, id),
                Method::POST | Method::PATCH => {
                    write_consents(&st, &c, id, &body, method == Method::PATCH)
                }
                _ => detail(
                    StatusCode::METHOD_NOT_ALLOWED,
                    &format!("Method \"{method}\" not allowed."),
                ),
            }
        }
        _ => not_found_page(uri.path()),
    }
}

fn consents_view(st: &AppState, patient_id: u32) -> Response {
    let world = st.world.read();
    let Some(p) = world.patient(patient_id) else {
        return detail(StatusCode::NOT_FOUND, "No Patient matches the given query.");
    };
    let mut consolidated: Vec<u32> = world
        .consents
        .iter()
        .filter(|c| c.patient == patient_id && c.consented)
        .map(|c| c.scope)
        .collect();
    consolidated.sort_unstable();
    consolidated.dedup();
    let mut pending = Vec::new();
    let mut studies = Vec::new();
    for s in world.patient_studies(patient_id) {
        let org = world.org(s.org).map(render::org_brief);
        let ds: Vec<Value> = s
            .data_sources
            .iter()
            .filter_map(|(_, d)| world.data_source(*d))
            .map(|d| render::data_source(&world, d, true))
            .collect();
        let mut consented = Vec::new();
        let mut missing = Vec::new();
        for (_, scope_id) in &s.scope_requests {
            let Some(scope) = world.scope(*scope_id) else {
                continue;
            };
            match world
                .consents
                .iter()
                .find(|c| c.patient == patient_id && c.study == s.id && c.scope == *scope_id)
            {
                Some(c) => consented.push(json!({"code": render::scope(scope), "consented": c.consented, "consentedTime": c.time})),
                None => missing.push(json!({"code": render::scope(scope), "consented": null, "consentedTime": null})),
            }
        }
        let head = json!({"id": s.id, "name": s.name, "description": s.description, "organization": org, "dataSources": ds});
        if !missing.is_empty() {
            let mut v = head.clone();
            v["pendingScopeConsents"] = Value::Array(missing);
            pending.push(v);
        }
        if !consented.is_empty() {
            let mut v = head;
            v["scopeConsents"] = Value::Array(consented);
            studies.push(v);
        }
    }
    let body = json!({
        "patient": render::patient(&world, p),
        "consolidatedConsentedScopes": consolidated.iter().filter_map(|s| world.scope(*s)).map(render::scope).collect::<Vec<_>>(),
        "studiesPendingConsent": pending,
        "studies": studies,
    });
    json_response(StatusCode::OK, &body)
}

fn write_consents(
    st: &AppState,
    c: &Caller,
    patient_id: u32,
    body: &[u8],
    patch: bool,
) -> Response {
    let v = body_json(body);
    let Some(items) = field(&v, "study_scope_consents").and_then(Value::as_array) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"studyScopeConsents": ["This field is required."]}),
        );
    };
    let mut world = st.world.write();
    if c.is_practitioner() {
        let orgs = world
            .patient(patient_id)
            .map(|p| p.orgs.clone())
            .unwrap_or_default();
        if !orgs.iter().any(|o| can_manage(&world, c.user_id, *o)) {
            return detail(
                StatusCode::FORBIDDEN,
                "You do not have permission to perform this action.",
            );
        }
    }
    let now = crate::time::iso_z(crate::time::now_us());
    let mut out = Vec::new();
    for item in items {
        let Some(study_id) = field(item, "study_id")
            .and_then(Value::as_u64)
            .map(|x| x as u32)
        else {
            continue;
        };
        let Some((sp_id, _)) = world
            .study(study_id)
            .and_then(|s| s.patients.iter().find(|(_, p)| *p == patient_id).copied())
        else {
            return detail(
                StatusCode::BAD_REQUEST,
                &format!("Patient {patient_id} is not enrolled in Study {study_id}."),
            );
        };
        let scopes = field(item, "scope_consents")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for sc in scopes {
            let system = field(&sc, "coding_system")
                .and_then(Value::as_str)
                .unwrap_or("");
            let code = field(&sc, "coding_code")
                .and_then(Value::as_str)
                .unwrap_or("");
            let consented = field(&sc, "consented")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let Some(scope) = world.scope_by_code(system, code).cloned() else {
                return detail(
                    StatusCode::BAD_REQUEST,
                    &format!("Code not found: system={system} code={code}"),
                );
            };
            let existing = world.consents.iter().position(|x| {
                x.patient == patient_id && x.study == study_id && x.scope == scope.id
            });
            let cid = match (existing, patch) {
                (Some(i), true) => {
                    world.consents[i].consented = consented;
                    world.consents[i].time = now.clone();
                    world.consents[i].id
                }
                (Some(_), false) => {
                    return crate::http::django_html(
                        StatusCode::INTERNAL_SERVER_ERROR,
                        "IntegrityError at /api/v1/patients/consents",
                        Some("duplicate key value violates unique constraint \"core_studypatientscopeconsent_study_patient_id_scope_code_id_uniq\""),
                    );
                }
                (None, _) => {
                    let id = world.next_ids.consent;
                    world.next_ids.consent += 1;
                    world.consents.push(crate::world::Consent {
                        id,
                        study: study_id,
                        patient: patient_id,
                        scope: scope.id,
                        consented,
                        time: now.clone(),
                    });
                    id
                }
            };
            out.push(json!({
                "id": cid, "studyPatient": {"id": sp_id, "study": study_id, "patient": patient_id},
                "scopeCode": render::scope(&scope), "consented": consented, "consentedTime": now
            }));
        }
    }
    json_response(
        if patch {
            StatusCode::OK
        } else {
            StatusCode::CREATED
        },
        &json!({"studyScopeConsents": out}),
    )
}

pub async fn data_sources(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let req = Req::new(&headers, &uri, q);
    let world = st.world.read();
    let mut list: Vec<&crate::world::DataSource> = world.data_sources.iter().collect();
    list.sort_by(|a, b| a.name.cmp(b.name));
    req.paginate(list.len(), 1000, |r| {
        list[r]
            .iter()
            .map(|d| render::data_source(&world, d, true))
            .collect()
    })
}

pub async fn all_scopes(State(st): S, headers: HeaderMap) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let world = st.world.read();
    let mut list: Vec<&crate::world::Scope> = world.scopes.iter().collect();
    list.sort_by(|a, b| a.text.cmp(b.text));
    json_response(
        StatusCode::OK,
        &Value::Array(list.into_iter().map(render::scope).collect()),
    )
}

pub async fn data_source_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    Path((id, sub)): Path<(String, String)>,
) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let world = st.world.read();
    let Some(d) = world.data_source(id) else {
        return detail(
            StatusCode::NOT_FOUND,
            "No DataSource matches the given query.",
        );
    };
    match sub.as_str() {
        // JHE's detail serializer leaves supportedScopes empty; the sub-endpoint lists them.
        "" => json_response(StatusCode::OK, &render::data_source(&world, d, false)),
        "supported_scopes" => {
            let list: Vec<Value> = d
                .scopes
                .iter()
                .filter_map(|(lid, s)| world.scope(*s).map(|s| (lid, s)))
                .map(|(lid, s)| json!({"id": lid, "dataSource": render::data_source_brief(d), "scopeCode": render::scope(s)}))
                .collect();
            json_response(StatusCode::OK, &Value::Array(list))
        }
        _ => not_found_page(uri.path()),
    }
}

pub async fn clients(State(st): S, headers: HeaderMap) -> Response {
    if let Err(r) = caller(&st, &headers, Api::Admin) {
        return r;
    }
    let world = st.world.read();
    let mut list: Vec<Value> = world
        .apps
        .iter()
        .filter(|a| a.invitation_url.is_some())
        .map(|a| json!({"id": a.pk, "name": a.name, "clientId": a.client_id, "invitationUrl": a.invitation_url}))
        .collect();
    list.reverse();
    let n = list.len();
    json_response(
        StatusCode::OK,
        &json!({"count": n, "next": null, "previous": null, "results": list}),
    )
}

pub async fn practitioner_clients(
    State(st): S,
    headers: HeaderMap,
    method: Method,
    body: axum::body::Bytes,
) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if !c.is_practitioner() {
        return detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        );
    }
    if method == Method::POST {
        let v = body_json(&body);
        let label = field(&v, "label")
            .and_then(Value::as_str)
            .unwrap_or("API key")
            .to_string();
        let mut world = st.world.write();
        let Some(pk) = crate::auth::new_practitioner_client(&mut world, c.user_id, &label) else {
            return detail(
                StatusCode::FORBIDDEN,
                "Only practitioners may create API keys.",
            );
        };
        let Some(app) = world.app(pk) else {
            return detail(StatusCode::NOT_FOUND, "Not found.");
        };
        return json_response(StatusCode::CREATED, &render::practitioner_client(app));
    }
    let world = st.world.read();
    let list: Vec<Value> = world
        .apps
        .iter()
        .filter(|a| a.practitioner_client_id.is_some() && a.user_id == Some(c.user_id))
        .map(render::practitioner_client)
        .collect();
    let n = list.len();
    json_response(
        StatusCode::OK,
        &json!({"count": n, "next": null, "previous": null, "results": list}),
    )
}

pub async fn practitioner_client_detail(
    State(st): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let c = match caller(&st, &headers, Api::Admin) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let mut world = st.world.write();
    let Some(pos) = world
        .apps
        .iter()
        .position(|a| a.practitioner_client_id == Some(id) && a.user_id == Some(c.user_id))
    else {
        return detail(
            StatusCode::NOT_FOUND,
            "No PractitionerClient matches the given query.",
        );
    };
    if method == Method::DELETE {
        world.apps.remove(pos);
        return (StatusCode::NO_CONTENT, "").into_response_ext();
    }
    json_response(
        StatusCode::OK,
        &render::practitioner_client(&world.apps[pos]),
    )
}

trait IntoResp {
    fn into_response_ext(self) -> Response;
}
impl IntoResp for (StatusCode, &'static str) {
    fn into_response_ext(self) -> Response {
        axum::response::IntoResponse::into_response(self)
    }
}

/// Observations the caller may see, narrowed by the Admin API's four filters.
pub fn admin_observation_query(
    world: &World,
    user: u32,
    org: Option<u32>,
    study: Option<u32>,
    patient: Option<u32>,
    obs_id: Option<u32>,
) -> Query {
    let member = world.member_orgs(user);
    let mut patients: Vec<u32> = world
        .patients
        .iter()
        .filter(|p| p.orgs.iter().any(|o| member.contains(o)))
        .filter(|p| org.is_none_or(|o| p.orgs.contains(&o) && member.contains(&o)))
        .filter(|p| patient.is_none_or(|i| p.id == i))
        .map(|p| p.id)
        .collect();
    let mut scopes = None;
    if let Some(sid) = study {
        match world.study(sid) {
            Some(s) if member.contains(&s.org) => {
                patients.retain(|p| s.patients.iter().any(|(_, sp)| sp == p));
                scopes = Some(world.study_scope_ids(s));
            }
            _ => patients.clear(),
        }
    }
    Query {
        patients,
        scopes,
        id: obs_id,
        ..Default::default()
    }
}

pub async fn observations(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let c = match practitioner(&st, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let req = Req::new(&headers, &uri, q);
    let ids = (
        req.int("organization_id"),
        req.int("study_id"),
        req.int("patient_id"),
        req.int("observation_id"),
    );
    let (org, study, patient, oid) = match ids {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(r), ..) | (_, Err(r), ..) | (_, _, Err(r), _) | (.., Err(r)) => return r,
    };
    remember(&st, c.user_id, org, study, true);
    let world = st.world.read();
    let query = admin_observation_query(&world, c.user_id, org, study, patient, oid);
    let store = st.store.read();
    let hits = store.search(&query);
    req.paginate(hits.len(), 1000, |r| {
        hits[r]
            .iter()
            .map(|i| render::observation(&world, store.row(*i)))
            .collect()
    })
}

pub async fn observation_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let c = match practitioner(&st, &headers) {
        Ok(c) => c,
        Err(r) => return r,
    };
    let id = match parse_id(uri.path(), &id) {
        Ok(i) => i,
        Err(r) => return r,
    };
    let world = st.world.read();
    let store = st.store.read();
    match store.get(id) {
        Some(o)
            if world
                .patient(o.patient_id)
                .is_some_and(|p| world.can_see_patient(c.user_id, p)) =>
        {
            json_response(StatusCode::OK, &render::observation(&world, o))
        }
        _ => detail(
            StatusCode::NOT_FOUND,
            "No Observation matches the given query.",
        ),
    }
}
