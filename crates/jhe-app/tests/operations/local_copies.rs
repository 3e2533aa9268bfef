//! The study kept on this computer: a sync makes its encrypted copy; the overview and the
//! participant view then come from it, equal to what the server says; it opens with no session
//! and exports from it equal a download; the background check finds new uploads and notifies.

use super::*;
use jhe_app::copies;

/// A participant's line of the study board: id, counts per type, first and last data.
type BoardRow = (u64, Vec<(String, u64)>, Option<String>, Option<String>);

/// Per participant: counts per type, and first / last data (what the study board shows).
fn board(o: &StudyOverview) -> Vec<BoardRow> {
    let mut rows: Vec<_> = o
        .patients
        .iter()
        .map(|p| {
            (
                p.id,
                p.counts.iter().map(|(k, v)| (k.clone(), *v)).collect(),
                p.first_date.clone(),
                p.last_date.clone(),
            )
        })
        .collect();
    rows.sort();
    rows
}

#[tokio::test]
async fn a_synced_study_opens_from_its_copy_online_and_offline_and_exports_from_it_as_a_download_would(
) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picker = FolderPicker::at(tmp.path().join("export"));
    let state = demo_app(picker.clone()).await?;
    // What the server says, before there is a copy.
    let live = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert!(live.synced_at.is_none());
    let p0 = live.patients[0].id;
    let live_p0 = participant::patient_data(&state, STUDY, p0, DateRange::default()).await?;

    let readings = Arc::new(Mutex::new(0u64));
    let seen = readings.clone();
    let first = copies::sync_study(&state, STUDY, None, move |p| *seen.lock() = p.readings).await?;
    assert!(first.first);
    let held: u64 = live.patients.iter().flat_map(|p| p.counts.values()).sum();
    assert!(
        first.added > 0 && first.added <= held,
        "{} of {held}",
        first.added
    );
    assert!(*readings.lock() > 0, "progress while syncing");
    assert!(first.sentence.starts_with(&format!("+{}", first.added)) || first.added >= 1000);
    assert!(first.bytes > 0);

    // Opened again: at once from the copy, marked with when it was synced, equal to the server.
    let again = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert_eq!(again.synced_at.as_deref(), Some(first.synced_at.as_str()));
    assert_eq!(
        board(&again),
        board(&live),
        "counts and dates as the server says"
    );
    let consents = |o: &StudyOverview| -> Vec<_> {
        o.patients
            .iter()
            .map(|p| (p.id, p.consent.clone()))
            .collect()
    };
    assert_eq!(
        consents(&again),
        consents(&live),
        "consents as the server says"
    );
    let from_copy = participant::patient_data(&state, STUDY, p0, DateRange::default()).await?;
    let rows = |d: &PatientData| -> Vec<(String, u64)> {
        d.types.iter().map(|t| (t.code.clone(), t.rows)).collect()
    };
    assert_eq!(
        rows(&from_copy),
        rows(&live_p0),
        "the participant view from the copy"
    );

    // A second sync finds nothing new.
    let second = copies::sync_study(&state, STUDY, None, |_| {}).await?;
    assert!(!second.first);
    assert_eq!((second.added, second.changed, second.removed), (0, 0, 0));
    assert_eq!(
        second.sentence,
        "+0 readings from 0 participants, 0 removed"
    );

    // Listed (with its size), then exported from the copy and from the server: the same data.
    let listed = copies::local_copies(&state).await?;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].study_id, listed[0].server.as_str()),
        (STUDY, copies::DEMO_SERVER)
    );
    assert!(listed[0].bytes > 0);
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    let a = export::export_data(&state, "from-copy", request(&format!("{dir}/copy")), |_| {}).await;
    // The picked folder is granted, its subfolders too.
    let a = a?;
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("copy on this computer")),
        "{:?}",
        a.warnings
    );
    let mut fresh = request(&format!("{dir}/server"));
    fresh.from_server = Some(true);
    let b = export::export_data(&state, "from-server", fresh, |_| {}).await?;
    assert!(!b
        .warnings
        .iter()
        .any(|w| w.contains("copy on this computer")));
    let files = |r: &ExportResult| -> Vec<(String, u64)> {
        let mut f: Vec<_> = r
            .files
            .iter()
            .filter(|f| !f.name.starts_with("manifest"))
            .map(|f| (f.name.clone(), f.rows))
            .collect();
        f.sort();
        f
    };
    assert_eq!(files(&a), files(&b), "the same files with the same rows");
    for name in ["participants.csv", "problems.csv"] {
        let pa = Path::new(&a.out_dir).join(name);
        let pb = Path::new(&b.out_dir).join(name);
        if pb.is_file() {
            assert_eq!(
                std::fs::read_to_string(&pa)?,
                std::fs::read_to_string(&pb)?,
                "{name}"
            );
        }
    }
    let manifest = |d: &str| -> Result<serde_json::Value, Box<dyn std::error::Error>> {
        Ok(serde_json::from_slice(&std::fs::read(
            Path::new(d).join("manifest.json"),
        )?)?)
    };
    let (ma, mb) = (manifest(&a.out_dir)?, manifest(&b.out_dir)?);
    for k in [
        "server_total",
        "total_observations",
        "problems_count",
        "duplicates_dropped",
    ] {
        assert_eq!(ma[k], mb[k], "manifest {k}");
    }

    // Offline: the copy opens with no session; the board, a participant and an export work.
    session::sign_out(&state).await?;
    let review = copies::open_local_copy(&state, copies::DEMO_SERVER, STUDY).await;
    // The demo's copies are the demo's only while it runs: after signing out they are listed no more,
    // but the files are there until the next demo starts, so they still open.
    let review = review?;
    assert!(state.online().is_err());
    assert_eq!(
        review.overview.synced_at.as_deref(),
        Some(second.synced_at.as_str())
    );
    assert_eq!(board(&review.overview), board(&live));
    let offline_p0 = participant::patient_data(&state, STUDY, p0, DateRange::default()).await?;
    assert_eq!(rows(&offline_p0), rows(&live_p0));
    let c = export::export_data(
        &state,
        "offline",
        request(&format!("{dir}/offline")),
        |_| {},
    )
    .await?;
    assert_eq!(
        files(&c),
        files(&b),
        "an export made offline equals the download"
    );

    // Removed: nothing is left of it.
    copies::remove_local_copy(&state, Some(copies::DEMO_SERVER), STUDY).await?;
    assert!(copies::open_local_copy(&state, copies::DEMO_SERVER, STUDY)
        .await
        .is_err());
    Ok(())
}

