//! The app's operations without a window, against the in-process demo exchange: what the
//! desktop app's commands do, from signing in to reviewing an export offline.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use futures_util::future::BoxFuture;
use futures_util::FutureExt;
use jhe_app::ipc::*;
use jhe_app::picker::Picker;
use jhe_app::{audit, export, offline, participant, report, session, studies, AppState};
use parking_lot::Mutex;

type TestResult = Result<(), Box<dyn std::error::Error>>;

const STUDY: u64 = jhe_sandbox::demo::DEMO_STUDY;
const PATIENTS: u32 = 3;

/// A picker that hands out one folder and remembers it for "open an export"; reports are saved
/// in it under the suggested name.
struct FolderPicker {
    dir: PathBuf,
    revealed: Mutex<Vec<PathBuf>>,
}

impl FolderPicker {
    fn at(dir: impl Into<PathBuf>) -> Arc<FolderPicker> {
        Arc::new(FolderPicker {
            dir: dir.into(),
            revealed: Mutex::new(Vec::new()),
        })
    }
}

impl Picker for FolderPicker {
    fn pick_folder(&self) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        Box::pin(async { Ok(Some(self.dir.clone())) })
    }

    fn pick_export_to_open(&self) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        Box::pin(async { Ok(Some(self.dir.join("manifest.json"))) })
    }

    fn pick_report_file(&self, suggested: &str) -> BoxFuture<'_, jhe_app::Result<Option<PathBuf>>> {
        let p = self.dir.join(suggested);
        Box::pin(async move {
            std::fs::create_dir_all(&self.dir).map_err(|e| jhe_app::Error::Io(e.to_string()))?;
            Ok(Some(p))
        })
    }

    fn reveal(&self, path: &Path) -> jhe_app::Result<()> {
        self.revealed.lock().push(path.to_path_buf());
        Ok(())
    }

    fn open_file(&self, path: &Path) -> jhe_app::Result<()> {
        self.revealed.lock().push(path.to_path_buf());
        Ok(())
    }

    fn open_url(&self, _url: &str) -> jhe_app::Result<()> {
        Ok(())
    }
}

/// A signed-in app on a small demo exchange (3 participants, 3 days).
async fn demo_app(picker: Arc<dyn Picker>) -> Result<AppState, Box<dyn std::error::Error>> {
    // Local study copies in a folder of the test's own (the demo's are wiped at each start).
    let data = tempfile::tempdir()?.keep();
    let state = AppState::new(picker, None).with_data_dir(data);
    session::start_demo_with(
        &state,
        jhe_sandbox::Config {
            patients: PATIENTS,
            days: 3,
            ..jhe_sandbox::Config::default()
        },
    )
    .await?;
    Ok(state)
}

fn request(out_dir: &str) -> ExportRequest {
    ExportRequest {
        scope: ExportScope::Study { study_id: STUDY },
        types: Vec::new(),
        from: None,
        to: None,
        format: ExportFormat::Csv,
        layout: ExportLayout::PerType,
        out_dir: out_dir.to_string(),
        identifier_systems: None,
        leave_out_flagged: None,
        from_server: None,
        deidentify: None,
        encrypt_passphrase: None,
    }
}

#[path = "operations/local_copies.rs"]
mod local_copies;

#[path = "operations/encrypted_exports.rs"]
mod encrypted_exports;

#[tokio::test]
async fn without_a_session_every_operation_says_you_are_not_signed_in() -> TestResult {
    let state = AppState::default();
    let e = studies::list_studies(&state)
        .await
        .err()
        .ok_or("listed studies")?;
    assert_eq!(e.kind(), ErrorKind::NotSignedIn);
    let e = studies::study_overview(&state, STUDY, |_| {})
        .await
        .err()
        .ok_or("overview")?;
    assert_eq!(e.kind(), ErrorKind::NotSignedIn);
    let e = export::export_data(&state, "j", request("/tmp/x"), |_| {})
        .await
        .err()
        .ok_or("exported")?;
    assert_eq!(serde_json::to_value(&e)?["kind"], "not_signed_in");
    Ok(())
}

