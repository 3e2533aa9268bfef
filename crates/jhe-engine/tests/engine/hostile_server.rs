//! A lying or broken server cannot take the client's secrets elsewhere, exhaust its memory or
//! crash it: scenarios over real HTTP against the sandbox's hostile modes (`jhe_sandbox::Hostile`).

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use crate::common::*;
use jhe_engine::api::Session;
use jhe_engine::cancel::CancelToken;
use jhe_engine::jobs::{export_study, ExportRequest};
use jhe_sandbox::{EndlessPages, Hostile, HostileBody, Redirect, RedirectTo, Sandbox};

fn trapped(sb: &Sandbox) -> u64 {
    sb.hostile_stats().trapped.load(Ordering::Relaxed)
}

async fn sign_in(sb: &Sandbox) -> jhe_engine::error::Result<Session> {
    let info = server(sb).await;
    Session::sign_in_with_api_key(&info, &api_key(sb, MARY), fast()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_on_the_token_endpoint_is_not_followed_and_the_key_goes_nowhere_else() {
    for status in [302, 307] {
        for to in [RedirectTo::OtherOrigin, RedirectTo::Http] {
            let sb = sandbox().await;
            sb.set_hostile(Hostile {
                token_redirect: Some(Redirect {
                    status,
                    to: to.clone(),
                }),
                ..Hostile::default()
            });
            let err = match sign_in(&sb).await {
                Ok(_) => panic!("{status} {to:?}: a redirected sign-in must not succeed"),
                Err(e) => e,
            };
            assert!(
                err.to_string().contains("redirect"),
                "{status} {to:?}: the message says why: {err}"
            );
            assert_eq!(
                trapped(&sb),
                0,
                "{status} {to:?}: nothing reached the other origin"
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_redirect_to_another_origin_is_not_followed_with_the_token() {
    let sb = sandbox().await;
    let s = sign_in(&sb).await.expect("honest sign-in");
    sb.set_hostile(Hostile {
        api_redirect: Some(Redirect {
            status: 302,
            to: RedirectTo::OtherOrigin,
        }),
        ..Hostile::default()
    });
    assert!(
        s.studies(None).await.is_err(),
        "a redirected answer is no answer"
    );
    assert_eq!(
        trapped(&sb),
        0,
        "the bearer token never went to the other origin"
    );
}

async fn export_with_body(body: HostileBody) -> (String, Duration) {
    let sb = sandbox().await;
    let s = sign_in(&sb).await.expect("honest sign-in");
    sb.set_hostile(Hostile {
        body: Some(body),
        body_paths: vec!["/FHIR/R5/Observation".into()],
        bomb_mib: 256,
        ..Hostile::default()
    });
    let dir = tempfile::tempdir().expect("tmp");
    let started = Instant::now();
    let req = ExportRequest::new(DEMO_STUDY, dir.path());
    let err = export_study(&s, req, |_| {}, CancelToken::new())
        .await
        .map(|_| ())
        .expect_err("an export from a server that sends a bomb cannot succeed");
    (err.to_string(), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gzip_bomb_page_is_an_error_not_an_out_of_memory() {
    let (msg, took) = export_with_body(HostileBody::GzipBomb).await;
    assert!(msg.contains("larger than 64 MiB"), "plain message: {msg}");
    assert!(
        took < Duration::from_secs(60),
        "stopped at the cap ({took:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_body_is_an_error_not_a_hang() {
    let (msg, took) = export_with_body(HostileBody::Endless).await;
    assert!(msg.contains("larger than 64 MiB"), "plain message: {msg}");
    assert!(
        took < Duration::from_secs(60),
        "stopped at the cap ({took:?})"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_absurd_expires_in_neither_panics_nor_fails_the_sign_in() {
    for v in [
        serde_json::json!(i64::MAX),
        serde_json::json!(1e300),
        serde_json::json!(u64::MAX),
        serde_json::json!(-1),
        serde_json::json!("soon"),
    ] {
        let sb = sandbox().await;
        sb.set_hostile(Hostile {
            expires_in: Some(v.clone()),
            ..Hostile::default()
        });
        let s = sign_in(&sb)
            .await
            .unwrap_or_else(|e| panic!("expires_in {v}: {e}"));
        let studies = s
            .studies(None)
            .await
            .unwrap_or_else(|e| panic!("expires_in {v}: {e}"));
        assert!(!studies.is_empty(), "expires_in {v}: the session works");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_links_that_drop_or_change_the_filters_cannot_widen_the_export() {
    let sb = sandbox().await;
    let s = sign_in(&sb).await.expect("honest sign-in");
    let total = study_total(&sb, DEMO_STUDY);
    sb.set_hostile(Hostile {
        next_drop: vec!["patient".into(), "code".into(), "date".into()],
        next_set: [("_sort".to_string(), "-_lastUpdated".to_string())]
            .into_iter()
            .collect(),
        ..Hostile::default()
    });
    let dir = tempfile::tempdir().expect("tmp");
    let out = export_whole_study(&s, dir.path())
        .await
        .expect("the export follows the pages with its own filters");
    assert!(out.complete, "complete: {:?}", out.warnings);
    assert_eq!(
        out.manifest.duplicates_dropped, 0,
        "no row of another search came in"
    );
    assert_eq!(
        out.manifest.total_observations + out.manifest.problems_count,
        total,
        "exactly the study's observations"
    );
}

async fn export_with_endless_pages(
    mode: EndlessPages,
) -> (jhe_engine::error::Result<()>, Duration) {
    let sb = sandbox().await;
    let s = sign_in(&sb).await.expect("honest sign-in");
    sb.set_hostile(Hostile {
        endless_pages: Some(mode),
        ..Hostile::default()
    });
    let dir = tempfile::tempdir().expect("tmp");
    let started = Instant::now();
    let run = export_whole_study(&s, dir.path());
    let res = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .unwrap_or_else(|_| panic!("{mode:?}: the export kept paging for two minutes"));
    (res.map(|_| ()), started.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_that_never_end_stop_the_export_with_a_plain_message() {
    for mode in [EndlessPages::Repeat, EndlessPages::Empty] {
        let (res, took) = export_with_endless_pages(mode).await;
        let err = res.expect_err("a server that never stops paging cannot give a complete export");
        let msg = err.to_string();
        assert!(
            msg.contains("kept sending pages"),
            "{mode:?}: plain message: {msg}"
        );
        eprintln!("{mode:?}: the export stopped after {took:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fhir_search_whose_pages_never_end_stops_with_a_plain_message() {
    for mode in [EndlessPages::Repeat, EndlessPages::Empty] {
        let sb = sandbox().await;
        let s = sign_in(&sb).await.expect("honest sign-in");
        sb.set_hostile(Hostile {
            endless_pages: Some(mode),
            ..Hostile::default()
        });
        let q = jhe_engine::api::ObservationQuery {
            study_id: Some(DEMO_STUDY),
            ..Default::default()
        };
        let cancel = CancelToken::new();
        let walk = jhe_engine::fetch::fetch_observations(&s, &q, &cancel, &|_| {});
        let res = tokio::time::timeout(Duration::from_secs(120), walk)
            .await
            .unwrap_or_else(|_| panic!("{mode:?}: the search kept paging for two minutes"));
        let msg = res
            .map(|_| ())
            .expect_err("a search that never ends is not a result")
            .to_string();
        assert!(msg.contains("kept sending pages"), "{mode:?}: {msg}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rows_the_search_did_not_ask_for_are_left_out_and_reported() {
    use jhe_sandbox::ForeignRows;
    for kind in [
        ForeignRows::OtherPatient,
        ForeignRows::OtherCode,
        ForeignRows::OutsideWindow,
    ] {
        let sb = sandbox().await;
        let s = sign_in(&sb).await.expect("honest sign-in");
        let dir = tempfile::tempdir().expect("tmp");
        let mut req = ExportRequest::new(DEMO_STUDY, dir.path());
        // One participant, one day: what an honest server sends for it is the reference.
        let patient = s.study_patients(DEMO_STUDY).await.expect("patients")[0].id;
        let day = chrono::NaiveDate::parse_from_str(&sb.info().data.data_end[..10], "%Y-%m-%d")
            .expect("data end is a date")
            .pred_opt()
            .expect("a day before");
        req.patient_ids = Some(vec![patient]);
        req.date_from = Some(day);
        req.date_to = Some(day);
        let honest = export_study(&s, req.clone(), |_| {}, CancelToken::new())
            .await
            .expect("honest export");
        assert!(honest.manifest.total_observations > 0, "the day has data");
        assert_eq!(honest.manifest.foreign_rows_dropped, 0);

        sb.set_hostile(Hostile {
            foreign_rows: Some(kind),
            ..Hostile::default()
        });
        let dir2 = tempfile::tempdir().expect("tmp");
        req.out_dir = dir2.path().to_path_buf();
        let out = export_study(&s, req, |_| {}, CancelToken::new())
            .await
            .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
        let m = &out.manifest;
        assert!(
            m.foreign_rows_dropped > 0,
            "{kind:?}: the foreign rows are counted"
        );
        assert_eq!(
            m.total_observations, honest.manifest.total_observations,
            "{kind:?}: exactly what the honest server sent, nothing else"
        );
        let (_, ids) = read_export(dir2.path(), m);
        let (_, honest_ids) = read_export(dir.path(), &honest.manifest);
        assert_eq!(
            ids, honest_ids,
            "{kind:?}: the same observations in the files"
        );
        let listed = std::fs::read_to_string(dir2.path().join("problems.csv")).unwrap_or_default();
        assert_eq!(
            listed.matches("not asked for").count() as u64,
            m.foreign_rows_dropped,
            "{kind:?}: each one is listed in problems.csv"
        );
        assert!(
            m.units.iter().any(|u| u.suspect),
            "{kind:?}: the unit is suspect"
        );
        assert_eq!(
            m.problems_count, honest.manifest.problems_count,
            "{kind:?}: not malformed"
        );
        assert!(
            out.warnings.iter().any(|w| w.contains("not asked for")),
            "{kind:?}: the user is told: {:?}",
            out.warnings
        );
    }
}

/// One broken row fails alone, never its page or the export: bytes that are not UTF-8, an OMH
/// effective time in the year 0001, a duration of 10^300 hours (once an overflow), and a payload
/// whose OMH `schema_id` names another type than its code. The first three are listed in
/// `problems.csv` as malformed; the last is a row not asked for, so its unit is suspect. The same
/// holds for the Admin API's list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broken_rows_fail_one_by_one_and_the_rest_of_their_page_is_exported() {
    let sb = sandbox().await;
    let s = sign_in(&sb).await.expect("honest sign-in");
    let patient = s.study_patients(DEMO_STUDY).await.expect("patients")[0].id;
    let dir = tempfile::tempdir().expect("tmp");
    let mut req = ExportRequest::new(DEMO_STUDY, dir.path());
    req.patient_ids = Some(vec![patient]);
    let honest = export_study(&s, req.clone(), |_| {}, CancelToken::new())
        .await
        .expect("honest export");
    let (_, honest_ids) = read_export(dir.path(), &honest.manifest);

    sb.set_hostile(Hostile {
        broken_records: true,
        ..Hostile::default()
    });
    let dir2 = tempfile::tempdir().expect("tmp");
    req.out_dir = dir2.path().to_path_buf();
    let out = export_study(&s, req, |_| {}, CancelToken::new())
        .await
        .expect("the export survives broken rows");
    let m = &out.manifest;
    let malformed = m.problems_count - honest.manifest.problems_count;
    assert!(malformed >= 3, "three kinds of malformed rows: {malformed}");
    assert!(m.foreign_rows_dropped >= 1, "the row of another schema");
    assert_eq!(
        m.total_observations + malformed + m.foreign_rows_dropped,
        honest.manifest.total_observations,
        "every row is either exported or reported"
    );
    let (_, ids) = read_export(dir2.path(), m);
    assert!(ids.is_subset(&honest_ids));
    assert_eq!(ids.len() as u64, m.total_observations);
    let listed = std::fs::read_to_string(dir2.path().join("problems.csv")).expect("problems.csv");
    for what in [
        "invalid UTF-8",
        "0001-01-01T00:00:00Z is out of range",
        "duration 1e300 h is out of range",
        "names the schema omh:heart-rate",
    ] {
        assert!(
            listed.contains(what),
            "problems.csv names {what:?}:\n{listed}"
        );
    }
    assert!(
        m.units.iter().any(|u| u.suspect),
        "the unit with the other schema is suspect"
    );

    // The Admin API's list: the page is read, the broken items are problems.
    let org = s.study(DEMO_STUDY).await.expect("study").organization.id;
    let admin = s
        .admin_observations(org, DEMO_STUDY, Some(patient))
        .await
        .expect("an Admin page with broken items is still read");
    assert!(!admin.observations.is_empty());
    assert!(
        admin
            .problems
            .iter()
            .any(|p| p.message.contains("invalid UTF-8") && p.observation_id > 0),
        "{:?}",
        admin.problems
    );
}
