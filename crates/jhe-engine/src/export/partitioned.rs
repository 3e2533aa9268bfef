//! The partitioned layout ([`super::Layout::Partitioned`], Parquet only): each type's table is a
//! folder of hive-style partitions with one file per participant, and everything else is at the
//! top of the export folder as in the other layouts:
//!
//! ```text
//! OUT/blood_glucose/study_id=30006/patient_id=40001/part-0.parquet
//! OUT/blood_glucose/study_id=30006/patient_id=40002/part-0.parquet
//! OUT/blood_pressure/study_id=30006/patient_id=40001/part-0.parquet
//! OUT/manifest.json, data_dictionary.csv, participants.csv, findings.csv, metrics_cgm.parquet, …
//! ```
//!
//! Many studies' exports in one parent folder are then one dataset per table, e.g. in DuckDB
//! `read_parquet('ROOT/*/blood_glucose/**/*.parquet', hive_partitioning = true)`, or polars'
//! `scan_parquet` of the same glob with hive partitioning (both tested: the engine's
//! `partitioned_exports` tests and `tests/python/test_partitioned_duckdb.py`). Why this scheme:
//!
//! - **The table is a plain folder, outermost.** Each table has columns of its own, so two
//!   tables never scan as one dataset; `OUT/blood_glucose/` is one dataset's root (what a
//!   directory scan opens), and the same table of many exports is one glob,
//!   `ROOT/*/blood_glucose/**/*.parquet`, that cannot pick up another table or the metric tables
//!   beside them. A `type=` key instead would add a column with one value in every row, and
//!   `ROOT/**/*.parquet` would mix tables of different columns.
//! - **`study_id=` above `patient_id=`.** One export's data files do not name their study (its
//!   manifest does), and a participant can be in two studies, whose exports then both hold their
//!   data: the study is the key that tells many studies' rows apart and groups them by study.
//! - **The keys are named as the columns** (`patient_id`, as every per-type table calls it, not
//!   `participant`), so a scan with hive partitioning has one patient column, not two.
//! - **The partition columns are also in the files**, with the folder's value: `patient_id`
//!   stays where the per-type table has it, and `study_id` is added as the last column. Readers
//!   that find a hive key among a file's columns read it as that one column, where the file has
//!   it (DuckDB 2.0 and polars 0.55 do), so a scan with hive partitioning and one without it (a
//!   list of files in pandas, a file copied elsewhere) give the same rows and columns: the
//!   per-type export's columns in their order, then `study_id`. Dropping them from the files
//!   would leave a file alone not saying whose data it is, and move `patient_id` to the end of
//!   a scan. The values cannot disagree: a participant's file holds only their rows (a part
//!   with rows of several participants is split), and its folder is named from their value.
//! - **Every file of a table has the table's whole schema** (the union over its parts, as the
//!   per-type file has), since scanners take one file's columns for all of them.
//! - `part-0.parquet`: one file per participant and table (its rows in the per-type file's
//!   order); the name leaves room for more files per partition.
//!
//! Crash safety is that of the other layouts: each file is written atomically into
//! `.jhe-partial/final/<table>/…`, and [`publish_folders`] moves each table folder into the
//! export folder with one rename, so a table's folder appears whole or not at all, before the
//! manifest (written last) lists every file with its SHA-256. Resume is unchanged: the journal
//! and the part files are the same for every layout; only this final merge writes differently.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::merge::{align, union_schema, RowGroups};
use super::state::PartRecord;
use super::store::Store;
use super::{io_err, Export, ExportError, ManifestFile};
use crate::frame::names::{OBSERVATION_ID, PATIENT_ID};
use crate::frame::{dictionary, DictEntry};
use crate::omh;

/// The study's partition key, and the column every file of the layout ends with.
pub const STUDY_ID: &str = "study_id";
/// The file in each participant's folder.
pub const PART_FILE: &str = "part-0.parquet";
/// The folder value of a missing key (an export of no study), as Hive, Spark, DuckDB and
/// polars read a null.
const NULL_VALUE: &str = "__HIVE_DEFAULT_PARTITION__";

