//! Local study copies: per server and study, every observation as the server sent it, the
//! study's participants and the types it asks for, kept on this computer **encrypted at rest**
//! (every file is an age file whose key is in the OS keychain, see [`seal`]), so a study opens
//! at once and works with no network. [`crate::jobs::sync`] keeps a copy up to date.
//!
//! On disk (`<data dir>/copies/<server>/study-<id>/`, all files 0600):
//! - `copy.age`: [`CopyMeta`] (JSON): the study, participants, types, the sync cursor and the
//!   list of data files. It is replaced atomically last in every commit, so a crash at any point
//!   leaves the previous, consistent copy (files it does not list are removed on the next open).
//! - `index-<n>.age`: one row per observation held (id, participant, type, times, and the data
//!   file holding its current version), as Parquet.
//! - `f-<n>.age`: observations ([`Row`]s) as Parquet. A sync adds a file of what changed; a
//!   compaction rewrites them into one file per participant, so opening a participant reads
//!   only theirs.

pub mod rows;
pub mod seal;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::io::Cursor;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use rows::Row;
pub use seal::CopyKey;

use crate::api::types::{CodeableConcept, Patient, PatientConsents, Study};
use rows::polars_err;

/// `JHE_DATA_DIR` overrides where local copies (and the audit log) are kept.
pub const DATA_DIR_ENV: &str = "JHE_DATA_DIR";

/// Data files above which a sync compacts the copy into one file per participant.
/// Loose files (rows of several participants, one per sync commit) a copy may hold before a sync
/// compacts it into one file per participant; more often, if they hold a quarter of the rows.
const COMPACT_LOOSE: usize = 8;

/// Rows a compaction holds in memory at once.
const COMPACT_BATCH_ROWS: u64 = 200_000;

#[derive(Debug, thiserror::Error)]
pub enum CopyError {
    #[error("The local copy could not be read or written ({0}). Check that the disk is not full; removing the local copy and syncing again rebuilds it.")]
    Io(String),
    #[error("The local copy is damaged ({0}). Remove the local copy and sync the study again to rebuild it.")]
    Damaged(String),
    #[error("The local copy cannot be opened with this computer's key: it was made with another key (on another computer, or the keychain entry was removed). Remove the local copy and sync the study again.")]
    WrongKey,
    #[error("The key of the local copies could not be read from or saved to the keychain ({0}). Unlock the keychain and try again.")]
    Keychain(String),
    #[error("Encrypting the local copy failed ({0}).")]
    Crypto(String),
    #[error("There is no local copy of study {0} from this server yet. Sync the study once while online.")]
    NoCopy(u64),
}

/// The folder for this user's JHE data: `JHE_DATA_DIR`, else the OS's local data folder
/// (`~/.local/share/jhe-desktop`, `~/Library/Application Support/org.JupyterHealth.JHE-Desktop`,
/// `%LOCALAPPDATA%\JupyterHealth\JHE Desktop\data`).
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("org", "JupyterHealth", "JHE Desktop")
        .map(|p| p.data_local_dir().to_path_buf())
}

/// Where the copies of `server`'s studies are: `<root>/copies/<host_port>-<hash>`.
pub fn server_dir(root: &Path, server: &str) -> PathBuf {
    use sha2::Digest;
    let server = server.trim_end_matches('/');
    let host: String = server
        .split("://")
        .nth(1)
        .unwrap_or(server)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' {
                c
            } else {
                '_'
            }
        })
        .take(60)
        .collect();
    let hash = sha2::Sha256::digest(server.as_bytes());
    let hex: String = hash.iter().take(4).map(|b| format!("{b:02x}")).collect();
    root.join("copies").join(format!("{host}-{hex}"))
}

/// A data file of the copy.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct FileMeta {
    pub rows: u64,
    /// Set when the file holds one participant's rows only (after a compaction).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patient: Option<u64>,
}

/// What the last sync changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub added: u64,
    pub changed: u64,
    pub removed: u64,
    /// Participants with added, changed or removed readings.
    pub participants: u64,
}

