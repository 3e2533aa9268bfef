//! De-identified exports of the demo study over real HTTP: no name, MRN, birth date, e-mail or
//! real patient id survives in any file or path (CSV, Parquet, long and partitioned layouts);
//! each participant's times move by one whole number of days (of weeks when asked), 0–364,
//! different between participants; the same key gives the same pseudonyms and shifts again;
//! the CGM metrics (TIR, CV, mean, …) equal those of the plain export, with a date filter too.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use crate::common::*;
use chrono::NaiveDate;
use jhe_engine::api::Session;
use jhe_engine::auth::MemoryStore;
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::export::read::read_export_file;
use jhe_engine::export::{Deidentify, Format, Layout, ShiftMode};
use jhe_engine::jobs::{export_study, ExportOutcome, ExportRequest};
use polars::prelude::*;

const DAY_US: i64 = 86_400_000_000;

struct Opts {
    format: Format,
    layout: Layout,
    deidentify: Option<Deidentify>,
    dates: Option<(NaiveDate, NaiveDate)>,
}

async fn export(s: &Session, dir: &Path, o: Opts) -> ExportOutcome {
    let mut req = ExportRequest::new(DEMO_STUDY, dir);
    req.format = o.format;
    req.layout = o.layout;
    req.deidentify = o.deidentify;
    if let Some((from, to)) = o.dates {
        req.date_from = Some(from);
        req.date_to = Some(to);
    }
    let out = export_study(s, req, |_| {}, CancelToken::new())
        .await
        .expect("export");
    assert!(out.complete, "{:?}", out.warnings);
    out
}

fn plain(format: Format) -> Opts {
    Opts {
        format,
        layout: Layout::PerType,
        deidentify: None,
        dates: None,
    }
}

fn deid(format: Format, layout: Layout, d: &Deidentify) -> Opts {
    Opts {
        format,
        layout,
        deidentify: Some(d.clone()),
        dates: None,
    }
}

/// Observation id → observation, of every data file of the export.
fn observations(out: &ExportOutcome) -> BTreeMap<u64, Obs> {
    let mut all = BTreeMap::new();
    for f in out.manifest.files.iter().filter(|f| f.role == "data") {
        for o in read_export_file(&out.out_dir.join(&f.name))
            .expect("read back")
            .obs
        {
            all.insert(o.observation_id, o);
        }
    }
    assert!(!all.is_empty());
    all
}

/// A table of the export (CSV or Parquet).
fn table(path: &Path) -> DataFrame {
    if path.extension().is_some_and(|e| e == "parquet") {
        ParquetReader::new(std::fs::File::open(path).expect("open"))
            .finish()
            .expect("parquet")
    } else {
        CsvReadOptions::default()
            .with_has_header(true)
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .expect("csv reader")
            .finish()
            .expect("csv")
    }
}

fn ids_of(df: &DataFrame, column: &str) -> Vec<i64> {
    match df.column(column) {
        Ok(c) => c
            .cast(&DataType::Int64)
            .expect("integer ids")
            .i64()
            .expect("i64")
            .iter()
            .flatten()
            .collect(),
        Err(_) => Vec::new(),
    }
}