/// The partitioned tables staged in `.jhe-partial/final` for `publish`.
#[derive(Default)]
pub(super) struct StagedFolders {
    /// Each table's folder, moved into the export folder whole.
    pub(super) dirs: Vec<PathBuf>,
    /// Each file in them: its staged path and its manifest entry (named relative to the export
    /// folder, with `/`).
    pub(super) files: Vec<(PathBuf, ManifestFile)>,
}

/// A partition folder's name, `patient_id=40001`.
fn partition(key: &str, value: Option<i64>) -> String {
    match value {
        Some(v) => format!("{key}={v}"),
        None => format!("{key}={NULL_VALUE}"),
    }
}

/// What the data dictionary's `file` column says for a partitioned table: its folder.
pub(super) fn folder_label(table: &str) -> String {
    format!("{table}/")
}

/// Patient id → the parts with rows of theirs: (index in `parts`, whether the part holds that
/// participant's rows only).
type Members = BTreeMap<Option<i64>, Vec<(usize, bool)>>;

/// The participants whose rows each part holds, in patient order.
fn by_participant(
    store: &Store,
    parts_dir: &Path,
    parts: &[PartRecord],
) -> Result<Members, ExportError> {
    let mut out = Members::new();
    for (i, p) in parts.iter().enumerate() {
        let path = parts_dir.join(&p.file);
        let df = store.read_parquet_columns(&path, &[PATIENT_ID])?;
        let ids = df.column(PATIENT_ID)?.cast(&DataType::Int64)?;
        let ids: BTreeSet<Option<i64>> = ids.i64()?.iter().collect();
        let alone = ids.len() == 1;
        for id in ids {
            out.entry(id).or_default().push((i, alone));
        }
    }
    Ok(out)
}

/// The rows of `df` whose patient id is `patient`.
fn rows_of(df: &DataFrame, patient: Option<i64>) -> PolarsResult<DataFrame> {
    let ids = df.column(PATIENT_ID)?.cast(&DataType::Int64)?;
    let mask: BooleanChunked = ids.i64()?.iter().map(|v| v == patient).collect();
    df.filter(&mask)
}

/// The dictionary entries of a partitioned table's columns (`study_id` described as what it is).
fn table_dictionary(table: &str, view: Option<&omh::DataType>, schema: &Schema) -> Vec<DictEntry> {
    let mut entries = dictionary(table, view, schema);
    for e in &mut entries {
        if e.column == STUDY_ID {
            e.dtype = crate::frame::Dtype::Int64.label().into();
            e.unit = String::new();
            e.description = "JHE study id of the export. With patient_id, a hive partition \
                 key: each participant's rows are in \
                 <table>/study_id=<id>/patient_id=<id>/part-0.parquet, and both keys are also \
                 columns of every file, with the folder's values."
                .into();
        }
    }
    entries
}