#[tokio::test]
async fn the_demo_signs_in_as_mary_and_lists_studies_with_participant_counts() -> TestResult {
    let state = AppState::default();
    let s = session::start_demo_with(
        &state,
        jhe_sandbox::Config {
            patients: PATIENTS,
            days: 2,
            ..jhe_sandbox::Config::default()
        },
    )
    .await?;
    assert!(s.demo);
    assert_eq!(s.user.email, "manager_mary@example.com");
    assert!(s.server.starts_with("http://127.0.0.1:"), "{}", s.server);

    let orgs = studies::list_organizations(&state).await?;
    assert!(!orgs.is_empty());
    let list = studies::list_studies(&state).await?;
    let demo = list
        .iter()
        .find(|st| st.id == STUDY)
        .ok_or("no demo study")?;
    assert_eq!(demo.patient_count, PATIENTS as u64);
    assert_eq!(demo.name, "CGM & Wearables Demo");
    assert!(!demo.organization_name.is_empty());

    session::sign_out(&state).await?;
    let e = studies::list_studies(&state)
        .await
        .err()
        .ok_or("still signed in")?;
    assert_eq!(e.kind(), ErrorKind::NotSignedIn);
    Ok(())
}

#[tokio::test]
async fn the_study_overview_shows_each_participant_with_counts_and_progress() -> TestResult {
    let state = demo_app(Arc::new(jhe_app::picker::Headless)).await?;
    let seen = Arc::new(Mutex::new(Vec::<OverviewProgress>::new()));
    let sink = seen.clone();
    let ov = studies::study_overview(&state, STUDY, move |p| sink.lock().push(p)).await?;
    assert_eq!(ov.study.id, STUDY);
    assert_eq!(ov.study.patient_count, PATIENTS as u64);
    assert_eq!(ov.patients.len(), PATIENTS as usize);
    assert!(ov.types.iter().any(|t| t.code == "omh:blood-glucose:4.0"));
    assert!(ov.patients.iter().all(|p| p.mrn.is_some()), "an MRN each");
    let total: u64 = ov.patients.iter().flat_map(|p| p.counts.values()).sum();
    assert!(total > 0, "observations counted");
    assert!(ov
        .patients
        .iter()
        .any(|p| p.consent.values().any(|c| *c == ConsentState::Consented)));
    let seen = seen.lock();
    let last = seen.last().ok_or("no progress")?;
    assert_eq!(last.done, last.total);
    Ok(())
}

#[tokio::test]
async fn a_participant_shows_a_chart_per_type_and_pages_of_readings() -> TestResult {
    let state = demo_app(Arc::new(jhe_app::picker::Headless)).await?;
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    let p = ov
        .patients
        .iter()
        .find(|p| p.counts.get("omh:blood-glucose:4.0").copied().unwrap_or(0) > 0)
        .ok_or("nobody with glucose")?;
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    assert_eq!(data.patient.id, p.id);
    assert_eq!(
        data.types.len(),
        ov.types.len(),
        "one series per requested type"
    );
    let glucose = data
        .types
        .iter()
        .find(|t| t.code == "omh:blood-glucose:4.0")
        .ok_or("no glucose series")?;
    assert!(glucose.chart_svg.starts_with("<svg"));
    assert!(glucose.rows > 0);
    let page = participant::rows(
        &state,
        p.id,
        "omh:blood-glucose:4.0",
        0,
        5,
        DateRange::default(),
    )
    .await?;
    assert_eq!(page.total, glucose.rows);
    assert_eq!(page.rows.len(), 5.min(glucose.rows as usize));
    assert_eq!(page.columns[0].name, "time_utc");

    let bad = DateRange {
        from: Some("2025-06-10".into()),
        to: Some("2025-06-01".into()),
    };
    let e = participant::patient_data(&state, STUDY, p.id, bad)
        .await
        .err()
        .ok_or("a backwards range was accepted")?;
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    Ok(())
}

