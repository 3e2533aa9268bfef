//! Where an export's files are while it is written and when it is read back: a folder on disk
//! ([`Store::Disk`]), or memory only ([`Store::Memory`]) for an encrypted export, which is made in
//! memory and sealed into one age file at the end ([`super::sealed`]), and opened into memory
//! again for review — so its plaintext never touches the disk.
//!
//! The writer ([`super::Export`]) and the reader ([`super::read`]) do every file operation
//! through a `Store`; only the disk side does fsyncs, permissions and renames of real files.
//! In memory a folder is only a prefix of its files' paths.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Cursor, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use polars::io::mmap::MmapBytesReader;
use polars::prelude::*;
use sha2::{Digest, Sha256};

use super::files::{self, hex, HashingWriter, Written};
use super::{io_err, ExportError};

/// The most an export made in memory may hold (parts and final files together): an encrypted
/// export of a study larger than this fails with a plain message instead of exhausting memory.
pub const MEMORY_CAP_BYTES: u64 = 4 << 30;

/// Where the files are.
#[derive(Clone, Default)]
pub enum Store {
    #[default]
    Disk,
    Memory(Arc<MemFiles>),
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::Disk => f.write_str("Disk"),
            Store::Memory(m) => write!(f, "Memory({} bytes)", m.bytes()),
        }
    }
}

/// The files of an export held in memory (path → contents), with a cap on their total size.
pub struct MemFiles {
    inner: Mutex<MemInner>,
    cap: u64,
}

#[derive(Default)]
struct MemInner {
    files: BTreeMap<PathBuf, Arc<[u8]>>,
    dirs: BTreeSet<PathBuf>,
    bytes: u64,
}

impl MemFiles {
    fn lock(&self) -> MutexGuard<'_, MemInner> {
        // A panic while holding the lock leaves consistent maps: take them as they are.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Bytes held.
    pub fn bytes(&self) -> u64 {
        self.lock().bytes
    }

    /// The files below `dir` (every depth), sorted, with their contents.
    pub fn files_below(&self, dir: &Path) -> Vec<(PathBuf, Arc<[u8]>)> {
        let g = self.lock();
        g.files
            .iter()
            .filter(|(p, _)| p.starts_with(dir))
            .map(|(p, b)| (p.clone(), b.clone()))
            .collect()
    }

    fn too_large(&self) -> io::Error {
        io::Error::other(format!(
            "an encrypted export is made in memory, and this one is larger than {} GiB: export fewer participants, types or days at a time",
            self.cap >> 30
        ))
    }

    /// Stores a file (replacing one of that path); fails when the cap would be passed.
    pub fn put(&self, path: &Path, bytes: Vec<u8>) -> io::Result<()> {
        let mut g = self.lock();
        let old = g.files.get(path).map_or(0, |b| b.len() as u64);
        let total = g.bytes - old + bytes.len() as u64;
        if total > self.cap {
            return Err(self.too_large());
        }
        g.bytes = total;
        g.files.insert(path.to_path_buf(), Arc::from(bytes));
        Ok(())
    }

    fn get(&self, path: &Path) -> io::Result<Arc<[u8]>> {
        self.lock()
            .files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "no such file"))
    }

    /// Room left under the cap.
    fn room(&self) -> u64 {
        self.cap.saturating_sub(self.lock().bytes)
    }
}

/// What a file of the export is written into.
pub(super) enum Target {
    File(BufWriter<File>),
    /// The bytes so far and the most they may grow to.
    Memory(Vec<u8>, u64),
}

impl Write for Target {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Target::File(w) => w.write(buf),
            Target::Memory(v, room) => {
                if (v.len() + buf.len()) as u64 > *room {
                    return Err(io::Error::other(
                        "an encrypted export is made in memory, and this one is too large for it: export fewer participants, types or days at a time",
                    ));
                }
                v.extend_from_slice(buf);
                Ok(buf.len())
            }
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Target::File(w) => w.flush(),
            Target::Memory(..) => Ok(()),
        }
    }
}

impl Store {
    /// A new, empty store in memory.
    pub fn memory() -> Store {
        Store::memory_with_cap(MEMORY_CAP_BYTES)
    }

    pub(super) fn memory_with_cap(cap: u64) -> Store {
        Store::Memory(Arc::new(MemFiles {
            inner: Mutex::new(MemInner::default()),
            cap,
        }))
    }

    pub fn is_memory(&self) -> bool {
        matches!(self, Store::Memory(_))
    }

    /// Creates a folder and its parents (0700 on disk, see [`files::create_private_dir_all`]).
    pub(super) fn create_dir_all(&self, path: &Path) -> io::Result<()> {
        match self {
            Store::Disk => files::create_private_dir_all(path),
            Store::Memory(m) => {
                m.lock().dirs.insert(path.to_path_buf());
                Ok(())
            }
        }
    }

    /// Whether a file or folder is at `path`.
    pub(super) fn exists(&self, path: &Path) -> bool {
        match self {
            Store::Disk => fs::symlink_metadata(path).is_ok(),
            Store::Memory(m) => {
                let g = m.lock();
                g.dirs.contains(path) || g.files.keys().any(|p| p.starts_with(path))
            }
        }
    }

