//! Unit tests of the local copy's storage: commits, crash leftovers, removal, compaction,
//! what is on disk.

use super::*;

fn row(id: u64, patient: u64, lu_us: i64, value: u32) -> Row {
    Row {
        id,
        patient_id: patient,
        system: "https://w3id.org/openmhealth".into(),
        code: "omh:heart-rate:2.0".into(),
        last_updated: crate::omh::time::iso_z(lu_us),
        lu_us,
        t_us: Some(lu_us - 1_000_000),
        omh: format!(r#"{{"body":{{"heart_rate":{{"value":{value},"unit":"beats/min"}}}}}}"#),
        envelope: "{}".into(),
    }
}

fn fresh() -> (tempfile::TempDir, CopyKey, LocalCopy) {
    let tmp = tempfile::tempdir().expect("tmp");
    let key = CopyKey::generate();
    let dir = LocalCopy::dir_of(tmp.path(), "http://127.0.0.1:1", 30006);
    let copy = LocalCopy::open_or_new(&dir, key.clone(), "http://127.0.0.1:1", 30006).expect("new");
    (tmp, key, copy)
}

#[test]
fn what_is_applied_is_there_after_reopening_with_newer_versions_winning() {
    let (_t, key, mut copy) = fresh();
    copy.apply(vec![row(1, 40001, 10, 60), row(2, 40002, 11, 61)], &[])
        .expect("apply");
    copy.apply(vec![row(2, 40002, 12, 99), row(3, 40001, 13, 62)], &[1])
        .expect("apply");
    let dir = copy.dir().to_path_buf();
    let again = LocalCopy::open(&dir, key).expect("open").expect("exists");
    assert_eq!(again.len(), 2);
    let p2 = again.participant_rows(40002).expect("rows");
    assert_eq!(p2.len(), 1);
    assert!(p2[0].omh.contains("99"), "the newer version of 2 wins");
    assert_eq!(
        again
            .participant_rows(40001)
            .expect("rows")
            .iter()
            .map(|r| r.id)
            .collect::<Vec<_>>(),
        [3]
    );
    let s = again.summary();
    assert_eq!(s[&40001]["omh:heart-rate:2.0"].count, 1);
}

#[test]
fn compaction_keeps_every_row_and_leaves_one_file_per_participant() {
    let (_t, key, mut copy) = fresh();
    for i in 0..30u64 {
        copy.apply(vec![row(i, 40001 + i % 3, i as i64 * 10, i as u32)], &[])
            .expect("apply");
    }
    copy.compact().expect("compact");
    assert_eq!(copy.meta.files.len(), 3);
    assert!(copy.meta.files.values().all(|f| f.patient.is_some()));
    let again = LocalCopy::open(copy.dir(), key)
        .expect("open")
        .expect("exists");
    assert_eq!(again.len(), 30);
    assert_eq!(again.participant_rows(40002).expect("rows").len(), 10);
    let names: Vec<String> = std::fs::read_dir(again.dir())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert_eq!(names.len(), 5, "copy.age, the index and 3 files: {names:?}");
}

#[test]
fn files_a_crash_left_behind_are_removed_and_the_last_commit_stands() {
    let (_t, key, mut copy) = fresh();
    copy.apply(vec![row(1, 40001, 10, 60)], &[]).expect("apply");
    // A crash after writing a data file and an index, before copy.age was replaced.
    std::fs::write(copy.dir().join("f-999.age"), b"half").expect("write");
    std::fs::write(copy.dir().join("index-998.age"), b"half").expect("write");
    let again = LocalCopy::open(copy.dir(), key)
        .expect("open")
        .expect("exists");
    assert_eq!(again.len(), 1);
    assert!(!again.dir().join("f-999.age").exists());
    assert!(!again.dir().join("index-998.age").exists());
}

#[test]
fn another_key_cannot_open_a_copy_and_says_what_to_do() {
    let (_t, _key, mut copy) = fresh();
    copy.apply(vec![row(1, 40001, 10, 60)], &[]).expect("apply");
    let e = LocalCopy::open(copy.dir(), CopyKey::generate())
        .err()
        .expect("refused");
    assert!(matches!(e, CopyError::WrongKey));
    assert!(e.to_string().contains("sync the study again"));
}

#[test]
fn the_files_are_private_and_hold_no_plain_text() {
    let (_t, _key, mut copy) = fresh();
    copy.meta
        .attachments
        .insert("name".into(), serde_json::json!("Mary Smith MRN-12345"));
    copy.apply(vec![row(1, 40001, 10, 142)], &[])
        .expect("apply");
    for e in std::fs::read_dir(copy.dir()).expect("dir").flatten() {
        let bytes = std::fs::read(e.path()).expect("read");
        for needle in ["Smith", "MRN-12345", "heart_rate", "142"] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} in {:?}",
                e.path()
            );
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(e.metadata().expect("meta").permissions().mode() & 0o077, 0);
        }
    }
    let size = copy.size_bytes();
    assert!(size > 0);
    let listed = list_copies(
        copy.dir()
            .parent()
            .and_then(Path::parent)
            .and_then(Path::parent)
            .expect("root"),
    );
    assert_eq!(listed.len(), 1);
    assert_eq!((listed[0].study_id, listed[0].bytes), (30006, size));
    copy.remove().expect("remove");
}
