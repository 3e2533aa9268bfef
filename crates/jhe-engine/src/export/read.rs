//! Reading an export back: the only code that reads an export folder ([`open_folder`]: its
//! manifest, with every listed path confined to the folder and every checksum verified) and its
//! data files (a per-type table, the long table, or a participant's file of a partitioned
//! table, CSV or Parquet) back into chart observations
//! ([`Obs`]), for the offline review. Column names are the writer's ([`crate::frame::names`]); which columns hold a
//! type's values comes from its spec ([`crate::omh::types`]).

use std::collections::BTreeMap;
use std::path::{Component, Path, PathBuf};

use polars::prelude::*;

use super::sealed::{open_sealed, Passphrase};
use super::store::Store;
use crate::chart::Obs;
use crate::frame::names::*;
use crate::omh::time::parse_date_time;
/// The data type of an observation (`DataType` alone is polars' dtype here).
use crate::omh::DataType as Kind;

/// Why a data file could not be read back.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot open {path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not a readable {format} file: {source}")]
    Format {
        path: String,
        format: &'static str,
        source: PolarsError,
    },
    #[error("{0} is not a .csv or .parquet file exported by JHE Desktop")]
    NotData(String),
    #[error("{path} has no {column} column; is it a JHE Desktop export?")]
    MissingColumn { path: String, column: &'static str },
    #[error("{path} is not a manifest written by JHE Desktop ({message}). Open the export folder itself, or one of its .csv / .parquet files.")]
    Manifest { path: String, message: String },
    #[error("{manifest} lists the file {name:?}, which is not inside the export folder; nothing was opened. The folder was not written by JHE Desktop, or someone changed its manifest.")]
    OutsideFolder { manifest: String, name: String },
    #[error("{path} is larger than {max_mib} MiB, far more than JHE Desktop writes, so it was not read. Export the study again into a new folder.")]
    TooLarge { path: String, max_mib: u64 },
    #[error("{0} does not exist (any more). Choose the folder again.")]
    NotFound(String),
    #[error("{0} holds no exported data files (.csv or .parquet). Choose a folder that JHE Desktop exported to.")]
    NoData(String),
    #[error("The passphrase does not open {0}. Check it (capital letters count) and try again.")]
    Passphrase(String),
    #[error("{path} is not an encrypted export that JHE Desktop can open: {message}.")]
    Sealed { path: String, message: String },
}

/// The largest `findings.csv` read back.
const FINDINGS_MAX_BYTES: u64 = 256 << 20;

/// The largest `manifest.json` read (a real one is a few hundred KiB at most).
const MANIFEST_MAX_BYTES: u64 = 64 << 20;

/// An export folder as opened for review: the data files to read and what the manifest says
/// of them.
#[derive(Clone, Debug, Default)]
pub struct ExportFolder {
    /// Where its files are: on disk, or in memory for an encrypted export.
    pub store: Store,
    /// The folder (for a single file: the file's folder; for an encrypted export, the folder
    /// inside it).
    pub dir: PathBuf,
    pub manifest: Option<super::Manifest>,
    /// The data files to read, sorted: the manifest's, else every data file in the folder.
    pub files: Vec<PathBuf>,
    /// Manifest files whose SHA-256 differs from the one written at export: changed since.
    pub changed: Vec<String>,
    /// Manifest files that are not there any more.
    pub missing: Vec<String>,
}

impl ExportFolder {
    /// Plain sentences for the user about files changed or missing since the export.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.changed.is_empty() {
            w.push(format!(
                "Changed since export: {}. Their contents differ from what JHE Desktop wrote (the checksum in manifest.json does not match), so what you see may not be what the server sent.",
                self.changed.join(", ")
            ));
        }
        if !self.missing.is_empty() {
            w.push(format!(
                "Missing since export: {}. The folder holds less than was exported.",
                self.missing.join(", ")
            ));
        }
        w
    }

    /// Reads one of its data files ([`ExportFolder::files`]) back into observations.
    pub fn read(&self, file: &Path) -> Result<FileData, ReadError> {
        read_file_in(&self.store, file)
    }

    /// Its data-quality findings (`findings.csv`, see [`read_findings`]).
    pub fn findings(&self) -> Result<Option<Vec<crate::analysis::quality::Finding>>, ReadError> {
        read_findings(&self.store, &self.dir)
    }
}

