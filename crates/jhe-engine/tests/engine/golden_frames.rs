//! The clear views and the long table have exactly the documented columns and dtypes, and the
//! values the golden inputs call for (times in UTC and local, units normalised).

use crate::golden_support::*;
use jhe_engine::frame::{long_columns, long_frame, view_columns, view_frames, Dtype};
use jhe_engine::omh;
use polars::prelude::*;

fn all() -> Vec<jhe_engine::omh::DecodedObservation> {
    fhir_inputs().iter().map(|(_, r)| decode_fhir(r)).collect()
}

fn same_dtype(want: Dtype, got: &DataType) -> bool {
    match want {
        Dtype::Categorical => got.is_categorical(),
        w => w.polars() == *got,
    }
}

#[test]
fn views_have_the_documented_columns() {
    let views = view_frames(&all()).unwrap();
    for v in omh::DataType::KNOWN {
        let df = views.get(&v).unwrap_or_else(|| panic!("no {v:?} rows"));
        let defs = view_columns(&v);
        let names: Vec<&str> = df.get_column_names().iter().map(|s| s.as_str()).collect();
        let want: Vec<&str> = defs.iter().map(|d| d.name.as_ref()).collect();
        assert_eq!(names, want, "{v:?}");
        for (d, c) in defs.iter().zip(df.columns()) {
            assert!(
                same_dtype(d.dtype, c.dtype()),
                "{v:?}.{}: {:?}",
                d.name,
                c.dtype()
            );
            assert!(!d.description.is_empty());
        }
    }
    // types not modelled: the fixed columns first, then the flattened body (the sleep stage
    // summary that was the example here is modelled now, see `omh::types`)
    let other = &views[&omh::DataType::Other("omh:rr-interval:1.0".into())];
    let fixed = view_columns(&omh::DataType::Other(String::new()));
    for (d, c) in fixed.iter().zip(other.columns()) {
        assert_eq!(d.name.as_ref(), c.name().as_str());
    }
    assert!(other.column("rr_interval_value").is_ok());
    let long = long_frame(&all()).unwrap();
    let names: Vec<&str> = long.get_column_names().iter().map(|s| s.as_str()).collect();
    let defs = long_columns();
    let want: Vec<&str> = defs.iter().map(|d| d.name.as_ref()).collect();
    assert_eq!(names, want);
}

fn row(df: &DataFrame, id: i64) -> DataFrame {
    df.clone()
        .lazy()
        .filter(col("observation_id").eq(lit(id)))
        .collect()
        .unwrap()
}

fn ts(df: &DataFrame, c: &str) -> Option<String> {
    let s = df
        .column(c)
        .unwrap()
        .as_materialized_series()
        .datetime()
        .unwrap()
        .to_string("%Y-%m-%dT%H:%M:%S%.6f")
        .unwrap();
    s.get(0).map(str::to_string)
}

fn f(df: &DataFrame, c: &str) -> Option<f64> {
    df.column(c).unwrap().f64().unwrap().get(0)
}

#[test]
fn values_times_and_units_in_the_views() {
    let views = view_frames(&all()).unwrap();
    // 900001: 5.5 mmol/L at 2026-11-20T07:45:12.25-08:00
    let bg = row(&views[&omh::DataType::BloodGlucose], 900001);
    assert_eq!(
        ts(&bg, "time_utc").as_deref(),
        Some("2026-11-20T15:45:12.250000")
    );
    assert_eq!(
        ts(&bg, "time_local").as_deref(),
        Some("2026-11-20T07:45:12.250000")
    );
    assert_eq!(
        bg.column("utc_offset_minutes")
            .unwrap()
            .i32()
            .unwrap()
            .get(0),
        Some(-480)
    );
    assert!((f(&bg, "glucose_mg_dl").unwrap() - 99.1).abs() < 1e-9);
    // 900002: MGDL
    assert_eq!(
        f(
            &row(&views[&omh::DataType::BloodGlucose], 900002),
            "glucose_mg_dl"
        ),
        Some(97.0)
    );
    // 900005: no offset
    let hr = row(&views[&omh::DataType::HeartRate], 900005);
    assert_eq!(ts(&hr, "time_utc"), ts(&hr, "time_local"));
    assert_eq!(hr.column("utc_offset_minutes").unwrap().null_count(), 1);
    // 900007: steps over 24 h from local midnight in Tokyo
    let st = row(&views[&omh::DataType::StepCount], 900007);
    assert_eq!(
        ts(&st, "start_utc").as_deref(),
        Some("2026-11-20T15:00:00.000000")
    );
    assert_eq!(
        ts(&st, "end_local").as_deref(),
        Some("2026-11-22T00:00:00.000000")
    );
    assert_eq!(f(&st, "duration_min"), Some(1440.0));
    assert_eq!(f(&st, "steps"), Some(10234.0));
    // 900009: 165.2 lb
    let w = row(&views[&omh::DataType::BodyWeight], 900009);
    assert!(
        (f(&w, "body_weight_kg").unwrap() - 74.9335).abs() < 1e-9,
        "to 0.1 g"
    );
    // 900010: 99.5 F
    let t = row(&views[&omh::DataType::BodyTemperature], 900010);
    assert!((f(&t, "body_temperature_c").unwrap() - 37.5).abs() < 1e-9);
    // 900014: 7.25 h of sleep across a DST change
    let sl = row(&views[&omh::DataType::SleepDuration], 900014);
    assert_eq!(f(&sl, "sleep_duration_min"), Some(435.0));
    assert_eq!(
        ts(&sl, "end_local").as_deref(),
        Some("2026-11-01T06:45:00.000000")
    );
    // 900015: 2.1 mi walk
    let pa = row(&views[&omh::DataType::PhysicalActivity], 900015);
    assert!(
        (f(&pa, "distance_m").unwrap() - 3379.622).abs() < 1e-6,
        "to 1 mm"
    );
    assert_eq!(f(&pa, "duration_min"), Some(45.0));
    assert_eq!(f(&pa, "kcal_burned"), Some(180.0));
}
