//! `jhe`: the command line of JHE Desktop.

mod audit;
mod config;
mod export;
mod login;
mod output;
mod report;
mod sync;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::NaiveDate;
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::audit::{Action, Draft};
use jhe_engine::auth::{KeychainOwner, KeyringStore, SecretStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::error::Error;
use jhe_engine::jobs::{self, Phase, Progress};
use jhe_engine::server_check::{self, ServerInfo};
use serde_json::json;

use crate::config::Config;

// Decoding a study allocates millions of small strings; glibc's allocator spent a third of the
// export's CPU time in malloc/free (perf), mimalloc a fraction of that.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const EXIT_CODES: &str = "\
Environment:
  JHE_URL        server address (instead of --server)
  JHE_API_KEY    practitioner API key; with it nothing is read from or written to the keychain
                 and nothing is asked (for scripts and scheduled jobs)

Exit codes:
  0    success (for export: every observation the server counts was written)
  1    unexpected internal error
  2    usage error: bad option, id, type or date
  3    sign-in needed or failed (run `jhe login`, or check JHE_API_KEY)
  4    not allowed: your account cannot see this study or participant (HTTP 403)
  5    network or server problem: unreachable, not a JHE server, server errors after retries
  6    export finished but incomplete (rows differ from the server's count); see --allow-incomplete
  7    the export could not be written (folder not writable, disk full)
  8    jhe audit: the audit log was altered (verify names the entry) or cannot be read
  130  cancelled with Ctrl-C (what was downloaded is kept; run the same export again to resume,
       or `jhe discard DIR` to delete it)

Every read, sync, export and report is recorded in a tamper-evident audit log (ids and counts,
no names or values); `jhe audit verify` checks it. A failure to write the log is a warning: the
command's own result and exit code stand.";

#[derive(Parser)]
#[command(
    name = "jhe",
    version,
    about = "Download consented Open mHealth data from a JupyterHealth Exchange (JHE) server",
    long_about = "Download consented Open mHealth data from a JupyterHealth Exchange (JHE) server.\n\n\
Sign in once with `jhe login` (your practitioner API key from the JHE web portal, Profile → API Key, \
or --browser), then list your organizations, studies and participants, see a study's overview, and \
export its data as CSV or Parquet with a data dictionary and a manifest.\n\n\
Example:\n  jhe login --server https://jhe.example.org\n  jhe studies\n  jhe export --study 30006 --format parquet --out ./cgm-study",
    after_help = EXIT_CODES
)]
struct Cli {
    /// Server address, e.g. https://jhe.example.org (default: the last one you signed in to)
    #[arg(long, global = true, env = "JHE_URL", value_name = "URL")]
    server: Option<String>,
    /// Print machine-readable JSON on stdout
    #[arg(long, global = true)]
    json: bool,
    /// No progress bars or notes on stderr
    #[arg(long, short, global = true)]
    quiet: bool,
    /// More log output on stderr (-v, -vv)
    #[arg(long, short, global = true, action = clap::ArgAction::Count)]
    verbose: u8,
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Sign in and save the sign-in in the system keychain
    Login(LoginArgs),
    /// Sign out: revoke the sign-in on the server and delete it from the keychain
    Logout,
    /// Show who is signed in
    Whoami,
    /// List your organizations and your role in each
    Orgs,
    /// List the studies you can see
    Studies {
        /// Only the studies of this organization
        #[arg(long, value_name = "ID")]
        org: Option<u64>,
    },
    /// List a study's participants
    Patients {
        #[arg(long, value_name = "ID")]
        study: u64,
    },
    /// Per participant: consent per type, observation counts, first/last data, days since last upload
    Summary {
        #[arg(long, value_name = "ID")]
        study: u64,
        /// Participants read at once
        #[arg(long, default_value_t = jobs::DEFAULT_PARALLELISM, value_name = "N")]
        parallel: usize,
    },
    /// Data quality: future or offset-less times, re-sent readings, odd units, types outside the
    /// study, implausible values, outliers; each finding with its observation ids (--json)
    Check {
        #[arg(long, value_name = "ID")]
        study: u64,
        /// Only this participant
        #[arg(long, value_name = "ID")]
        patient: Option<u64>,
        /// Participants read at once
        #[arg(long, default_value_t = jobs::DEFAULT_PARALLELISM, value_name = "N")]
        parallel: usize,
    },
    /// Clinical metrics per participant: CGM (time in ranges, GMI, CV, GRI, MAGE, MODD, …), blood
    /// pressure (AHA categories, % at goal), steps, SpO2 (definitions: the data dictionary)
    Metrics(Selection),
    /// Write a report: one HTML file with the metrics, charts, data quality and provenance of a
    /// study or one participant (opens in any browser, prints to PDF)
    Report {
        #[command(flatten)]
        sel: Selection,
        /// The file to write; default: report-study-ID[-participant-ID].html here
        #[arg(long, short, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Export a study's observations (resumes an interrupted export of the same selection)
    Export(export::ExportArgs),
    /// Keep an encrypted local copy of a study up to date: what is new since the last sync, and
    /// deletions found by comparing counts ("+1,204 readings from 12 participants, 0 removed")
    Sync {
        #[arg(long, value_name = "ID")]
        study: u64,
        /// How much to compare besides fetching what is new
        #[arg(long, value_enum, default_value = "daily")]
        reconcile: sync::ReconcileArg,
        /// Sync again every MINUTES minutes until Ctrl-C
        #[arg(long, value_name = "MINUTES")]
        watch: Option<u64>,
    },
    /// List the local study copies on this computer with their sizes, or remove one
    Copies {
        /// Delete the local copy of this study
        #[arg(long, value_name = "STUDY")]
        remove: Option<u64>,
        /// Print a new key for JHE_COPY_KEY (for a computer without a keychain) and exit
        #[arg(long)]
        new_key: bool,
    },
    /// The audit log of what was read, synced, exported and reported (who, which server,
    /// study, participant ids, types, days, rows, where written): verify, list, export as CSV
    Audit {
        #[command(subcommand)]
        cmd: audit::AuditCmd,
    },
    /// Delete what unfinished (cancelled or failed) exports into DIR downloaded
    Discard {
        /// The folder the export was started with (--out)
        #[arg(value_name = "DIR")]
        dir: std::path::PathBuf,
    },
}

/// Which participants and days `metrics` and `report` read.
#[derive(Args)]
struct Selection {
    #[arg(long, value_name = "ID")]
    study: u64,
    /// Only this participant
    #[arg(long, value_name = "ID")]
    patient: Option<u64>,
    /// First day (UTC, YYYY-MM-DD); default: all of each participant's data
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Last day, inclusive
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    to: Option<NaiveDate>,
    /// Participants read at once
    #[arg(long, default_value_t = jobs::DEFAULT_PARALLELISM, value_name = "N")]
    parallel: usize,
}

#[derive(Args)]
struct LoginArgs {
    /// Sign in in the web browser instead of with an API key
    #[arg(long, conflicts_with = "api_key_stdin")]
    browser: bool,
    /// Read the API key from standard input (instead of asking)
    #[arg(long)]
    api_key_stdin: bool,
    /// OAuth client id for --browser (default: jhe-desktop, or the one used last for this server)
    #[arg(long, value_name = "ID", requires = "browser")]
    client_id: Option<String>,
    /// Seconds to wait for the browser sign-in
    #[arg(long, default_value_t = 300, value_name = "S", requires = "browser")]
    timeout: u64,
}

fn parse_date(s: &str) -> Result<NaiveDate, String> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .map_err(|_| format!("\"{s}\" is not a date like 2026-11-20"))
}

