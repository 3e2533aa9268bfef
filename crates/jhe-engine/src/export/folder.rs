//! Where an export goes: never into a folder that already holds other files. The folder the
//! user chose is used when it is empty (or missing), or when it holds an unfinished run of the
//! same export (which is resumed); otherwise the export goes into a new subfolder named after
//! the study and the time, and an unfinished run of the same export in such a subfolder is
//! found and resumed. So a second export can neither overwrite an earlier one's files nor leave
//! them mixed with its own.
//!
//! An export the user gives up on can be found ([`unfinished`]) and what it downloaded deleted
//! ([`discard_unfinished`]), so no participant data is left behind in a hidden folder.

use std::fs;
use std::path::{Path, PathBuf};

use super::files::read_json;
use super::state::{Fingerprint, StateFile};
use super::{ExportSpec, PARTIAL_DIR};

/// Subfolders looked at for an unfinished run (a folder of exports may hold many).
const SUBFOLDERS_SCANNED: usize = 1000;

/// Whether `dir` holds an unfinished export with this fingerprint.
fn resumable(dir: &Path, fp: &Fingerprint) -> bool {
    read_json::<StateFile>(&dir.join(PARTIAL_DIR).join("state.json"))
        .is_ok_and(|s| s.fingerprint == *fp)
}

/// True when `dir` has nothing in it but (possibly) an unfinished export's state.
fn holds_nothing(dir: &Path) -> std::io::Result<bool> {
    for e in fs::read_dir(dir)? {
        if e?.file_name() != PARTIAL_DIR {
            return Ok(false);
        }
    }
    Ok(true)
}

/// The subfolder name for a new export: `study-30006_2026-12-02_1415` (local time).
pub(super) fn subfolder_name(spec: &ExportSpec) -> String {
    let when = chrono::Local::now().format("%Y-%m-%d_%H%M");
    match spec.study_id {
        Some(id) => format!("study-{id}_{when}"),
        None => format!("export_{when}"),
    }
}

/// The folder this export writes into (see the module docs). `chosen` may not exist yet.
pub(super) fn choose(chosen: &Path, spec: &ExportSpec) -> std::io::Result<PathBuf> {
    if !chosen.exists() {
        return Ok(chosen.to_path_buf());
    }
    let fp = Fingerprint::of(spec);
    if resumable(chosen, &fp) {
        return Ok(chosen.to_path_buf());
    }
    if holds_nothing(chosen)? {
        return Ok(chosen.to_path_buf());
    }
    let mut subdirs: Vec<PathBuf> = fs::read_dir(chosen)?
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .map(|e| e.path())
        .take(SUBFOLDERS_SCANNED)
        .collect();
    subdirs.sort();
    if let Some(d) = subdirs.into_iter().rev().find(|d| resumable(d, &fp)) {
        return Ok(d);
    }
    let base = subfolder_name(spec);
    let mut path = chosen.join(&base);
    let mut n = 2;
    while path.exists() {
        path = chosen.join(format!("{base}-{n}"));
        n += 1;
    }
    Ok(path)
}

/// An unfinished export: the folder it writes into and what it downloaded so far.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unfinished {
    pub folder: PathBuf,
    /// When it started (ISO 8601, UTC).
    pub started: String,
    /// Bytes downloaded and kept for resuming.
    pub bytes: u64,
}

/// The state of an unfinished export in `dir`, if `dir` holds one (a real folder, not a link).
fn unfinished_in(dir: &Path) -> Option<Unfinished> {
    let partial = dir.join(PARTIAL_DIR);
    if !fs::symlink_metadata(&partial).is_ok_and(|m| m.is_dir()) {
        return None;
    }
    let state = read_json::<StateFile>(&partial.join("state.json")).ok()?;
    Some(Unfinished {
        folder: dir.to_path_buf(),
        started: state.created_at,
        bytes: size_of(&partial, 3),
    })
}

/// Bytes of the files under `dir`, `depth` levels down at most; links are not followed.
fn size_of(dir: &Path, depth: u32) -> u64 {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| Some((e.path(), fs::symlink_metadata(e.path()).ok()?)))
        .map(|(p, m)| match () {
            _ if m.is_file() => m.len(),
            _ if m.is_dir() && depth > 0 => size_of(&p, depth - 1),
            _ => 0,
        })
        .sum()
}

/// The unfinished exports in the folder the user chose and in its subfolders (where exports
/// into a folder that held other files went), newest subfolder first.
pub fn unfinished(chosen: &Path) -> Vec<Unfinished> {
    let mut found: Vec<Unfinished> = unfinished_in(chosen).into_iter().collect();
    let mut subdirs: Vec<PathBuf> = fs::read_dir(chosen)
        .map(|rd| {
            rd.filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| e.path())
                .take(SUBFOLDERS_SCANNED)
                .collect()
        })
        .unwrap_or_default();
    subdirs.sort();
    found.extend(subdirs.iter().rev().filter_map(|d| unfinished_in(d)));
    found
}

