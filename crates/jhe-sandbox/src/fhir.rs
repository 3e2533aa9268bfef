//! The FHIR R5 API (`/FHIR/R5/…`): searches with JHE's parameters and quirks, reads, uploads
//! with JHE's validation order, batch bundles, and the discovery documents.

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use crate::auth::cors;
use crate::http::{
    base_url, caller, first, iri_to_uri, json_response, outcome, outcome_body, page_params,
    py_urlencode, query_pairs, Api, Caller, Page,
};
use crate::pyjson::py_dumps;
use crate::store::{Obs, Query, RawObs, SortKey, NO_TIME};
use crate::time::{iso_offset, iso_z, now_us, parse_datetime_us, parse_prefixed, DateError};
use crate::world::{World, OMH_SYSTEM};
use crate::AppState;

type S = State<Arc<AppState>>;

const SOURCE: &str = "https://jupyterhealth.org/jhe";
const MODEL: &str = "https://jupyterhealth.org/fhir/CodeSystem/model";
const NATIVE: [&str; 6] = [
    "Observation",
    "Patient",
    "Group",
    "Organization",
    "Device",
    "Practitioner",
];
const AUX: [&str; 20] = [
    "AllergyIntolerance",
    "CarePlan",
    "CareTeam",
    "Condition",
    "Coverage",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Goal",
    "Immunization",
    "Location",
    "Medication",
    "MedicationDispense",
    "MedicationRequest",
    "PractitionerRole",
    "Procedure",
    "Provenance",
    "QuestionnaireResponse",
    "RelatedPerson",
    "ServiceRequest",
];

fn meta(last_updated: &str) -> Value {
    json!({"lastUpdated": last_updated, "source": SOURCE})
}

pub fn observation_resource(world: &World, o: &Obs) -> Value {
    let scope = world.scope(o.scope_id);
    let p = world.patient(o.patient_id);
    let data = base64::engine::general_purpose::STANDARD.encode(py_dumps(&o.omh()));
    let mut r = serde_json::Map::new();
    r.insert("meta".into(), meta(&iso_z(o.last_updated_us)));
    r.insert("id".into(), json!(o.id.to_string()));
    if !o.identifiers().is_empty() {
        let ids: Vec<Value> = o
            .identifiers()
            .iter()
            .map(|(s, v)| json!({"system": s, "value": v}))
            .collect();
        r.insert("identifier".into(), Value::Array(ids));
    }
    r.insert("status".into(), json!("final"));
    r.insert(
        "code".into(),
        json!({"coding": [{"system": scope.map(|s| s.system), "code": scope.map(|s| s.code), "display": scope.map(|s| s.text)}]}),
    );
    if o.eff_start_us != NO_TIME {
        if o.is_period() {
            r.insert(
                "effectivePeriod".into(),
                json!({"start": iso_z(o.eff_start_us), "end": iso_z(o.eff_end_us)}),
            );
        } else {
            r.insert("effectiveDateTime".into(), json!(iso_z(o.eff_start_us)));
        }
    }
    r.insert(
        "subject".into(),
        json!({"reference": format!("Patient/{}", o.patient_id), "identifier": {"system": "https://jupyterhealth.org/fhir/identifier/jhe-user-id", "value": p.map(|p| p.jhe_user_id.to_string())}}),
    );
    r.insert(
        "valueAttachment".into(),
        json!({"contentType": "application/json", "data": data}),
    );
    r.insert("resourceType".into(), json!("Observation"));
    Value::Object(r)
}

fn patient_resource(p: &crate::world::Patient) -> Value {
    let mut r = serde_json::Map::new();
    r.insert("id".into(), json!(p.id.to_string()));
    if !p.identifiers.is_empty() {
        r.insert(
            "identifier".into(),
            Value::Array(
                p.identifiers
                    .iter()
                    .map(|i| json!({"system": i.system, "value": i.value}))
                    .collect(),
            ),
        );
    }
    r.insert("meta".into(), meta(&p.last_updated));
    r.insert(
        "name".into(),
        json!([{"family": p.name_family, "given": [p.name_given]}]),
    );
    r.insert("birthDate".into(), json!(p.birth_date));
    r.insert(
        "telecom".into(),
        json!([{"system": "phone", "value": p.phone, "use": "mobile"}, {"system": "email", "value": p.email, "use": "home"}]),
    );
    r.insert("resourceType".into(), json!("Patient"));
    Value::Object(r)
}

