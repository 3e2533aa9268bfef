//! Open mHealth (OMH) decoding: from the two wire shapes JHE serves (FHIR `Observation`
//! resources with a base64 OMH attachment, and Admin API `results[]` items with decoded
//! `omhData`) to one [`DecodedObservation`] per observation, with parsed times, header facts and
//! typed, unit-normalised values for the clear views.
//!
//! Both sources give identical decoded records for the same observation, except for
//! `Observation.identifier`, which only the FHIR API returns ([`Envelope::identifiers`]).
//!
//! The tidy "compat" rows (column-for-column what `jupyterhealth_client.tidy_observation`
//! produces) are in [`compat`]; the typed DataFrames in [`crate::frame`].

pub mod compat;
mod scan;
pub mod time;
pub mod units;
mod wire;

pub(crate) use self::wire::read_page_fast;
pub use self::wire::{from_admin_json, from_fhir_json};

use std::borrow::Cow;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use self::scan::{scan_str, scan_value, Body, Header, ScanError, J, STR_KEYS};

use self::time::{duration_us, parse_date_time, ParsedTime, US_PER_DAY, US_PER_MIN};

/// `code.coding[].system` of OMH codes.
pub const OMH_SYSTEM: &str = "https://w3id.org/openmhealth";
/// `meta.source` of every JHE FHIR resource.
pub const JHE_SOURCE: &str = "https://jupyterhealth.org/jhe";
/// `subject.identifier.system` of JHE FHIR observations (the value is the patient's JHE user id).
pub const JHE_USER_ID_SYSTEM: &str = "https://jupyterhealth.org/fhir/identifier/jhe-user-id";

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
            observation_id: id,
            patient_id,
            code,
            message: self.to_string(),
        }
    }
}

/// A malformed observation: reported and skipped, never fatal.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("observation {observation_id} (patient {patient_id}, {code}): {message}")]
pub struct Problem {
    pub observation_id: u64,
    pub patient_id: u64,
    pub code: String,
    pub message: String,
}

