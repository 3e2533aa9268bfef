//! Reading the Admin and FHIR APIs over real HTTP: organizations with roles, studies,
//! participants, scopes, consents, data sources, counts, and JHE's authorization quirks.

use crate::common::*;
use jhe_engine::api::types::ConsentState;
use jhe_engine::api::ObservationQuery;
use jhe_engine::error::Error;

#[tokio::test]
async fn organizations_come_with_the_users_role() {
    let sb = sandbox().await;
    let s = session(&sb, TOM).await;
    let orgs = s.organizations().await.expect("orgs");
    let ids: Vec<u64> = orgs.iter().map(|o| o.id).collect();
    assert_eq!(ids, vec![20003, 20007, 20008]);
    let role = |id| {
        orgs.iter()
            .find(|o| o.id == id)
            .and_then(|o| o.current_user_role.clone())
    };
    assert_eq!(role(20003).as_deref(), Some("viewer"));
    assert_eq!(role(20007).as_deref(), Some("member"));
    assert_eq!(role(20008).as_deref(), Some("manager"));
}

#[tokio::test]
async fn studies_patients_scopes_consents_and_data_sources() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let studies = s.studies(None).await.expect("studies");
    assert!(studies
        .iter()
        .any(|st| st.id == DEMO_STUDY && st.organization.id == 20001));
    let only = s.studies(Some(20003)).await.expect("studies of one org");
    assert!(only.iter().all(|st| st.organization.id == 20003) && !only.is_empty());

    let patients = s.study_patients(DEMO_STUDY).await.expect("patients");
    assert_eq!(patients.len(), 3);
    assert!(patients.windows(2).all(|w| w[0].id < w[1].id));

    let scopes = s.study_scopes(DEMO_STUDY).await.expect("scopes");
    assert!(scopes
        .iter()
        .any(|c| c.coding_code == "omh:blood-glucose:4.0"));
    assert!(scopes.iter().all(|c| !c.coding_system.is_empty()));

    let consents = s.patient_consents(patients[0].id).await.expect("consents");
    let states: Vec<ConsentState> = scopes
        .iter()
        .map(|c| consents.state(DEMO_STUDY, &c.coding_system, &c.coding_code))
        .collect();
    assert!(states.contains(&ConsentState::Consented), "{states:?}");

    let sources = s
        .study_data_sources(DEMO_STUDY)
        .await
        .expect("study data sources");
    assert!(!sources.is_empty());
    let all = s.data_sources().await.expect("data sources");
    assert!(all.len() >= sources.len());
}

#[tokio::test]
async fn counts_and_first_last_dates_through_fhir() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    let q = ObservationQuery {
        study_id: Some(DEMO_STUDY),
        ..Default::default()
    };
    let total = s.observation_count(&q).await.expect("count");
    assert_eq!(total, study_total(&sb, DEMO_STUDY));
    let first = s
        .observation_edge(&q, true)
        .await
        .expect("first")
        .expect("some");
    let last = s
        .observation_edge(&q, false)
        .await
        .expect("last")
        .expect("some");
    let date = |r: &serde_json::Value| {
        r.get("effectiveDateTime")
            .or_else(|| r.pointer("/effectivePeriod/start"))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    assert!(date(&first) <= date(&last));
}

#[tokio::test]
async fn a_study_the_user_cannot_see_is_explained_and_not_retried() {
    let sb = sandbox().await;
    let s = session(&sb, TOM).await;
    let before = s.stats().requests;
    let e = s.study(DEMO_STUDY).await.expect_err("403");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    assert!(e.to_string().contains("ask its manager"), "{e}");
    assert_eq!(e.exit_code(), 4);
    assert_eq!(s.stats().requests - before, 1, "403 is never retried");
    // FHIR answers 403 for a study outside the user's organizations, too.
    let q = ObservationQuery {
        study_id: Some(DEMO_STUDY),
        ..Default::default()
    };
    let e = s.observation_count(&q).await.expect_err("403");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
    // A study that does not exist is a 403 on JHE as well.
    let e = s.study(39999).await.expect_err("403");
    assert!(matches!(e, Error::Forbidden { .. }), "{e:?}");
}

#[tokio::test]
async fn next_links_are_rebased_onto_the_configured_address() {
    let sb = sandbox().await;
    // Behind this proxy the server builds its links for 127.0.0.1:1, where nothing listens.
    let p = proxy(sb.url(), Some("127.0.0.1:1"), false).await;
    let info = jhe_engine::server_check::check_server(&p.url)
        .await
        .expect("JHE");
    let s = jhe_engine::api::Session::sign_in_with_api_key(&info, &api_key(&sb, MARY), fast())
        .await
        .expect("signed in through the proxy");
    let q = ObservationQuery {
        study_id: Some(DEMO_STUDY),
        ..Default::default()
    };
    let cancel = jhe_engine::cancel::CancelToken::new();
    let f = jhe_engine::fetch::fetch_observations(&s, &q, &cancel, &|_| {})
        .await
        .expect("all pages");
    assert!(f.pages > 1, "more than one page: {}", f.pages);
    assert_eq!(f.received(), f.server_total);
    assert_eq!(f.server_total, study_total(&sb, DEMO_STUDY));
    // Admin API pagination too (page_size=1000 needs more than 1000 rows: the observations).
    let org = 20001;
    let rows = s
        .admin_observations(org, DEMO_STUDY, None)
        .await
        .expect("admin pages");
    assert_eq!(
        (rows.observations.len() + rows.problems.len()) as u64,
        study_total(&sb, DEMO_STUDY)
    );
    assert_eq!(rows.duplicates, 0);
    // every participant of the study is named
    let patients = s.study_patients(DEMO_STUDY).await.expect("patients");
    for p in &patients {
        if rows.observations.iter().any(|o| o.patient_id == p.id) {
            assert!(rows.patient_names.contains_key(&p.id), "{} named", p.id);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_outs_are_retried() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let mut opts = fast();
    opts.retry.request_timeout = std::time::Duration::from_millis(150);
    let s = jhe_engine::api::Session::sign_in_with_api_key(&info, &api_key(&sb, MARY), opts)
        .await
        .expect("signed in");
    // Every answer takes longer than the client waits, for a while.
    sb.set_faults(jhe_sandbox::Faults {
        latency_ms: 400,
        ..Default::default()
    });
    let studies = {
        let sb = &sb;
        let heal = async {
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
            sb.set_faults(jhe_sandbox::Faults::default());
        };
        let (r, ()) = tokio::join!(s.studies(None), heal);
        r
    };
    assert!(studies
        .expect("retried until the server answered in time")
        .iter()
        .any(|st| st.id == DEMO_STUDY));
    assert!(s.stats().transport_errors >= 1, "{:?}", s.stats());
}