/// A `.csv` / `.parquet` file that is data (not the dictionary, the problems list, the
/// participant list or a metric table).
pub fn is_data_file(p: &Path) -> bool {
    let ext = p
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or_default();
    (ext == "csv" || ext == "parquet")
        && !stem.starts_with("data_dictionary")
        && !stem.starts_with("metrics_")
        && !matches!(stem, "problems" | "participants" | "findings")
}

fn read_manifest(store: &Store, dir: &Path) -> Result<Option<super::Manifest>, ReadError> {
    let path = dir.join("manifest.json");
    if !store.is_file(&path) {
        return Ok(None);
    }
    let shown = path.display().to_string();
    let bytes = store
        .read_capped(&path, MANIFEST_MAX_BYTES)
        .map_err(|source| ReadError::Open {
            path: shown.clone(),
            source,
        })?;
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|e| ReadError::Manifest {
            path: shown,
            message: e.to_string(),
        })
}

/// `name` from a manifest as a path inside `dir`: one plain file name (the writer writes no
/// others), or with `nested` (the partitioned layout) plain names joined by `/`
/// (`blood_glucose/study_id=30006/patient_id=40001/part-0.parquet`); which after following
/// links is still inside `dir`.
fn confined(
    store: &Store,
    dir: &Path,
    manifest: &Path,
    name: &str,
    nested: bool,
) -> Result<PathBuf, ReadError> {
    let outside = || ReadError::OutsideFolder {
        manifest: manifest.display().to_string(),
        name: name.to_string(),
    };
    let names: Vec<&str> = if nested {
        name.split('/').collect()
    } else {
        vec![name]
    };
    let plain = |n: &str| {
        let mut parts = Path::new(n).components();
        matches!(parts.next(), Some(Component::Normal(_)))
            && parts.next().is_none()
            && !n.contains(['/', '\\', ':'])
    };
    if names.len() > PARTITION_DEPTH + 2 || !names.iter().all(|n| plain(n)) {
        return Err(outside());
    }
    let rel: PathBuf = names.iter().collect();
    let path = dir.join(rel);
    if store.is_memory() {
        // no links in memory: plain names stay inside
        return Ok(path);
    }
    if let (Ok(real_dir), Ok(real)) = (dir.canonicalize(), path.canonicalize()) {
        if !real.starts_with(&real_dir) {
            return Err(outside());
        }
    }
    Ok(path)
}

/// Opens an export folder, its `manifest.json`, or one data file in it, for review. Every path
/// the manifest lists must be a file name inside the folder (else nothing is opened), and every
/// listed file's SHA-256 is checked: files changed or missing since the export are reported in
/// [`ExportFolder::changed`] / [`ExportFolder::missing`], not hidden.
pub fn open_folder(path: &Path) -> Result<ExportFolder, ReadError> {
    open_folder_in(&Store::Disk, path)
}

/// Opens an encrypted export (one `.tar.age` file, see [`super::sealed`]) with its passphrase:
/// decrypted into memory, never onto the disk, then checked as [`open_folder`] checks a
/// folder. The folder's paths are those inside the archive.
pub fn open_sealed_folder(path: &Path, pass: &Passphrase) -> Result<ExportFolder, ReadError> {
    let (store, root) = open_sealed(path, pass)?;
    open_folder_in(&store, &root)
}

