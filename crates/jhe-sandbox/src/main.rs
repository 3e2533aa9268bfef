//! `jhe-sandbox`: run the local JupyterHealth Exchange, or benchmark it.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};
use jhe_sandbox::{Config, Faults, Sandbox};

#[derive(Parser)]
#[command(
    name = "jhe-sandbox",
    version,
    about = "A local JupyterHealth Exchange (JHE v0.0.13 behaviour) with demo data",
    long_about = "A local JupyterHealth Exchange that behaves like the real server, with the reference \
organizations, studies, practitioners and patients (ids as on a seeded JHE) and generated Open mHealth \
data. Sign in with a practitioner API key printed at start (client credentials), or in a browser as \
manager_mary@example.com / Jhe1234!."
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    data: DataArgs,
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8000)]
    port: u16,
    /// Write the URL and every practitioner's email and API key to this JSON file once serving.
    #[arg(long)]
    info_file: Option<PathBuf>,
    #[command(flatten)]
    faults: FaultArgs,
}

#[derive(Args, Clone)]
struct DataArgs {
    /// Seed for keys, names and data: the same seed gives the same data set.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Participants in the demo study 30006 ("CGM & Wearables Demo").
    #[arg(long, default_value_t = 20)]
    patients: u32,
    /// Days of data per participant.
    #[arg(long, default_value_t = 14)]
    days: u32,
    /// When the data ends (RFC 3339, e.g. 2026-11-26T00:00:00Z); default: now, to the hour.
    #[arg(long)]
    end: Option<String>,
    /// Share of deliberately dirty observations (0.0 to 1.0).
    #[arg(long, default_value_t = 0.01)]
    dirty_share: f64,
    /// Access-token lifetime in seconds (JHE: 1209600 = 14 days).
    #[arg(long, default_value_t = 1_209_600)]
    token_lifetime: i64,
}

#[derive(Args, Clone)]
struct FaultArgs {
    /// Share of API requests answered 500/502/503.
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Latency added to every API request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Share of API responses whose connection drops mid-body.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Share of API requests answered 429 Too Many Requests.
    #[arg(long, default_value_t = 0.0)]
    rate_limit_rate: f64,
    /// Retry-After seconds on 429 answers.
    #[arg(long, default_value_t = 1)]
    retry_after: u64,
    /// Seed of the fault sequence.
    #[arg(long, default_value_t = 1)]
    fault_seed: u64,
    /// Hostile-server behaviours as JSON, e.g. '{"foreignRows":"otherPatient","formulas":true}'
    /// (see the `hostile` module; also `PUT /_sandbox/hostile`).
    #[arg(long)]
    hostile: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Build a large data set and print generation time, start time, memory and FHIR page rates.
    Bench(BenchArgs),
}

#[derive(Args)]
struct BenchArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Pages of 1000 observations to fetch.
    #[arg(long, default_value_t = 300)]
    pages: usize,
    /// Concurrent requests.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
}