fn key_hex(key: &[u8; 32]) -> String {
    key.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_direct_identifier_survives_in_any_file() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let patients = s.study_patients(DEMO_STUDY).await.expect("patients");
    let real: BTreeSet<u64> = patients.iter().map(|p| p.id).collect();
    let mut needles: Vec<String> = Vec::new();
    for p in &patients {
        needles.extend(
            (p.name_family
                .iter()
                .chain(&p.name_given)
                .chain(&p.birth_date))
            .cloned(),
        );
        needles.extend(p.identifiers.iter().filter_map(|i| i.value.clone()));
        needles.extend(p.telecom_email.clone());
        needles.push(format!("patient_id={}", p.id));
        needles.push(format!("\"{}/omh:", p.id));
    }
    needles.retain(|n| n.len() >= 4);
    let with_mrn = patients
        .iter()
        .filter(|p| !p.identifiers.is_empty())
        .count();
    assert!(
        with_mrn > 0 && needles.len() > 4 * patients.len(),
        "{needles:?}"
    );

    // The plain export holds the identifiers and real ids: the check can see them.
    let tmp = tempfile::tempdir().expect("tmp");
    let out = export(&s, &tmp.path().join("plain"), plain(Format::Csv)).await;
    let bytes = std::fs::read(out.out_dir.join("participants.csv")).expect("participants");
    let text = String::from_utf8_lossy(&bytes);
    assert!(patients
        .iter()
        .flat_map(|p| p.identifiers.iter().filter_map(|i| i.value.as_deref()))
        .any(|v| text.contains(v)));

    let key = [0x5au8; 32];
    let d = Deidentify::new(key, ShiftMode::WholeDays);
    needles.push(key_hex(&key));
    let runs = [
        (Format::Csv, Layout::PerType),
        (Format::Parquet, Layout::PerType),
        (Format::ExcelCsv, Layout::Long),
        (Format::Parquet, Layout::Partitioned),
    ];
    for (format, layout) in runs {
        let dir = tmp.path().join(format!("{format:?}-{layout:?}"));
        let out = export(&s, &dir, deid(format, layout, &d)).await;
        let listed = files_in(&out.out_dir);
        assert!(listed.len() >= 5, "{listed:?}");
        for (rel, path) in &listed {
            let bytes = std::fs::read(path).expect("read");
            for n in &needles {
                assert!(
                    !rel.contains(n.as_str()),
                    "{n:?} in the path {rel} ({format:?}, {layout:?})"
                );
                assert!(
                    !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                    "{n:?} in {rel} ({format:?}, {layout:?})"
                );
            }
            // every id column holds pseudonyms only
            let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
            if ext == "csv" || ext == "parquet" {
                let df = table(path);
                for column in ["patient_id", "participant_id"] {
                    for id in ids_of(&df, column) {
                        assert!(
                            !real.contains(&(id as u64)) && id.to_string().len() == 15,
                            "{column} {id} in {rel}"
                        );
                    }
                }
            }
        }
        let m = &out.manifest;
        let info = m.deidentified.as_ref().expect("the manifest says so");
        assert_eq!(info.shift, ShiftMode::WholeDays);
        assert!(info.dropped.iter().any(|x| x.contains("identifiers")));
        for u in &m.units {
            let pid: u64 = u
                .unit
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .expect("id");
            assert!(!real.contains(&pid), "unit {}", u.unit);
        }
        // reviewing it offline works, with the pseudonyms as ids
        let folder = jhe_engine::export::read::open_folder(&out.out_dir).expect("open");
        assert!(folder.changed.is_empty() && folder.missing.is_empty());
        let obs = observations(&out);
        let people: BTreeSet<u64> = obs.values().map(|o| o.patient_id).collect();
        assert_eq!(people.len(), real.len(), "one pseudonym per participant");
        let expected: BTreeSet<u64> = real.iter().map(|p| d.pseudonym(*p)).collect();
        assert_eq!(people, expected);
    }
}

