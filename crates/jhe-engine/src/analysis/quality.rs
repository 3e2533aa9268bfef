//! Data quality: what is wrong with a participant's readings, each finding with the ids of the
//! observations it is about. UI-free; `jhe check` prints it, the app lists it.
//!
//! | kind | an observation is flagged when |
//! | --- | --- |
//! | `future_time` | its effective time (start) is more than 5 minutes after the server received it (`meta.lastUpdated`), or after "now" (14 h more for a time without an offset, which is only known to ±14 h) |
//! | `no_offset` | its effective date-time was written without a UTC offset (read as UTC) |
//! | `duplicate_uuid` | an earlier observation (lower id) of the same participant and type has the same OMH `header.uuid`: the same reading sent again (the first one is not flagged) |
//! | `duplicate_id` | the same FHIR id arrived more than once |
//! | `unit_variant` | a value's unit is not spelled as the OMH schemas spell units (`MGDL`, `lbs`, `mg/dl`); it was read and converted anyway |
//! | `converted_unit` | a value came in another valid unit than the type's standard one and was converted (`mmol/L` glucose, `lb`, `F`, `km`); informational |
//! | `unknown_unit` | a value came in a unit the engine cannot convert (it is left empty) |
//! | `out_of_scope` | its code is not one the study asks for |
//! | `not_asked_for` | the server sent it although it was not asked for (another participant, type or period, or an OMH `schema_id` that names another type); it was left out |
//! | `implausible` | a value lies outside the type's physiologically plausible range (the type spec's) |
//! | `outlier` | a plausible value lies more than 3 sample SDs from the participant's mean for the type (at least 10 plausible readings); statistical, not necessarily wrong |

use std::collections::{BTreeMap, HashMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::omh::{DecodedObservation, Problem};

/// Tolerance for clocks: effective times up to this far ahead of "now" are not "future".
pub const FUTURE_TOLERANCE_US: i64 = 5 * 60 * 1_000_000;
/// How far a date-time written without an offset may be off (the widest UTC offsets, ±14 h).
pub const NO_OFFSET_SLACK_US: i64 = 14 * 3_600 * 1_000_000;
/// Readings needed before ±3 SD outliers are looked for.
pub const OUTLIER_MIN_READINGS: usize = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    FutureTime,
    NoOffset,
    DuplicateUuid,
    DuplicateId,
    UnitVariant,
    ConvertedUnit,
    UnknownUnit,
    OutOfScope,
    NotAskedFor,
    Implausible,
    Outlier,
}

impl FindingKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FindingKind::FutureTime => "future_time",
            FindingKind::NoOffset => "no_offset",
            FindingKind::DuplicateUuid => "duplicate_uuid",
            FindingKind::DuplicateId => "duplicate_id",
            FindingKind::UnitVariant => "unit_variant",
            FindingKind::ConvertedUnit => "converted_unit",
            FindingKind::UnknownUnit => "unknown_unit",
            FindingKind::OutOfScope => "out_of_scope",
            FindingKind::NotAskedFor => "not_asked_for",
            FindingKind::Implausible => "implausible",
            FindingKind::Outlier => "outlier",
        }
    }

    /// What it means, for a reader of the report.
    pub fn describe(self) -> &'static str {
        match self {
            FindingKind::FutureTime => "dated in the future (a wrong device clock?)",
            FindingKind::NoOffset => "times without a time zone offset (read as UTC)",
            FindingKind::DuplicateUuid => "the same reading sent again (same OMH header uuid)",
            FindingKind::DuplicateId => "the same observation id sent twice",
            FindingKind::UnitVariant => "values with a misspelt unit, read anyway",
            FindingKind::ConvertedUnit => "values in another unit, converted",
            FindingKind::UnknownUnit => "values in a unit that cannot be converted (left empty)",
            FindingKind::OutOfScope => "a data type the study does not ask for",
            FindingKind::NotAskedFor => "rows the server sent that were not asked for (left out)",
            FindingKind::Implausible => {
                "physiologically implausible values (not counted in metrics)"
            }
            FindingKind::Outlier => {
                "values more than 3 SD from the participant's mean (check them)"
            }
        }
    }
}

/// One finding: a kind of defect in one participant's data of one type, with the observations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub kind: FindingKind,
    pub participant_id: u64,
    pub code: String,
    pub observation_ids: Vec<u64>,
    /// One sentence (with the values or units where that helps).
    pub detail: String,
}

/// (participant, kind, code) → (observation ids, up to three distinct details).
type Found = BTreeMap<(u64, FindingKind, String), (Vec<u64>, Vec<String>)>;