/// `copy.age`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct CopyMeta {
    pub format: u32,
    pub server: String,
    pub study_id: u64,
    #[serde(default)]
    pub study: Option<Study>,
    #[serde(default)]
    pub patients: Vec<Patient>,
    #[serde(default)]
    pub scopes: Vec<CodeableConcept>,
    /// Per participant: their consents as the server lists them (read on the first sync, for
    /// new participants, and with each reconcile); `None` where the account may not see them.
    #[serde(default)]
    pub consents: BTreeMap<u64, Option<PatientConsents>>,
    /// Observations the server holds that could not be read (malformed resources), by id: kept
    /// so that counts match the server's and an export made from the copy lists them in
    /// `problems.csv` as one downloaded would.
    #[serde(default)]
    pub unreadable: BTreeMap<u64, crate::omh::Problem>,
    /// The highest `meta.lastUpdated` held, as the server wrote it: the next sync asks for
    /// `_lastUpdated=ge<cursor>`.
    #[serde(default)]
    pub cursor: Option<String>,
    /// When the last sync ended / the last reconcile ran (UTC, RFC 3339).
    #[serde(default)]
    pub synced_at: Option<String>,
    #[serde(default)]
    pub reconciled_at: Option<String>,
    #[serde(default)]
    pub last_change: Option<Change>,
    #[serde(default)]
    pub index_file: Option<u32>,
    #[serde(default)]
    pub files: BTreeMap<u32, FileMeta>,
    #[serde(default)]
    pub next_file: u32,
    /// What the app keeps beside the data (e.g. its overview rows), as it wrote it.
    #[serde(default)]
    pub attachments: BTreeMap<String, serde_json::Value>,
}

/// One observation held: where its current version is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Held {
    pub patient_id: u64,
    /// Index into [`LocalCopy::codes`].
    pub code: u32,
    pub t_us: Option<i64>,
    pub lu_us: i64,
    pub file: u32,
}

/// Per participant and type: how many readings, the first and last measurement times.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub count: u64,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
}

/// An open local copy.
pub struct LocalCopy {
    dir: PathBuf,
    key: CopyKey,
    pub meta: CopyMeta,
    index: BTreeMap<u64, Held>,
    codes: Vec<String>,
    /// The index changed since it was last written (a commit writes it only then).
    index_dirty: bool,
}

fn io(e: impl std::fmt::Display) -> CopyError {
    CopyError::Io(e.to_string())
}

impl LocalCopy {
    /// The folder of study `study_id`'s copy from `server` under `root` (see [`data_dir`]).
    pub fn dir_of(root: &Path, server: &str, study_id: u64) -> PathBuf {
        server_dir(root, server).join(format!("study-{study_id}"))
    }

    /// Opens the copy in `dir`, or `None` when there is none.
    pub fn open(dir: &Path, key: CopyKey) -> Result<Option<LocalCopy>, CopyError> {
        let meta_path = dir.join("copy.age");
        if !meta_path.is_file() {
            return Ok(None);
        }
        let plain = key.open(&std::fs::read(&meta_path).map_err(io)?)?;
        let meta: CopyMeta =
            serde_json::from_slice(&plain).map_err(|e| CopyError::Damaged(e.to_string()))?;
        let mut copy = LocalCopy {
            dir: dir.to_path_buf(),
            key,
            meta,
            index: BTreeMap::new(),
            codes: Vec::new(),
            index_dirty: false,
        };
        if let Some(n) = copy.meta.index_file {
            copy.read_index(n)?;
        }
        copy.remove_strays();
        Ok(Some(copy))
    }

    /// Reads only the copy's description (`copy.age`: study, participants, when synced), without
    /// its index or data; `None` when there is no copy in `dir`.
    pub fn read_meta(dir: &Path, key: &CopyKey) -> Result<Option<CopyMeta>, CopyError> {
        let meta_path = dir.join("copy.age");
        if !meta_path.is_file() {
            return Ok(None);
        }
        let plain = key.open(&std::fs::read(&meta_path).map_err(io)?)?;
        serde_json::from_slice(&plain)
            .map(Some)
            .map_err(|e| CopyError::Damaged(e.to_string()))
    }