fn open_folder_in(store: &Store, path: &Path) -> Result<ExportFolder, ReadError> {
    let shown = || path.display().to_string();
    // manifest.json stands for its folder.
    let path = match path.file_name().and_then(|n| n.to_str()) {
        Some("manifest.json") if store.is_file(path) => path.parent().unwrap_or(path),
        _ => path,
    };
    let single = store.is_file(path);
    if single && !is_data_file(path) {
        return Err(ReadError::NotData(shown()));
    }
    if !single && !store.is_dir(path) {
        return Err(ReadError::NotFound(shown()));
    }
    let dir = if single {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    let manifest = read_manifest(store, &dir);
    // A single file is readable without its folder's manifest; a folder's manifest must be good.
    let manifest = if single {
        manifest.ok().flatten()
    } else {
        manifest?
    };
    let mut out = ExportFolder {
        store: store.clone(),
        dir: dir.clone(),
        ..ExportFolder::default()
    };
    let manifest_path = dir.join("manifest.json");
    if let Some(m) = &manifest {
        let nested = m.layout == super::Layout::Partitioned;
        for f in &m.files {
            let p = confined(store, &dir, &manifest_path, &f.name, nested)?;
            if single && p.as_path() != path {
                continue;
            }
            match store.sha256(&p) {
                Ok(sum) if sum.eq_ignore_ascii_case(&f.sha256) => {}
                Ok(_) => out.changed.push(f.name.clone()),
                Err(_) => {
                    out.missing.push(f.name.clone());
                    continue;
                }
            }
            if f.role == "data" && !single {
                out.files.push(p);
            }
        }
    }
    if single {
        out.files.push(path.to_path_buf());
    } else if manifest.is_none() {
        out.files = store
            .list(&dir)
            .map_err(|source| ReadError::Open {
                path: shown(),
                source,
            })?
            .into_iter()
            .filter(|p| store.is_file(p) && is_data_file(p))
            .collect();
        if !store.is_memory() {
            out.files.extend(partitioned_files(&dir));
        }
    }
    out.files.sort();
    if out.files.is_empty() {
        return Err(ReadError::NoData(shown()));
    }
    out.manifest = manifest;
    Ok(out)
}

/// How many `key=value` folders deep a partitioned table's files are looked for.
const PARTITION_DEPTH: usize = 4;

/// Whether a folder name is a hive partition (`patient_id=40001`).
fn is_partition(name: &str) -> bool {
    name.split_once('=').is_some_and(|(k, _)| !k.is_empty())
}

/// The Parquet files of a partitioned export's tables (`<table>/<key>=<value>/…/<file>.parquet`)
/// in `dir`, for a folder without its manifest. Links are not followed.
fn partitioned_files(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let (path, name) = (e.path(), e.file_name());
            let Ok(kind) = e.file_type() else { continue };
            if kind.is_dir() && depth < PARTITION_DEPTH && is_partition(&name.to_string_lossy()) {
                walk(&path, depth + 1, out);
            } else if kind.is_file()
                && depth > 0
                && path
                    .extension()
                    .is_some_and(|x| x.eq_ignore_ascii_case("parquet"))
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if e.file_type().is_ok_and(|t| t.is_dir()) && !name.starts_with('.') && !is_partition(&name)
        {
            walk(&e.path(), 0, &mut out);
        }
    }
    out
}

/// The table a data file holds: its name (`blood_glucose.parquet`), or for a file of a
/// partitioned table (`blood_glucose/study_id=30006/patient_id=40001/part-0.parquet`) the
/// folder above its partition folders.
fn table_stem(path: &Path) -> String {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    if Kind::KNOWN.iter().any(|v| v.name() == stem) {
        return stem;
    }
    let mut dir = path.parent();
    let mut nested = false;
    while let Some(name) = dir.and_then(|d| d.file_name()).and_then(|n| n.to_str()) {
        if !is_partition(name) {
            return if nested { name.to_string() } else { stem };
        }
        nested = true;
        dir = dir.and_then(Path::parent);
    }
    stem
}

/// What [`read_export_file`] found in one data file.
#[derive(Clone, Debug, Default)]
pub struct FileData {
    pub obs: Vec<Obs>,
    /// Rows that could not be read (no patient or time).
    pub skipped: u64,
}

fn col_f64(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    let c = df.column(name).ok()?;
    let c = c.cast(&DataType::Float64).ok()?;
    Some(c.f64().ok()?.iter().collect())
}

fn col_i64(df: &DataFrame, name: &str) -> Option<Vec<Option<i64>>> {
    let c = df.column(name).ok()?;
    let c = match c.dtype() {
        DataType::Datetime(tu, _) => {
            let scale = match tu {
                TimeUnit::Nanoseconds => -1000,
                TimeUnit::Microseconds => 1,
                TimeUnit::Milliseconds => 1000,
            };
            let v = c.cast(&DataType::Int64).ok()?;
            let v: Vec<Option<i64>> = v.i64().ok()?.iter().collect();
            return Some(
                v.into_iter()
                    .map(|x| x.map(|x| if scale < 0 { x / 1000 } else { x * scale }))
                    .collect(),
            );
        }
        DataType::String => {
            // CSV: ISO 8601 times.
            let s: Vec<Option<i64>> = c
                .str()
                .ok()?
                .iter()
                .map(|s| s.and_then(parse_time_text))
                .collect();
            return Some(s);
        }
        _ => c.cast(&DataType::Int64).ok()?,
    };
    Some(c.i64().ok()?.iter().collect())
}

