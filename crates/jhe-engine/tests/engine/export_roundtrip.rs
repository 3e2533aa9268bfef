//! Export: files listed in the manifest exist with the right SHA-256 and row counts, the
//! data dictionary covers every column, malformed rows are reported, and a crash in the middle
//! followed by a resume gives the same files as an uninterrupted run.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::golden_support::*;
use jhe_engine::export::{Export, ExportSpec, Format, Layout, Manifest};
use jhe_engine::omh::{from_admin_result, from_fhir_resource, RawObservation};
use polars::prelude::*;
use sha2::{Digest, Sha256};

/// Units (patient/code) of every golden input: FHIR captures + synthetic, the malformed cases
/// (3 of them in the heart-rate unit of patient 49001), the Admin-only captures, and CGM rows.
fn units() -> BTreeMap<String, Vec<RawObservation>> {
    let mut units: BTreeMap<String, Vec<RawObservation>> = BTreeMap::new();
    let mut add = |r: RawObservation| {
        units
            .entry(format!("{}/{}", r.patient_id, r.coding_code))
            .or_default()
            .push(r);
    };
    let mut fhir_ids = std::collections::HashSet::new();
    for (_, r) in fhir_inputs() {
        let raw = from_fhir_resource(&r).unwrap();
        fhir_ids.insert(raw.id);
        add(raw);
    }
    for (_, a) in admin_inputs() {
        let raw = from_admin_result(&a).unwrap();
        if !fhir_ids.contains(&raw.id) {
            add(raw);
        }
    }
    for c in load("inputs_malformed.json").as_array().unwrap() {
        add(from_fhir_resource(&c["fhir"]).unwrap());
    }
    for i in 0..3000u64 {
        add(from_fhir_resource(&cgm_resource(
            2_000_000 + i,
            47000 + i % 3,
            i as i64 * 5,
            -300,
        ))
        .unwrap());
    }
    units
}

fn spec(dir: &Path, format: Format, layout: Layout) -> ExportSpec {
    ExportSpec::new(dir, format, layout, "http://127.0.0.1:8000", Some(30001))
}