    pub(super) fn is_file(&self, path: &Path) -> bool {
        match self {
            Store::Disk => path.is_file(),
            Store::Memory(m) => m.lock().files.contains_key(path),
        }
    }

    pub(super) fn is_dir(&self, path: &Path) -> bool {
        match self {
            Store::Disk => path.is_dir(),
            Store::Memory(_) => self.exists(path) && !self.is_file(path),
        }
    }

    /// Whether `path` is a folder itself, not a link to one.
    pub(super) fn is_dir_not_link(&self, path: &Path) -> bool {
        match self {
            Store::Disk => fs::symlink_metadata(path).is_ok_and(|m| m.is_dir()),
            Store::Memory(_) => self.is_dir(path),
        }
    }

    /// Removes a file; a missing one is not an error.
    pub(super) fn remove_file(&self, path: &Path) {
        match self {
            Store::Disk => {
                let _ = fs::remove_file(path);
            }
            Store::Memory(m) => {
                let mut g = m.lock();
                if let Some(b) = g.files.remove(path) {
                    g.bytes -= b.len() as u64;
                }
            }
        }
    }

    /// Removes a folder and everything in it.
    pub(super) fn remove_dir_all(&self, path: &Path) -> io::Result<()> {
        match self {
            Store::Disk => fs::remove_dir_all(path),
            Store::Memory(m) => {
                let mut g = m.lock();
                let gone: Vec<PathBuf> = (g.files.keys())
                    .filter(|p| p.starts_with(path))
                    .cloned()
                    .collect();
                for p in gone {
                    if let Some(b) = g.files.remove(&p) {
                        g.bytes -= b.len() as u64;
                    }
                }
                g.dirs.retain(|d| !d.starts_with(path));
                Ok(())
            }
        }
    }

