//! The FHIR API and the Admin API give identical decoded records and tidy rows for the same
//! observation (captured responses of a real JHE server for patient 40001, plus synthetic
//! observations rendered both ways). The only difference allowed is `Observation.identifier`,
//! which the Admin API does not return.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::golden_support::*;
use jhe_engine::frame::{compat_frame, long_frame, view_frames};
use jhe_engine::omh::compat::compat_row;
use jhe_engine::omh::{
    decode, from_admin_result, from_fhir_resource, DataType, DecodedObservation, Values,
};
use serde_json::Value;

fn without_identifiers(mut o: DecodedObservation) -> DecodedObservation {
    o.envelope.identifiers.clear();
    o
}

fn pairs() -> Vec<(String, DecodedObservation, DecodedObservation)> {
    let fhir: HashMap<u64, Value> = fhir_inputs()
        .into_iter()
        .map(|(_, r)| (r["id"].as_str().unwrap().parse().unwrap(), r))
        .collect();
    admin_inputs()
        .into_iter()
        .filter_map(|(origin, a)| {
            let id = a["id"].as_u64().unwrap();
            fhir.get(&id)
                .map(|f| (origin, decode_fhir(f), decode_admin(&a)))
        })
        .collect()
}

#[test]
fn same_decoded_record_from_both_apis() {
    let pairs = pairs();
    let contract = pairs.iter().filter(|(o, _, _)| o == "contract").count();
    assert!(
        contract >= 20,
        "only {contract} captured observations in both APIs"
    );
    assert!(pairs.len() >= 40);
    for (_, f, a) in &pairs {
        assert!(a.envelope.identifiers.is_empty());
        assert_eq!(without_identifiers(f.clone()), *a, "observation {}", f.id);
    }
}

#[test]
fn observation_105337_in_detail() {
    let (_, f, a) = pairs()
        .into_iter()
        .find(|(_, f, _)| f.id == 105337)
        .unwrap();
    assert_eq!(f.patient_id, 40001);
    assert_eq!(f.code, "omh:heart-rate:2.0");
    assert_eq!(f.view, DataType::HeartRate);
    let Values::HeartRate(q) = &f.values else {
        panic!("{:?}", f.values)
    };
    assert_eq!((q.value, q.original_value), (Some(66.0), Some(66.0)));
    assert_eq!(q.original_unit.as_deref(), Some("beats/min"));
    assert_eq!(
        jhe_engine::omh::time::iso_z(f.time.start_utc),
        "2026-11-25T21:00:00Z"
    );
    assert_eq!(f.time.utc_offset_min, Some(0));
    assert_eq!(
        f.header.uuid.as_deref(),
        Some("c048e977-3494-56c1-a1f4-9bf5c084a12e")
    );
    assert_eq!(f.header.device.as_deref(), Some("jhe-desktop sample"));
    // compat rows: identical except the identifier columns only FHIR has
    let fr = compat_row(&f);
    let ar = compat_row(&a);
    let fr_wo: Vec<_> = fr
        .iter()
        .filter(|(k, _)| !k.starts_with("identifier_"))
        .cloned()
        .collect();
    assert_eq!(fr_wo, ar);
    assert_eq!(fr.len(), ar.len() + 2);
}

#[test]
fn same_tidy_rows_and_frames_from_both_apis() {
    let pairs = pairs();
    for (_, f, a) in &pairs {
        let fr: Vec<_> = compat_row(f)
            .into_iter()
            .filter(|(k, _)| !k.starts_with("identifier_"))
            .collect();
        assert_eq!(fr, compat_row(a), "compat row of {}", f.id);
    }
    let fhir: Vec<_> = pairs
        .iter()
        .map(|(_, f, _)| without_identifiers(f.clone()))
        .collect();
    let admin: Vec<_> = pairs.iter().map(|(_, _, a)| a.clone()).collect();
    let vf = view_frames(&fhir).unwrap();
    let va = view_frames(&admin).unwrap();
    assert_eq!(vf.keys().collect::<Vec<_>>(), va.keys().collect::<Vec<_>>());
    for (k, df) in &vf {
        assert!(df.equals_missing(&va[k]), "view {k:?} differs");
    }
    assert!(long_frame(&fhir)
        .unwrap()
        .equals_missing(&long_frame(&admin).unwrap()));
    assert!(compat_frame(&fhir)
        .unwrap()
        .equals_missing(&compat_frame(&admin).unwrap()));
}