/// Failures of the CLI itself.
enum Failure {
    Engine(Error),
    /// Export finished but incomplete.
    Incomplete,
    /// The message is printed; exit with this code.
    Exit(i32),
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Engine(e)
    }
}

struct Ctx {
    cli_server: Option<String>,
    json: bool,
    quiet: bool,
    config: Config,
}

impl Ctx {
    fn progress_visible(&self) -> bool {
        !self.quiet && std::io::stderr().is_terminal()
    }

    fn note(&self, s: &str) {
        if !self.quiet {
            eprintln!("{s}");
        }
    }

    fn server_input(&self) -> Result<String, Error> {
        self.cli_server
            .clone()
            .or_else(|| self.config.default_server.clone())
            .ok_or_else(|| {
                Error::InvalidInput(
                    "No server given. Pass --server https://your-jhe-server or set JHE_URL.".into(),
                )
            })
    }

    async fn server(&self) -> Result<ServerInfo, Error> {
        server_check::check_server(&self.server_input()?).await
    }

    /// JHE_API_KEY if set (no keychain, no prompt), else the keychain entry for the server.
    async fn session(&self) -> Result<Session, Error> {
        let info = self.server().await?;
        if let Some(key) = api_key_from_env() {
            return Session::sign_in_with_api_key(&info, &key, SessionOptions::default()).await;
        }
        let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::of(KeychainOwner::Cli));
        Session::resume(&info, store, SessionOptions::default()).await
    }
}

fn api_key_from_env() -> Option<String> {
    std::env::var("JHE_API_KEY")
        .ok()
        .filter(|k| !k.trim().is_empty())
}

