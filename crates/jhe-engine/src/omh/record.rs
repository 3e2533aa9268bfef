//! The observation records: as fetched ([`RawObservation`], with its FHIR [`Envelope`]) and as
//! decoded ([`DecodedObservation`]: parsed times, header facts and typed [`Values`]), and the
//! [`Problem`] reported for one that cannot be read.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::source::{as_u64, patient_from_reference};
use super::time::{self, US_PER_MIN};
use super::types::{DataType, Field};

/// The OMH data point as it came over the wire.
#[derive(Clone, Debug, PartialEq)]
pub enum OmhSource {
    /// FHIR `valueAttachment.data`: base64 of the OMH JSON.
    Base64(String),
    /// Admin API `omhData`: the OMH JSON itself (a JSON string holding JSON text is accepted too).
    Json(Value),
}

impl Default for OmhSource {
    fn default() -> Self {
        OmhSource::Json(Value::Null)
    }
}

/// A FHIR `Identifier` (`system`, `value`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
}

/// `effectiveDateTime` / `effectivePeriod` as the server rendered them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Effective {
    DateTime(String),
    Period {
        start: Option<String>,
        end: Option<String>,
    },
}

/// The parts of the FHIR resource around the OMH payload that the compat rows repeat
/// (`meta_source`, `identifier_*`, `status`, `code_coding_0_display`, `effective*`,
/// `subject_identifier_*`). For an Admin API result they are filled the way JHE's FHIR API
/// renders the same row; `identifiers` stay empty (the Admin API does not return them) and
/// `effective` is derived from the OMH time frame at decode time.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub meta_source: Option<String>,
    pub identifiers: Vec<Identifier>,
    pub status: Option<String>,
    pub coding_display: Option<String>,
    pub subject_identifier: Option<Identifier>,
    pub effective: Option<Effective>,
}

/// One observation as fetched, before decoding.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RawObservation {
    pub id: u64,
    pub patient_id: u64,
    pub coding_system: String,
    pub coding_code: String,
    /// Server write time (`meta.lastUpdated` / `lastUpdated`), as sent.
    pub last_updated: Option<String>,
    pub omh: OmhSource,
    /// Envelope fields for the compat rows (see [`Envelope`]); `Default` is fine when building
    /// a `RawObservation` by hand.
    pub envelope: Envelope,
}

/// Why a FHIR resource or Admin result could not even be read as an observation (before the
/// OMH payload is looked at).
#[derive(Debug, thiserror::Error, Clone, PartialEq)]
pub enum DecodeError {
    #[error("not a FHIR Observation (resourceType {0:?})")]
    NotObservation(Option<String>),
    #[error("missing or invalid `{0}`")]
    Field(&'static str),
    #[error("valueAttachment has content type {0:?}, not JSON")]
    ContentType(String),
}

impl DecodeError {
    /// A [`Problem`] for this error, with whatever ids can be read from the item.
    pub fn to_problem(&self, item: &Value) -> Problem {
        let id = item.get("id").and_then(as_u64).unwrap_or(0);
        let patient_id = item
            .get("subjectPatientId")
            .and_then(as_u64)
            .or_else(|| {
                item.pointer("/subject/reference")
                    .and_then(Value::as_str)
                    .and_then(patient_from_reference)
            })
            .unwrap_or(0);
        let code = item
            .get("codingCode")
            .or_else(|| item.pointer("/code/coding/0/code"))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        Problem {
            not_asked: false,
            observation_id: id,
            patient_id,
            code,
            message: self.to_string(),
        }
    }
}

/// A malformed observation, or one the search did not ask for: reported and skipped, never
/// fatal.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("observation {observation_id} (patient {patient_id}, {code}): {message}")]
pub struct Problem {
    pub observation_id: u64,
    pub patient_id: u64,
    pub code: String,
    pub message: String,
    /// The row is readable but not what was asked for (another participant, type or period, or
    /// a payload whose OMH `schema_id` is not its code): a sign of a lying server, so the unit
    /// it came with is marked suspect.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub not_asked: bool,
}

/// The effective time of an observation (`body.effective_time_frame`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EffectiveTime {
    /// The measurement instant, or the interval start; UTC microseconds.
    pub start_utc: i64,
    /// The interval end; `None` for a `date_time` frame.
    pub end_utc: Option<i64>,
    /// Participant's wall clock at `start_utc` (naive microseconds).
    pub start_local: i64,
    /// Participant's wall clock at `end_utc`.
    pub end_local: Option<i64>,
    /// The UTC offset written with the start (or the instant), minutes; `None` when the payload
    /// gave no offset (the time was then read as UTC).
    pub utc_offset_min: Option<i32>,
}

impl EffectiveTime {
    pub fn is_interval(&self) -> bool {
        self.end_utc.is_some()
    }
    /// Interval length in minutes, to 0.001 min (60 ms).
    pub fn duration_min(&self) -> Option<f64> {
        self.end_utc.map(|e| {
            crate::omh::units::round_to((e - self.start_utc) as f64 / US_PER_MIN as f64, 3)
        })
    }
    /// `effectiveDateTime` / `effectivePeriod` the way the JHE FHIR API renders this frame.
    pub fn fhir_effective(&self) -> Effective {
        match self.end_utc {
            None => Effective::DateTime(time::iso_z(self.start_utc)),
            Some(end) => Effective::Period {
                start: Some(time::iso_z(self.start_utc)),
                end: Some(time::iso_z(end)),
            },
        }
    }
}

