//! End-to-end export of many generated CGM observations, to measure time and peak memory.
//!
//!     cargo run --release -p jhe-engine --example export_bench -- OUT_DIR [N] [parquet|csv] [per-type|long]
//!
//! N observations (default 1,000,000) in units of 10,000 (one patient × blood glucose each),
//! built one unit at a time as `RawObservation`s (what the fetcher hands over). Prints the time
//! per phase and the process's peak resident memory (Linux `VmHWM`).

use std::path::PathBuf;
use std::time::Instant;

use base64::Engine as _;
use jhe_engine::export::{Export, ExportSpec, Format, Layout};
use jhe_engine::omh::time::iso_naive_us;
use jhe_engine::omh::{Envelope, OmhSource, RawObservation, OMH_SYSTEM};

const UNIT: u64 = 10_000;

fn raw(id: u64, patient: u64, k: u64) -> RawObservation {
    let utc_us = 1_790_000_000_000_000 + k as i64 * 300_000_000;
    let local = iso_naive_us(utc_us - 300 * 60_000_000);
    let t = format!("{}-05:00", &local[..19]);
    let omh = format!(
        r#"{{"body": {{"blood_glucose": {{"unit": "mg/dL", "value": {}}}, "effective_time_frame": {{"date_time": "{t}"}}}}, "header": {{"uuid": "f7c6c23f-9af8-448f-a1b5-{id:012}", "modality": "sensed", "schema_id": {{"name": "blood-glucose", "version": "4.0", "namespace": "omh"}}, "acquisition_provenance": {{"source_name": "demo-cgm-generator"}}, "source_creation_date_time": "{t}"}}}}"#,
        70 + (id * 37) % 150
    );
    RawObservation {
        id,
        patient_id: patient,
        coding_system: OMH_SYSTEM.into(),
        coding_code: "omh:blood-glucose:4.0".into(),
        last_updated: Some("2026-11-26T01:59:33.981290Z".into()),
        omh: OmhSource::Base64(base64::engine::general_purpose::STANDARD.encode(omh)),
        envelope: Envelope::default(),
    }
}

fn peak_rss_mb() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: export_bench OUT_DIR [N] [parquet|csv] [per-type|long]")?,
    );
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let format = match args.next().as_deref() {
        Some("csv") => Format::Csv,
        _ => Format::Parquet,
    };
    let layout = match args.next().as_deref() {
        Some("long") => Layout::Long,
        _ => Layout::PerType,
    };
    let mut ex = Export::open(ExportSpec {
        out_dir: out.clone(),
        format,
        layout,
        server: "http://127.0.0.1:8000".into(),
        study_id: Some(30006),
        patient_ids: vec![],
        codes: vec![],
        date_from: None,
        date_to: None,
        flagged: Default::default(),
        deidentify: None,
        encrypt: None,
        app_version: "bench".into(),
    })?;
    let t = Instant::now();
    let mut gen_s = 0.0;
    let mut id = 1;
    let mut patient = 50_000;
    while id <= n {
        let g = Instant::now();
        let count = UNIT.min(n - id + 1);
        let records: Vec<RawObservation> = (0..count).map(|k| raw(id + k, patient, k)).collect();
        gen_s += g.elapsed().as_secs_f64();
        ex.write_unit(
            &format!("{patient}/omh:blood-glucose:4.0"),
            records,
            Some(count),
        )?;
        id += count;
        patient += 1;
    }
    let t_units = t.elapsed().as_secs_f64() - gen_s;
    let t = Instant::now();
    let m = ex.finish()?;
    let t_finish = t.elapsed().as_secs_f64();
    let bytes: u64 = m
        .files
        .iter()
        .filter(|f| f.role == "data")
        .map(|f| f.bytes)
        .sum();
    println!(
        "{n} observations, {format:?}, {layout:?} → {}",
        out.display()
    );
    println!(
        "  write_unit (decode, tidy, parts): {t_units:>7.2} s  ({:.0} obs/s)",
        n as f64 / t_units
    );
    println!("  finish (merge, hash, manifest):   {t_finish:>7.2} s");
    println!("  (generating the input:            {gen_s:>7.2} s, not counted)");
    println!(
        "  data files: {:.1} MB, {} rows",
        bytes as f64 / 1e6,
        m.total_rows
    );
    if let Some(mb) = peak_rss_mb() {
        println!("  peak resident memory: {mb:.0} MB");
    }
    Ok(())
}
