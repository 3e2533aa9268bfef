//! Uploads: `POST /FHIR/R5/Observation` and batch bundles, with JHE's checks in its order
//! (subject, access, device, 409 identifier, code, consent, base64, schema), and the effective
//! time JHE derives from the OMH time frame.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{json, Value};

use super::S;

use crate::caller::{caller, Api, Caller};
use crate::http::{json_response, outcome, outcome_body};
use crate::store::{RawObs, NO_TIME};
use crate::time::{now_us, parse_datetime_us};
use crate::world::OMH_SYSTEM;
use crate::AppState;

pub(super) fn content_type_error(headers: &HeaderMap) -> Option<Response> {
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

/// A string member, or "".
fn text(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or("").to_string()
}

/// JHE's upload checks, in its order; on success the row is stored and its id returned.
pub(super) fn create_observation(
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
                .map(|i| (text(i, "system"), text(i, "value")))
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
        [one] => (text(one, "system"), text(one, "code")),
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
    let c = or_reply!(caller(&st, &headers, Api::Fhir));
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