fn group_resource(s: &crate::world::Study) -> Value {
    json!({"id": s.id.to_string(), "membership": "enumerated", "meta": meta(&s.last_updated), "name": s.name,
           "type": {"coding": [{"system": MODEL, "code": "study"}]}, "resourceType": "Group"})
}

fn org_resource(o: &crate::world::Org) -> Value {
    json!({"id": o.id.to_string(), "meta": meta(&o.last_updated), "name": o.name,
           "type": {"coding": [{"system": MODEL, "code": "organization"}]}, "resourceType": "Organization"})
}

fn device_resource(d: &crate::world::DataSource) -> Value {
    json!({"id": d.id.to_string(), "meta": meta(&d.last_updated), "name": d.name,
           "type": {"coding": [{"system": MODEL, "code": "data-source"}]}, "resourceType": "Device"})
}

fn practitioner_resource(u: &crate::world::User) -> Value {
    json!({"id": u.practitioner_id.unwrap_or_default().to_string(), "meta": meta(&u.last_updated),
           "name": [{"family": u.last_name, "given": [u.first_name]}], "resourceType": "Practitioner"})
}

fn qr_resource(world: &World, a: &crate::world::AuxRecord) -> Value {
    let full = world
        .patient(a.patient)
        .map(|p| format!("{} {}", p.name_given, p.name_family))
        .unwrap_or_default();
    json!({
        "item": [
            {"answer": [{"valueInteger": a.answers[0]}], "linkId": "cough-severity"},
            {"answer": [{"valueInteger": a.answers[1]}], "linkId": "dyspnea-severity"},
            {"answer": [{"valueInteger": a.answers[2]}], "linkId": "fatigue-severity"}
        ],
        "meta": {"source": format!("https://jupyterhealth.org/fhir/fhir-source/{}", a.source)},
        "status": "completed",
        "subject": {"reference": format!("Patient/{}", a.patient_fhir_id)},
        "authored": a.authored,
        "extension": [
            {"url": "https://jupyterhealth.org/fhir/StructureDefinition/patient-id", "valueInteger": a.patient},
            {"url": "https://jupyterhealth.org/fhir/StructureDefinition/patient-full-name", "valueString": full}
        ],
        "resourceType": "QuestionnaireResponse",
        "questionnaire": "Questionnaire/weekly-symptom-severity-vas",
        "id": a.id
    })
}

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
        let page = match self.page(total) {
            Ok(p) => p,
            Err(r) => return r,
        };
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
}

fn not_authorized(what: &str) -> Response {
    outcome(
        StatusCode::FORBIDDEN,
        &format!("Current user is not authorized to access {what}."),
    )
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
        let id: u32 = v.parse().map_err(|_| {
            outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Field 'id' expected a number but got '{v}'."),
            )
        })?;
        if !patients.contains(&id) {
            return Err(not_authorized(&format!("Patient/{id}")));
        }
        patients.retain(|p| *p == id);
    }
    if let Some(v) = s.get("patient.organization") {
        let id: u32 = v.parse().map_err(|_| {
            outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Field 'id' expected a number but got '{v}'."),
            )
        })?;
        if !member.contains(&id) {
            return Err(not_authorized(&format!("Organization/{id}")));
        }
        patients.retain(|p| world.patient(*p).is_some_and(|p| p.orgs.contains(&id)));
    }
    if let Some(v) = s.get("patient._has:Group:member:_id") {
        let id: u32 = v.parse().map_err(|_| {
            outcome(
                StatusCode::UNPROCESSABLE_ENTITY,
                &format!("Field 'id' expected a number but got '{v}'."),
            )
        })?;
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
    let (patients, study_scopes) = match scoped_patients(&world, c, s) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let date = match date_filters(s, "date") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let last_updated = match date_filters(s, "_lastUpdated") {
        Ok(d) => d,
        Err(r) => return r,
    };
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
    s.bundle(hits.len(), |r| {
        hits[r]
            .iter()
            .map(|i| observation_resource(&world, store.row(*i)))
            .collect()
    })
}

