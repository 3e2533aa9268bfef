//! Crash-safe, resumable, streaming export to CSV or Parquet, with a data dictionary and a
//! manifest.
//!
//! The fetcher works in *units* (one patient × one code, all pages). For each unit it calls
//! [`Export::write_unit`] (or decodes it itself and calls [`Export::commit_unit`]), which
//! de-duplicates and tidies the observations and writes them as small Parquet *part* files in
//! `OUT/.jhe-partial/parts/`, fsynced, then appends the unit's record to the journal
//! `OUT/.jhe-partial/units.jsonl` and fsyncs it: that line is the commit point.
//! [`Export::finish`] merges the parts, in row groups, into the final files (one per table, or
//! one long file), writes `data_dictionary.csv`, `data_dictionary.md`, `problems.csv` (when
//! there are problems) and `manifest.json` (last), then removes `.jhe-partial`.
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
//! decoded JSON is dropped at once); `finish` holds at most one part plus one row group.

pub mod read;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::frame::{dictionary, DictEntry, LongBuilder, ViewBuilder};
use crate::omh::{decode_owned, DecodedObservation, Problem, RawObservation, ViewKind};

/// Version of the part files and unit records; a change discards unfinished exports.
const PART_FORMAT: u32 = 2;
/// The journal of committed units (one JSON [`UnitRecord`] per line; a later line for the
/// same unit replaces the earlier one).
const JOURNAL: &str = "units.jsonl";
/// Version of `manifest.json`'s layout.
pub const MANIFEST_VERSION: u32 = 1;
const PARTIAL_DIR: &str = ".jhe-partial";
/// Name (stem) of the long table.
pub const LONG_TABLE: &str = "observations_long";
/// Rows per row group (and per CSV batch) in the final files.
const ROW_GROUP_ROWS: usize = 65_536;
/// Problems listed in the manifest itself (all of them are in `problems.csv`).
const MANIFEST_PROBLEMS_MAX: usize = 1000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Csv,
    Parquet,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Parquet => "parquet",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layout {
    /// One file per type: `blood_glucose.csv`, `blood_pressure.csv`, …, `other_<code>.csv`.
    PerType,
    /// One long file, `observations_long.csv`, one row per measure.
    Long,
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
    pub app_version: String,
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
    #[error("invalid unit key {0:?}")]
    InvalidUnit(String),
}

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
    /// Malformed observations, skipped.
    pub problems: Vec<Problem>,
    /// The server's count for this unit, if the fetcher had one.
    pub server_total: Option<u64>,
    /// True if the unit had been written before and was replaced.
    pub replaced: bool,
}

