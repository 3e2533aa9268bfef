//! An encrypted export (`jhe export --encrypt`, "Encrypt with a passphrase" in the app): the
//! export folder as one tar archive inside an age file encrypted to a passphrase (age's scrypt
//! recipient), `study-30006_2026-12-03_0915.tar.age`.
//!
//! The export is made in memory ([`Store::Memory`]) and streamed through tar and age into a
//! temporary file beside the destination, which is fsynced and renamed: the only bytes that
//! reach the disk are ciphertext. Standard tools open it (`age -d FILE.tar.age | tar x`; age
//! asks for the passphrase), and [`open_sealed`] reads it back into memory for offline review,
//! with caps on its size and every path confined to the archive's one folder.

use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use age::secrecy::SecretString;

use super::files::{create_private, create_private_dir_all, sync_dir};
use super::read::ReadError;
use super::store::{Store, MEMORY_CAP_BYTES};
use super::{io_err, ExportError};

/// The end of an encrypted export's file name.
pub const SEALED_SUFFIX: &str = ".tar.age";

/// The fewest characters a passphrase may have.
pub const MIN_PASSPHRASE_CHARS: usize = 8;

/// The most files an encrypted export may hold when read back (a partitioned export of a
/// large study has one per participant and type).
const MAX_ENTRIES: usize = 200_000;

/// How deep an archive's paths may go (`folder/table/study_id=…/patient_id=…/part-0.parquet`).
const MAX_DEPTH: usize = 8;

/// The passphrase of an encrypted export; never printed, serialized or logged.
#[derive(Clone)]
pub struct Passphrase(SecretString);

impl std::fmt::Debug for Passphrase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Passphrase(…)")
    }
}

impl PartialEq for Passphrase {
    fn eq(&self, other: &Passphrase) -> bool {
        use age::secrecy::ExposeSecret;
        self.0.expose_secret() == other.0.expose_secret()
    }
}

impl Passphrase {
    /// A passphrase to encrypt with: at least [`MIN_PASSPHRASE_CHARS`] characters.
    pub fn new(text: &str) -> Result<Passphrase, ExportError> {
        if text.chars().count() < MIN_PASSPHRASE_CHARS {
            return Err(ExportError::ShortPassphrase(MIN_PASSPHRASE_CHARS));
        }
        Ok(Passphrase::to_open(text))
    }

    /// A passphrase to open an export with (any length: it is checked by decrypting).
    pub fn to_open(text: &str) -> Passphrase {
        Passphrase(SecretString::from(text.to_string()))
    }
}

/// Whether `path` names an encrypted export (by its name).
pub fn is_sealed(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.to_ascii_lowercase().ends_with(".age"))
}

/// The file an encrypted export of `stem` goes to in the folder `chosen`
/// (`chosen/<stem>.tar.age`, or `<stem>-2.tar.age`, … when taken), and the name of the folder
/// inside the archive.
pub(super) fn target(chosen: &Path, stem: &str) -> (PathBuf, PathBuf) {
    let mut n = 1;
    loop {
        let name = if n == 1 {
            stem.to_string()
        } else {
            format!("{stem}-{n}")
        };
        let file = chosen.join(format!("{name}{SEALED_SUFFIX}"));
        if fs::symlink_metadata(&file).is_err() || n > 10_000 {
            return (file, PathBuf::from(name));
        }
        n += 1;
    }
}