fn as_u64(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn patient_from_reference(r: &str) -> Option<u64> {
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

// ------------------------------------------------------------------------------------------------
// decoded records

/// The per-type tables ("clear views"). Codes this crate does not model are kept, flattened
/// generically, in an [`ViewKind::Other`] view per code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ViewKind {
    BloodGlucose,
    BloodPressure,
    HeartRate,
    StepCount,
    BodyWeight,
    OxygenSaturation,
    RespiratoryRate,
    BodyTemperature,
    SleepDuration,
    PhysicalActivity,
    /// Any other code (e.g. `ieee:sleep-stage-summary:1.0`), flattened generically.
    Other(String),
}

impl ViewKind {
    /// Every modelled view (without `Other`).
    pub const KNOWN: [ViewKind; 10] = [
        ViewKind::BloodGlucose,
        ViewKind::BloodPressure,
        ViewKind::HeartRate,
        ViewKind::StepCount,
        ViewKind::BodyWeight,
        ViewKind::OxygenSaturation,
        ViewKind::RespiratoryRate,
        ViewKind::BodyTemperature,
        ViewKind::SleepDuration,
        ViewKind::PhysicalActivity,
    ];

    /// The view of a coding code `namespace:name:version`. All versions of a modelled OMH schema
    /// share its view.
    pub fn from_code(code: &str) -> ViewKind {
        let mut parts = code.split(':');
        let (ns, name) = (parts.next(), parts.next());
        if ns != Some("omh") {
            return ViewKind::Other(code.to_string());
        }
        match name {
            Some("blood-glucose") => ViewKind::BloodGlucose,
            Some("blood-pressure") => ViewKind::BloodPressure,
            Some("heart-rate") => ViewKind::HeartRate,
            Some("step-count") => ViewKind::StepCount,
            Some("body-weight") => ViewKind::BodyWeight,
            Some("oxygen-saturation") => ViewKind::OxygenSaturation,
            Some("respiratory-rate") => ViewKind::RespiratoryRate,
            Some("body-temperature") => ViewKind::BodyTemperature,
            Some("sleep-duration") => ViewKind::SleepDuration,
            Some("physical-activity") => ViewKind::PhysicalActivity,
            _ => ViewKind::Other(code.to_string()),
        }
    }

    /// Table / file name: `blood_glucose`, …; `other_<code>` with every run of characters
    /// other than ASCII letters and digits replaced by `_` (e.g.
    /// `other_ieee_sleep_stage_summary_1_0`).
    pub fn name(&self) -> String {
        match self {
            ViewKind::BloodGlucose => "blood_glucose".into(),
            ViewKind::BloodPressure => "blood_pressure".into(),
            ViewKind::HeartRate => "heart_rate".into(),
            ViewKind::StepCount => "step_count".into(),
            ViewKind::BodyWeight => "body_weight".into(),
            ViewKind::OxygenSaturation => "oxygen_saturation".into(),
            ViewKind::RespiratoryRate => "respiratory_rate".into(),
            ViewKind::BodyTemperature => "body_temperature".into(),
            ViewKind::SleepDuration => "sleep_duration".into(),
            ViewKind::PhysicalActivity => "physical_activity".into(),
            ViewKind::Other(code) => {
                let mut s = String::from("other_");
                let mut last_us = true;
                for c in code.chars() {
                    if c.is_ascii_alphanumeric() {
                        s.push(c.to_ascii_lowercase());
                        last_us = false;
                    } else if !last_us {
                        s.push('_');
                        last_us = true;
                    }
                }
                while s.ends_with('_') {
                    s.pop();
                }
                s
            }
        }
    }

    /// A human title, e.g. "Blood glucose".
    pub fn title(&self) -> String {
        match self {
            ViewKind::BloodGlucose => "Blood glucose".into(),
            ViewKind::BloodPressure => "Blood pressure".into(),
            ViewKind::HeartRate => "Heart rate".into(),
            ViewKind::StepCount => "Step count".into(),
            ViewKind::BodyWeight => "Body weight".into(),
            ViewKind::OxygenSaturation => "Oxygen saturation (SpO2)".into(),
            ViewKind::RespiratoryRate => "Respiratory rate".into(),
            ViewKind::BodyTemperature => "Body temperature".into(),
            ViewKind::SleepDuration => "Sleep duration".into(),
            ViewKind::PhysicalActivity => "Physical activity".into(),
            ViewKind::Other(code) => format!("{code} (not modelled: OMH body flattened)"),
        }
    }

    /// Views whose rows are intervals by nature (`start_utc`/`end_utc` instead of
    /// `time_utc`/`end_utc`).
    pub fn is_interval_view(&self) -> bool {
        matches!(
            self,
            ViewKind::StepCount
                | ViewKind::SleepDuration
                | ViewKind::PhysicalActivity
                | ViewKind::Other(_)
        )
    }
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
    /// Interval length in minutes.
    pub fn duration_min(&self) -> Option<f64> {
        self.end_utc
            .map(|e| (e - self.start_utc) as f64 / US_PER_MIN as f64)
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
    pub view: ViewKind,
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

const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn decode_base64(data: &str) -> Result<Vec<u8>, String> {
    match B64.decode(data) {
        Ok(v) => Ok(v),
        Err(e) => {
            // Python's b64decode drops whitespace (e.g. the trailing "\n" of older uploads).
            if data.bytes().any(|b| b.is_ascii_whitespace()) {
                let clean: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                B64.decode(clean)
                    .map_err(|e| format!("bad base64 in valueAttachment.data: {e}"))
            } else {
                Err(format!("bad base64 in valueAttachment.data: {e}"))
            }
        }
    }
}

/// Decodes the OMH payload of `raw` and reads its time frame, header and values.
///
/// Bad base64, invalid JSON, a payload that is not an object, a missing or unreadable
/// `effective_time_frame`, or a modelled type without its numeric value give a [`Problem`].
/// Unknown units are not problems: the normalised value is then null and the original kept.
pub fn decode(raw: &RawObservation) -> Result<DecodedObservation, Problem> {
    let omh = payload(raw)?;
    decode_parts(Parts {
        id: raw.id,
        patient_id: raw.patient_id,
        coding_system: raw.coding_system.clone(),
        code: raw.coding_code.clone(),
        last_updated: raw.last_updated.clone(),
        envelope: raw.envelope.clone(),
        omh,
    })
}

/// Like [`decode`], consuming the raw observation (no copies of its strings and payload).
pub fn decode_owned(mut raw: RawObservation) -> Result<DecodedObservation, Problem> {
    let omh = match &mut raw.omh {
        OmhSource::Json(Value::String(t)) => OmhPayload::Text(std::mem::take(t)),
        OmhSource::Json(v) => OmhPayload::Json(std::mem::take(v)),
        OmhSource::Base64(_) => payload(&raw)?,
    };
    decode_parts(Parts {
        id: raw.id,
        patient_id: raw.patient_id,
        coding_system: raw.coding_system,
        code: raw.coding_code,
        last_updated: raw.last_updated,
        envelope: raw.envelope,
        omh,
    })
}

fn problem_of(raw: &RawObservation, message: String) -> Problem {
    Problem {
        observation_id: raw.id,
        patient_id: raw.patient_id,
        code: raw.coding_code.clone(),
        message,
    }
}

/// The OMH payload of a raw observation.
fn payload(raw: &RawObservation) -> Result<OmhPayload, Problem> {
    match &raw.omh {
        OmhSource::Base64(data) => {
            let bytes = decode_base64(data).map_err(|m| problem_of(raw, m))?;
            String::from_utf8(bytes).map(OmhPayload::Text).map_err(|e| {
                problem_of(
                    raw,
                    format!("OMH payload is not valid JSON: not UTF-8 ({e})"),
                )
            })
        }
        OmhSource::Json(Value::String(text)) => Ok(OmhPayload::Text(text.clone())),
        OmhSource::Json(v) => Ok(OmhPayload::Json(v.clone())),
    }
}

struct Parts {
    id: u64,
    patient_id: u64,
    coding_system: String,
    code: String,
    last_updated: Option<String>,
    envelope: Envelope,
    omh: OmhPayload,
}

type Read = (
    EffectiveTime,
    HeaderInfo,
    ViewKind,
    Values,
    Vec<(&'static str, String)>,
);

fn decode_parts(p: Parts) -> Result<DecodedObservation, Problem> {
    match read_omh(&p.code, &p.omh) {
        Ok((time, header, view, values, context)) => {
            let mut envelope = p.envelope;
            if envelope.effective.is_none() {
                envelope.effective = Some(time.fhir_effective());
            }
            let last_updated_utc = p
                .last_updated
                .as_deref()
                .and_then(parse_date_time)
                .map(|t| t.utc_us);
            Ok(DecodedObservation {
                id: p.id,
                patient_id: p.patient_id,
                coding_system: p.coding_system,
                code: p.code,
                view,
                last_updated: p.last_updated,
                last_updated_utc,
                envelope,
                omh: p.omh,
                time,
                header,
                values,
                context,
            })
        }
        Err(message) => Err(Problem {
            observation_id: p.id,
            patient_id: p.patient_id,
            code: p.code,
            message,
        }),
    }
}

fn read_omh(code: &str, omh: &OmhPayload) -> Result<Read, String> {
    let scanned = match omh {
        OmhPayload::Text(t) => scan_str(t),
        OmhPayload::Json(v) => scan_value(v),
    };
    let scan = scanned.map_err(|e| match e {
        ScanError::Syntax(e) => format!("OMH payload is not valid JSON: {e}"),
        ScanError::NotObject => "OMH payload is not a JSON object".to_string(),
    })?;
    if !scan.body.is_object {
        return Err("OMH body is not a JSON object".into());
    }
    let time = effective_time(&scan.body)?;
    let header = header_info(scan.header.as_ref());
    let view = ViewKind::from_code(code);
    let values = values_of(&view, &scan.body)?;
    let context = STR_KEYS
        .iter()
        .zip(&scan.body.strs)
        .filter_map(|(k, v)| Some((*k, v.as_ref()?.as_str()?.to_string())))
        .collect();
    Ok((time, header, view, values, context))
}

fn parse_field(key: &str, v: Option<&J>) -> Result<Option<ParsedTime>, String> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(J::Str(s)) => parse_date_time(s)
            .map(Some)
            .ok_or_else(|| format!("effective_time_frame: cannot read {key} {s:?}")),
        Some(other) => Err(format!(
            "effective_time_frame: {key} is not a string: {other}"
        )),
    }
}

fn duration_of(ti: &scan::Interval) -> Result<Option<i64>, String> {
    let Some(d) = &ti.duration else {
        return Ok(None);
    };
    let (value, unit) = match d.shape {
        scan::QtyShape::Object => (
            d.value.as_ref().and_then(J::as_f64),
            d.unit.as_ref().and_then(J::as_str),
        ),
        _ => (None, None),
    };
    match (value, unit) {
        (Some(v), Some(u)) => duration_us(v, u)
            .map(Some)
            .ok_or_else(|| format!("effective_time_frame: unknown duration unit {u:?}")),
        _ => Err("effective_time_frame: duration without value and unit".into()),
    }
}

/// Reads `effective_time_frame` (a `date_time`, or a `time_interval` given as start+end,
/// start+duration, end+duration, or date+part_of_day).
fn effective_time(body: &Body) -> Result<EffectiveTime, String> {
    let Some(tf) = body.time_frame.as_ref().filter(|t| t.is_object) else {
        return Err("no effective_time_frame".into());
    };
    if let Some(dt) = &tf.date_time {
        let Some(t) = dt.as_str().and_then(parse_date_time) else {
            return Err(format!("effective_time_frame: cannot read date_time {dt}"));
        };
        return Ok(EffectiveTime {
            start_utc: t.utc_us,
            end_utc: None,
            start_local: t.local_us(),
            end_local: None,
            utc_offset_min: t.offset_min,
        });
    }
    let Some(ti) = tf.interval.as_ref().filter(|i| i.is_object) else {
        return Err("effective_time_frame has neither date_time nor time_interval".into());
    };
    let start = parse_field("start_date_time", ti.start.as_ref())?;
    let end = parse_field("end_date_time", ti.end.as_ref())?;
    let t = match (start, end) {
        (Some(s), Some(e)) => EffectiveTime {
            start_utc: s.utc_us,
            end_utc: Some(e.utc_us),
            start_local: s.local_us(),
            end_local: Some(e.local_us()),
            utc_offset_min: s.offset_min,
        },
        (Some(s), None) => {
            let d = duration_of(ti)?
                .ok_or("effective_time_frame: time_interval with a start but no end or duration")?;
            EffectiveTime {
                start_utc: s.utc_us,
                end_utc: Some(s.utc_us + d),
                start_local: s.local_us(),
                end_local: Some(s.local_us() + d),
                utc_offset_min: s.offset_min,
            }
        }
        (None, Some(e)) => {
            let d = duration_of(ti)?.ok_or(
                "effective_time_frame: time_interval with an end but no start or duration",
            )?;
            EffectiveTime {
                start_utc: e.utc_us - d,
                end_utc: Some(e.utc_us),
                start_local: e.local_us() - d,
                end_local: Some(e.local_us()),
                utc_offset_min: e.offset_min,
            }
        }
        (None, None) => {
            // date + part_of_day: the whole day, read as UTC (as the JHE server does).
            let date = ti.date.as_ref().and_then(J::as_str).ok_or(
                "effective_time_frame: time_interval without start, end or date".to_string(),
            )?;
            let d = parse_date_time(date)
                .filter(|d| d.offset_min.is_none() && d.utc_us % US_PER_DAY == 0)
                .ok_or_else(|| format!("effective_time_frame: cannot read date {date:?}"))?;
            EffectiveTime {
                start_utc: d.utc_us,
                end_utc: Some(d.utc_us + US_PER_DAY),
                start_local: d.utc_us,
                end_local: Some(d.utc_us + US_PER_DAY),
                utc_offset_min: None,
            }
        }
    };
    Ok(t)
}

fn jstr(v: &Option<J>) -> Option<String> {
    v.as_ref().and_then(J::as_str).map(str::to_string)
}

fn header_info(header: Option<&Header>) -> HeaderInfo {
    let Some(h) = header else {
        return HeaderInfo::default();
    };
    let reference = |s: &scan::Sheet| jstr(&s.reference);
    let device = h
        .sheets
        .iter()
        .filter(|s| s.kind.as_ref().and_then(J::as_str) == Some("manufacturer"))
        .find_map(reference)
        .or_else(|| h.sheets.iter().find_map(reference));
    HeaderInfo {
        uuid: jstr(&h.uuid),
        modality: jstr(&h.modality),
        source_name: jstr(&h.source_name),
        device,
        source_creation_utc: h
            .source_creation
            .as_ref()
            .and_then(J::as_str)
            .and_then(parse_date_time)
            .map(|t| t.utc_us),
    }
}

/// `{value, unit}` (or a bare number) under `key`.
fn raw_quantity(body: &Body, key: &str) -> (Option<f64>, Option<String>) {
    body.qty(key).map(scan::Qty::read).unwrap_or((None, None))
}

fn required(
    body: &Body,
    key: &str,
    norm: impl Fn(f64, &str) -> Option<f64>,
) -> Result<Quantity, String> {
    let (v, unit) = raw_quantity(body, key);
    let Some(v) = v else {
        return Err(format!("{key}.value is missing or not a number"));
    };
    Ok(Quantity {
        value: unit.as_deref().and_then(|u| norm(v, u)),
        original_value: Some(v),
        original_unit: unit,
    })
}

fn optional(body: &Body, key: &str, norm: impl Fn(f64, &str) -> Option<f64>) -> Quantity {
    let (v, unit) = raw_quantity(body, key);
    Quantity {
        value: match (v, unit.as_deref()) {
            (Some(v), Some(u)) => norm(v, u),
            _ => None,
        },
        original_value: v,
        original_unit: unit,
    }
}

fn values_of(view: &ViewKind, body: &Body) -> Result<Values, String> {
    use units::*;
    Ok(match view {
        ViewKind::BloodGlucose => {
            Values::BloodGlucose(required(body, "blood_glucose", glucose_mg_dl)?)
        }
        ViewKind::BloodPressure => Values::BloodPressure {
            systolic: required(body, "systolic_blood_pressure", pressure_mmhg)?,
            diastolic: required(body, "diastolic_blood_pressure", pressure_mmhg)?,
        },
        ViewKind::HeartRate => Values::HeartRate(required(body, "heart_rate", per_minute)?),
        ViewKind::StepCount => {
            let (v, unit) = raw_quantity(body, "step_count");
            let Some(v) = v else {
                return Err("step_count.value is missing or not a number".into());
            };
            Values::StepCount(Quantity {
                value: units::steps(v, unit.as_deref()),
                original_value: Some(v),
                original_unit: unit,
            })
        }
        ViewKind::BodyWeight => Values::BodyWeight(required(body, "body_weight", mass_kg)?),
        ViewKind::OxygenSaturation => {
            Values::OxygenSaturation(required(body, "oxygen_saturation", percent)?)
        }
        ViewKind::RespiratoryRate => {
            Values::RespiratoryRate(required(body, "respiratory_rate", per_minute)?)
        }
        ViewKind::BodyTemperature => {
            Values::BodyTemperature(required(body, "body_temperature", temperature_c)?)
        }
        ViewKind::SleepDuration => {
            Values::SleepDuration(required(body, "sleep_duration", units::duration_min)?)
        }
        ViewKind::PhysicalActivity => Values::PhysicalActivity {
            activity_name: body.str("activity_name").map(str::to_string),
            distance: optional(body, "distance", length_m),
            kcal_burned: optional(body, "kcal_burned", energy_kcal),
            reported_activity_intensity: body
                .str("reported_activity_intensity")
                .map(str::to_string),
            met_value: body.met_value.as_ref().and_then(J::as_f64),
        },
        ViewKind::Other(_) => Values::Other,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(code: &str, omh: Value) -> RawObservation {
        RawObservation {
            id: 1,
            patient_id: 2,
            coding_system: OMH_SYSTEM.into(),
            coding_code: code.into(),
            last_updated: Some("2026-11-26T01:59:33.981290Z".into()),
            omh: OmhSource::Json(omh),
            envelope: Envelope::default(),
        }
    }

    fn body(code: &str, body: Value) -> Result<DecodedObservation, Problem> {
        decode(&raw(code, json!({"header": {"uuid": "u"}, "body": body})))
    }

    #[test]
    fn interval_start_plus_duration_keeps_offset() {
        let d = body(
            "omh:step-count:3.0",
            json!({"step_count": {"unit": "steps", "value": 10234},
                   "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T00:00:00+09:00",
                                                              "duration": {"unit": "h", "value": 24}}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-20T15:00:00Z");
        assert_eq!(time::iso_z(d.time.end_utc.unwrap()), "2026-11-21T15:00:00Z");
        assert_eq!(
            time::iso_naive_us(d.time.start_local),
            "2026-11-21T00:00:00.000000"
        );
        assert_eq!(
            time::iso_naive_us(d.time.end_local.unwrap()),
            "2026-11-22T00:00:00.000000"
        );
        assert_eq!(d.time.utc_offset_min, Some(540));
        assert_eq!(d.time.duration_min(), Some(1440.0));
        assert_eq!(
            d.envelope.effective,
            Some(Effective::Period {
                start: Some("2026-11-20T15:00:00Z".into()),
                end: Some("2026-11-21T15:00:00Z".into())
            })
        );
    }

    #[test]
    fn interval_end_minus_duration() {
        let d = body(
            "omh:step-count:3.0",
            json!({"step_count": {"unit": "steps", "value": 812},
                   "effective_time_frame": {"time_interval": {"end_date_time": "2026-11-21T13:00:00-05:00",
                                                              "duration": {"unit": "min", "value": 60}}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-21T17:00:00Z");
        assert_eq!(
            time::iso_naive_us(d.time.start_local),
            "2026-11-21T12:00:00.000000"
        );
        assert_eq!(d.time.utc_offset_min, Some(-300));
    }

    #[test]
    fn interval_across_dst_uses_each_ends_offset() {
        let d = body(
            "omh:sleep-duration:2.0",
            json!({"sleep_duration": {"unit": "h", "value": 7.25},
                   "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-01T00:30:00-07:00",
                                                              "end_date_time": "2026-11-01T06:45:00-08:00"}}}),
        )
        .unwrap();
        assert_eq!(
            time::iso_naive_us(d.time.end_local.unwrap()),
            "2026-11-01T06:45:00.000000"
        );
        assert_eq!(d.time.duration_min(), Some(435.0));
        assert_eq!(
            d.values,
            Values::SleepDuration(Quantity {
                value: Some(435.0),
                original_value: Some(7.25),
                original_unit: Some("h".into())
            })
        );
    }

    #[test]
    fn naive_time_is_utc_without_offset() {
        let d = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 72},
                   "effective_time_frame": {"date_time": "2026-11-21T09:05:00"}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-21T09:05:00Z");
        assert_eq!(d.time.start_local, d.time.start_utc);
        assert_eq!(d.time.utc_offset_min, None);
        assert!(!d.time.is_interval());
    }

    #[test]
    fn date_and_part_of_day_is_the_utc_day() {
        let d = body(
            "omh:sleep-episode:1.1",
            json!({"effective_time_frame": {"time_interval": {"date": "2026-11-23", "part_of_day": "night"}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-23T00:00:00Z");
        assert_eq!(time::iso_z(d.time.end_utc.unwrap()), "2026-11-24T00:00:00Z");
        assert_eq!(d.view, ViewKind::Other("omh:sleep-episode:1.1".into()));
        assert_eq!(d.values, Values::Other);
    }

    #[test]
    fn units_are_normalised_and_originals_kept() {
        let d = body(
            "omh:blood-glucose:4.0",
            json!({"blood_glucose": {"unit": "mmol/L", "value": 5.5},
                   "effective_time_frame": {"date_time": "2026-11-20T07:45:12-08:00"}}),
        )
        .unwrap();
        let Values::BloodGlucose(q) = d.values else {
            panic!()
        };
        assert!((q.value.unwrap() - 99.088).abs() < 1e-9);
        assert_eq!(q.original_value, Some(5.5));
        assert_eq!(q.original_unit.as_deref(), Some("mmol/L"));
        let d = body(
            "omh:body-temperature:4.0",
            json!({"body_temperature": {"unit": "F", "value": 98.6},
                   "effective_time_frame": {"date_time": "2026-11-20T07:45:12-08:00"}}),
        )
        .unwrap();
        let Values::BodyTemperature(q) = d.values else {
            panic!()
        };
        assert!((q.value.unwrap() - 37.0).abs() < 1e-9);
        let d = body(
            "omh:body-weight:3.0",
            json!({"body_weight": {"unit": "lb", "value": 200},
                   "effective_time_frame": {"date_time": "2026-11-20T07:45:12-08:00"}}),
        )
        .unwrap();
        let Values::BodyWeight(q) = d.values else {
            panic!()
        };
        assert!((q.value.unwrap() - 90.718474).abs() < 1e-9);
        // an unknown unit keeps the row, with a null normalised value
        let d = body(
            "omh:blood-glucose:4.0",
            json!({"blood_glucose": {"unit": "furlongs", "value": 5.5},
                   "effective_time_frame": {"date_time": "2026-11-20T07:45:12-08:00"}}),
        )
        .unwrap();
        let Values::BloodGlucose(q) = d.values else {
            panic!()
        };
        assert_eq!(q.value, None);
        assert_eq!(q.original_unit.as_deref(), Some("furlongs"));
    }

    #[test]
    fn malformed_payloads_are_problems() {
        let mut r = raw("omh:heart-rate:2.0", Value::Null);
        r.omh = OmhSource::Base64("!!!".into());
        let p = decode(&r).unwrap_err();
        assert!(p.message.contains("base64"), "{p}");
        r.omh = OmhSource::Base64("eyJib2R5Ijog".into()); // {"body":
        assert!(decode(&r).unwrap_err().message.contains("JSON"));
        r.omh = OmhSource::Json(json!([1, 2]));
        assert!(decode(&r).unwrap_err().message.contains("object"));
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 60}}),
        )
        .unwrap_err();
        assert_eq!(p.message, "no effective_time_frame");
        assert_eq!(
            (p.observation_id, p.patient_id, p.code.as_str()),
            (1, 2, "omh:heart-rate:2.0")
        );
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min"}, "effective_time_frame": {"date_time": "2026-11-20T07:45:12Z"}}),
        )
        .unwrap_err();
        assert!(p.message.contains("heart_rate.value"), "{p}");
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 1}, "effective_time_frame": {"date_time": "noon"}}),
        )
        .unwrap_err();
        assert!(p.message.contains("date_time"), "{p}");
    }

    #[test]
    fn base64_with_newline_and_without_padding() {
        let json = br#"{"body": {"effective_time_frame": {"date_time": "2026-11-20T07:45:12Z"}}}"#;
        let enc = base64::engine::general_purpose::STANDARD.encode(json);
        let mut r = raw("x:y:1", Value::Null);
        r.omh = OmhSource::Base64(format!("{enc}\n"));
        assert!(decode(&r).is_ok());
        r.omh = OmhSource::Base64(enc.trim_end_matches('=').to_string());
        assert!(decode(&r).is_ok());
    }

    #[test]
    fn text_and_parsed_json_read_the_same_even_when_odd() {
        let cases = [
            // numbers where strings are expected, lists where objects are, escapes, duplicates
            r#"{"header": {"uuid": 5, "modality": ["x"], "external_datasheets": {"a": 1},
                "acquisition_provenance": "app", "source_creation_date_time": 7},
               "body": {"heart_rate": {"unit": "beats/min", "value": 61.5, "extra": [1, {"a": 2}]},
                        "effective_time_frame": {"date_time": "2026-11-20T07:45:12\u002B01:00"},
                        "descriptive_statistic": {"kind": "average"},
                        "temporal_relationship_to_sleep": "during\nsleep"}}"#,
            r#"{"header": {"external_datasheets": [5, {"datasheet_type": "other", "datasheet_reference": "A"},
                                                    {"datasheet_type": "manufacturer"},
                                                    {"datasheet_reference": "B", "datasheet_type": "manufacturer"}]},
               "body": {"step_count": 812, "step_count": 900,
                        "effective_time_frame": {"time_interval": {"end_date_time": "2026-11-21T13:00:00Z",
                                                                   "duration": {"unit": "min", "value": 60}}}}}"#,
            r#"{"body": {"activity_name": "caf\u00e9 walk", "met_value": 3, "distance": {"value": 1, "unit": "zz"},
                         "kcal_burned": 120,
                         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T13:00:00",
                                                                    "duration": {"unit": "h", "value": 0.5}}}},
                "header": null}"#,
            r#"{"effective_time_frame": {"date_time": "2026-11-23T08:00:00Z"}, "heart_rate": {"unit": "bpm", "value": 64}}"#,
            r#"{"body": {"effective_time_frame": {"time_interval": {"duration": 5, "end_date_time": "2026-11-21T13:00:00Z"}}}}"#,
            r#"{"body": {"effective_time_frame": {"date_time": null}}}"#,
            r#"{"body": 3}"#,
        ];
        let codes = [
            "omh:heart-rate:2.0",
            "omh:step-count:3.0",
            "omh:physical-activity:1.2",
            "omh:heart-rate:2.0",
            "omh:step-count:3.0",
            "omh:heart-rate:2.0",
            "omh:heart-rate:2.0",
        ];
        for (text, code) in cases.iter().zip(codes) {
            let mut a = raw(code, Value::Null);
            a.omh = OmhSource::Base64(base64::engine::general_purpose::STANDARD.encode(text));
            let mut b = raw(code, Value::Null);
            b.omh = OmhSource::Json(serde_json::from_str(text).unwrap());
            let (da, db) = (decode(&a), decode(&b));
            assert_eq!(da, db, "{text}");
            assert_eq!(decode_owned(b.clone()), db);
        }
        let d = decode(&raw(code_of(0), serde_json::from_str(cases[0]).unwrap())).unwrap();
        assert_eq!(d.header, HeaderInfo::default());
        assert_eq!(d.time.utc_offset_min, Some(60));
        assert_eq!(d.body_str("descriptive_statistic"), None);
        assert_eq!(
            d.body_str("temporal_relationship_to_sleep"),
            Some("during\nsleep")
        );
        let d = decode(&raw(code_of(1), serde_json::from_str(cases[1]).unwrap())).unwrap();
        assert_eq!(d.header.device.as_deref(), Some("B"));
        assert_eq!(
            d.values,
            Values::StepCount(Quantity {
                value: Some(900.0),
                original_value: Some(900.0),
                original_unit: None
            })
        );
        let d = decode(&raw(code_of(2), serde_json::from_str(cases[2]).unwrap())).unwrap();
        let Values::PhysicalActivity {
            activity_name,
            distance,
            kcal_burned,
            met_value,
            ..
        } = &d.values
        else {
            panic!()
        };
        assert_eq!(activity_name.as_deref(), Some("café walk"));
        assert_eq!((distance.value, distance.original_value), (None, Some(1.0)));
        assert_eq!(
            (kcal_burned.value, kcal_burned.original_value),
            (None, Some(120.0))
        );
        assert_eq!(*met_value, Some(3.0));
        assert_eq!(d.time.duration_min(), Some(30.0));
        let d = decode(&raw(code_of(3), serde_json::from_str(cases[3]).unwrap())).unwrap();
        assert_eq!(
            d.values,
            Values::HeartRate(Quantity {
                value: Some(64.0),
                original_value: Some(64.0),
                original_unit: Some("bpm".into())
            })
        );
        assert!(
            decode(&raw(code_of(4), serde_json::from_str(cases[4]).unwrap()))
                .unwrap_err()
                .message
                .contains("duration")
        );
        assert!(
            decode(&raw(code_of(5), serde_json::from_str(cases[5]).unwrap()))
                .unwrap_err()
                .message
                .contains("date_time")
        );
        assert_eq!(
            decode(&raw(code_of(6), serde_json::from_str(cases[6]).unwrap()))
                .unwrap_err()
                .message,
            "OMH body is not a JSON object"
        );

        fn code_of(i: usize) -> &'static str {
            [
                "omh:heart-rate:2.0",
                "omh:step-count:3.0",
                "omh:physical-activity:1.2",
                "omh:heart-rate:2.0",
                "omh:step-count:3.0",
                "omh:heart-rate:2.0",
                "omh:heart-rate:2.0",
            ][i]
        }
    }

    #[test]
    fn view_names() {
        assert_eq!(
            ViewKind::from_code("omh:blood-glucose:3.0"),
            ViewKind::BloodGlucose
        );
        assert_eq!(
            ViewKind::from_code("ieee:sleep-stage-summary:1.0").name(),
            "other_ieee_sleep_stage_summary_1_0"
        );
        assert_eq!(
            ViewKind::from_code("omh:rr-interval:1.0").name(),
            "other_omh_rr_interval_1_0"
        );
    }
}
