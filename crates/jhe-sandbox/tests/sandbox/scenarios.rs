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
    let omh = "https://w3id.org/openmhealth";
    for (system, code) in [
        (omh, "omh:blood-glucose:4.0"),
        (omh, "omh:heart-rate:2.0"),
        (omh, "omh:step-count:3.0"),
        (omh, "omh:blood-pressure:4.0"),
        (omh, "omh:body-weight:3.0"),
        (omh, "omh:oxygen-saturation:2.0"),
        (omh, "omh:respiratory-rate:2.0"),
        (omh, "omh:sleep-duration:2.0"),
        (omh, "omh:physical-activity:1.2"),
        (omh, "omh:sleep-episode:1.1"),
        ("https://w3id.org/ieee1752", "ieee:sleep-stage-summary:1.0"),
    ] {
        let (_, b) = c.get(&format!("/FHIR/R5/Observation?patient._has:Group:member:_id=30006&code={system}|{code}&_summary=count")).await;
        let n = b["total"].as_u64().unwrap() as usize;
        assert!(n > 0, "{code}");
        sum += n;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_study_has_participants_who_stopped_uploading_and_one_who_never_did() {
    // 2026-11-26T00:00:00Z, as a fixed "now" of the data set.
    let end_us: i64 = 1_795_651_200_000_000;
    let sb = Sandbox::start(Config {
        end_us: Some(end_us),
        dirty_share: 0.0,
        ..Config::default()
    })
    .await
    .unwrap();
    let c = Client::new(&sb, "manager_mary@example.com", reqwest::Client::new()).await;
    let end = chrono::DateTime::from_timestamp_micros(end_us).unwrap();
    let mut stopped: Vec<(u32, i64)> = Vec::new();
    let mut never = Vec::new();
    for pid in 40006..40026u32 {
        let (s, page) = c
            .get(&format!(
                "/FHIR/R5/Observation?patient={pid}&_sort=-_lastUpdated&_count=1"
            ))
            .await;
        assert_eq!(s, 200, "{page}");
        let Some(last) = page["entry"][0]["resource"]["meta"]["lastUpdated"].as_str() else {
            never.push(pid);
            continue;
        };
        let last = chrono::DateTime::parse_from_rfc3339(last).unwrap();
        assert!(last <= end, "{pid}: upload {last} after the data's end");
        let days = (end - last.to_utc()).num_hours() / 24;
        if days >= 2 {
            stopped.push((pid, days));
        }
        let (_, latest) = c
            .get(&format!(
                "/FHIR/R5/Observation?patient={pid}&_sort=-date&_count=1"
            ))
            .await;
        let r = &latest["entry"][0]["resource"];
        let t = r["effectiveDateTime"]
            .as_str()
            .or(r["effectivePeriod"]["start"].as_str())
            .unwrap();
        let t = chrono::DateTime::parse_from_rfc3339(t).unwrap();
        assert!(t <= end, "{pid}: data at {t}, after the data's end");
    }
    // Uploads come in batches a few hours after the measurement: whole days are exact.
    assert_eq!(stopped, vec![(40014, 5), (40017, 12), (40020, 30)]);
    assert_eq!(never, vec![40024]);
    // The one who never uploaded consented to the study's types (so it is not a consent gap).
    let (_, consents) = c.get("/api/v1/patients/40024/consents").await;
    let demo = consents["studies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == 30006)
        .unwrap();
    assert!(demo["scopeConsents"]
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["consented"] == true));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_study_has_the_reference_demos_sleep_types_with_their_coding_systems() {
    let (sb, c) = mary_on(8, 4).await;
    let ieee = "https://w3id.org/ieee1752";
    // Requested by the demo study (after the reference's scope requests, whose ids stay).
    let (s, reqs) = c.get("/api/v1/studies/30006/scope_requests").await;
    assert_eq!(s, 200);
    let codes: Vec<(&str, &str, u64)> = reqs
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let sc = &r["scopeCode"];
            (
                sc["codingSystem"].as_str().unwrap(),
                sc["codingCode"].as_str().unwrap(),
                r["id"].as_u64().unwrap(),
            )
        })
        .collect();
    assert!(
        codes.contains(&(ieee, "ieee:sleep-stage-summary:1.0", 23)),
        "{codes:?}"
    );
    assert!(
        codes.contains(&("https://w3id.org/openmhealth", "omh:sleep-episode:1.1", 22)),
        "{codes:?}"
    );
    let (_, r30001) = c.get("/api/v1/studies/30001/scope_requests").await;
    let ids: Vec<u64> = r30001
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_u64().unwrap())
        .collect();
    assert_eq!(ids, vec![1, 2, 3, 18, 19, 20, 21], "the reference's ids");

    // FHIR: the stage summary is IEEE-coded, its payload's schema_id too; one per night, like
    // the episode and the sleep duration.
    let count = |q: String| {
        let c = &c;
        async move {
            let (s, b) = c.get(&q).await;
            assert_eq!(s, 200, "{q}: {b}");
            b["total"].as_u64().unwrap()
        }
    };
    let study = "patient._has:Group:member:_id=30006";
    let n_sss = count(format!(
        "/FHIR/R5/Observation?{study}&code={ieee}|ieee:sleep-stage-summary:1.0&_summary=count"
    ))
    .await;
    let n_se = count(format!("/FHIR/R5/Observation?{study}&code=https://w3id.org/openmhealth|omh:sleep-episode:1.1&_summary=count")).await;
    let n_sd = count(format!("/FHIR/R5/Observation?{study}&code=https://w3id.org/openmhealth|omh:sleep-duration:2.0&_summary=count")).await;
    assert!(
        n_sss > 0 && n_sss == n_se && n_se == n_sd,
        "{n_sss} {n_se} {n_sd}"
    );
    // The OMH system does not find the IEEE code.
    let wrong = count(format!(
        "/FHIR/R5/Observation?{study}&code=https://w3id.org/openmhealth|ieee:sleep-stage-summary:1.0&_summary=count"
    ))
    .await;
    assert_eq!(wrong, 0);
    let (_, page) = c
        .get(&format!(
            "/FHIR/R5/Observation?{study}&code={ieee}|ieee:sleep-stage-summary:1.0&_count=3"
        ))
        .await;
    let r = &page["entry"][0]["resource"];
    assert_eq!(r["code"]["coding"][0]["system"], ieee);
    assert_eq!(
        r["code"]["coding"][0]["code"],
        "ieee:sleep-stage-summary:1.0"
    );
    assert!(r["effectivePeriod"]["start"].is_string());
    let omh = crate::common::omh_of(r);
    assert_eq!(omh["header"]["schema_id"]["namespace"], "ieee");
    assert!(omh["body"]["sleep_stage_summary"]["total_sleep_time"]["value"].is_number());

    // Admin: the study filter keeps them, with their coding systems.
    let mut systems = std::collections::BTreeMap::new();
    let mut next = Some(format!(
        "{}/api/v1/observations?organization_id=20001&study_id=30006&page_size=1000",
        c.url
    ));
    while let Some(u) = next {
        let (_, page) = c.get(&u).await;
        for r in page["results"].as_array().unwrap() {
            let code = r["codingCode"].as_str().unwrap().to_string();
            let system = r["codingSystem"].as_str().unwrap().to_string();
            *systems.entry((code, system)).or_insert(0u64) += 1;
        }
        next = page["next"].as_str().map(str::to_string);
    }
    assert_eq!(
        systems.get(&("ieee:sleep-stage-summary:1.0".into(), ieee.into())),
        Some(&n_sss),
        "{systems:?}"
    );
    assert!(systems
        .iter()
        .all(|((code, system), _)| code.starts_with("ieee:") == (system == ieee)));
    assert!(sb.info().studies.iter().any(|s| s.id == 30006));

    // Consented like the other wearable types: pending for the 4th participant (40009).
    let (_, consents) = c.get("/api/v1/patients/40009/consents").await;
    let pending: Vec<&str> = consents["studiesPendingConsent"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["pendingScopeConsents"].as_array().unwrap())
        .filter_map(|p| p["code"]["codingCode"].as_str())
        .collect();
    for code in ["ieee:sleep-stage-summary:1.0", "omh:sleep-episode:1.1"] {
        assert!(pending.contains(&code), "{code} pending: {consents}");
    }
    assert_eq!(
        count(format!(
            "/FHIR/R5/Observation?patient=40009&code={ieee}|ieee:sleep-stage-summary:1.0&_summary=count"
        ))
        .await,
        0
    );
}
