//! Rendering a [`GenPoint`] to its OMH data point JSON (IEEE 1752 for the sleep stage summary:
//! the same header and time frame, `schema_id.namespace` `ieee`).

use serde_json::{Map, Value};

use super::model::{ACTIVITIES, TEMP_LOCATIONS};
use super::point::{format_time, mix64, GenPoint, TimeStyle};
use super::{DirtyKind, GenObs, Kind};

/// mg/dL per mmol/L of glucose.
const MGDL_PER_MMOLL: f64 = 18.016;

/// The full OMH data point `{"header": {...}, "body": {...}}` of a generated observation.
pub fn render(obs: &GenObs) -> Value {
    render_point(obs.kind, &obs.point)
}

fn obj<const N: usize>(pairs: [(&str, Value); N]) -> Value {
    let mut m = Map::new();
    for (k, v) in pairs {
        m.insert(k.to_string(), v);
    }
    Value::Object(m)
}

fn s(x: &str) -> Value {
    Value::String(x.to_string())
}

fn int(x: i64) -> Value {
    Value::from(x)
}

/// A float with `decimals` digits (rendered like Python: `72.0`, `97.3`).
fn num(x: f64, decimals: i32) -> Value {
    let p = 10f64.powi(decimals);
    Value::from((x * p).round() / p)
}

fn unit_value(unit: &str, value: Value) -> Value {
    obj([("unit", s(unit)), ("value", value)])
}

/// The device or app a patient's data of this kind comes from (fixed per patient and kind).
fn source_name(kind: Kind, p: &GenPoint) -> &'static str {
    let pick = |xs: &[&'static str]| {
        let i = mix64(p.salt() as u64 ^ 0x5eed ^ ((kind as u64) << 40)) as usize % xs.len();
        xs[i]
    };
    let wearable = || {
        let xs = ["Oura", "Fitbit", "Garmin Connect", "Apple Health"];
        xs[mix64(p.salt() as u64 ^ 0xa11) as usize % xs.len()]
    };
    match kind {
        Kind::BloodGlucose => pick(&["Dexcom G7", "FreeStyle Libre 3", "Dexcom G6"]),
        Kind::BloodPressure => pick(&["Omron Connect", "iHealth", "Withings Health Mate"]),
        Kind::HeartRate if p.variant() == 2 => wearable(),
        Kind::HeartRate => pick(&["Apple Health", "Fitbit", "Omron Connect"]),
        Kind::OxygenSaturation
        | Kind::RespiratoryRate
        | Kind::SleepDuration
        | Kind::SleepEpisode
        | Kind::SleepStageSummary => wearable(),
        Kind::StepCount => pick(&["Apple Health", "Google Fit", "Fitbit", "Garmin Connect"]),
        Kind::BodyWeight if p.self_reported() => "manual entry",
        Kind::BodyWeight => pick(&["Withings Health Mate", "Renpho", "Fitbit Aria"]),
        Kind::BodyTemperature if p.self_reported() => "manual entry",
        Kind::BodyTemperature => pick(&["Kinsa", "iHealth", "Withings Thermo"]),
        Kind::PhysicalActivity if p.self_reported() => "manual entry",
        Kind::PhysicalActivity => pick(&["Strava", "Apple Health", "Garmin Connect"]),
    }
}

/// One night as the sleep episode and the stage summary report it, derived from the point's
/// interval (the time in bed), its total sleep time and the night's identity (patient, start),
/// not the kind: both kinds of the same night agree. Durations in whole minutes.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Night {
    /// Total sleep time in whole minutes, the nearest to what the sleep duration sends (the
    /// stage summary's, which its stages sum to; the sleep episode sends it as the sleep
    /// duration does, see [`asleep`]).
    pub tst: i64,
    /// Time in bed (the effective interval), minutes.
    pub in_bed: f64,
    pub latency_to_onset: i64,
    pub latency_to_arising: i64,
    pub wake_after_onset: i64,
    pub awakenings: i64,
    pub light: i64,
    pub deep: i64,
    pub rem: i64,
    pub light_episodes: i64,
    pub deep_episodes: i64,
    pub rem_episodes: i64,
}