/// Deletes what an unfinished export downloaded (its hidden `.jhe-partial` folder), and its
/// folder too when nothing else is left there. Returns the bytes deleted.
pub fn discard_unfinished(u: &Unfinished) -> std::io::Result<u64> {
    let Some(now) = unfinished_in(&u.folder) else {
        return Ok(0);
    };
    fs::remove_dir_all(u.folder.join(PARTIAL_DIR))?;
    if fs::read_dir(&u.folder)?.next().is_none() {
        fs::remove_dir(&u.folder)?;
    }
    Ok(now.bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{Format, Layout};

    fn spec(dir: &Path) -> ExportSpec {
        ExportSpec::new(
            dir,
            Format::Csv,
            Layout::PerType,
            "https://jhe.example.org",
            Some(30006),
        )
    }

    fn plant_state(dir: &Path, spec: &ExportSpec) {
        let p = dir.join(PARTIAL_DIR);
        fs::create_dir_all(&p).expect("mkdir");
        let state = StateFile {
            fingerprint: Fingerprint::of(spec),
            created_at: "2026-12-01T00:00:00Z".into(),
        };
        fs::write(
            p.join("state.json"),
            serde_json::to_vec(&state).expect("JSON"),
        )
        .expect("write");
    }

    #[test]
    fn an_empty_or_new_folder_is_used_as_it_is() {
        let t = tempfile::tempdir().expect("tmp");
        let s = spec(t.path());
        assert_eq!(choose(t.path(), &s).expect("choose"), t.path());
        let new = t.path().join("new");
        assert_eq!(choose(&new, &s).expect("choose"), new);
    }

    #[test]
    fn a_folder_with_other_files_gets_a_new_subfolder_each_time() {
        let t = tempfile::tempdir().expect("tmp");
        fs::write(t.path().join("blood_pressure.csv"), "old demo export").expect("write");
        let s = spec(t.path());
        let a = choose(t.path(), &s).expect("choose");
        assert_eq!(a.parent(), Some(t.path()));
        let name = a.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(name.starts_with("study-30006_"), "{name}");
        fs::create_dir_all(&a).expect("mkdir");
        let b = choose(t.path(), &s).expect("choose");
        assert_ne!(
            a, b,
            "a second export does not reuse the first one's subfolder"
        );
    }

    #[test]
    fn an_unfinished_run_of_the_same_export_is_resumed_where_it_is() {
        let t = tempfile::tempdir().expect("tmp");
        fs::write(t.path().join("notes.txt"), "mine").expect("write");
        let s = spec(t.path());
        let sub = t.path().join("study-30006_2026-12-01_0900");
        plant_state(&sub, &s);
        assert_eq!(choose(t.path(), &s).expect("choose"), sub);
        plant_state(t.path(), &s);
        assert_eq!(choose(t.path(), &s).expect("choose"), t.path());
        // Another export (other dates) does not resume it.
        let mut other = s.clone();
        other.date_from = Some("2026-01-01".into());
        fs::remove_dir_all(t.path().join(PARTIAL_DIR)).expect("rm");
        let c = choose(t.path(), &other).expect("choose");
        assert_ne!(c, sub);
        assert_ne!(c, t.path());
    }

    #[test]
    fn unfinished_exports_are_found_and_what_they_downloaded_is_deleted() {
        let t = tempfile::tempdir().expect("tmp");
        fs::write(t.path().join("notes.txt"), "mine").expect("write");
        let s = spec(t.path());
        let sub = t.path().join("study-30006_2026-12-01_0900");
        plant_state(&sub, &s);
        fs::create_dir_all(sub.join(PARTIAL_DIR).join("parts")).expect("mkdir");
        fs::write(sub.join(PARTIAL_DIR).join("parts/u1.parquet"), [7u8; 1000]).expect("write");
        plant_state(t.path(), &s);
        let found = unfinished(t.path());
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].folder, t.path());
        assert_eq!(found[1].folder, sub);
        assert!(found[1].bytes >= 1000, "{found:?}");
        assert!(discard_unfinished(&found[1]).expect("discard") >= 1000);
        assert!(!sub.exists(), "the subfolder held nothing else and is gone");
        discard_unfinished(&found[0]).expect("discard");
        assert!(!t.path().join(PARTIAL_DIR).exists());
        assert!(
            t.path().join("notes.txt").exists(),
            "the user's own files stay"
        );
        assert!(unfinished(t.path()).is_empty());
        assert_eq!(discard_unfinished(&found[0]).expect("again"), 0);
    }

    #[cfg(unix)]
    #[test]
    fn a_linked_partial_folder_is_not_followed() {
        let t = tempfile::tempdir().expect("tmp");
        let elsewhere = tempfile::tempdir().expect("tmp");
        let s = spec(elsewhere.path());
        plant_state(elsewhere.path(), &s);
        std::os::unix::fs::symlink(
            elsewhere.path().join(PARTIAL_DIR),
            t.path().join(PARTIAL_DIR),
        )
        .expect("link");
        assert!(unfinished(t.path()).is_empty());
        assert!(elsewhere
            .path()
            .join(PARTIAL_DIR)
            .join("state.json")
            .exists());
    }
}
