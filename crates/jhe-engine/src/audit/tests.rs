//! Unit tests of the audit log: the chain verifies, and an edit, a removal, a reordering, a seq
//! gap, a line that is not an entry and a torn last line are each found and named; appends are
//! safe from many threads; reading filters; the CSV neutralises formulas.

use std::fs;
use std::path::Path;

use chrono::NaiveDate;

use super::*;

fn draft(i: u64) -> Draft {
    let mut d = Draft::new(
        if i.is_multiple_of(2) {
            Action::Export
        } else {
            Action::Retrieve
        },
        "jhe test",
    )
    .study(30000 + i % 3)
    .participants([50000, 40000 + i])
    .types(["omh:heart-rate:2.0"])
    .window(NaiveDate::from_ymd_opt(2026, 1, 1), None)
    .rows(100 * i);
    d.who = "mary@example.org".into();
    d.server = "http://127.0.0.1:8000".into();
    d
}

fn chain(dir: &Path, n: u64) -> AuditLog {
    let log = AuditLog::at(dir.join("sub").join(AUDIT_FILE));
    for i in 1..=n {
        let e = log.append(draft(i)).expect("append");
        assert_eq!(e.seq, i);
    }
    log
}

fn lines(log: &AuditLog) -> Vec<String> {
    fs::read_to_string(log.path())
        .expect("read")
        .lines()
        .map(str::to_string)
        .collect()
}

fn write_lines(log: &AuditLog, lines: &[String]) {
    let mut s = lines.join("\n");
    s.push('\n');
    fs::write(log.path(), s).expect("write");
}

#[test]
fn a_chain_of_entries_verifies_and_each_links_to_the_one_before() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 12);
    let r = log.verify().expect("verify");
    assert!(r.ok, "{r:?}");
    assert_eq!((r.entries, r.intact, r.torn_tail), (12, 12, None));
    let entries = log.read(&Filter::default()).expect("read");
    assert_eq!(entries.len(), 12);
    assert_eq!(entries[0].prev, GENESIS);
    for w in entries.windows(2) {
        assert_eq!(w[1].prev, w[0].hash);
        assert_eq!(w[1].seq, w[0].seq + 1);
    }
    for e in &entries {
        assert_eq!(e.hash, e.compute_hash());
        assert_eq!(e.hash.len(), 64);
    }
    assert_eq!(r.last_hash.as_deref(), Some(entries[11].hash.as_str()));
    // A missing log is an empty, intact one.
    let none = verify(&tmp.path().join("nothing.jsonl")).expect("verify");
    assert!(none.ok && none.entries == 0);
}

#[cfg(unix)]
#[test]
fn the_log_is_private_to_its_user() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 1);
    let mode = |p: &Path| fs::metadata(p).expect("meta").permissions().mode() & 0o777;
    assert_eq!(mode(log.path()), 0o600);
    assert_eq!(mode(log.path().parent().expect("dir")), 0o700);
}

#[test]
fn editing_one_field_of_an_entry_names_that_line_as_edited() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 8);
    for k in [1usize, 5, 8] {
        let mut l = lines(&log);
        let original = l.clone();
        let mut v: serde_json::Value = serde_json::from_str(&l[k - 1]).expect("json");
        v["rows"] = serde_json::json!(v["rows"].as_u64().unwrap_or(0) + 1);
        l[k - 1] = v.to_string();
        write_lines(&log, &l);
        let r = log.verify().expect("verify");
        assert!(!r.ok);
        let b = r.first_break.expect("a break");
        assert_eq!(b.line, k as u64);
        assert_eq!(b.seq, Some(k as u64));
        assert_eq!(b.reason, Reason::Edited);
        assert_eq!(r.intact, k as u64 - 1);
        assert!(b.to_string().contains(&format!("line {k}")), "{b}");
        assert!(b.to_string().contains("edited"), "{b}");
        write_lines(&log, &original);
        assert!(log.verify().expect("verify").ok);
    }
}

#[test]
fn an_edit_with_a_recomputed_hash_breaks_the_next_entry() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 5);
    let mut l = lines(&log);
    let mut e: Entry = serde_json::from_str(&l[2]).expect("entry");
    e.participants = vec![1];
    e.hash = e.compute_hash();
    l[2] = serde_json::to_string(&e).expect("json");
    write_lines(&log, &l);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!((b.line, b.seq, b.reason), (4, Some(4), Reason::Unchained));
}

