//! One event stream per kind: CGM with meals, dawn rhythm and sensor gaps; home blood pressure;
//! heart rate; daily steps; weigh-ins; nightly SpO2 and respiratory rate; temperature with
//! fevers; sleep (duration, and the episode and stage summary of the same nights); workouts.

use rand_chacha::ChaCha8Rng;

use super::super::point::mix64;
use super::super::{GenConfig, Kind};
use super::profile::*;

pub(super) struct Ctx<'a> {
    pub(super) cfg: &'a GenConfig,
    pub(super) patient: u32,
    pub(super) p: &'a Profile,
    pub(super) f: &'a Frame,
    pub(super) sleep: &'a [(i64, u32)],
    pub(super) acts: &'a [(i64, u32, u8)],
}

pub(super) fn cgm(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn blood_pressure(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn heart_rate(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn step_count(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn body_weight(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn nightly(
    c: &Ctx,
    r: &mut ChaCha8Rng,
    value: impl Fn(&mut ChaCha8Rng) -> f64,
) -> Vec<Ev> {
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

pub(super) fn body_temperature(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn sleep_duration(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

/// The night's sleep episode or stage summary: the same nights as [`sleep_duration`] (its own
/// stream, replayed, so its values are unchanged), with the same interval (in bed), total sleep
/// time (`v1`, tenths of a minute), unit (`variant`) and sync. The rest of the night (latencies,
/// wake after sleep onset, stages) is derived from the night at render time, identically for
/// both kinds.
pub(super) fn sleep_record(c: &Ctx) -> Vec<Ev> {
    let mut r = stream(
        c.cfg.seed,
        c.patient,
        T_KIND + Kind::SleepDuration.index() as u64,
    );
    sleep_duration(c, &mut r)
}

pub(super) fn physical_activity(c: &Ctx, r: &mut ChaCha8Rng) -> Vec<Ev> {
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

pub(super) fn events(kind: Kind, c: &Ctx) -> Vec<Ev> {
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
        Kind::SleepEpisode | Kind::SleepStageSummary => sleep_record(c),
    }
}
