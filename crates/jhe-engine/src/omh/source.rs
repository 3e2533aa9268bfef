//! Reading the two wire shapes JHE serves into a [`RawObservation`] through a JSON tree:
//! FHIR `Observation` resources ([`from_fhir_resource`]) and Admin API `results[]` items
//! ([`from_admin_result`]). The fast path ([`super::fast`]) falls back to these, which stay
//! the one authority on what a resource means.

use serde_json::Value;

use super::record::{DecodeError, Effective, Envelope, Identifier, OmhSource, RawObservation};
use super::{JHE_SOURCE, JHE_USER_ID_SYSTEM};

pub(super) fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

pub(crate) fn patient_from_reference(r: &str) -> Option<u64> {
    r.strip_prefix("Patient/").unwrap_or(r).parse().ok()
}

fn opt_str(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::to_string)
}

fn identifier(v: &Value) -> Identifier {
    Identifier {
        system: opt_str(v.get("system")),
        value: match v.get("value") {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Number(n)) => Some(n.to_string()),
            _ => None,
        },
    }
}

/// Reads a FHIR R5 `Observation` resource as JHE's `/FHIR/R5/Observation` returns it.
pub fn from_fhir_resource(resource: &Value) -> Result<RawObservation, DecodeError> {
    let Some(obj) = resource.as_object() else {
        return Err(DecodeError::NotObservation(None));
    };
    // One pass over the top-level keys (cheaper than hashed lookups).
    let (mut id, mut meta, mut identifiers, mut status, mut code, mut effective_dt) =
        (None, None, None, None, None, None);
    let (mut period, mut subject, mut attachment) = (None, None, None);
    for (k, v) in obj {
        match k.as_str() {
            "resourceType" => match v.as_str() {
                Some("Observation") => {}
                other => {
                    return Err(DecodeError::NotObservation(other.map(str::to_string)));
                }
            },
            "id" => id = as_u64(v),
            "meta" => meta = Some(v),
            "identifier" => identifiers = v.as_array(),
            "status" => status = v.as_str(),
            "code" => code = Some(v),
            "effectiveDateTime" => effective_dt = v.as_str(),
            "effectivePeriod" => period = Some(v),
            "subject" => subject = Some(v),
            "valueAttachment" => attachment = Some(v),
            _ => {}
        }
    }
    let id = id.ok_or(DecodeError::Field("id"))?;
    let subject_obj = subject.and_then(Value::as_object);
    let mut reference = None;
    let mut subject_identifier = None;
    for (k, v) in subject_obj.into_iter().flatten() {
        match k.as_str() {
            "reference" => reference = v.as_str(),
            "identifier" => subject_identifier = Some(identifier(v)),
            _ => {}
        }
    }
    let patient_id = reference
        .and_then(patient_from_reference)
        .ok_or(DecodeError::Field("subject.reference"))?;
    let coding = code
        .and_then(|c| c.get("coding"))
        .and_then(|c| c.get(0))
        .ok_or(DecodeError::Field("code.coding"))?;
    let (mut coding_code, mut coding_system, mut display) = (None, None, None);
    for (k, v) in coding.as_object().into_iter().flatten() {
        match k.as_str() {
            "code" => coding_code = v.as_str(),
            "system" => coding_system = v.as_str(),
            "display" => display = v.as_str(),
            _ => {}
        }
    }
    let coding_code = coding_code.ok_or(DecodeError::Field("code.coding[0].code"))?;
    let attachment = attachment.ok_or(DecodeError::Field("valueAttachment"))?;
    let (mut content_type, mut data) = (None, None);
    for (k, v) in attachment.as_object().into_iter().flatten() {
        match k.as_str() {
            "contentType" => content_type = v.as_str(),
            "data" => data = v.as_str(),
            _ => {}
        }
    }
    if let Some(ct) = content_type {
        if !ct.contains("json") {
            return Err(DecodeError::ContentType(ct.to_string()));
        }
    }
    let data = data.ok_or(DecodeError::Field("valueAttachment.data"))?;
    let (mut last_updated, mut source) = (None, None);
    for (k, v) in meta.and_then(Value::as_object).into_iter().flatten() {
        match k.as_str() {
            "lastUpdated" => last_updated = v.as_str(),
            "source" => source = v.as_str(),
            _ => {}
        }
    }
    let effective = match effective_dt {
        Some(dt) => Some(Effective::DateTime(dt.to_string())),
        None => period.map(|p| Effective::Period {
            start: opt_str(p.get("start")),
            end: opt_str(p.get("end")),
        }),
    };
    let envelope = Envelope {
        meta_source: source.map(str::to_string),
        identifiers: identifiers
            .map(|a| a.iter().map(identifier).collect())
            .unwrap_or_default(),
        status: status.map(str::to_string),
        coding_display: display.map(str::to_string),
        subject_identifier,
        effective,
    };
    Ok(RawObservation {
        id,
        patient_id,
        coding_system: coding_system.unwrap_or_default().to_string(),
        coding_code: coding_code.to_string(),
        last_updated: last_updated.map(str::to_string),
        omh: OmhSource::Base64(data.to_string()),
        envelope,
    })
}

/// Reads one `results[]` item of JHE's Admin API `GET /api/v1/observations`.
pub fn from_admin_result(result: &Value) -> Result<RawObservation, DecodeError> {
    let omh = result
        .get("omhData")
        .filter(|v| !v.is_null())
        .ok_or(DecodeError::Field("omhData"))?;
    admin_result(result, omh.clone())
}

/// Like [`from_admin_result`], taking the item (its `omhData` is moved, not copied).
pub fn from_admin_result_owned(mut result: Value) -> Result<RawObservation, DecodeError> {
    let omh = result
        .get_mut("omhData")
        .map(Value::take)
        .filter(|v| !v.is_null())
        .ok_or(DecodeError::Field("omhData"))?;
    admin_result(&result, omh)
}

fn admin_result(result: &Value, omh: Value) -> Result<RawObservation, DecodeError> {
    let id = result
        .get("id")
        .and_then(as_u64)
        .ok_or(DecodeError::Field("id"))?;
    let patient_id = result
        .get("subjectPatientId")
        .and_then(as_u64)
        .ok_or(DecodeError::Field("subjectPatientId"))?;
    let coding_code = result
        .get("codingCode")
        .and_then(Value::as_str)
        .ok_or(DecodeError::Field("codingCode"))?
        .to_string();
    let envelope = Envelope {
        meta_source: Some(JHE_SOURCE.to_string()),
        identifiers: Vec::new(),
        status: Some("final".to_string()),
        coding_display: opt_str(result.get("codingText")),
        subject_identifier: Some(Identifier {
            system: Some(JHE_USER_ID_SYSTEM.to_string()),
            value: match result.get("jheUserId") {
                Some(Value::Number(n)) => Some(n.to_string()),
                Some(Value::String(s)) => Some(s.clone()),
                _ => None,
            },
        }),
        effective: None,
    };
    Ok(RawObservation {
        id,
        patient_id,
        coding_system: opt_str(result.get("codingSystem")).unwrap_or_default(),
        coding_code,
        last_updated: opt_str(result.get("lastUpdated")),
        omh: OmhSource::Json(omh),
        envelope,
    })
}
