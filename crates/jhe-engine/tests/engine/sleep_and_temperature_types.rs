//! The types added through the per-type spec (`omh::types`): sleep episodes and sleep stage
//! summaries (what JHE's own demo seeds) and body temperature, each through decode → table →
//! dictionary → chart → export → reading the export back.

use std::fs;
use std::path::Path;

use jhe_engine::chart::{self, Obs, Options};
use jhe_engine::export::read::read_export_file;
use jhe_engine::export::{Export, ExportSpec, Format, Layout};
use jhe_engine::frame::{dictionary, view_columns, view_frames};
use jhe_engine::omh::{decode, DataType, DecodedObservation, Envelope, OmhSource, RawObservation};
use polars::prelude::*;
use serde_json::{json, Value};

const NIGHTS: u64 = 13;
const DAY_S: i64 = 86_400;

fn raw(id: u64, code: &str, system: &str, body: Value) -> RawObservation {
    RawObservation {
        id,
        patient_id: 40001,
        coding_system: system.into(),
        coding_code: code.into(),
        last_updated: Some("2026-11-26T01:00:00Z".into()),
        omh: OmhSource::Json(json!({"header": {"uuid": format!("u{id}")}, "body": body})),
        envelope: Envelope::default(),
    }
}

fn night(i: u64) -> Value {
    let start = chrono::DateTime::from_timestamp(1_763_679_600 + i as i64 * DAY_S, 0).unwrap();
    let end = start + chrono::Duration::hours(8);
    json!({"time_interval": {
        "start_date_time": start.format("%Y-%m-%dT%H:%M:%S-08:00").to_string(),
        "end_date_time": end.format("%Y-%m-%dT%H:%M:%S-08:00").to_string()}})
}

/// 13 nights of sleep episodes, total sleep time in hours for the first night.
fn sleep_episodes() -> Vec<RawObservation> {
    (0..NIGHTS)
        .map(|i| {
            let tst = if i == 0 {
                json!({"unit": "h", "value": 7.5})
            } else {
                json!({"unit": "min", "value": 400 + i})
            };
            raw(
                100 + i,
                "omh:sleep-episode:1.1",
                "https://w3id.org/openmhealth",
                json!({"effective_time_frame": night(i), "total_sleep_time": tst,
                       "latency_to_sleep_onset": {"unit": "min", "value": 12},
                       "wake_after_sleep_onset": {"unit": "sec", "value": 1800},
                       "sleep_maintenance_efficiency_percentage": {"unit": "%", "value": 91},
                       "number_of_awakenings": 3, "is_main_sleep": i != 5}),
            )
        })
        .collect()
}

fn stage_summaries() -> Vec<RawObservation> {
    (0..NIGHTS)
        .map(|i| {
            raw(
                200 + i,
                "ieee:sleep-stage-summary:1.0",
                "https://w3id.org/ieee1752",
                json!({"effective_time_frame": night(i), "sleep_stage_summary": {
                    "total_sleep_time": {"unit": "min", "value": 402},
                    "sleep_efficiency_percentage": {"unit": "%", "value": 88},
                    "rem_sleep_duration": {"unit": "min", "value": 95},
                    "rem_sleep_percentage": {"unit": "%", "value": 23.6},
                    "rem_sleep_episode_count": 4,
                    "deep_sleep_duration": {"unit": "h", "value": 1.5},
                    "light_sleep_duration": {"unit": "min", "value": 217},
                    "awake_duration": {"unit": "min", "value": 30},
                    "number_of_awakenings": 2}}),
            )
        })
        .collect()
}

fn temperatures() -> Vec<RawObservation> {
    (0..NIGHTS)
        .map(|i| {
            let (unit, value) = if i % 2 == 0 { ("F", 98.6) } else { ("C", 36.5) };
            let t = chrono::DateTime::from_timestamp(1_763_712_000 + i as i64 * DAY_S, 0).unwrap();
            raw(
                300 + i,
                "omh:body-temperature:4.0",
                "https://w3id.org/openmhealth",
                json!({"body_temperature": {"unit": unit, "value": value},
                       "measurement_location": "oral",
                       "effective_time_frame": {"date_time": t.format("%Y-%m-%dT%H:%M:%SZ").to_string()}}),
            )
        })
        .collect()
}

