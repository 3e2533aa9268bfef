//! Files that cannot hurt their reader: exports of a hostile server's data (spreadsheet formula
//! payloads in OMH text fields, names and identifiers) open in a spreadsheet with no live formula,
//! and on Unix every exported file and folder is readable by its owner only.

use std::fs;
use std::path::{Path, PathBuf};

use crate::common::*;
use jhe_engine::cancel::CancelToken;
use jhe_engine::export::{Format, Layout};
use jhe_engine::jobs::{export_study, ExportOutcome, ExportRequest};
use jhe_sandbox::{Hostile, Sandbox};
use polars::prelude::*;

async fn export(sb: &Sandbox, dir: &Path, layout: Layout) -> ExportOutcome {
    let s = session(sb, MARY).await;
    let mut req = ExportRequest::new(DEMO_STUDY, dir);
    req.format = Format::Csv;
    req.layout = layout;
    export_study(&s, req, |_| {}, CancelToken::new())
        .await
        .expect("export")
}

fn csv_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .expect("read export folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "csv"))
        .collect();
    v.sort();
    v
}

/// A cell a spreadsheet would run: it starts with `=`, `+`, `-`, `@`, TAB or CR and is not a
/// plain number (`-2.5` is a number; `-2+3` is a formula).
fn is_live_formula(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    ) && cell.trim().parse::<f64>().is_err()
}

