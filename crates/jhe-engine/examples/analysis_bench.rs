//! The analysis benchmarks of issue #10, printed as tables (not timed tests):
//!
//!     cargo run --release -p jhe-engine --example analysis_bench -- [READINGS] [BOARD_PARTICIPANTS]
//!
//! 1. **Metrics of a 1-million-reading study, data in memory**: READINGS (default 1,000,000) CGM
//!    readings every 5 minutes with a daily rhythm, over 40 participants, as [`Obs`] (what the
//!    export's read-back and the app hand to the analysis); times for the study's metric tables
//!    (`metric_tables`: every participant's CGM metrics, MAGE and MODD included) and for every
//!    participant's AGP. Target: metrics under 1 s.
//! 2. **The study board of a 500-participant study**: the sandbox (in-process, HTTP on loopback)
//!    with BOARD_PARTICIPANTS (default 500) participants and 14 days of data; the time for
//!    `study_summary` (consents, counts and first/last data per participant and type, by
//!    `_summary=count` and date-sorted probes), as the app's study overview loads it.
//!    Target: under 5 s.

use std::time::Instant;

use jhe_engine::analysis::{glucose_agp, input, tables::metric_tables, Period};
use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::jobs::study_summary;
use jhe_engine::server_check::check_server;

const PARTICIPANTS: u64 = 40;

/// `n` CGM readings over [`PARTICIPANTS`] participants: every 5 minutes, UTC−05:00, a daily
/// rhythm plus a deterministic wobble.
fn cgm(n: u64) -> Vec<Obs> {
    let per = n.div_ceil(PARTICIPANTS);
    (0..n)
        .map(|i| {
            let (p, k) = (i / per, i % per);
            let t_us = 1_790_000_000_000_000 + k as i64 * 300_000_000;
            let minute = (k * 5) % 1440;
            let rhythm = 40.0 * ((minute as f64 / 1440.0) * std::f64::consts::TAU).sin();
            let wobble = ((i * 2_654_435_761) % 61) as f64 - 30.0;
            Obs {
                observation_id: i + 1,
                patient_id: 40_000 + p,
                code: "omh:blood-glucose:4.0".into(),
                t_us,
                end_us: None,
                local_us: Some(t_us - 5 * 3_600_000_000),
                v: Some(140.0 + rhythm + wobble),
                v2: None,
                device: None,
            }
        })
        .collect()
}

fn secs(t: Instant) -> f64 {
    t.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let n: u64 = args
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000);
    let board: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(500);

    let obs = cgm(n);
    let t = Instant::now();
    let tables = metric_tables(&obs, Period::ALL)?;
    let metrics_s = secs(t);
    let rows: usize = tables.iter().map(|(_, df)| df.height()).sum();
    let t = Instant::now();
    let mut by_patient: std::collections::BTreeMap<u64, Vec<Obs>> = Default::default();
    for o in &obs {
        by_patient.entry(o.patient_id).or_default().push(o.clone());
    }
    let profiles = by_patient
        .values()
        .filter_map(|o| glucose_agp(&input::glucose(o).readings, Period::ALL))
        .count();
    let agp_s = secs(t);

    println!("| analysis, data in memory (release build) | readings | participants | time |");
    println!("|---|---|---|---|");
    println!(
        "| metric tables (`metrics_cgm`: all metrics incl. MAGE, MODD) | {n} | {rows} | {metrics_s:.3} s |"
    );
    println!(
        "| AGP percentiles (grouping + iglu grid + quantiles) | {n} | {profiles} | {agp_s:.3} s |"
    );

    let t = Instant::now();
    let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config {
        patients: board,
        days: 14,
        ..jhe_sandbox::Config::default()
    })
    .await?;
    let start_s = secs(t);
    let info = check_server(sb.url()).await?;
    let key = sb
        .info()
        .api_key(jhe_sandbox::demo::MARY)
        .ok_or("no API key for the demo manager")?
        .to_string();
    let s = Session::sign_in_with_api_key(&info, &key, SessionOptions::default()).await?;
    let t = Instant::now();
    let summary = study_summary(
        &s,
        jhe_sandbox::demo::DEMO_STUDY,
        0,
        |_| {},
        CancelToken::new(),
    )
    .await?;
    let board_s = secs(t);
    println!();
    println!("| study board (sandbox on loopback, release build) | participants | types | time |");
    println!("|---|---|---|---|");
    println!(
        "| `study_summary` (counts, consents, first/last data) | {} | {} | {board_s:.2} s |",
        summary.patients.len(),
        summary.scopes.len()
    );
    println!("\n(sandbox with {board} participants × 14 days generated in {start_s:.1} s)");
    Ok(())
}
