//! The physiological and device models: a per-patient profile, then one event stream per kind,
//! then dirt, upload gaps and packing.
//!
//! `profile` draws the patient and the shared schedules, `kinds` the events of each kind; this
//! module filters them to the window, adds dirt and upload gaps and packs the points.

mod kinds;
mod profile;

use rand_chacha::ChaCha8Rng;

pub(crate) use profile::{ACTIVITIES, TEMP_LOCATIONS};

use super::point::{GenPoint, PointFields};
use super::{DirtyExample, DirtyKind, DirtyReport, GenConfig, GenObs, Kind, PatientPlan};
use kinds::{events, Ctx};
use profile::*;

/// (v1 tenths, v2) of an impossible value for this kind.
fn implausible(kind: Kind, e: &Ev, r: &mut ChaCha8Rng) -> (i32, u8) {
    let pick = |r: &mut ChaCha8Rng, xs: &[i32]| xs[irange(r, 0, xs.len() as i64 - 1) as usize];
    match kind {
        Kind::BloodGlucose => (pick(r, &[12_000, 9_990, 20]), 0),
        Kind::BloodPressure => match irange(r, 0, 2) {
            0 => (3_000, 40),
            1 => (600, 120),
            _ => (0, 0),
        },
        Kind::HeartRate => (pick(r, &[4_000, 0, 120]), 0),
        Kind::StepCount => (pick(r, &[-12_000, -50]), 0),
        Kind::BodyWeight => (pick(r, &[-30, 0, 8_800]), 0),
        Kind::OxygenSaturation => (pick(r, &[1_300, 125]), 0),
        Kind::RespiratoryRate => (pick(r, &[950, 0]), 0),
        Kind::BodyTemperature => {
            if e.variant & 1 == 1 {
                (pick(r, &[1_184, 779]), 0)
            } else {
                (pick(r, &[480, 255]), 0)
            }
        }
        Kind::SleepDuration => (pick(r, &[-450, 15_600]), 0),
        // Total sleep time (the rest of the night follows from it and the time in bed).
        Kind::SleepEpisode | Kind::SleepStageSummary => (pick(r, &[-450, 15_600]), e.v2),
        Kind::PhysicalActivity => (pick(r, &[-2_500, 480_000]), e.v2),
    }
}

/// Dirt applicable to a point of this kind, with weights.
fn dirt_weights(kind: Kind) -> [(DirtyKind, f64); 6] {
    let glucose = if kind == Kind::BloodGlucose { 2.0 } else { 0.0 };
    [
        (DirtyKind::UnitMgdl, glucose),
        (DirtyKind::UnitMmolL, glucose),
        (DirtyKind::NoOffset, 3.0),
        (DirtyKind::FutureTimestamp, 0.5),
        (DirtyKind::DuplicateUuid, 2.0),
        (DirtyKind::ImplausibleValue, 2.0),
    ]
}

/// Share of dirt spent on in-scope points; out-of-scope bursts and duplicates make up the rest.
const IN_SCOPE_DIRT: f64 = 0.9;

/// Rows of one out-of-scope kind per in-scope row and unit of `dirty_share`.
const OUT_OF_SCOPE_RATE: f64 = 0.08;

struct Packer<'a> {
    p: &'a Profile,
    patient: u32,
    kind: Kind,
    end_s: i64,
}

