//! JHE's FHIR resources as it renders them (element order, `meta`, the base64 OMH attachment).

use base64::Engine;
use serde_json::{json, Value};

use crate::pyjson::py_dumps;
use crate::store::{Obs, NO_TIME};
use crate::time::iso_z;
use crate::world::World;

const SOURCE: &str = "https://jupyterhealth.org/jhe";

const MODEL: &str = "https://jupyterhealth.org/fhir/CodeSystem/model";

pub(super) fn meta(last_updated: &str) -> Value {
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

pub(super) fn patient_resource(p: &crate::world::Patient) -> Value {
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

pub(super) fn group_resource(s: &crate::world::Study) -> Value {
    json!({"id": s.id.to_string(), "membership": "enumerated", "meta": meta(&s.last_updated), "name": s.name,
           "type": {"coding": [{"system": MODEL, "code": "study"}]}, "resourceType": "Group"})
}

pub(super) fn org_resource(o: &crate::world::Org) -> Value {
    json!({"id": o.id.to_string(), "meta": meta(&o.last_updated), "name": o.name,
           "type": {"coding": [{"system": MODEL, "code": "organization"}]}, "resourceType": "Organization"})
}

pub(super) fn device_resource(d: &crate::world::DataSource) -> Value {
    json!({"id": d.id.to_string(), "meta": meta(&d.last_updated), "name": d.name,
           "type": {"coding": [{"system": MODEL, "code": "data-source"}]}, "resourceType": "Device"})
}

pub(super) fn practitioner_resource(u: &crate::world::User) -> Value {
    json!({"id": u.practitioner_id.unwrap_or_default().to_string(), "meta": meta(&u.last_updated),
           "name": [{"family": u.last_name, "given": [u.first_name]}], "resourceType": "Practitioner"})
}

pub(super) fn qr_resource(world: &World, a: &crate::world::AuxRecord) -> Value {
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