fn sha256(path: &Path) -> String {
    let bytes = fs::read(path).unwrap();
    Sha256::digest(&bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn run(dir: &Path, format: Format, layout: Layout) -> Manifest {
    let mut ex = Export::open(spec(dir, format, layout)).unwrap();
    for (unit, recs) in units() {
        let n = recs.len() as u64;
        ex.write_unit(&unit, recs, Some(n)).unwrap();
    }
    ex.finish().unwrap()
}

fn check_manifest(dir: &Path, m: &Manifest) {
    let mut listed: Vec<String> = m.files.iter().map(|f| f.name.clone()).collect();
    listed.push("manifest.json".into());
    listed.sort();
    assert_eq!(
        names_in(dir),
        listed,
        "folder holds exactly the manifest's files"
    );
    let on_disk: Manifest =
        serde_json::from_slice(&fs::read(dir.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(&on_disk, m);
    let dict = fs::read_to_string(dir.join("data_dictionary.csv")).unwrap();
    for f in &m.files {
        let p = dir.join(&f.name);
        assert_eq!(sha256(&p), f.sha256, "{}", f.name);
        assert_eq!(fs::metadata(&p).unwrap().len(), f.bytes, "{}", f.name);
        if f.role != "data" {
            continue;
        }
        let df = match m.format {
            Format::Parquet => ParquetReader::new(fs::File::open(&p).unwrap())
                .finish()
                .unwrap(),
            Format::Csv | Format::ExcelCsv => CsvReadOptions::default()
                .with_has_header(true)
                .try_into_reader_with_file_path(Some(p.clone()))
                .unwrap()
                .finish()
                .unwrap(),
        };
        assert_eq!(df.height() as u64, f.rows, "{}", f.name);
        assert_eq!(m.table_rows[f.table.as_ref().unwrap()], f.rows);
        for c in df.get_column_names() {
            assert!(
                dict.contains(&format!("{},{},{},", f.name, f.table.as_ref().unwrap(), c)),
                "no dictionary entry for {}:{c}",
                f.name
            );
        }
    }
    assert_eq!(m.total_rows, m.table_rows.values().sum::<u64>());
}

#[test]
fn parquet_per_type_export_is_complete_and_consistent() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("export");
    let m = run(&dir, Format::Parquet, Layout::PerType);
    check_manifest(&dir, &m);
    assert!(!dir.join(".jhe-partial").exists());
    for t in [
        "blood_glucose",
        "blood_pressure",
        "heart_rate",
        "step_count",
        "body_weight",
        "oxygen_saturation",
        "respiratory_rate",
        "body_temperature",
        "sleep_duration",
        "physical_activity",
        // modelled since `omh::types` (were other_ieee_sleep_stage_summary_1_0 and
        // other_omh_sleep_episode_1_1)
        "sleep_stage_summary",
        "sleep_episode",
        "other_omh_rr_interval_1_0",
    ] {
        assert!(
            m.table_rows.get(t).is_some_and(|&n| n > 0),
            "table {t}: {:?}",
            m.table_rows
        );
    }
    // the malformed inputs are reported, not fatal
    assert_eq!(m.problems_count, 6);
    assert!(m.files.iter().any(|f| f.name == "problems.csv"));
    assert_eq!(m.total_observations + m.problems_count, m.total_fetched);
    // server totals equal what was fetched
    assert!(m.server_total_mismatches.is_empty());
    // types and values in a final file
    let bg = ParquetReader::new(fs::File::open(dir.join("blood_glucose.parquet")).unwrap())
        .finish()
        .unwrap();
    assert_eq!(
        bg.column("time_utc").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
    );
    assert_eq!(
        bg.column("time_local").unwrap().dtype(),
        &DataType::Datetime(TimeUnit::Microseconds, None)
    );
    assert_eq!(
        bg.column("observation_id").unwrap().dtype(),
        &DataType::Int64
    );
    assert!(bg.column("code").unwrap().dtype().is_categorical());
    let mmol = bg
        .clone()
        .lazy()
        .filter(
            col("original_unit")
                .cast(DataType::String)
                .eq(lit("mmol/L")),
        )
        .collect()
        .unwrap();
    assert_eq!(mmol.height(), 1);
    let v = mmol
        .column("glucose_mg_dl")
        .unwrap()
        .f64()
        .unwrap()
        .get(0)
        .unwrap();
    assert!((v - 99.1).abs() < 1e-9, "5.5 × 18.016 to 0.1 mg/dL: {v}");
}

#[test]
fn csv_long_export_is_complete_and_iso_timed() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("long");
    let m = run(&dir, Format::Csv, Layout::Long);
    check_manifest(&dir, &m);
    let files: Vec<&str> = m
        .files
        .iter()
        .filter(|f| f.role == "data")
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(files, ["observations_long.csv"]);
    let text = fs::read_to_string(dir.join("observations_long.csv")).unwrap();
    let header = text.lines().next().unwrap();
    assert!(
        header.starts_with("observation_id,patient_id,table,measure,time_utc,end_utc,time_local")
    );
    // blood pressure gives two rows (systolic, diastolic)
    let bp = text.lines().filter(|l| l.starts_with("105331,")).count();
    assert_eq!(bp, 2);
    // 105337: 2026-11-25T21:00:00Z, no offset change
    let row = text.lines().find(|l| l.starts_with("105337,")).unwrap();
    assert!(row.contains(",2026-11-25T21:00:00.000000Z,"), "{row}");
    assert!(row.contains(",2026-11-25T21:00:00.000000,"), "{row}");
}

#[test]
fn csv_per_type_has_readable_times_and_units() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("csv");
    let m = run(&dir, Format::Csv, Layout::PerType);
    check_manifest(&dir, &m);
    let text = fs::read_to_string(dir.join("body_temperature.csv")).unwrap();
    // 900010: 99.5 F at 2026-11-21T22:00:00+01:00
    let row = text.lines().find(|l| l.starts_with("900010,")).unwrap();
    assert!(row.contains("2026-11-21T21:00:00.000000"), "{row}");
    assert!(row.contains(",2026-11-21T22:00:00.000000,"), "{row}");
    assert!(row.contains(",60,37.5,99.5,F,"), "{row}");
    let md = fs::read_to_string(dir.join("data_dictionary.md")).unwrap();
    assert!(md.contains("## `body_temperature.csv`"));
    assert!(md.contains("| `body_temperature_c` |"));
}

fn data_hashes(m: &Manifest) -> BTreeMap<String, (String, u64)> {
    m.files
        .iter()
        .map(|f| (f.name.clone(), (f.sha256.clone(), f.rows)))
        .collect()
}

#[test]
fn crash_then_resume_equals_uninterrupted_run() {
    for (format, layout) in [
        (Format::Parquet, Layout::PerType),
        (Format::Csv, Layout::Long),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let reference = run(&tmp.path().join("a"), format, layout);

        let dir = tmp.path().join("b");
        let all = units();
        let half = all.len() / 2;
        {
            let mut ex = Export::open(spec(&dir, format, layout)).unwrap();
            for (unit, recs) in all.clone().into_iter().take(half) {
                let n = recs.len() as u64;
                ex.write_unit(&unit, recs, Some(n)).unwrap();
            }
            // crash: the Export is dropped without finish
        }
        // no final file exists, only the partial state
        assert_eq!(names_in(&dir), [".jhe-partial"]);
        // debris a real crash could leave: a temp file, an uncommitted part and a torn
        // journal line
        fs::write(dir.join(".jhe-partial/tmp/123.9.part.tmp"), b"half a part").unwrap();
        fs::write(
            dir.join(".jhe-partial/parts/deadbeef.g0.heart_rate.parquet"),
            b"junk",
        )
        .unwrap();
        let journal = dir.join(".jhe-partial/units.jsonl");
        let mut lines = fs::read(&journal).unwrap();
        assert_eq!(lines.iter().filter(|&&b| b == b'\n').count(), half);
        lines.extend_from_slice(br#"{"unit":"40001/omh:heart-rate:2.0","generation":0,"par"#);
        fs::write(&journal, lines).unwrap();

        let mut ex = Export::open(spec(&dir, format, layout)).unwrap();
        assert_eq!(ex.resumed_units(), half);
        let mut skipped = 0;
        for (unit, recs) in all {
            if ex.is_done(&unit) {
                skipped += 1;
                continue;
            }
            let n = recs.len() as u64;
            ex.write_unit(&unit, recs, Some(n)).unwrap();
        }
        assert_eq!(skipped, half);
        let resumed = ex.finish().unwrap();
        check_manifest(&dir, &resumed);
        assert_eq!(resumed.resumed_units, half as u64);
        assert_eq!(
            data_hashes(&resumed),
            data_hashes(&reference),
            "{format:?} {layout:?}"
        );
        assert_eq!(resumed.table_rows, reference.table_rows);
        assert_eq!(resumed.units, reference.units);
        assert_eq!(resumed.problems, reference.problems);
    }
}

#[test]
fn abort_keeps_progress_and_writes_no_final_file() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("x");
    let all = units();
    let (unit, recs) = all.into_iter().next().unwrap();
    let mut ex = Export::open(spec(&dir, Format::Parquet, Layout::PerType)).unwrap();
    ex.write_unit(&unit, recs, None).unwrap();
    assert!(ex.is_done(&unit));
    ex.abort();
    assert_eq!(names_in(&dir), [".jhe-partial"]);
    let ex = Export::open(spec(&dir, Format::Parquet, Layout::PerType)).unwrap();
    assert!(ex.is_done(&unit));
    // another spec does not resume (and discards the progress)
    drop(ex);
    let mut other = spec(&dir, Format::Parquet, Layout::PerType);
    other.codes = vec!["omh:heart-rate:2.0".into()];
    let ex = Export::open(other).unwrap();
    assert!(!ex.is_done(&unit));
    // app_version alone does not change the export
    drop(ex);
}

#[test]
fn duplicates_are_dropped_and_rewritten_units_replace() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    let mk = |ids: &[u64]| -> Vec<RawObservation> {
        ids.iter()
            .map(|&i| from_fhir_resource(&cgm_resource(i, 47001, i as i64, 60)).unwrap())
            .collect()
    };
    let mut ex = Export::open(spec(&dir, Format::Parquet, Layout::PerType)).unwrap();
    let u = "47001/omh:blood-glucose:4.0";
    let r = ex.write_unit(u, mk(&[1, 2, 2, 3, 1]), Some(3)).unwrap();
    assert_eq!((r.fetched, r.written, r.duplicates_dropped), (5, 3, 2));
    assert_eq!(r.rows["blood_glucose"], 3);
    // the same ids in another unit are duplicates too
    let r = ex.write_unit("47001/other", mk(&[3, 4]), None).unwrap();
    assert_eq!((r.written, r.duplicates_dropped), (1, 1));
    // writing a unit again replaces it
    let r = ex.write_unit(u, mk(&[1, 2, 3, 5]), Some(4)).unwrap();
    assert!(r.replaced);
    assert_eq!((r.written, r.duplicates_dropped), (4, 0));
    let m = ex.finish().unwrap();
    assert_eq!(m.table_rows["blood_glucose"], 5);
    assert_eq!(m.duplicates_dropped, 1);
    check_manifest(&dir, &m);
    let bg = ParquetReader::new(fs::File::open(dir.join("blood_glucose.parquet")).unwrap())
        .finish()
        .unwrap();
    let ids: Vec<i64> = bg
        .column("observation_id")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    assert_eq!(ids, [1, 2, 3, 5, 4]);
}

