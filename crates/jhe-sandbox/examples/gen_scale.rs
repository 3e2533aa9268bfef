//! Measures the generator at full scale (not a test):
//! `cargo run --release -p jhe-sandbox --example gen_scale -- [patients] [days]`
//! prints generation time, observation counts, dirt and the process's peak memory.

use std::time::Instant;

use jhe_sandbox::generate::{generate_all, render, DirtyReport, GenConfig, Kind, PatientPlan};

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn main() {
    let mut args = std::env::args().skip(1);
    let patients: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(200);
    let days: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(90);
    let cfg = GenConfig {
        seed: 42,
        days,
        dirty_share: 0.01,
        ..GenConfig::default()
    };
    let plans: Vec<PatientPlan> = (0..patients)
        .map(|i| PatientPlan {
            patient_id: 40006 + i,
            kinds: Kind::ALL
                .iter()
                .copied()
                .filter(|k| *k != Kind::BodyTemperature)
                .collect(),
            extra_kinds: vec![Kind::BodyTemperature],
            stopped_days_ago: 0,
        })
        .collect();
    let t0 = Instant::now();
    let mut report = DirtyReport::default();
    let all = generate_all(&cfg, &plans, &mut report);
    let gen = t0.elapsed();
    println!(
        "{patients} patients x {days} days: {} observations in {:.2} s ({} bytes each, {:.0} MB)",
        all.len(),
        gen.as_secs_f64(),
        std::mem::size_of_val(&all[0]),
        (all.capacity() * std::mem::size_of_val(&all[0])) as f64 / 1e6
    );
    println!(
        "peak RSS after generation: {:.0} MB",
        peak_rss_mb().unwrap_or(f64::NAN)
    );
    let mut per_kind = std::collections::BTreeMap::new();
    for o in &all {
        *per_kind.entry(o.kind.code()).or_insert(0usize) += 1;
    }
    for (k, n) in per_kind {
        println!("  {k:>28}: {n}");
    }
    for (name, n) in report.summary() {
        println!("  {name:>28}: {n} (dirty)");
    }
    let t1 = Instant::now();
    let bytes: usize = all
        .iter()
        .take(100_000)
        .map(|o| render(o).to_string().len())
        .sum();
    println!(
        "render+serialize 100k: {:.2} s, {:.0} bytes/obs",
        t1.elapsed().as_secs_f64(),
        bytes as f64 / 100_000.0
    );
}