impl Packer<'_> {
    fn point(&self, e: &Ev, dirty: Option<DirtyKind>) -> GenPoint {
        let mut f = PointFields {
            start_s: e.start.clamp(0, u32::MAX as i64) as u32,
            salt: self.p.salt,
            seq: e.seq,
            dirty,
            local: false,
            duration_s: e.dur,
            v1_tenths: e.v1,
            v2: e.v2,
            kind_index: self.kind.index() as u8,
            tz_index: self.p.tz_index,
            variant: e.variant,
            created_min: e.created_min,
            self_reported: e.self_reported,
        };
        // A night's sleep records come from one sync: their times are written as the night's
        // sleep duration's are.
        let style = match self.kind {
            Kind::SleepEpisode | Kind::SleepStageSummary => Kind::SleepDuration,
            k => k,
        };
        let probe = GenPoint::pack(&PointFields {
            kind_index: style.index() as u8,
            ..f
        });
        f.local = probe.unit_hash(0x10ca1) < self.p.local_share;
        GenPoint::pack(&f)
    }

    fn obs(&self, point: GenPoint, uploaded: i64) -> GenObs {
        let start = point.effective_start_us();
        let end = point.effective_end_us();
        // Uploaded after the measurement (future-dated dirt aside), never after the end.
        let floor = point.start_s() as i64 + point.duration_s() as i64;
        let up = if point.dirty() == Some(DirtyKind::FutureTimestamp) {
            uploaded
        } else {
            uploaded.max(floor)
        };
        GenObs {
            patient_id: self.patient,
            kind: self.kind,
            effective_start_us: Some(start),
            effective_end_us: end,
            uploaded_us: up.min(self.end_s) * 1_000_000,
            point,
        }
    }

    fn note(&self, report: &mut DirtyReport, dirty: DirtyKind, point: &GenPoint) {
        report.note(DirtyExample {
            patient_id: self.patient,
            kind: Some(self.kind),
            dirty,
            effective_us: point.effective_start_us(),
            until_us: None,
        });
    }
}

/// Window filter, upload gap, unique (start, seq) per stream.
fn prepare(mut evs: Vec<Ev>, f: &Frame, gap: Option<(i64, i64)>) -> Vec<Ev> {
    evs.retain(|e| e.start >= f.start_s && e.end() <= f.end_s);
    if let Some((g0, g1)) = gap {
        evs.retain(|e| e.end() < g0 || e.start >= g1);
    }
    evs.sort_by_key(|e| (e.seq, e.start));
    for i in 1..evs.len() {
        if evs[i].seq == evs[i - 1].seq && evs[i].start <= evs[i - 1].start {
            evs[i].start = evs[i - 1].start + 1;
        }
    }
    evs.sort_by_key(|e| (e.start, e.seq));
    evs
}