/// Checks observations (decoded, of any participants and types, in fetch order) and the
/// problems their fetch reported. `scope_codes` are the study's requested codes (empty: no
/// scope check); `now_us` is "now" in UTC microseconds. Findings are ordered by participant,
/// kind and code; ids ascend.
pub fn check(
    obs: &[DecodedObservation],
    problems: &[Problem],
    scope_codes: &[String],
    now_us: i64,
) -> Vec<Finding> {
    let mut c = Checker::new(scope_codes, now_us);
    let mut order: Vec<&DecodedObservation> = obs.iter().collect();
    // By id, so the details quoted are those of the first observations.
    order.sort_by_key(|o| o.id);
    for o in order {
        c.push(o);
    }
    c.not_asked_for(problems);
    c.finish()
}

/// The kinds of finding whose observations are wrong rather than unusual: an export can leave
/// them out ([`crate::export::Flagged::LeaveOut`]). Outliers, missing offsets and unit
/// spellings are kept: their values are usable, only worth a look.
pub const WRONG_KINDS: [FindingKind; 3] = [
    FindingKind::Implausible,
    FindingKind::FutureTime,
    FindingKind::DuplicateUuid,
];

/// The check of [`check`], one observation at a time (an export checks each unit while its
/// pages arrive and keeps only what the check needs: ids, uuids and one value per reading).
/// The result does not depend on the order of [`Checker::push`]es except for which details
/// are quoted.
pub struct Checker {
    scope: HashSet<String>,
    now_us: i64,
    found: Found,
    ids: HashSet<u64>,
    /// (participant, code, uuid) → ids with that uuid.
    by_uuid: HashMap<(u64, String, String), Vec<u64>>,
    /// Plausible values per (participant, code) for the outlier pass: (id, value).
    series: BTreeMap<(u64, String), Vec<(u64, f64)>>,
}

impl Checker {
    pub fn new(scope_codes: &[String], now_us: i64) -> Checker {
        Checker {
            scope: scope_codes.iter().cloned().collect(),
            now_us,
            found: BTreeMap::new(),
            ids: HashSet::new(),
            by_uuid: HashMap::new(),
            series: BTreeMap::new(),
        }
    }

    fn flag(&mut self, o: &DecodedObservation, kind: FindingKind, detail: String) {
        flag_id(&mut self.found, o.patient_id, &o.code, o.id, kind, detail);
    }

    /// Checks one observation.
    pub fn push(&mut self, o: &DecodedObservation) {
        if !self.ids.insert(o.id) {
            self.flag(o, FindingKind::DuplicateId, String::new());
            return;
        }
        // "Future": after the server received it (its write time), or after now. A time written
        // without an offset is only known to ±14 h (the widest UTC offsets).
        let received = o
            .last_updated_utc
            .map_or(self.now_us, |t| t.min(self.now_us));
        let slack = match o.time.utc_offset_min {
            Some(_) => FUTURE_TOLERANCE_US,
            None => FUTURE_TOLERANCE_US + NO_OFFSET_SLACK_US,
        };
        if o.time.start_utc > received + slack {
            let at = crate::omh::time::iso_z(o.time.start_utc);
            self.flag(o, FindingKind::FutureTime, at);
        }
        if o.time.utc_offset_min.is_none() {
            self.flag(o, FindingKind::NoOffset, String::new());
        }
        if let Some(u) = o.header.uuid.as_deref().filter(|u| !u.is_empty()) {
            self.by_uuid
                .entry((o.patient_id, o.code.clone(), u.to_string()))
                .or_default()
                .push(o.id);
        }
        if !self.scope.is_empty() && !self.scope.contains(o.code.as_str()) {
            self.flag(o, FindingKind::OutOfScope, String::new());
        }
        let Some(spec) = o.view.spec() else {
            return;
        };
        for s in spec.chart.series {
            let Some(q) = o.values.quantity(s.field) else {
                continue;
            };
            let standard = spec.value_def(s.field).map_or("", |d| d.unit.as_ref());
            match (&q.original_unit, q.value, q.original_value) {
                (Some(u), None, Some(_)) => {
                    self.flag(o, FindingKind::UnknownUnit, format!("unit {u:?}"))
                }
                (Some(u), Some(_), _) if !OMH_UNITS.contains(&u.as_str()) => self.flag(
                    o,
                    FindingKind::UnitVariant,
                    format!("{u:?} (standard: {standard})"),
                ),
                (Some(u), Some(_), _) if !same_unit(u, standard) => self.flag(
                    o,
                    FindingKind::ConvertedUnit,
                    format!("{u} (standard: {standard})"),
                ),
                _ => {}
            }
        }
        let chart = crate::chart::Obs::from_decoded(o);
        if !spec.plausible(chart.v, chart.v2) {
            let shown = match (chart.v, chart.v2) {
                (Some(a), Some(b)) => format!("{a}/{b} {}", spec.chart.unit),
                (Some(a), None) => format!("{a} {}", spec.chart.unit),
                _ => String::new(),
            };
            self.flag(o, FindingKind::Implausible, shown.trim_end().to_string());
        } else if let Some(v) = chart.v {
            self.series
                .entry((o.patient_id, o.code.clone()))
                .or_default()
                .push((o.id, v));
        }
    }