impl Export {
    /// Writes `table` as its folder of participant files into `final_tmp/<table>`, adding the
    /// folder and its files to `out`; returns the table's rows and its dictionary entries.
    pub(super) fn stage_partitioned(
        &mut self,
        final_tmp: &Path,
        table: &str,
        view: Option<&omh::DataType>,
        parts: &[PartRecord],
        out: &mut StagedFolders,
    ) -> Result<(u64, Vec<DictEntry>), ExportError> {
        let root = final_tmp.join(table);
        // An interrupted earlier `finish` may have left files of participants no longer here.
        let store = self.store.clone();
        if store.exists(&root) {
            store
                .remove_dir_all(&root)
                .map_err(io_err("remove", &root))?;
        }
        let schema = union_schema(&store, &self.parts_dir, view, parts)?;
        let mut file_schema = schema.clone();
        file_schema.with_column(STUDY_ID.into(), DataType::Int64);
        let study = self.spec.study_id.and_then(|s| i64::try_from(s).ok());
        let study_dir = root.join(partition(STUDY_ID, study));
        store
            .create_dir_all(&study_dir)
            .map_err(io_err("create folder", &study_dir))?;

        let parts_dir = self.parts_dir.clone();
        let mut table_rows = 0u64;
        for (patient, members) in by_participant(&store, &parts_dir, parts)? {
            let folder = partition(PATIENT_ID, patient);
            let dir = study_dir.join(&folder);
            store
                .create_dir_all(&dir)
                .map_err(io_err("create folder", &dir))?;
            let dest = dir.join(PART_FILE);
            let tmp = self.next_tmp("partition");
            let (mut rows, mut observations) = (0u64, 0u64);
            let written = store.write_atomic(&self.tmp_dir, &tmp, &dest, |w| {
                let mut writer = ParquetWriter::new(w)
                    .with_compression(ParquetCompression::Zstd(None))
                    .batched(&file_schema)?;
                let mut groups = RowGroups::default();
                let mut write = |d: &DataFrame| writer.write_batch(d);
                for &(i, alone) in &members {
                    let p = &parts[i];
                    let mut df = store.read_parquet(&parts_dir.join(&p.file))?;
                    if alone {
                        observations += p.observations;
                    } else {
                        df = rows_of(&df, patient)?;
                        observations += df.column(OBSERVATION_ID)?.n_unique()? as u64;
                    }
                    let mut df = align(&df, &schema)?;
                    let height = df.height();
                    df.with_column(Column::new(STUDY_ID.into(), vec![study; height]))?;
                    rows += height as u64;
                    groups.push(df, &mut write)?;
                }
                groups.flush(&mut write)?;
                writer.finish()?;
                Ok(())
            })?;
            table_rows += rows;
            let name = format!(
                "{table}/{}/{folder}/{PART_FILE}",
                partition(STUDY_ID, study)
            );
            out.files.push((
                dest,
                ManifestFile {
                    name,
                    role: "data".into(),
                    table: Some(table.to_string()),
                    format: "parquet".into(),
                    rows,
                    observations,
                    bytes: written.bytes,
                    sha256: written.sha256,
                },
            ));
        }
        store.sync_dir(&study_dir);
        store.sync_dir(&root);
        store.sync_dir(final_tmp);
        out.dirs.push(root);
        Ok((table_rows, table_dictionary(table, view, &file_schema)))
    }
}

/// Whether `dir` is a table folder this layout writes (study partitions only): one that an
/// interrupted earlier `finish` of the same export moved into place before its manifest.
fn is_table_folder(store: &Store, dir: &Path) -> bool {
    let Ok(entries) = store.list(dir) else {
        return false;
    };
    let prefix = format!("{STUDY_ID}=");
    store.is_dir_not_link(dir)
        && entries.iter().all(|e| {
            store.is_dir_not_link(e)
                && e.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with(&prefix))
        })
}

/// Moves each staged table folder into `out` with one rename, so it appears with all of its
/// files. The same folder from an interrupted earlier `finish` of this export (moved, then no
/// manifest written) is replaced; anything else of that name is left alone, and is an error.
pub(super) fn publish_folders(
    store: &Store,
    out: &Path,
    dirs: &[PathBuf],
) -> Result<(), ExportError> {
    for dir in dirs {
        let Some(name) = dir.file_name() else {
            continue;
        };
        let dest = out.join(name);
        if store.exists(&dest) {
            if !is_table_folder(store, &dest) {
                return Err(ExportError::Io {
                    op: "replace",
                    path: dest,
                    source: io::Error::other("it is not a folder this export wrote"),
                });
            }
            store
                .remove_dir_all(&dest)
                .map_err(io_err("remove", &dest))?;
        }
        store.rename(dir, &dest).map_err(io_err("rename", &dest))?;
    }
    if !dirs.is_empty() {
        store.sync_dir(out);
    }
    Ok(())
}