impl Night {
    pub(crate) fn of(p: &GenPoint) -> Night {
        let salt = p.salt() as u64;
        // Uniform in [0, 1): per night (patient and start), resp. per patient.
        let nightly = |tag: u64| {
            let h = mix64((salt << 32) ^ p.start_s() as u64 ^ mix64(tag ^ 0x51ee_9000));
            (h >> 11) as f64 / (1u64 << 53) as f64
        };
        let personal = |tag: u64| {
            let h = mix64(salt ^ mix64(tag ^ 0x51ee_9100));
            (h >> 11) as f64 / (1u64 << 53) as f64
        };
        let tst = asleep_min(p).round() as i64;
        let in_bed = p.duration_s() as f64 / 60.0;
        // Awake in bed: some before falling asleep, a little before getting up, the rest during
        // the night (never negative, even for an implausible total sleep time).
        let awake = (in_bed - tst as f64).max(0.0);
        let latency_to_onset = (awake * (0.15 + 0.3 * nightly(1))).floor() as i64;
        let latency_to_arising = (awake * (0.03 + 0.09 * nightly(2))).floor() as i64;
        let wake_after_onset =
            (awake.round() as i64 - latency_to_onset - latency_to_arising).max(0);
        let awakenings = if wake_after_onset == 0 {
            0
        } else {
            ((wake_after_onset as f64 / (4.0 + 6.0 * nightly(3))).round() as i64).max(1)
        };
        // Stages: a personal share of deep and REM sleep, varying from night to night.
        let asleep = tst.max(0);
        let deep_share = 0.12 + 0.08 * personal(4) + 0.04 * (nightly(5) - 0.5);
        let rem_share = 0.18 + 0.06 * personal(6) + 0.04 * (nightly(7) - 0.5);
        let deep = (asleep as f64 * deep_share).round() as i64;
        let rem = (asleep as f64 * rem_share).round() as i64;
        let light = asleep - deep - rem;
        // About one cycle in 90 minutes; light sleep between the other stages and awakenings.
        let cycles = ((asleep as f64 / 90.0).round() as i64).clamp(1, 8);
        let rem_episodes = (cycles - i64::from(nightly(8) < 0.3)).max(1);
        let deep_episodes = (cycles - 1 - i64::from(nightly(9) < 0.5)).max(1);
        let light_episodes = rem_episodes + deep_episodes + awakenings.min(cycles);
        Night {
            tst,
            in_bed,
            latency_to_onset,
            latency_to_arising,
            wake_after_onset,
            awakenings,
            light,
            deep,
            rem,
            light_episodes,
            deep_episodes,
            rem_episodes,
        }
    }

    /// A total sleep time (minutes) as a percentage of the time in bed.
    fn efficiency(&self, tst_min: f64) -> Value {
        num(tst_min / self.in_bed.max(1.0) * 100.0, 1)
    }

    /// `part` as a percentage of the total sleep time.
    fn of_sleep(&self, part: i64) -> Value {
        num(part as f64 / self.tst.max(1) as f64 * 100.0, 1)
    }
}

/// The effective time frame (and the style used for times in the header).
fn time_frame(p: &GenPoint) -> (Value, TimeStyle) {
    let off = p.utc_offset_s();
    let header_style = if p.renders_local() {
        TimeStyle::Offset(off)
    } else {
        TimeStyle::Utc
    };
    let style = if p.dirty() == Some(DirtyKind::NoOffset) {
        TimeStyle::Naive(off)
    } else {
        header_style
    };
    let start = p.start_s() as i64;
    let frame = match p.duration_s() {
        0 => obj([("date_time", s(&format_time(start, style)))]),
        d => obj([(
            "time_interval",
            obj([
                ("start_date_time", s(&format_time(start, style))),
                ("end_date_time", s(&format_time(start + d as i64, style))),
            ]),
        )]),
    };
    (obj([("effective_time_frame", frame)]), header_style)
}

/// Time asleep as the sleep duration (and the night's sleep episode) sends it: hours with two
/// decimals for some participants, else whole minutes.
fn asleep(p: &GenPoint) -> Value {
    let v = p.v1_tenths() as f64 / 10.0;
    if p.variant() & 1 == 1 {
        unit_value("h", num(v / 60.0, 2))
    } else {
        unit_value("min", int(v.round() as i64))
    }
}

/// [`asleep`] in minutes, as a reader converts it.
fn asleep_min(p: &GenPoint) -> f64 {
    let v = p.v1_tenths() as f64 / 10.0;
    if p.variant() & 1 == 1 {
        (v / 60.0 * 100.0).round() / 100.0 * 60.0
    } else {
        v.round()
    }
}