fn main() {
    jhe_engine::init_process_defaults();
    let cli = Cli::parse();
    let filter = match cli.verbose {
        0 => "error",
        1 => "warn",
        2 => "info",
        _ => "debug",
    };
    let env_filter = tracing_subscriber::EnvFilter::try_from_env("JHE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(filter));
    tracing_subscriber::fmt()
        .with_env_filter(env_filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .init();

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: could not start: {e}");
            std::process::exit(1);
        }
    };
    let json = cli.json;
    let code = rt.block_on(async move {
        let ctx = Ctx {
            cli_server: cli.server.clone(),
            json: cli.json,
            quiet: cli.quiet,
            config: Config::load(),
        };
        match run(&ctx, cli.cmd).await {
            Ok(()) => 0,
            Err(Failure::Incomplete) => 6,
            Err(Failure::Exit(code)) => code,
            Err(Failure::Engine(e)) => {
                if json {
                    println!("{}", json!({ "error": e }));
                }
                eprintln!("{}", output::error_text(&e));
                e.exit_code()
            }
        }
    });
    // Don't wait for stuck connections on the way out.
    rt.shutdown_timeout(Duration::from_millis(200));
    std::process::exit(code);
}

async fn run(ctx: &Ctx, cmd: Cmd) -> Result<(), Failure> {
    match cmd {
        Cmd::Login(a) => login::login(ctx, a).await,
        Cmd::Logout => login::logout(ctx).await,
        Cmd::Whoami => {
            let s = ctx.session().await?;
            if ctx.json {
                output::print_json(
                    &json!({"server": s.server().url, "version": s.server().version, "profile": s.profile()}),
                );
            } else {
                println!(
                    "{} on {} (JHE {})",
                    s.profile().display_name(),
                    s.server().url,
                    s.server().version.as_deref().unwrap_or("?")
                );
            }
            Ok(())
        }
        Cmd::Orgs => {
            let s = ctx.session().await?;
            let orgs = s.organizations().await?;
            if ctx.json {
                output::print_json(&orgs);
            } else {
                output::orgs_table(&orgs);
            }
            Ok(())
        }
        Cmd::Studies { org } => {
            let s = ctx.session().await?;
            let studies = s.studies(org).await?;
            if ctx.json {
                output::print_json(&studies);
            } else {
                output::studies_table(&studies);
            }
            Ok(())
        }
        Cmd::Patients { study } => {
            let s = ctx.session().await?;
            s.study(study).await?;
            let patients = s.study_patients(study).await?;
            audit::record(
                audit::draft(Action::Retrieve, &s)
                    .study(study)
                    .participants(patients.iter().map(|p| p.id))
                    .rows(patients.len() as u64),
            );
            if ctx.json {
                output::print_json(&patients);
            } else {
                output::patients_table(&patients);
            }
            Ok(())
        }
        Cmd::Summary { study, parallel } => summary(ctx, study, parallel).await,
        Cmd::Check {
            study,
            patient,
            parallel,
        } => check(ctx, study, patient, parallel).await,
        Cmd::Metrics(sel) => metrics(ctx, sel).await,
        Cmd::Report { sel, out } => report::run(ctx, sel, out).await,
        Cmd::Export(a) => export::run(ctx, a).await,
        Cmd::Discard { dir } => discard(ctx, &dir),
        Cmd::Audit { cmd } => audit::run(ctx, cmd),
        Cmd::Sync {
            study,
            reconcile,
            watch,
        } => sync::run(ctx, study, reconcile, watch).await,
        Cmd::Copies { remove, new_key } => {
            if new_key {
                println!("{}", jhe_engine::copy::seal::new_key_text());
                return Ok(());
            }
            sync::copies(ctx, remove)
        }
    }
}

/// `jhe discard DIR`: deletes the parts kept to resume unfinished exports in DIR (and in its
/// subfolders, where exports into a folder that held other files went).
fn discard(ctx: &Ctx, dir: &std::path::Path) -> Result<(), Failure> {
    let mut deleted = Vec::new();
    for u in jhe_engine::export::unfinished(dir) {
        let bytes = jhe_engine::export::discard_unfinished(&u).map_err(|e| {
            Error::InvalidInput(format!(
                "Could not delete the unfinished export in {}: {e}. Close any program that uses the folder, then try again.",
                u.folder.display()
            ))
        })?;
        deleted.push(json!({"folder": u.folder, "started": u.started, "bytes": bytes}));
    }
    if ctx.json {
        output::print_json(&json!({ "deleted": deleted }));
    } else if deleted.is_empty() {
        println!("No unfinished export in {}.", dir.display());
    } else {
        let bytes: u64 = deleted.iter().filter_map(|d| d["bytes"].as_u64()).sum();
        println!(
            "Deleted {} unfinished export(s) in {} ({}).",
            deleted.len(),
            dir.display(),
            indicatif::HumanBytes(bytes)
        );
    }
    Ok(())
}

