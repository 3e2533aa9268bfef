//! Encrypted exports of the demo study over real HTTP: the chosen folder gets one `.tar.age`
//! file and nothing else (no plaintext staging, no `.jhe-partial`); age's own library with the
//! passphrase and a plain tar reader open it into exactly the files a plain export of the same
//! study writes (data files byte for byte, same manifest checksums); offline review opens it
//! into memory with the passphrase and reads the same observations; a wrong passphrase is
//! refused with a plain message; the partitioned layout and CSV work too.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

use crate::common::*;
use age::secrecy::SecretString;
use jhe_engine::api::Session;
use jhe_engine::cancel::CancelToken;
use jhe_engine::export::read::{open_folder, open_sealed_folder, ReadError};
use jhe_engine::export::{Format, Layout, Passphrase, SEALED_SUFFIX};
use jhe_engine::jobs::{export_study, ExportOutcome, ExportRequest};

const PASSPHRASE: &str = "correct horse battery staple";

async fn export(
    s: &Session,
    dir: &Path,
    format: Format,
    layout: Layout,
    encrypt: bool,
) -> ExportOutcome {
    let mut req = ExportRequest::new(DEMO_STUDY, dir);
    req.format = format;
    req.layout = layout;
    if encrypt {
        req.encrypt = Some(Passphrase::new(PASSPHRASE).expect("long enough"));
    }
    let out = export_study(s, req, |_| {}, CancelToken::new())
        .await
        .expect("export");
    assert!(out.complete, "{:?}", out.warnings);
    out
}

/// Decrypts `file` with age's library and reads its tar archive: path → contents.
fn decrypt_with_age(file: &Path, passphrase: &str) -> BTreeMap<String, Vec<u8>> {
    let f = std::fs::File::open(file).expect("open");
    let d = age::Decryptor::new(f).expect("an age file");
    assert!(d.is_scrypt(), "encrypted to a passphrase");
    let id = age::scrypt::Identity::new(SecretString::from(passphrase.to_string()));
    let r = d
        .decrypt(std::iter::once(&id as &dyn age::Identity))
        .expect("the passphrase opens it");
    let mut out = BTreeMap::new();
    let mut tar = tar::Archive::new(r);
    for e in tar.entries().expect("a tar archive") {
        let mut e = e.expect("an entry");
        if e.header().entry_type().is_dir() {
            continue;
        }
        let name = e.path().expect("a path").display().to_string();
        let mut bytes = Vec::new();
        e.read_to_end(&mut bytes).expect("read");
        out.insert(name, bytes);
    }
    out
}

/// The names of every file under `dir`, relative to it.
fn files_under(dir: &Path) -> Vec<String> {
    files_in(dir).into_iter().map(|(name, _)| name).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_encrypted_export_is_one_age_file_holding_exactly_the_plain_exports_files() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    for (format, layout) in [
        (Format::Parquet, Layout::PerType),
        (Format::Csv, Layout::Long),
        (Format::Parquet, Layout::Partitioned),
    ] {
        let plain_dir = tempfile::tempdir().expect("tmp");
        let sealed_dir = tempfile::tempdir().expect("tmp");
        let plain = export(&s, plain_dir.path(), format, layout, false).await;
        let sealed = export(&s, sealed_dir.path(), format, layout, true).await;

        // the chosen folder holds the one encrypted file, nothing else
        let name = sealed
            .out_dir
            .file_name()
            .expect("a file")
            .to_string_lossy()
            .to_string();
        assert!(name.starts_with(&format!("study-{DEMO_STUDY}_")), "{name}");
        assert!(name.ends_with(SEALED_SUFFIX), "{name}");
        assert_eq!(files_under(sealed_dir.path()), vec![name.clone()]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&sealed.out_dir)
                .expect("meta")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "readable by its owner only");
        }
        let raw = std::fs::read(&sealed.out_dir).expect("read");
        assert!(raw.starts_with(b"age-encryption.org/v1\n-> scrypt "));
        assert!(
            !raw.windows(12).any(|w| w == b"blood_glucos"),
            "no file name or column in the clear"
        );

        // age opens it into a folder of the same files as the plain export
        let inside = decrypt_with_age(&sealed.out_dir, PASSPHRASE);
        let folder = name.trim_end_matches(SEALED_SUFFIX).to_string();
        let plain_files = files_under(&plain.out_dir);
        let sealed_files: Vec<String> = inside
            .keys()
            .map(|k| {
                k.strip_prefix(&format!("{folder}/"))
                    .unwrap_or_else(|| panic!("{k} is inside {folder}/"))
                    .to_string()
            })
            .collect();
        assert_eq!(sealed_files, plain_files, "{format:?} {layout:?}");
        assert_eq!(plain.manifest.files.len(), sealed.manifest.files.len());
        for (a, b) in plain.manifest.files.iter().zip(&sealed.manifest.files) {
            assert_eq!((&a.name, a.rows), (&b.name, b.rows));
            if a.role == "data" {
                assert_eq!(a.sha256, b.sha256, "{} is the same file", a.name);
                let bytes = &inside[&format!("{folder}/{}", a.name)];
                let on_disk = std::fs::read(plain.out_dir.join(&a.name)).expect("read");
                assert!(*bytes == on_disk, "{} byte for byte", a.name);
            }
        }
        assert_eq!(
            plain.manifest.total_observations,
            sealed.manifest.total_observations
        );

        // offline review opens it with the passphrase, into memory
        let open = open_sealed_folder(&sealed.out_dir, &Passphrase::to_open(PASSPHRASE))
            .expect("opens with its passphrase");
        assert!(open.store.is_memory());
        assert!(open.changed.is_empty() && open.missing.is_empty());
        let reference = open_folder(&plain.out_dir).expect("plain opens");
        assert_eq!(open.files.len(), reference.files.len());
        let mut a = Vec::new();
        let mut b = Vec::new();
        for f in &open.files {
            a.extend(open.read(f).expect("reads back").obs);
        }
        for f in &reference.files {
            b.extend(reference.read(f).expect("reads back").obs);
        }
        let key = |o: &jhe_engine::chart::Obs| (o.observation_id, o.t_us);
        a.sort_by_key(key);
        b.sort_by_key(key);
        assert_eq!(a.len(), b.len());
        assert!(
            a.iter().zip(&b).all(|(x, y)| x == y),
            "the same observations"
        );

        let wrong = open_sealed_folder(&sealed.out_dir, &Passphrase::to_open("not the one"));
        match wrong {
            Err(e @ ReadError::Passphrase(_)) => {
                assert!(e.to_string().contains("passphrase does not open"), "{e}")
            }
            other => panic!("a wrong passphrase is refused: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_encrypted_export_gets_a_file_of_its_own_and_a_short_passphrase_is_refused() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let dir = tempfile::tempdir().expect("tmp");
    let first = export(&s, dir.path(), Format::Parquet, Layout::PerType, true).await;
    let second = export(&s, dir.path(), Format::Parquet, Layout::PerType, true).await;
    assert_ne!(first.out_dir, second.out_dir);
    assert_eq!(files_under(dir.path()).len(), 2);
    let e = Passphrase::new("short").expect_err("too short");
    assert!(e.to_string().contains("at least 8 characters"), "{e}");
}