fn col_str(df: &DataFrame, name: &str) -> Option<Vec<Option<String>>> {
    let c = df.column(name).ok()?;
    let c = c.cast(&DataType::String).ok()?;
    Some(
        c.str()
            .ok()?
            .iter()
            .map(|s| s.map(str::to_string))
            .collect(),
    )
}

fn parse_time_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = parse_date_time(s) {
        return Some(t.utc_us);
    }
    // "2025-06-01 08:00:00" (no offset, CSV of a naive datetime): read as UTC.
    parse_date_time(&s.replacen(' ', "T", 1)).map(|t| t.utc_us)
}

fn read_frame(store: &Store, path: &Path) -> Result<DataFrame, ReadError> {
    let shown = || path.display().to_string();
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "parquet" => {
            let f = store.open(path).map_err(|source| ReadError::Open {
                path: shown(),
                source,
            })?;
            ParquetReader::new(f)
                .finish()
                .map_err(|source| ReadError::Format {
                    path: shown(),
                    format: "Parquet",
                    source,
                })
        }
        "csv" => csv_reader(store, path, Some(10_000))?
            .finish()
            .map_err(|source| ReadError::Format {
                path: shown(),
                format: "CSV",
                source,
            }),
        _ => Err(ReadError::NotData(shown())),
    }
}

/// The type of a per-type file, from its name (`blood_glucose.csv`) or, for a renamed file,
/// its value columns (the type all of whose value columns are there; the most of them wins).
pub fn view_of_table(stem: &str, columns: &[String]) -> Option<Kind> {
    let by_name = Kind::KNOWN
        .iter()
        .find(|v| v.spec().is_some_and(|s| s.name == stem))
        .cloned();
    if by_name.is_some() {
        return by_name;
    }
    let has = |c: &str| columns.iter().any(|n| n == c);
    let value_columns = |t: &Kind| -> Vec<&'static str> {
        t.columns()
            .iter()
            .filter(|c| matches!(c.src, crate::omh::types::Src::Value(_)))
            .map(|c| c.def.name.as_ref())
            .collect()
    };
    Kind::KNOWN
        .into_iter()
        .map(|t| (value_columns(&t), t))
        .filter(|(cols, _)| !cols.is_empty() && cols.iter().all(|c| has(c)))
        .max_by_key(|(cols, _)| cols.len())
        .map(|(_, t)| t)
}

/// The columns every row is read from (`None` where the file has no such column).
struct Common {
    ids: Vec<Option<i64>>,
    patients: Vec<Option<i64>>,
    times: Vec<Option<i64>>,
    ends: Vec<Option<i64>>,
    locals: Vec<Option<i64>>,
    codes: Vec<Option<String>>,
    devices: Vec<Option<String>>,
    sources: Vec<Option<String>>,
}

impl Common {
    fn read(df: &DataFrame, columns: &[String], path: &Path) -> Result<Common, ReadError> {
        let n = df.height();
        let need = |v: Option<Vec<Option<i64>>>, column: &'static str| {
            v.ok_or_else(|| ReadError::MissingColumn {
                path: path.display().to_string(),
                column,
            })
        };
        let or_empty_i = |v: Option<Vec<Option<i64>>>| v.unwrap_or_else(|| vec![None; n]);
        let or_empty_s = |v: Option<Vec<Option<String>>>| v.unwrap_or_else(|| vec![None; n]);
        let interval = columns.iter().any(|c| c == START_UTC);
        let (time_col, local_col) = if interval {
            (START_UTC, START_LOCAL)
        } else {
            (TIME_UTC, TIME_LOCAL)
        };
        Ok(Common {
            ids: or_empty_i(col_i64(df, OBSERVATION_ID)),
            patients: need(col_i64(df, PATIENT_ID), PATIENT_ID)?,
            times: need(col_i64(df, time_col), time_col)?,
            ends: or_empty_i(col_i64(df, END_UTC)),
            locals: or_empty_i(col_i64(df, local_col)),
            codes: or_empty_s(col_str(df, CODE)),
            devices: or_empty_s(col_str(df, DEVICE)),
            sources: or_empty_s(col_str(df, SOURCE_NAME)),
        })
    }

    /// Row `i` as an observation of `view` without values; `None` without patient or time.
    fn obs(&self, i: usize, view: &Kind) -> Option<Obs> {
        let (Some(pid), Some(t)) = (self.patients[i], self.times[i]) else {
            return None;
        };
        Some(Obs {
            observation_id: self.ids[i].unwrap_or_default().max(0) as u64,
            patient_id: pid.max(0) as u64,
            code: self.codes[i].clone().unwrap_or_else(|| view.name()),
            t_us: t,
            end_us: self.ends[i],
            local_us: self.locals[i],
            v: None,
            v2: None,
            device: self.devices[i].clone().or_else(|| self.sources[i].clone()),
        })
    }
}