#[tokio::test]
async fn an_export_job_writes_into_the_picked_folder_and_opens_offline_with_its_counts(
) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picker = FolderPicker::at(tmp.path().join("export"));
    let state = demo_app(picker.clone()).await?;
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    let phases = Arc::new(Mutex::new(Vec::<ExportPhase>::new()));
    let sink = phases.clone();
    let result = export::export_data(&state, "job-1", request(&dir), move |p| {
        sink.lock().push(p.phase)
    })
    .await?;
    assert_eq!(result.out_dir, dir);
    assert!(Path::new(&dir).join("manifest.json").is_file());
    assert!(result
        .files
        .iter()
        .any(|f| f.name.ends_with(".csv") && f.rows > 0));
    let exported: u64 = result.files.iter().map(|f| f.rows).sum();
    assert!(exported > 0);
    assert!(phases.lock().contains(&ExportPhase::Fetching));
    assert!(state.jobs.lock().is_empty(), "the job is forgotten");

    export::show_in_folder(&state, &dir).await?;
    assert_eq!(picker.revealed.lock().as_slice(), [PathBuf::from(&dir)]);
    let e = export::show_in_folder(&state, &format!("{dir}/missing"))
        .await
        .err()
        .ok_or("revealed a missing path")?;
    assert_eq!(e.kind(), ErrorKind::NotFound);

    // Offline review of what was just written: the session ends, the files answer.
    let path = export::pick_export_to_open(&state)
        .await?
        .ok_or("nothing to open")?;
    let review = offline::open_export(&state, &path, None).await?;
    assert_eq!(review.path, dir, "manifest.json stands for its folder");
    assert_eq!(review.overview.study.id, STUDY);
    assert_eq!(review.overview.patients.len(), PATIENTS as usize);
    let counted: u64 = review
        .overview
        .patients
        .iter()
        .flat_map(|p| p.counts.values())
        .sum();
    assert_eq!(counted, exported, "every exported row read back");
    assert!(state.online().is_err(), "no session during offline review");
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert_eq!(ov.patients.len(), PATIENTS as usize);
    let p = &ov.patients[0];
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    let rows: u64 = data.types.iter().map(|t| t.rows).sum();
    assert_eq!(rows, p.counts.values().sum::<u64>());
    Ok(())
}

#[tokio::test]
async fn an_export_cancelled_by_its_job_id_fails_as_cancelled() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picker = FolderPicker::at(tmp.path().to_path_buf());
    let state = Arc::new(demo_app(picker).await?);
    let st = state.clone();
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    let outcome = export::export_data(&state, "job-2", request(&dir), move |p| {
        if p.phase == ExportPhase::Fetching {
            // What the UI's Cancel button does (it completes without waiting).
            let done = export::cancel_export(&st, "job-2").now_or_never();
            assert!(matches!(done, Some(Ok(()))));
        }
    })
    .await;
    let e = outcome.err().ok_or("the export ran to its end")?;
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(state.jobs.lock().is_empty());
    Ok(())
}

#[tokio::test]
async fn the_app_saves_reveals_and_opens_only_paths_the_user_chose() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picked = tmp.path().join("picked");
    let picker = FolderPicker::at(picked.clone());
    let state = demo_app(picker.clone()).await?;
    // Nothing chosen yet: a path from the webview alone is refused, whatever it is.
    let elsewhere = tmp.path().join("elsewhere");
    for path in [
        elsewhere.display().to_string(),
        format!("{}/../elsewhere", picked.display()),
        "relative/folder".to_string(),
    ] {
        let e = export::export_data(&state, "j", request(&path), |_| {})
            .await
            .err()
            .ok_or("exported to a path nobody chose")?;
        assert_eq!(e.kind(), ErrorKind::InvalidInput, "{path}: {e}");
        assert!(e.to_string().contains("Choose folder"), "{e}");
    }
    assert!(!elsewhere.exists(), "nothing was written there");
    std::fs::create_dir_all(&elsewhere)?;
    let shown = export::show_in_folder(&state, &elsewhere.display().to_string()).await;
    assert_eq!(shown.err().map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    assert!(picker.revealed.lock().is_empty());
    let opened = offline::open_export(&state, &elsewhere.display().to_string(), None).await;
    assert_eq!(
        opened.err().map(|e| e.kind()),
        Some(ErrorKind::InvalidInput)
    );
    #[cfg(unix)]
    {
        // A link inside the chosen folder that points elsewhere does not widen it.
        export::pick_folder(&state).await?;
        std::fs::create_dir_all(&picked)?;
        std::os::unix::fs::symlink(&elsewhere, picked.join("link"))?;
        let via_link = picked.join("link").display().to_string();
        let e = export::show_in_folder(&state, &via_link).await.err();
        assert_eq!(e.map(|e| e.kind()), Some(ErrorKind::InvalidInput));
    }
    // Once chosen in the dialog, the same folder works.
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    let result = export::export_data(&state, "j", request(&dir), |_| {}).await?;
    export::show_in_folder(&state, &result.out_dir).await?;
    Ok(())
}