/// The study's participants, as the app lists them.
async fn live_members(
    state: &AppState,
) -> Result<std::collections::HashSet<u32>, Box<dyn std::error::Error>> {
    let o = studies::study_overview(state, STUDY, |_| {}).await?;
    Ok(o.patients.iter().map(|p| p.id as u32).collect())
}

/// A picker that records the notifications it is asked to show.
#[derive(Default)]
struct Notes(Mutex<Vec<(String, String)>>);

impl Picker for Notes {
    fn pick_folder(&self) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        async { Ok(None) }.boxed()
    }
    fn pick_export_to_open(&self) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        async { Ok(None) }.boxed()
    }
    fn pick_report_file(&self, _s: &str) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        async { Ok(None) }.boxed()
    }
    fn reveal(&self, _p: &Path) -> jhe_app::Result<()> {
        Ok(())
    }
    fn open_file(&self, _p: &Path) -> jhe_app::Result<()> {
        Ok(())
    }
    fn open_url(&self, _u: &str) -> jhe_app::Result<()> {
        Ok(())
    }
    fn notify(&self, title: &str, body: &str) -> jhe_app::Result<()> {
        self.0.lock().push((title.to_string(), body.to_string()));
        Ok(())
    }
}

#[tokio::test]
async fn the_background_check_finds_new_uploads_badges_the_study_and_notifies() -> TestResult {
    let notes = Arc::new(Notes::default());
    let state = Arc::new(demo_app(notes.clone()).await?);
    copies::sync_study(&state, STUDY, None, |_| {}).await?;
    // Nothing new: no news.
    assert!(copies::check_for_news(&state).await?.is_empty());

    // 12 new uploads on the server.
    let members = live_members(&state).await?;
    let added = {
        let sb = state.sandbox.lock().await;
        let sb = sb.as_ref().ok_or("no demo")?;
        let mut store = sb.state().store.write();
        store.upload_copies(12, |p| members.contains(&p))
    };
    assert_eq!(added.len(), 12);
    let mut who: Vec<u32> = added.iter().map(|(_, p)| *p).collect();
    who.sort_unstable();
    who.dedup();

    // The monitor checks right after a sign-in (here: at once), badges and notifies.
    let watch = {
        let st = state.clone();
        tokio::spawn(async move { copies::monitor(&st).await })
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while notes.0.lock().is_empty() && std::time::Instant::now() < deadline {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    watch.abort();
    let said = notes.0.lock().clone();
    let want = format!(
        "12 new readings from {} participant{}",
        who.len(),
        if who.len() == 1 { "" } else { "s" }
    );
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].0.ends_with(": new data"), "{said:?}");
    assert_eq!(said[0].1, want);
    let news = copies::study_news(&state).await?;
    assert_eq!(news.len(), 1);
    assert_eq!((news[0].study_id, news[0].added), (STUDY, 12));
    copies::clear_study_news(&state, STUDY).await?;
    assert!(copies::study_news(&state).await?.is_empty());

    // Switched off, nothing is checked.
    assert_eq!(copies::set_sync_every(&state, 0).await?, 0);
    assert_eq!(copies::sync_every(&state).await?, 0);
    Ok(())
}
