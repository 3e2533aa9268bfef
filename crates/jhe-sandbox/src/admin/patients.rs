//! Patients: the filtered list, `me`, the global e-mail lookup, one patient, and consents
//! (the consolidated view and JHE's POST/PATCH writes).

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{body_json, can_manage, field, field_required, no_match, remember, required, Req, S};
use crate::caller::{caller, Api, Caller};
use crate::http::{detail, json_response, not_found_page};
use crate::render;

use crate::AppState;

pub async fn patients(State(st): S, req: Req) -> Response {
    let c = or_reply!(req.practitioner(&st));
    let [org, study, pid] = or_reply!(req.ints(["organization_id", "study_id", "patient_id"]));
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
    req.list(&list, |p| render::patient(&world, p))
}

pub async fn patient_me(State(st): S, headers: HeaderMap) -> Response {
    let c = or_reply!(caller(&st, &headers, Api::Admin));
    let world = st.world.read();
    match c.patient_id.and_then(|p| world.patient(p)) {
        Some(p) => json_response(StatusCode::OK, &render::patient(&world, p)),
        None => no_match("Patient"),
    }
}

pub async fn global_lookup(State(st): S, req: Req) -> Response {
    or_reply!(req.caller(&st));
    let Some(email) = req.get("email") else {
        return field_required("email");
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
    req: Req,
    method: Method,
    body: axum::body::Bytes,
) -> Response {
    let (c, id) = or_reply!(req.caller_and_id(&st));
    if !{
        let w = st.world.read();
        w.patient(id).is_some()
    } {
        return no_match("Patient");
    }
    match req.sub() {
        "" => {
            let world = st.world.read();
            let Some(p) = world.patient(id) else {
                return no_match("Patient");
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
                    return no_match("Patient");
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
        _ => not_found_page(&req.path),
    }
}

fn consents_view(st: &AppState, patient_id: u32) -> Response {
    let world = st.world.read();
    let Some(p) = world.patient(patient_id) else {
        return no_match("Patient");
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
    let items = or_reply!(required(&v, "study_scope_consents", Value::as_array));
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