fn body(kind: Kind, p: &GenPoint, mut b: Map<String, Value>) -> Value {
    let v = p.v1_tenths() as f64 / 10.0;
    let dirty = p.dirty();
    let mut put = |k: &str, v: Value| {
        b.insert(k.to_string(), v);
    };
    match kind {
        Kind::BloodGlucose => {
            let bg = match dirty {
                Some(DirtyKind::UnitMgdl) => unit_value("MGDL", int(v.round() as i64)),
                Some(DirtyKind::UnitMmolL) => unit_value("mmol/L", num(v / MGDL_PER_MMOLL, 1)),
                _ => unit_value("mg/dL", int(v.round() as i64)),
            };
            put("blood_glucose", bg);
        }
        Kind::BloodPressure => {
            put(
                "systolic_blood_pressure",
                unit_value("mmHg", int(v.round() as i64)),
            );
            put(
                "diastolic_blood_pressure",
                unit_value("mmHg", int(p.v2() as i64)),
            );
            if p.variant() & 1 == 1 {
                put("body_posture", s("sitting"));
            }
        }
        Kind::HeartRate => match p.variant() {
            2 => {
                put("heart_rate", unit_value("beats/min", num(v, 1)));
                put("descriptive_statistic", s("average"));
                put("temporal_relationship_to_sleep", s("during sleep"));
            }
            active => {
                put("heart_rate", unit_value("beats/min", int(v.round() as i64)));
                let rel = if active == 1 { "active" } else { "at rest" };
                put("temporal_relationship_to_physical_activity", s(rel));
            }
        },
        Kind::StepCount => put("step_count", unit_value("steps", int(v.round() as i64))),
        Kind::BodyWeight => {
            let unit = if p.variant() & 1 == 1 { "lb" } else { "kg" };
            put("body_weight", unit_value(unit, num(v, 1)));
        }
        Kind::OxygenSaturation => {
            put("oxygen_saturation", unit_value("%", num(v, 1)));
            put("system", s("peripheral capillary"));
            put("measurement_method", s("pulse oximetry"));
            put("descriptive_statistic", s("average"));
        }
        Kind::RespiratoryRate => {
            put("respiratory_rate", unit_value("breaths/min", num(v, 1)));
            put("descriptive_statistic", s("average"));
        }
        Kind::BodyTemperature => {
            let unit = if p.variant() & 1 == 1 { "F" } else { "C" };
            put("body_temperature", unit_value(unit, num(v, 1)));
            let loc = TEMP_LOCATIONS[(p.variant() >> 1) as usize % TEMP_LOCATIONS.len()];
            put("measurement_location", s(loc));
        }
        Kind::SleepDuration => put("sleep_duration", asleep(p)),
        Kind::SleepEpisode => {
            let n = Night::of(p);
            let min = |x: i64| unit_value("min", int(x));
            put("total_sleep_time", asleep(p));
            put("latency_to_sleep_onset", min(n.latency_to_onset));
            put("latency_to_arising", min(n.latency_to_arising));
            put("wake_after_sleep_onset", min(n.wake_after_onset));
            put("number_of_awakenings", int(n.awakenings));
            put("is_main_sleep", Value::Bool(true));
            put(
                "sleep_maintenance_efficiency_percentage",
                unit_value("%", n.efficiency(asleep_min(p))),
            );
        }
        Kind::SleepStageSummary => {
            let n = Night::of(p);
            let min = |x: i64| unit_value("min", int(x));
            let pct = |x: Value| unit_value("%", x);
            let summary = obj([
                ("total_sleep_time", min(n.tst)),
                (
                    "sleep_efficiency_percentage",
                    pct(n.efficiency(n.tst as f64)),
                ),
                ("latency_to_sleep_onset", min(n.latency_to_onset)),
                ("latency_to_arising", min(n.latency_to_arising)),
                ("rem_sleep_duration", min(n.rem)),
                ("rem_sleep_percentage", pct(n.of_sleep(n.rem))),
                ("rem_sleep_episode_count", int(n.rem_episodes)),
                ("light_sleep_duration", min(n.light)),
                ("light_sleep_percentage", pct(n.of_sleep(n.light))),
                ("light_sleep_episode_count", int(n.light_episodes)),
                ("deep_sleep_duration", min(n.deep)),
                ("deep_sleep_percentage", pct(n.of_sleep(n.deep))),
                ("deep_sleep_episode_count", int(n.deep_episodes)),
                ("awake_duration", min(n.wake_after_onset)),
                (
                    "awake_percentage",
                    pct(num(
                        n.wake_after_onset as f64 / n.in_bed.max(1.0) * 100.0,
                        1,
                    )),
                ),
                ("number_of_awakenings", int(n.awakenings)),
            ]);
            put("sleep_stage_summary", summary);
            put("is_main_sleep", Value::Bool(true));
        }
        Kind::PhysicalActivity => {
            let (name, met, _, _, _) = ACTIVITIES[p.variant() as usize % ACTIVITIES.len()];
            put("activity_name", s(name));
            put("kcal_burned", unit_value("kcal", int(v.round() as i64)));
            if p.v2() > 0 {
                put("distance", unit_value("km", num(p.v2() as f64 / 10.0, 1)));
            }
            let intensity = if met < 3.0 {
                "light"
            } else if met < 6.0 {
                "moderate"
            } else {
                "vigorous"
            };
            put("reported_activity_intensity", s(intensity));
        }
    }
    Value::Object(b)
}

/// The OMH data point of a generated observation, from the parts the store keeps.
pub fn render_point(kind: Kind, point: &GenPoint) -> Value {
    let (frame, header_style) = time_frame(point);
    let b = match frame {
        Value::Object(m) => m,
        _ => Map::new(),
    };
    let body = body(kind, point, b);
    let modality = if point.self_reported() {
        "self-reported"
    } else {
        "sensed"
    };
    let header = obj([
        ("uuid", Value::String(point.uuid())),
        (
            "schema_id",
            obj([
                ("namespace", s(kind.namespace())),
                ("name", s(kind.schema_name())),
                ("version", s(kind.schema_version())),
            ]),
        ),
        (
            "source_creation_date_time",
            s(&format_time(point.created_s(), header_style)),
        ),
        ("modality", s(modality)),
        (
            "acquisition_provenance",
            obj([("source_name", s(source_name(kind, point)))]),
        ),
    ]);
    obj([("header", header), ("body", body)])
}
