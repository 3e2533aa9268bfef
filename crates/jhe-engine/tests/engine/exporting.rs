//! Exports over real HTTP against the sandbox, with every fault injected: the result must be
//! complete and exact (rows = the server's total, no duplicates), resumable and explained.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::*;
use jhe_engine::cancel::CancelToken;
use jhe_engine::error::Error;
use jhe_engine::export::{Format, Layout};
use jhe_engine::jobs::{
    export_study, study_summary, ExportOutcome, ExportRequest, Phase, Progress,
};
use jhe_sandbox::{Faults, Sandbox};

async fn run(sb: &Sandbox, dir: &std::path::Path, format: Format) -> Result<ExportOutcome, Error> {
    let s = session(sb, MARY).await;
    let mut req = ExportRequest::new(DEMO_STUDY, dir);
    req.format = format;
    export_study(&s, req, |_| {}, CancelToken::new()).await
}

/// The export has every observation the server counts, each once.
fn assert_exact(sb: &Sandbox, out: &ExportOutcome) {
    let total = study_total(sb, DEMO_STUDY);
    assert!(out.complete, "complete: {:?}", out.warnings);
    assert!(out.manifest.server_total_mismatches.is_empty());
    assert_eq!(out.manifest.server_total, Some(total));
    let (rows, ids) = read_export(&out.out_dir, &out.manifest);
    assert_eq!(
        ids.len() as u64 + out.manifest.problems_count,
        total,
        "every observation once (problems are listed separately)"
    );
    assert_eq!(out.manifest.total_observations, ids.len() as u64);
    assert!(rows >= ids.len() as u64);
    assert!(out.out_dir.join("manifest.json").is_file());
    assert!(!out.out_dir.join(".jhe-partial").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_is_complete_and_exact() {
    let sb = sandbox().await;
    let dir = tempfile::tempdir().expect("tmp");
    let out = run(&sb, dir.path(), Format::Parquet).await.expect("export");
    assert_exact(&sb, &out);
    assert_eq!(out.units_total, out.units_fetched);
    assert_eq!(out.fetched, out.expected);
    assert!(out.manifest.files.iter().any(|f| f.role == "dictionary"));
    let csv = tempfile::tempdir().expect("tmp");
    let out = run(&sb, csv.path(), Format::Csv).await.expect("csv export");
    assert_exact(&sb, &out);
}

async fn with_faults(faults: Faults) -> (Sandbox, ExportOutcome, Duration) {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    sb.set_faults(faults);
    let dir = tempfile::tempdir().expect("tmp").keep();
    let t0 = Instant::now();
    let out = export_whole_study(&s, &dir)
        .await
        .expect("the export survives the faults");
    let took = t0.elapsed();
    sb.set_faults(Faults::default());
    assert_exact(&sb, &out);
    assert!(out.http.retries > 0, "faults were retried: {:?}", out.http);
    let _ = std::fs::remove_dir_all(&dir);
    (sb, out, took)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_survives_500_502_503_and_is_exact() {
    let (sb, out, _) = with_faults(Faults {
        error_rate: 0.3,
        seed: 7,
        ..Default::default()
    })
    .await;
    assert!(sb.fault_stats().errors.load(Ordering::Relaxed) > 0);
    assert!(out.http.server_errors > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_survives_dropped_connections_and_is_exact() {
    let (sb, out, _) = with_faults(Faults {
        drop_rate: 0.3,
        seed: 11,
        ..Default::default()
    })
    .await;
    assert!(sb.fault_stats().drops.load(Ordering::Relaxed) > 0);
    assert!(out.http.transport_errors > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_honours_retry_after_on_429_and_is_exact() {
    let (sb, out, took) = with_faults(Faults {
        rate_limit_rate: 0.15,
        retry_after_s: 1,
        seed: 3,
        ..Default::default()
    })
    .await;
    assert!(sb.fault_stats().rate_limited.load(Ordering::Relaxed) > 0);
    assert!(out.http.rate_limited > 0);
    assert!(took >= Duration::from_secs(1), "waited as told: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_survives_latency_and_every_fault_at_once() {
    with_faults(Faults {
        error_rate: 0.15,
        drop_rate: 0.15,
        rate_limit_rate: 0.1,
        retry_after_s: 0,
        latency_ms: 20,
        seed: 5,
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_survives_token_expiry_and_revocation() {
    let sb = sandbox().await;
    sb.set_token_lifetime(1);
    let s = session(&sb, MARY).await;
    sb.set_faults(Faults {
        latency_ms: 40,
        ..Default::default()
    });
    let revoked = AtomicBool::new(false);
    let dir = tempfile::tempdir().expect("tmp");
    let out = export_study(
        &s,
        ExportRequest::new(DEMO_STUDY, dir.path()),
        |p: Progress| {
            if p.phase == Phase::Fetching
                && p.units_done >= 2
                && !revoked.swap(true, Ordering::Relaxed)
            {
                sb.revoke_all_tokens();
            }
        },
        CancelToken::new(),
    )
    .await
    .expect("silent re-authentication");
    sb.set_faults(Faults::default());
    assert!(revoked.load(Ordering::Relaxed));
    assert!(out.http.reauthentications >= 1, "{:?}", out.http);
    assert_exact(&sb, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_then_resume_gives_the_same_data_without_duplicates() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let dir = tempfile::tempdir().expect("tmp");
    let cancel = CancelToken::new();
    let seen_done = AtomicUsize::new(0);
    let r = export_study(
        &s,
        ExportRequest::new(DEMO_STUDY, dir.path()),
        |p: Progress| {
            seen_done.store(p.units_done, Ordering::Relaxed);
            if p.units_done >= 4 {
                cancel.cancel();
            }
        },
        cancel.clone(),
    )
    .await;
    assert!(matches!(r, Err(Error::Cancelled)), "{r:?}");
    assert!(
        !dir.path().join("manifest.json").exists(),
        "no final files after a cancel"
    );
    assert!(dir.path().join(".jhe-partial").is_dir(), "progress kept");

    let resumed = export_whole_study(&s, dir.path()).await.expect("resumed");
    assert!(
        resumed.units_resumed >= 4,
        "{} units resumed",
        resumed.units_resumed
    );
    assert!(resumed.units_fetched < resumed.units_total);
    // progress counts only what is still to come
    assert_eq!(resumed.expected, resumed.fetched);
    assert!(resumed.fetched < resumed.manifest.total_observations);
    assert_exact(&sb, &resumed);

    let fresh_dir = tempfile::tempdir().expect("tmp");
    let fresh = export_whole_study(&s, fresh_dir.path())
        .await
        .expect("uninterrupted");
    assert_eq!(fresh.units_resumed, 0);
    assert_eq!(resumed.manifest.table_rows, fresh.manifest.table_rows);
    assert_eq!(
        resumed.manifest.total_observations,
        fresh.manifest.total_observations
    );
    let (_, a) = read_export(&resumed.out_dir, &resumed.manifest);
    let (_, b) = read_export(&fresh.out_dir, &fresh.manifest);
    assert_eq!(a, b, "the same observations");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failure_keeps_the_finished_units_and_a_rerun_resumes() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    // Few retries, and the server fails every request once the export is under way.
    let mut opts = fast();
    opts.retry.max_retries = 1;
    let s = jhe_engine::api::Session::sign_in_with_api_key(&info, &api_key(&sb, MARY), opts)
        .await
        .expect("signed in");
    let dir = tempfile::tempdir().expect("tmp");
    let broke = AtomicBool::new(false);
    let r = export_study(
        &s,
        ExportRequest::new(DEMO_STUDY, dir.path()),
        |p: Progress| {
            if p.units_done >= 3 && !broke.swap(true, Ordering::Relaxed) {
                sb.set_faults(Faults {
                    error_rate: 1.0,
                    ..Default::default()
                });
            }
        },
        CancelToken::new(),
    )
    .await;
    let e = r.expect_err("the server keeps failing");
    assert!(matches!(e, Error::Server { .. }), "{e:?}");
    assert!(e.to_string().contains("resumes where it stopped"), "{e}");
    assert!(!e.to_string().contains("<html"), "HTML summarised: {e}");
    sb.set_faults(Faults::default());
    let out = export_whole_study(&s, dir.path()).await.expect("resumed");
    assert!(out.units_resumed >= 3, "{}", out.units_resumed);
    assert_exact(&sb, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exporting_a_study_the_user_cannot_see_is_explained() {
    let sb = sandbox().await;
    let s = session(&sb, TOM).await;
    let dir = tempfile::tempdir().expect("tmp");
    let e = export_whole_study(&s, dir.path()).await.expect_err("403");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("ask its manager"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_by_participant_type_and_dates_match_the_server_counts() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let patients = s.study_patients(DEMO_STUDY).await.expect("patients");
    let pid = patients[1].id;
    let first = s
        .observation_edge(
            &jhe_engine::api::ObservationQuery {
                study_id: Some(DEMO_STUDY),
                patient_id: Some(pid),
                ..Default::default()
            },
            true,
        )
        .await
        .expect("first")
        .expect("data");
    let day = first["effectiveDateTime"]
        .as_str()
        .or_else(|| {
            first
                .pointer("/effectivePeriod/start")
                .and_then(|v| v.as_str())
        })
        .and_then(|s| chrono::NaiveDate::parse_from_str(&s[..10], "%Y-%m-%d").ok())
        .expect("a date");
    let mut req = ExportRequest::new(DEMO_STUDY, tempfile::tempdir().expect("tmp").keep());
    req.patient_ids = Some(vec![pid]);
    req.codes = Some(vec!["heart-rate".into(), "omh:blood-glucose:4.0".into()]);
    req.date_from = Some(day);
    req.date_to = Some(day);
    req.format = Format::Csv;
    req.layout = Layout::Long;
    let out = export_study(&s, req.clone(), |_| {}, CancelToken::new())
        .await
        .expect("export");
    assert!(out.complete, "{:?}", out.warnings);
    assert_eq!(out.units_total, 2);
    let mut expected = 0;
    for code in ["omh:heart-rate:2.0", "omh:blood-glucose:4.0"] {
        expected += s
            .observation_count(&jhe_engine::api::ObservationQuery {
                study_id: Some(DEMO_STUDY),
                patient_id: Some(pid),
                code: Some(("https://w3id.org/openmhealth".into(), code.into())),
                date_from: Some(day),
                date_to: Some(day),
                updated_since: None,
            })
            .await
            .expect("count");
    }
    assert!(expected > 0);
    assert_eq!(out.fetched, expected);
    assert_eq!(out.manifest.server_total, Some(expected));
    let (_, ids) = read_export(&out.out_dir, &out.manifest);
    assert_eq!(ids.len() as u64 + out.manifest.problems_count, expected);
    let _ = std::fs::remove_dir_all(&out.out_dir);

    // Wrong input is explained.
    let mut bad = req.clone();
    bad.codes = Some(vec!["steps-per-fortnight".into()]);
    let e = export_study(&s, bad, |_| {}, CancelToken::new())
        .await
        .expect_err("unknown type");
    assert!(
        matches!(e, Error::InvalidInput(_)) && e.to_string().contains("does not collect"),
        "{e}"
    );
    let mut bad = req.clone();
    bad.patient_ids = Some(vec![40001]);
    let e = export_study(&s, bad, |_| {}, CancelToken::new())
        .await
        .expect_err("not in the study");
    assert!(e.to_string().contains("not a participant"), "{e}");
    let mut bad = req;
    bad.date_from = day.succ_opt();
    let e = export_study(&s, bad, |_| {}, CancelToken::new())
        .await
        .expect_err("dates reversed");
    assert_eq!(e.exit_code(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dirty_data_is_reported_not_fatal() {
    // Deliberately dirty sandbox data, plus a proxy that breaks a few payloads outright.
    let sb = sandbox_with(jhe_sandbox::Config {
        dirty_share: 0.2,
        ..small()
    })
    .await;
    let p = proxy(sb.url(), None, true).await;
    let info = jhe_engine::server_check::check_server(&p.url)
        .await
        .expect("JHE");
    let s = jhe_engine::api::Session::sign_in_with_api_key(&info, &api_key(&sb, MARY), fast())
        .await
        .expect("signed in");
    let dir = tempfile::tempdir().expect("tmp");
    let out = export_whole_study(&s, dir.path())
        .await
        .expect("dirty data does not stop the export");
    let broken = p.corrupted.lock().expect("lock").len() as u64;
    assert!(broken > 0);
    assert!(
        out.manifest.problems_count >= broken,
        "{} problems",
        out.manifest.problems_count
    );
    assert!(out.complete, "all rows arrived: {:?}", out.warnings);
    assert!(
        out.warnings.iter().any(|w| w.contains("problems.csv")),
        "{:?}",
        out.warnings
    );
    assert!(dir.path().join("problems.csv").is_file());
    assert_exact(&sb, &out);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn study_summary_matches_the_server() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let sum = study_summary(&s, DEMO_STUDY, 4, |_| {}, CancelToken::new())
        .await
        .expect("summary");
    assert_eq!(sum.patients.len(), 3);
    let total: u64 = sum.patients.iter().map(|p| p.total).sum();
    assert_eq!(total, study_total(&sb, DEMO_STUDY));
    for p in &sum.patients {
        assert_eq!(p.counts.len(), sum.scopes.len());
        assert_eq!(p.consents.len(), sum.scopes.len());
        if p.total > 0 {
            assert!(
                p.first_date <= p.last_date,
                "{:?} {:?}",
                p.first_date,
                p.last_date
            );
            assert!(p.days_since_last_upload.is_some_and(|d| d >= 0));
        }
    }
    let v = serde_json::to_value(&sum).expect("serialisable for the UI");
    assert!(v["patients"][0]["consents"].is_object());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_missing_against_the_servers_total_are_reported_as_incomplete() {
    let sb = sandbox().await;
    let p = proxy(sb.url(), None, false).await;
    p.drop_heart_rate.store(true, Ordering::Relaxed);
    let info = jhe_engine::server_check::check_server(&p.url)
        .await
        .expect("JHE");
    let s = jhe_engine::api::Session::sign_in_with_api_key(&info, &api_key(&sb, MARY), fast())
        .await
        .expect("signed in");
    let dir = tempfile::tempdir().expect("tmp");
    let out = export_whole_study(&s, dir.path()).await.expect("finishes");
    assert!(!out.complete);
    assert!(!out.manifest.server_total_mismatches.is_empty());
    assert!(
        out.warnings
            .iter()
            .any(|w| w.contains("incomplete") && w.contains("omh:heart-rate:2.0")),
        "{:?}",
        out.warnings
    );
    assert!(out.fetched < out.expected);
    // Once the rows arrive, the same export is complete.
    p.drop_heart_rate.store(false, Ordering::Relaxed);
    let out = export_whole_study(&s, dir.path()).await.expect("finishes");
    assert_exact(&sb, &out);
}

/// "Last data" is never in the future: readings with a wrong device clock (the sandbox plants
/// some dated days after now) do not count as the participant's latest data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_data_is_never_after_today() {
    let sb = sandbox_with(jhe_sandbox::Config {
        dirty_share: 0.3,
        ..jhe_sandbox::Config::small()
    })
    .await;
    assert!(
        sb.planted_defects()
            .iter()
            .any(|(_, _, d)| *d == jhe_sandbox::generate::DirtyKind::FutureTimestamp),
        "the sandbox planted future-dated readings"
    );
    let s = session(&sb, MARY).await;
    let sum = study_summary(&s, DEMO_STUDY, 4, |_| {}, CancelToken::new())
        .await
        .expect("summary");
    let tomorrow = (chrono::Utc::now().date_naive() + chrono::Duration::days(1)).to_string();
    for p in &sum.patients {
        if let Some(last) = &p.last_date {
            assert!(
                last.as_str() < tomorrow.as_str(),
                "participant {}: {last}",
                p.patient.id
            );
        }
    }
}
