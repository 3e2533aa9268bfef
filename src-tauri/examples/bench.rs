//! Benchmarks of what a coordinator waits for, printed as tables:
//!
//! * the participant view's charts: 26,000 CGM readings (90 days every 5 minutes) plus the other
//!   types, rendered to SVG with stats and hover points (what `get_patient_data` does after the
//!   download);
//! * start-up: from starting the app's process to a usable window (the page loaded), with
//!   `--startup BIN` (a release build; needs a display, e.g. under `xvfb-run`).
//!
//! ```sh
//! cargo run --release -p jhe-desktop --example bench
//! xvfb-run -a cargo run --release -p jhe-desktop --example bench -- --startup /var/tmp/jhe-target/release/jhe-desktop
//! ```

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use jhe_app::views;
use jhe_engine::chart::Obs;

const MIN: i64 = 60_000_000;

fn series(
    code: &str,
    n: usize,
    every_min: i64,
    f: impl Fn(usize) -> (f64, Option<f64>),
) -> Vec<Obs> {
    let end = 1_767_225_600_000_000; // 2026-01-01
    let start = end - n as i64 * every_min * MIN;
    (0..n)
        .filter(|i| i % 2000 <= 1900) // sensor gaps now and then
        .map(|i| {
            let (v, v2) = f(i);
            Obs {
                observation_id: i as u64,
                patient_id: 40001,
                code: code.to_string(),
                t_us: start + i as i64 * every_min * MIN,
                end_us: None,
                local_us: None,
                v: Some(v),
                v2,
                device: Some("Dexcom G7".into()),
            }
        })
        .collect()
}

fn median(mut d: Vec<Duration>) -> Duration {
    d.sort();
    d[d.len() / 2]
}

