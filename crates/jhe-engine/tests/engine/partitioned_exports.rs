//! The partitioned layout over real HTTP against the sandbox: a study exported as hive-style
//! folders of Parquet scans (polars `scan_parquet` with hive partitioning over a glob) as one
//! dataset with the rows and columns of the per-type export, plus `study_id`; many studies'
//! exports under one parent folder scan as one dataset; and the offline review reads it back as
//! it reads the per-type export.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::export::partitioned::{PART_FILE, STUDY_ID};
use jhe_engine::export::read::{open_folder, read_export_file};
use jhe_engine::export::{Format, Layout, Manifest};
use jhe_engine::jobs::{export_study, ExportOutcome, ExportRequest};
use jhe_sandbox::Sandbox;
use polars::io::HiveOptions;
use polars::prelude::*;

async fn export(sb: &Sandbox, study: u64, dir: &Path, layout: Layout) -> ExportOutcome {
    let s = session(sb, MARY).await;
    let mut req = ExportRequest::new(study, dir);
    req.format = Format::Parquet;
    req.layout = layout;
    let out = export_study(&s, req, |_| {}, CancelToken::new())
        .await
        .expect("export");
    assert!(out.complete, "complete: {:?}", out.warnings);
    out
}

/// Polars' scan of `glob` with hive partitioning, as a user of the export would write it.
fn scan(glob: &Path) -> DataFrame {
    let args = ScanArgsParquet {
        hive_options: HiveOptions::new_enabled(),
        glob: true,
        ..Default::default()
    };
    LazyFrame::scan_parquet(PlRefPath::try_from_path(glob).expect("path"), args)
        .expect("scan")
        .collect()
        .expect("collect")
}

fn read(path: &Path) -> DataFrame {
    ParquetReader::new(fs::File::open(path).expect("open"))
        .finish()
        .expect("parquet")
}

fn sorted(df: DataFrame) -> DataFrame {
    df.sort(["patient_id", "observation_id"], Default::default())
        .expect("sort")
}

fn names(df: &DataFrame) -> Vec<String> {
    df.get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect()
}

/// Table → its per-type file, from a per-type export's manifest.
fn per_type_tables(m: &Manifest, dir: &Path) -> BTreeMap<String, PathBuf> {
    m.files
        .iter()
        .filter(|f| f.role == "data")
        .map(|f| (f.table.clone().expect("a table"), dir.join(&f.name)))
        .collect()
}

