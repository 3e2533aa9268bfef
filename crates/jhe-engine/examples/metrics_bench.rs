//! Prints how long the clinical metrics take on 1 million synthetic readings already in
//! memory (one participant × 1M CGM readings, and 100 participants × 10k), plus blood
//! pressure and the other types. `cargo run --release -p jhe-engine --example metrics_bench`.

use jhe_engine::analysis::{
    bp_metrics, cgm_metrics, resting_hr_trend, step_metrics, BpGoal, BpReading, GlucoseReading,
    GlucoseUnit, Period, TimedValue,
};
use std::time::Instant;

const N: usize = 1_000_000;
const T0_US: i64 = 1_704_067_200_000_000; // 2024-01-01T00:00Z

/// A deterministic glucose trace: daily and 3-hour waves, noise, 2 % dropped readings.
fn glucose(n: usize, seed: u64) -> Vec<GlucoseReading> {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut next = || {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (x >> 11) as f64 / (1u64 << 53) as f64
    };
    (0..n)
        .filter_map(|k| {
            let noise = next();
            let keep = next() > 0.02;
            let t = k as f64 * 5.0 / 60.0;
            let v = 140.0
                + 50.0 * (t / 24.0 * std::f64::consts::TAU).sin()
                + 35.0 * (t / 3.0 * std::f64::consts::TAU).sin()
                + 20.0 * (noise - 0.5);
            keep.then_some(GlucoseReading {
                utc_us: T0_US + k as i64 * 300_000_000,
                offset_s: -5 * 3600,
                value: v,
                unit: GlucoseUnit::MgDl,
            })
        })
        .collect()
}

fn time<T>(label: &str, readings: usize, f: impl FnOnce() -> T) -> T {
    let t = Instant::now();
    let out = f();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    println!("| {label:<44} | {readings:>9} | {ms:>9.1} |");
    out
}

fn main() {
    println!("| metrics (data in memory)                     |  readings |     ms    |");
    println!("|----------------------------------------------|-----------|-----------|");
    let one = glucose(N, 1);
    let m = time("CGM, 1 participant (all 20 columns)", one.len(), || {
        cgm_metrics("p", &one, Period::ALL)
    });
    let many: Vec<Vec<GlucoseReading>> = (0..100).map(|p| glucose(N / 100, p)).collect();
    let total: usize = many.iter().map(Vec::len).sum();
    let rows = time("CGM, 100 participants × 10k", total, || {
        many.iter()
            .enumerate()
            .map(|(i, r)| cgm_metrics(&i.to_string(), r, Period::ALL))
            .collect::<Vec<_>>()
    });
    let bp: Vec<BpReading> = (0..N)
        .map(|k| BpReading {
            utc_us: T0_US + k as i64 * 600_000_000,
            offset_s: 3600,
            systolic: 110.0 + (k % 50) as f64,
            diastolic: 70.0 + (k % 25) as f64,
        })
        .collect();
    time("blood pressure, 1 participant", bp.len(), || {
        bp_metrics("p", &bp, Period::ALL, BpGoal::default())
    });
    let tv: Vec<TimedValue> = (0..N)
        .map(|k| TimedValue {
            utc_us: T0_US + k as i64 * 60_000_000,
            offset_s: 0,
            value: 50.0 + (k % 97) as f64,
        })
        .collect();
    time("steps (daily totals), 1 participant", tv.len(), || {
        step_metrics(&tv, Period::ALL, 7000.0)
    });
    time("resting heart rate trend, 1 participant", tv.len(), || {
        resting_hr_trend(&tv, Period::ALL)
    });
    println!();
    println!(
        "1-participant CGM: mean {:.1}, MAGE {:?}, MODD {:?}; 100-participant rows: {}",
        m.mean_mg_dl.unwrap_or_default(),
        m.mage_mg_dl,
        m.modd_mg_dl,
        rows.len()
    );
}