fn patient_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let (ids, _) = match scoped_patients(&world, c, s) {
        Ok(x) => x,
        Err(r) => return r,
    };
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
    s.bundle(list.len(), |r| {
        list[r].iter().map(|p| patient_resource(p)).collect()
    })
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
    s.bundle(list.len(), |r| {
        list[r].iter().map(|g| group_resource(g)).collect()
    })
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
    s.bundle(list.len(), |r| {
        list[r].iter().map(|o| org_resource(o)).collect()
    })
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
    s.bundle(list.len(), |r| {
        list[r].iter().map(|d| device_resource(d)).collect()
    })
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
    s.bundle(list.len(), |r| {
        list[r].iter().map(|u| practitioner_resource(u)).collect()
    })
}

fn qr_search(st: &AppState, c: &Caller, s: &Search) -> Response {
    let world = st.world.read();
    let (patients, _) = match scoped_patients(&world, c, s) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let mut list: Vec<&crate::world::AuxRecord> = world
        .aux
        .iter()
        .filter(|a| patients.contains(&a.patient))
        .collect();
    list.sort_by(|a, b| b.authored.cmp(a.authored));
    s.bundle(list.len(), |r| {
        list[r].iter().map(|a| qr_resource(&world, a)).collect()
    })
}

fn search(
    st: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    raw: Option<String>,
    rtype: &str,
) -> Response {
    let c = match caller(st, headers, Api::Fhir) {
        Ok(c) => c,
        Err(r) => return r,
    };
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

fn unsupported(t: &str) -> Response {
    outcome(
        StatusCode::NOT_FOUND,
        &format!("Unsupported FHIR resource type: {t}."),
    )
}

pub async fn type_get(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(raw): RawQuery,
    Path(rtype): Path<String>,
) -> Response {
    search(&st, &headers, &uri, raw, &rtype)
}

pub async fn type_post(
    State(st): S,
    headers: HeaderMap,
    Path(rtype): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    if rtype != "Observation" {
        if NATIVE.contains(&rtype.as_str()) || AUX.contains(&rtype.as_str()) {
            return outcome(
                StatusCode::METHOD_NOT_ALLOWED,
                &format!("Create of a {rtype} record is not supported."),
            );
        }
        return unsupported(&rtype);
    }
    let c = match caller(&st, &headers, Api::Fhir) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = content_type_error(&headers) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return outcome(StatusCode::BAD_REQUEST, "JSON parse error.");
    };
    match create_observation(&st, &c, &v, &headers) {
        Ok(id) => {
            let world = st.world.read();
            let store = st.store.read();
            let Some(o) = store.get(id) else {
                return outcome(StatusCode::INTERNAL_SERVER_ERROR, "stored row vanished");
            };
            if c.is_practitioner() {
                json_response(StatusCode::CREATED, &observation_resource(&world, o))
            } else {
                let scope = world.scope(o.scope_id);
                json_response(
                    StatusCode::CREATED,
                    &json!({"resourceType": "Observation", "id": id.to_string(), "status": "final",
                            "meta": {"lastUpdated": iso_offset(o.last_updated_us)},
                            "subject": {"reference": format!("Patient/{}", o.patient_id)},
                            "code": {"coding": [{"system": scope.map(|s| s.system), "code": scope.map(|s| s.code)}]}}),
                )
            }
        }
        Err((status, msg)) => outcome(status, &msg),
    }
}

fn content_type_error(headers: &HeaderMap) -> Option<Response> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    (media != "application/json").then(|| {
        outcome(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("Unsupported media type \"{media}\" in request."),
        )
    })
}