/// The observations the offline review reads from an export folder, in a comparable order.
fn reviewed(dir: &Path) -> Vec<Obs> {
    let folder = open_folder(dir).expect("the export opens for review");
    assert!(folder.warnings().is_empty(), "{:?}", folder.warnings());
    let mut obs: Vec<Obs> = folder
        .files
        .iter()
        .flat_map(|f| read_export_file(f).expect("a data file reads back").obs)
        .collect();
    obs.sort_by(|a, b| {
        (a.patient_id, a.observation_id, &a.code).cmp(&(b.patient_id, b.observation_id, &b.code))
    });
    obs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_export_scans_as_one_dataset_with_the_same_rows_as_the_per_type_export() {
    let sb = sandbox().await;
    let tmp = tempfile::tempdir().expect("tmp");
    let (per_type_dir, part_dir) = (tmp.path().join("per-type"), tmp.path().join("partitioned"));
    let per_type = export(&sb, DEMO_STUDY, &per_type_dir, Layout::PerType).await;
    let part = export(&sb, DEMO_STUDY, &part_dir, Layout::Partitioned).await;
    let m = &part.manifest;
    assert_eq!(
        m.layout,
        Layout::Partitioned,
        "the manifest records the layout"
    );
    assert_eq!(m.table_rows, per_type.manifest.table_rows);
    assert_eq!(m.total_observations, per_type.manifest.total_observations);

    // Every other file is at the top of the folder, as in the per-type export.
    let tops = |m: &Manifest| -> Vec<String> {
        let mut v: Vec<String> = (m.files.iter().filter(|f| f.role != "data"))
            .map(|f| f.name.clone())
            .collect();
        v.sort();
        v
    };
    assert_eq!(tops(m), tops(&per_type.manifest));
    for name in ["manifest.json", "data_dictionary.csv", "participants.csv"] {
        assert!(part_dir.join(name).is_file(), "{name}");
    }
    assert!(part_dir.join("metrics_cgm.parquet").is_file());
    assert!(!part_dir.join(".jhe-partial").exists());

    // Each file is where its rows say: the hive keys agree with the columns in the file.
    for f in m.files.iter().filter(|f| f.role == "data") {
        let segments: Vec<&str> = f.name.split('/').collect();
        let table = f.table.as_deref().expect("table");
        assert_eq!(segments.len(), 4, "{}", f.name);
        assert_eq!(segments[0], table);
        assert_eq!(segments[1], format!("{STUDY_ID}={DEMO_STUDY}"));
        assert_eq!(segments[3], PART_FILE);
        let patient: i64 = segments[2]
            .strip_prefix("patient_id=")
            .and_then(|v| v.parse().ok())
            .expect("a patient partition");
        let df = read(&part_dir.join(&f.name));
        assert_eq!(df.height() as u64, f.rows);
        let col = |c: &str| -> Vec<Option<i64>> {
            let c = df.column(c).expect("column").cast(&DataType::Int64);
            c.expect("ints").i64().expect("i64").iter().collect()
        };
        assert!(col("patient_id").iter().all(|v| *v == Some(patient)));
        assert!(col(STUDY_ID).iter().all(|v| *v == Some(DEMO_STUDY as i64)));
    }

    // The same table, scanned with hive partitioning over a glob: the per-type file's rows and
    // columns (in its order), then study_id.
    let tables = per_type_tables(&per_type.manifest, &per_type.out_dir);
    assert!(tables.len() >= 5, "{tables:?}");
    for (table, file) in &tables {
        let expected = sorted(read(file));
        let scanned = scan(&part.out_dir.join(table).join("**").join("*.parquet"));
        let mut columns = names(&expected);
        columns.push(STUDY_ID.into());
        assert_eq!(names(&scanned), columns, "{table}");
        assert_eq!(scanned.height(), expected.height(), "{table}");
        let study = scanned.column(STUDY_ID).expect("study_id");
        assert_eq!(study.dtype(), &DataType::Int64);
        assert_eq!(
            study.i64().expect("i64").iter().collect::<Vec<_>>(),
            vec![Some(DEMO_STUDY as i64); scanned.height()]
        );
        let scanned = sorted(scanned.drop(STUDY_ID).expect("drop"));
        for c in [
            "observation_id",
            "patient_id",
            "time_utc",
            "start_utc",
            "code",
        ] {
            if let Ok(want) = expected.column(c) {
                let got = scanned.column(c).expect("the same column");
                assert!(got.equals_missing(want), "{table}.{c}");
            }
        }
        assert!(scanned.equals_missing(&expected), "{table}: every value");
    }

    // The offline review (export::read) reads it back as the per-type export, with and
    // without its manifest.
    let want = reviewed(&per_type.out_dir);
    assert!(!want.is_empty());
    assert_eq!(reviewed(&part.out_dir), want);
    let copy = tmp.path().join("copied-without-manifest");
    copy_tree(&part.out_dir, &copy);
    fs::remove_file(copy.join("manifest.json")).expect("rm manifest");
    assert_eq!(reviewed(&copy), want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_studies_partitioned_exports_under_one_parent_folder_scan_as_one_dataset() {
    let sb = sandbox().await;
    let root = tempfile::tempdir().expect("tmp");
    // 30001 and 30002 share participants 40001 and 40002, who upload blood pressure to both.
    let mut outs = Vec::new();
    for study in [DEMO_STUDY, 30001, 30002] {
        let dir = root.path().join(format!("study-{study}"));
        outs.push((study, export(&sb, study, &dir, Layout::Partitioned).await));
    }
    let all = scan(&root.path().join("*/blood_pressure/**/*.parquet"));
    let rows = |o: &ExportOutcome| o.manifest.table_rows.get("blood_pressure").copied();
    let total: u64 = outs.iter().filter_map(|(_, o)| rows(o)).sum();
    assert_eq!(all.height() as u64, total);

    // Grouped by the study key: each study's rows, and a participant of two studies in both.
    let per_study = all
        .clone()
        .lazy()
        .group_by([col(STUDY_ID)])
        .agg([len().alias("rows")])
        .collect()
        .expect("group");
    let got: BTreeMap<i64, u64> = per_study
        .column(STUDY_ID)
        .expect("study_id")
        .i64()
        .expect("i64")
        .iter()
        .zip(
            (per_study.column("rows").expect("rows"))
                .cast(&DataType::UInt64)
                .expect("counts")
                .u64()
                .expect("u64")
                .iter(),
        )
        .filter_map(|(s, n)| Some((s?, n?)))
        .collect();
    let want: BTreeMap<i64, u64> = outs
        .iter()
        .filter_map(|(s, o)| Some((*s as i64, rows(o)?)))
        .collect();
    assert_eq!(got, want);
    assert_eq!(want.len(), 3, "every study has blood pressure: {want:?}");
    let studies_of_40001 = all
        .lazy()
        .filter(col("patient_id").eq(lit(40001i64)))
        .select([col(STUDY_ID).unique().sort(Default::default())])
        .collect()
        .expect("filter");
    let studies: Vec<Option<i64>> = studies_of_40001
        .column(STUDY_ID)
        .expect("study_id")
        .i64()
        .expect("i64")
        .iter()
        .collect();
    assert_eq!(studies, vec![Some(30001), Some(30002)]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partitioned_export_to_csv_is_refused_with_a_plain_message() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let dir = tempfile::tempdir().expect("tmp");
    let mut req = ExportRequest::new(DEMO_STUDY, dir.path());
    req.format = Format::Csv;
    req.layout = Layout::Partitioned;
    let e = export_study(&s, req, |_| {}, CancelToken::new())
        .await
        .expect_err("refused");
    assert!(e.to_string().contains("Parquet only"), "{e}");
    assert!(
        fs::read_dir(dir.path()).expect("dir").next().is_none(),
        "nothing was written"
    );
}

fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).expect("copy");
        }
    }
}

