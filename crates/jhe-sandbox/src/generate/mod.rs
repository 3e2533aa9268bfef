//! Deterministic Open mHealth data generator with compact storage.
//!
//! [`generate_all`] produces, for each [`PatientPlan`], realistic device data of the planned
//! [`Kind`]s over `days` days ending at [`GenConfig::end_us`]: CGM every 5 minutes with meals,
//! dawn rise, sensor changes and signal gaps; home blood pressure; spot and nightly heart rate;
//! daily steps; morning weigh-ins; nightly SpO2, respiratory rate and sleep (duration, the OMH
//! sleep episode and the IEEE sleep stage summary of the same night, which agree); occasional
//! body temperature; a few activities a week. Each observation is a 16-byte [`GenPoint`] (plus
//! the indexing fields of [`GenObs`]) and is rendered to OMH JSON only on demand ([`render`],
//! [`render_point`]); the JSON validates against the OMH/IEEE schemas JHE uses.
//!
//! A share (`dirty_share`) of the data is deliberately dirty, see [`DirtyKind`]; the
//! [`DirtyReport`] counts it and keeps examples. Everything is a pure function of the seed,
//! the patient id and the plan: each patient (and each of its kinds) has its own ChaCha8
//! stream, and patients are generated in parallel but returned in plan order.

mod model;
mod point;
mod render;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use point::{GenPoint, TZ_OFFSETS};
pub use render::{render, render_point};

/// The coding system of IEEE 1752-coded observations (`ieee:sleep-stage-summary:1.0`); the
/// OMH-coded ones have [`crate::world::OMH_SYSTEM`].
pub const IEEE_SYSTEM: &str = "https://w3id.org/ieee1752";

/// The observation types the generator produces (all schemas JHE seeds as scopes). New kinds
/// go at the end: the index seeds each kind's random stream and is packed into every point.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
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
    /// `omh:sleep-episode:1.1`: the night's sleep (same interval and total sleep time as the
    /// sleep duration), with latencies, wake after sleep onset, efficiency and awakenings.
    SleepEpisode,
    /// `ieee:sleep-stage-summary:1.0` (IEEE-coded): the same night by stage (light, deep, REM,
    /// awake), which sum to its total sleep time.
    SleepStageSummary,
}

impl Kind {
    pub const ALL: [Kind; 12] = [
        Kind::BloodGlucose,
        Kind::BloodPressure,
        Kind::HeartRate,
        Kind::StepCount,
        Kind::BodyWeight,
        Kind::OxygenSaturation,
        Kind::RespiratoryRate,
        Kind::BodyTemperature,
        Kind::SleepDuration,
        Kind::PhysicalActivity,
        Kind::SleepEpisode,
        Kind::SleepStageSummary,
    ];

    /// The coding code, e.g. `omh:blood-glucose:4.0` or `ieee:sleep-stage-summary:1.0`.
    pub fn code(self) -> &'static str {
        match self {
            Kind::BloodGlucose => "omh:blood-glucose:4.0",
            Kind::BloodPressure => "omh:blood-pressure:4.0",
            Kind::HeartRate => "omh:heart-rate:2.0",
            Kind::StepCount => "omh:step-count:3.0",
            Kind::BodyWeight => "omh:body-weight:3.0",
            Kind::OxygenSaturation => "omh:oxygen-saturation:2.0",
            Kind::RespiratoryRate => "omh:respiratory-rate:2.0",
            Kind::BodyTemperature => "omh:body-temperature:4.0",
            Kind::SleepDuration => "omh:sleep-duration:2.0",
            Kind::PhysicalActivity => "omh:physical-activity:1.2",
            Kind::SleepEpisode => "omh:sleep-episode:1.1",
            Kind::SleepStageSummary => "ieee:sleep-stage-summary:1.0",
        }
    }

    /// The coding system of [`Kind::code`]: [`IEEE_SYSTEM`] for the `ieee:` code, else
    /// [`crate::world::OMH_SYSTEM`] (as JHE's seeded scopes have them).
    pub fn system(self) -> &'static str {
        match self.namespace() {
            "ieee" => IEEE_SYSTEM,
            _ => crate::world::OMH_SYSTEM,
        }
    }

    /// The schema namespace, `omh` or `ieee` (the OMH header's `schema_id.namespace`).
    pub fn namespace(self) -> &'static str {
        let code = self.code();
        code.split(':').next().unwrap_or(code)
    }

    pub fn from_code(code: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The schema name, e.g. `blood-glucose`.
    pub fn schema_name(self) -> &'static str {
        let code = self.code();
        code.split(':').nth(1).unwrap_or(code)
    }

    /// The schema version, e.g. `4.0`.
    pub fn schema_version(self) -> &'static str {
        let code = self.code();
        code.rsplit(':').next().unwrap_or(code)
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// What to generate.
#[derive(Clone, Debug)]
pub struct GenConfig {
    pub seed: u64,
    pub days: u32,
    /// UTC microseconds; the data ends at this instant (nothing is measured or uploaded later,
    /// except deliberately future-dated points).
    pub end_us: i64,
    /// Share of observations (0.0..=1.0) that carry a deliberate defect.
    pub dirty_share: f64,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            seed: 42,
            days: 14,
            // 2026-11-26T00:00:00Z, the day of the reference capture.
            end_us: 1_795_651_200_000_000,
            dirty_share: 0.01,
        }
    }
}