    /// Opens the copy in `dir`, or starts an empty one (written by the first commit).
    pub fn open_or_new(
        dir: &Path,
        key: CopyKey,
        server: &str,
        study_id: u64,
    ) -> Result<LocalCopy, CopyError> {
        if let Some(c) = LocalCopy::open(dir, key.clone())? {
            return Ok(c);
        }
        Ok(LocalCopy {
            dir: dir.to_path_buf(),
            key,
            meta: CopyMeta {
                format: 1,
                server: server.trim_end_matches('/').to_string(),
                study_id,
                ..CopyMeta::default()
            },
            index: BTreeMap::new(),
            codes: Vec::new(),
            index_dirty: true,
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Whether anything was ever committed.
    pub fn exists(&self) -> bool {
        self.dir.join("copy.age").is_file()
    }

    /// Observations held.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The held version of observation `id`.
    pub fn held(&self, id: u64) -> Option<&Held> {
        self.index.get(&id)
    }

    pub fn code(&self, h: &Held) -> &str {
        self.codes.get(h.code as usize).map_or("", String::as_str)
    }

    /// Every observation id held with its entry.
    pub fn held_all(&self) -> impl Iterator<Item = (u64, &Held)> {
        self.index.iter().map(|(id, h)| (*id, h))
    }

    /// Per participant, per type code: count, first and last measurement.
    pub fn summary(&self) -> BTreeMap<u64, BTreeMap<String, Counts>> {
        let mut out: BTreeMap<u64, BTreeMap<String, Counts>> = BTreeMap::new();
        for h in self.index.values() {
            let s = out
                .entry(h.patient_id)
                .or_default()
                .entry(self.code(h).to_string())
                .or_default();
            s.count += 1;
            if let Some(t) = h.t_us {
                s.first_us = Some(s.first_us.map_or(t, |f| f.min(t)));
                s.last_us = Some(s.last_us.map_or(t, |l| l.max(t)));
            }
        }
        out
    }

    /// Bytes on disk.
    pub fn size_bytes(&self) -> u64 {
        dir_size(&self.dir)
    }

    /// The rows of the observations for which `keep` holds (their current versions).
    pub fn rows_where(&self, keep: impl Fn(&Held) -> bool) -> Result<Vec<Row>, CopyError> {
        let files: BTreeSet<u32> = self
            .index
            .values()
            .filter(|h| keep(h))
            .map(|h| h.file)
            .collect();
        let mut out = Vec::new();
        for f in files {
            out.extend(self.read_file(f)?.into_iter().filter(|r| {
                self.index
                    .get(&r.id)
                    .is_some_and(|h| h.file == f && keep(h))
            }));
        }
        out.sort_by_key(|r| (r.t_us, r.id));
        Ok(out)
    }

    /// One participant's rows.
    pub fn participant_rows(&self, patient_id: u64) -> Result<Vec<Row>, CopyError> {
        self.rows_where(|h| h.patient_id == patient_id)
    }

    /// Writes `rows` (new or changed versions) and forgets `removed`, then commits: the copy on
    /// disk moves from its previous state to the new one in one atomic step.
    pub fn apply(&mut self, rows: Vec<Row>, removed: &[u64]) -> Result<(), CopyError> {
        for id in removed {
            self.index_dirty |= self.index.remove(id).is_some();
        }
        if !rows.is_empty() {
            self.index_dirty = true;
            let n = self.new_file_number();
            self.write_file(n, &rows)?;
            self.meta.files.insert(
                n,
                FileMeta {
                    rows: rows.len() as u64,
                    patient: None,
                },
            );
            for r in rows {
                let code = self.code_index(&r.code);
                self.index.insert(
                    r.id,
                    Held {
                        patient_id: r.patient_id,
                        code,
                        t_us: r.t_us,
                        lu_us: r.lu_us,
                        file: n,
                    },
                );
            }
        }
        self.commit()
    }

    /// Saves the metadata (and the index) as they are now.
    pub fn commit(&mut self) -> Result<(), CopyError> {
        // Files no observation points to any more are dropped.
        let used: HashSet<u32> = self.index.values().map(|h| h.file).collect();
        self.meta.files.retain(|n, _| used.contains(n));
        // The index is rewritten only when it changed (a sync with nothing new writes only the
        // description).
        if self.index_dirty || self.meta.index_file.is_none() {
            let n = self.new_file_number();
            self.write_index(n)?;
            self.meta.index_file = Some(n);
            self.index_dirty = false;
        }
        let json = serde_json::to_vec(&self.meta).map_err(io)?;
        self.save(&self.dir.join("copy.age"), &json)?;
        self.remove_strays();
        Ok(())
    }

    /// Rewrites the data into one file per participant when a sync left many small files.
    pub fn compact_if_needed(&mut self) -> Result<bool, CopyError> {
        let loose = self
            .meta
            .files
            .values()
            .filter(|f| f.patient.is_none())
            .count();
        let loose_rows: u64 = self
            .meta
            .files
            .values()
            .filter(|f| f.patient.is_none())
            .map(|f| f.rows)
            .sum();
        // Small syncs append a small file each; rewriting participants' files for them would
        // cost more than reading a few extra files.
        if loose == 0 || (loose < COMPACT_LOOSE && loose_rows * 4 < self.index.len() as u64) {
            return Ok(false);
        }
        self.compact()?;
        Ok(true)
    }

    /// One file per participant.
    pub fn compact(&mut self) -> Result<(), CopyError> {
        let loose: BTreeSet<u32> = self
            .meta
            .files
            .iter()
            .filter(|(_, f)| f.patient.is_none())
            .map(|(n, _)| *n)
            .collect();
        // Participants with rows in loose files get a new file of all their rows.
        let patients: BTreeSet<u64> = self
            .index
            .values()
            .filter(|h| loose.contains(&h.file))
            .map(|h| h.patient_id)
            .collect();
        let mut held: BTreeMap<u64, u64> = BTreeMap::new();
        for h in self
            .index
            .values()
            .filter(|h| patients.contains(&h.patient_id))
        {
            *held.entry(h.patient_id).or_default() += 1;
        }
        // In batches of about COMPACT_BATCH_ROWS rows: each file is read once per batch (not
        // once per participant: after a first sync every participant is in every loose file),
        // and memory stays bounded.
        let mut batches: Vec<HashSet<u64>> = vec![HashSet::new()];
        let mut in_batch = 0u64;
        for (p, n) in held {
            if in_batch > 0 && in_batch + n > COMPACT_BATCH_ROWS {
                batches.push(HashSet::new());
                in_batch = 0;
            }
            in_batch += n;
            if let Some(b) = batches.last_mut() {
                b.insert(p);
            }
        }
        for batch in batches.into_iter().filter(|b| !b.is_empty()) {
            let mut by_patient: BTreeMap<u64, Vec<Row>> = BTreeMap::new();
            for r in self.rows_where(|h| batch.contains(&h.patient_id))? {
                by_patient.entry(r.patient_id).or_default().push(r);
            }
            for (p, rows) in by_patient {
                let n = self.new_file_number();
                self.write_file(n, &rows)?;
                self.meta.files.insert(
                    n,
                    FileMeta {
                        rows: rows.len() as u64,
                        patient: Some(p),
                    },
                );
                for r in &rows {
                    if let Some(h) = self.index.get_mut(&r.id) {
                        h.file = n;
                    }
                }
                self.index_dirty = true;
            }
        }
        self.commit()
    }

    /// Deletes the copy from disk.
    pub fn remove(self) -> Result<(), CopyError> {
        remove_dir(&self.dir)
    }

    fn new_file_number(&mut self) -> u32 {
        self.meta.next_file += 1;
        self.meta.next_file
    }

    fn code_index(&mut self, code: &str) -> u32 {
        match self.codes.iter().position(|c| c == code) {
            Some(i) => i as u32,
            None => {
                self.codes.push(code.to_string());
                (self.codes.len() - 1) as u32
            }
        }
    }

    fn save(&self, path: &Path, plain: &[u8]) -> Result<(), CopyError> {
        let sealed = self.key.seal(plain)?;
        if !self.dir.is_dir() {
            std::fs::create_dir_all(&self.dir).map_err(io)?;
            restrict_dir(&self.dir);
        }
        crate::export::save_private(path, &sealed).map_err(io)
    }

    fn load(&self, name: &str) -> Result<Vec<u8>, CopyError> {
        let bytes = std::fs::read(self.dir.join(name))
            .map_err(|e| CopyError::Damaged(format!("{name}: {e}")))?;
        self.key.open(&bytes)
    }

    fn write_file(&self, n: u32, rows: &[Row]) -> Result<(), CopyError> {
        self.save(
            &self.dir.join(format!("f-{n}.age")),
            &rows::to_parquet(rows)?,
        )
    }

    fn read_file(&self, n: u32) -> Result<Vec<Row>, CopyError> {
        rows::from_parquet(&self.load(&format!("f-{n}.age"))?)
    }

    fn write_index(&self, n: u32) -> Result<(), CopyError> {
        let ids: Vec<u64> = self.index.keys().copied().collect();
        let h: Vec<&Held> = self.index.values().collect();
        let code: Vec<&str> = h.iter().map(|h| self.code(h)).collect();
        let mut df = DataFrame::new(
            ids.len(),
            vec![
                Column::new("id".into(), ids),
                Column::new(
                    "patient_id".into(),
                    h.iter().map(|h| h.patient_id).collect::<Vec<_>>(),
                ),
                Column::new("code".into(), code),
                Column::new("t_us".into(), h.iter().map(|h| h.t_us).collect::<Vec<_>>()),
                Column::new(
                    "lu_us".into(),
                    h.iter().map(|h| h.lu_us).collect::<Vec<_>>(),
                ),
                Column::new("file".into(), h.iter().map(|h| h.file).collect::<Vec<_>>()),
            ],
        )
        .map_err(polars_err)?;
        let buf = rows::parquet_bytes(&mut df)?;
        self.save(&self.dir.join(format!("index-{n}.age")), &buf)
    }

    fn read_index(&mut self, n: u32) -> Result<(), CopyError> {
        let bytes = self.load(&format!("index-{n}.age"))?;
        let df = ParquetReader::new(Cursor::new(bytes))
            .finish()
            .map_err(polars_err)?;
        let col = |n: &str| df.column(n).map_err(polars_err);
        let ids = col("id")?.u64().map_err(polars_err)?.clone();
        let patients = col("patient_id")?.u64().map_err(polars_err)?.clone();
        let codes = col("code")?.str().map_err(polars_err)?.clone();
        let t = col("t_us")?.i64().map_err(polars_err)?.clone();
        let lu = col("lu_us")?.i64().map_err(polars_err)?.clone();
        let file = col("file")?.u32().map_err(polars_err)?.clone();
        for i in 0..df.height() {
            let (Some(id), Some(p), Some(lu), Some(f)) =
                (ids.get(i), patients.get(i), lu.get(i), file.get(i))
            else {
                return Err(CopyError::Damaged("an index row is incomplete".into()));
            };
            if !self.meta.files.contains_key(&f) {
                return Err(CopyError::Damaged(format!(
                    "the index names a missing file {f}"
                )));
            }
            let code = self.code_index(codes.get(i).unwrap_or_default());
            self.index.insert(
                id,
                Held {
                    patient_id: p,
                    code,
                    t_us: t.get(i),
                    lu_us: lu,
                    file: f,
                },
            );
        }
        Ok(())
    }

    /// Removes files a crash left behind (not listed in `copy.age`).
    fn remove_strays(&self) {
        let Ok(entries) = std::fs::read_dir(&self.dir) else {
            return;
        };
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            let keep = name == "copy.age"
                || self
                    .meta
                    .index_file
                    .is_some_and(|n| name == format!("index-{n}.age"))
                || self.meta.files.keys().any(|n| name == format!("f-{n}.age"));
            if !keep {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// A study's copy as listed for the user: which, how big, when synced (no need for the key).
#[derive(Clone, Debug, Serialize)]
pub struct CopyListing {
    pub server_dir: String,
    pub study_id: u64,
    pub dir: PathBuf,
    pub bytes: u64,
}

/// Every copy under `root`.
pub fn list_copies(root: &Path) -> Vec<CopyListing> {
    let mut out = Vec::new();
    let Ok(servers) = std::fs::read_dir(root.join("copies")) else {
        return out;
    };
    for s in servers.flatten() {
        let Ok(studies) = std::fs::read_dir(s.path()) else {
            continue;
        };
        for st in studies.flatten() {
            let name = st.file_name().to_string_lossy().to_string();
            let Some(id) = name.strip_prefix("study-").and_then(|i| i.parse().ok()) else {
                continue;
            };
            if st.path().join("copy.age").is_file() {
                out.push(CopyListing {
                    server_dir: s.file_name().to_string_lossy().to_string(),
                    study_id: id,
                    bytes: dir_size(&st.path()),
                    dir: st.path(),
                });
            }
        }
    }
    out.sort_by(|a, b| (&a.server_dir, a.study_id).cmp(&(&b.server_dir, b.study_id)));
    out
}

/// Deletes a copy's folder (every file in it is the copy's).
pub fn remove_dir(dir: &Path) -> Result<(), CopyError> {
    match std::fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(io(e)),
    }
}

fn dir_size(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|es| {
            es.flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

fn restrict_dir(dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests;