    /// Moves a file or a folder (with everything in it) to `to`.
    pub(super) fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        match self {
            Store::Disk => fs::rename(from, to),
            Store::Memory(m) => {
                let mut g = m.lock();
                let moved: Vec<PathBuf> = (g.files.keys())
                    .filter(|p| p.starts_with(from))
                    .cloned()
                    .collect();
                if moved.is_empty() && !g.dirs.contains(from) {
                    return Err(io::Error::new(io::ErrorKind::NotFound, "nothing to move"));
                }
                for p in moved {
                    if let (Some(b), Ok(rest)) = (g.files.remove(&p), p.strip_prefix(from)) {
                        let dest = if rest.as_os_str().is_empty() {
                            to.to_path_buf()
                        } else {
                            to.join(rest)
                        };
                        g.files.insert(dest, b);
                    }
                }
                let dirs: Vec<PathBuf> = g
                    .dirs
                    .iter()
                    .filter(|d| d.starts_with(from))
                    .cloned()
                    .collect();
                for d in dirs {
                    g.dirs.remove(&d);
                    if let Ok(rest) = d.strip_prefix(from) {
                        g.dirs.insert(to.join(rest));
                    }
                }
                Ok(())
            }
        }
    }

    /// The entries of a folder (files and folders directly in it), unsorted.
    pub(super) fn list(&self, dir: &Path) -> io::Result<Vec<PathBuf>> {
        match self {
            Store::Disk => Ok(fs::read_dir(dir)?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .collect()),
            Store::Memory(m) => {
                let g = m.lock();
                let mut out = BTreeSet::new();
                for p in g.files.keys().chain(&g.dirs) {
                    if let Ok(rest) = p.strip_prefix(dir) {
                        if let Some(first) = rest.components().next() {
                            out.insert(dir.join(first));
                        }
                    }
                }
                Ok(out.into_iter().collect())
            }
        }
    }

    /// Makes renames in `dir` durable (disk only).
    pub(super) fn sync_dir(&self, dir: &Path) {
        if let Store::Disk = self {
            files::sync_dir(dir);
        }
    }

    /// A reader of the whole file, for polars.
    pub(super) fn open(&self, path: &Path) -> io::Result<Box<dyn MmapBytesReader>> {
        Ok(match self {
            Store::Disk => Box::new(File::open(path)?),
            Store::Memory(m) => Box::new(Cursor::new(m.get(path)?)),
        })
    }

    /// The file's contents, at most `max` bytes of them.
    pub(super) fn read_capped(&self, path: &Path, max: u64) -> io::Result<Vec<u8>> {
        match self {
            Store::Disk => {
                let mut bytes = Vec::new();
                File::open(path)?.take(max).read_to_end(&mut bytes)?;
                Ok(bytes)
            }
            Store::Memory(m) => {
                let b = m.get(path)?;
                Ok(b[..b.len().min(max as usize)].to_vec())
            }
        }
    }

    /// The file's size in bytes.
    pub(super) fn len(&self, path: &Path) -> io::Result<u64> {
        match self {
            Store::Disk => fs::metadata(path).map(|m| m.len()),
            Store::Memory(m) => m.get(path).map(|b| b.len() as u64),
        }
    }

    /// SHA-256 of a file's contents, lowercase hex.
    pub(super) fn sha256(&self, path: &Path) -> io::Result<String> {
        match self {
            Store::Disk => files::sha256_file(path),
            Store::Memory(m) => Ok(hex(&Sha256::digest(&*m.get(path)?))),
        }
    }

    pub(super) fn read_parquet(&self, path: &Path) -> Result<DataFrame, ExportError> {
        let r = self.open(path).map_err(io_err("open", path))?;
        Ok(ParquetReader::new(r).finish()?)
    }

    /// Only `columns` of a Parquet file.
    pub(super) fn read_parquet_columns(
        &self,
        path: &Path,
        columns: &[&str],
    ) -> Result<DataFrame, ExportError> {
        let r = self.open(path).map_err(io_err("open", path))?;
        Ok(ParquetReader::new(r)
            .with_columns(Some(columns.iter().map(|c| c.to_string()).collect()))
            .finish()?)
    }

    pub(super) fn read_parquet_schema(&self, path: &Path) -> Result<Schema, ExportError> {
        let r = self.open(path).map_err(io_err("open", path))?;
        let arrow = ParquetReader::new(r).schema()?;
        Ok(Schema::from_arrow_schema(&arrow))
    }

    /// Writes a part file (see [`files::write_part`]).
    pub(super) fn write_part(&self, path: &Path, df: &mut DataFrame) -> Result<(), ExportError> {
        match self {
            Store::Disk => files::write_part(path, df),
            Store::Memory(m) => {
                let mut w = Target::Memory(Vec::new(), m.room());
                ParquetWriter::new(&mut w)
                    .with_compression(ParquetCompression::Uncompressed)
                    .finish(df)?;
                let Target::Memory(bytes, _) = w else {
                    unreachable!("made as memory above")
                };
                m.put(path, bytes).map_err(io_err("write", path))
            }
        }
    }

    /// Writes `path` whole: on disk atomically (a temporary file `tmp_name` in `tmp_dir`,
    /// fsynced, renamed: [`files::write_atomic`]); in memory it appears once `fill` succeeded.
    pub(super) fn write_atomic(
        &self,
        tmp_dir: &Path,
        tmp_name: &str,
        path: &Path,
        fill: impl FnOnce(&mut HashingWriter<Target>) -> Result<(), ExportError>,
    ) -> Result<Written, ExportError> {
        match self {
            Store::Disk => files::write_atomic(tmp_dir, tmp_name, path, fill),
            Store::Memory(m) => {
                let mut w = HashingWriter::new(Target::Memory(Vec::new(), m.room()));
                fill(&mut w)?;
                let (target, written) = w.finish();
                let Target::Memory(bytes, _) = target else {
                    unreachable!("made as memory above")
                };
                m.put(path, bytes).map_err(io_err("write", path))?;
                Ok(written)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_memory_store_moves_folders_with_their_files_and_keeps_to_its_cap() {
        let s = Store::memory_with_cap(100);
        let Store::Memory(m) = &s else { unreachable!() };
        m.put(Path::new("a/t/x/part-0.parquet"), vec![1; 10])
            .unwrap();
        m.put(Path::new("a/t/y/part-0.parquet"), vec![2; 10])
            .unwrap();
        m.put(Path::new("a/other.csv"), vec![3; 10]).unwrap();
        s.rename(Path::new("a/t"), Path::new("out/t")).unwrap();
        assert!(s.is_file(Path::new("out/t/x/part-0.parquet")));
        assert!(!s.exists(Path::new("a/t")));
        assert!(s.is_dir(Path::new("out/t")));
        let mut listed = s.list(Path::new("out/t")).unwrap();
        listed.sort();
        assert_eq!(listed, [PathBuf::from("out/t/x"), PathBuf::from("out/t/y")]);
        assert_eq!(m.bytes(), 30);
        assert!(
            m.put(Path::new("big"), vec![0; 71]).is_err(),
            "over the cap"
        );
        s.remove_dir_all(Path::new("out")).unwrap();
        assert_eq!(m.bytes(), 10);
        assert_eq!(
            s.read_capped(Path::new("a/other.csv"), 4).unwrap(),
            vec![3; 4]
        );
        let w = s
            .write_atomic(Path::new("tmp"), "t", Path::new("a/new.json"), |w| {
                w.write_all(b"{}")
                    .map_err(io_err("write", Path::new("a/new.json")))
            })
            .unwrap();
        assert_eq!(w.bytes, 2);
        assert_eq!(w.sha256, s.sha256(Path::new("a/new.json")).unwrap());
        let too_big = s.write_atomic(Path::new("tmp"), "t", Path::new("a/huge"), |w| {
            w.write_all(&[0; 200])
                .map_err(io_err("write", Path::new("a/huge")))
        });
        assert!(too_big.is_err());
        assert!(
            !s.exists(Path::new("a/huge")),
            "a failed write leaves nothing"
        );
    }
}