pub(crate) fn generate_patient(
    cfg: &GenConfig,
    plan: &PatientPlan,
    out: &mut Vec<GenObs>,
    report: &mut DirtyReport,
) {
    let patient = plan.patient_id;
    let p = profile(cfg, patient);
    let end_s = cfg
        .end_us
        .div_euclid(1_000_000)
        .clamp(0, u32::MAX as i64 - 30 * DAY);
    let start_s = (end_s - cfg.days as i64 * DAY).max(0);
    let f = Frame {
        start_s,
        end_s,
        off: p.off,
        d0: (start_s + p.off).div_euclid(DAY),
        d1: (end_s + p.off).div_euclid(DAY),
    };
    let share = if cfg.dirty_share.is_finite() {
        cfg.dirty_share.clamp(0.0, 1.0)
    } else {
        0.0
    };

    // A patient who stops uploading for a few days.
    let mut gr = stream(cfg.seed, patient, T_GAP);
    let gap = if cfg.days >= 8 && chance(&mut gr, (share * 15.0).min(1.0)) {
        let len = irange(&mut gr, 2, 6) * DAY + irange(&mut gr, 0, 12 * HOUR);
        let g0 = irange(&mut gr, start_s + DAY, end_s - len - DAY);
        Some((g0, g0 + len))
    } else {
        None
    };
    if let Some((g0, g1)) = gap {
        report.note(DirtyExample {
            patient_id: patient,
            kind: None,
            dirty: DirtyKind::UploadGap,
            effective_us: g0 * 1_000_000,
            until_us: Some(g1 * 1_000_000),
        });
    }

    let sleep = sleep_schedule(cfg, patient, &p, &f);
    let acts = activity_schedule(cfg, patient, &p, &f);
    let ctx = Ctx {
        cfg,
        patient,
        p: &p,
        f: &f,
        sleep: &sleep,
        acts: &acts,
    };
    let first = out.len();

    let mut kinds: Vec<Kind> = Vec::new();
    for k in &plan.kinds {
        if !kinds.contains(k) {
            kinds.push(*k);
        }
    }
    let mut in_scope = 0usize;
    for &kind in &kinds {
        let evs = prepare(events(kind, &ctx), &f, gap);
        let pk = Packer {
            p: &p,
            patient,
            kind,
            end_s,
        };
        let mut dr = stream(cfg.seed, patient, T_DIRT + kind.index() as u64);
        let weights = dirt_weights(kind);
        let w: Vec<f64> = weights.iter().map(|x| x.1).collect();
        let mut future_starts: Vec<i64> = Vec::new();
        out.reserve(evs.len() + evs.len() / 50);
        for e in &evs {
            in_scope += 1;
            let dirty = if chance(&mut dr, share * IN_SCOPE_DIRT) {
                Some(weights[pick_weighted(&mut dr, &w)].0)
            } else {
                None
            };
            match dirty {
                None => out.push(pk.obs(pk.point(e, None), e.uploaded)),
                Some(DirtyKind::DuplicateUuid) => {
                    let original = pk.point(e, None);
                    out.push(pk.obs(original, e.uploaded));
                    let copy = original.with_dirty(Some(DirtyKind::DuplicateUuid));
                    let later = e.uploaded.max(e.end()) + irange(&mut dr, HOUR, 36 * HOUR);
                    out.push(pk.obs(copy, later));
                    pk.note(report, DirtyKind::DuplicateUuid, &copy);
                }
                Some(DirtyKind::ImplausibleValue) => {
                    let (v1, v2) = implausible(kind, e, &mut dr);
                    let bad = Ev { v1, v2, ..*e };
                    let point = pk.point(&bad, dirty);
                    out.push(pk.obs(point, e.uploaded));
                    pk.note(report, DirtyKind::ImplausibleValue, &point);
                }
                Some(DirtyKind::FutureTimestamp) => {
                    let k = (end_s - e.start).div_euclid(DAY) + irange(&mut dr, 1, 5);
                    let mut start = e.start + k * DAY;
                    while future_starts.contains(&start) {
                        start += 1;
                    }
                    future_starts.push(start);
                    let point = pk.point(&Ev { start, ..*e }, dirty);
                    out.push(pk.obs(point, e.uploaded));
                    pk.note(report, DirtyKind::FutureTimestamp, &point);
                }
                Some(d) => {
                    let point = pk.point(e, Some(d));
                    out.push(pk.obs(point, e.uploaded));
                    pk.note(report, d, &point);
                }
            }
        }
    }

    // Out-of-scope types: one short burst each, every row dirty.
    let mut seen_extra: Vec<Kind> = Vec::new();
    for &kind in &plan.extra_kinds {
        if kinds.contains(&kind) || seen_extra.contains(&kind) {
            continue;
        }
        seen_extra.push(kind);
        let budget = (in_scope as f64 * share * OUT_OF_SCOPE_RATE).ceil() as usize;
        if budget == 0 {
            continue;
        }
        let evs = prepare(events(kind, &ctx), &f, gap);
        if evs.is_empty() {
            continue;
        }
        let n = budget.min(evs.len());
        let mut er = stream(cfg.seed, patient, T_EXTRA + kind.index() as u64);
        let i0 = irange(&mut er, 0, (evs.len() - n) as i64) as usize;
        let pk = Packer {
            p: &p,
            patient,
            kind,
            end_s,
        };
        for e in &evs[i0..i0 + n] {
            let point = pk.point(e, Some(DirtyKind::OutOfScopeCode));
            out.push(pk.obs(point, e.uploaded));
            pk.note(report, DirtyKind::OutOfScopeCode, &point);
        }
    }

    out[first..].sort_by_key(|o| {
        (
            o.uploaded_us,
            o.point.start_s(),
            o.kind.index(),
            o.point.seq(),
            o.point.dirty().is_some(),
        )
    });
}
