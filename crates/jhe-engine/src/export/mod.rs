//! Crash-safe, resumable, streaming export to CSV or Parquet, with a data dictionary and a
//! manifest.
//!
//! The fetcher works in *units* (one patient × one code, all pages). For each unit it calls
//! [`Export::write_unit`] (or decodes it itself and calls [`Export::commit_unit`]), which
//! de-duplicates and tidies the observations and writes them as small Parquet *part* files in
//! `OUT/.jhe-partial/parts/`, fsynced, then appends the unit's record to the journal
//! `OUT/.jhe-partial/units.jsonl` and fsyncs it: that line is the commit point.
//! [`Export::finish`] merges the parts, in row groups, into the final files (one per table, one
//! long file, or a folder of Parquet files per table and participant: [`partitioned`]), writes
//! `data_dictionary.csv`, `data_dictionary.md`, `problems.csv` (when there are problems) and
//! `manifest.json` (last), then removes `.jhe-partial`.
//!
//! Crash safety: final files are written under a temporary name in the same file system,
//! flushed, fsynced and renamed, so no half-written file ever carries a final name; they appear
//! only in `finish`, and the manifest is written last, so its presence marks a complete export.
//! Parts need no rename: a part is only ever read through a journal line written after it was
//! fsynced, and parts no line refers to are deleted on resume. (One journal file instead of a
//! record file per unit halved the file-system work of an export.) After a crash or
//! [`Export::abort`], [`Export::open`] with the same spec resumes: units recorded as done are
//! kept ([`Export::is_done`]); anything not committed — a torn last journal line included — is
//! discarded.
//!
//! Memory: a unit is decoded and tidied one observation at a time into column builders (the

pub mod deidentify;
mod files;
mod findings;
mod folder;
pub use files::{formula_safe, needs_formula_guard, save_private};
pub use folder::{discard_unfinished, unfinished, Unfinished};
mod manifest;
mod merge;
mod metrics;
mod participants;
pub mod partitioned;
pub mod read;
pub mod sealed;
mod state;
pub mod store;
mod unit;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::frame::{dictionary, DictEntry};
use crate::omh::{Problem, RawObservation};

pub use deidentify::{Deidentified, Deidentify, ShiftMode};
pub use findings::FINDINGS_FILE;
pub use manifest::{Manifest, ManifestFile, ManifestFilters, ManifestUnit, MANIFEST_VERSION};
pub use participants::Participant;
pub use sealed::{Passphrase, SEALED_SUFFIX};
pub use store::Store;
pub use unit::{PreparedUnit, UnitBuilder};

use files::{json_bytes, read_json, Written};
use merge::EarlyMerge;
use state::{Fingerprint, PartRecord, StateFile, UnitRecord, JOURNAL};

const PARTIAL_DIR: &str = ".jhe-partial";
/// Name (stem) of the long table.
pub const LONG_TABLE: &str = "observations_long";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// CSV for R, pandas and polars: times in ISO 8601 (`2026-11-17T18:51:02.292010Z`), UTF-8.
    Csv,
    /// CSV for spreadsheets (Excel, LibreOffice, Numbers): times as `YYYY-MM-DD HH:MM:SS` (whole
    /// seconds, no `T` or `Z`), which they read as dates, in the UTC and the local columns;
    /// UTF-8 with a byte-order mark, so Excel picks the encoding.
    #[serde(rename = "excel_csv")]
    ExcelCsv,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv | Format::ExcelCsv => "csv",
            Format::Parquet => "parquet",
        }
    }

    /// Either CSV style.
    pub fn is_csv(self) -> bool {
        matches!(self, Format::Csv | Format::ExcelCsv)
    }

    /// The text files of the export start with a UTF-8 byte-order mark.
    pub fn with_bom(self) -> bool {
        self == Format::ExcelCsv
    }
}

/// The UTF-8 byte-order mark written first in the CSV files of [`Format::ExcelCsv`].
pub const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One file per type: `blood_glucose.csv`, `blood_pressure.csv`, …, `other_<code>.csv`.
    PerType,
    /// One long file, `observations_long.csv`, one row per measure.
    Long,
    /// Parquet only: each type's table as a folder of hive-style partitions, one file per
    /// participant, `blood_glucose/study_id=30006/patient_id=40001/part-0.parquet` (see
    /// [`partitioned`] for the scheme and why), so many studies' exports scan as one dataset.
    Partitioned,
}

