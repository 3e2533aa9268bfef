//! Decoding + tidying throughput on one core, over generated CGM-like FHIR resources (and the
//! same data as Admin API results).
//!
//!     cargo run --release -p jhe-engine --example decode_bench [-- N]
//!
//! Prints one line per stage with observations per second. The input JSON (`serde_json::Value`,
//! what the fetcher holds after parsing an HTTP page) is built before timing starts.

use std::hint::black_box;
use std::time::Instant;

use base64::Engine as _;
use jhe_engine::frame::{LongBuilder, ViewBuilder};
use jhe_engine::omh::compat::compat_row;
use jhe_engine::omh::time::{iso_naive_us, iso_z};
use jhe_engine::omh::{
    decode, decode_owned, from_admin_json, from_admin_result_owned, from_fhir_json,
    from_fhir_resource, DataType, RawObservation,
};
use serde_json::{json, Value};

const OFFSETS: [i32; 4] = [-480, -300, 0, 330];

fn omh(i: u64) -> (Value, i64) {
    let utc_us = 1_795_000_000_000_000 + i as i64 * 300_000_000;
    let off = OFFSETS[(i % 4) as usize];
    let local = iso_naive_us(utc_us + off as i64 * 60_000_000);
    let sign = if off < 0 { '-' } else { '+' };
    let t = format!(
        "{}{sign}{:02}:{:02}",
        &local[..19],
        off.abs() / 60,
        off.abs() % 60
    );
    let v = json!({
        "body": {"blood_glucose": {"unit": "mg/dL", "value": 70 + (i * 37) % 150},
                 "effective_time_frame": {"date_time": t}},
        "header": {"uuid": format!("f7c6c23f-9af8-448f-a1b5-{i:012}"), "modality": "sensed",
                   "schema_id": {"name": "blood-glucose", "version": "4.0", "namespace": "omh"},
                   "acquisition_provenance": {"source_name": "demo-cgm-generator"},
                   "source_creation_date_time": t}
    });
    (v, utc_us)
}

fn fhir(i: u64) -> Value {
    let (o, utc_us) = omh(i);
    let data = base64::engine::general_purpose::STANDARD.encode(o.to_string());
    json!({
        "meta": {"lastUpdated": "2026-11-26T01:59:33.981290Z", "source": "https://jupyterhealth.org/jhe"},
        "id": (200_000 + i).to_string(),
        "status": "final",
        "code": {"coding": [{"system": "https://w3id.org/openmhealth", "code": "omh:blood-glucose:4.0", "display": "Blood glucose"}]},
        "effectiveDateTime": iso_z(utc_us),
        "subject": {"reference": format!("Patient/{}", 40000 + i % 50),
                    "identifier": {"system": "https://jupyterhealth.org/fhir/identifier/jhe-user-id", "value": "10006"}},
        "valueAttachment": {"contentType": "application/json", "data": data},
        "resourceType": "Observation"
    })
}

fn admin(i: u64) -> Value {
    let (o, _) = omh(i);
    json!({"id": 200_000 + i, "subjectPatientId": 40000 + i % 50, "patientNameFamily": "X",
           "patientNameGiven": "Y", "jheUserId": 10006, "codeableConceptId": 50001,
           "codingSystem": "https://w3id.org/openmhealth", "codingCode": "omh:blood-glucose:4.0",
           "codingText": "Blood glucose", "lastUpdated": "2026-11-26T01:59:33.981290Z", "omhData": o})
}

fn line(stage: &str, n: usize, secs: f64) {
    println!(
        "| {stage:<58} | {:>9.1} | {:>12.0} |",
        secs * 1e3,
        n as f64 / secs
    );
}