/// A CSV reader of `path` (with a header), its dtypes guessed from `infer` rows (`Some(0)`:
/// every column as text).
fn csv_reader(
    store: &Store,
    path: &Path,
    infer: Option<usize>,
) -> Result<CsvReader<Box<dyn polars::io::mmap::MmapBytesReader>>, ReadError> {
    let f = store.open(path).map_err(|source| ReadError::Open {
        path: path.display().to_string(),
        source,
    })?;
    Ok(CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(infer)
        .into_reader_with_file_handle(f))
}

/// Reads one data file of an export (a per-type table, or the long table) back into
/// observations. Works for the engine's CSV and Parquet files.
pub fn read_export_file(path: &Path) -> Result<FileData, ReadError> {
    read_file_in(&Store::Disk, path)
}

/// [`read_export_file`] of a file in `store`.
pub(super) fn read_file_in(store: &Store, path: &Path) -> Result<FileData, ReadError> {
    let df = read_frame(store, path)?;
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let n = df.height();
    let common = Common::read(&df, &columns, path)?;
    let has = |c: &str| columns.iter().any(|n| n == c);
    let mut out = FileData::default();

    if has(MEASURE) && has(VALUE) {
        let tables = col_str(&df, TABLE).unwrap_or_else(|| vec![None; n]);
        let measures = col_str(&df, MEASURE).unwrap_or_else(|| vec![None; n]);
        let values = col_f64(&df, VALUE).unwrap_or_else(|| vec![None; n]);
        // One observation per observation id; its measures fill v / v2.
        let mut by_id: BTreeMap<(u64, i64, i64), Obs> = BTreeMap::new();
        for i in 0..n {
            let view = tables[i]
                .as_deref()
                .and_then(|t| view_of_table(t, &[]))
                .or_else(|| common.codes[i].as_deref().map(Kind::from_code));
            let Some((view, obs)) = view.and_then(|v| common.obs(i, &v).map(|o| (v, o))) else {
                out.skipped += 1;
                continue;
            };
            let (m1, m2) = view.spec().map_or((None, None), |s| s.chart_measures());
            let key = (
                obs.patient_id,
                common.ids[i].unwrap_or(-(i as i64)),
                obs.t_us,
            );
            let entry = by_id.entry(key).or_insert(obs);
            let m = measures[i].as_deref();
            if m.is_some() && m == m1 {
                entry.v = values[i];
            } else if m.is_some() && m == m2 {
                entry.v2 = values[i];
            }
        }
        out.obs = by_id.into_values().collect();
        return Ok(out);
    }

    let stem = table_stem(path);
    let view = view_of_table(&stem, &columns).unwrap_or_else(|| Kind::Other(stem.clone()));
    let (c1, c2) = view.spec().map_or((None, None), |s| s.chart_columns());
    let values = |c: Option<&str>| {
        c.and_then(|c| col_f64(&df, c))
            .unwrap_or_else(|| vec![None; n])
    };
    let (v1, v2) = (values(c1), values(c2));
    out.obs.reserve(n);
    for i in 0..n {
        match common.obs(i, &view) {
            Some(o) => out.obs.push(Obs {
                v: v1[i],
                v2: v2[i],
                ..o
            }),
            None => out.skipped += 1,
        }
    }
    Ok(out)
}