/// What an export does with the observations the data-quality check finds wrong (a finding of
/// [`crate::analysis::quality::WRONG_KINDS`]: implausible, dated in the future, the same
/// reading sent again). `findings.csv` lists every finding either way.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flagged {
    /// Written like every other observation.
    #[default]
    Keep,
    /// Left out of the data files (and so of the metric tables).
    LeaveOut,
}

/// What is exported, and where. Everything except `app_version` identifies the export: opening
/// the same spec again resumes it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExportSpec {
    pub out_dir: PathBuf,
    pub format: Format,
    pub layout: Layout,
    pub server: String,
    pub study_id: Option<u64>,
    pub patient_ids: Vec<u64>,
    pub codes: Vec<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
    /// Older exports had no choice: they kept everything.
    #[serde(default)]
    pub flagged: Flagged,
    /// De-identify the export ([`deidentify`]); never serialized (it holds the key), but part
    /// of the resume fingerprint (as the shift mode and a keyed check of the key).
    #[serde(skip)]
    pub deidentify: Option<Deidentify>,
    /// Encrypt the export to this passphrase: one `.tar.age` file in `out_dir`, made in memory
    /// ([`sealed`]); never serialized, and such an export is never resumed.
    #[serde(skip)]
    pub encrypt: Option<Passphrase>,
    pub app_version: String,
}