fn bar(ctx: &Ctx) -> ProgressBar {
    let pb = ProgressBar::with_draw_target(
        None,
        if ctx.progress_visible() {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    pb.enable_steady_tick(Duration::from_millis(120));
    pb
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {msg}")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template(
        "{spinner} {msg} [{bar:30}] {human_pos}/{human_len} observations ({percent}%, {eta} left)",
    )
    .map(|s| s.progress_chars("=> "))
    .unwrap_or_else(|_| ProgressStyle::default_bar())
}

fn ctrl_c_cancels(cancel: &CancelToken, quiet: bool) {
    let cancel = cancel.clone();
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            if !quiet {
                eprintln!("\nCancelling… (what was already downloaded is kept)");
            }
            cancel.cancel();
        }
    });
}

async fn summary(ctx: &Ctx, study: u64, parallel: usize) -> Result<(), Failure> {
    let job =
        move |s: Session, p, c| async move { jobs::study_summary(&s, study, parallel, p, c).await };
    let audit = move |d: Draft, o: &jobs::StudySummary| {
        d.study(study)
            .participants(o.patients.iter().map(|p| p.patient.id))
            .types(o.scopes.iter().map(|c| c.coding_code.clone()))
            .rows(o.patients.iter().map(|p| p.total).sum())
    };
    let table = output::summary_table;
    participant_job(
        ctx,
        Phase::Summarizing.label(),
        job,
        table,
        (Action::Overview, audit),
    )
    .await
}

/// Runs a per-participant job with a spinner ("Checking participants: 3/20") that Ctrl-C
/// cancels, records it in the audit log (`audit` fills in what it read), then prints its result
/// as JSON or with `table`.
async fn participant_job<T, Fut>(
    ctx: &Ctx,
    what: &'static str,
    job: impl FnOnce(Session, Box<dyn Fn(Progress) + Send + Sync>, CancelToken) -> Fut,
    table: fn(&T),
    (action, audit): (Action, impl FnOnce(Draft, &T) -> Draft),
) -> Result<(), Failure>
where
    T: serde::Serialize,
    Fut: std::future::Future<Output = Result<T, Error>>,
{
    let s = ctx.session().await?;
    let draft = audit::draft(action, &s);
    let cancel = CancelToken::new();
    ctrl_c_cancels(&cancel, ctx.quiet);
    let pb = bar(ctx);
    pb.set_style(spinner_style());
    pb.set_message(format!("{what}…"));
    let pb2 = pb.clone();
    let progress = Box::new(move |p: Progress| {
        pb2.set_message(format!("{what}: {}/{}", p.units_done, p.units_total));
    });
    let res = job(s, progress, cancel).await;
    pb.finish_and_clear();
    let out = res?;
    audit::record(audit(draft, &out));
    if ctx.json {
        output::print_json(&out);
    } else {
        table(&out);
    }
    Ok(())
}

async fn check(
    ctx: &Ctx,
    study: u64,
    patient: Option<u64>,
    parallel: usize,
) -> Result<(), Failure> {
    let job = move |s: Session, p, c| async move {
        jobs::check_study(&s, study, patient, parallel, p, c).await
    };
    let audit = move |d: Draft, o: &jobs::QualityReport| {
        d.study(study).participants(patient).rows(o.observations)
    };
    let table = output::quality_table;
    participant_job(
        ctx,
        "Checking participants",
        job,
        table,
        (Action::Check, audit),
    )
    .await
}

async fn metrics(ctx: &Ctx, sel: Selection) -> Result<(), Failure> {
    let Selection {
        study,
        patient,
        from,
        to,
        parallel,
    } = sel;
    let job = move |s: Session, p, c| async move {
        jobs::study_metrics(&s, study, patient, (from, to), parallel, p, c).await
    };
    let audit = move |d: Draft, o: &jobs::StudyMetrics| {
        d.study(study)
            .participants(o.participants.iter().map(|p| p.participant_id))
            .window(from, to)
    };
    let table = output::metrics_tables;
    participant_job(
        ctx,
        "Reading participants",
        job,
        table,
        (Action::Metrics, audit),
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn server_urls_are_checked_before_use() {
        assert!(jhe_engine::server_check::ServerUrl::parse("http://jhe.example.org").is_err());
    }
}
