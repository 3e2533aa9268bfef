//! CGM metrics against reference values computed independently with the R package iglu
//! (tests/fixtures/analysis/expected_cgm.csv, made by reference_iglu.R; see the README there):
//! iglu's example data and edge cases (gaps, a single reading, all in range, mixed units,
//! a DST change, changing UTC offsets).

use chrono::DateTime;
use jhe_engine::analysis::cgm::CGM_COLUMNS;
use jhe_engine::analysis::{cgm_metrics, CgmMetrics, GlucoseReading, GlucoseUnit, GriZone, Period};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Relative tolerance for every value (iglu prints 15 significant digits).
const REL_TOL: f64 = 1e-9;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/analysis")
        .join(name)
}

fn read_csv(name: &str) -> Vec<BTreeMap<String, String>> {
    let text = std::fs::read_to_string(fixture(name)).expect("fixture file");
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .expect("header")
        .split(',')
        .map(|s| s.trim().to_string())
        .collect();
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(l.split(',').map(|s| s.trim().to_string()))
                .collect()
        })
        .collect()
}

/// Readings per participant, in file order.
fn readings(name: &str) -> BTreeMap<String, Vec<GlucoseReading>> {
    let mut out: BTreeMap<String, Vec<GlucoseReading>> = BTreeMap::new();
    for row in read_csv(name) {
        let utc = DateTime::parse_from_rfc3339(&row["utc"])
            .expect("utc")
            .timestamp_micros();
        let unit = match row["unit"].as_str() {
            "mg/dL" => GlucoseUnit::MgDl,
            "mmol/L" => GlucoseUnit::MmolL,
            other => panic!("unit {other}"),
        };
        out.entry(row["participant_id"].clone())
            .or_default()
            .push(GlucoseReading {
                utc_us: utc,
                offset_s: row["offset_s"].parse().expect("offset"),
                value: row["value"].parse().expect("value"),
                unit,
            });
    }
    out
}

fn expected_value(row: &BTreeMap<String, String>, col: &str) -> Option<f64> {
    match row[col].as_str() {
        "" | "NA" | "NaN" => None,
        s => Some(s.parse().expect("number")),
    }
}

fn check(pid: &str, col: &str, got: Option<f64>, want: Option<f64>) {
    match (got, want) {
        (None, None) => {}
        (Some(g), Some(w)) => {
            let tol = REL_TOL * w.abs().max(1.0);
            assert!((g - w).abs() <= tol, "{pid} {col}: got {g}, iglu {w}");
        }
        _ => panic!("{pid} {col}: got {got:?}, iglu {want:?}"),
    }
}

/// Every metric compared with iglu: the `metrics_cgm` columns but the id, the count and the
/// zone (checked on their own), each with its value.
fn compared(m: &CgmMetrics) -> Vec<(&'static str, Option<f64>)> {
    let v = serde_json::to_value(m).expect("metrics as JSON");
    let own = ["participant_id", "n_readings", "gri_zone"];
    let cols: Vec<_> = CGM_COLUMNS.iter().filter(|c| !own.contains(c)).collect();
    assert_eq!(cols.len(), 17);
    cols.into_iter()
        .map(|c| {
            assert!(v.get(c).is_some(), "no metric {c}");
            (*c, v[c].as_f64())
        })
        .collect()
}

#[test]
fn cgm_metrics_match_iglu_on_every_fixture() {
    let mut data = readings("iglu_example_data_5_subject.csv");
    data.extend(readings("cgm_edge_cases.csv"));
    let expected = read_csv("expected_cgm.csv");
    assert_eq!(expected.len(), 11, "5 iglu subjects + 6 edge cases");
    for row in &expected {
        let pid = row["participant_id"].as_str();
        let m = cgm_metrics(pid, &data[pid], Period::ALL);
        assert_eq!(
            m.n_readings.to_string(),
            row["n_readings"],
            "{pid} n_readings"
        );
        for (col, got) in compared(&m) {
            check(pid, col, got, expected_value(row, col));
        }
        assert_eq!(m.gri_zone, m.gri.map(GriZone::of));
    }
}

#[test]
fn the_period_selects_readings_by_utc_instant() {
    let data = readings("iglu_example_data_5_subject.csv");
    let all = &data["Subject 1"];
    let start = all[100].utc_us;
    let end = all[1100].utc_us;
    let p = Period {
        start_us: Some(start),
        end_us: Some(end),
    };
    let inside: Vec<GlucoseReading> = all
        .iter()
        .filter(|r| r.utc_us >= start && r.utc_us < end)
        .copied()
        .collect();
    assert_eq!(inside.len(), 1000);
    let mut a = cgm_metrics("s", all, p);
    let b = cgm_metrics("s", &inside, Period::ALL);
    a.participant_id = b.participant_id.clone();
    assert_eq!(a, b);
}

#[test]
fn reading_order_does_not_matter() {
    let data = readings("cgm_edge_cases.csv");
    let mut rev = data["dst"].clone();
    rev.reverse();
    assert_eq!(
        cgm_metrics("dst", &rev, Period::ALL),
        cgm_metrics("dst", &data["dst"], Period::ALL)
    );
}

/// The ambulatory glucose profile against iglu's `plot_agp(smooth = FALSE)` percentiles
/// (expected_agp.csv, made by reference_agp.R): every grid time of day of every participant.
#[test]
fn agp_percentiles_match_iglu_on_every_fixture() {
    let mut data = readings("iglu_example_data_5_subject.csv");
    data.extend(readings("cgm_edge_cases.csv"));
    let mut expected: BTreeMap<String, Vec<BTreeMap<String, String>>> = BTreeMap::new();
    for row in read_csv("expected_agp.csv") {
        expected
            .entry(row["participant_id"].clone())
            .or_default()
            .push(row);
    }
    assert_eq!(
        expected.len(),
        data.len() - 1,
        "every participant but `single`"
    );
    for (pid, rows) in &expected {
        let agp = jhe_engine::analysis::glucose_agp(&data[pid], Period::ALL)
            .unwrap_or_else(|| panic!("{pid}: an AGP"));
        assert_eq!(agp.minutes.len(), rows.len(), "{pid}: grid times");
        for (k, row) in rows.iter().enumerate() {
            let minute: u32 = row["minute"].parse().expect("minute");
            assert_eq!(agp.minutes[k], minute, "{pid}: grid time {k}");
            for (j, col) in ["p05", "p25", "p50", "p75", "p95"].iter().enumerate() {
                let got = Some(agp.bands[k][j]).filter(|v| !v.is_nan());
                check(
                    pid,
                    &format!("{col}@{minute}"),
                    got,
                    expected_value(row, col),
                );
            }
        }
        assert!(agp.days >= 1, "{pid}: days");
    }
    // A single reading has no profile (iglu stops with an error).
    assert!(jhe_engine::analysis::glucose_agp(&data["single"], Period::ALL).is_none());
}