fn decoded(raws: &[RawObservation]) -> Vec<DecodedObservation> {
    raws.iter().map(|r| decode(r).unwrap()).collect()
}

fn f64s(df: &DataFrame, c: &str) -> Vec<Option<f64>> {
    df.column(c)
        .unwrap_or_else(|_| panic!("no column {c}"))
        .cast(&polars::prelude::DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

/// The table has the spec's columns, a dictionary entry for each, and charts one point a
/// night (or reading) with statistics.
fn check_table_dictionary_chart(t: &DataType, obs: &[DecodedObservation]) -> DataFrame {
    assert!(obs.iter().all(|o| o.view == *t), "{t:?}");
    let views = view_frames(obs).unwrap();
    let df = views[t].clone();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let want: Vec<String> = view_columns(t).iter().map(|d| d.name.to_string()).collect();
    assert_eq!(names, want, "{t:?}");
    assert_eq!(df.height() as u64, NIGHTS);
    let dict = dictionary(&t.name(), Some(t), df.schema());
    assert_eq!(dict.len(), names.len());
    for e in &dict {
        assert!(
            !e.description.is_empty() && !e.description.starts_with("OMH body field"),
            "{t:?}.{}: {e:?}",
            e.column
        );
    }
    let chart_obs: Vec<Obs> = obs.iter().map(Obs::from_decoded).collect();
    let c = chart::render(t, &chart_obs, &Options::default());
    assert!(c.svg.starts_with("<svg"), "{t:?}: no chart");
    assert_eq!(c.points.len() as u64, NIGHTS, "{t:?}");
    assert_eq!(c.stats.n, NIGHTS, "{t:?}");
    assert!(c.stats.mean > 0.0);
    let p = chart::presentation(t);
    assert!(
        !p.label.contains("not modelled") && !p.unit.is_empty(),
        "{p:?}"
    );
    df
}

fn export_spec(dir: &Path, format: Format, layout: Layout) -> ExportSpec {
    ExportSpec::new(dir, format, layout, "http://127.0.0.1:8000", Some(30001))
}

/// Exports the observations in each format and layout, and reads them back: the same values
/// as the chart's, and every column in the dictionary.
fn check_export_roundtrip(t: &DataType, raws: &[RawObservation]) {
    let want: Vec<Option<f64>> = decoded(raws)
        .iter()
        .map(|o| Obs::from_decoded(o).v)
        .collect();
    assert!(want.iter().all(Option::is_some), "{t:?}: {want:?}");
    for (format, layout) in [
        (Format::Parquet, Layout::PerType),
        (Format::Csv, Layout::PerType),
        (Format::Csv, Layout::Long),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("export");
        let mut ex = Export::open(export_spec(&dir, format, layout)).unwrap();
        let unit = format!("40001/{}", raws[0].coding_code);
        ex.write_unit(&unit, raws.to_vec(), Some(raws.len() as u64))
            .unwrap();
        let m = ex.finish().unwrap();
        let data: Vec<_> = m.files.iter().filter(|f| f.role == "data").collect();
        assert_eq!(data.len(), 1, "{t:?} {format:?} {layout:?}: {:?}", m.files);
        let file = dir.join(&data[0].name);
        if layout == Layout::PerType {
            assert_eq!(data[0].name, format!("{}.{}", t.name(), format.extension()));
            let dict = fs::read_to_string(dir.join("data_dictionary.csv")).unwrap();
            for c in view_columns(t) {
                assert!(
                    dict.contains(&format!("{},{},{},", data[0].name, t.name(), c.name)),
                    "{t:?}: no dictionary entry for {}",
                    c.name
                );
            }
        }
        let back = read_export_file(&file).unwrap();
        assert_eq!(back.skipped, 0);
        let mut obs = back.obs;
        obs.sort_by_key(|o| o.observation_id);
        let got: Vec<Option<f64>> = obs.iter().map(|o| o.v).collect();
        assert_eq!(got.len(), want.len(), "{t:?} {format:?} {layout:?}");
        for (g, w) in got.iter().zip(&want) {
            assert!(
                (g.unwrap() - w.unwrap()).abs() < 1e-6,
                "{t:?} {format:?} {layout:?}: {got:?} vs {want:?}"
            );
        }
        assert!(obs.iter().all(|o| o.code == raws[0].coding_code));
    }
}

#[test]
fn sleep_episodes_through_table_chart_and_export() {
    let t = DataType::from_code("omh:sleep-episode:1.1");
    assert_eq!(t, DataType::SleepEpisode);
    let raws = sleep_episodes();
    let obs = decoded(&raws);
    let df = check_table_dictionary_chart(&t, &obs);
    let tst = f64s(&df, "total_sleep_time_min");
    assert_eq!(tst[0], Some(450.0), "7.5 h in minutes");
    assert_eq!(tst[1], Some(401.0));
    assert_eq!(f64s(&df, "original_total_sleep_time_value")[0], Some(7.5));
    assert_eq!(f64s(&df, "wake_after_sleep_onset_min")[0], Some(30.0));
    assert_eq!(f64s(&df, "sleep_efficiency_pct")[0], Some(91.0));
    assert_eq!(f64s(&df, "latency_to_arising_min")[0], None, "not sent");
    assert_eq!(f64s(&df, "duration_min")[0], Some(480.0));
    let n = df.column("number_of_awakenings").unwrap();
    assert_eq!(n.dtype(), &polars::prelude::DataType::Int64);
    let main = df.column("is_main_sleep").unwrap();
    assert_eq!(main.bool().unwrap().get(5), Some(false));
    // the chart shows hours asleep per night
    let chart_obs: Vec<Obs> = obs.iter().map(Obs::from_decoded).collect();
    let c = chart::render(&t, &chart_obs, &Options::default());
    assert!((c.stats.max - 7.5).abs() < 1e-9, "{:?}", c.stats);
    assert!(c.svg.contains("Hours asleep"));
    check_export_roundtrip(&t, &raws);
}

#[test]
fn sleep_stage_summaries_through_table_chart_and_export() {
    let t = DataType::from_code("ieee:sleep-stage-summary:1.0");
    assert_eq!(t, DataType::SleepStageSummary);
    let raws = stage_summaries();
    let obs = decoded(&raws);
    let df = check_table_dictionary_chart(&t, &obs);
    assert_eq!(f64s(&df, "total_sleep_time_min")[0], Some(402.0));
    assert_eq!(f64s(&df, "deep_sleep_min")[0], Some(90.0), "1.5 h");
    assert_eq!(f64s(&df, "rem_sleep_pct")[0], Some(23.6));
    assert_eq!(f64s(&df, "rem_sleep_episodes")[0], Some(4.0));
    assert_eq!(f64s(&df, "light_sleep_pct")[0], None, "not sent");
    assert_eq!(f64s(&df, "number_of_awakenings")[0], Some(2.0));
    check_export_roundtrip(&t, &raws);
}

#[test]
fn body_temperature_through_table_chart_and_export() {
    let t = DataType::from_code("omh:body-temperature:4.0");
    assert_eq!(t, DataType::BodyTemperature);
    let raws = temperatures();
    let obs = decoded(&raws);
    let df = check_table_dictionary_chart(&t, &obs);
    let c = f64s(&df, "body_temperature_c");
    assert!((c[0].unwrap() - 37.0).abs() < 1e-9, "98.6 F in °C");
    assert_eq!(c[1], Some(36.5));
    assert_eq!(f64s(&df, "original_value")[0], Some(98.6));
    check_export_roundtrip(&t, &raws);
}

#[test]
fn long_table_has_the_sleep_measures() {
    let obs = decoded(&stage_summaries()[..1]);
    let long = jhe_engine::frame::long_frame(&obs).unwrap();
    let measures: Vec<String> = long
        .column("measure")
        .unwrap()
        .cast(&polars::prelude::DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|s| s.unwrap_or_default().to_string())
        .collect();
    for m in [
        "total_sleep_time",
        "rem_sleep",
        "deep_sleep",
        "number_of_awakenings",
    ] {
        assert!(measures.iter().any(|x| x == m), "{m}: {measures:?}");
    }
    assert!(
        !measures.iter().any(|x| x == "light_sleep_percentage"),
        "not sent"
    );
}