#[tokio::test]
async fn the_participant_view_says_what_the_server_sent_that_is_not_shown() -> TestResult {
    let state = demo_app(Arc::new(jhe_app::picker::Headless)).await?;
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    let p = ov.patients.first().ok_or("no participant")?;
    let honest = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    assert!(
        honest.types.iter().all(|t| t.notes.is_empty()),
        "an honest answer has nothing to say: {:?}",
        honest.types.iter().map(|t| &t.notes).collect::<Vec<_>>()
    );
    if let Some(sb) = state.sandbox.lock().await.as_ref() {
        sb.set_hostile(jhe_sandbox::Hostile {
            foreign_rows: Some(jhe_sandbox::ForeignRows::OtherPatient),
            ..Default::default()
        });
    }
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    let noted: Vec<&String> = data.types.iter().flat_map(|t| &t.notes).collect();
    assert!(
        noted.iter().any(|n| n.contains("left out")),
        "the rows of another participant are named, not shown: {noted:?}"
    );
    for (a, b) in honest.types.iter().zip(&data.types) {
        assert_eq!(
            a.rows, b.rows,
            "{}: only this participant's readings",
            a.code
        );
    }
    Ok(())
}

#[tokio::test]
async fn a_study_overview_cancelled_by_its_job_id_fails_as_cancelled() -> TestResult {
    let state = Arc::new(demo_app(Arc::new(jhe_app::picker::Headless)).await?);
    let st = state.clone();
    let outcome = studies::study_overview_job(&state, STUDY, Some("ov-1"), move |_| {
        let done = export::cancel_export(&st, "ov-1").now_or_never();
        assert!(matches!(done, Some(Ok(()))));
    })
    .await;
    let e = outcome.err().ok_or("the overview ran to its end")?;
    assert_eq!(e.kind(), ErrorKind::Cancelled);
    assert!(state.jobs.lock().is_empty(), "the job is forgotten");
    // Without a job id it is not cancellable and runs to its end.
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert_eq!(ov.patients.len(), PATIENTS as usize);
    Ok(())
}

/// "Continue as …": a sign-in is kept in the app's keychain entries, offered and continued after
/// a restart (a new `AppState` on the same config folder and keychain) without the key, and gone
/// after "Sign out". A kept sign-in the server no longer accepts is "sign in again".
#[tokio::test]
async fn a_sign_in_is_continued_after_a_restart_without_the_key_and_not_after_sign_out(
) -> TestResult {
    use jhe_engine::auth::{MemoryStore, SavedSignIn, SecretStore};
    let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config::small()).await?;
    let key = sb
        .info()
        .api_key(jhe_sandbox::demo::MARY)
        .ok_or("no key for Mary")?
        .to_string();
    let config = tempfile::tempdir()?;
    let secrets = Arc::new(MemoryStore::new());
    let launch = || {
        AppState::new(
            Arc::new(jhe_app::picker::Headless),
            Some(config.path().to_path_buf()),
        )
        .with_secrets(secrets.clone())
    };

    // First launch: nothing kept; sign in with the key.
    let first = launch();
    assert!(session::remembered_sign_in(&first).await?.is_none());
    let s = session::sign_in(
        &first,
        sb.url(),
        SignInMethod::ApiKey {
            api_key: key.clone(),
        },
    )
    .await?;
    assert!(s.remembered, "the sign-in is kept in the keychain");
    drop(first);

    // Restart: offered by name, continued without the key.
    let second = launch();
    let kept = session::remembered_sign_in(&second)
        .await?
        .ok_or("nothing offered after a restart")?;
    assert_eq!(kept.server, s.server);
    assert_eq!(
        kept.name,
        format!("{} {}", s.user.first_name, s.user.last_name)
    );
    assert_eq!(kept.method, SignInKind::ApiKey);
    let again = session::continue_sign_in(&second, &kept.server).await?;
    assert_eq!(again.user.email, s.user.email);
    assert!(!again.demo);
    assert!(!studies::list_studies(&second).await?.is_empty());

    // Sign out: the entry is gone, the next launch offers nothing.
    session::sign_out(&second).await?;
    let account = s.server.to_ascii_lowercase();
    assert_eq!(secrets.get(&account)?, None);
    assert!(session::remembered_sign_in(&launch()).await?.is_none());

    // A kept key the server no longer accepts: offered, then "sign in again".
    SavedSignIn::ApiKey {
        api_key: "bm8tc3VjaDprZXk=".into(),
    }
    .save(secrets.as_ref(), &account)?;
    let third = launch();
    let kept = session::remembered_sign_in(&third)
        .await?
        .ok_or("the stale sign-in is not offered")?;
    let e = session::continue_sign_in(&third, &kept.server)
        .await
        .err()
        .ok_or("a refused key continued")?;
    assert_eq!(e.kind(), ErrorKind::SignInAgain);
    sb.stop().await;
    Ok(())
}