impl ExportSpec {
    /// An export of everything `study_id` shares (no participant, type or date filter), made
    /// by this engine version.
    pub fn new(
        out_dir: impl Into<PathBuf>,
        format: Format,
        layout: Layout,
        server: &str,
        study_id: Option<u64>,
    ) -> ExportSpec {
        ExportSpec {
            out_dir: out_dir.into(),
            format,
            layout,
            server: server.to_string(),
            study_id,
            patient_ids: Vec::new(),
            codes: Vec::new(),
            date_from: None,
            date_to: None,
            flagged: Flagged::Keep,
            deidentify: None,
            encrypt: None,
            app_version: env!("CARGO_PKG_VERSION").to_string(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("cannot {op} {path}: {source}")]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("data frame error: {0}")]
    Polars(#[from] PolarsError),
    #[error("cannot read {path}: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot encode {path}: {source}")]
    Encode {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("invalid unit key {0:?}")]
    InvalidUnit(String),
    #[error("cannot read back {path} for its metrics: {message}")]
    ReadBack { path: PathBuf, message: String },
    #[error("the partitioned layout is written in Parquet only: choose the Parquet format for it (CSV has the per-type and long layouts)")]
    PartitionedNeedsParquet,
    #[error("a unit was prepared {0} while the export is {1}: it cannot be written into it")]
    DeidentifyMismatch(&'static str, &'static str),
    #[error("The passphrase is too short: use at least {0} characters (a few words are easiest to remember)")]
    ShortPassphrase(usize),
    #[error("two participants got the same pseudonym {0} (a chance of about one in a billion): start the study's de-identification key anew and export again")]
    PseudonymCollision(u64),
}

/// A file staged for `finish` (its temporary path and manifest entry) with its dictionary entries.
type StagedWithDict = ((PathBuf, ManifestFile), Vec<DictEntry>);

fn io_err<'a>(op: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> ExportError + 'a {
    move |source| ExportError::Io {
        op,
        path: path.to_path_buf(),
        source,
    }
}

/// What [`Export::write_unit`] did.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UnitReport {
    pub unit: String,
    /// Observations handed in (records plus the problems the fetcher passed in).
    pub fetched: u64,
    /// Observations written (decoded, not duplicates).
    pub written: u64,
    /// Rows written per table (the long table has one row per measure).
    pub rows: BTreeMap<String, u64>,
    /// Observations dropped because their id was already seen (in this unit or another).
    pub duplicates_dropped: u64,
    /// Rows the server sent that the search did not ask for (another participant, type or
    /// date), left out; not counted in `fetched`.
    #[serde(default)]
    pub foreign: Vec<Problem>,
    /// Malformed observations, skipped.
    pub problems: Vec<Problem>,
    /// The server's count for this unit, if the fetcher had one.
    pub server_total: Option<u64>,
    /// True if the unit had been written before and was replaced.
    pub replaced: bool,
    /// What the data-quality check found in the unit (`findings.csv`).
    #[serde(default)]
    pub findings: Vec<crate::analysis::quality::Finding>,
    /// Observations left out of the files because the check found them wrong
    /// ([`Flagged::LeaveOut`]); not counted in `written`.
    #[serde(default)]
    pub flagged_left_out: u64,
}

/// An export in progress.
pub struct Export {
    spec: ExportSpec,
    /// Where its files are: on disk, or in memory for an encrypted export.
    store: Store,
    /// The export folder (in memory: the folder inside the encrypted file).
    out: PathBuf,
    dir: PathBuf,
    parts_dir: PathBuf,
    tmp_dir: PathBuf,
    /// `units.jsonl`, opened for appending (none in memory: nothing to resume).
    journal: Option<File>,
    units: BTreeMap<String, UnitRecord>,
    /// Observation id → index (in `unit_names`) of the unit that wrote it.
    seen: HashMap<u64, u32>,
    unit_names: Vec<String>,
    unit_index: HashMap<String, u32>,
    tmp_counter: u64,
    /// Tables merged before `finish` ([`Export::merge_early`]), by table name.
    early: BTreeMap<String, EarlyMerge>,
    /// Who `participants.csv` lists, and the requested codes ([`Export::set_participants`]).
    participants: Option<(Vec<Participant>, Vec<String>)>,
}

fn unit_file_stem(unit: &str) -> String {
    files::hex(&Sha256::digest(unit.as_bytes())[..10])
}

/// Units sort by patient id (numerically, when the key starts with digits), then the rest.
fn unit_sort_key(unit: &str) -> (u64, &str, &str) {
    let (head, rest) = unit.split_once('/').unwrap_or((unit, ""));
    match head.parse::<u64>() {
        Ok(n) => (n, "", rest),
        Err(_) => (u64::MAX, head, rest),
    }
}

impl Export {
    /// Opens (creates) the export folder: `spec.out_dir`, or a new subfolder of it when it
    /// already holds other files (see [`folder`]; [`Export::spec`] tells which). If the folder's
    /// `.jhe-partial` holds progress of an export with the same spec (ignoring `app_version`),
    /// it is resumed; otherwise any partial state there is discarded.
    pub fn open(mut spec: ExportSpec) -> Result<Export, ExportError> {
        if spec.layout == Layout::Partitioned && spec.format != Format::Parquet {
            return Err(ExportError::PartitionedNeedsParquet);
        }
        let chosen = spec.out_dir.clone();
        if spec.encrypt.is_some() {
            // One new encrypted file in the chosen folder; the export itself is made in memory.
            let (file, root) = sealed::target(&chosen, &folder::subfolder_name(&spec));
            spec.out_dir = file;
            return Export::start(spec, Store::memory(), root, false);
        }
        spec.out_dir = folder::choose(&chosen, &spec).map_err(io_err("read folder", &chosen))?;
        let out = spec.out_dir.clone();
        files::create_private_dir_all(&out).map_err(io_err("create folder", &out))?;
        let state_path = out.join(PARTIAL_DIR).join("state.json");
        let resume = match read_json::<StateFile>(&state_path) {
            Ok(s) => s.fingerprint == Fingerprint::of(&spec),
            Err(_) => false,
        };
        Export::start(spec, Store::Disk, out, resume)
    }

