//! The fast readers (`omh::from_fhir_json` / `omh::from_admin_json`, straight from a page's
//! text) and the `serde_json::Value` readers (`omh::from_fhir_resource` /
//! `omh::from_admin_result`) agree on every item: the contract samples, every observation of a
//! sandbox study with a large dirty share, and hundreds of malformed variants (missing, null and
//! wrongly typed fields, duplicate keys).

use crate::common::*;
use jhe_engine::omh::{
    decode, from_admin_json, from_admin_result, from_fhir_json, from_fhir_resource,
    DecodedObservation, OmhPayload, Problem, RawObservation,
};
use jhe_sandbox::Sandbox;
use serde_json::{json, value::RawValue, Value};

fn value_path(text: &str) -> Result<RawObservation, Problem> {
    let v: Value = serde_json::from_str(text).expect("test input is JSON");
    from_fhir_resource(&v).map_err(|e| e.to_problem(&v))
}

fn assert_agree(text: &str) -> bool {
    let fast = from_fhir_json(text);
    assert_eq!(fast, value_path(text), "readers disagree on {text}");
    fast.is_ok()
}

#[test]
fn contract_samples_read_the_same() {
    let inputs = crate::golden_support::fhir_inputs();
    assert!(!inputs.is_empty());
    for (origin, r) in inputs {
        let text = r.to_string();
        let ok = assert_agree(&text);
        assert!(ok, "{origin} reads");
    }
}

/// What a broken field may hold instead: nothing, a value of each other JSON type, odd text.
fn odd_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(7),
        json!(-3),
        json!(1.5),
        json!(true),
        json!("x"),
        json!(" 12 "),
        json!([]),
        json!({}),
    ]
}

/// Every way of breaking each field of a good resource.
#[test]
fn malformed_variants_read_the_same() {
    let base = json!({
        "resourceType": "Observation",
        "id": "105337",
        "meta": {"lastUpdated": "2026-11-20T10:00:00.123456+00:00", "source": "https://jupyterhealth.org/jhe"},
        "identifier": [{"system": "https://w3id.org/openmhealth/uuid", "value": "1f2e"}],
        "status": "final",
        "code": {"coding": [{"system": "https://w3id.org/openmhealth", "code": "omh:heart-rate:2.0", "display": "Heart rate"}]},
        "effectiveDateTime": "2026-11-20T09:59:00Z",
        "subject": {"reference": "Patient/40006", "identifier": {"system": "https://jupyterhealth.org/fhir/identifier/jhe-user-id", "value": 10006}},
        "valueAttachment": {"contentType": "application/json", "data": "eyJib2R5Ijp7fX0="}
    });
    assert!(assert_agree(&base.to_string()));
    // the same with a period instead of an instant
    let mut with_period = base.clone();
    if let Some(o) = with_period.as_object_mut() {
        o.remove("effectiveDateTime");
        o.insert(
            "effectivePeriod".into(),
            json!({"start": "2026-11-20T09:00:00Z", "end": "2026-11-20T10:00:00Z"}),
        );
    }
    assert!(assert_agree(&with_period.to_string()));
    let mut odd = odd_values();
    odd.extend([
        json!([1]),
        json!([{}]),
        json!({"start": "2026-11-20T09:00:00Z"}),
    ]);
    let paths: &[&[&str]] = &[
        &["resourceType"],
        &["id"],
        &["meta"],
        &["meta", "lastUpdated"],
        &["meta", "source"],
        &["identifier"],
        &["status"],
        &["code"],
        &["code", "coding"],
        &["effectiveDateTime"],
        &["effectivePeriod"],
        &["effectivePeriod", "start"],
        &["effectivePeriod", "end"],
        &["subject"],
        &["subject", "reference"],
        &["subject", "identifier"],
        &["valueAttachment"],
        &["valueAttachment", "contentType"],
        &["valueAttachment", "data"],
    ];
    let mut variants = 0;
    for (base, path) in [&base, &with_period]
        .into_iter()
        .flat_map(|b| paths.iter().map(move |p| (b, p)))
    {
        let (last, parents) = path.split_last().expect("non-empty path");
        let mut removed = base.clone();
        let mut obj = &mut removed;
        for p in parents {
            obj = &mut obj[*p];
        }
        if let Some(o) = obj.as_object_mut() {
            o.remove(*last);
        }
        assert_agree(&removed.to_string());
        variants += 1;
        for v in &odd {
            let mut r = base.clone();
            let mut obj = &mut r;
            for p in parents {
                obj = &mut obj[*p];
            }
            obj[*last] = v.clone();
            assert_agree(&r.to_string());
            variants += 1;
        }
    }
    let more = [
        json!({"resourceType": "Patient", "id": 1}),
        json!([1, 2]),
        json!(null),
        json!("Observation"),
    ];
    for m in more {
        assert_agree(&m.to_string());
    }
    let text = base.to_string();
    // duplicate keys: the Value reader keeps the last one
    for dup in [
        r#""status":"final","status":"amended","#,
        r#""id":"1","id":"105337","#,
    ] {
        let t = text.replacen('{', &format!("{{{dup}"), 1);
        assert_agree(&t);
    }
    // a second, odd coding is ignored by both
    let mut two = base.clone();
    two["code"]["coding"]
        .as_array_mut()
        .expect("coding array")
        .push(json!("odd"));
    assert!(assert_agree(&two.to_string()));
    assert!(variants > 200, "{variants}");
}

/// Pages of a listing, read over plain HTTP with the demo user's token (not by the engine).
struct Pages {
    http: reqwest::Client,
    token: String,
}

