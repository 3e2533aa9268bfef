//! A patient's profile (what does not change from day to day: glycaemia, blood pressure, habits,
//! devices, time zone), the generation window in the patient's calendar, the nightly sleep and
//! workout schedules other streams share, and the seeded random helpers.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::super::point::{mix64, TZ_OFFSETS};
use super::super::GenConfig;

pub(super) const MIN: i64 = 60;

pub(super) const HOUR: i64 = 3_600;

pub(super) const DAY: i64 = 86_400;

pub(super) const T_PROFILE: u64 = 1;

pub(super) const T_SLEEP: u64 = 2;

pub(super) const T_ACTIVITY: u64 = 3;

pub(super) const T_GAP: u64 = 4;

pub(super) const T_KIND: u64 = 0x100;

pub(super) const T_DIRT: u64 = 0x200;

pub(super) const T_EXTRA: u64 = 0x300;

/// Physical activities: (OMH activity_name, MET, km/h or 0, minutes min, minutes max).
pub(crate) const ACTIVITIES: [(&str, f64, f64, i64, i64); 10] = [
    ("walking", 3.5, 5.0, 20, 70),
    ("running", 9.8, 10.0, 20, 60),
    ("cycling", 7.5, 16.0, 30, 90),
    ("swimming", 7.0, 2.5, 25, 60),
    ("yoga", 2.5, 0.0, 30, 75),
    ("strength training", 5.0, 0.0, 30, 60),
    ("hiking", 6.0, 4.0, 60, 180),
    ("elliptical", 5.0, 0.0, 20, 45),
    ("dancing", 5.5, 0.0, 30, 90),
    ("rowing", 7.0, 0.0, 20, 40),
];

/// `body_temperature.measurement_location` choices (variant bits 1..4).
pub(crate) const TEMP_LOCATIONS: [&str; 6] = [
    "oral",
    "forehead",
    "tympanic",
    "axillary",
    "temporal artery",
    "wrist",
];

/// Per-patient stream of random numbers for one purpose.
pub(super) fn stream(seed: u64, patient: u32, tag: u64) -> ChaCha8Rng {
    let key = mix64(seed ^ mix64(((patient as u64) << 20) ^ tag ^ 0x2545_f491_4f6c_dd1d));
    ChaCha8Rng::seed_from_u64(key)
}

pub(super) fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

