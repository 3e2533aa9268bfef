//! Where the time of serving an Observation page goes (not a test):
//! `cargo run --release -p jhe-sandbox --example render_cost`

use std::time::Instant;

use base64::Engine;
use jhe_sandbox::{build_state, Config};

fn main() {
    let state = build_state(&Config {
        patients: 4,
        days: 14,
        ..Config::default()
    })
    .expect("build");
    let world = state.world.read();
    let store = state.store.read();
    let rows: Vec<_> = store.rows().iter().take(20_000).collect();
    let n = rows.len() as f64;
    let t = Instant::now();
    let omh: Vec<_> = rows.iter().map(|o| o.omh()).collect();
    let render = t.elapsed().as_secs_f64() / n * 1e6;
    let t = Instant::now();
    let py: Vec<String> = omh.iter().map(jhe_sandbox::pyjson::py_dumps).collect();
    let dumps = t.elapsed().as_secs_f64() / n * 1e6;
    let t = Instant::now();
    let b64: usize = py
        .iter()
        .map(|s| base64::engine::general_purpose::STANDARD.encode(s).len())
        .sum();
    let enc = t.elapsed().as_secs_f64() / n * 1e6;
    let t = Instant::now();
    let mut bytes = 0;
    for o in &rows {
        bytes += serde_json::to_vec(&jhe_sandbox::fhir::observation_resource(&world, o))
            .map(|v| v.len())
            .unwrap_or(0);
    }
    let full = t.elapsed().as_secs_f64() / n * 1e6;
    let t = Instant::now();
    for o in &rows {
        bytes += serde_json::to_vec(&jhe_sandbox::render::observation(&world, o))
            .map(|v| v.len())
            .unwrap_or(0);
    }
    let admin = t.elapsed().as_secs_f64() / n * 1e6;
    println!("| step | µs per observation |\n|---|---|");
    println!("| render OMH Value | {render:.2} |\n| py_dumps | {dumps:.2} |\n| base64 | {enc:.2} |\n| whole FHIR resource + serialize | {full:.2} |\n| whole Admin result + serialize | {admin:.2} |");
    println!("({} rows, {} b64 bytes, {} bytes)", rows.len(), b64, bytes);
}