#[test]
fn deleting_or_reordering_entries_names_the_break() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 6);
    let original = lines(&log);

    let mut l = original.clone();
    l.remove(2); // entry 3
    write_lines(&log, &l);
    let r = log.verify().expect("verify");
    let b = r.first_break.expect("break");
    assert_eq!((b.line, b.seq, &b.reason), (3, Some(4), &Reason::Unchained));
    assert!(b.to_string().contains("removed"), "{b}");
    assert_eq!(r.entries, 5);

    let mut l = original.clone();
    l.swap(1, 2);
    write_lines(&log, &l);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!((b.line, b.reason), (2, Reason::Unchained));

    // Removing the first entry: the new first line does not start the chain.
    write_lines(&log, &original[1..]);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!((b.line, b.seq, b.reason), (1, Some(2), Reason::Unchained));
}

#[test]
fn a_renumbered_entry_is_a_seq_gap() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 3);
    let mut l = lines(&log);
    let mut e: Entry = serde_json::from_str(&l[1]).expect("entry");
    e.seq = 7;
    e.hash = e.compute_hash();
    l[1] = serde_json::to_string(&e).expect("json");
    write_lines(&log, &l[..2]);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!(
        (b.line, b.reason),
        (
            2,
            Reason::SeqGap {
                expected: 2,
                found: 7
            }
        )
    );
}

#[test]
fn a_line_that_is_not_an_entry_is_named_and_blocks_appends() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 3);
    let mut l = lines(&log);
    l.insert(1, "{\"hello\": 1}".into());
    write_lines(&log, &l);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!((b.line, b.seq), (2, None));
    assert!(matches!(b.reason, Reason::NotAnEntry { .. }), "{b:?}");

    // An extra field is not an entry either (it would escape the hash).
    let mut l = lines(&log);
    l.remove(1);
    l[2] = l[2].replacen('{', "{\"note\":\"x\",", 1);
    write_lines(&log, &l);
    let b = log.verify().expect("verify").first_break.expect("break");
    assert_eq!(b.line, 3);
    assert!(matches!(b.reason, Reason::NotAnEntry { .. }), "{b:?}");
    // A whole last line that is not an entry is damage: no entry is chained to it.
    match log.append(draft(9)) {
        Err(AuditError::Damaged { line, .. }) => assert_eq!(line, 3),
        other => panic!("expected Damaged, got {other:?}"),
    }
}

#[test]
fn a_torn_last_line_is_reported_and_the_next_append_replaces_it() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 4);
    let whole = fs::read(log.path()).expect("read");
    // A crash half-way through writing entry 5.
    let fifth = {
        let probe = AuditLog::at(tmp.path().join("probe.jsonl"));
        fs::copy(log.path(), probe.path()).expect("copy");
        probe.append(draft(5)).expect("append");
        let l = lines(&probe);
        l[4].clone()
    };
    let mut torn = whole.clone();
    torn.extend_from_slice(&fifth.as_bytes()[..fifth.len() / 2]);
    fs::write(log.path(), &torn).expect("write");
    let r = log.verify().expect("verify");
    assert!(r.ok, "{r:?}");
    assert_eq!((r.entries, r.torn_tail), (4, Some(5)));

    let e = log.append(draft(5)).expect("append");
    assert_eq!(e.seq, 5);
    let r = log.verify().expect("verify");
    assert!(r.ok && r.torn_tail.is_none() && r.entries == 5, "{r:?}");
    assert_eq!(lines(&log).len(), 5);

    // An entry whose newline was lost is kept and chained to.
    let mut s = fs::read(log.path()).expect("read");
    s.pop();
    fs::write(log.path(), &s).expect("write");
    let r = log.verify().expect("verify");
    assert!(r.ok && r.entries == 5 && r.torn_tail.is_none(), "{r:?}");
    assert_eq!(log.append(draft(6)).expect("append").seq, 6);
    assert!(log.verify().expect("verify").ok);
}

#[test]
fn appends_from_many_threads_keep_one_chain() {
    let tmp = tempfile::tempdir().expect("tmp");
    let path = tmp.path().join(AUDIT_FILE);
    std::thread::scope(|s| {
        for t in 0..4 {
            let path = path.clone();
            s.spawn(move || {
                // Each thread its own handle, as separate callers would have.
                let log = AuditLog::at(path);
                for i in 0..10 {
                    log.append(draft(t * 10 + i)).expect("append");
                }
            });
        }
    });
    let r = verify(&path).expect("verify");
    assert!(r.ok, "{r:?}");
    assert_eq!(r.entries, 40);
}