/// Writes `files` (paths below `root`, from memory) as a tar archive inside an age file for
/// `pass` to `dest`, through a temporary file beside it (0600, fsynced, renamed). Returns the
/// size of the file written.
pub(super) fn seal(
    files: &[(PathBuf, Arc<[u8]>)],
    root: &Path,
    dest: &Path,
    pass: &Passphrase,
) -> Result<u64, ExportError> {
    let dir = match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    create_private_dir_all(&dir).map_err(io_err("create folder", &dir))?;
    let name = dest
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let res = (|| {
        let f = create_private(&tmp).map_err(io_err("create", &tmp))?;
        let age = age::Encryptor::with_user_passphrase(pass.0.clone())
            .wrap_output(BufWriter::with_capacity(1 << 20, f))
            .map_err(io_err("encrypt", &tmp))?;
        let mut tar = tar::Builder::new(age);
        let mtime = chrono::Utc::now().timestamp().max(0) as u64;
        let mut folders = std::collections::BTreeSet::new();
        for (path, bytes) in files {
            // each folder once, before its first file, so `tar x` makes it 0700
            for a in path.ancestors().skip(1) {
                if a.starts_with(root) && folders.insert(a.to_path_buf()) {
                    let mut h = tar::Header::new_gnu();
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(0o700);
                    h.set_mtime(mtime);
                    h.set_size(0);
                    tar.append_data(&mut h, a, io::empty())
                        .map_err(io_err("write", &tmp))?;
                }
            }
            let mut h = tar::Header::new_gnu();
            h.set_mode(0o600);
            h.set_mtime(mtime);
            h.set_size(bytes.len() as u64);
            tar.append_data(&mut h, path, &bytes[..])
                .map_err(io_err("write", &tmp))?;
        }
        let age = tar.into_inner().map_err(io_err("write", &tmp))?;
        let mut buffered = age.finish().map_err(io_err("encrypt", &tmp))?;
        buffered.flush().map_err(io_err("write", &tmp))?;
        let f = buffered.into_inner().map_err(|e| ExportError::Io {
            op: "write",
            path: tmp.clone(),
            source: e.into_error(),
        })?;
        f.sync_all().map_err(io_err("fsync", &tmp))?;
        let size = f.metadata().map(|m| m.len()).unwrap_or(0);
        drop(f);
        fs::rename(&tmp, dest).map_err(io_err("rename", dest))?;
        sync_dir(&dir);
        Ok(size)
    })();
    if res.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    res
}

/// One plain, relative path (no `..`, no root, no drive), at most [`MAX_DEPTH`] deep.
fn plain_path(p: &Path) -> bool {
    let mut n = 0;
    for c in p.components() {
        match c {
            Component::Normal(s) if !s.to_string_lossy().contains(['\\', ':']) => n += 1,
            Component::CurDir => {}
            _ => return false,
        }
    }
    n > 0 && n <= MAX_DEPTH
}

