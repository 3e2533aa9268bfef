//! Local study copies kept in step with the server over real HTTP: readings added, changed behind
//! the API's back and deleted while the copy exists; syncs stopped at random pages (as a crash or
//! a lost network would) and resumed; and what the copy's files on disk give away (nothing).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use jhe_engine::api::ObservationQuery;
use jhe_engine::cancel::CancelToken;
use jhe_engine::copy::{CopyKey, LocalCopy, Row};
use jhe_engine::fetch::fetch_observations;
use jhe_engine::jobs::{sync_study, Reconcile, SyncOptions, SyncOutcome};
use jhe_sandbox::Sandbox;

use crate::common::*;

/// id → (write time, OMH text) of every observation of the study, as the server has it now.
async fn server_rows(s: &jhe_engine::api::Session) -> BTreeMap<u64, (String, String)> {
    let q = ObservationQuery {
        study_id: Some(DEMO_STUDY),
        ..ObservationQuery::default()
    };
    let f = fetch_observations(s, &q, &CancelToken::new(), &|_| {})
        .await
        .expect("fetch");
    f.observations
        .into_iter()
        .filter_map(Row::from_raw)
        .map(|r| (r.id, (r.last_updated, r.omh)))
        .collect()
}

fn copy_rows(c: &LocalCopy) -> BTreeMap<u64, (String, String)> {
    let rows = c.rows_where(|_| true).expect("rows");
    assert_eq!(rows.len(), c.len(), "one row per id held");
    rows.into_iter()
        .map(|r| (r.id, (r.last_updated, r.omh)))
        .collect()
}

fn opts(reconcile: Reconcile, commit_rows: usize) -> SyncOptions {
    SyncOptions {
        reconcile,
        commit_rows,
    }
}

/// A new copy of the demo study under `tmp` (with a new key), and its folder.
fn new_copy(sb: &Sandbox, tmp: &tempfile::TempDir) -> (std::path::PathBuf, LocalCopy) {
    let dir = LocalCopy::dir_of(tmp.path(), sb.url(), DEMO_STUDY);
    let copy =
        LocalCopy::open_or_new(&dir, CopyKey::generate(), sb.url(), DEMO_STUDY).expect("copy");
    (dir, copy)
}

/// One whole sync (not cancelled, no progress).
async fn sync(
    s: &jhe_engine::api::Session,
    copy: &mut LocalCopy,
    opts: &SyncOptions,
) -> SyncOutcome {
    let r = sync_study(s, copy, opts, &CancelToken::new(), &|_| {}).await;
    r.expect("sync")
}

/// A tiny deterministic generator (the test's own randomness, reproducible by seed).
fn next(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}

#[tokio::test]
async fn a_synced_copy_equals_the_server_after_readings_are_added_changed_and_deleted() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, mut copy) = new_copy(&sb, &tmp);

    let first = sync(&s, &mut copy, &opts(Reconcile::Daily, 500)).await;
    let truth = server_rows(&s).await;
    assert!(first.first && first.change.added as usize == truth.len() && truth.len() > 1000);
    assert_eq!(copy_rows(&copy), truth);

    // On the server: 5 new uploads, 3 deleted, 2 changed without a new write time.
    let ids: Vec<u32> = truth.keys().map(|i| *i as u32).collect();
    {
        let mut st = sb.state().store.write();
        for (i, id) in ids.iter().take(5).enumerate() {
            st.append_copy(*id, &format!("00000000-0000-4000-8000-00000000000{i}"))
                .expect("uploaded");
        }
        for id in &ids[10..13] {
            assert!(st.remove(*id));
        }
        for id in &ids[20..22] {
            let mut omh = st.get(*id).expect("row").omh();
            omh["header"]["uuid"] = "11111111-1111-4111-8111-111111111111".into();
            assert!(st.rewrite(*id, omh));
        }
    }
    let full = sync(&s, &mut copy, &opts(Reconcile::Full, 500)).await;
    assert_eq!(
        (full.change.added, full.change.removed, full.change.changed),
        (5, 3, 2),
        "{}",
        full.sentence()
    );
    assert_eq!(copy_rows(&copy), server_rows(&s).await);

    // The everyday sync: only what is new is fetched; a deletion is found by the counts.
    {
        let mut st = sb.state().store.write();
        st.append_copy(ids[30], "22222222-2222-4222-8222-222222222222")
            .expect("uploaded");
        assert!(st.remove(ids[40]));
    }
    let daily = sync(&s, &mut copy, &opts(Reconcile::Daily, 500)).await;
    assert_eq!(
        (daily.change.added, daily.reconciled),
        (1, None),
        "reconciled today already"
    );
    let counts = sync(&s, &mut copy, &opts(Reconcile::Counts, 500)).await;
    assert_eq!((counts.change.added, counts.change.removed), (0, 1));
    assert_eq!(copy_rows(&copy), server_rows(&s).await);
    assert!(counts
        .sentence()
        .starts_with("+0 readings from 1 participant, 1 removed"));

    // Another key cannot open the copy on disk.
    drop(copy);
    assert!(
        LocalCopy::open(&dir, CopyKey::generate()).is_err(),
        "another key cannot open it"
    );
}

