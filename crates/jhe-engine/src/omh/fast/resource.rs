//! A fast reader for FHIR Observation resources as JHE serves them: straight from the page's
//! JSON text into a [`RawObservation`], without a `serde_json::Value` tree (which cost more
//! than a third of an export's CPU time in allocations and hashing).
//!
//! The typed reader is strict: anything unusual (a missing field, a number where text was
//! expected, a duplicate key, …) sends the resource to [`from_fhir_resource`], which stays the
//! one authority on what a resource means and on the problem reported for a malformed one. So
//! both paths always agree; `tests::fast_path_agrees_with_value_path` checks it.

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;

use crate::omh::source::{from_fhir_resource, patient_from_reference};
use crate::omh::{
    DecodeError, Effective, Envelope, Identifier, OmhSource, Problem, RawObservation,
};

/// Reads one FHIR Observation resource (its JSON text). A resource that is not a readable
/// observation becomes a [`Problem`] with whatever ids could be read.
pub fn from_fhir_json(json: &str) -> Result<RawObservation, Problem> {
    match serde_json::from_str::<Wire>(json)
        .ok()
        .and_then(Wire::into_raw)
    {
        Some(raw) => Ok(raw),
        None => by_value(json, from_fhir_resource),
    }
}

/// What the `Value` reader `read` (the authority) makes of an item the typed reader passed on.
fn by_value(
    json: &str,
    read: fn(&Value) -> Result<RawObservation, DecodeError>,
) -> Result<RawObservation, Problem> {
    let v: Value = serde_json::from_str(json).map_err(|e| Problem {
        observation_id: 0,
        patient_id: 0,
        code: String::new(),
        message: format!("not JSON ({e})"),
        not_asked: false,
    })?;
    read(&v).map_err(|e| e.to_problem(&v))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Wire {
    // On the Value path a key that is present but null counts (a null `resourceType` is not
    // an Observation, a null `effectivePeriod` is an empty period): keep "present" apart.
    #[serde(default, deserialize_with = "present")]
    resource_type: Option<String>,
    id: Option<Id>,
    meta: Option<Meta>,
    identifier: Option<Vec<WireIdentifier>>,
    status: Option<String>,
    code: Option<Code>,
    effective_date_time: Option<String>,
    #[serde(default, deserialize_with = "present")]
    effective_period: Option<Period>,
    subject: Option<Subject>,
    value_attachment: Option<Attachment>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    last_updated: Option<String>,
    source: Option<String>,
}

#[derive(Deserialize)]
struct Code {
    coding: Option<Vec<Coding>>,
}

#[derive(Deserialize)]
struct Coding {
    system: Option<String>,
    code: Option<String>,
    display: Option<String>,
}

#[derive(Default, Deserialize)]
struct Period {
    start: Option<String>,
    end: Option<String>,
}

#[derive(Deserialize)]
struct Subject {
    reference: Option<String>,
    #[serde(default, deserialize_with = "present")]
    identifier: Option<WireIdentifier>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Attachment {
    content_type: Option<String>,
    data: Option<String>,
}

#[derive(Default, Deserialize)]
struct WireIdentifier {
    system: Option<String>,
    value: Option<Id>,
}

/// `Some` whenever the key is there, `Some(default)` for null (with `#[serde(default)]`, a
/// missing key stays `None`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de> + Default>(
    d: D,
) -> Result<Option<T>, D::Error> {
    Ok(Some(Option::<T>::deserialize(d)?.unwrap_or_default()))
}

impl WireIdentifier {
    fn into_identifier(self) -> Identifier {
        Identifier {
            system: self.system,
            value: self.value.map(|v| v.0),
        }
    }
}

/// A JSON string or a non-negative integer, kept as its text (ids, identifier values).
struct Id(String);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Id, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or an unsigned integer")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Id, E> {
                Ok(Id(s.to_string()))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Id, E> {
                Ok(Id(s))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Id, E> {
                Ok(Id(n.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Wire {
    /// The observation, or `None` when anything is off (the caller then asks the Value path).
    fn into_raw(self) -> Option<RawObservation> {
        if self
            .resource_type
            .as_deref()
            .is_some_and(|t| t != "Observation")
        {
            return None;
        }
        let id = self.id?.0.trim().parse().ok()?;
        let subject = self.subject?;
        let patient_id = patient_from_reference(subject.reference.as_deref()?)?;
        let coding = self.code?.coding?.into_iter().next()?;
        let coding_code = coding.code?;
        let attachment = self.value_attachment?;
        if !attachment
            .content_type
            .as_deref()
            .is_none_or(|ct| ct.contains("json"))
        {
            return None;
        }
        let data = attachment.data?;
        let (last_updated, meta_source) = match self.meta {
            Some(m) => (m.last_updated, m.source),
            None => (None, None),
        };
        let effective = match self.effective_date_time {
            Some(dt) => Some(Effective::DateTime(dt)),
            None => self.effective_period.map(|p| Effective::Period {
                start: p.start,
                end: p.end,
            }),
        };
        Some(RawObservation {
            id,
            patient_id,
            coding_system: coding.system.unwrap_or_default(),
            coding_code,
            last_updated,
            omh: OmhSource::Base64(data),
            envelope: Envelope {
                meta_source,
                identifiers: self
                    .identifier
                    .map(|ids| {
                        ids.into_iter()
                            .map(WireIdentifier::into_identifier)
                            .collect()
                    })
                    .unwrap_or_default(),
                status: self.status,
                coding_display: coding.display,
                subject_identifier: subject.identifier.map(WireIdentifier::into_identifier),
                effective,
            },
        })
    }
}

#[derive(Deserialize)]
struct PageFast {
    #[serde(default)]
    total: Option<u64>,
    #[serde(default)]
    entry: Vec<EntryFast>,
    #[serde(default)]
    link: Vec<crate::api::types::BundleLink>,
}

#[derive(Deserialize)]
struct EntryFast {
    #[serde(default)]
    resource: Option<Wire>,
}

/// A FHIR searchset page read in one typed pass: its `total`, its `next` link and its
/// observations. `None` unless every entry is a readable observation; the caller then reads the
/// page resource by resource ([`from_fhir_json`]), which also reports the unreadable ones. (One
/// pass instead of two saved a tenth of an export's CPU time.)
pub(crate) fn read_page_fast(
    body: &[u8],
) -> Option<(Option<u64>, Option<String>, Vec<RawObservation>)> {
    let page: PageFast = serde_json::from_slice(body).ok()?;
    let observations = page
        .entry
        .into_iter()
        .map(|e| e.resource.and_then(Wire::into_raw))
        .collect::<Option<Vec<_>>>()?;
    let next = page
        .link
        .into_iter()
        .find(|l| l.relation == "next" && !l.url.is_empty())
        .map(|l| l.url);
    Some((page.total, next, observations))
}

/// One `results[]` item of JHE's Admin API `GET /api/v1/observations`, typed. `omhData` is kept
/// as its JSON text and decoded like a FHIR attachment's.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdminWire<'a> {
    id: Option<Id>,
    subject_patient_id: Option<Id>,
    coding_system: Option<String>,
    coding_code: Option<String>,
    coding_text: Option<String>,
    jhe_user_id: Option<Id>,
    last_updated: Option<String>,
    #[serde(borrow)]
    omh_data: Option<&'a serde_json::value::RawValue>,
}

impl AdminWire<'_> {
    fn into_raw(self) -> Option<RawObservation> {
        let omh = self.omh_data?.get();
        // an object; anything else (null, a string holding JSON, …) is left to the Value path
        if !omh.starts_with('{') {
            return None;
        }
        Some(RawObservation {
            id: self.id?.0.trim().parse().ok()?,
            patient_id: self.subject_patient_id?.0.trim().parse().ok()?,
            coding_system: self.coding_system.unwrap_or_default(),
            coding_code: self.coding_code?,
            last_updated: self.last_updated,
            omh: OmhSource::Json(Value::String(omh.to_string())),
            envelope: Envelope {
                meta_source: Some(crate::omh::JHE_SOURCE.to_string()),
                identifiers: Vec::new(),
                status: Some("final".to_string()),
                coding_display: self.coding_text,
                subject_identifier: Some(Identifier {
                    system: Some(crate::omh::JHE_USER_ID_SYSTEM.to_string()),
                    value: self.jhe_user_id.map(|v| v.0),
                }),
                effective: None,
            },
        })
    }
}

/// Reads one Admin API observation (its JSON text) like [`crate::omh::from_admin_result`] does from
/// a parsed value, without building one; an unreadable item becomes a [`Problem`].
pub fn from_admin_json(json: &str) -> Result<RawObservation, Problem> {
    let fast = serde_json::from_str::<AdminWire>(json).ok();
    match fast.and_then(AdminWire::into_raw) {
        Some(raw) => Ok(raw),
        None => by_value(json, crate::omh::from_admin_result),
    }
}
