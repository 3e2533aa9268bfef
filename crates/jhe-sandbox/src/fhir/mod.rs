//! The FHIR R5 API (`/FHIR/R5/…`): searches with JHE's parameters and quirks, reads, uploads
//! with JHE's validation order, batch bundles, and the discovery documents.
//!
//! `resources` renders JHE's FHIR resources, `search` the searchset bundles, `upload` the
//! Observation create and batch with JHE's checks, `discovery` the capability statement and
//! SMART configuration; this module routes by resource type and reads single resources.

mod discovery;
mod resources;
mod search;
mod upload;

use std::sync::Arc;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

pub use discovery::{metadata, smart_configuration};
pub use resources::observation_resource;
pub use upload::{batch, effective_of};

use crate::caller::{caller, Api};
use crate::http::{json_response, outcome};
use crate::time::iso_offset;
use crate::AppState;
use resources::*;
use search::search;
use upload::{content_type_error, create_observation};

pub(super) type S = State<Arc<AppState>>;

pub(super) const NATIVE: [&str; 6] = [
    "Observation",
    "Patient",
    "Group",
    "Organization",
    "Device",
    "Practitioner",
];

pub(super) const AUX: [&str; 20] = [
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

pub(super) fn unsupported(t: &str) -> Response {
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
    let c = or_reply!(caller(&st, &headers, Api::Fhir));
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
    let c = or_reply!(caller(&st, &headers, Api::Fhir));
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