pub(super) fn uni(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

pub(super) fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

pub(super) fn irange(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

pub(super) fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
    let total: f64 = weights.iter().sum();
    let mut x = rng.random::<f64>() * total;
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    weights.len().saturating_sub(1)
}

pub(super) fn tenths(x: f64) -> i32 {
    (x * 10.0).round() as i32
}

/// Tenths of a value rendered as an integer.
pub(super) fn int_tenths(x: f64) -> i32 {
    x.round() as i32 * 10
}

/// A raw event before dirt and packing (times in UTC Unix seconds).
#[derive(Clone, Copy, Debug)]
pub(super) struct Ev {
    pub(super) start: i64,
    pub(super) dur: u32,
    pub(super) v1: i32,
    pub(super) v2: u8,
    pub(super) variant: u8,
    pub(super) seq: u8,
    pub(super) created_min: u8,
    pub(super) self_reported: bool,
    pub(super) uploaded: i64,
}

impl Ev {
    pub(super) fn at(start: i64, v1: i32, uploaded: i64) -> Ev {
        Ev {
            start,
            dur: 0,
            v1,
            v2: 0,
            variant: 0,
            seq: 0,
            created_min: 0,
            self_reported: false,
            uploaded,
        }
    }
    pub(super) fn end(&self) -> i64 {
        self.start + self.dur as i64
    }
}

#[derive(Clone, Copy, Debug)]
pub(super) struct Glycemia {
    pub(super) base: f64,
    pub(super) meal_amp: f64,
    pub(super) tau_min: f64,
    pub(super) dawn: f64,
    /// Stationary SD of the slow AR(1) drift, mg/dL.
    pub(super) drift_sd: f64,
    pub(super) noise_sd: f64,
    pub(super) hypo_per_day: f64,
}

/// Everything about a patient that does not change from day to day.
pub(super) struct Profile {
    pub(super) salt: u32,
    pub(super) tz_index: u8,
    pub(super) off: i64,
    pub(super) local_share: f64,
    pub(super) glyc: Glycemia,
    pub(super) cgm_phase: i64,
    pub(super) cgm_sync: i64,
    pub(super) cgm_sync_phase: i64,
    pub(super) sensor_phase: i64,
    pub(super) sys: f64,
    pub(super) dia: f64,
    pub(super) bp_morning: f64,
    pub(super) bp_evening: f64,
    pub(super) bp_posture: bool,
    pub(super) hr_rest: f64,
    pub(super) wearable: bool,
    pub(super) steps: f64,
    pub(super) weekend_steps: f64,
    pub(super) weight: f64,
    pub(super) weight_drift: f64,
    pub(super) weight_lb: bool,
    pub(super) weight_self: bool,
    pub(super) weigh_p: f64,
    pub(super) temp_f: bool,
    pub(super) temp_loc: u8,
    pub(super) temp_self: bool,
    pub(super) temp_p: f64,
    pub(super) fever_day: Option<i64>,
    pub(super) o2: f64,
    pub(super) rr: f64,
    pub(super) bed_h: f64,
    pub(super) sleep_h: f64,
    pub(super) sleep_eff: f64,
    pub(super) sleep_in_hours: bool,
    pub(super) act_rate: f64,
    pub(super) fav: [u8; 3],
    pub(super) act_self: bool,
}

/// Glycaemia profiles (normal, prediabetic, type 2, type 1): ranges of the baseline, meal
/// amplitude, meal tau in minutes and dawn rise, then drift SD, noise SD and hypos a day.
type GlycemiaRange = ([f64; 2], [f64; 2], [f64; 2], [f64; 2], f64, f64, f64);
const GLYCEMIA: [GlycemiaRange; 4] = [
    (
        [86.0, 98.0],
        [25.0, 45.0],
        [38.0, 55.0],
        [0.0, 8.0],
        6.0,
        3.0,
        0.0,
    ),
    (
        [98.0, 112.0],
        [40.0, 65.0],
        [45.0, 60.0],
        [5.0, 15.0],
        9.0,
        4.0,
        0.0,
    ),
    (
        [110.0, 145.0],
        [55.0, 100.0],
        [55.0, 75.0],
        [10.0, 35.0],
        15.0,
        5.0,
        0.03,
    ),
    (
        [115.0, 150.0],
        [70.0, 140.0],
        [50.0, 80.0],
        [5.0, 30.0],
        28.0,
        6.0,
        0.5,
    ),
];

pub(super) fn profile(cfg: &GenConfig, patient: u32) -> Profile {
    let mut r = stream(cfg.seed, patient, T_PROFILE);
    let salt = (patient ^ (mix64(cfg.seed ^ 0x0123_4567_89ab_cdef) as u32)) & 0xff_ffff;
    let tz_weights = [
        14.0, 6.0, 12.0, 18.0, 3.0, 2.0, 8.0, 10.0, 4.0, 2.0, 7.0, 4.0, 3.0, 2.0, 2.0, 1.0,
    ];
    let tz_index = pick_weighted(&mut r, &tz_weights) as u8;
    let local_share = [0.0, 0.25, 0.6, 1.0][pick_weighted(&mut r, &[60.0, 15.0, 15.0, 10.0])];
    let (b, m, t, d, drift_sd, noise_sd, hypo_per_day) =
        GLYCEMIA[pick_weighted(&mut r, &[25.0, 20.0, 35.0, 20.0])];
    let glyc = Glycemia {
        base: uni(&mut r, b[0], b[1]),
        meal_amp: uni(&mut r, m[0], m[1]),
        tau_min: uni(&mut r, t[0], t[1]),
        dawn: uni(&mut r, d[0], d[1]),
        drift_sd,
        noise_sd,
        hypo_per_day,
    };
    let (sys, dia) = match pick_weighted(&mut r, &[40.0, 30.0, 30.0]) {
        0 => (uni(&mut r, 106.0, 122.0), uni(&mut r, 64.0, 78.0)),
        1 => (uni(&mut r, 126.0, 138.0), uni(&mut r, 80.0, 88.0)),
        _ => (uni(&mut r, 140.0, 160.0), uni(&mut r, 88.0, 99.0)),
    };
    let mut fav = [0u8; 3];
    for f in fav.iter_mut() {
        *f = irange(&mut r, 0, ACTIVITIES.len() as i64 - 1) as u8;
    }
    Profile {
        salt,
        tz_index,
        off: TZ_OFFSETS[tz_index as usize] as i64,
        local_share,
        glyc,
        cgm_phase: irange(&mut r, 0, 299),
        cgm_sync: [1, 2, 3, 3, 4, 6][irange(&mut r, 0, 5) as usize] * HOUR,
        cgm_sync_phase: irange(&mut r, 0, 6 * HOUR),
        sensor_phase: irange(&mut r, 0, 10 * DAY - 1),
        sys,
        dia,
        bp_morning: uni(&mut r, 0.6, 0.95),
        bp_evening: uni(&mut r, 0.15, 0.7),
        bp_posture: chance(&mut r, 0.5),
        hr_rest: uni(&mut r, 55.0, 82.0),
        wearable: chance(&mut r, 0.75),
        steps: uni(&mut r, 2500.0, 12000.0),
        weekend_steps: uni(&mut r, 0.75, 1.25),
        weight: (82.0 + 17.0 * gauss(&mut r)).clamp(48.0, 150.0),
        weight_drift: 0.015 * gauss(&mut r),
        weight_lb: chance(&mut r, 0.3),
        weight_self: chance(&mut r, 0.25),
        weigh_p: uni(&mut r, 0.5, 0.95),
        temp_f: chance(&mut r, 0.45),
        temp_loc: irange(&mut r, 0, TEMP_LOCATIONS.len() as i64 - 1) as u8,
        temp_self: chance(&mut r, 0.6),
        temp_p: uni(&mut r, 0.03, 0.15),
        fever_day: if chance(&mut r, 0.25) {
            Some(irange(&mut r, 0, cfg.days.max(1) as i64 - 1))
        } else {
            None
        },
        o2: if chance(&mut r, 0.25) {
            uni(&mut r, 92.5, 94.5)
        } else {
            uni(&mut r, 95.5, 98.0)
        },
        rr: uni(&mut r, 12.0, 17.0),
        bed_h: uni(&mut r, 21.75, 24.5),
        sleep_h: uni(&mut r, 5.8, 8.3),
        sleep_eff: uni(&mut r, 0.82, 0.95),
        sleep_in_hours: chance(&mut r, 0.2),
        act_rate: uni(&mut r, 0.05, 0.8),
        fav,
        act_self: chance(&mut r, 0.3),
    }
}

/// The generation window and the patient's local calendar.
pub(super) struct Frame {
    pub(super) start_s: i64,
    pub(super) end_s: i64,
    pub(super) off: i64,
    /// First and last local day (days since 1970-01-01, local) that can hold data.
    pub(super) d0: i64,
    pub(super) d1: i64,
}

impl Frame {
    pub(super) fn midnight(&self, day: i64) -> i64 {
        day * DAY - self.off
    }
    /// 0 = Sunday.
    pub(super) fn weekday(day: i64) -> i64 {
        (day + 4).rem_euclid(7)
    }
    pub(super) fn local_hour(&self, t: i64) -> f64 {
        (t + self.off).rem_euclid(DAY) as f64 / HOUR as f64
    }
    pub(super) fn days(&self) -> std::ops::RangeInclusive<i64> {
        self.d0..=self.d1
    }
}

/// Nightly sleep intervals (start, seconds), shared by sleep, SpO2, respiratory rate and the
/// nightly heart rate.
pub(super) fn sleep_schedule(
    cfg: &GenConfig,
    patient: u32,
    p: &Profile,
    f: &Frame,
) -> Vec<(i64, u32)> {
    let mut r = stream(cfg.seed, patient, T_SLEEP);
    let mut out = Vec::new();
    for d in f.d0 - 1..=f.d1 {
        let wd = Frame::weekday(d);
        let weekend = wd == 5 || wd == 6;
        let bed_h = p.bed_h + 0.5 * gauss(&mut r) + if weekend { 0.6 } else { 0.0 };
        let hours =
            (p.sleep_h + 0.75 * gauss(&mut r) + if weekend { 0.5 } else { 0.0 }).clamp(3.5, 11.5);
        let jitter = irange(&mut r, 0, 59);
        let skipped = chance(&mut r, 0.06);
        if skipped {
            continue;
        }
        let start = f.midnight(d) + (bed_h * HOUR as f64) as i64 + jitter;
        out.push((
            start,
            (hours * HOUR as f64) as u32 + irange(&mut r, 0, 59) as u32,
        ));
    }
    out
}

/// Workouts (start, seconds, activity index).
pub(super) fn activity_schedule(
    cfg: &GenConfig,
    patient: u32,
    p: &Profile,
    f: &Frame,
) -> Vec<(i64, u32, u8)> {
    let mut r = stream(cfg.seed, patient, T_ACTIVITY);
    let mut out = Vec::new();
    for d in f.days() {
        let n = if chance(&mut r, p.act_rate) {
            1 + chance(&mut r, 0.15) as i64
        } else {
            0
        };
        let mut earliest = f.midnight(d) + 6 * HOUR;
        for _ in 0..n {
            let act = p.fav[irange(&mut r, 0, 2) as usize];
            let (_, _, _, lo, hi) = ACTIVITIES[act as usize];
            let minutes = irange(&mut r, lo, hi);
            let latest = f.midnight(d) + 20 * HOUR;
            if earliest >= latest {
                break;
            }
            let start = irange(&mut r, earliest, latest);
            let secs = (minutes * MIN + irange(&mut r, 0, 59)) as u32;
            out.push((start, secs, act));
            earliest = start + secs as i64 + HOUR;
        }
    }
    out
}