/// Per real participant: the set of (shifted − original) over their observations, and their
/// pseudonym(s).
fn shifts(a: &ExportOutcome, b: &ExportOutcome) -> BTreeMap<u64, (BTreeSet<i64>, BTreeSet<u64>)> {
    let (orig, shifted) = (observations(a), observations(b));
    assert_eq!(orig.len(), shifted.len(), "the same observations");
    let mut per: BTreeMap<u64, (BTreeSet<i64>, BTreeSet<u64>)> = BTreeMap::new();
    for (id, o) in &orig {
        let x = shifted.get(id).expect("the same observation ids");
        let e = per.entry(o.patient_id).or_default();
        e.0.insert(x.t_us - o.t_us);
        if let (Some(p), Some(q)) = (o.end_us, x.end_us) {
            e.0.insert(q - p);
        }
        if let (Some(p), Some(q)) = (o.local_us, x.local_us) {
            e.0.insert(q - p);
        }
        e.1.insert(x.patient_id);
        assert_eq!(x.v, o.v, "values unchanged");
    }
    per
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_participants_times_shift_by_one_whole_number_of_days() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let base = export(&s, &tmp.path().join("plain"), plain(Format::Parquet)).await;
    for (mode, step) in [(ShiftMode::WholeDays, 1), (ShiftMode::KeepWeekday, 7)] {
        let d = Deidentify::new([0x21u8; 32], mode);
        let dir = tmp.path().join(format!("{mode:?}"));
        let out = export(&s, &dir, deid(Format::Parquet, Layout::PerType, &d)).await;
        let per = shifts(&base, &out);
        assert!(per.len() >= 3);
        let mut distinct = BTreeSet::new();
        for (pid, (diffs, pseudonyms)) in &per {
            assert_eq!(diffs.len(), 1, "participant {pid}: one shift for all rows");
            let diff = *diffs.iter().next().expect("one");
            assert_eq!(diff % DAY_US, 0, "whole days");
            let days = -diff / DAY_US;
            assert!((0..=364).contains(&days), "{days} days back");
            assert_eq!(days % step, 0, "{mode:?}: {days} days");
            assert_eq!(days, d.shift_days(*pid));
            assert_eq!(pseudonyms.len(), 1);
            distinct.insert(days);
        }
        assert!(distinct.len() >= 2, "{mode:?}: shifts differ: {distinct:?}");
        // the server's write time moves with the data (checked in one table)
        let f = base
            .manifest
            .files
            .iter()
            .find(|f| f.name == "blood_glucose.parquet");
        let f = f.expect("glucose table");
        let (a, b) = (
            table(&base.out_dir.join(&f.name)),
            table(&out.out_dir.join(&f.name)),
        );
        let upd = |df: &DataFrame| -> HashMap<i64, i64> {
            let ids = ids_of(df, "observation_id");
            let t = df.column("last_updated_utc").expect("column");
            let t = t.cast(&DataType::Int64).expect("i64");
            ids.into_iter()
                .zip(t.i64().expect("i64").iter())
                .filter_map(|(i, t)| Some((i, t?)))
                .collect()
        };
        let (ua, ub) = (upd(&a), upd(&b));
        assert!(!ua.is_empty());
        let origin = observations(&base);
        for (id, t) in &ua {
            let pid = origin[&(*id as u64)].patient_id;
            assert_eq!(ub[id] - t, d.shift_us(pid), "last_updated_utc of {id}");
        }
    }
    // Without shifting, only the ids change.
    let d = Deidentify::new([0x21u8; 32], ShiftMode::None);
    let out = export(
        &s,
        &tmp.path().join("none"),
        deid(Format::Csv, Layout::PerType, &d),
    )
    .await;
    for (diffs, _) in shifts(&base, &out).values() {
        assert_eq!(diffs.iter().copied().collect::<Vec<_>>(), [0]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_re_export_with_the_studys_key_gives_the_same_pseudonyms_and_shifts() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let store = MemoryStore::new();
    let load = || {
        Deidentify::load(&store, sb.url(), DEMO_STUDY, ShiftMode::WholeDays, true)
            .expect("key")
            .expect("made or kept")
    };
    let tmp = tempfile::tempdir().expect("tmp");
    let a = export(
        &s,
        &tmp.path().join("a"),
        deid(Format::Csv, Layout::PerType, &load()),
    )
    .await;
    let b = export(
        &s,
        &tmp.path().join("b"),
        deid(Format::Parquet, Layout::Long, &load()),
    )
    .await;
    let (oa, ob) = (observations(&a), observations(&b));
    assert_eq!(oa.len(), ob.len());
    for (id, x) in &oa {
        let y = &ob[id];
        assert_eq!(
            (x.patient_id, x.t_us, x.end_us),
            (y.patient_id, y.t_us, y.end_us)
        );
    }
    // another study's key gives other pseudonyms
    let other = Deidentify::load(&store, sb.url(), DEMO_STUDY + 1, ShiftMode::WholeDays, true)
        .expect("key")
        .expect("made");
    let c = export(
        &s,
        &tmp.path().join("c"),
        deid(Format::Csv, Layout::PerType, &other),
    )
    .await;
    let oc = observations(&c);
    assert!(oa.iter().all(|(id, x)| oc[id].patient_id != x.patient_id));
}

/// A metric table's rows by participant id, every column but the id and dates as text.
fn metric_rows(path: &Path) -> BTreeMap<u64, BTreeMap<String, String>> {
    let df = table(path);
    let ids = ids_of(&df, "participant_id");
    let mut out = BTreeMap::new();
    for (i, id) in ids.iter().enumerate() {
        let mut row = BTreeMap::new();
        for c in df.columns() {
            let name = c.name().to_string();
            if name == "participant_id" || name.ends_with("_date") {
                continue;
            }
            row.insert(name, format!("{}", c.get(i).expect("cell")));
        }
        out.insert(*id as u64, row);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_are_unchanged_by_de_identification() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let d = Deidentify::new([0x77u8; 32], ShiftMode::WholeDays);
    let base = export(&s, &tmp.path().join("all"), plain(Format::Parquet)).await;
    // the last day of data, as a date filter: each participant's period moves with their data
    let last = observations(&base)
        .values()
        .map(|o| o.t_us)
        .max()
        .expect("data");
    let day = chrono::DateTime::from_timestamp_micros(last)
        .expect("time")
        .date_naive();
    for dates in [None, Some((day, day))] {
        let name = format!("{dates:?}");
        let mut p = plain(Format::Csv);
        p.dates = dates;
        let a = export(&s, &tmp.path().join(format!("plain-{name}")), p).await;
        let mut q = deid(Format::Csv, Layout::PerType, &d);
        q.dates = dates;
        let b = export(&s, &tmp.path().join(format!("deid-{name}")), q).await;
        if dates.is_some() {
            assert_eq!(
                b.manifest.filters.date_from, None,
                "the dates would tell the shifts"
            );
            assert!(a.manifest.filters.date_from.is_some());
        }
        let (ra, rb) = (
            metric_rows(&a.out_dir.join("metrics_cgm.csv")),
            metric_rows(&b.out_dir.join("metrics_cgm.csv")),
        );
        assert!(!ra.is_empty());
        assert_eq!(ra.len(), rb.len());
        for (pid, row) in &ra {
            let other = &rb[&d.pseudonym(*pid)];
            for col in [
                "n_readings",
                "mean_mg_dl",
                "cv_percent",
                "in_range_percent",
                "active_percent",
            ] {
                assert!(row.contains_key(col), "{col} in {row:?}");
            }
            for (col, v) in row {
                let (x, y) = (v.trim_matches('"'), other[col].trim_matches('"'));
                let same = x == y
                    || match (x.parse::<f64>(), y.parse::<f64>()) {
                        (Ok(x), Ok(y)) => (x - y).abs() <= 1e-9 * x.abs().max(1.0),
                        _ => false,
                    };
                assert!(same, "{dates:?}: participant {pid} {col}: {x} vs {y}");
            }
        }
    }
}