/// Runs `f` `runs` times and returns the best (least disturbed) time in seconds.
fn best_of(runs: usize, mut f: impl FnMut() -> f64) -> f64 {
    (0..runs).map(|_| f()).fold(f64::INFINITY, f64::min)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(200_000);
    let runs: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(3);
    eprintln!("generating {n} FHIR resources and Admin results …");
    let resources: Vec<Value> = (0..n as u64).map(fhir).collect();
    let admins: Vec<Value> = (0..n as u64).map(admin).collect();
    println!("\n{n} CGM observations, 1 thread, best of {runs} runs\n");
    println!("| {:<58} | {:>9} | {:>12} |", "stage", "ms", "obs/s");
    println!("|{}|{}|{}|", "-".repeat(60), "-".repeat(11), "-".repeat(14));

    let raws: Vec<_> = resources
        .iter()
        .map(|r| from_fhir_resource(r).expect("valid resource"))
        .collect();
    let t_env = best_of(runs, || {
        let t = Instant::now();
        for r in &resources {
            black_box(from_fhir_resource(r).expect("valid resource"));
        }
        t.elapsed().as_secs_f64()
    });
    line("FHIR: from_fhir_resource (serde_json::Value)", n, t_env);

    // what the fetcher runs: the resource's JSON text straight into a RawObservation
    let texts: Vec<String> = resources.iter().map(Value::to_string).collect();
    let t_text = best_of(runs, || {
        let t = Instant::now();
        for s in &texts {
            black_box(from_fhir_json(s).expect("valid resource"));
        }
        t.elapsed().as_secs_f64()
    });
    line("FHIR text: from_fhir_json (typed, as fetched)", n, t_text);

    let t_dec = best_of(runs, || {
        let t = Instant::now();
        for r in &raws {
            black_box(decode(r).expect("valid OMH"));
        }
        t.elapsed().as_secs_f64()
    });
    line("FHIR: decode (base64 + JSON + time + values)", n, t_dec);

    let decoded: Vec<_> = raws.iter().map(|r| decode(r).expect("valid OMH")).collect();
    let t_push = best_of(runs, || {
        let t = Instant::now();
        let mut vb = ViewBuilder::with_capacity(DataType::BloodGlucose, n);
        for o in &decoded {
            vb.push(o);
        }
        let e = t.elapsed().as_secs_f64();
        black_box(vb);
        e
    });
    line("tidy: clear-view rows (ViewBuilder::push)", n, t_push);

    let t_fin = best_of(runs, || {
        let mut vb = ViewBuilder::with_capacity(DataType::BloodGlucose, n);
        for o in &decoded {
            vb.push(o);
        }
        let t = Instant::now();
        black_box(vb.finish().expect("frame"));
        t.elapsed().as_secs_f64()
    });
    line("tidy: clear-view DataFrame (ViewBuilder::finish)", n, t_fin);

    let t_long = best_of(runs, || {
        let t = Instant::now();
        let mut lb = LongBuilder::with_capacity(n);
        for o in &decoded {
            lb.push(o);
        }
        black_box(lb.finish().expect("frame"));
        t.elapsed().as_secs_f64()
    });
    line("tidy: long rows + DataFrame (LongBuilder)", n, t_long);

    let t_compat = best_of(runs, || {
        let t = Instant::now();
        for o in &decoded {
            black_box(compat_row(o));
        }
        t.elapsed().as_secs_f64()
    });
    line("tidy: compat rows (compat_row)", n, t_compat);
    drop(decoded);
    drop(raws);

    // streaming, as an export does it: envelope → decode → push, nothing kept
    let to_frame = |read: &dyn Fn(usize) -> RawObservation| {
        best_of(runs, || {
            let t = Instant::now();
            let mut vb = ViewBuilder::with_capacity(DataType::BloodGlucose, n);
            for i in 0..n {
                vb.push(&decode_owned(read(i)).expect("valid OMH"));
            }
            black_box(vb.finish().expect("frame"));
            t.elapsed().as_secs_f64()
        })
    };
    let t_stream = to_frame(&|i| from_fhir_resource(&resources[i]).expect("valid resource"));
    let t_stream_text = to_frame(&|i| from_fhir_json(&texts[i]).expect("valid resource"));
    let admin_texts: Vec<String> = admins.iter().map(Value::to_string).collect();
    let t_admin_text = to_frame(&|i| from_admin_json(&admin_texts[i]).expect("valid result"));
    let t_stream_compat = best_of(runs, || {
        let t = Instant::now();
        for r in &resources {
            let raw = from_fhir_resource(r).expect("valid resource");
            black_box(compat_row(&decode_owned(raw).expect("valid OMH")));
        }
        t.elapsed().as_secs_f64()
    });
    let t_admin = best_of(runs, || {
        let input = admins.clone();
        let t = Instant::now();
        let mut vb = ViewBuilder::with_capacity(DataType::BloodGlucose, n);
        for a in input {
            let raw = from_admin_result_owned(a).expect("valid result");
            vb.push(&decode_owned(raw).expect("valid OMH"));
        }
        black_box(vb.finish().expect("frame"));
        t.elapsed().as_secs_f64()
    });

    println!("|{}|{}|{}|", "-".repeat(60), "-".repeat(11), "-".repeat(14));
    line("TOTAL FHIR resource -> clear-view DataFrame", n, t_stream);
    line(
        "TOTAL FHIR text -> clear-view DataFrame (export path)",
        n,
        t_stream_text,
    );
    line("TOTAL FHIR resource -> compat rows", n, t_stream_compat);
    line("TOTAL Admin result -> clear-view DataFrame", n, t_admin);
    line(
        "TOTAL Admin result text -> clear-view DataFrame",
        n,
        t_admin_text,
    );
}