/// JHE's upload checks, in its order; on success the row is stored and its id returned.
fn create_observation(
    st: &AppState,
    c: &Caller,
    v: &Value,
    headers: &HeaderMap,
) -> Result<u32, (StatusCode, String)> {
    let bad = |m: &str| (StatusCode::BAD_REQUEST, m.to_string());
    if v.get("resourceType").and_then(Value::as_str) != Some("Observation") {
        return Err(bad("Invalid resourceType: expected Observation."));
    }
    let subject = v
        .pointer("/subject/reference")
        .and_then(Value::as_str)
        .unwrap_or("");
    let patient_id: u32 = subject
        .strip_prefix("Patient/")
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("Subject is required and must be a reference to a Patient ID and start with 'Patient/'"))?;
    let world = st.world.read();
    let patient = world
        .patient(patient_id)
        .ok_or_else(|| bad(&format!("Patient/{patient_id} not found.")))?;
    if c.is_practitioner() {
        if !world.can_see_patient(c.user_id, patient) {
            return Err((
                StatusCode::FORBIDDEN,
                format!("Current user is not authorized to access Patient/{patient_id}."),
            ));
        }
    } else if c.patient_id != Some(patient_id) {
        return Err((
            StatusCode::FORBIDDEN,
            "The Subject Patient does not match the current user.".into(),
        ));
    }
    let device_ok = v
        .pointer("/device/reference")
        .and_then(Value::as_str)
        .and_then(|d| d.strip_prefix("Device/"))
        .and_then(|d| d.parse::<u32>().ok())
        .and_then(|d| world.data_source(d))
        .is_some_and(|d| d.kind == "personal_device" || d.kind == "device");
    if !device_ok {
        return Err(bad("Device is required and must be a reference to a Data Source ID and start with 'Device/'"));
    }
    let identifiers: Vec<(String, String)> = v
        .get("identifier")
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .map(|i| {
                    (
                        i.get("system")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                        i.get("value")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    {
        let store = st.store.read();
        if let Some((s, val)) = identifiers
            .iter()
            .find(|(s, val)| store.identifier_exists(s, val))
        {
            return Err((
                StatusCode::CONFLICT,
                format!("Identifier already exists: system={s} value={val}"),
            ));
        }
    }
    let codings = v
        .pointer("/code/coding")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let (system, code) = match codings.as_slice() {
        [one] => (
            one.get("system")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            one.get("code")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        _ => return Err(bad("Observation.code must have exactly one coding.")),
    };
    if system != OMH_SYSTEM && headers.get("x-jhe-fhir-source-id").is_none() {
        return Err(bad("Creating a record in the imported-record store requires the X-JHE-FHIR-Source-ID header or meta.source naming a FhirSource."));
    }
    let scope = world
        .scope_by_code(&system, &code)
        .ok_or_else(|| bad(&format!("Code not found: system={system} code={code}")))?;
    if !world.consented_anywhere(patient_id, scope.id) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("Observation data with coding_system={system} coding_code={code} has not been consented for any studies by this Patient."),
        ));
    }
    let scope_id = scope.id;
    drop(world);
    let omh: Value = v
        .pointer("/valueAttachment/data")
        .and_then(Value::as_str)
        .and_then(|d| {
            base64::engine::general_purpose::STANDARD
                .decode(d.trim())
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .filter(Value::is_object)
        .ok_or_else(|| bad("valueAttachment.data must be Base 64 Encoded Binary JSON."))?;
    if let Err(errors) = st.schemas().validate(&code, &omh) {
        let list = errors
            .iter()
            .map(|e| format!("\"{}\"", e.replace('"', "\\\"")))
            .collect::<Vec<_>>()
            .join(", ");
        return Err((
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{{'omh_data': [{list}]}}"),
        ));
    }
    let eff = effective_of(&omh);
    let mut store = st.store.write();
    Ok(store.append(
        patient_id,
        scope_id,
        eff,
        now_us(),
        RawObs { omh, identifiers },
    ))
}

/// `effectiveDateTime` / `effectivePeriod` derived from the OMH time frame, as JHE does.
pub fn effective_of(omh: &Value) -> (i64, i64) {
    let Some(tf) = omh.pointer("/body/effective_time_frame") else {
        return (NO_TIME, NO_TIME);
    };
    if let Some(t) = tf
        .get("date_time")
        .and_then(Value::as_str)
        .and_then(parse_datetime_us)
    {
        return (t, NO_TIME);
    }
    let Some(ti) = tf.get("time_interval") else {
        return (NO_TIME, NO_TIME);
    };
    let start = ti
        .get("start_date_time")
        .and_then(Value::as_str)
        .and_then(parse_datetime_us);
    let end = ti
        .get("end_date_time")
        .and_then(Value::as_str)
        .and_then(parse_datetime_us);
    let dur = ti.get("duration").and_then(duration_us);
    match (start, end, dur) {
        (Some(s), Some(e), _) => (s, e),
        (Some(s), None, Some(d)) => (s, s + d),
        (None, Some(e), Some(d)) => (e - d, e),
        _ => {
            if let Some(date) = ti.get("date").and_then(Value::as_str) {
                if let Ok(b) = crate::time::parse_value(date) {
                    return (b.lo, b.hi);
                }
            }
            (NO_TIME, NO_TIME)
        }
    }
}

fn duration_us(d: &Value) -> Option<i64> {
    let v = d.get("value")?.as_f64()?;
    let unit = d.get("unit")?.as_str()?;
    let secs = match unit {
        "ps" => v * 1e-12,
        "ns" => v * 1e-9,
        "us" => v * 1e-6,
        "ms" => v * 1e-3,
        "sec" | "s" => v,
        "min" => v * 60.0,
        "h" => v * 3600.0,
        "d" => v * 86_400.0,
        "wk" => v * 604_800.0,
        "Mo" => v * 2_629_746.0,
        "yr" => v * 31_556_952.0,
        _ => return None,
    };
    Some((secs * 1e6) as i64)
}

pub async fn batch(State(st): S, headers: HeaderMap, body: axum::body::Bytes) -> Response {
    let c = match caller(&st, &headers, Api::Fhir) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if let Some(r) = content_type_error(&headers) {
        return r;
    }
    let Ok(v) = serde_json::from_slice::<Value>(&body) else {
        return outcome(StatusCode::BAD_REQUEST, "JSON parse error.");
    };
    let entries = v
        .get("entry")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if entries.iter().any(|e| {
        e.pointer("/resource/valueAttachment/data")
            .is_none_or(Value::is_null)
    }) {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!(["resource.valueAttachment.data must be not null."]),
        );
    }
    let mut out = Vec::with_capacity(entries.len());
    for e in &entries {
        let resource = e.get("resource").cloned().unwrap_or(Value::Null);
        let method_ok = e.pointer("/request/method").and_then(Value::as_str) == Some("POST");
        let result = if method_ok {
            create_observation(&st, &c, &resource, &headers)
        } else {
            Err((
                StatusCode::BAD_REQUEST,
                "Only POST entries are supported.".into(),
            ))
        };
        out.push(match result {
            Ok(id) => json!({"resource": {"resourceType": "Resource", "id": id.to_string()}, "response": {"status": "201 Created"}}),
            Err((status, msg)) => json!({"response": {
                "status": format!("{} {}", status.as_u16(), status.canonical_reason().unwrap_or("")),
                "outcome": outcome_body(&msg)
            }}),
        });
    }
    json_response(
        StatusCode::OK,
        &json!({"resourceType": "Bundle", "type": "batch-response", "entry": out}),
    )
}

pub async fn read(
    State(st): S,
    headers: HeaderMap,
    method: Method,
    uri: Uri,
    RawQuery(raw): RawQuery,
    Path((rtype, id)): Path<(String, String)>,
) -> Response {
    if id == "_search" {
        // POST /_search is routed, but only the query string filters.
        return search(&st, &headers, &uri, raw, &rtype);
    }
    if !NATIVE.contains(&rtype.as_str()) && !AUX.contains(&rtype.as_str()) {
        return unsupported(&rtype);
    }
    let c = match caller(&st, &headers, Api::Fhir) {
        Ok(c) => c,
        Err(r) => return r,
    };
    if method != Method::GET {
        let verb = match method.as_str() {
            "PUT" => "Update",
            "PATCH" => "Patch",
            "DELETE" => "Delete",
            _ => "This operation",
        };
        return outcome(
            StatusCode::METHOD_NOT_ALLOWED,
            &format!("{verb} of a {rtype} record is not supported."),
        );
    }
    let missing = || outcome(StatusCode::NOT_FOUND, &format!("{rtype}/{id} not found."));
    let world = st.world.read();
    let visible_patient = |pid: u32| {
        if c.is_practitioner() {
            world
                .patient(pid)
                .is_some_and(|p| world.can_see_patient(c.user_id, p))
        } else {
            c.patient_id == Some(pid)
        }
    };
    let Ok(num) = id.parse::<u32>() else {
        return missing();
    };
    let body = match rtype.as_str() {
        "Observation" => {
            let store = st.store.read();
            match store.get(num) {
                Some(o) if visible_patient(o.patient_id) => observation_resource(&world, o),
                _ => return missing(),
            }
        }
        "Patient" => match world.patient(num) {
            Some(p) if visible_patient(p.id) => patient_resource(p),
            _ => return missing(),
        },
        "Group" => match world.study(num) {
            Some(s) if world.can_see_study(c.user_id, s) => group_resource(s),
            _ => return missing(),
        },
        "Organization" => match world.org(num) {
            Some(o) if world.member_orgs(c.user_id).contains(&o.id) => org_resource(o),
            _ => return missing(),
        },
        "Device" => match world.data_source(num) {
            Some(d) => device_resource(d),
            None => return missing(),
        },
        "Practitioner" => match world
            .practitioner_users()
            .find(|u| u.practitioner_id == Some(num))
        {
            Some(u) => practitioner_resource(u),
            None => return missing(),
        },
        _ => return missing(),
    };
    json_response(StatusCode::OK, &body)
}

pub async fn smart_configuration(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    cors(json_response(
        StatusCode::OK,
        &json!({
            "authorization_endpoint": format!("{b}/o/authorize/"),
            "token_endpoint": format!("{b}/o/token/"),
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric"]
        }),
    ))
}

pub async fn metadata(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let shall = json!([{"url": "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation", "valueCode": "SHALL"}]);
    let interactions = |codes: &[&str]| -> Value {
        Value::Array(
            codes
                .iter()
                .map(|c| json!({"code": c, "extension": shall}))
                .collect(),
        )
    };
    let params = |list: &[(&str, &str)]| -> Value {
        Value::Array(
            list.iter()
                .map(|(n, t)| json!({"name": n, "type": t, "extension": shall}))
                .collect(),
        )
    };
    let common = [
        ("_id", "token"),
        ("_lastUpdated", "date"),
        ("patient", "reference"),
        ("patient.organization", "reference"),
        ("patient._has:Group:member:_id", "token"),
    ];
    let mut resources = Vec::new();
    for t in NATIVE.iter().chain(AUX.iter()) {
        let (doc, inter, mut sp): (&str, Vec<&str>, Vec<(&str, &str)>) = match *t {
            "Observation" => (
                "JHE-native Observations carry the full Open mHealth data point as a base64 JSON valueAttachment (contentType application/json). Search with code=system|code one code at a time.",
                vec!["create", "read", "search-type"],
                vec![("code", "token"), ("date", "date"), ("status", "token"), ("identifier", "token")],
            ),
            "Patient" => (
                "Patients sharing an organization with the caller.",
                vec!["read", "search-type"],
                vec![("identifier", "token"), ("family", "string"), ("given", "string"), ("name", "string"), ("birthdate", "date")],
            ),
            t if NATIVE.contains(&t) => ("JHE-native records.", vec!["read", "search-type"], vec![]),
            _ => (
                "Imported records; creates must name a FhirSource via the X-JHE-FHIR-Source-ID header.",
                vec!["create", "delete", "patch", "read", "search-type", "update"],
                vec![],
            ),
        };
        sp.extend_from_slice(&common);
        resources.push(json!({"type": t, "documentation": doc, "interaction": interactions(&inter), "searchParam": params(&sp)}));
    }
    resources.sort_by(|a, b| a["type"].as_str().cmp(&b["type"].as_str()));
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": iso_offset(now_us()),
        "kind": "instance",
        "software": {"name": "JupyterHealth Exchange"},
        "implementation": {"description": "JupyterHealth Exchange (jhe-sandbox)", "url": format!("{b}/FHIR/R5/")},
        "fhirVersion": "5.0.0",
        "format": ["json"],
        "patchFormat": ["application/json"],
        "rest": [{
            "mode": "server",
            "documentation": "Searches also support _sort (date, lastUpdated) and _summary=count. POST [base]/[type]/_search is accepted; only query-string parameters filter.",
            "security": {
                "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris", "extension": [
                    {"url": "authorize", "valueUri": format!("{b}/o/authorize/")},
                    {"url": "token", "valueUri": format!("{b}/o/token/")}
                ]}],
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "description": "OAuth 2.0 (SMART-on-FHIR). Unauthorized requests are rejected with 401, 403, or 404."
            },
            "interaction": interactions(&["batch"]),
            "resource": resources
        }]
    });
    cors(json_response(StatusCode::OK, &body))
}