/// The glucose card sums the readings up (time in the five consensus ranges, adding up to the
/// whole) and leaves the implausible ones the demo plants (1,200 mg/dL and the like) out of every
/// number, saying how many: as many as the readings table shows outside 20–600 mg/dL.
#[tokio::test]
async fn the_glucose_card_sums_up_the_readings_without_the_implausible_ones() -> TestResult {
    let state = AppState::default();
    session::start_demo_with(
        &state,
        jhe_sandbox::Config {
            patients: PATIENTS,
            days: 3,
            dirty_share: 0.25,
            ..jhe_sandbox::Config::default()
        },
    )
    .await?;
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    let code = "omh:blood-glucose:4.0";
    let mut excluded_in_all = 0;
    for p in ov
        .patients
        .iter()
        .filter(|p| p.counts.get(code).copied().unwrap_or(0) > 0)
    {
        let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
        let g = data
            .types
            .iter()
            .find(|t| t.code == code)
            .ok_or("no glucose")?;
        let Some(s) = &g.summary else {
            return Err(format!("participant {}: no glucose summary", p.id).into());
        };
        let keys: Vec<&str> = s.bands.iter().map(|b| b.key.as_str()).collect();
        assert_eq!(keys, ["very-low", "low", "in-range", "high", "very-high"]);
        let total: f64 = s.bands.iter().map(|b| b.percent).sum();
        assert!((total - 100.0).abs() < 1e-9, "{total}");
        // The readings table, independently: values outside 20–600 mg/dL.
        let page = participant::rows(&state, p.id, code, 0, g.rows, DateRange::default()).await?;
        let col = page
            .columns
            .iter()
            .position(|c| c.unit.as_deref() == Some("mg/dL"))
            .ok_or("no mg/dL column")?;
        let outside = page
            .rows
            .iter()
            .filter(|r| matches!(r[col], Cell::Number(v) if !(20.0..=600.0).contains(&v)))
            .count() as u64;
        assert_eq!(s.excluded, outside, "participant {}", p.id);
        excluded_in_all += s.excluded;
        let mean = s.metrics.iter().find(|m| m.label == "Average glucose");
        let mean = mean.and_then(|m| m.value).ok_or("no mean")?;
        assert!((20.0..=600.0).contains(&mean), "{mean}");
    }
    assert!(
        excluded_in_all > 0,
        "the demo planted implausible glucose values"
    );
    Ok(())
}