/// Every header and cell of a CSV file, as text (the file parsed as a spreadsheet would).
fn cells(path: &Path) -> (Vec<String>, Vec<String>) {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .expect("csv reader")
        .finish()
        .expect("csv parses");
    let names = df
        .get_column_names()
        .iter()
        .map(|n| n.to_string())
        .collect();
    let mut out = Vec::new();
    for c in df.columns() {
        let s = c.as_materialized_series();
        for v in s.str().expect("all text").iter().flatten() {
            out.push(v.to_string());
        }
    }
    (names, out)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_of_formula_payloads_opens_in_a_spreadsheet_with_no_live_formula() {
    let sb = sandbox().await;
    sb.set_hostile(Hostile {
        formulas: true,
        ..Hostile::default()
    });
    for layout in [Layout::PerType, Layout::Long] {
        let dir = tempfile::tempdir().expect("tmp");
        let out = export(&sb, dir.path(), layout).await;
        assert!(out.complete, "complete: {:?}", out.warnings);
        let files = csv_files(&out.out_dir);
        assert!(files.len() >= 2, "data files and the dictionary: {files:?}");
        let (mut guarded, mut seen) = (0usize, 0usize);
        for f in &files {
            let (names, values) = cells(f);
            for v in names.iter().chain(&values) {
                seen += 1;
                assert!(!is_live_formula(v), "{}: live formula {v:?}", f.display());
                if v.starts_with("'=") || v.starts_with("'+") || v.starts_with("'-") {
                    guarded += 1;
                }
                if v.starts_with("'@") || v.starts_with("'\t") || v.starts_with("'\r") {
                    guarded += 1;
                }
            }
        }
        assert!(seen > 1000, "the export has data ({seen} cells)");
        // The hostile server did send payloads, and they are there, as text.
        assert!(
            guarded > 0,
            "{layout:?}: the formula payloads arrived (as text)"
        );
    }
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exported_files_and_folders_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let sb = sandbox().await;
    let parent = tempfile::tempdir().expect("tmp");
    let dir = parent.path().join("new-folder").join("study");
    let out = export(&sb, &dir, Layout::PerType).await;
    assert!(out.complete);
    for d in [parent.path().join("new-folder"), dir.clone()] {
        let mode = fs::metadata(&d).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{} was created 0700", d.display());
    }
    let mut n = 0;
    for e in fs::read_dir(&dir).expect("read") {
        let p = e.expect("entry").path();
        let mode = fs::metadata(&p).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{} is 0600", p.display());
        n += 1;
    }
    assert!(n >= 3, "data files, dictionary and manifest ({n})");
}

/// Rewrites the `name` of the manifest's first data file.
fn forge_manifest_name(dir: &Path, name: &str) {
    let path = dir.join("manifest.json");
    let mut m: serde_json::Value =
        serde_json::from_slice(&fs::read(&path).expect("manifest")).expect("manifest JSON");
    let files = m["files"].as_array_mut().expect("files");
    let first = files
        .iter_mut()
        .find(|f| f["role"] == "data")
        .expect("a data file");
    first["name"] = serde_json::Value::String(name.to_string());
    fs::write(&path, serde_json::to_vec(&m).expect("JSON")).expect("write manifest");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_cannot_point_review_outside_its_folder() {
    use jhe_engine::export::read::{open_folder, ReadError};
    let sb = sandbox().await;
    let root = tempfile::tempdir().expect("tmp");
    let secret = root.path().join("secret.csv");
    fs::write(
        &secret,
        "patient_id,effective_time_utc\n1,2026-01-01T00:00:00Z\n",
    )
    .expect("write");
    let dir = root.path().join("export");
    export(&sb, &dir, Layout::PerType).await;
    assert!(open_folder(&dir).is_ok(), "the untouched export opens");
    for forged in [
        "../secret.csv".to_string(),
        secret.display().to_string(),
        "sub/../../secret.csv".to_string(),
    ] {
        let copy = root.path().join(format!("copy{}", forged.len()));
        fs::create_dir_all(&copy).expect("mkdir");
        for e in fs::read_dir(&dir).expect("dir") {
            let p = e.expect("entry").path();
            fs::copy(&p, copy.join(p.file_name().expect("name"))).expect("copy");
        }
        forge_manifest_name(&copy, &forged);
        match open_folder(&copy) {
            Err(e @ ReadError::OutsideFolder { .. }) => {
                assert!(
                    e.to_string().contains("not inside the export folder"),
                    "{e}"
                )
            }
            other => panic!("{forged}: refused, not {other:?}"),
        }
    }
    #[cfg(unix)]
    {
        // A listed file that is a link to a file outside the folder is refused too.
        let m = read_manifest(&dir);
        let name = m
            .files
            .iter()
            .find(|f| f.role == "data")
            .expect("data")
            .name
            .clone();
        fs::remove_file(dir.join(&name)).expect("rm");
        std::os::unix::fs::symlink(&secret, dir.join(&name)).expect("symlink");
        assert!(matches!(
            open_folder(&dir),
            Err(ReadError::OutsideFolder { .. })
        ));
    }
}

fn read_manifest(dir: &Path) -> jhe_engine::export::Manifest {
    serde_json::from_slice(&fs::read(dir.join("manifest.json")).expect("manifest")).expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn review_says_which_files_changed_or_went_missing_since_the_export() {
    use jhe_engine::export::read::open_folder;
    let sb = sandbox().await;
    let root = tempfile::tempdir().expect("tmp");
    let dir = root.path().join("export");
    export(&sb, &dir, Layout::PerType).await;
    let clean = open_folder(&dir).expect("opens");
    assert!(clean.changed.is_empty() && clean.missing.is_empty());
    assert!(clean.warnings().is_empty(), "{:?}", clean.warnings());

    let m = read_manifest(&dir);
    let data: Vec<String> = m
        .files
        .iter()
        .filter(|f| f.role == "data")
        .map(|f| f.name.clone())
        .collect();
    assert!(data.len() >= 2, "{data:?}");
    // One value changed by hand in a spreadsheet, one file deleted.
    let edited = dir.join(&data[0]);
    let text = fs::read_to_string(&edited).expect("csv");
    fs::write(&edited, text.replacen(',', ";", 1)).expect("write");
    fs::remove_file(dir.join(&data[1])).expect("rm");

    let f = open_folder(&dir).expect("still opens");
    assert_eq!(f.changed, vec![data[0].clone()]);
    assert_eq!(f.missing, vec![data[1].clone()]);
    let w = f.warnings().join(" ");
    assert!(
        w.contains("Changed since export") && w.contains(&data[0]),
        "{w}"
    );
    assert!(
        w.contains("Missing since export") && w.contains(&data[1]),
        "{w}"
    );
    assert!(
        !f.files.contains(&dir.join(&data[1])),
        "a missing file is not read"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_export_into_a_used_folder_goes_into_its_own_subfolder() {
    let sb = sandbox().await;
    let root = tempfile::tempdir().expect("tmp");
    // What a new user saw: a real-server export into the folder of an earlier demo export.
    fs::write(root.path().join("blood_pressure.csv"), "demo,rows\n1,2\n").expect("write");
    fs::write(root.path().join("manifest.json"), "{}").expect("write");
    let first = export(&sb, root.path(), Layout::PerType).await;
    assert_ne!(first.out_dir, root.path(), "not mixed with what was there");
    assert_eq!(first.out_dir.parent(), Some(root.path()));
    assert_eq!(
        fs::read_to_string(root.path().join("blood_pressure.csv")).expect("kept"),
        "demo,rows\n1,2\n",
        "the earlier files are untouched"
    );
    let second = export(&sb, root.path(), Layout::PerType).await;
    assert_ne!(
        second.out_dir, first.out_dir,
        "each export has its own folder"
    );
    for o in [&first, &second] {
        let names: Vec<String> = fs::read_dir(&o.out_dir)
            .expect("dir")
            .map(|e| e.expect("entry").file_name().to_string_lossy().to_string())
            .collect();
        let listed: Vec<&str> = o.manifest.files.iter().map(|f| f.name.as_str()).collect();
        for n in &names {
            assert!(
                n == "manifest.json" || listed.contains(&n.as_str()),
                "{n} in {} is not part of this export",
                o.out_dir.display()
            );
        }
    }
}
