//! De-identified exports: what [`Deidentify`] changes, one observation at a time before its row
//! is built ([`Deidentify::observation`], called by [`super::UnitBuilder`] so every format and
//! layout gets it), and in the export's other files when [`super::Export::finish`] writes them.
//!
//! - **Participant ids** become pseudonyms: a 15-digit number from HMAC-SHA256 of the patient id
//!   under a key of the server and study ([`Deidentify::pseudonym`]). The same key gives the same
//!   pseudonyms, so re-exports line up; without the key they cannot be traced back. They fill
//!   the integer `patient_id` column as before (15 digits: exact in Excel, JavaScript and
//!   Parquet's int64, and never a JHE id, which are far smaller), the partition folders
//!   (`patient_id=<pseudonym>`), `participants.csv`, `findings.csv`, `problems.csv`, the metric
//!   tables and the manifest's units.
//! - **Times** of a participant move back by one number of whole days, 0–364, the same for all
//!   their rows and different between participants (HMAC of the id, [`Deidentify::shift_days`]),
//!   as REDCap shifts dates: intervals and time of day are kept; [`ShiftMode::KeepWeekday`] uses
//!   whole weeks, so weekdays are kept too; [`ShiftMode::None`] keeps the dates. Shifted: the
//!   effective times (UTC and local), the server's write time, the first consent, times inside
//!   the bodies of types not modelled; the metric tables are computed over each participant's
//!   shifted export days, so they equal the plain export's.
//! - **Dropped**: identifiers (MRN, e-mail, … of `participants.csv`; names and birth dates are
//!   never exported), the OMH `header.uuid`, `acquisition_provenance.source_name` (apps name it
//!   after the person's device, "Mary's iPhone"), free text (`activity_name`, text fields of
//!   types not modelled other than units and the OMH's enumerations), the detail sentences of
//!   `findings.csv` and `problems.csv` (they quote times), and the export's date filter in the
//!   manifest (with shifted data it would tell the shifts).
//!
//! The key (32 random bytes) is kept in the keychain through [`SecretStore`], one per server and
//! study (account `deid-key:<server>:<study>`), or given in [`KEY_ENV`] (64 hex digits) on a
//! computer without one. The manifest says what was done ([`Deidentified`]), never the key or
//! a shift.

use std::collections::BTreeMap;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use sha2::Sha256;

use super::state::UnitRecord;
use super::{Export, ExportError, Participant};
use crate::analysis::quality::Finding;
use crate::auth::SecretStore;
use crate::frame::DictEntry;
use crate::omh::{DataType, DecodedObservation, OmhPayload, Problem, Values};

/// The environment variable that replaces the keychain entry: 64 hex digits (32 bytes, e.g.
/// `openssl rand -hex 32`), used for every study.
pub const KEY_ENV: &str = "JHE_DEID_KEY";

const US_PER_DAY: i64 = 86_400_000_000;
/// Pseudonyms are `PSEUDONYM_MIN..PSEUDONYM_MIN + PSEUDONYM_SPAN`: always 15 digits.
const PSEUDONYM_MIN: u64 = 100_000_000_000_000;
const PSEUDONYM_SPAN: u64 = 900_000_000_000_000;

/// How the times of a de-identified export are shifted.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ShiftMode {
    /// Back by 0–364 whole days per participant: intervals and time of day kept.
    #[default]
    WholeDays,
    /// Back by 0–52 whole weeks (0–364 days) per participant: weekdays kept too.
    KeepWeekday,
    /// Not shifted: only the ids are replaced (and identifiers and free text dropped).
    None,
}

impl ShiftMode {
    /// What the manifest says of the dates.
    pub fn describe(self) -> &'static str {
        match self {
            ShiftMode::WholeDays => {
                "shifted back per participant by 0–364 whole days (the same for all of a \
                 participant's times; intervals and time of day kept)"
            }
            ShiftMode::KeepWeekday => {
                "shifted back per participant by 0–52 whole weeks (0–364 days, the same for all \
                 of a participant's times; intervals, time of day and weekday kept)"
            }
            ShiftMode::None => "not shifted (the real dates)",
        }
    }
}

/// Why the key could not be had.
#[derive(Debug, thiserror::Error)]
pub enum DeidError {
    #[error("cannot use the keychain for the de-identification key: {0}")]
    Keychain(String),
    #[error("the de-identification key in {0} is not 64 hex digits")]
    BadKey(&'static str),
}

/// The key and the shift of a de-identified export. The key never leaves this value: it is
/// not serialized, and `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Deidentify {
    key: [u8; 32],
    pub shift: ShiftMode,
}