/// A user who may list a study's participants but not see their consents (the server answers
/// 403 on consents): every type reads "not visible to you", never "not asked" or "pending", and
/// the counts and the participant view still work.
#[tokio::test]
async fn consents_the_user_may_not_see_read_not_visible_not_not_asked() -> TestResult {
    let state = demo_app(Arc::new(jhe_app::picker::Headless)).await?;
    let honest = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert!(honest.patients.iter().any(|p| p
        .consent
        .values()
        .any(|c| matches!(c, ConsentState::Consented))));
    if let Some(sb) = state.sandbox.lock().await.as_ref() {
        sb.set_hostile(jhe_sandbox::Hostile {
            forbid_consents: true,
            ..jhe_sandbox::Hostile::default()
        });
    }
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    assert_eq!(ov.patients.len(), honest.patients.len());
    for (p, h) in ov.patients.iter().zip(&honest.patients) {
        assert_eq!(p.id, h.id);
        assert_eq!(p.consent.len(), ov.types.len(), "participant {}", p.id);
        assert!(
            p.consent
                .values()
                .all(|c| matches!(c, ConsentState::NotVisible)),
            "participant {}: {:?}",
            p.id,
            p.consent
        );
        assert_eq!(
            p.counts, h.counts,
            "the counts do not depend on seeing consents"
        );
    }
    let p = &ov.patients[0];
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    assert_eq!(data.types.len(), ov.types.len());
    Ok(())
}

#[tokio::test]
async fn reports_of_the_study_and_of_a_participant_are_written_live_and_from_the_export_offline(
) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picker = FolderPicker::at(tmp.path().join("out"));
    let state = demo_app(picker.clone()).await?;
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    let total: u64 = ov.patients.iter().flat_map(|p| p.counts.values()).sum();
    let study_req = ReportRequest {
        study_id: STUDY,
        patient_id: None,
        range: DateRange::default(),
    };
    let events = Arc::new(Mutex::new(0usize));
    let sink = events.clone();
    let live = report::write_report(&state, "r-1", study_req.clone(), move |_| *sink.lock() += 1)
        .await?
        .ok_or("no report")?;
    assert!(*events.lock() > 0, "progress was reported");
    assert!(state.jobs.lock().is_empty(), "the job is forgotten");
    assert_eq!(live.participants, PATIENTS as u64);
    assert_eq!(
        live.observations, total,
        "every reading of the study is in it"
    );
    assert!(live.charts > 0);
    let html = std::fs::read_to_string(&live.path)?;
    assert!(html.contains(&ov.study.name.replace('&', "&amp;")));
    assert!(html.contains("(live)"));
    for p in &ov.patients {
        assert!(html.contains(&format!("<td class=\"num\">{}</td>", p.id)));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&live.path)?.permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a report holds health data: this user only");
    }
    report::open_report(&state, &live.path).await?;
    assert_eq!(
        picker.revealed.lock().last(),
        Some(&PathBuf::from(&live.path))
    );
    let outside = tmp.path().join("elsewhere.html");
    std::fs::write(&outside, "x")?;
    let e = report::open_report(&state, &outside.display().to_string())
        .await
        .err()
        .ok_or("opened a path the user did not choose")?;
    assert_eq!(e.kind(), ErrorKind::InvalidInput);

    // One participant: their name, only their data.
    let p = &ov.patients[0];
    let one = report::write_report(
        &state,
        "r-2",
        ReportRequest {
            patient_id: Some(p.id),
            ..study_req.clone()
        },
        |_| {},
    )
    .await?
    .ok_or("no report")?;
    assert_eq!(one.participants, 1);
    assert_eq!(one.observations, p.counts.values().sum::<u64>());
    let html = std::fs::read_to_string(&one.path)?;
    assert!(html.contains(&p.name_given));
    assert!(!html.contains(&ov.patients[1].name_given));

    // The same study from its export, offline: the same readings, and the export's findings.
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    // The folder holds the reports already: the export goes into a new folder inside it.
    let done = export::export_data(&state, "job-1", request(&dir), |_| {}).await?;
    offline::open_export(&state, &done.out_dir, None).await?;
    let off = report::write_report(&state, "r-3", study_req, |_| {})
        .await?
        .ok_or("no report")?;
    assert_eq!(off.observations, live.observations);
    assert_eq!(off.findings, live.findings, "findings.csv read back");
    let html = std::fs::read_to_string(&off.path)?;
    assert!(html.contains("export opened offline"));
    Ok(())
}