    /// Notes the rows the server sent that were not asked for (the fetch's problems with
    /// `not_asked`; others are ignored).
    pub fn not_asked_for(&mut self, problems: &[Problem]) {
        for p in problems.iter().filter(|p| p.not_asked) {
            let e = self
                .found
                .entry((p.patient_id, FindingKind::NotAskedFor, p.code.clone()))
                .or_default();
            e.0.push(p.observation_id);
            if e.1.len() < 3 {
                e.1.push(p.message.clone());
            }
        }
    }

    /// The findings: ordered by participant, kind and code; ids ascend.
    pub fn finish(mut self) -> Vec<Finding> {
        // The same reading sent again: every copy but the first (lowest id).
        for ((pid, code, _), mut ids) in std::mem::take(&mut self.by_uuid) {
            if ids.len() < 2 {
                continue;
            }
            ids.sort_unstable();
            for id in &ids[1..] {
                let kind = FindingKind::DuplicateUuid;
                flag_id(&mut self.found, pid, &code, *id, kind, String::new());
            }
        }
        for ((pid, code), vals) in &self.series {
            if vals.len() < OUTLIER_MIN_READINGS {
                continue;
            }
            let xs: Vec<f64> = vals.iter().map(|v| v.1).collect();
            let (Some(mean), Some(sd)) = (super::stats::mean(&xs), super::stats::sd(&xs)) else {
                continue;
            };
            if sd <= 0.0 {
                continue;
            }
            let out: Vec<u64> = vals
                .iter()
                .filter(|(_, v)| (v - mean).abs() > 3.0 * sd)
                .map(|(id, _)| *id)
                .collect();
            if !out.is_empty() {
                self.found.insert(
                    (*pid, FindingKind::Outlier, code.to_string()),
                    (out, vec![format!("mean {mean:.1}, SD {sd:.1}")]),
                );
            }
        }
        self.found
            .into_iter()
            .map(|((participant_id, kind, code), (mut ids, details))| {
                ids.sort_unstable();
                ids.dedup();
                let mut detail = format!("{} {}", ids.len(), kind.describe());
                if !details.is_empty() {
                    detail.push_str(&format!(": {}", details.join("; ")));
                }
                Finding {
                    kind,
                    participant_id,
                    code,
                    observation_ids: ids,
                    detail,
                }
            })
            .collect()
    }
}

fn flag_id(
    found: &mut Found,
    patient_id: u64,
    code: &str,
    id: u64,
    kind: FindingKind,
    detail: String,
) {
    let e = found
        .entry((patient_id, kind, code.to_string()))
        .or_default();
    e.0.push(id);
    if e.1.len() < 3 && !detail.is_empty() && !e.1.contains(&detail) {
        e.1.push(detail);
    }
}

/// Units as the OMH schemas spell them (their unit value sets, case-sensitive).
const OMH_UNITS: &[&str] = &[
    "mg/dL",
    "mmol/L",
    "kg",
    "g",
    "lb",
    "oz",
    "C",
    "F",
    "K",
    "beats/min",
    "breaths/min",
    "%",
    "steps",
    "mmHg",
    "kcal",
    "Cal",
    "kJ",
    "fm",
    "pm",
    "nm",
    "um",
    "mm",
    "cm",
    "m",
    "km",
    "in",
    "ft",
    "yd",
    "mi",
    "ps",
    "ns",
    "us",
    "ms",
    "sec",
    "min",
    "h",
    "d",
    "wk",
    "Mo",
    "yr",
];

/// Whether a unit as sent is the standard one: the same up to ASCII case and spaces, or one of
/// the spellings the OMH schemas use for it (`C` for °C, `bpm` for beats/min).
fn same_unit(sent: &str, standard: &str) -> bool {
    let norm = |u: &str| u.trim().to_ascii_lowercase().replace(' ', "");
    let (a, b) = (norm(sent), norm(standard));
    a == b
        || matches!(
            (a.as_str(), b.as_str()),
            ("c" | "celsius", "°c") | ("bpm", "beats/min")
        )
}