/// One file of the export, as listed in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the export folder.
    pub name: String,
    /// `data`, `dictionary` or `problems`.
    pub role: String,
    /// The table a data file holds.
    pub table: Option<String>,
    pub format: String,
    /// Data rows (without the CSV header).
    pub rows: u64,
    /// Distinct observations in a data file.
    pub observations: u64,
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Per-unit counts in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestUnit {
    pub unit: String,
    pub server_total: Option<u64>,
    pub fetched: u64,
    pub written: u64,
    pub duplicates_dropped: u64,
    pub problems: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFilters {
    pub patient_ids: Vec<u64>,
    pub codes: Vec<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub generator: String,
    pub app_version: String,
    pub engine_version: String,
    /// When `finish` ran, UTC, RFC 3339.
    pub exported_at: String,
    pub server: String,
    pub study_id: Option<u64>,
    pub filters: ManifestFilters,
    pub format: Format,
    pub layout: Layout,
    /// Every file written (except this manifest), with its SHA-256.
    pub files: Vec<ManifestFile>,
    /// Rows per table.
    pub table_rows: BTreeMap<String, u64>,
    /// Data rows over all tables.
    pub total_rows: u64,
    /// Observations written.
    pub total_observations: u64,
    /// Observations fetched (before de-duplication).
    pub total_fetched: u64,
    pub duplicates_dropped: u64,
    pub problems_count: u64,
    /// The first problems (all are in `problems.csv`).
    pub problems: Vec<Problem>,
    pub problems_truncated: bool,
    /// Sum of the server's per-unit totals, over the units that had one.
    pub server_total: Option<u64>,
    /// Units whose server total differs from the number of distinct observations fetched.
    pub server_total_mismatches: Vec<ManifestUnit>,
    pub units: Vec<ManifestUnit>,
    /// Units that came from an interrupted earlier run.
    pub resumed_units: u64,
}

// ------------------------------------------------------------------------------------------------
// on-disk state

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct Fingerprint {
    part_format: u32,
    engine_version: String,
    format: Format,
    layout: Layout,
    server: String,
    study_id: Option<u64>,
    patient_ids: Vec<u64>,
    codes: Vec<String>,
    date_from: Option<String>,
    date_to: Option<String>,
}

impl Fingerprint {
    fn of(spec: &ExportSpec) -> Fingerprint {
        let mut patient_ids = spec.patient_ids.clone();
        patient_ids.sort_unstable();
        patient_ids.dedup();
        let mut codes = spec.codes.clone();
        codes.sort();
        codes.dedup();
        Fingerprint {
            part_format: PART_FORMAT,
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            format: spec.format,
            layout: spec.layout,
            server: spec.server.trim_end_matches('/').to_string(),
            study_id: spec.study_id,
            patient_ids,
            codes,
            date_from: spec.date_from.clone(),
            date_to: spec.date_to.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct StateFile {
    fingerprint: Fingerprint,
    created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct PartRecord {
    table: String,
    /// `ViewKind` of the table (`None` for the long table).
    view: Option<ViewKind>,
    file: String,
    rows: u64,
    observations: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct UnitRecord {
    unit: String,
    generation: u64,
    parts: Vec<PartRecord>,
    report: UnitReport,
    #[serde(default)]
    resumed: bool,
}

/// An export in progress.
pub struct Export {
    spec: ExportSpec,
    dir: PathBuf,
    parts_dir: PathBuf,
    tmp_dir: PathBuf,
    /// `units.jsonl`, opened for appending.
    journal: File,
    units: BTreeMap<String, UnitRecord>,
    /// Observation id → index (in `unit_names`) of the unit that wrote it.
    seen: HashMap<u64, u32>,
    unit_names: Vec<String>,
    unit_index: HashMap<String, u32>,
    tmp_counter: u64,
    /// Tables merged before `finish` ([`Export::merge_early`]), by table name.
    early: BTreeMap<String, EarlyMerge>,
}

/// A table's final file written ahead of `finish`, valid while its parts stay the same.
struct EarlyMerge {
    parts: Vec<PartRecord>,
    path: PathBuf,
    schema: Schema,
    rows: u64,
    observations: u64,
    written: Written,
}

fn unit_file_stem(unit: &str) -> String {
    let h = Sha256::digest(unit.as_bytes());
    h.iter().take(10).map(|b| format!("{b:02x}")).collect()
}

/// Units sort by patient id (numerically, when the key starts with digits), then the rest.
fn unit_sort_key(unit: &str) -> (u64, &str, &str) {
    let (head, rest) = unit.split_once('/').unwrap_or((unit, ""));
    match head.parse::<u64>() {
        Ok(n) => (n, "", rest),
        Err(_) => (u64::MAX, head, rest),
    }
}

/// Builds one unit's tables while its pages arrive: each decoded observation goes straight into
/// column builders and is dropped, so a unit waiting for the writer holds columns, not records
/// (this cut an export's peak memory, and the page faults that came with it).
pub struct UnitBuilder {
    ids: HashSet<u64>,
    written_ids: Vec<u64>,
    fetch_problems: Vec<Problem>,
    decode_problems: Vec<Problem>,
    duplicates: u64,
    per_view: BTreeMap<ViewKind, (ViewBuilder, u64)>,
    long: Option<LongBuilder>,
    capacity: usize,
}

impl UnitBuilder {
    /// `capacity`: the expected number of observations (a hint).
    pub fn new(layout: Layout, capacity: usize) -> UnitBuilder {
        UnitBuilder {
            ids: HashSet::with_capacity(capacity),
            written_ids: Vec::with_capacity(capacity),
            fetch_problems: Vec::new(),
            decode_problems: Vec::new(),
            duplicates: 0,
            per_view: BTreeMap::new(),
            long: match layout {
                Layout::Long => Some(LongBuilder::with_capacity(capacity)),
                Layout::PerType => None,
            },
            capacity,
        }
    }

    /// Adds an observation: decoded, or the problem that kept it from decoding (see
    /// [`decode_owned`]). A second observation with the same id is a duplicate.
    pub fn push(&mut self, id: u64, item: Result<DecodedObservation, Problem>) {
        if !self.ids.insert(id) {
            self.duplicates += 1;
            return;
        }
        let obs = match item {
            Ok(o) => o,
            Err(p) => {
                self.decode_problems.push(p);
                return;
            }
        };
        self.written_ids.push(id);
        match &mut self.long {
            Some(l) => {
                l.push(&obs);
            }
            None => {
                let cap = self.capacity;
                let entry = self
                    .per_view
                    .entry(obs.view.clone())
                    .or_insert_with(|| (ViewBuilder::with_capacity(obs.view.clone(), cap), 0));
                entry.0.push(&obs);
                entry.1 += 1;
            }
        }
    }

    /// Adds a resource the fetcher could not even read as an observation.
    pub fn push_unreadable(&mut self, p: Problem) {
        self.fetch_problems.push(p);
    }

    /// Builds and sorts the unit's tables (CPU work, no I/O).
    pub fn finish(self) -> Result<PreparedUnit, ExportError> {
        let fetched = self.ids.len() as u64 + self.duplicates + self.fetch_problems.len() as u64;
        let mut tables = Vec::new();
        if let Some(l) = self.long {
            let n = self.written_ids.len() as u64;
            tables.push((LONG_TABLE.to_string(), None, sort_df(l.finish()?, None)?, n));
        }
        for (view, (b, n)) in self.per_view {
            let df = sort_df(b.finish()?, Some(&view))?;
            tables.push((view.name(), Some(view), df, n));
        }
        Ok(PreparedUnit {
            fetched,
            tables,
            written_ids: self.written_ids,
            fetch_problems: self.fetch_problems,
            decode_problems: self.decode_problems,
            duplicates: self.duplicates,
        })
    }
}

/// One unit's tables, built by a [`UnitBuilder`], ready for [`Export::commit_unit`].
pub struct PreparedUnit {
    /// What the fetcher got: the records plus the resources it could not even read.
    fetched: u64,
    /// (table, view, sorted rows, observations in it)
    tables: Vec<(String, Option<ViewKind>, DataFrame, u64)>,
    written_ids: Vec<u64>,
    fetch_problems: Vec<Problem>,
    decode_problems: Vec<Problem>,
    duplicates: u64,
}

impl PreparedUnit {
    /// Decodes and tidies `records` (CPU work, no I/O); `problems` are the resources the
    /// fetcher could not read as observations.
    pub fn decode(
        layout: Layout,
        records: Vec<RawObservation>,
        problems: Vec<Problem>,
    ) -> Result<PreparedUnit, ExportError> {
        let mut b = UnitBuilder::new(layout, records.len());
        for p in problems {
            b.push_unreadable(p);
        }
        for raw in records {
            b.push(raw.id, decode_owned(raw));
        }
        b.finish()
    }
}

/// Drops the rows of the observations in `drop` (matched by `observation_id`); returns the
/// table and how many distinct observations it lost.
fn drop_observations(df: DataFrame, drop: &HashSet<u64>) -> PolarsResult<(DataFrame, u64)> {
    let ids = df.column("observation_id")?.cast(&DataType::UInt64)?;
    let mut lost = HashSet::new();
    let keep: BooleanChunked = ids
        .u64()?
        .iter()
        .map(|v| match v {
            Some(v) if drop.contains(&v) => {
                lost.insert(v);
                false
            }
            _ => true,
        })
        .collect();
    Ok((df.filter(&keep)?, lost.len() as u64))
}

fn sync_dir(dir: &Path) {
    // Directory fsync makes renames durable on Unix; not possible (nor needed) on Windows.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A writer that hashes and counts what passes through.
struct HashingWriter<W: Write> {
    inner: W,
    sha: Sha256,
    bytes: u64,
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Written {
    bytes: u64,
    sha256: String,
}

/// Writes `path` atomically: `fill` writes into a temp file in `tmp_dir` (same file system),
/// which is flushed, fsynced and renamed over `path`.
fn write_atomic(
    tmp_dir: &Path,
    tmp_name: &str,
    path: &Path,
    fill: impl FnOnce(&mut HashingWriter<BufWriter<File>>) -> Result<(), ExportError>,
) -> Result<Written, ExportError> {
    let tmp = tmp_dir.join(tmp_name);
    let res = (|| {
        let f = File::create(&tmp).map_err(io_err("create", &tmp))?;
        let mut w = HashingWriter {
            inner: BufWriter::with_capacity(1 << 20, f),
            sha: Sha256::new(),
            bytes: 0,
        };
        fill(&mut w)?;
        w.flush().map_err(io_err("write", &tmp))?;
        let HashingWriter { inner, sha, bytes } = w;
        let f = inner.into_inner().map_err(|e| ExportError::Io {
            op: "write",
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        drop(f);
        fs::rename(&tmp, path).map_err(io_err("rename", path))?;
        if let Some(parent) = path.parent() {
            sync_dir(parent);
        }
        Ok(Written {
            bytes,
            sha256: hex(&sha.finalize()),
        })
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ExportError> {
    let bytes = fs::read(path).map_err(io_err("read", path))?;
    serde_json::from_slice(&bytes).map_err(|source| ExportError::Json {
        path: path.to_path_buf(),
        source,
    })
}

fn json_bytes<T: Serialize>(v: &T) -> Vec<u8> {
    // Serialising these plain structs cannot fail.
    let mut out = serde_json::to_vec_pretty(v).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Writes a part file and fsyncs it (see the module docs for why no rename is needed). Parts
/// live only until `finish` merges them, so they are not compressed: a zstd context per part
/// cost more CPU than the whole decode of its rows.
fn write_part(path: &Path, df: &mut DataFrame) -> Result<(), ExportError> {
    let res = (|| {
        let f = File::create(path).map_err(io_err("create", path))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        ParquetWriter::new(&mut w)
            .with_compression(ParquetCompression::Uncompressed)
            .finish(df)?;
        let f = w.into_inner().map_err(|e| ExportError::Io {
            op: "write",
            path: path.to_path_buf(),
            source: e.into_error(),
        })?;
        f.sync_data().map_err(io_err("fsync", path))
    })();
    if res.is_err() {
        let _ = fs::remove_file(path);
    }
    res
}

fn read_parquet(path: &Path) -> Result<DataFrame, ExportError> {
    let f = File::open(path).map_err(io_err("open", path))?;
    Ok(ParquetReader::new(f).finish()?)
}

fn read_parquet_schema(path: &Path) -> Result<Schema, ExportError> {
    let f = File::open(path).map_err(io_err("open", path))?;
    let arrow = ParquetReader::new(f).schema()?;
    Ok(Schema::from_arrow_schema(&arrow))
}

/// A dtype both can be cast to: equal → itself; two numeric → Float64; otherwise String.
fn unify(a: &DataType, b: &DataType) -> DataType {
    if a == b {
        return a.clone();
    }
    if a.is_null() {
        return b.clone();
    }
    if b.is_null() {
        return a.clone();
    }
    if a.is_primitive_numeric() && b.is_primitive_numeric() {
        return DataType::Float64;
    }
    if a.is_categorical() && b.is_categorical() {
        return a.clone();
    }
    DataType::String
}

/// `df` with exactly the columns of `schema`, in its order (missing ones all-null).
fn align(df: &DataFrame, schema: &Schema) -> PolarsResult<DataFrame> {
    let height = df.height();
    let cols = schema
        .iter()
        .map(|(name, dt)| match df.column(name) {
            Ok(c) if c.dtype() == dt => Ok(c.clone()),
            Ok(c) => c.cast(dt),
            Err(_) => Ok(Column::full_null(name.clone(), height, dt)),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, cols)
}

fn sort_df(df: DataFrame, view: Option<&ViewKind>) -> PolarsResult<DataFrame> {
    let time = match view {
        Some(v) if v.is_interval_view() => "start_utc",
        _ => "time_utc",
    };
    df.sort(
        [time, "observation_id"],
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

impl Export {
    /// Opens (creates) the export folder. If `out_dir/.jhe-partial` holds progress of an export
    /// with the same spec (ignoring `app_version`), it is resumed; otherwise any partial state
    /// there is discarded.
    pub fn open(spec: ExportSpec) -> Result<Export, ExportError> {
        let out = spec.out_dir.clone();
        fs::create_dir_all(&out).map_err(io_err("create folder", &out))?;
        let dir = out.join(PARTIAL_DIR);
        let state_path = dir.join("state.json");
        let fingerprint = Fingerprint::of(&spec);
        let resume = match read_json::<StateFile>(&state_path) {
            Ok(s) => s.fingerprint == fingerprint,
            Err(_) => false,
        };
        if !resume && dir.exists() {
            fs::remove_dir_all(&dir).map_err(io_err("remove", &dir))?;
        }
        let parts_dir = dir.join("parts");
        let tmp_dir = dir.join("tmp");
        for d in [&dir, &parts_dir, &tmp_dir] {
            fs::create_dir_all(d).map_err(io_err("create folder", d))?;
        }
        let journal_path = dir.join(JOURNAL);
        let journal = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&journal_path)
            .map_err(io_err("create", &journal_path))?;
        sync_dir(&dir);
        let mut ex = Export {
            spec,
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
        };
        ex.clear_tmp();
        if resume {
            ex.load_units()?;
        } else {
            let state = StateFile {
                fingerprint,
                created_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            };
            let bytes = json_bytes(&state);
            ex.write_small(&state_path, &bytes)?;
        }
        Ok(ex)
    }

    fn clear_tmp(&self) {
        if let Ok(rd) = fs::read_dir(&self.tmp_dir) {
            for e in rd.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
    }

    fn next_tmp(&mut self, what: &str) -> String {
        self.tmp_counter += 1;
        format!("{}.{}.{}.tmp", std::process::id(), self.tmp_counter, what)
    }

    fn write_small(&mut self, path: &Path, bytes: &[u8]) -> Result<Written, ExportError> {
        let name = self.next_tmp("json");
        write_atomic(&self.tmp_dir, &name, path, |w| {
            w.write_all(bytes).map_err(io_err("write", path))
        })
    }

    /// Loads the unit records of an earlier run, drops unreadable ones and orphan parts, and
    /// rebuilds the set of observation ids already written.
    fn load_units(&mut self) -> Result<(), ExportError> {
        let path = self.dir.join(JOURNAL);
        let text = fs::read(&path).map_err(io_err("read", &path))?;
        // A crash can leave a torn last line: end it, so the next record starts a line of its own.
        if text.last().is_some_and(|&b| b != b'\n') {
            self.journal
                .write_all(b"\n")
                .map_err(io_err("write", &path))?;
        }
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<UnitRecord>(line) {
                Ok(mut r)
                    if r.parts
                        .iter()
                        .all(|p| self.parts_dir.join(&p.file).is_file()) =>
                {
                    r.resumed = true;
                    self.units.insert(r.unit.clone(), r);
                }
                Ok(r) => {
                    tracing::warn!("unit {} lost a part file; it will be fetched again", r.unit);
                    self.units.remove(&r.unit);
                }
                Err(_) => tracing::warn!("skipping an unreadable line of the export journal"),
            }
        }
        let referenced: HashSet<&str> = self
            .units
            .values()
            .flat_map(|r| r.parts.iter().map(|p| p.file.as_str()))
            .collect();
        if let Ok(rd) = fs::read_dir(&self.parts_dir) {
            for e in rd.flatten() {
                let name = e.file_name();
                if !referenced.contains(name.to_string_lossy().as_ref()) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let mut seen = HashMap::new();
        let units: Vec<(String, Vec<PartRecord>)> = self
            .units
            .values()
            .map(|r| (r.unit.clone(), r.parts.clone()))
            .collect();
        for (unit, parts) in units {
            let idx = self.intern(&unit);
            for p in &parts {
                let path = self.parts_dir.join(&p.file);
                let f = File::open(&path).map_err(io_err("open", &path))?;
                let df = ParquetReader::new(f)
                    .with_columns(Some(vec!["observation_id".to_string()]))
                    .finish()?;
                let ids = df.column("observation_id")?.i64()?;
                for id in ids.iter().flatten() {
                    seen.insert(id as u64, idx);
                }
            }
        }
        self.seen = seen;
        Ok(())
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
        let prepared = PreparedUnit::decode(self.spec.layout, records, problems)?;
        self.commit_unit(unit, prepared, server_total)
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
        let PreparedUnit {
            fetched,
            mut tables,
            mut written_ids,
            fetch_problems,
            mut decode_problems,
            mut duplicates,
        } = prepared;
        let old = self.units.get(unit).cloned();
        let me = self.intern(unit);
        // Observations another unit already wrote are duplicates (only a misbehaving server
        // sends one observation under two participants or types).
        let conflicts: HashSet<u64> = written_ids
            .iter()
            .chain(decode_problems.iter().map(|p| &p.observation_id))
            .filter(|id| self.seen.get(id).is_some_and(|&u| u != me))
            .copied()
            .collect();
        if !conflicts.is_empty() {
            let before = written_ids.len() + decode_problems.len();
            written_ids.retain(|id| !conflicts.contains(id));
            decode_problems.retain(|p| !conflicts.contains(&p.observation_id));
            duplicates += (before - written_ids.len() - decode_problems.len()) as u64;
            tables = tables
                .into_iter()
                .map(|(table, view, df, n)| {
                    let (df, lost) = drop_observations(df, &conflicts)?;
                    Ok((table, view, df, n - lost))
                })
                .collect::<PolarsResult<_>>()?;
        }
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
            write_part(&self.parts_dir.join(&file), &mut df)?;
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
            problems,
            server_total,
            replaced: old.is_some(),
        };
        let record = UnitRecord {
            unit: unit.to_string(),
            generation,
            parts,
            report: report.clone(),
            resumed: false,
        };
        let mut line = serde_json::to_vec(&record).map_err(|e| ExportError::Io {
            op: "encode",
            path: self.dir.join(JOURNAL),
            source: io::Error::other(e),
        })?;
        line.push(b'\n');
        self.journal
            .write_all(&line)
            .and_then(|()| self.journal.sync_data())
            .map_err(io_err("write", &self.dir.join(JOURNAL)))?;

        // committed: forget the old parts and ids, remember the new ones
        if let Some(old) = old {
            for p in &old.parts {
                let _ = fs::remove_file(self.parts_dir.join(&p.file));
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

    /// Table → (view, its parts in unit order): what `finish` merges.
    fn table_parts(&self) -> BTreeMap<String, (Option<ViewKind>, Vec<PartRecord>)> {
        let mut units: Vec<&UnitRecord> = self.units.values().collect();
        units.sort_by(|a, b| unit_sort_key(&a.unit).cmp(&unit_sort_key(&b.unit)));
        let mut tables: BTreeMap<String, (Option<ViewKind>, Vec<PartRecord>)> = BTreeMap::new();
        for r in units {
            for p in &r.parts {
                tables
                    .entry(p.table.clone())
                    .or_insert_with(|| (p.view.clone(), Vec::new()))
                    .1
                    .push(p.clone());
            }
        }
        tables
    }

    /// Merges `table`'s parts into its final file now, while other units are still being
    /// fetched, so `finish` only has to move it into place. Call it once no unit still to come
    /// can add to the table; should one do so anyway, `finish` sees the parts changed and merges
    /// again. The file stays inside `.jhe-partial` until `finish`.
    pub fn merge_early(&mut self, table: &str) -> Result<(), ExportError> {
        let Some((view, parts)) = self.table_parts().remove(table) else {
            return Ok(());
        };
        let final_tmp = self.dir.join("final");
        fs::create_dir_all(&final_tmp).map_err(io_err("create folder", &final_tmp))?;
        let path = final_tmp.join(format!("{table}.{}", self.spec.format.extension()));
        let (schema, rows, observations, written) =
            self.merge_table(view.as_ref(), &parts, &path)?;
        self.early.insert(
            table.to_string(),
            EarlyMerge {
                parts,
                path,
                schema,
                rows,
                observations,
                written,
            },
        );
        Ok(())
    }

    /// Merges the parts into the final files, writes the data dictionary, the problems list and
    /// the manifest (last), and removes `.jhe-partial`.
    pub fn finish(mut self) -> Result<Manifest, ExportError> {
        let out = self.spec.out_dir.clone();
        let ext = self.spec.format.extension();
        let mut units: Vec<&UnitRecord> = self.units.values().collect();
        units.sort_by(|a, b| unit_sort_key(&a.unit).cmp(&unit_sort_key(&b.unit)));
        let units: Vec<UnitRecord> = units.into_iter().cloned().collect();
        let mut tables = self.table_parts();
        if self.spec.layout == Layout::Long && tables.is_empty() {
            tables.insert(LONG_TABLE.to_string(), (None, Vec::new()));
        }

        let final_tmp = self.dir.join("final");
        fs::create_dir_all(&final_tmp).map_err(io_err("create folder", &final_tmp))?;
        // (temp path, final name, manifest entry)
        let mut staged: Vec<(PathBuf, ManifestFile)> = Vec::new();
        let mut dict: Vec<(String, DictEntry)> = Vec::new();
        let mut table_rows = BTreeMap::new();

        for (table, (view, parts)) in &tables {
            let name = format!("{table}.{ext}");
            let staged_path = final_tmp.join(&name);
            let (schema, rows, observations, written) = match self.early.remove(table) {
                Some(e) if e.parts == *parts && e.path == staged_path && e.path.is_file() => {
                    (e.schema, e.rows, e.observations, e.written)
                }
                _ => self.merge_table(view.as_ref(), parts, &staged_path)?,
            };
            for e in dictionary(table, view.as_ref(), &schema) {
                dict.push((name.clone(), e));
            }
            table_rows.insert(table.clone(), rows);
            staged.push((
                staged_path,
                ManifestFile {
                    name,
                    role: "data".into(),
                    table: Some(table.clone()),
                    format: ext.into(),
                    rows,
                    observations,
                    bytes: written.bytes,
                    sha256: written.sha256,
                },
            ));
        }

        // problems
        let all_problems: Vec<(String, Problem)> = units
            .iter()
            .flat_map(|r| {
                r.report
                    .problems
                    .iter()
                    .map(|p| (r.unit.clone(), p.clone()))
            })
            .collect();
        if !all_problems.is_empty() {
            let mut csv = String::from("unit,observation_id,patient_id,code,message\n");
            for (u, p) in &all_problems {
                csv_row(
                    &mut csv,
                    &[
                        u,
                        &p.observation_id.to_string(),
                        &p.patient_id.to_string(),
                        &p.code,
                        &p.message,
                    ],
                );
            }
            staged.push(self.stage_text(
                &final_tmp,
                "problems.csv",
                "problems",
                &csv,
                all_problems.len() as u64,
            )?);
        }

        // dictionary
        let mut csv = String::from("file,table,column,dtype,unit,description\n");
        for (file, e) in &dict {
            csv_row(
                &mut csv,
                &[file, &e.table, &e.column, &e.dtype, &e.unit, &e.description],
            );
        }
        if !all_problems.is_empty() {
            for (c, d) in PROBLEM_COLUMNS {
                csv_row(&mut csv, &["problems.csv", "problems", c, "string", "", d]);
            }
        }
        let dict_rows = dict.len() as u64;
        staged.push(self.stage_text(
            &final_tmp,
            "data_dictionary.csv",
            "dictionary",
            &csv,
            dict_rows,
        )?);
        let md = dictionary_markdown(&dict, &tables);
        staged.push(self.stage_text(
            &final_tmp,
            "data_dictionary.md",
            "dictionary",
            &md,
            dict_rows,
        )?);

        // manifest
        let manifest = self.manifest(
            &units,
            staged.iter().map(|(_, f)| f.clone()).collect(),
            table_rows,
            all_problems,
        );

        // publish: data files, dictionary, problems, then the manifest. A manifest of an earlier
        // export in this folder goes first, so that a manifest always describes the files.
        let manifest_path = out.join("manifest.json");
        if manifest_path.exists() {
            fs::remove_file(&manifest_path).map_err(io_err("remove", &manifest_path))?;
            sync_dir(&out);
        }
        for (path, f) in &staged {
            let dest = out.join(&f.name);
            fs::rename(path, &dest).map_err(io_err("rename", &dest))?;
        }
        sync_dir(&out);
        let bytes = json_bytes(&manifest);
        self.write_small(&manifest_path, &bytes)?;
        fs::remove_dir_all(&self.dir).map_err(io_err("remove", &self.dir))?;
        sync_dir(&out);
        Ok(manifest)
    }

    fn stage_text(
        &mut self,
        final_tmp: &Path,
        name: &str,
        role: &str,
        text: &str,
        rows: u64,
    ) -> Result<(PathBuf, ManifestFile), ExportError> {
        let path = final_tmp.join(name);
        let tmp = self.next_tmp("text");
        let w = write_atomic(&self.tmp_dir, &tmp, &path, |w| {
            w.write_all(text.as_bytes()).map_err(io_err("write", &path))
        })?;
        let format = name.rsplit('.').next().unwrap_or("").to_string();
        Ok((
            path.clone(),
            ManifestFile {
                name: name.into(),
                role: role.into(),
                table: None,
                format,
                rows,
                observations: 0,
                bytes: w.bytes,
                sha256: w.sha256,
            },
        ))
    }

    /// Streams the parts of one table into `dest` (atomically). Returns the schema, rows,
    /// observations and hash.
    fn merge_table(
        &mut self,
        view: Option<&ViewKind>,
        parts: &[PartRecord],
        dest: &Path,
    ) -> Result<(Schema, u64, u64, Written), ExportError> {
        // the union schema, in first-seen order
        let mut schema = Schema::default();
        for p in parts {
            let s = read_parquet_schema(&self.parts_dir.join(&p.file))?;
            for (name, dt) in s.iter() {
                let merged = match schema.get(name) {
                    Some(old) => unify(old, dt),
                    None => dt.clone(),
                };
                schema.with_column(name.clone(), merged);
            }
        }
        if parts.is_empty() {
            // an empty table still gets its columns
            let df = match view {
                Some(v) => ViewBuilder::new(v.clone()).finish()?,
                None => LongBuilder::new().finish()?,
            };
            schema = df.schema().as_ref().clone();
        }
        let format = self.spec.format;
        let parts_dir = self.parts_dir.clone();
        let tmp = self.next_tmp("final");
        let mut rows = 0u64;
        let mut observations = 0u64;
        let written = write_atomic(&self.tmp_dir, &tmp, dest, |w| {
            let mut sink = match format {
                Format::Parquet => Sink::Parquet(Box::new(
                    ParquetWriter::new(w)
                        .with_compression(ParquetCompression::Zstd(None))
                        .batched(&schema)?,
                )),
                Format::Csv => Sink::Csv(
                    CsvWriter::new(w)
                        .include_header(true)
                        .with_datetime_format(None)
                        .batched(&csv_schema(&schema))?,
                ),
            };
            let mut pending: Option<DataFrame> = None;
            for p in parts {
                let df = read_parquet(&parts_dir.join(&p.file))?;
                let df = align(&df, &schema)?;
                rows += df.height() as u64;
                observations += p.observations;
                match &mut pending {
                    Some(acc) => {
                        acc.vstack_mut_owned(df)?;
                    }
                    None => pending = Some(df),
                }
                if pending
                    .as_ref()
                    .is_some_and(|d| d.height() >= ROW_GROUP_ROWS)
                {
                    if let Some(mut d) = pending.take() {
                        d.rechunk_mut();
                        sink.write(&d)?;
                    }
                }
            }
            if let Some(mut d) = pending.take() {
                d.rechunk_mut();
                sink.write(&d)?;
            }
            if parts.is_empty() && format == Format::Csv {
                // the CSV writer writes its header with the first batch
                sink.write(&DataFrame::empty_with_schema(&schema))?;
            }
            sink.finish()?;
            Ok(())
        })?;
        Ok((schema, rows, observations, written))
    }

    fn manifest(
        &self,
        units: &[UnitRecord],
        files: Vec<ManifestFile>,
        table_rows: BTreeMap<String, u64>,
        problems: Vec<(String, Problem)>,
    ) -> Manifest {
        let mu: Vec<ManifestUnit> = units
            .iter()
            .map(|r| ManifestUnit {
                unit: r.unit.clone(),
                server_total: r.report.server_total,
                fetched: r.report.fetched,
                written: r.report.written,
                duplicates_dropped: r.report.duplicates_dropped,
                problems: r.report.problems.len() as u64,
            })
            .collect();
        let mismatches = mu
            .iter()
            .filter(|u| {
                u.server_total
                    .is_some_and(|t| t != u.fetched - u.duplicates_dropped)
            })
            .cloned()
            .collect();
        let with_total: Vec<u64> = mu.iter().filter_map(|u| u.server_total).collect();
        let spec = &self.spec;
        let problems_count = problems.len() as u64;
        Manifest {
            manifest_version: MANIFEST_VERSION,
            generator: "JHE Desktop".into(),
            app_version: spec.app_version.clone(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            server: spec.server.clone(),
            study_id: spec.study_id,
            filters: ManifestFilters {
                patient_ids: spec.patient_ids.clone(),
                codes: spec.codes.clone(),
                date_from: spec.date_from.clone(),
                date_to: spec.date_to.clone(),
            },
            format: spec.format,
            layout: spec.layout,
            total_rows: table_rows.values().sum(),
            table_rows,
            files,
            total_observations: mu.iter().map(|u| u.written).sum(),
            total_fetched: mu.iter().map(|u| u.fetched).sum(),
            duplicates_dropped: mu.iter().map(|u| u.duplicates_dropped).sum(),
            problems_count,
            problems_truncated: problems.len() > MANIFEST_PROBLEMS_MAX,
            problems: problems
                .into_iter()
                .take(MANIFEST_PROBLEMS_MAX)
                .map(|(_, p)| p)
                .collect(),
            server_total: (!with_total.is_empty()).then(|| with_total.iter().sum()),
            server_total_mismatches: mismatches,
            units: mu,
            resumed_units: units.iter().filter(|r| r.resumed).count() as u64,
        }
    }
}

/// RFC 3339 for UTC instants in CSV files (local wall-clock times keep polars' ISO default,
/// `2026-11-25T21:00:00.000000`, without an offset).
const CSV_UTC_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

fn is_utc_datetime(dt: &DataType) -> bool {
    matches!(dt, DataType::Datetime(_, Some(_)))
}

fn csv_schema(schema: &Schema) -> Schema {
    schema
        .iter()
        .map(|(n, dt)| {
            let dt = if is_utc_datetime(dt) {
                DataType::String
            } else {
                dt.clone()
            };
            (n.clone(), dt)
        })
        .collect()
}

/// UTC datetime columns formatted as `…Z` strings.
fn csv_ready(df: &DataFrame) -> PolarsResult<DataFrame> {
    let cols = df
        .columns()
        .iter()
        .map(|c| {
            if is_utc_datetime(c.dtype()) {
                let s = c.as_materialized_series();
                Ok(s.datetime()?
                    .to_string(CSV_UTC_FORMAT)?
                    .into_series()
                    .into_column())
            } else {
                Ok(c.clone())
            }
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(df.height(), cols)
}

/// The writer of a final data file.
enum Sink<'a, W: Write> {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'a mut W>>),
    Csv(polars::io::csv::write::BatchedWriter<&'a mut W>),
}

impl<W: Write> Sink<'_, W> {
    fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        match self {
            Sink::Parquet(b) => b.write_batch(df),
            Sink::Csv(b) => b.write_batch(&csv_ready(df)?),
        }
    }
    fn finish(self) -> PolarsResult<()> {
        match self {
            Sink::Parquet(b) => b.finish().map(|_| ()),
            Sink::Csv(mut b) => b.finish(),
        }
    }
}

const PROBLEM_COLUMNS: [(&str, &str); 5] = [
    (
        "unit",
        "The fetch unit (patient/code) the observation came in.",
    ),
    (
        "observation_id",
        "JHE observation id of the malformed observation (0 if unreadable).",
    ),
    ("patient_id", "JHE patient id (0 if unreadable)."),
    ("code", "The observation's coding code."),
    (
        "message",
        "What is wrong with it; the observation was skipped.",
    ),
];

fn csv_row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
}

fn dictionary_markdown(
    dict: &[(String, DictEntry)],
    tables: &BTreeMap<String, (Option<ViewKind>, Vec<PartRecord>)>,
) -> String {
    let mut md = String::from(
        "# Data dictionary\n\nTimes ending in `_utc` are UTC instants; times ending in `_local` are the \
         participant's local wall-clock time (from the UTC offset written in the data), without a \
         time zone. In CSV files times are ISO 8601. A unit in parentheses, e.g. `(original_unit)`, \
         means the unit is given per row in that column.\n",
    );
    let mut current = "";
    for (file, e) in dict {
        if file != current {
            current = file;
            let title = tables
                .get(&e.table)
                .and_then(|(v, _)| v.as_ref())
                .map(|v| v.title())
                .unwrap_or_else(|| "All observations, one row per measure".into());
            md.push_str(&format!(
                "\n## `{file}`: {title}\n\n| column | dtype | unit | description |\n| --- | --- | --- | --- |\n"
            ));
        }
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        md.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.column,
            esc(&e.dtype),
            esc(&e.unit),
            esc(&e.description)
        ));
    }
    md
}
