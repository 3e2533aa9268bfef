//! Scenarios a client must cope with, over real HTTP: complete paging in both APIs, JHE's
//! authorization quirks, uploads while a client syncs, and every injected fault.

use std::collections::HashSet;

use jhe_sandbox::{Config, Faults, Sandbox};
use serde_json::Value;

use crate::common::Client;

/// A sandbox of `patients` x `days` and a client signed in as Mary (manager of the demo study).
async fn mary_on(patients: u32, days: u32) -> (Sandbox, Client) {
    let sb = Sandbox::start(Config {
        patients,
        days,
        ..Config::default()
    })
    .await
    .unwrap();
    let c = Client::new(&sb, "manager_mary@example.com", reqwest::Client::new()).await;
    (sb, c)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_whole_study_pages_completely_in_both_apis() {
    let (sb, c) = mary_on(6, 5).await;
    let expected = sb
        .info()
        .studies
        .iter()
        .find(|s| s.id == 30006)
        .unwrap()
        .observations;
    assert!(expected > 8000, "{expected}");
    let (total, ids) = c
        .fhir_all("patient._has:Group:member:_id=30006&_count=1000&_sort=date")
        .await;
    assert_eq!(total as usize, expected);
    assert_eq!(ids.len(), expected);
    assert_eq!(
        ids.iter().collect::<HashSet<_>>().len(),
        expected,
        "no duplicates across pages"
    );
    let (_, count) = c
        .get("/FHIR/R5/Observation?patient._has:Group:member:_id=30006&_summary=count")
        .await;
    assert_eq!(count["total"].as_u64().unwrap() as usize, expected);
    assert!(count["entry"].as_array().unwrap().is_empty());

    let mut admin_ids = HashSet::new();
    let mut next = Some(format!(
        "{}/api/v1/observations?organization_id=20001&study_id=30006&page_size=1000",
        c.url
    ));
    let mut count = 0;
    while let Some(u) = next {
        let (s, page) = c.get(&u).await;
        assert_eq!(s, 200);
        count = page["count"].as_u64().unwrap() as usize;
        for r in page["results"].as_array().unwrap() {
            assert!(r["omhData"]["header"]["uuid"].is_string());
            admin_ids.insert(r["id"].as_u64().unwrap().to_string());
        }
        next = page["next"].as_str().map(str::to_string);
    }
    assert_eq!(count, expected);
    assert_eq!(
        admin_ids,
        ids.into_iter().collect::<HashSet<_>>(),
        "both APIs hold the same rows"
    );

    // The per-type split adds up; a code without a system matches nothing.
    let mut sum = 0;
    for code in [
        "omh:blood-glucose:4.0",
        "omh:heart-rate:2.0",
        "omh:step-count:3.0",
        "omh:blood-pressure:4.0",
        "omh:body-weight:3.0",
        "omh:oxygen-saturation:2.0",
        "omh:respiratory-rate:2.0",
        "omh:sleep-duration:2.0",
        "omh:physical-activity:1.2",
    ] {
        let (_, b) = c.get(&format!("/FHIR/R5/Observation?patient._has:Group:member:_id=30006&code=https://w3id.org/openmhealth|{code}&_summary=count")).await;
        sum += b["total"].as_u64().unwrap() as usize;
    }
    assert_eq!(sum, expected);
    let (_, none) = c
        .get("/FHIR/R5/Observation?patient._has:Group:member:_id=30006&code=omh:blood-glucose:4.0")
        .await;
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn the_authorization_quirks_of_jhe() {
    let sb = Sandbox::start(Config {
        end_us: Some(1_795_658_400_000_000),
        ..Config::default()
    })
    .await
    .unwrap();
    let mary = Client::new(&sb, "manager_mary@example.com", reqwest::Client::new()).await;
    let mark = Client::new(&sb, "manager_mark@example.com", reqwest::Client::new()).await;
    // Another organization's study: empty 200 in the Admin API, 403 in FHIR; missing study 403.
    let (s, b) = mary.get("/api/v1/observations?study_id=30003").await;
    assert_eq!((s, b["count"].as_u64()), (200, Some(0)));
    assert_eq!(
        mary.get("/FHIR/R5/Observation?patient._has:Group:member:_id=30003")
            .await
            .0,
        403
    );
    assert_eq!(mary.get("/api/v1/studies/30003").await.0, 403);
    assert_eq!(mary.get("/api/v1/studies/99999").await.0, 403);
    // Any practitioner reads any patient's demographics, but not their consents or FHIR record.
    assert_eq!(mary.get("/api/v1/patients/40003").await.0, 200);
    assert_eq!(mary.get("/api/v1/patients/40003/consents").await.0, 403);
    assert_eq!(mary.get("/FHIR/R5/Patient/40003").await.0, 404);
    // Mark sees only his organizations' three base rows.
    let (_, b) = mark.get("/api/v1/observations?page_size=2").await;
    assert_eq!(b["count"], 3);
    // The study filter keeps the study's requested types only: temperature uploaded by some
    // participants is visible per patient but not in the study.
    let (_, all) = mary.get("/FHIR/R5/Observation?patient.organization=20001&code=https://w3id.org/openmhealth|omh:body-temperature:4.0&_summary=count").await;
    let (_, in_study) = mary.get("/FHIR/R5/Observation?patient._has:Group:member:_id=30006&code=https://w3id.org/openmhealth|omh:body-temperature:4.0&_summary=count").await;
    assert!(
        all["total"].as_u64().unwrap() > 0,
        "out-of-scope temperature exists"
    );
    assert_eq!(in_study["total"], 0);
    // Unknown parameters are ignored (the unfiltered set comes back).
    let (_, everything) = mary.get("/FHIR/R5/Observation?_summary=count").await;
    let (_, ignored) = mary
        .get("/FHIR/R5/Observation?subject=Patient/40001&_summary=count")
        .await;
    assert_eq!(everything["total"], ignored["total"]);
    // The client must never send reset=true: the sandbox refuses rather than delete consents.
    let (s, b) = mary.get("/api/v1/patients/40001/consents?reset=true").await;
    assert_eq!(s, 400);
    assert!(b["detail"].as_str().unwrap().contains("never"));
    let (_, consents) = mary.get("/api/v1/patients/40001/consents").await;
    assert_eq!(
        consents["consolidatedConsentedScopes"]
            .as_array()
            .unwrap()
            .len(),
        7,
        "nothing was deleted"
    );
    // Bad pages.
    assert_eq!(
        mary.get("/api/v1/observations?study_id=30001&page=999")
            .await
            .0,
        404
    );
    assert_eq!(
        mary.get("/FHIR/R5/Observation?patient=40001&_page=0")
            .await
            .0,
        404
    );
    assert_eq!(mary.get("/api/v1/observations/").await.0, 404);
}

#[tokio::test]
async fn consents_show_pending_and_declined_types() {
    let (_sb, mary) = mary_on(12, 1).await;
    let mut pending = 0;
    let mut declined = 0;
    for p in 40006..40018 {
        let (s, b) = mary.get(&format!("/api/v1/patients/{p}/consents")).await;
        assert_eq!(s, 200);
        pending += b["studiesPendingConsent"].as_array().unwrap().len();
        declined += b["studies"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|s| s["scopeConsents"].as_array().unwrap())
            .filter(|c| c["consented"] == false)
            .count();
    }
    assert!(
        pending >= 1 && declined >= 2,
        "pending {pending}, declined {declined}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_during_a_sync_show_up_through_last_updated() {
    let (_sb, mary) = mary_on(2, 2).await;
    let (_, first) = mary
        .get("/FHIR/R5/Observation?patient=40006&_sort=-_lastUpdated&_count=1")
        .await;
    let high = first["entry"][0]["resource"]["meta"]["lastUpdated"]
        .as_str()
        .unwrap()
        .to_string();
    let omh = serde_json::json!({
        "header": {"uuid": "0b7c7f7e-1111-4222-8333-444455556666", "schema_id": {"namespace": "omh", "name": "heart-rate", "version": "2.0"}, "source_creation_date_time": "2026-01-01T00:00:00Z", "modality": "sensed"},
        "body": {"heart_rate": {"unit": "beats/min", "value": 61}, "effective_time_frame": {"date_time": "2025-06-01T08:00:00-07:00"}}
    });
    use base64::Engine;
    let obs = serde_json::json!({
        "resourceType": "Observation", "status": "final",
        "identifier": [{"system": "https://example.org/test", "value": "late-upload-1"}],
        "subject": {"reference": "Patient/40006"}, "device": {"reference": "Device/70004"},
        "code": {"coding": [{"system": "https://w3id.org/openmhealth", "code": "omh:heart-rate:2.0"}]},
        "valueAttachment": {"contentType": "application/json", "data": base64::engine::general_purpose::STANDARD.encode(omh.to_string())}
    });
    let post = || async {
        mary.request(reqwest::Method::POST, "/FHIR/R5/Observation")
            .json(&obs)
            .send()
            .await
            .unwrap()
    };
    let r = post().await;
    assert_eq!(r.status(), 201);
    let created: Value = r.json().await.unwrap();
    assert_eq!(
        created["effectiveDateTime"], "2025-06-01T15:00:00Z",
        "normalised to UTC"
    );
    assert_eq!(
        post().await.status(),
        409,
        "the identifier protects against a retried upload"
    );
    let (_, new) = mary
        .get(&format!(
            "/FHIR/R5/Observation?patient=40006&_lastUpdated=gt{high}&_sort=_lastUpdated"
        ))
        .await;
    assert_eq!(new["total"], 1);
    assert_eq!(new["entry"][0]["resource"]["id"], created["id"]);
    // A measurement-date window does not find a late upload of an old measurement.
    let (_, recent) = mary
        .get("/FHIR/R5/Observation?patient=40006&date=ge2026-01-01&_summary=count")
        .await;
    let (_, all) = mary
        .get("/FHIR/R5/Observation?patient=40006&_summary=count")
        .await;
    assert_eq!(
        all["total"].as_u64().unwrap(),
        recent["total"].as_u64().unwrap() + 1
    );
    // An invalid OMH body is refused with 422, as JHE does.
    let mut bad = obs.clone();
    let bad_omh = serde_json::json!({"header": omh["header"], "body": {"heart_rate": {"unit": "beats/min"}, "effective_time_frame": {"date_time": "2025-06-01T08:00:00Z"}}});
    bad["identifier"][0]["value"] = "late-upload-2".into();
    bad["valueAttachment"]["data"] = base64::engine::general_purpose::STANDARD
        .encode(bad_omh.to_string())
        .into();
    let r = mary
        .request(reqwest::Method::POST, "/FHIR/R5/Observation")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let body: Value = r.json().await.unwrap();
    assert!(
        body["issue"][0]["diagnostics"]
            .as_str()
            .unwrap()
            .contains("'value' is a required property"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fault_really_happens() {
    let (sb, c) = mary_on(2, 2).await;
    sb.set_faults(Faults {
        error_rate: 0.3,
        rate_limit_rate: 0.2,
        retry_after_s: 2,
        drop_rate: 0.2,
        seed: 9,
        ..Faults::default()
    });
    let mut statuses = std::collections::BTreeMap::new();
    let mut broken_bodies = 0;
    let mut retry_after = None;
    for _ in 0..80 {
        match c
            .request(
                reqwest::Method::GET,
                "/FHIR/R5/Observation?patient=40006&_count=200",
            )
            .send()
            .await
        {
            Ok(r) => {
                let s = r.status().as_u16();
                if s == 429 {
                    retry_after = r
                        .headers()
                        .get("retry-after")
                        .map(|v| v.to_str().unwrap().to_string());
                }
                *statuses.entry(s).or_insert(0) += 1;
                if s == 200 && r.bytes().await.is_err() {
                    broken_bodies += 1;
                }
            }
            Err(_) => broken_bodies += 1,
        }
    }
    for s in [200, 429, 500, 502, 503] {
        assert!(statuses.contains_key(&s), "no {s} in {statuses:?}");
    }
    assert_eq!(retry_after.as_deref(), Some("2"));
    assert!(broken_bodies > 0, "no dropped connection in {statuses:?}");
    let stats = sb.fault_stats();
    assert!(stats.drops.load(std::sync::atomic::Ordering::Relaxed) > 0);
    // Latency.
    sb.set_faults(Faults {
        latency_ms: 150,
        ..Faults::default()
    });
    let t = std::time::Instant::now();
    assert_eq!(c.get("/api/v1/studies").await.0, 200);
    assert!(t.elapsed() >= std::time::Duration::from_millis(150));
    // Discovery and sign-in are never faulted, so a client can always start.
    sb.set_faults(Faults {
        error_rate: 1.0,
        ..Faults::default()
    });
    assert_eq!(
        c.http
            .get(format!("{}/health", c.url))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}