/// Decrypts an encrypted export with `pass` and reads its archive into memory: the store and
/// the folder (inside it) that holds the export. Links, devices and paths that would leave the
/// archive's folder are refused, as is an archive over [`MEMORY_CAP_BYTES`] or
/// [`MAX_ENTRIES`] files.
pub fn open_sealed(path: &Path, pass: &Passphrase) -> Result<(Store, PathBuf), ReadError> {
    let shown = || path.display().to_string();
    let bad = |message: String| ReadError::Sealed {
        path: shown(),
        message,
    };
    let f = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => ReadError::NotFound(shown()),
        _ => ReadError::Open {
            path: shown(),
            source,
        },
    })?;
    let d = age::Decryptor::new_buffered(BufReader::with_capacity(1 << 20, f))
        .map_err(|e| bad(format!("it is not an age file: {e}")))?;
    if !d.is_scrypt() {
        return Err(bad(
            "it is encrypted to a key, not to a passphrase".to_string()
        ));
    }
    let identity = age::scrypt::Identity::new(pass.0.clone());
    let reader = d
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|e| match e {
            age::DecryptError::DecryptionFailed | age::DecryptError::NoMatchingKeys => {
                ReadError::Passphrase(shown())
            }
            e => bad(e.to_string()),
        })?;
    let store = Store::memory_with_cap(MEMORY_CAP_BYTES);
    let Store::Memory(mem) = &store else {
        unreachable!("made in memory above")
    };
    let mut archive = tar::Archive::new(reader);
    let mut root: Option<PathBuf> = None;
    let mut count = 0usize;
    let entries = archive
        .entries()
        .map_err(|e| bad(format!("its archive cannot be read: {e}")))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| bad(format!("its archive cannot be read: {e}")))?;
        count += 1;
        if count > MAX_ENTRIES {
            return Err(bad(format!("it holds more than {MAX_ENTRIES} files")));
        }
        let p = entry
            .path()
            .map_err(|e| bad(format!("a name in it cannot be read: {e}")))?
            .into_owned();
        if !plain_path(&p) {
            return Err(bad(format!("it holds the path {p:?}, outside its folder")));
        }
        let top: PathBuf = p.components().take(1).collect();
        match &root {
            None => root = Some(top),
            Some(r) if *r == top => {}
            Some(_) => return Err(bad("it holds more than one folder".to_string())),
        }
        match entry.header().entry_type() {
            tar::EntryType::Directory => continue,
            tar::EntryType::Regular => {}
            other => {
                return Err(bad(format!(
                    "it holds {p:?}, which is a {other:?}, not a file"
                )))
            }
        }
        let size = entry.size();
        if size > MEMORY_CAP_BYTES.saturating_sub(mem.bytes()) {
            return Err(ReadError::TooLarge {
                path: shown(),
                max_mib: MEMORY_CAP_BYTES >> 20,
            });
        }
        // grown as it is read: the header's size is only a claim
        let mut bytes = Vec::with_capacity(size.min(1 << 20) as usize);
        (&mut entry)
            .take(size)
            .read_to_end(&mut bytes)
            .map_err(|e| bad(format!("{p:?} in it cannot be read: {e}")))?;
        mem.put(&p, bytes).map_err(|_| ReadError::TooLarge {
            path: shown(),
            max_mib: MEMORY_CAP_BYTES >> 20,
        })?;
    }
    let root = root.ok_or_else(|| bad("it is empty".to_string()))?;
    Ok((store, root))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_relative_paths_are_read_from_an_archive() {
        for ok in [
            "a/b.csv",
            "study-1/t/study_id=1/patient_id=2/part-0.parquet",
            "./a",
        ] {
            assert!(plain_path(Path::new(ok)), "{ok}");
        }
        for bad in [
            "../a",
            "/etc/passwd",
            "a/../../b",
            "",
            "a/b/c/d/e/f/g/h/i",
            "c:x",
        ] {
            assert!(!plain_path(Path::new(bad)), "{bad}");
        }
    }

    #[test]
    fn a_sealed_export_opens_with_its_passphrase_only() {
        let t = tempfile::tempdir().unwrap();
        let files: Vec<(PathBuf, Arc<[u8]>)> = vec![
            (PathBuf::from("x/manifest.json"), Arc::from(&b"{}"[..])),
            (
                PathBuf::from("x/t/p=1/part-0.parquet"),
                Arc::from(&b"data"[..]),
            ),
        ];
        let dest = t.path().join("x.tar.age");
        let pass = Passphrase::new("correct horse").unwrap();
        seal(&files, Path::new("x"), &dest, &pass).unwrap();
        let on_disk = fs::read(&dest).unwrap();
        assert!(on_disk.starts_with(b"age-encryption.org/v1"));
        assert!(!on_disk.windows(4).any(|w| w == b"data"));
        let (store, root) = open_sealed(&dest, &pass).unwrap();
        assert_eq!(root, PathBuf::from("x"));
        assert_eq!(
            store
                .read_capped(Path::new("x/t/p=1/part-0.parquet"), 100)
                .unwrap(),
            b"data"
        );
        let wrong = open_sealed(&dest, &Passphrase::to_open("wrong horse"));
        assert!(matches!(wrong, Err(ReadError::Passphrase(_))), "{wrong:?}");
        assert!(Passphrase::new("short").is_err());
        assert_eq!(
            fs::read_dir(t.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