impl std::fmt::Debug for Deidentify {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deidentify")
            .field("key", &"<hidden>")
            .field("shift", &self.shift)
            .finish()
    }
}

/// What `manifest.json` records of a de-identified export (never the key or the shifts).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deidentified {
    pub pseudonyms: String,
    pub dates: String,
    pub shift: ShiftMode,
    pub dropped: Vec<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn parse_hex(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 || !s.is_ascii() {
        return None;
    }
    let mut key = [0u8; 32];
    for (i, k) in key.iter_mut().enumerate() {
        *k = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
    }
    Some(key)
}

impl Deidentify {
    pub fn new(key: [u8; 32], shift: ShiftMode) -> Deidentify {
        Deidentify { key, shift }
    }

    /// A new random key (for tests; exports use [`Deidentify::load`]).
    pub fn generate(shift: ShiftMode) -> Deidentify {
        Deidentify::new(rand::random(), shift)
    }

    /// The keychain account holding the key of `server`'s study `study_id`.
    pub fn account(server: &str, study_id: u64) -> String {
        format!("deid-key:{}:{study_id}", server.trim_end_matches('/'))
    }

    /// The key from [`KEY_ENV`], else from the keychain; a new one (saved there) when there is
    /// none yet and `create` is set.
    pub fn load(
        store: &dyn SecretStore,
        server: &str,
        study_id: u64,
        shift: ShiftMode,
        create: bool,
    ) -> Result<Option<Deidentify>, DeidError> {
        if let Ok(k) = std::env::var(KEY_ENV) {
            let key = parse_hex(&k).ok_or(DeidError::BadKey(KEY_ENV))?;
            return Ok(Some(Deidentify::new(key, shift)));
        }
        let account = Deidentify::account(server, study_id);
        let keychain = |e: crate::error::Error| DeidError::Keychain(e.to_string());
        if let Some(k) = store.get(&account).map_err(keychain)? {
            let key = parse_hex(&k).ok_or(DeidError::BadKey("the keychain"))?;
            return Ok(Some(Deidentify::new(key, shift)));
        }
        if !create {
            return Ok(None);
        }
        let d = Deidentify::generate(shift);
        store.set(&account, &hex(&d.key)).map_err(keychain)?;
        Ok(Some(d))
    }