#[test]
fn empty_export_still_has_dictionary_and_manifest() {
    let tmp = tempfile::tempdir().unwrap();
    let dir: PathBuf = tmp.path().join("empty");
    let ex = Export::open(spec(&dir, Format::Csv, Layout::Long)).unwrap();
    let m = ex.finish().unwrap();
    check_manifest(&dir, &m);
    assert_eq!(m.total_rows, 0);
    let text = fs::read_to_string(dir.join("observations_long.csv")).unwrap();
    assert!(text.starts_with("observation_id,patient_id,table,measure"));
}

#[test]
fn types_not_modelled_get_the_union_of_their_columns() {
    use jhe_engine::omh::{Envelope, OmhSource};
    let mk = |id: u64, patient: u64, body: serde_json::Value| RawObservation {
        id,
        patient_id: patient,
        coding_system: "https://w3id.org/ieee1752".into(),
        coding_code: "ieee:survey:1.0".into(),
        last_updated: Some("2026-11-26T01:00:00Z".into()),
        omh: OmhSource::Json(
            serde_json::json!({"header": {"uuid": format!("u{id}")}, "body": body}),
        ),
        envelope: Envelope::default(),
    };
    let t = serde_json::json!({"date_time": "2026-11-20T07:45:12-08:00"});
    for format in [Format::Parquet, Format::Csv] {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("u");
        let mut ex = Export::open(spec(&dir, format, Layout::PerType)).unwrap();
        ex.write_unit(
            "1/ieee:survey:1.0",
            vec![mk(1, 1, serde_json::json!({"effective_time_frame": t, "score": {"value": 3, "unit": "pt"}, "c": 1}))],
            None,
        )
        .unwrap();
        ex.write_unit(
            "2/ieee:survey:1.0",
            vec![mk(2, 2, serde_json::json!({"effective_time_frame": t, "answer": "yes", "c": "text", "uuid": "x"}))],
            None,
        )
        .unwrap();
        let m = ex.finish().unwrap();
        check_manifest(&dir, &m);
        let name = format!("other_ieee_survey_1_0.{}", format.extension());
        let df = match format {
            Format::Parquet => ParquetReader::new(fs::File::open(dir.join(&name)).unwrap())
                .finish()
                .unwrap(),
            Format::Csv | Format::ExcelCsv => CsvReadOptions::default()
                .with_infer_schema_length(Some(0))
                .try_into_reader_with_file_path(Some(dir.join(&name)))
                .unwrap()
                .finish()
                .unwrap(),
        };
        assert_eq!(df.height(), 2);
        for c in [
            "score_value",
            "score_unit",
            "c",
            "answer",
            "body_uuid",
            "uuid",
        ] {
            assert!(
                df.column(c).is_ok(),
                "{format:?}: no column {c} in {:?}",
                df.get_column_names()
            );
        }
        let c = df.column("c").unwrap().cast(&DataType::String).unwrap();
        let c: Vec<Option<&str>> = c.str().unwrap().iter().collect();
        assert_eq!(c, [Some("1"), Some("text")]);
        let uuid = df.column("uuid").unwrap().cast(&DataType::String).unwrap();
        assert_eq!(uuid.str().unwrap().get(1), Some("u2"));
    }
}