/// The data-quality findings of an export folder, read back from its `findings.csv` (one row
/// per flagged observation and kind, grouped again into one [`Finding`] per participant, kind
/// and type); `None` when the folder has none (exports before findings were written).
///
/// [`Finding`]: crate::analysis::quality::Finding
fn read_findings(
    store: &Store,
    dir: &Path,
) -> Result<Option<Vec<crate::analysis::quality::Finding>>, ReadError> {
    use crate::analysis::quality::{Finding, FindingKind};
    let path = dir.join(super::findings::FINDINGS_FILE);
    if !store.is_file(&path) {
        return Ok(None);
    }
    let shown = || path.display().to_string();
    // A findings list is a few MiB at most; a file far larger is not one JHE Desktop wrote.
    let size = store.len(&path).unwrap_or(0);
    if size > FINDINGS_MAX_BYTES {
        return Err(ReadError::TooLarge {
            path: shown(),
            max_mib: FINDINGS_MAX_BYTES >> 20,
        });
    }
    // Every column as text: ids are parsed below, a bad one skips its row.
    let df = csv_reader(store, &path, Some(0))?
        .finish()
        .map_err(|source| ReadError::Format {
            path: shown(),
            format: "CSV",
            source,
        })?;
    let text = |name: &str| -> Vec<Option<String>> {
        df.column(name)
            .ok()
            .and_then(|c| {
                c.str()
                    .ok()
                    .map(|s| s.iter().map(|v| v.map(unguard)).collect())
            })
            .unwrap_or_else(|| vec![None; df.height()])
    };
    let (pid, code, oid, kind, detail) = (
        text("participant_id"),
        text("code"),
        text("observation_id"),
        text("kind"),
        text("detail"),
    );
    let mut grouped: BTreeMap<(u64, FindingKind, String), Finding> = BTreeMap::new();
    for i in 0..df.height() {
        let (Some(p), Some(k)) = (
            pid[i].as_deref().and_then(|s| s.parse::<u64>().ok()),
            kind[i].as_deref().and_then(|s| {
                serde_json::from_value::<FindingKind>(serde_json::Value::String(s.into())).ok()
            }),
        ) else {
            continue;
        };
        let c = code[i].clone().unwrap_or_default();
        let f = grouped.entry((p, k, c.clone())).or_insert_with(|| Finding {
            kind: k,
            participant_id: p,
            code: c,
            observation_ids: Vec::new(),
            detail: detail[i].clone().unwrap_or_default(),
        });
        if let Some(id) = oid[i].as_deref().and_then(|s| s.parse::<u64>().ok()) {
            f.observation_ids.push(id);
        }
    }
    Ok(Some(grouped.into_values().collect()))
}

/// A text cell as written, without the `'` the writer put before a would-be formula.
fn unguard(s: &str) -> String {
    match s.strip_prefix('\'') {
        Some(rest) if super::needs_formula_guard(rest) => rest.to_string(),
        _ => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partitioned_manifest_may_name_files_in_subfolders_and_nothing_outside() {
        let t = tempfile::tempdir().expect("tmp");
        let (dir, m) = (t.path(), t.path().join("manifest.json"));
        let name = "blood_glucose/study_id=30006/patient_id=40001/part-0.parquet";
        assert_eq!(
            confined(&Store::Disk, dir, &m, name, true).expect("inside"),
            dir.join("blood_glucose/study_id=30006/patient_id=40001/part-0.parquet")
        );
        assert!(
            confined(&Store::Disk, dir, &m, name, false).is_err(),
            "only when partitioned"
        );
        for forged in [
            "blood_glucose/../../secret.parquet",
            "/etc/passwd",
            "blood_glucose//part-0.parquet",
            "blood_glucose\\..\\x.parquet",
            "a/b/c/d/e/f/g.parquet",
        ] {
            assert!(
                matches!(
                    confined(&Store::Disk, dir, &m, forged, true),
                    Err(ReadError::OutsideFolder { .. })
                ),
                "{forged}"
            );
        }
    }

    #[test]
    fn a_partitioned_file_is_of_the_table_its_folder_names() {
        let p = Path::new("x/blood_glucose/study_id=30006/patient_id=40001/part-0.parquet");
        assert_eq!(table_stem(p), "blood_glucose");
        assert_eq!(
            table_stem(Path::new("x/other_acme_x/patient_id=1/part-0.parquet")),
            "other_acme_x"
        );
        assert_eq!(table_stem(Path::new("x/heart_rate.parquet")), "heart_rate");
        // a per-type file in a folder whose name happens to have an "="
        assert_eq!(table_stem(Path::new("a=b/heart_rate.csv")), "heart_rate");
    }
}