    fn mac(&self, label: &str, patient_id: u64) -> u64 {
        // HMAC takes keys of any length, so this cannot fail.
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&self.key)
            .unwrap_or_else(|_| unreachable!("HMAC accepts every key length"));
        m.update(label.as_bytes());
        m.update(patient_id.to_string().as_bytes());
        let out = m.finalize().into_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(&out[..8]);
        u64::from_be_bytes(first)
    }

    /// The participant's pseudonym: 15 digits, from HMAC-SHA256(key, "pid:" + id).
    pub fn pseudonym(&self, patient_id: u64) -> u64 {
        PSEUDONYM_MIN + self.mac("pid:", patient_id) % PSEUDONYM_SPAN
    }

    /// How many days the participant's times move back: 0–364 (a multiple of 7 with
    /// [`ShiftMode::KeepWeekday`], 0 with [`ShiftMode::None`]), from HMAC-SHA256(key,
    /// "shift:" + id).
    pub fn shift_days(&self, patient_id: u64) -> i64 {
        let h = self.mac("shift:", patient_id);
        match self.shift {
            ShiftMode::WholeDays => (h % 365) as i64,
            ShiftMode::KeepWeekday => (h % 53) as i64 * 7,
            ShiftMode::None => 0,
        }
    }

    /// What is added to the participant's times, in microseconds (zero or negative).
    pub fn shift_us(&self, patient_id: u64) -> i64 {
        -self.shift_days(patient_id) * US_PER_DAY
    }

    /// A check of the key for the resume state (a keyed hash, not the key): a resumed export
    /// never mixes pseudonyms of two keys.
    pub(super) fn key_check(&self) -> String {
        format!("{:?}:{:016x}", self.shift, self.mac("check:", 0))
    }

    /// What the manifest records.
    pub fn describe(&self) -> Deidentified {
        Deidentified {
            pseudonyms: "keyed hash (HMAC-SHA256) of the JHE patient id, 15 digits; one key per \
                         server and study, kept in the keychain (or JHE_DEID_KEY)"
                .into(),
            dates: self.shift.describe().into(),
            shift: self.shift,
            dropped: DROPPED.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// De-identifies one observation before its rows are built: the pseudonym for the patient
    /// id, every time shifted, identifiers and free text dropped.
    pub fn observation(&self, o: &mut DecodedObservation) {
        let shift = self.shift_us(o.patient_id);
        o.patient_id = self.pseudonym(o.patient_id);
        let t = &mut o.time;
        t.start_utc += shift;
        t.start_local += shift;
        t.end_utc = t.end_utc.map(|v| v + shift);
        t.end_local = t.end_local.map(|v| v + shift);
        o.last_updated_utc = o.last_updated_utc.map(|v| v + shift);
        o.last_updated = o.last_updated_utc.map(crate::omh::time::iso_z);
        o.envelope.identifiers.clear();
        o.envelope.subject_identifier = None;
        o.envelope.meta_source = None;
        o.envelope.effective = Some(o.time.fhir_effective());
        o.header.uuid = None;
        o.header.source_name = None;
        o.header.source_creation_utc = o.header.source_creation_utc.map(|v| v + shift);
        match &mut o.values {
            Values::PhysicalActivity { activity_name, .. } => *activity_name = None,
            Values::Fields(fields) => {
                for f in fields {
                    if let crate::omh::types::Field::Text(t) = f {
                        *t = None;
                    }
                }
            }
            _ => {}
        }
        o.omh = match o.view {
            // read again only for a type not modelled (its flattened body columns)
            DataType::Other(_) => {
                let mut v = o.omh.to_value().into_owned();
                let body = match v.get_mut("body") {
                    Some(b) => b,
                    None => &mut v,
                };
                if let Some(m) = body.as_object_mut() {
                    scrub(m, shift);
                }
                OmhPayload::Json(v)
            }
            _ => OmhPayload::Json(Value::Object(Map::new())),
        };
    }

    /// A unit key (`<patient id>/<code>`) with the pseudonym.
    pub fn unit(&self, unit: &str) -> String {
        match unit.split_once('/') {
            Some((pid, code)) => match pid.parse::<u64>() {
                Ok(p) => format!("{}/{code}", self.pseudonym(p)),
                Err(_) => format!("withheld/{code}"),
            },
            None => "withheld".into(),
        }
    }

    /// A problem with the pseudonym and without its message (which may quote times or ids).
    pub fn problem(&self, p: &Problem) -> Problem {
        Problem {
            observation_id: p.observation_id,
            patient_id: if p.patient_id == 0 {
                0
            } else {
                self.pseudonym(p.patient_id)
            },
            code: p.code.clone(),
            message: if p.not_asked {
                "not asked for (details withheld in a de-identified export)".into()
            } else {
                "malformed (details withheld in a de-identified export)".into()
            },
            not_asked: p.not_asked,
        }
    }

    /// A finding with the pseudonym; its detail only says how many and what.
    pub fn finding(&self, f: &Finding) -> Finding {
        Finding {
            kind: f.kind,
            participant_id: self.pseudonym(f.participant_id),
            code: f.code.clone(),
            observation_ids: f.observation_ids.clone(),
            detail: format!("{} {}", f.observation_ids.len(), f.kind.describe()),
        }
    }

    /// A time (RFC 3339) of the participant, shifted.
    pub fn time_text(&self, patient_id: u64, t: &str) -> Option<String> {
        let t = chrono::DateTime::parse_from_rfc3339(t).ok()?;
        let shifted = t + chrono::Duration::microseconds(self.shift_us(patient_id));
        Some(shifted.to_rfc3339())
    }

    /// Pseudonym → shift (µs) of `patient_ids`; an error names a pseudonym two ids share (a
    /// chance of about one in 10^9 for a thousand participants).
    pub(super) fn shifts_of(
        &self,
        patient_ids: impl IntoIterator<Item = u64>,
    ) -> Result<BTreeMap<u64, i64>, u64> {
        let mut by_pseudonym: BTreeMap<u64, (u64, i64)> = BTreeMap::new();
        for id in patient_ids {
            let p = self.pseudonym(id);
            match by_pseudonym.get(&p) {
                Some((other, _)) if *other != id => return Err(p),
                _ => {
                    by_pseudonym.insert(p, (id, self.shift_us(id)));
                }
            }
        }
        Ok(by_pseudonym.into_iter().map(|(p, (_, s))| (p, s)).collect())
    }
}

/// Each participant's shift (µs), by pseudonym.
pub(super) type Shifts = BTreeMap<u64, i64>;

impl Export {
    /// The units with pseudonyms in their keys, problems and findings (in pseudonym order), and
    /// each participant's shift by pseudonym; the units unchanged and no shifts when the export
    /// is not de-identified.
    pub(super) fn deidentify_units(
        &self,
        units: Vec<UnitRecord>,
    ) -> Result<(Vec<UnitRecord>, Option<Shifts>), ExportError> {
        let Some(d) = &self.spec.deidentify else {
            return Ok((units, None));
        };
        let ids = units
            .iter()
            .filter_map(|u| u.unit.split_once('/').and_then(|(p, _)| p.parse().ok()))
            .chain(self.spec.patient_ids.iter().copied())
            .chain(
                self.participants
                    .iter()
                    .flat_map(|(people, _)| people.iter().map(|p| p.patient_id)),
            );
        let shifts = d.shifts_of(ids).map_err(ExportError::PseudonymCollision)?;
        let mut out: Vec<UnitRecord> = units
            .into_iter()
            .map(|mut r| {
                r.unit = d.unit(&r.unit);
                r.report.unit = r.unit.clone();
                r.report.problems = r.report.problems.iter().map(|p| d.problem(p)).collect();
                r.report.foreign = r.report.foreign.iter().map(|p| d.problem(p)).collect();
                r.report.findings = r.report.findings.iter().map(|f| d.finding(f)).collect();
                r
            })
            .collect();
        out.sort_by(|a, b| super::unit_sort_key(&a.unit).cmp(&super::unit_sort_key(&b.unit)));
        Ok((out, Some(shifts)))
    }
}

impl Deidentify {
    /// `participants.csv`'s people: pseudonyms, no identifiers, the first consent shifted; in
    /// pseudonym order.
    pub(super) fn participants(&self, people: Vec<Participant>) -> Vec<Participant> {
        let mut out: Vec<Participant> = people
            .into_iter()
            .map(|p| Participant {
                patient_id: self.pseudonym(p.patient_id),
                identifiers: Vec::new(),
                consents: p.consents,
                first_consent_utc: p
                    .first_consent_utc
                    .as_deref()
                    .and_then(|t| self.time_text(p.patient_id, t)),
            })
            .collect();
        out.sort_by_key(|p| p.patient_id);
        out
    }
}

/// What the data dictionary adds for a de-identified export: the id columns are pseudonyms,
/// the time columns shifted.
pub(super) fn dictionary_notes(d: &Deidentify, dict: &mut [(String, DictEntry)]) {
    let shifted = match d.shift {
        ShiftMode::WholeDays => Some(
            " De-identified export: shifted back by the participant's own number of whole days \
             (0–364, the same for all their times), so intervals and time of day are kept.",
        ),
        ShiftMode::KeepWeekday => Some(
            " De-identified export: shifted back by the participant's own number of whole weeks \
             (0–52, the same for all their times), so intervals, time of day and weekday are kept.",
        ),
        ShiftMode::None => None,
    };
    for (_, e) in dict.iter_mut() {
        if e.column == crate::frame::names::PATIENT_ID || e.column == "participant_id" {
            e.description = PSEUDONYM_TEXT.into();
        } else if e.dtype.starts_with("datetime") || e.column.ends_with("_local_date") {
            if let Some(s) = shifted {
                e.description.push_str(s);
            }
        }
    }
}

/// The paragraph `data_dictionary.md` opens with in a de-identified export: exactly what is
/// replaced, shifted and dropped.
pub(super) fn markdown(d: &Deidentify) -> String {
    let dates = match d.shift {
        ShiftMode::None => "Times are not shifted.".to_string(),
        s => format!(
            "Every time of a participant (time_utc, end_utc, start_utc, the local times, \
             last_updated_utc, first_consent_utc, first_data_utc, last_data_utc, the metric \
             tables' dates, times inside the bodies of types not modelled) is {}; the metric \
             tables were computed over each participant's shifted export days, so they equal \
             those of the same export without de-identification. utc_offset_minutes and \
             durations are unchanged.",
            s.describe()
        ),
    };
    format!(
        "**This export is de-identified.** `patient_id` and `participant_id` are pseudonyms \
         (a keyed hash of the JHE patient id, see below), also in the partition folders and the \
         manifest. {dates} Left out: {}. `observation_id` is kept (it names the observation on \
         the server, not the person).",
        DROPPED.join("; ")
    )
}

/// The data dictionary's description of the id columns of a de-identified export.
pub const PSEUDONYM_TEXT: &str = "Pseudonym of the participant (de-identified export): a \
    15-digit number from a keyed hash (HMAC-SHA256) of the JHE patient id, the same in every \
    file of this export and in every de-identified export of this study made with the same key \
    (kept in the exporting computer's keychain); it cannot be traced back to the participant \
    without that key.";

/// What a de-identified export leaves out, as the manifest lists it.
const DROPPED: [&str; 8] = [
    "names, birth dates and e-mail addresses (never exported)",
    "participant identifiers (MRN, e-mail, study ids) in participants.csv",
    "OMH header.uuid",
    "OMH header.acquisition_provenance.source_name (and the device column's fallback to it)",
    "free text: activity_name, and text fields of types not modelled other than units and OMH enumerations",
    "the detail sentences of findings.csv and the messages of problems.csv",
    "the export's date filter (it would reveal the shifts)",
    "the real JHE patient ids (replaced by pseudonyms)",
];

/// OMH body keys whose text is a value of a fixed enumeration (kept).
const ENUM_KEYS: [&str; 9] = [
    "unit",
    "descriptive_statistic",
    "temporal_relationship_to_meal",
    "temporal_relationship_to_sleep",
    "temporal_relationship_to_physical_activity",
    "measurement_location",
    "body_posture",
    "part_of_day",
    "sleep_stage_state",
];

/// In a body of a type not modelled: shifts date-times and dates by `shift` µs, keeps numbers,
/// booleans and the text of [`ENUM_KEYS`], drops every other text.
fn scrub(m: &mut Map<String, Value>, shift: i64) {
    let keys: Vec<String> = m.keys().cloned().collect();
    for k in keys {
        let keep = match m.get_mut(&k) {
            Some(Value::String(s)) => match shift_text(s, shift) {
                Some(t) => {
                    *s = t;
                    true
                }
                None => ENUM_KEYS.contains(&k.as_str()),
            },
            Some(Value::Object(inner)) => {
                scrub(inner, shift);
                true
            }
            Some(Value::Array(items)) => {
                items.retain_mut(|v| match v {
                    Value::Object(inner) => {
                        scrub(inner, shift);
                        true
                    }
                    Value::String(s) => match shift_text(s, shift) {
                        Some(t) => {
                            *s = t;
                            true
                        }
                        None => false,
                    },
                    _ => true,
                });
                true
            }
            _ => true,
        };
        if !keep {
            m.remove(&k);
        }
    }
}

/// A date-time (RFC 3339) or date (`YYYY-MM-DD`) shifted by whole days of `shift` µs, in the
/// same form; `None` for any other text.
fn shift_text(s: &str, shift: i64) -> Option<String> {
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some((t + chrono::Duration::microseconds(shift)).to_rfc3339());
    }
    if let Ok(d) = chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = d + chrono::Duration::days(shift / US_PER_DAY);
        return Some(d.format("%Y-%m-%d").to_string());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(shift: ShiftMode) -> Deidentify {
        Deidentify::new([7u8; 32], shift)
    }

    #[test]
    fn pseudonyms_are_stable_fifteen_digits_and_depend_on_the_key() {
        let a = d(ShiftMode::WholeDays);
        let b = Deidentify::new([8u8; 32], ShiftMode::WholeDays);
        let ids: Vec<u64> = (40001..40101).collect();
        let ps: std::collections::HashSet<u64> = ids.iter().map(|&i| a.pseudonym(i)).collect();
        assert_eq!(ps.len(), ids.len(), "no two participants share one");
        for &i in &ids {
            let p = a.pseudonym(i);
            assert_eq!(p.to_string().len(), 15);
            assert_eq!(
                p,
                d(ShiftMode::None).pseudonym(i),
                "the shift mode is not in it"
            );
            assert_ne!(p, b.pseudonym(i));
        }
    }

    #[test]
    fn shifts_are_whole_days_in_range_and_weeks_keep_the_weekday() {
        let days = d(ShiftMode::WholeDays);
        let weeks = d(ShiftMode::KeepWeekday);
        let mut distinct = std::collections::HashSet::new();
        for i in 1..500u64 {
            let s = days.shift_days(i);
            assert!((0..=364).contains(&s));
            distinct.insert(s);
            let w = weeks.shift_days(i);
            assert!((0..=364).contains(&w) && w % 7 == 0, "{w}");
            assert_eq!(d(ShiftMode::None).shift_days(i), 0);
            assert_eq!(days.shift_us(i), -s * US_PER_DAY);
        }
        assert!(
            distinct.len() > 200,
            "spread over the year: {}",
            distinct.len()
        );
    }

    #[test]
    fn the_key_is_made_once_per_server_and_study_and_kept_in_the_store() {
        let store = crate::auth::MemoryStore::new();
        let k1 = Deidentify::load(&store, "http://h:1/", 30001, ShiftMode::WholeDays, true)
            .expect("key")
            .expect("made");
        let k2 = Deidentify::load(&store, "http://h:1", 30001, ShiftMode::KeepWeekday, false)
            .expect("key")
            .expect("kept");
        assert_eq!(k1.pseudonym(40001), k2.pseudonym(40001));
        assert!(
            Deidentify::load(&store, "http://h:1", 30002, ShiftMode::WholeDays, false)
                .expect("ok")
                .is_none(),
            "another study has a key of its own"
        );
        let saved = store
            .get(&Deidentify::account("http://h:1", 30001))
            .expect("get")
            .expect("saved");
        assert_eq!(parse_hex(&saved), Some(k1.key));
        assert!(!format!("{k1:?}").contains(&saved));
        assert!(!format!("{:?}", k1.key_check()).contains(&saved));
    }

    #[test]
    fn bodies_of_types_not_modelled_keep_numbers_units_and_shifted_times_only() {
        let mut body: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "rr_interval": {"value": 800, "unit": "ms"},
            "note": "Mary felt dizzy",
            "onset": "2026-11-17T08:30:00-05:00",
            "day": "2026-11-17",
            "descriptive_statistic": "average",
            "tags": ["Mary", {"label": "x", "n": 3}],
        }))
        .expect("json");
        scrub(&mut body, -3 * US_PER_DAY);
        let v = Value::Object(body);
        assert_eq!(v["rr_interval"]["unit"], "ms");
        assert_eq!(v["rr_interval"]["value"], 800);
        assert!(v.get("note").is_none());
        assert_eq!(v["onset"], "2026-11-14T08:30:00-05:00");
        assert_eq!(v["day"], "2026-11-14");
        assert_eq!(v["descriptive_statistic"], "average");
        assert_eq!(v["tags"], serde_json::json!([{"n": 3}]));
    }

    #[test]
    fn a_resumed_export_never_mixes_plain_and_de_identified_units_or_two_keys() {
        use super::super::state::Fingerprint;
        use super::super::{ExportSpec, Format, Layout};
        let spec = |d: Option<Deidentify>| ExportSpec {
            deidentify: d,
            ..ExportSpec::new("/x", Format::Csv, Layout::PerType, "http://h", Some(1))
        };
        let a = Fingerprint::of(&spec(None));
        let b = Fingerprint::of(&spec(Some(d(ShiftMode::WholeDays))));
        let c = Fingerprint::of(&spec(Some(d(ShiftMode::KeepWeekday))));
        let e = Fingerprint::of(&spec(Some(Deidentify::new([9; 32], ShiftMode::WholeDays))));
        assert!(a != b && b != c && b != e);
        assert_eq!(b, Fingerprint::of(&spec(Some(d(ShiftMode::WholeDays)))));
        let saved = serde_json::to_string(&b).expect("json");
        assert!(!saved.contains(&hex(&[7u8; 32])), "{saved}");
        // the spec's own serialization leaves the key out
        let json = serde_json::to_string(&spec(Some(d(ShiftMode::WholeDays)))).expect("json");
        assert!(!json.contains("deidentify") && !json.contains(&hex(&[7u8; 32])));
    }

    #[test]
    fn unit_keys_problems_and_findings_carry_the_pseudonym() {
        let k = d(ShiftMode::WholeDays);
        let p = k.pseudonym(40001);
        assert_eq!(
            k.unit("40001/omh:blood-glucose:4.0"),
            format!("{p}/omh:blood-glucose:4.0")
        );
        let prob = k.problem(&Problem {
            observation_id: 5,
            patient_id: 40001,
            code: "c".into(),
            message: "effective time 2026-11-17T08:30:00Z of patient 40001".into(),
            not_asked: true,
        });
        assert_eq!(prob.patient_id, p);
        assert!(!prob.message.contains("40001") && !prob.message.contains("2026"));
        let shifted = k
            .time_text(40001, "2026-11-17T08:30:00+00:00")
            .expect("time");
        let back = chrono::DateTime::parse_from_rfc3339(&shifted).expect("rfc3339");
        let orig = chrono::DateTime::parse_from_rfc3339("2026-11-17T08:30:00+00:00").expect("t");
        assert_eq!((orig - back).num_days(), k.shift_days(40001));
    }
}