#[test]
fn owned_and_borrowed_admin_readers_agree() {
    for (_, a) in admin_inputs() {
        let borrowed = from_admin_result(&a).unwrap();
        let owned = jhe_engine::omh::from_admin_result_owned(a).unwrap();
        assert_eq!(borrowed, owned);
    }
    let e = jhe_engine::omh::from_admin_result_owned(serde_json::json!({"id": 1, "omhData": null}));
    assert!(e.is_err());
}

#[test]
fn every_admin_capture_decodes() {
    // CGM and rich-demo wearable rows that only the Admin captures have, too.
    let mut views = HashMap::new();
    for (_, a) in admin_inputs() {
        let o = decode_admin(&a);
        *views.entry(o.view.name()).or_insert(0) += 1;
    }
    for v in [
        "blood_glucose",
        "heart_rate",
        "oxygen_saturation",
        "respiratory_rate",
        "step_count",
    ] {
        assert!(views.contains_key(v), "{v} missing in {views:?}");
    }
}

#[test]
fn large_captures_decode_when_available() {
    // The 1000-row CGM page, vendored with the rest of the capture.
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jhe-contract");
    let path = dir.join("api_v1_observations_page_size_over_max.json");
    let Ok(text) = std::fs::read_to_string(&path) else {
        eprintln!("skipping: {} not found", path.display());
        return;
    };
    let page: Value = serde_json::from_str(&text).unwrap();
    let results = page["results"].as_array().unwrap();
    assert_eq!(results.len(), 1000);
    let obs: Vec<_> = results
        .iter()
        .map(|r| decode(&from_admin_result(r).unwrap()).unwrap())
        .collect();
    let views = view_frames(&obs).unwrap();
    let bg = &views[&DataType::BloodGlucose];
    assert_eq!(bg.height(), 1000);
    let g = bg.column("glucose_mg_dl").unwrap().f64().unwrap();
    assert_eq!(g.null_count(), 0);
    assert!(g.iter().flatten().all(|v| (20.0..=600.0).contains(&v)));
    let sources = bg
        .column("source_name")
        .unwrap()
        .cast(&polars::prelude::DataType::String)
        .unwrap();
    assert!(sources
        .str()
        .unwrap()
        .iter()
        .all(|s| s == Some("demo-cgm-generator")));
}

#[test]
fn malformed_observations_are_problems_not_panics() {
    let cases = load("inputs_malformed.json");
    let mut n = 0;
    for c in cases.as_array().unwrap() {
        let why = c["why"].as_str().unwrap();
        for key in ["fhir", "admin"] {
            let Some(item) = c.get(key) else { continue };
            let raw = if key == "fhir" {
                from_fhir_resource(item)
            } else {
                from_admin_result(item)
            }
            .unwrap();
            let p = decode(&raw).expect_err(why);
            assert_eq!(p.observation_id, raw.id, "{why}");
            assert_eq!(p.patient_id, 49001);
            assert_eq!(p.code, "omh:heart-rate:2.0");
            assert!(!p.message.is_empty());
            n += 1;
        }
    }
    assert!(n >= 8);
}

#[test]
fn envelope_errors_become_problems() {
    let bad = serde_json::json!({"resourceType": "Observation", "id": "77", "subject": {"reference": "Patient/5"},
                                 "code": {"coding": [{"code": "omh:heart-rate:2.0"}]},
                                 "valueAttachment": {"contentType": "text/plain", "data": "aGk="}});
    let e = from_fhir_resource(&bad).unwrap_err();
    let p = e.to_problem(&bad);
    assert_eq!(
        (p.observation_id, p.patient_id, p.code.as_str()),
        (77, 5, "omh:heart-rate:2.0")
    );
    assert!(from_fhir_resource(&serde_json::json!({"resourceType": "Patient"})).is_err());
    assert!(from_admin_result(&serde_json::json!({"id": 1})).is_err());
}