impl Pages {
    async fn new(sb: &Sandbox) -> Pages {
        let http = reqwest::Client::new();
        let tok: Value = http
            .post(format!("{}/o/token/", sb.url()))
            .header("Authorization", format!("Basic {}", api_key(sb, MARY)))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("token JSON");
        let token = tok["access_token"].as_str().expect("access token").into();
        Pages { http, token }
    }

    async fn text(&self, url: &str) -> String {
        let page = self.http.get(url).bearer_auth(&self.token).send().await;
        page.expect("page").text().await.expect("page text")
    }
}

#[tokio::test]
async fn every_sandbox_resource_reads_the_same() {
    let sb = sandbox_with(jhe_sandbox::Config {
        patients: 3,
        days: 3,
        dirty_share: 0.3,
        ..Default::default()
    })
    .await;
    let get = Pages::new(&sb).await;
    let mut url = Some(format!(
        "{}/FHIR/R5/Observation?patient._has:Group:member:_id={DEMO_STUDY}&_count=1000",
        sb.url()
    ));
    let (mut ok, mut bad) = (0, 0);
    while let Some(u) = url.take() {
        let page = get.text(&u).await;
        #[derive(serde::Deserialize)]
        struct Entry<'a> {
            #[serde(borrow)]
            resource: &'a RawValue,
        }
        #[derive(serde::Deserialize)]
        struct Page<'a> {
            #[serde(borrow, default)]
            entry: Vec<Entry<'a>>,
            #[serde(default)]
            link: Vec<Value>,
        }
        let p: Page = serde_json::from_str(&page).expect("a searchset");
        for e in &p.entry {
            if assert_agree(e.resource.get()) {
                ok += 1;
            } else {
                bad += 1;
            }
        }
        url = p
            .link
            .iter()
            .find(|l| l["relation"] == "next")
            .and_then(|l| l["url"].as_str())
            .map(str::to_string);
    }
    assert_eq!(ok as u64 + bad, study_total(&sb, DEMO_STUDY));
    assert!(ok > 1000, "{ok} read");
}

/// Decoded the same? (The fast Admin reader keeps `omhData` as text, the Value reader as a
/// value: compared as JSON values.)
fn same_decoded(a: Result<DecodedObservation, Problem>, b: Result<DecodedObservation, Problem>) {
    match (a, b) {
        (Ok(mut a), Ok(mut b)) => {
            assert_eq!(a.omh_value(), b.omh_value());
            a.omh = OmhPayload::Json(Value::Null);
            b.omh = OmhPayload::Json(Value::Null);
            assert_eq!(a, b);
        }
        (a, b) => assert_eq!(a, b),
    }
}

fn assert_admin_agree(text: &str) -> bool {
    let v: Value = serde_json::from_str(text).expect("test input is JSON");
    let slow = from_admin_result(&v).map_err(|e| e.to_problem(&v));
    let fast = from_admin_json(text);
    match (&fast, &slow) {
        (Ok(f), Ok(s)) => {
            assert_eq!(
                (f.id, f.patient_id, &f.coding_code),
                (s.id, s.patient_id, &s.coding_code)
            );
            assert_eq!(f.envelope, s.envelope, "{text}");
            same_decoded(decode(f), decode(s));
        }
        _ => assert_eq!(fast, slow, "readers disagree on {text}"),
    }
    fast.is_ok()
}

#[test]
fn admin_samples_and_variants_read_the_same() {
    let inputs = crate::golden_support::admin_inputs();
    assert!(!inputs.is_empty());
    for (origin, r) in &inputs {
        assert!(assert_admin_agree(&r.to_string()), "{origin} reads");
    }
    let base = inputs[0].1.clone();
    let mut odd = odd_values();
    odd.push(json!("{\"body\": {}}"));
    let mut variants = 0;
    for key in [
        "id",
        "subjectPatientId",
        "codingSystem",
        "codingCode",
        "codingText",
        "jheUserId",
        "lastUpdated",
        "omhData",
        "patientNameGiven",
    ] {
        let mut removed = base.clone();
        removed.as_object_mut().expect("object").remove(key);
        assert_admin_agree(&removed.to_string());
        for v in &odd {
            let mut r = base.clone();
            r[key] = v.clone();
            assert_admin_agree(&r.to_string());
            variants += 1;
        }
    }
    assert!(variants > 80, "{variants}");
}

#[tokio::test]
async fn every_sandbox_admin_observation_reads_the_same() {
    let sb = sandbox_with(jhe_sandbox::Config {
        patients: 3,
        days: 2,
        dirty_share: 0.3,
        ..Default::default()
    })
    .await;
    let s = session(&sb, MARY).await;
    let get = Pages::new(&sb).await;
    let mut url = Some(format!(
        "{}/api/v1/observations?organization_id=20001&study_id={DEMO_STUDY}&page_size=1000",
        sb.url()
    ));
    let mut read = 0;
    while let Some(u) = url.take() {
        let page: Value = serde_json::from_str(&get.text(&u).await).expect("page JSON");
        for r in page["results"].as_array().expect("results") {
            assert_admin_agree(&r.to_string());
            read += 1;
        }
        url = page["next"].as_str().map(str::to_string);
    }
    // and the session's own Admin reader gives the same count, with names
    let rows = s
        .admin_observations(20001, DEMO_STUDY, None)
        .await
        .expect("admin observations");
    assert_eq!(rows.observations.len() + rows.problems.len(), read);
    assert!(read > 500, "{read} read");
    assert!(!rows.patient_names.is_empty());
}