/// (Before issue #9 a second export replaced the first one's files in place; now it never
/// mixes with them: it gets a subfolder of its own and the first export stays as it was.)
#[test]
fn exporting_again_into_the_same_folder_keeps_the_first_and_writes_a_subfolder() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("again");
    let first = run(&dir, Format::Parquet, Layout::PerType);
    let ex = Export::open(spec(&dir, Format::Parquet, Layout::PerType)).unwrap();
    let sub = ex.spec().out_dir.clone();
    assert_eq!(
        sub.parent(),
        Some(dir.as_path()),
        "a subfolder of the chosen one"
    );
    let mut ex = ex;
    for (unit, recs) in units() {
        let n = recs.len() as u64;
        ex.write_unit(&unit, recs, Some(n)).unwrap();
    }
    let second = ex.finish().unwrap();
    check_manifest(&sub, &second);
    let mut names = names_in(&dir);
    names.retain(|n| !sub.ends_with(n));
    let mut listed: Vec<String> = first.files.iter().map(|f| f.name.clone()).collect();
    listed.push("manifest.json".into());
    listed.sort();
    assert_eq!(
        names, listed,
        "the first export is untouched beside the subfolder"
    );
    assert_eq!(data_hashes(&first), data_hashes(&second));
}

/// Tables merged early (while other units still download) give the same files as merging at
/// the end, also when a unit adds to a table after it was merged early.
#[test]
fn merging_tables_early_gives_the_same_files() {
    let tmp = tempfile::tempdir().unwrap();
    let reference = run(&tmp.path().join("a"), Format::Parquet, Layout::PerType);

    let dir = tmp.path().join("b");
    let mut ex = Export::open(spec(&dir, Format::Parquet, Layout::PerType)).unwrap();
    let all: Vec<_> = units().into_iter().collect();
    let (late_unit, late_recs) = all
        .iter()
        .find(|(u, _)| u.ends_with("omh:blood-glucose:4.0"))
        .cloned()
        .expect("a CGM unit");
    for (unit, recs) in all.iter().filter(|(u, _)| *u != late_unit) {
        let n = recs.len() as u64;
        ex.write_unit(unit, recs.clone(), Some(n)).unwrap();
    }
    // every table early, then one more unit lands in blood_glucose
    for t in reference.table_rows.keys() {
        ex.merge_early(t).unwrap();
    }
    let n = late_recs.len() as u64;
    ex.write_unit(&late_unit, late_recs, Some(n)).unwrap();
    let m = ex.finish().unwrap();
    check_manifest(&dir, &m);
    assert_eq!(m.table_rows, reference.table_rows);
    let hashes = |m: &Manifest| -> Vec<(String, String)> {
        m.files
            .iter()
            .filter(|f| f.role == "data")
            .map(|f| (f.name.clone(), f.sha256.clone()))
            .collect()
    };
    assert_eq!(hashes(&m), hashes(&reference));
}