#[tokio::test]
async fn a_sync_stopped_at_a_random_page_resumes_with_no_duplicate_and_no_gap() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    for seed in 1..=5u64 {
        let tmp = tempfile::tempdir().expect("tmp");
        let dir = LocalCopy::dir_of(tmp.path(), sb.url(), DEMO_STUDY);
        let key = CopyKey::generate();
        let mut rng = seed;
        let mut attempts = 0;
        loop {
            attempts += 1;
            assert!(attempts < 200, "seed {seed}: the sync never finished");
            // Each attempt opens the copy from disk, as a restarted app would.
            let mut copy =
                LocalCopy::open_or_new(&dir, key.clone(), sb.url(), DEMO_STUDY).expect("copy");
            // New uploads keep arriving between (and so during) the attempts.
            if next(&mut rng).is_multiple_of(2) {
                let id = server_rows(&s).await.keys().next().copied().expect("rows") as u32;
                let uuid = format!("33333333-3333-4333-8333-{:012}", next(&mut rng));
                sb.state().store.write().append_copy(id, &uuid);
            }
            let stop_after = 50 + next(&mut rng) % 900;
            let cancel = CancelToken::new();
            let seen = AtomicU64::new(0);
            let on_rows = |n: u64| {
                if seen.fetch_add(n, Ordering::SeqCst) + n >= stop_after {
                    cancel.cancel();
                }
            };
            let r = sync_study(
                &s,
                &mut copy,
                &opts(Reconcile::Counts, 150),
                &cancel,
                &on_rows,
            )
            .await;
            match r {
                Ok(_) => break,
                Err(jhe_engine::error::Error::Cancelled) => continue,
                Err(e) => panic!("seed {seed}: {e}"),
            }
        }
        let copy = LocalCopy::open(&dir, key).expect("open").expect("copy");
        assert_eq!(
            copy_rows(&copy),
            server_rows(&s).await,
            "seed {seed} after {attempts} attempts"
        );
        assert!(
            attempts > 1,
            "seed {seed}: the sync was stopped at least once"
        );
    }
}

#[tokio::test]
async fn the_copy_on_disk_holds_no_names_mrns_or_values() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let tmp = tempfile::tempdir().expect("tmp");
    let (dir, mut copy) = new_copy(&sb, &tmp);
    sync(&s, &mut copy, &SyncOptions::default()).await;
    let mut needles: Vec<String> = Vec::new();
    for p in s.study_patients(DEMO_STUDY).await.expect("patients") {
        needles.extend(
            p.name_family
                .into_iter()
                .chain(p.name_given)
                .chain(p.birth_date),
        );
        needles.extend(p.identifiers.into_iter().filter_map(|i| i.value));
        needles.extend(p.telecom_email);
    }
    // Values and field names as the server sends them in the OMH bodies.
    let rows = copy.rows_where(|_| true).expect("rows");
    needles.extend(
        [
            "blood_glucose",
            "heart_rate",
            "effective_time_frame",
            "mg/dL",
        ]
        .map(String::from),
    );
    needles.extend(
        rows.iter()
            .take(20)
            .map(|r| r.omh.chars().take(40).collect::<String>()),
    );
    needles.retain(|n| n.len() >= 4);
    assert!(needles.len() > 10, "{needles:?}");
    let mut files = 0;
    for e in std::fs::read_dir(&dir).expect("dir").flatten() {
        files += 1;
        let bytes = std::fs::read(e.path()).expect("read");
        assert!(
            bytes.starts_with(b"age-encryption.org/v1"),
            "{:?} is an age file",
            e.path()
        );
        for n in &needles {
            assert!(
                !bytes.windows(n.len()).any(|w| w == n.as_bytes()),
                "{n:?} readable in {:?}",
                e.path()
            );
        }
    }
    assert!(files >= 3);
}