fn render_table() {
    let sets: Vec<(&str, Vec<Obs>)> = vec![
        (
            "omh:blood-glucose:4.0",
            series("omh:blood-glucose:4.0", 27_400, 5, |i| {
                (
                    120.0 + 60.0 * ((i as f64) / 40.0).sin() + ((i * 7919) % 13) as f64,
                    None,
                )
            }),
        ),
        (
            "omh:blood-pressure:4.0",
            series("omh:blood-pressure:4.0", 180, 720, |i| {
                (118.0 + (i % 9) as f64, Some(76.0 + (i % 5) as f64))
            }),
        ),
        (
            "omh:heart-rate:2.0",
            series("omh:heart-rate:2.0", 2160, 60, |i| {
                (60.0 + (i % 17) as f64, None)
            }),
        ),
        (
            "omh:step-count:3.0",
            series("omh:step-count:3.0", 2160, 60, |i| {
                ((i % 11) as f64 * 90.0, None)
            }),
        ),
        (
            "omh:body-weight:3.0",
            series("omh:body-weight:3.0", 90, 1440, |i| {
                (80.0 - i as f64 * 0.02, None)
            }),
        ),
        (
            "omh:oxygen-saturation:2.0",
            series("omh:oxygen-saturation:2.0", 90, 1440, |i| {
                (95.0 + (i % 4) as f64, None)
            }),
        ),
    ];
    println!(
        "Participant view: chart + stats + hover points per type (median of 7 runs, release build)"
    );
    println!("| type | readings | render | SVG size | hover points |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    let mut total = Duration::ZERO;
    for (code, obs) in &sets {
        let mut runs = Vec::new();
        let mut last = None;
        for _ in 0..7 {
            let t = Instant::now();
            let s = views::type_series(code, obs, None, None);
            runs.push(t.elapsed());
            last = Some(s);
        }
        let m = median(runs);
        total += m;
        if let Some(s) = last {
            println!(
                "| {} | {} | {:.1} ms | {:.0} KB | {} |",
                s.label,
                obs.len(),
                m.as_secs_f64() * 1000.0,
                s.chart_svg.len() as f64 / 1024.0,
                s.points.len()
            );
        }
    }
    println!(
        "| **whole view** | {} | **{:.1} ms** | | |",
        sets.iter().map(|s| s.1.len()).sum::<usize>(),
        total.as_secs_f64() * 1000.0
    );
}

fn startup_table(bin: &str) {
    println!();
    println!("Start-up: process start → page loaded in the window (release build, {bin})");
    println!("| run | time to usable window |");
    println!("| ---: | ---: |");
    let mut all = Vec::new();
    for run in 1..=5 {
        let t0 = Instant::now();
        let child = Command::new(bin)
            .env("JHE_EXIT_WHEN_READY", "1")
            .env("RUST_LOG", "info")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn();
        let Ok(mut child) = child else {
            println!("| {run} | could not start {bin} |");
            return;
        };
        let mut ready = None;
        if let Some(err) = child.stderr.take() {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if line.contains("window ready") {
                    ready = Some(t0.elapsed());
                    break;
                }
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        match ready {
            Some(d) => {
                println!("| {run} | {:.0} ms |", d.as_secs_f64() * 1000.0);
                all.push(d);
            }
            None => println!("| {run} | no window (is there a display?) |"),
        }
    }
    if !all.is_empty() {
        println!(
            "| median | **{:.0} ms** |",
            median(all).as_secs_f64() * 1000.0
        );
    }
}

/// The whole participant view for one participant with 90 days of CGM from the in-process
/// sandbox: download (all FHIR pages), decode, chart.
fn sandbox_table() -> Result<(), Box<dyn std::error::Error>> {
    use jhe_engine::api::{ObservationQuery, Session, SessionOptions};
    use jhe_engine::cancel::CancelToken;
    use jhe_engine::fetch::fetch_observations;
    use jhe_engine::omh;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config {
            patients: 2,
            days: 90,
            ..jhe_sandbox::Config::default()
        })
        .await?;
        let info = sb.info();
        let key = info
            .practitioners
            .iter()
            .find(|p| p.email == "manager_mary@example.com")
            .map(|p| p.api_key.clone())
            .ok_or("no demo user")?;
        let server = jhe_engine::server_check::check_server(sb.url()).await?;
        let s = Session::sign_in_with_api_key(&server, &key, SessionOptions::default()).await?;
        println!();
        println!("Participant view from the in-process sandbox: 90 days of CGM for one participant (release build)");
        println!("| step | time |");
        println!("| --- | ---: |");
        let t = Instant::now();
        let q = ObservationQuery {
            study_id: Some(30006),
            patient_id: Some(40006),
            code: Some((omh::OMH_SYSTEM.into(), "omh:blood-glucose:4.0".into())),
            ..Default::default()
        };
        let f = fetch_observations(&s, &q, &CancelToken::new(), &|_| {}).await?;
        let fetch = t.elapsed();
        let t = Instant::now();
        let (readings, pages) = (f.observations.len(), f.pages);
        let obs: Vec<Obs> = f
            .observations
            .into_iter()
            .filter_map(|r| omh::decode_owned(r).ok())
            .map(|d| Obs::from_decoded(&d))
            .collect();
        let decode = t.elapsed();
        let t = Instant::now();
        let series = views::type_series("omh:blood-glucose:4.0", &obs, None, None);
        let render = t.elapsed();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!("| download: {} readings, {} pages of 1000 (HTTP on 127.0.0.1) | {:.0} ms |", readings, pages, ms(fetch));
        println!("| decode (base64 + OMH JSON; the FHIR envelope is read with the download) | {:.0} ms |", ms(decode));
        println!("| chart + stats + hover points ({} KB SVG) | {:.1} ms |", series.chart_svg.len() / 1024, ms(render));
        println!("| **total** | **{:.0} ms** |", ms(fetch + decode + render));
        sb.stop().await;
        Ok::<(), Box<dyn std::error::Error>>(())
    })
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    render_table();
    if let Err(e) = sandbox_table() {
        eprintln!("sandbox benchmark failed: {e}");
    }
    if let Some(i) = args.iter().position(|a| a == "--startup") {
        match args.get(i + 1) {
            Some(bin) => startup_table(bin),
            None => eprintln!("--startup needs the path of the app's binary"),
        }
    }
}