/// Facts from the OMH header.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeaderInfo {
    /// `schema_id` as `namespace:name:version` (e.g. `omh:blood-glucose:4.0`), when complete.
    #[serde(default)]
    pub schema_id: Option<String>,
    pub uuid: Option<String>,
    /// `sensed` / `self-reported`.
    pub modality: Option<String>,
    /// `acquisition_provenance.source_name`.
    pub source_name: Option<String>,
    /// The first `external_datasheets[].datasheet_reference` (manufacturer entries first).
    pub device: Option<String>,
    /// `source_creation_date_time`, UTC microseconds.
    pub source_creation_utc: Option<i64>,
}

/// A measured quantity: normalised value (in the view's unit) plus the value and unit as sent.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Quantity {
    /// In the view's unit; `None` when absent or the unit is not recognised.
    pub value: Option<f64>,
    pub original_value: Option<f64>,
    pub original_unit: Option<String>,
}

/// Typed values for the clear views.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Values {
    BloodGlucose(Quantity),
    BloodPressure {
        systolic: Quantity,
        diastolic: Quantity,
    },
    HeartRate(Quantity),
    StepCount(Quantity),
    BodyWeight(Quantity),
    OxygenSaturation(Quantity),
    RespiratoryRate(Quantity),
    BodyTemperature(Quantity),
    SleepDuration(Quantity),
    PhysicalActivity {
        activity_name: Option<String>,
        distance: Quantity,
        kcal_burned: Quantity,
        reported_activity_intensity: Option<String>,
        met_value: Option<f64>,
    },
    /// The fields of a type read generically (sleep episode, sleep stage summary, …), in the
    /// order of its spec's reader ([`super::types::Reader::Fields`]).
    Fields(Vec<Field>),
    /// Not modelled: see the flattened body.
    Other,
}

/// The OMH data point of a decoded observation, as received: the JSON text (FHIR attachment)
/// or the parsed JSON (Admin API). Parsed into a tree only when needed
/// ([`DecodedObservation::omh_value`]: compat rows, types not modelled).
#[derive(Clone, Debug)]
pub enum OmhPayload {
    Text(String),
    Json(Value),
}

impl OmhPayload {
    /// The payload as a JSON value (parsing the text; an unparseable text gives `Null`, which
    /// cannot happen for a decoded observation).
    pub fn to_value(&self) -> Cow<'_, Value> {
        match self {
            OmhPayload::Text(t) => Cow::Owned(serde_json::from_str(t).unwrap_or(Value::Null)),
            OmhPayload::Json(v) => Cow::Borrowed(v),
        }
    }
}

impl PartialEq for OmhPayload {
    /// Same JSON content (whatever the formatting and key order).
    fn eq(&self, other: &Self) -> bool {
        self.to_value() == other.to_value()
    }
}

/// One decoded observation.
#[derive(Clone, Debug, PartialEq)]
pub struct DecodedObservation {
    pub id: u64,
    pub patient_id: u64,
    pub coding_system: String,
    /// The coding code, e.g. `omh:blood-glucose:4.0`.
    pub code: String,
    pub view: DataType,
    /// Server write time as sent.
    pub last_updated: Option<String>,
    /// Server write time, UTC microseconds.
    pub last_updated_utc: Option<i64>,
    /// Envelope fields for compat rows; `effective` is always filled after decoding.
    pub envelope: Envelope,
    /// The OMH data point (`{"header": …, "body": …}`, or a bare body for old payloads).
    pub omh: OmhPayload,
    pub time: EffectiveTime,
    pub header: HeaderInfo,
    pub values: Values,
    /// Context strings of the body the clear views show (`temporal_relationship_to_meal`,
    /// `descriptive_statistic`, `measurement_location`, …), when present as strings.
    pub context: Vec<(&'static str, String)>,
}

/// The header (only when the data point has a `body`) and the body of an OMH JSON value.
pub fn header_and_body(omh: &Value) -> (Option<&Map<String, Value>>, &Map<String, Value>) {
    static EMPTY: std::sync::LazyLock<Map<String, Value>> = std::sync::LazyLock::new(Map::new);
    match omh.get("body") {
        Some(b) => (
            omh.get("header").and_then(Value::as_object),
            b.as_object().unwrap_or(&*EMPTY),
        ),
        None => (None, omh.as_object().unwrap_or(&*EMPTY)),
    }
}

impl DecodedObservation {
    /// The OMH data point as a JSON value.
    pub fn omh_value(&self) -> Cow<'_, Value> {
        self.omh.to_value()
    }
    /// A context string of the body (e.g. `temporal_relationship_to_meal`).
    pub fn body_str(&self, key: &str) -> Option<&str> {
        self.context
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| v.as_str())
    }
}
