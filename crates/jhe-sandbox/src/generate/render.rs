//! Rendering a [`GenPoint`] to its OMH data point JSON.

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
        Kind::OxygenSaturation | Kind::RespiratoryRate | Kind::SleepDuration => wearable(),
        Kind::StepCount => pick(&["Apple Health", "Google Fit", "Fitbit", "Garmin Connect"]),
        Kind::BodyWeight if p.self_reported() => "manual entry",
        Kind::BodyWeight => pick(&["Withings Health Mate", "Renpho", "Fitbit Aria"]),
        Kind::BodyTemperature if p.self_reported() => "manual entry",
        Kind::BodyTemperature => pick(&["Kinsa", "iHealth", "Withings Thermo"]),
        Kind::PhysicalActivity if p.self_reported() => "manual entry",
        Kind::PhysicalActivity => pick(&["Strava", "Apple Health", "Garmin Connect"]),
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
        Kind::SleepDuration => {
            let d = if p.variant() & 1 == 1 {
                unit_value("h", num(v / 60.0, 2))
            } else {
                unit_value("min", int(v.round() as i64))
            };
            put("sleep_duration", d);
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
                ("namespace", s("omh")),
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
