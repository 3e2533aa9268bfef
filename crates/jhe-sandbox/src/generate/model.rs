//! The physiological and device models: a per-patient profile, then one event stream per kind,
//! then dirt, upload gaps and packing.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::point::{mix64, GenPoint, PointFields, TZ_OFFSETS};
use super::{DirtyExample, DirtyKind, DirtyReport, GenConfig, GenObs, Kind, PatientPlan};

const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

const T_PROFILE: u64 = 1;
const T_SLEEP: u64 = 2;
const T_ACTIVITY: u64 = 3;
const T_GAP: u64 = 4;
const T_KIND: u64 = 0x100;
const T_DIRT: u64 = 0x200;
const T_EXTRA: u64 = 0x300;

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
fn stream(seed: u64, patient: u32, tag: u64) -> ChaCha8Rng {
    let key = mix64(seed ^ mix64(((patient as u64) << 20) ^ tag ^ 0x2545_f491_4f6c_dd1d));
    ChaCha8Rng::seed_from_u64(key)
}

fn gauss(rng: &mut ChaCha8Rng) -> f64 {
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

fn uni(rng: &mut ChaCha8Rng, lo: f64, hi: f64) -> f64 {
    lo + (hi - lo) * rng.random::<f64>()
}

fn chance(rng: &mut ChaCha8Rng, p: f64) -> bool {
    rng.random::<f64>() < p
}

fn irange(rng: &mut ChaCha8Rng, lo: i64, hi: i64) -> i64 {
    if hi <= lo {
        lo
    } else {
        rng.random_range(lo..=hi)
    }
}

fn pick_weighted(rng: &mut ChaCha8Rng, weights: &[f64]) -> usize {
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

fn tenths(x: f64) -> i32 {
    (x * 10.0).round() as i32
}

/// Tenths of a value rendered as an integer.
fn int_tenths(x: f64) -> i32 {
    x.round() as i32 * 10
}

/// A raw event before dirt and packing (times in UTC Unix seconds).
#[derive(Clone, Copy, Debug)]
struct Ev {
    start: i64,
    dur: u32,
    v1: i32,
    v2: u8,
    variant: u8,
    seq: u8,
    created_min: u8,
    self_reported: bool,
    uploaded: i64,
}

impl Ev {
    fn at(start: i64, v1: i32, uploaded: i64) -> Ev {
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
    fn end(&self) -> i64 {
        self.start + self.dur as i64
    }
}

#[derive(Clone, Copy, Debug)]
struct Glycemia {
    base: f64,
    meal_amp: f64,
    tau_min: f64,
    dawn: f64,
    /// Stationary SD of the slow AR(1) drift, mg/dL.
    drift_sd: f64,
    noise_sd: f64,
    hypo_per_day: f64,
}

/// Everything about a patient that does not change from day to day.
struct Profile {
    salt: u32,
    tz_index: u8,
    off: i64,
    local_share: f64,
    glyc: Glycemia,
    cgm_phase: i64,
    cgm_sync: i64,
    cgm_sync_phase: i64,
    sensor_phase: i64,
    sys: f64,
    dia: f64,
    bp_morning: f64,
    bp_evening: f64,
    bp_posture: bool,
    hr_rest: f64,
    wearable: bool,
    steps: f64,
    weekend_steps: f64,
    weight: f64,
    weight_drift: f64,
    weight_lb: bool,
    weight_self: bool,
    weigh_p: f64,
    temp_f: bool,
    temp_loc: u8,
    temp_self: bool,
    temp_p: f64,
    fever_day: Option<i64>,
    o2: f64,
    rr: f64,
    bed_h: f64,
    sleep_h: f64,
    sleep_eff: f64,
    sleep_in_hours: bool,
    act_rate: f64,
    fav: [u8; 3],
    act_self: bool,
}

fn profile(cfg: &GenConfig, patient: u32) -> Profile {
    let mut r = stream(cfg.seed, patient, T_PROFILE);
    let salt = (patient ^ (mix64(cfg.seed ^ 0x0123_4567_89ab_cdef) as u32)) & 0xff_ffff;
    let tz_weights = [
        14.0, 6.0, 12.0, 18.0, 3.0, 2.0, 8.0, 10.0, 4.0, 2.0, 7.0, 4.0, 3.0, 2.0, 2.0, 1.0,
    ];
    let tz_index = pick_weighted(&mut r, &tz_weights) as u8;
    let local_share = [0.0, 0.25, 0.6, 1.0][pick_weighted(&mut r, &[60.0, 15.0, 15.0, 10.0])];
    let glyc = match pick_weighted(&mut r, &[25.0, 20.0, 35.0, 20.0]) {
        0 => Glycemia {
            base: uni(&mut r, 86.0, 98.0),
            meal_amp: uni(&mut r, 25.0, 45.0),
            tau_min: uni(&mut r, 38.0, 55.0),
            dawn: uni(&mut r, 0.0, 8.0),
            drift_sd: 6.0,
            noise_sd: 3.0,
            hypo_per_day: 0.0,
        },
        1 => Glycemia {
            base: uni(&mut r, 98.0, 112.0),
            meal_amp: uni(&mut r, 40.0, 65.0),
            tau_min: uni(&mut r, 45.0, 60.0),
            dawn: uni(&mut r, 5.0, 15.0),
            drift_sd: 9.0,
            noise_sd: 4.0,
            hypo_per_day: 0.0,
        },
        2 => Glycemia {
            base: uni(&mut r, 110.0, 145.0),
            meal_amp: uni(&mut r, 55.0, 100.0),
            tau_min: uni(&mut r, 55.0, 75.0),
            dawn: uni(&mut r, 10.0, 35.0),
            drift_sd: 15.0,
            noise_sd: 5.0,
            hypo_per_day: 0.03,
        },
        _ => Glycemia {
            base: uni(&mut r, 115.0, 150.0),
            meal_amp: uni(&mut r, 70.0, 140.0),
            tau_min: uni(&mut r, 50.0, 80.0),
            dawn: uni(&mut r, 5.0, 30.0),
            drift_sd: 28.0,
            noise_sd: 6.0,
            hypo_per_day: 0.5,
        },
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
struct Frame {
    start_s: i64,
    end_s: i64,
    off: i64,
    /// First and last local day (days since 1970-01-01, local) that can hold data.
    d0: i64,
    d1: i64,
}

impl Frame {
    fn midnight(&self, day: i64) -> i64 {
        day * DAY - self.off
    }
    /// 0 = Sunday.
    fn weekday(day: i64) -> i64 {
        (day + 4).rem_euclid(7)
    }
    fn local_hour(&self, t: i64) -> f64 {
        (t + self.off).rem_euclid(DAY) as f64 / HOUR as f64
    }
    fn days(&self) -> std::ops::RangeInclusive<i64> {
        self.d0..=self.d1
    }
}

/// Nightly sleep intervals (start, seconds), shared by sleep, SpO2, respiratory rate and the
/// nightly heart rate.
fn sleep_schedule(cfg: &GenConfig, patient: u32, p: &Profile, f: &Frame) -> Vec<(i64, u32)> {
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
fn activity_schedule(cfg: &GenConfig, patient: u32, p: &Profile, f: &Frame) -> Vec<(i64, u32, u8)> {
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

struct Ctx<'a> {
    cfg: &'a GenConfig,
    patient: u32,
    p: &'a Profile,
    f: &'a Frame,
    sleep: &'a [(i64, u32)],
    acts: &'a [(i64, u32, u8)],
}

fn cgm(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f, g) = (c.p, c.f, c.p.glyc);
    // Sensor changes every 10 days (1.5–2.5 h warm-up) and signal losses.
    let mut gaps: Vec<(i64, i64)> = Vec::new();
    let mut s = f.start_s - p.sensor_phase;
    while s < f.end_s {
        gaps.push((s, s + irange(r, 90, 150) * MIN));
        s += 10 * DAY;
    }
    for d in f.days() {
        if chance(r, 0.2) {
            let at = f.midnight(d) + irange(r, 0, DAY - 1);
            gaps.push((at, at + irange(r, 15, 210) * MIN));
        }
    }
    gaps.sort_unstable();
    // Meals (time, mg/dL amplitude, tau minutes); hypoglycaemias as negative meals.
    let mut meals: Vec<(i64, f64, f64)> = Vec::new();
    for d in f.d0 - 1..=f.d1 {
        for (h, size, skip) in [(7.5, 0.8, 0.12), (12.5, 1.0, 0.08), (18.5, 1.15, 0.05)] {
            if chance(r, skip) {
                continue;
            }
            let t = f.midnight(d) + ((h + 0.7 * gauss(r)) * HOUR as f64) as i64;
            meals.push((t, g.meal_amp * size * uni(r, 0.5, 1.4), g.tau_min));
        }
        if chance(r, 0.35) {
            let t = f.midnight(d) + ((15.5 + gauss(r)) * HOUR as f64) as i64;
            meals.push((t, g.meal_amp * uni(r, 0.2, 0.45), g.tau_min * 0.8));
        }
        if chance(r, g.hypo_per_day) {
            let h = if chance(r, 0.5) {
                uni(r, 1.0, 5.0)
            } else {
                uni(r, 13.0, 18.0)
            };
            let t = f.midnight(d) + (h * HOUR as f64) as i64;
            meals.push((t, -uni(r, 0.45, 0.75) * g.base, 35.0));
        }
    }
    meals.sort_by_key(|m| m.0);

    let phi: f64 = 0.985;
    let innov = g.drift_sd * (1.0 - phi * phi).sqrt();
    let mut drift = g.drift_sd * gauss(r);
    let warm = f.start_s - 6 * HOUR;
    let mut t = warm - (warm - p.cgm_phase).rem_euclid(300) + 300;
    let mut out = Vec::with_capacity(((f.end_s - f.start_s) / 300 + 1).max(0) as usize);
    let (mut mi, mut gi) = (0usize, 0usize);
    while t <= f.end_s {
        drift = phi * drift + innov * gauss(r);
        let noise = g.noise_sd * gauss(r);
        while mi < meals.len() && meals[mi].0 < t - 8 * HOUR {
            mi += 1;
        }
        let mut meal = 0.0;
        for &(mt, amp, tau) in meals[mi..].iter().take_while(|m| m.0 <= t) {
            let x = (t - mt) as f64 / 60.0 / tau;
            meal += amp * x * (1.0 - x).exp();
        }
        let h = f.local_hour(t);
        let dawn = g.dawn * (-0.5 * ((h - 5.5) / 1.3).powi(2)).exp();
        let v = (g.base + dawn + meal + drift + noise).clamp(40.0, 400.0);
        while gi < gaps.len() && gaps[gi].1 <= t {
            gi += 1;
        }
        let in_gap = gaps[gi..].iter().take_while(|g| g.0 <= t).any(|g| t < g.1);
        if t >= f.start_s && !in_gap {
            let k = (t - p.cgm_sync_phase).div_euclid(p.cgm_sync) + 1;
            let sync = p.cgm_sync_phase + k * p.cgm_sync;
            let jitter = (mix64(k as u64 ^ p.salt as u64) % 600) as i64;
            out.push(Ev::at(t, int_tenths(v), sync + jitter));
        }
        t += 300;
    }
    out
}

fn blood_pressure(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f) = (c.p, c.f);
    let mut out = Vec::new();
    for d in f.days() {
        for (morning, prob, lo, hi) in [
            (true, p.bp_morning, 6.5, 8.5),
            (false, p.bp_evening, 19.0, 22.0),
        ] {
            if !chance(r, prob) {
                continue;
            }
            let t = f.midnight(d) + (uni(r, lo, hi) * HOUR as f64) as i64;
            let sys = p.sys + 7.0 * gauss(r) + if morning { 3.0 } else { -2.0 };
            let dia = (p.dia + 5.0 * gauss(r) + 0.3 * (sys - p.sys)).min(sys - 20.0);
            let mut e = Ev::at(t, int_tenths(sys), t + irange(r, 1, 45) * MIN);
            e.v2 = dia.round().clamp(0.0, 255.0) as u8;
            e.variant = p.bp_posture as u8;
            out.push(e);
        }
    }
    out
}

fn heart_rate(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f) = (c.p, c.f);
    let mut out = Vec::new();
    for d in f.days() {
        let n = irange(r, 2, 5);
        for _ in 0..n {
            let t = f.midnight(d) + irange(r, 8 * HOUR, 21 * HOUR + 30 * MIN);
            let active = chance(r, 0.15);
            let bpm = p.hr_rest + 4.0 * gauss(r) + if active { uni(r, 25.0, 45.0) } else { 0.0 };
            let mut e = Ev::at(t, int_tenths(bpm), t + irange(r, 5, 150) * MIN);
            e.variant = active as u8;
            out.push(e);
        }
    }
    if p.wearable {
        for &(s, dur) in c.sleep {
            let bpm = p.hr_rest - 6.0 + 1.5 * gauss(r);
            let created = irange(r, 20, 100) as u8;
            let mut e = Ev::at(s, tenths(bpm), 0);
            e.dur = dur;
            e.variant = 2;
            e.seq = 1;
            e.created_min = created;
            e.uploaded = e.end() + (created as i64 + irange(r, 1, 60)) * MIN;
            out.push(e);
        }
    }
    out
}

fn step_count(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f) = (c.p, c.f);
    let mut out = Vec::new();
    for d in f.days() {
        let start = f.midnight(d);
        let wd = Frame::weekday(d);
        let mut steps = p.steps
            * if wd == 0 || wd == 6 {
                p.weekend_steps
            } else {
                1.0
            }
            * (0.3 * gauss(r)).exp();
        for &(_, dur, act) in c.acts.iter().filter(|a| a.0 >= start && a.0 < start + DAY) {
            let (_, _, kmh, _, _) = ACTIVITIES[act as usize];
            if matches!(act, 0 | 1 | 6) {
                steps += kmh * dur as f64 / HOUR as f64 * 1300.0;
            }
        }
        let mut e = Ev::at(start, int_tenths(steps.clamp(150.0, 45_000.0)), 0);
        e.dur = DAY as u32;
        e.created_min = irange(r, 1, 15) as u8;
        e.uploaded = e.end() + irange(r, 7 * HOUR, 10 * HOUR + 30 * MIN);
        out.push(e);
    }
    out
}

fn body_weight(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f) = (c.p, c.f);
    let mut out = Vec::new();
    for d in f.days() {
        if !chance(r, p.weigh_p) {
            continue;
        }
        let t = f.midnight(d) + irange(r, 6 * HOUR, 9 * HOUR);
        let monday = if Frame::weekday(d) == 1 { 0.3 } else { 0.0 };
        let kg = p.weight + p.weight_drift * (d - f.d0) as f64 + 0.35 * gauss(r) + monday;
        let value = if p.weight_lb { kg * 2.204_62 } else { kg };
        let delay = if p.weight_self {
            irange(r, 1, 600)
        } else {
            irange(r, 1, 30)
        };
        let mut e = Ev::at(t, tenths(value), t + delay * MIN);
        e.variant = p.weight_lb as u8;
        e.self_reported = p.weight_self;
        out.push(e);
    }
    out
}

fn nightly(c: &Ctx, r: &mut ChaCha8Rng, value: impl Fn(&mut ChaCha8Rng) -> f64) -> Vec<Ev> {
    let mut out = Vec::with_capacity(c.sleep.len());
    for &(s, dur) in c.sleep {
        let v = value(r);
        let created = irange(r, 20, 100) as u8;
        let mut e = Ev::at(s, tenths(v), 0);
        e.dur = dur;
        e.created_min = created;
        e.uploaded = e.end() + (created as i64 + irange(r, 1, 60)) * MIN;
        out.push(e);
    }
    out
}

fn body_temperature(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let (p, f) = (c.p, c.f);
    let mut out = Vec::new();
    for d in f.days() {
        let fever = p
            .fever_day
            .is_some_and(|fd| (0..3).contains(&(d - f.d0 - fd)));
        let n = if fever {
            irange(r, 2, 3)
        } else {
            chance(r, p.temp_p) as i64
        };
        for _ in 0..n {
            let t = f.midnight(d) + irange(r, 7 * HOUR, 22 * HOUR);
            let c_deg = if fever {
                uni(r, 37.9, 39.3)
            } else {
                36.75 + 0.25 * gauss(r)
            };
            let value = if p.temp_f {
                c_deg * 9.0 / 5.0 + 32.0
            } else {
                c_deg
            };
            let mut e = Ev::at(t, tenths(value), t + irange(r, 1, 180) * MIN);
            e.variant = p.temp_f as u8 | (p.temp_loc << 1);
            e.self_reported = p.temp_self;
            out.push(e);
        }
    }
    out
}

fn sleep_duration(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let p = c.p;
    let mut out = Vec::with_capacity(c.sleep.len());
    for &(s, dur) in c.sleep {
        let eff = (p.sleep_eff + 0.03 * gauss(r)).clamp(0.7, 0.99);
        let created = irange(r, 10, 90) as u8;
        let mut e = Ev::at(s, tenths(dur as f64 / 60.0 * eff), 0);
        e.dur = dur;
        e.variant = p.sleep_in_hours as u8;
        e.created_min = created;
        e.uploaded = e.end() + (created as i64 + irange(r, 1, 30)) * MIN;
        out.push(e);
    }
    out
}

fn physical_activity(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
    let p = c.p;
    let mut out = Vec::with_capacity(c.acts.len());
    for &(s, dur, act) in c.acts {
        let (_, met, kmh, _, _) = ACTIVITIES[act as usize];
        let hours = dur as f64 / HOUR as f64;
        let kcal = met * p.weight * hours * uni(r, 0.9, 1.1);
        let km = kmh * hours * uni(r, 0.85, 1.15);
        let created = irange(r, 1, 10) as u8;
        let mut e = Ev::at(s, tenths(kcal), 0);
        e.dur = dur;
        e.v2 = (km * 10.0).round().clamp(0.0, 255.0) as u8;
        e.variant = act;
        e.created_min = created;
        e.self_reported = p.act_self;
        e.uploaded = e.end() + irange(r, 5, 240) * MIN;
        out.push(e);
    }
    out
}

fn events(kind: Kind, c: &Ctx) -> Vec<Ev> {
    let mut r = stream(c.cfg.seed, c.patient, T_KIND + kind.index() as u64);
    let p = c.p;
    match kind {
        Kind::BloodGlucose => cgm(c, &mut r),
        Kind::BloodPressure => blood_pressure(c, &mut r),
        Kind::HeartRate => heart_rate(c, &mut r),
        Kind::StepCount => step_count(c, &mut r),
        Kind::BodyWeight => body_weight(c, &mut r),
        Kind::OxygenSaturation => nightly(c, &mut r, |r| (p.o2 + 0.6 * gauss(r)).min(100.0)),
        Kind::RespiratoryRate => nightly(c, &mut r, |r| p.rr + 0.8 * gauss(r)),
        Kind::BodyTemperature => body_temperature(c, &mut r),
        Kind::SleepDuration => sleep_duration(c, &mut r),
        Kind::PhysicalActivity => physical_activity(c, &mut r),
    }
}

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
        let probe = GenPoint::pack(&f);
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
