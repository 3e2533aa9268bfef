//! Atomic file I/O of the export: final files written under a temporary name, hashed while
//! written, fsynced and renamed; part files; small JSON files.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::Path;

use polars::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::store::Target;
use super::{io_err, ExportError};

/// Creates a file of the export for writing (truncating it): on Unix readable and writable by
/// its owner only (0600), so another account on a shared computer cannot read the PHI in it.
pub(super) fn create_private(path: &Path) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Opens a file of the export for appending (the journal), created 0600 on Unix.
pub(super) fn append_private(path: &Path) -> io::Result<File> {
    let mut o = fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)
}

/// Creates a folder and its missing parents; the folders it creates are 0700 on Unix (a folder
/// that already exists, such as the one the user picked, keeps its permissions).
pub(super) fn create_private_dir_all(path: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(path)
}

/// Spreadsheet formula injection (OWASP "CSV Injection"): a text cell that begins with `=`, `+`,
/// `-`, `@`, TAB or CR is run as a formula by Excel, LibreOffice and Google Sheets. Such a cell
/// gets a leading `'`, which spreadsheets show as text and hide. Numbers we write are never text
/// cells, so a negative number stays a number.
pub fn needs_formula_guard(cell: &str) -> bool {
    matches!(
        cell.as_bytes().first(),
        Some(b'=' | b'+' | b'-' | b'@' | b'\t' | b'\r')
    )
}

/// `cell`, neutralised for spreadsheets when it would start a formula (see
/// [`needs_formula_guard`]).
pub fn formula_safe(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_formula_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

pub(super) fn sync_dir(dir: &Path) {
    // Directory fsync makes renames durable on Unix; not possible (nor needed) on Windows.
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

/// A writer that hashes and counts what passes through.
pub(super) struct HashingWriter<W: Write> {
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

impl<W: Write> HashingWriter<W> {
    pub(super) fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            sha: Sha256::new(),
            bytes: 0,
        }
    }

    /// The inner writer, and what passed through.
    pub(super) fn finish(self) -> (W, Written) {
        let written = Written {
            bytes: self.bytes,
            sha256: hex(&self.sha.finalize()),
        };
        (self.inner, written)
    }
}

pub(super) struct Written {
    pub(super) bytes: u64,
    pub(super) sha256: String,
}

/// Writes `path` atomically: `fill` writes into a temp file in `tmp_dir` (same file system),
/// which is flushed, fsynced and renamed over `path`.
pub(super) fn write_atomic(
    tmp_dir: &Path,
    tmp_name: &str,
    path: &Path,
    fill: impl FnOnce(&mut HashingWriter<Target>) -> Result<(), ExportError>,
) -> Result<Written, ExportError> {
    let tmp = tmp_dir.join(tmp_name);
    let res = (|| {
        let f = create_private(&tmp).map_err(io_err("create", &tmp))?;
        let mut w = HashingWriter::new(Target::File(BufWriter::with_capacity(1 << 20, f)));
        fill(&mut w)?;
        w.flush().map_err(io_err("write", &tmp))?;
        let (target, written) = w.finish();
        let Target::File(inner) = target else {
            unreachable!("made as a file above")
        };
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
        Ok(written)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

pub(super) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of a file's contents, lowercase hex (as written in the manifest).
pub(super) fn sha256_file(path: &Path) -> std::io::Result<String> {
    let mut h = Sha256::new();
    std::io::copy(&mut File::open(path)?, &mut h)?;
    Ok(hex(&h.finalize()))
}

pub(super) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, ExportError> {
    let bytes = fs::read(path).map_err(io_err("read", path))?;
    serde_json::from_slice(&bytes).map_err(|source| ExportError::Json {
        path: path.to_path_buf(),
        source,
    })
}

pub(super) fn json_bytes<T: Serialize>(v: &T, path: &Path) -> Result<Vec<u8>, ExportError> {
    let mut out = serde_json::to_vec_pretty(v).map_err(|source| ExportError::Encode {
        path: path.to_path_buf(),
        source,
    })?;
    out.push(b'\n');
    Ok(out)
}

/// Writes a part file and fsyncs it (see the module docs for why no rename is needed). Parts
/// live only until `finish` merges them, so they are not compressed: a zstd context per part
/// cost more CPU than the whole decode of its rows.
pub(super) fn write_part(path: &Path, df: &mut DataFrame) -> Result<(), ExportError> {
    let res = (|| {
        let f = create_private(path).map_err(io_err("create", path))?;
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

/// Writes `bytes` to `path` atomically (a temporary file beside it, fsynced, renamed), readable
/// by this user only: for single files made outside an export, such as a report.
pub fn save_private(path: &Path, bytes: &[u8]) -> Result<(), ExportError> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    write_atomic(dir, &format!(".{name}.tmp"), path, |w| {
        w.write_all(bytes).map_err(io_err("write", path))
    })
    .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_that_would_start_a_formula_gets_a_leading_quote() {
        for cell in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"] {
            assert!(needs_formula_guard(cell), "{cell:?}");
            assert_eq!(formula_safe(cell), format!("'{cell}"));
        }
        for cell in [
            "",
            "Dexcom G7",
            "146",
            "2026-11-17T18:51:02Z",
            "a=b",
            "'=already",
        ] {
            assert!(!needs_formula_guard(cell), "{cell:?}");
            assert_eq!(formula_safe(cell), cell);
        }
    }
}
