//! Shared helpers of the golden tests: the committed inputs and goldens under `tests/golden/`.
#![allow(dead_code)]

use std::path::PathBuf;

use jhe_engine::omh::compat::{CompatRow, CompatValue};
use jhe_engine::omh::time::iso_naive_us;
use jhe_engine::omh::{decode, from_admin_result, from_fhir_resource, DecodedObservation};
use serde_json::Value;

pub fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

pub fn load(name: &str) -> Value {
    let p = golden_dir().join(name);
    let text = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    serde_json::from_str(&text).unwrap()
}

/// `inputs_fhir.json`: (origin, FHIR resource).
pub fn fhir_inputs() -> Vec<(String, Value)> {
    load("inputs_fhir.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["origin"].as_str().unwrap().to_string(),
                i["resource"].clone(),
            )
        })
        .collect()
}

/// `inputs_admin.json`: (origin, Admin API result).
pub fn admin_inputs() -> Vec<(String, Value)> {
    load("inputs_admin.json")
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["origin"].as_str().unwrap().to_string(),
                i["result"].clone(),
            )
        })
        .collect()
}

pub fn decode_fhir(r: &Value) -> DecodedObservation {
    decode(&from_fhir_resource(r).unwrap()).unwrap()
}

pub fn decode_admin(r: &Value) -> DecodedObservation {
    decode(&from_admin_result(r).unwrap()).unwrap()
}

/// A compat value as the golden files type it (`make_golden.py`'s `typed`).
pub fn typed(v: &CompatValue) -> (&'static str, Value) {
    match v {
        CompatValue::Null => ("null", Value::Null),
        CompatValue::Bool(b) => ("bool", Value::Bool(*b)),
        CompatValue::Int(i) => ("int", Value::from(*i)),
        CompatValue::Float(f) => ("float", Value::from(*f)),
        CompatValue::Str(s) => ("str", Value::from(s.as_str())),
        CompatValue::TimeUtc(t) => ("ts_utc", Value::from(iso_naive_us(*t))),
        CompatValue::TimeNaive(t) => ("ts_naive", Value::from(iso_naive_us(*t))),
    }
}

/// Compares one of our rows with a golden row (`[[key, type, value], …]`); returns the
/// differences.
pub fn diff_row(ours: &CompatRow, golden: &Value) -> Vec<String> {
    let golden = golden.as_array().unwrap();
    let mut out = Vec::new();
    let our_keys: Vec<&str> = ours.iter().map(|(k, _)| k.as_str()).collect();
    let gold_keys: Vec<&str> = golden.iter().map(|g| g[0].as_str().unwrap()).collect();
    if our_keys != gold_keys {
        out.push(format!(
            "keys differ:\n  ours:   {our_keys:?}\n  python: {gold_keys:?}"
        ));
    }
    for g in golden {
        let key = g[0].as_str().unwrap();
        let Some((_, v)) = ours.iter().find(|(k, _)| k == key) else {
            continue;
        };
        let (t, val) = typed(v);
        let same_value = match (&val, &g[2]) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        if t != g[1].as_str().unwrap() || !same_value {
            out.push(format!("{key}: ours {t} {val}, python {} {}", g[1], g[2]));
        }
    }
    out
}

/// A CGM-like FHIR Observation as JHE renders it (jsonb key order, base64 attachment).
pub fn cgm_resource(id: u64, patient: u64, minute: i64, offset_min: i32) -> Value {
    use base64::Engine as _;
    let utc_us = 1_795_000_000_000_000 + minute * 60_000_000;
    let local = jhe_engine::omh::time::iso_naive_us(utc_us + offset_min as i64 * 60_000_000);
    let local = &local[..19];
    let sign = if offset_min < 0 { '-' } else { '+' };
    let off = format!(
        "{sign}{:02}:{:02}",
        offset_min.abs() / 60,
        offset_min.abs() % 60
    );
    let value = 80 + (id * 37 % 120);
    let omh = format!(
        r#"{{"body": {{"blood_glucose": {{"unit": "mg/dL", "value": {value}}}, "effective_time_frame": {{"date_time": "{local}{off}"}}}}, "header": {{"uuid": "00000000-0000-4000-8000-{id:012}", "modality": "sensed", "schema_id": {{"name": "blood-glucose", "version": "4.0", "namespace": "omh"}}, "acquisition_provenance": {{"source_name": "demo-cgm-generator"}}, "source_creation_date_time": "{local}{off}"}}}}"#
    );
    let data = base64::engine::general_purpose::STANDARD.encode(omh);
    let z = jhe_engine::omh::time::iso_z(utc_us);
    serde_json::json!({
        "meta": {"lastUpdated": "2026-11-26T01:59:33.981290Z", "source": "https://jupyterhealth.org/jhe"},
        "id": id.to_string(),
        "status": "final",
        "code": {"coding": [{"system": "https://w3id.org/openmhealth", "code": "omh:blood-glucose:4.0", "display": "Blood glucose"}]},
        "effectiveDateTime": z,
        "subject": {"reference": format!("Patient/{patient}"), "identifier": {"system": "https://jupyterhealth.org/fhir/identifier/jhe-user-id", "value": (patient - 30000).to_string()}},
        "valueAttachment": {"contentType": "application/json", "data": data},
        "resourceType": "Observation"
    })
}