/// Which types one patient produces.
#[derive(Clone, Debug)]
pub struct PatientPlan {
    pub patient_id: u32,
    pub kinds: Vec<Kind>,
    /// Codes outside the study's scopes: emitted rarely (a short burst per kind), every one
    /// counted as [`DirtyKind::OutOfScopeCode`].
    pub extra_kinds: Vec<Kind>,
    /// The patient stopped uploading this many days before [`GenConfig::end_us`]: their
    /// `days` of data end then (0: data up to the end).
    pub stopped_days_ago: u32,
}

impl PatientPlan {
    /// Every kind in scope; with `temperature_out_of_scope`, body temperature comes only as
    /// out-of-scope uploads (as for some participants of the demo study).
    pub fn every_kind(patient_id: u32, temperature_out_of_scope: bool) -> PatientPlan {
        let out = temperature_out_of_scope;
        PatientPlan {
            patient_id,
            kinds: Kind::ALL
                .iter()
                .copied()
                .filter(|k| !out || *k != Kind::BodyTemperature)
                .collect(),
            extra_kinds: if out {
                vec![Kind::BodyTemperature]
            } else {
                vec![]
            },
            stopped_days_ago: 0,
        }
    }
}

/// One generated observation with its indexing fields.
#[derive(Clone, Copy, Debug)]
pub struct GenObs {
    pub patient_id: u32,
    pub kind: Kind,
    /// True effective start (or instant), UTC µs. For [`DirtyKind::NoOffset`] points the
    /// rendered string is local wall time without an offset; see [`GenPoint::needs_reparse`].
    pub effective_start_us: Option<i64>,
    /// Some only for `time_interval` frames.
    pub effective_end_us: Option<i64>,
    /// When the device synced it: after the measurement, in batches (CGM every few hours, daily
    /// types the next morning, re-sent duplicates later). Never after `end_us`.
    pub uploaded_us: i64,
    pub point: GenPoint,
}

/// The kinds of deliberate defects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DirtyKind {
    /// Blood glucose unit "MGDL" (schema-invalid).
    UnitMgdl,
    /// Blood glucose in mmol/L (valid; ×18.016 for mg/dL).
    UnitMmolL,
    /// Effective date-time(s) without an offset, local wall time, e.g. `2026-11-20T08:05:00`.
    NoOffset,
    /// Effective time days after the data's end (the device clock was wrong).
    FutureTimestamp,
    /// A re-sent copy of the previous row of the same stream: same `header.uuid`, same body,
    /// uploaded later.
    DuplicateUuid,
    /// A type outside the study's scopes (from [`PatientPlan::extra_kinds`]).
    OutOfScopeCode,
    /// Physiologically impossible value, e.g. glucose 1200 mg/dL, HR 400, weight -3 kg.
    ImplausibleValue,
    /// A patient who stops uploading for 2–6 days (counted per episode, not per observation).
    UploadGap,
}

impl DirtyKind {
    pub const ALL: [DirtyKind; 8] = [
        DirtyKind::UnitMgdl,
        DirtyKind::UnitMmolL,
        DirtyKind::NoOffset,
        DirtyKind::FutureTimestamp,
        DirtyKind::DuplicateUuid,
        DirtyKind::OutOfScopeCode,
        DirtyKind::ImplausibleValue,
        DirtyKind::UploadGap,
    ];

    /// True where the payload must fail its JSON schema.
    pub fn schema_invalid(self) -> bool {
        matches!(self, DirtyKind::UnitMgdl)
    }

