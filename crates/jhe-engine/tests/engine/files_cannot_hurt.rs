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