#[test]
fn the_tail_is_found_past_long_lines() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = AuditLog::at(tmp.path().join(AUDIT_FILE));
    // Entries longer than the first tail window (16 KiB): thousands of participants.
    for i in 0..3 {
        log.append(draft(i).participants(0..5000)).expect("append");
    }
    assert!(fs::metadata(log.path()).expect("meta").len() > 3 * 16 * 1024);
    let r = log.verify().expect("verify");
    assert!(r.ok && r.entries == 3, "{r:?}");
}

#[test]
fn read_filters_by_study_action_and_last() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 10);
    let all = log.read(&Filter::default()).expect("read");
    let study = log
        .read(&Filter {
            study: Some(30001),
            ..Filter::default()
        })
        .expect("read");
    let want: Vec<u64> = all
        .iter()
        .filter(|e| e.study == Some(30001))
        .map(|e| e.seq)
        .collect();
    assert_eq!(study.iter().map(|e| e.seq).collect::<Vec<_>>(), want);
    assert!(!want.is_empty());
    let last = log
        .read(&Filter {
            last: Some(3),
            action: Some(Action::Export),
            ..Filter::default()
        })
        .expect("read");
    assert_eq!(
        last.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![6, 8, 10]
    );
}

#[test]
fn csv_has_a_header_one_row_per_entry_and_no_live_formulas() {
    let tmp = tempfile::tempdir().expect("tmp");
    let log = chain(tmp.path(), 3);
    let mut d = draft(4);
    d.written_to = Some("=HYPERLINK(\"http://evil\"),x".into());
    log.append(d).expect("append");
    let entries = log.read(&Filter::default()).expect("read");
    let mut out = Vec::new();
    to_csv(&entries, &mut out).expect("csv");
    let text = String::from_utf8(out).expect("utf8");
    let rows: Vec<&str> = text.lines().collect();
    assert_eq!(rows.len(), 5);
    assert_eq!(rows[0], CSV_COLUMNS.join(","));
    assert!(rows[1].starts_with("1,"), "{}", rows[1]);
    assert!(rows[1].contains(",40001 50000,"), "{}", rows[1]);
    assert!(rows[1].contains(",2026-01-01,,"), "{}", rows[1]);
    assert!(rows[1].contains(&entries[0].hash));
    assert!(
        rows[4].contains("\"'=HYPERLINK(\"\"http://evil\"\"),x\""),
        "{}",
        rows[4]
    );
    assert!(!rows[4].contains(",=HYPERLINK"), "{}", rows[4]);
}

#[test]
fn actions_round_trip_and_a_patient_account_is_named_by_id() {
    for a in ALL_ACTIONS {
        assert_eq!(Action::parse(a.as_str()), Some(a));
        let json = serde_json::to_string(&a).expect("json");
        assert_eq!(json, format!("\"{}\"", a.as_str()));
    }
    let p: Profile = serde_json::from_value(serde_json::json!({
        "id": 7, "email": "pat@example.org", "firstName": "Pat", "lastName": "Doe",
        "userType": "patient", "isSuperuser": false, "patient": {"id": 40001}
    }))
    .expect("profile");
    assert_eq!(who_of(&p), "patient user 7");
    let p: Profile = serde_json::from_value(serde_json::json!({
        "id": 3, "email": "mary@example.org", "firstName": "Mary", "lastName": "Lee",
        "userType": "practitioner", "isSuperuser": false, "patient": null
    }))
    .expect("profile");
    assert_eq!(who_of(&p), "mary@example.org");
}

/// The hash is of the entry's JSON line without its `hash` (fields in order, no spaces), and
/// stays what it was for the logs already written (the pinned value).
#[test]
fn the_hash_is_of_the_line_without_its_hash_and_does_not_change() {
    let e = Entry {
        seq: 7,
        at: "2026-12-01T10:00:00.000Z".into(),
        who: "mary@example.org".into(),
        server: "http://127.0.0.1:8000".into(),
        action: Action::OfflineOpen,
        study: Some(30006),
        participants: vec![40001, 40002],
        types: vec!["omh:heart-rate:2.0".into()],
        window: Some(Window {
            from: NaiveDate::from_ymd_opt(2026, 1, 1),
            to: None,
        }),
        rows: 1234,
        written_to: Some("/tmp/x \"y\"".into()),
        client: "jhe 0.1.0".into(),
        prev: GENESIS.into(),
        hash: "h".into(),
    };
    let line = serde_json::to_string(&e).expect("json");
    let without = line.replace(r#","hash":"h""#, "");
    assert_ne!(without, line);
    assert_eq!(e.compute_hash(), hex(&Sha256::digest(without.as_bytes())));
    assert_eq!(
        e.compute_hash(),
        "ae1f7f641570336ccd93e15de10307d77abc87ac1b156dc541696cd004c29ebf"
    );
}