    /// Opens the export in `store` with its folder `out` (resuming the progress there).
    fn start(
        spec: ExportSpec,
        store: Store,
        out: PathBuf,
        resume: bool,
    ) -> Result<Export, ExportError> {
        let dir = out.join(PARTIAL_DIR);
        let state_path = dir.join("state.json");
        if !resume && store.exists(&dir) {
            store.remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        }
        let parts_dir = dir.join("parts");
        let tmp_dir = dir.join("tmp");
        for d in [&dir, &parts_dir, &tmp_dir] {
            store
                .create_dir_all(d)
                .map_err(io_err("create folder", d))?;
        }
        let journal = match store {
            Store::Disk => {
                let journal_path = dir.join(JOURNAL);
                Some(
                    files::append_private(&journal_path)
                        .map_err(io_err("create", &journal_path))?,
                )
            }
            Store::Memory(_) => None,
        };
        store.sync_dir(&dir);
        let fingerprint = Fingerprint::of(&spec);
        let mut ex = Export {
            spec,
            store,
            out,
            dir,
            parts_dir,
            tmp_dir,
            journal,
            units: BTreeMap::new(),
            seen: HashMap::new(),
            unit_names: Vec::new(),
            unit_index: HashMap::new(),
            tmp_counter: 0,
            early: BTreeMap::new(),
            participants: None,
        };
        ex.clear_tmp();
        if resume {
            ex.load_units()?;
        } else {
            let state = StateFile {
                fingerprint,
                created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            let bytes = json_bytes(&state, &state_path)?;
            ex.write_small(&state_path, &bytes)?;
        }
        Ok(ex)
    }

    fn clear_tmp(&self) {
        for p in self.store.list(&self.tmp_dir).unwrap_or_default() {
            self.store.remove_file(&p);
        }
    }

    fn next_tmp(&mut self, what: &str) -> String {
        self.tmp_counter += 1;
        format!("{}.{}.{}.tmp", std::process::id(), self.tmp_counter, what)
    }

    fn write_small(&mut self, path: &Path, bytes: &[u8]) -> Result<Written, ExportError> {
        let name = self.next_tmp("json");
        self.store.write_atomic(&self.tmp_dir, &name, path, |w| {
            w.write_all(bytes).map_err(io_err("write", path))
        })
    }

    fn intern(&mut self, unit: &str) -> u32 {
        if let Some(&i) = self.unit_index.get(unit) {
            return i;
        }
        let i = self.unit_names.len() as u32;
        self.unit_names.push(unit.to_string());
        self.unit_index.insert(unit.to_string(), i);
        i
    }

    pub fn spec(&self) -> &ExportSpec {
        &self.spec
    }

    /// True if `unit` was written (in this run or in an interrupted earlier run of the same spec).
    pub fn is_done(&self, unit: &str) -> bool {
        self.units.contains_key(unit)
    }

    /// Units done so far, sorted.
    pub fn done_units(&self) -> Vec<String> {
        let mut v: Vec<String> = self.units.keys().cloned().collect();
        v.sort_by(|a, b| unit_sort_key(a).cmp(&unit_sort_key(b)));
        v
    }

    /// Units that came from an interrupted earlier run.
    pub fn resumed_units(&self) -> usize {
        self.units.values().filter(|r| r.resumed).count()
    }

    /// The report of a unit already written.
    pub fn unit_report(&self, unit: &str) -> Option<&UnitReport> {
        self.units.get(unit).map(|r| &r.report)
    }

    /// Decodes, de-duplicates (by observation id) and tidies one unit's observations, writes
    /// them as part files and records the unit as done. Writing a unit again replaces it.
    pub fn write_unit(
        &mut self,
        unit: &str,
        records: Vec<RawObservation>,
        server_total: Option<u64>,
    ) -> Result<UnitReport, ExportError> {
        self.write_unit_with_problems(unit, records, Vec::new(), server_total)
    }

    /// Like [`Export::write_unit`], adding problems the fetcher found itself (e.g. resources
    /// that [`crate::omh::from_fhir_resource`] rejected, see `DecodeError::to_problem`).
    pub fn write_unit_with_problems(
        &mut self,
        unit: &str,
        records: Vec<RawObservation>,
        problems: Vec<Problem>,
        server_total: Option<u64>,
    ) -> Result<UnitReport, ExportError> {
        let mut b = UnitBuilder::new(self.spec.layout, self.spec.flagged, records.len())
            .deidentified(self.spec.deidentify.clone());
        for p in problems {
            b.push_unreadable(p);
        }
        for raw in records {
            b.push(raw.id, crate::omh::decode_owned(raw));
        }
        self.commit_unit(unit, b.finish()?, server_total)
    }

    /// Writes a unit built beforehand with a [`UnitBuilder`] (which needs no `Export`, so units
    /// are decoded and tidied in parallel while this writes them one at a time).
    pub fn commit_unit(
        &mut self,
        unit: &str,
        prepared: PreparedUnit,
        server_total: Option<u64>,
    ) -> Result<UnitReport, ExportError> {
        if unit.is_empty() || unit.contains('\n') {
            return Err(ExportError::InvalidUnit(unit.to_string()));
        }
        let check = self.spec.deidentify.as_ref().map(Deidentify::key_check);
        if prepared.deidentified != check {
            let what = |c: &Option<String>| match c {
                Some(_) => "de-identified",
                None => "not de-identified",
            };
            let ours = if check.is_some() && prepared.deidentified.is_some() {
                "de-identified with another key"
            } else {
                what(&prepared.deidentified)
            };
            return Err(ExportError::DeidentifyMismatch(ours, what(&check)));
        }
        let old = self.units.get(unit).cloned();
        let me = self.intern(unit);
        // Observations another unit already wrote are duplicates (only a misbehaving server
        // sends one observation under two participants or types).
        let conflicts: HashSet<u64> = prepared
            .ids()
            .filter(|id| self.seen.get(id).is_some_and(|&u| u != me))
            .collect();
        let mut prepared = prepared;
        if !conflicts.is_empty() {
            prepared.drop_ids(&conflicts)?;
        }
        let PreparedUnit {
            fetched,
            tables,
            written_ids,
            fetch_problems,
            decode_problems,
            duplicates,
            foreign,
            findings,
            flagged_left_out,
            ..
        } = prepared;
        let written = written_ids.len() as u64;
        let mut problems = fetch_problems;
        problems.extend(decode_problems);
        // the observations each table got (problems are not ids that were written)
        let problem_ids: HashSet<u64> = problems.iter().map(|p| p.observation_id).collect();

        let generation = old.as_ref().map_or(0, |r| r.generation + 1);
        let stem = unit_file_stem(unit);
        let mut parts = Vec::new();
        let mut rows = BTreeMap::new();
        for (table, view, mut df, observations) in tables {
            if df.height() == 0 {
                continue;
            }
            let file = format!("{stem}.g{generation}.{table}.parquet");
            self.store
                .write_part(&self.parts_dir.join(&file), &mut df)?;
            rows.insert(table.clone(), df.height() as u64);
            parts.push(PartRecord {
                table,
                view,
                file,
                rows: df.height() as u64,
                observations,
            });
        }
        let report = UnitReport {
            unit: unit.to_string(),
            fetched,
            written,
            rows,
            duplicates_dropped: duplicates,
            foreign,
            problems,
            server_total,
            replaced: old.is_some(),
            findings,
            flagged_left_out,
        };
        let record = UnitRecord {
            unit: unit.to_string(),
            generation,
            parts,
            report: report.clone(),
            resumed: false,
        };
        self.append_journal(&record)?;

        // committed: forget the old parts and ids, remember the new ones
        if let Some(old) = old {
            for p in &old.parts {
                self.store.remove_file(&self.parts_dir.join(&p.file));
            }
            self.seen.retain(|_, u| *u != me);
        }
        for id in written_ids {
            if !problem_ids.contains(&id) {
                self.seen.insert(id, me);
            }
        }
        self.units.insert(unit.to_string(), record);
        Ok(report)
    }

    /// Leaves the progress on disk for a later [`Export::open`] of the same spec; writes no
    /// final file. (Dropping an `Export` has the same effect.)
    pub fn abort(self) {
        self.clear_tmp();
    }

    /// Merges the parts into the final files, writes the data dictionary, the problems list,
    /// `participants.csv` (when [`Export::set_participants`] was called) and the manifest
    /// (last), and removes `.jhe-partial`.
    pub fn finish(mut self) -> Result<Manifest, ExportError> {
        let units: Vec<UnitRecord> = self.sorted_units().into_iter().cloned().collect();
        let (units, shifts) = self.deidentify_units(units)?;
        let mut tables = self.table_parts();
        if self.spec.layout == Layout::Long && tables.is_empty() {
            tables.insert(LONG_TABLE.to_string(), (None, Vec::new()));
        }

        let final_tmp = self.final_tmp_dir()?;
        // (temp path, manifest entry)
        let mut staged: Vec<(PathBuf, ManifestFile)> = Vec::new();
        let mut dict: Vec<(String, DictEntry)> = Vec::new();
        let mut table_rows = BTreeMap::new();
        // the partitioned layout's table folders and their files
        let mut folders = partitioned::StagedFolders::default();
        for (table, (view, parts)) in &tables {
            if self.spec.layout == Layout::Partitioned {
                let (rows, entries) =
                    self.stage_partitioned(&final_tmp, table, view.as_ref(), parts, &mut folders)?;
                let label = partitioned::folder_label(table);
                dict.extend(entries.into_iter().map(|e| (label.clone(), e)));
                table_rows.insert(table.clone(), rows);
                continue;
            }
            let (path, file, schema) = self.stage_table(&final_tmp, table, view.as_ref(), parts)?;
            for e in dictionary(table, view.as_ref(), &schema) {
                dict.push((file.name.clone(), e));
            }
            table_rows.insert(table.clone(), file.rows);
            staged.push((path, file));
        }
        let data: Vec<PathBuf> = (staged.iter().chain(&folders.files))
            .map(|(p, _)| p.clone())
            .collect();
        let obs = metrics::read_back(&self.store, &data)?;
        let mut extra = self.stage_metrics(&final_tmp, &obs, shifts.as_ref())?;
        extra.extend(self.stage_participants(&final_tmp, &obs)?);
        for (file, entries) in extra {
            for e in entries {
                dict.push((file.1.name.clone(), e));
            }
            staged.push(file);
        }
        let found = findings::all_findings(&units);
        if !found.is_empty() {
            let (file, entries) = self.stage_findings(&final_tmp, &found)?;
            for e in entries {
                dict.push((file.1.name.clone(), e));
            }
            staged.push(file);
        }
        let problems = manifest::all_problems(&units);
        if !problems.is_empty() {
            staged.push(self.stage_problems(&final_tmp, &problems)?);
        }
        if let Some(d) = &self.spec.deidentify {
            deidentify::dictionary_notes(d, &mut dict);
        }
        staged.extend(self.stage_dictionary(&final_tmp, &dict, &tables, !problems.is_empty())?);
        let files = (folders.files.iter().chain(&staged))
            .map(|(_, f)| f.clone())
            .collect();
        let manifest = self.manifest(&units, files, table_rows, problems);
        self.publish(&folders.dirs, &staged, &manifest)?;
        Ok(manifest)
    }

    /// Moves the staged table folders (of the partitioned layout) and files into the export
    /// folder, then writes the manifest and removes `.jhe-partial`. A manifest of an earlier
    /// export in this folder goes first, so that a manifest always describes the files.
    fn publish(
        &mut self,
        folders: &[PathBuf],
        staged: &[(PathBuf, ManifestFile)],
        manifest: &Manifest,
    ) -> Result<(), ExportError> {
        let (store, out) = (self.store.clone(), self.out.clone());
        let manifest_path = out.join("manifest.json");
        if store.exists(&manifest_path) {
            store.remove_file(&manifest_path);
            store.sync_dir(&out);
        }
        partitioned::publish_folders(&store, &out, folders)?;
        for (path, f) in staged {
            let dest = out.join(&f.name);
            store.rename(path, &dest).map_err(io_err("rename", &dest))?;
        }
        store.sync_dir(&out);
        let bytes = json_bytes(manifest, &manifest_path)?;
        self.write_small(&manifest_path, &bytes)?;
        store
            .remove_dir_all(&self.dir)
            .map_err(io_err("remove", &self.dir))?;
        store.sync_dir(&out);
        if let (Store::Memory(mem), Some(pass)) = (&store, &self.spec.encrypt) {
            let files = mem.files_below(&out);
            store.remove_dir_all(&out).map_err(io_err("remove", &out))?;
            sealed::seal(&files, &out, &self.spec.out_dir, pass)?;
        }
        Ok(())
    }

    /// The units in order (by patient id, then code).
    fn sorted_units(&self) -> Vec<&UnitRecord> {
        let mut units: Vec<&UnitRecord> = self.units.values().collect();
        units.sort_by(|a, b| unit_sort_key(&a.unit).cmp(&unit_sort_key(&b.unit)));
        units
    }

    /// `.jhe-partial/final`, where final files wait for `finish` to move them into place.
    fn final_tmp_dir(&self) -> Result<PathBuf, ExportError> {
        let dir = self.dir.join("final");
        self.store
            .create_dir_all(&dir)
            .map_err(io_err("create folder", &dir))?;
        Ok(dir)
    }
}