    /// A stable snake_case name, e.g. `unit_mgdl`.
    pub fn name(self) -> &'static str {
        match self {
            DirtyKind::UnitMgdl => "unit_mgdl",
            DirtyKind::UnitMmolL => "unit_mmol_l",
            DirtyKind::NoOffset => "no_offset",
            DirtyKind::FutureTimestamp => "future_timestamp",
            DirtyKind::DuplicateUuid => "duplicate_uuid",
            DirtyKind::OutOfScopeCode => "out_of_scope_code",
            DirtyKind::ImplausibleValue => "implausible_value",
            DirtyKind::UploadGap => "upload_gap",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// One example of a defect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirtyExample {
    pub patient_id: u32,
    /// `None` for [`DirtyKind::UploadGap`].
    pub kind: Option<Kind>,
    pub dirty: DirtyKind,
    /// Effective start (UTC µs); for an upload gap, its start.
    pub effective_us: i64,
    /// For an upload gap, its end (UTC µs).
    pub until_us: Option<i64>,
}

/// Counts of the deliberate defects, with a few examples of each.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DirtyReport {
    /// Indexed like [`DirtyKind::ALL`]. Observations, except `UploadGap` (episodes).
    pub counts: [u64; 8],
    /// Up to [`DirtyReport::EXAMPLES_PER_KIND`] per kind, in plan order.
    pub examples: Vec<DirtyExample>,
    /// All observations generated (clean and dirty).
    pub observations: u64,
}

impl DirtyReport {
    pub const EXAMPLES_PER_KIND: usize = 25;

    pub fn count(&self, kind: DirtyKind) -> u64 {
        self.counts[kind.index()]
    }

    /// Dirty observations (every kind but `UploadGap`, which counts episodes).
    pub fn dirty_observations(&self) -> u64 {
        DirtyKind::ALL
            .iter()
            .filter(|k| **k != DirtyKind::UploadGap)
            .map(|k| self.count(*k))
            .sum()
    }

    /// Observations that must fail schema validation.
    pub fn schema_invalid_observations(&self) -> u64 {
        DirtyKind::ALL
            .iter()
            .filter(|k| k.schema_invalid())
            .map(|k| self.count(*k))
            .sum()
    }

    /// `(name, count)` for every kind, in [`DirtyKind::ALL`] order.
    pub fn summary(&self) -> Vec<(String, usize)> {
        DirtyKind::ALL
            .iter()
            .map(|k| (k.name().to_string(), self.count(*k) as usize))
            .collect()
    }

    pub(crate) fn note(&mut self, example: DirtyExample) {
        let i = example.dirty.index();
        self.counts[i] += 1;
        let have = self
            .examples
            .iter()
            .filter(|e| e.dirty == example.dirty)
            .count();
        if have < Self::EXAMPLES_PER_KIND {
            self.examples.push(example);
        }
    }

    /// Adds another report (e.g. of later patients) to this one.
    pub fn merge(&mut self, other: DirtyReport) {
        for (a, b) in self.counts.iter_mut().zip(other.counts) {
            *a += b;
        }
        self.observations += other.observations;
        for e in other.examples {
            let have = self.examples.iter().filter(|x| x.dirty == e.dirty).count();
            if have < Self::EXAMPLES_PER_KIND {
                self.examples.push(e);
            }
        }
    }
}

/// Appends one patient's observations to `out`, sorted by upload time (then effective time,
/// kind), and counts its defects in `report`.
pub fn generate_patient(
    cfg: &GenConfig,
    plan: &PatientPlan,
    out: &mut Vec<GenObs>,
    report: &mut DirtyReport,
) {
    let before = out.len();
    let stopped = GenConfig {
        end_us: cfg.end_us - i64::from(plan.stopped_days_ago) * 86_400_000_000,
        ..cfg.clone()
    };
    let cfg = if plan.stopped_days_ago > 0 {
        &stopped
    } else {
        cfg
    };
    model::generate_patient(cfg, plan, out, report);
    report.observations += (out.len() - before) as u64;
}

/// Generates every plan, on two threads, and returns the observations in plan order (each
/// patient's block sorted as [`generate_patient`] does). Deterministic.
pub fn generate_all(
    cfg: &GenConfig,
    plans: &[PatientPlan],
    report: &mut DirtyReport,
) -> Vec<GenObs> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, 2)
        .min(plans.len().max(1));
    let next = AtomicUsize::new(0);
    let mut done: Vec<(usize, Vec<GenObs>, DirtyReport)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                s.spawn(|| {
                    let mut mine = Vec::new();
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some(plan) = plans.get(i) else { break };
                        let mut out = Vec::new();
                        let mut rep = DirtyReport::default();
                        generate_patient(cfg, plan, &mut out, &mut rep);
                        out.shrink_to_fit();
                        mine.push((i, out, rep));
                    }
                    mine
                })
            })
            .collect();
        workers
            .into_iter()
            .flat_map(|w| match w.join() {
                Ok(v) => v,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    done.sort_by_key(|(i, _, _)| *i);
    let total = done.iter().map(|(_, v, _)| v.len()).sum();
    let mut all = Vec::with_capacity(total);
    for (_, obs, rep) in done {
        all.extend_from_slice(&obs);
        drop(obs);
        report.merge(rep);
    }
    all
}

#[cfg(test)]
mod tests;