/// The audit log: a study overview, a participant view, an export, opening it offline and a
/// report each add one entry (who, which server, study, participant ids, rows, where written);
/// the chain verifies and an edited entry is named; the CSV lists every entry; no participant's
/// name or identifier is in the file.
#[tokio::test]
async fn data_operations_are_recorded_in_the_audit_log_without_names() -> TestResult {
    let tmp = tempfile::tempdir()?;
    let picker = FolderPicker::at(tmp.path().join("out"));
    let log_path = tmp.path().join("data").join("audit.jsonl");
    let state =
        AppState::new(picker, None).with_audit(Some(jhe_engine::audit::AuditLog::at(&log_path)));
    session::start_demo_with(&state, jhe_sandbox::Config::small()).await?;
    let ov = studies::study_overview(&state, STUDY, |_| {}).await?;
    let mut ids: Vec<u64> = ov.patients.iter().map(|p| p.id).collect();
    ids.sort_unstable();
    let p = ov.patients.first().ok_or("no participant")?;
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;
    let result = export::export_data(&state, "job-a", request(&dir), |_| {}).await?;

    let rows = audit::audit_log(&state, None).await?;
    let actions: Vec<&str> = rows.iter().map(|r| r.action.as_str()).collect();
    assert_eq!(actions, ["export", "retrieve", "overview"], "newest first");
    for r in &rows {
        assert_eq!(r.who, jhe_sandbox::demo::MARY);
        assert!(r.server.starts_with("http://127.0.0.1:"), "{}", r.server);
        assert!(r.client.starts_with("JHE Desktop"), "{}", r.client);
        assert_eq!(r.study, Some(STUDY));
    }
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(Path::new(&dir).join("manifest.json"))?)?;
    let exp = &rows[0];
    assert_eq!(exp.participants, ids);
    assert_eq!(Some(exp.rows), manifest["total_observations"].as_u64());
    assert!(exp.rows > 0);
    assert_eq!(exp.written_to.as_deref(), Some(result.out_dir.as_str()));
    assert!(exp.types.iter().any(|t| t == "omh:blood-glucose:4.0"));
    assert_eq!(rows[1].participants, [p.id]);
    assert_eq!(rows[1].rows, data.types.iter().map(|t| t.rows).sum::<u64>());
    assert_eq!(rows[2].participants, ids);

    offline::open_export(&state, &dir, None).await?;
    let req = ReportRequest {
        study_id: STUDY,
        patient_id: None,
        range: DateRange::default(),
    };
    let written = report::write_report(&state, "r", req, |_| {})
        .await?
        .ok_or("no report")?;
    let rows = audit::audit_log(&state, Some(2)).await?;
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0].action, "report");
    assert_eq!(rows[0].written_to.as_deref(), Some(written.path.as_str()));
    assert_eq!(rows[0].rows, written.observations);
    assert_eq!(rows[0].participants, ids, "the report's participants");
    assert!(rows[0].types.iter().any(|t| t == "omh:blood-glucose:4.0"));
    assert_eq!(rows[1].action, "offline_open");
    assert_eq!(rows[1].written_to.as_deref(), Some(dir.as_str()));
    assert_eq!(rows[1].participants, ids);

    let check = audit::verify_audit(&state).await?;
    assert!(check.ok && check.entries == 5, "{check:?}");
    let csv = format!("{dir}/audit.csv");
    audit::export_audit_csv(&state, &csv).await?;
    assert_eq!(std::fs::read_to_string(&csv)?.lines().count(), 6);

    let text = std::fs::read_to_string(&log_path)?;
    for p in &ov.patients {
        let mut phi = vec![p.name_given.as_str(), p.name_family.as_str()];
        phi.extend(p.identifiers.iter().map(|i| i.value.as_str()));
        for s in phi.into_iter().filter(|s| s.len() >= 3) {
            assert!(!text.contains(s), "the audit log names {s}");
        }
    }

    // Edit the export's row count: verify names entry 3.
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    lines[2] = lines[2].replacen(&format!("\"rows\":{}", exp.rows), "\"rows\":1", 1);
    std::fs::write(&log_path, lines.join("\n") + "\n")?;
    let check = audit::verify_audit(&state).await?;
    assert!(!check.ok);
    assert_eq!((check.broken_line, check.broken_seq), (Some(3), Some(3)));
    assert!(
        check
            .problem
            .as_deref()
            .is_some_and(|p| p.contains("edited")),
        "{check:?}"
    );
    Ok(())
}