/// CGM units of three participants, and one unit holding rows of two (its part is split).
fn cgm_units() -> BTreeMap<String, Vec<jhe_engine::omh::RawObservation>> {
    use crate::golden_support::cgm_resource;
    use jhe_engine::omh::from_fhir_resource;
    let mut units: BTreeMap<String, Vec<_>> = BTreeMap::new();
    for i in 0..600u64 {
        let patient = 47000 + i % 3;
        let raw = from_fhir_resource(&cgm_resource(3_000_000 + i, patient, i as i64 * 5, 60))
            .expect("a CGM resource");
        units
            .entry(format!("{patient}/{}", raw.coding_code))
            .or_default()
            .push(raw);
    }
    let mixed = (0..40u64).map(|i| {
        from_fhir_resource(&cgm_resource(3_100_000 + i, 47001 + i % 3, i as i64 * 7, 0))
            .expect("a CGM resource")
    });
    units.insert("mixed/cgm".into(), mixed.collect());
    units
}

fn spec(dir: &Path) -> jhe_engine::export::ExportSpec {
    jhe_engine::export::ExportSpec::new(
        dir,
        Format::Parquet,
        Layout::Partitioned,
        "http://127.0.0.1:8000",
        Some(30001),
    )
}

/// The Parquet files under `dir`'s table folders, relative to `dir`.
fn parquet_files(dir: &Path, under: &Path, out: &mut Vec<String>) {
    for e in fs::read_dir(under).expect("dir") {
        let p = e.expect("entry").path();
        if p.is_dir() {
            parquet_files(dir, &p, out);
        } else if p.extension().is_some_and(|x| x == "parquet") && p.parent() != Some(dir) {
            let rel = p.strip_prefix(dir).expect("inside");
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[test]
fn an_interrupted_partitioned_export_resumes_to_the_same_files_and_leaves_none_stale() {
    use sha2::{Digest, Sha256};
    let tmp = tempfile::tempdir().expect("tmp");
    let all = cgm_units();
    let write = |ex: &mut jhe_engine::export::Export, skip_done: bool| {
        for (unit, recs) in all.clone() {
            if skip_done && ex.is_done(&unit) {
                continue;
            }
            let n = recs.len() as u64;
            ex.write_unit(&unit, recs, Some(n)).expect("unit");
        }
    };
    let reference = {
        let mut ex = jhe_engine::export::Export::open(spec(&tmp.path().join("a"))).expect("open");
        write(&mut ex, false);
        ex.finish().expect("finish")
    };

    let dir = tmp.path().join("b");
    let half = all.len() / 2;
    {
        let mut ex = jhe_engine::export::Export::open(spec(&dir)).expect("open");
        for (unit, recs) in all.clone().into_iter().take(half) {
            ex.write_unit(&unit, recs, None).expect("unit");
        }
        // crash: dropped without finish
    }
    // Debris of an interrupted earlier finish: a table folder staged, and one already moved
    // into place (no manifest yet), each with a participant the export does not have.
    let some_file = tmp.path().join("a").join(&reference.files[0].name);
    for stale in [
        ".jhe-partial/final/blood_glucose/study_id=30001/patient_id=999",
        "blood_glucose/study_id=30001/patient_id=998",
    ] {
        fs::create_dir_all(dir.join(stale)).expect("mkdir");
        fs::copy(&some_file, dir.join(stale).join(PART_FILE)).expect("copy");
    }
    let mut ex = jhe_engine::export::Export::open(spec(&dir)).expect("reopen");
    assert_eq!(ex.spec().out_dir, dir, "resumed where it was");
    assert_eq!(ex.resumed_units(), half);
    write(&mut ex, true);
    let resumed = ex.finish().expect("finish");

    let hashes = |m: &Manifest| -> BTreeMap<String, (String, u64)> {
        (m.files.iter().filter(|f| f.role == "data"))
            .map(|f| (f.name.clone(), (f.sha256.clone(), f.rows)))
            .collect()
    };
    assert_eq!(hashes(&resumed), hashes(&reference));
    assert_eq!(resumed.table_rows, reference.table_rows);
    assert_eq!(
        resumed.table_rows.get("blood_glucose"),
        Some(&(all.values().map(|v| v.len() as u64).sum()))
    );
    // Four participants (one only in the split unit), each in one file.
    assert_eq!(hashes(&resumed).len(), 4, "{:?}", hashes(&resumed).keys());
    let mut on_disk = Vec::new();
    parquet_files(&dir, &dir, &mut on_disk);
    on_disk.sort();
    let listed: Vec<String> = hashes(&resumed).into_keys().collect();
    assert_eq!(on_disk, listed, "no file but the manifest's, none stale");
    for f in &resumed.files {
        let bytes = fs::read(dir.join(&f.name)).expect("listed file");
        let sum: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(sum, f.sha256, "{}", f.name);
    }
    assert!(!dir.join(".jhe-partial").exists());
}