fn config_of(d: &DataArgs) -> Result<Config, String> {
    let end_us =
        match &d.end {
            Some(s) => Some(jhe_sandbox::time::parse_datetime_us(s).ok_or_else(|| {
                format!("--end {s:?} is not a date-time like 2026-11-26T00:00:00Z")
            })?),
            None => None,
        };
    if !(0.0..=1.0).contains(&d.dirty_share) {
        return Err("--dirty-share must be between 0 and 1".into());
    }
    Ok(Config {
        seed: d.seed,
        patients: d.patients,
        days: d.days,
        end_us,
        dirty_share: d.dirty_share,
        token_lifetime_s: d.token_lifetime,
        ..Config::default()
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .init();
    let cli = Cli::parse();
    let result = match cli.command {
        Some(Command::Bench(args)) => jhe_sandbox_bench::run(args).await,
        None => serve(cli).await,
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("jhe-sandbox: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(cli: Cli) -> Result<(), String> {
    let mut config = config_of(&cli.data)?;
    config.bind = cli.bind;
    config.port = cli.port;
    config.faults = Faults {
        error_rate: cli.faults.error_rate,
        latency_ms: cli.faults.latency_ms,
        drop_rate: cli.faults.drop_rate,
        rate_limit_rate: cli.faults.rate_limit_rate,
        retry_after_s: cli.faults.retry_after,
        seed: cli.faults.fault_seed,
    };
    if let Some(json) = &cli.faults.hostile {
        config.hostile =
            serde_json::from_str(json).map_err(|e| format!("--hostile: bad JSON ({e})"))?;
    }
    eprintln!(
        "jhe-sandbox: generating {} participants x {} days ...",
        config.patients, config.days
    );
    let sandbox = Sandbox::start(config).await.map_err(|e| e.to_string())?;
    let info = sandbox.info();
    if let Some(path) = &cli.info_file {
        let json = serde_json::to_vec_pretty(&info).map_err(|e| e.to_string())?;
        // Write then rename, so a watcher never reads half a file.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, json)
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|e| format!("cannot write --info-file {}: {e}", path.display()))?;
    }
    println!(
        "JupyterHealth Exchange sandbox ({}) at {}",
        info.version, info.url
    );
    println!(
        "  {} observations, {} participants x {} days, built in {} ms",
        info.observations, info.data.patients, info.data.days, info.data.build_ms
    );
    println!(
        "  Practitioner API keys (client credentials, HTTP Basic at {}/o/token/):",
        info.url
    );
    for p in &info.practitioners {
        println!("    {:<28} {}", p.email, p.api_key);
    }
    println!(
        "  Browser sign-in: client id '{}', any user above with password {}",
        info.desktop_client_id, info.password
    );
    println!("  Press Ctrl+C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    sandbox.stop().await;
    Ok(())
}

mod jhe_sandbox_bench {
    //! `jhe-sandbox bench`: a benchmark that prints a table (not a timed test).

    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Instant;

    use jhe_sandbox::{build_state, Sandbox};

    fn proc_status_kb(field: &str) -> Option<u64> {
        let s = std::fs::read_to_string("/proc/self/status").ok()?;
        s.lines()
            .find(|l| l.starts_with(field))?
            .split_whitespace()
            .nth(1)?
            .parse()
            .ok()
    }

    pub async fn run(args: super::BenchArgs) -> Result<(), String> {
        let config = super::config_of(&args.data)?;
        let t0 = Instant::now();
        let cfg = config.clone();
        let state = tokio::task::spawn_blocking(move || build_state(&cfg))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let gen_time = t0.elapsed();
        let rss_after_build = proc_status_kb("VmRSS:").unwrap_or(0);
        let n_obs = state.store.read().len();
        let t1 = Instant::now();
        let sandbox = Sandbox::serve(Arc::new(state), &config, gen_time)
            .await
            .map_err(|e| e.to_string())?;
        let client = reqwest::Client::new();
        let health = client
            .get(format!("{}/health", sandbox.url()))
            .send()
            .await
            .map_err(|e| e.to_string())?;
        if !health.status().is_success() {
            return Err("sandbox did not answer /health".into());
        }
        let start_time = t1.elapsed();
        let info = sandbox.info();
        let key = info
            .api_key(jhe_sandbox::demo::MARY)
            .ok_or("no demo key")?
            .to_string();
        let tok: serde_json::Value = client
            .post(format!("{}/o/token/", sandbox.url()))
            .header("Authorization", format!("Basic {key}"))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body("grant_type=client_credentials")
            .send()
            .await
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let token = tok["access_token"].as_str().ok_or("no token")?.to_string();
        let study_total = info
            .study_observations(jhe_sandbox::demo::DEMO_STUDY)
            .unwrap_or(0);
        let pages_available = study_total.div_ceil(1000);
        let pages = args.pages.min(pages_available as usize).max(1);
        // First page alone: the cost of the study-wide scan and sort (cached afterwards).
        let first_url = format!(
            "{}/FHIR/R5/Observation?patient._has:Group:member:_id=30006&_count=1000",
            sandbox.url()
        );
        let tf = Instant::now();
        let first = client
            .get(&first_url)
            .bearer_auth(&token)
            .send()
            .await
            .map_err(|e| e.to_string())?
            .bytes()
            .await
            .map_err(|e| e.to_string())?;
        let first_page = tf.elapsed();
        let bytes_total = Arc::new(AtomicUsize::new(first.len()));
        let next_page = Arc::new(AtomicUsize::new(2));
        let tp = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..args.concurrency.max(1) {
            let client = client.clone();
            let token = token.clone();
            let url = first_url.clone();
            let bytes_total = bytes_total.clone();
            let next_page = next_page.clone();
            tasks.push(tokio::spawn(async move {
                loop {
                    let p = next_page.fetch_add(1, Ordering::Relaxed);
                    if p > pages {
                        return Ok::<(), String>(());
                    }
                    let r = client
                        .get(format!("{url}&_page={p}"))
                        .bearer_auth(&token)
                        .send()
                        .await
                        .map_err(|e| e.to_string())?;
                    if !r.status().is_success() {
                        return Err(format!("page {p}: HTTP {}", r.status()));
                    }
                    let b = r.bytes().await.map_err(|e| e.to_string())?;
                    bytes_total.fetch_add(b.len(), Ordering::Relaxed);
                }
            }));
        }
        for t in tasks {
            t.await.map_err(|e| e.to_string())??;
        }
        let walk = tp.elapsed();
        let walked = pages.saturating_sub(1).max(1);
        let rate_pages = walked as f64 / walk.as_secs_f64();
        let peak = proc_status_kb("VmHWM:").unwrap_or(0);
        let mb = |kb: u64| kb as f64 / 1024.0;
        println!("| jhe-sandbox bench | value |");
        println!("|---|---|");
        println!(
            "| participants x days | {} x {} |",
            config.patients, config.days
        );
        println!("| observations generated | {n_obs} |");
        println!("| study 30006 observations | {study_total} |");
        println!("| generation time | {:.1} s |", gen_time.as_secs_f64());
        println!(
            "| start time (bind + first /health) | {:.0} ms |",
            start_time.as_secs_f64() * 1000.0
        );
        println!(
            "| resident memory after build | {:.0} MB |",
            mb(rss_after_build)
        );
        println!("| peak resident memory | {:.0} MB |", mb(peak));
        println!(
            "| first 1000-row FHIR page (study-wide scan + sort) | {:.0} ms |",
            first_page.as_secs_f64() * 1000.0
        );
        println!(
            "| FHIR pages of 1000 served ({} concurrent) | {walked} pages in {:.2} s |",
            args.concurrency,
            walk.as_secs_f64()
        );
        println!(
            "| rate | {:.1} pages/s = {:.0} observations/s |",
            rate_pages,
            rate_pages * 1000.0
        );
        println!(
            "| bytes per page | {:.0} KB |",
            bytes_total.load(Ordering::Relaxed) as f64 / pages as f64 / 1024.0
        );
        sandbox.stop().await;
        Ok(())
    }
}
