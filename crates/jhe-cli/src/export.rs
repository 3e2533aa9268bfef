//! `jhe export`: a study's observations to CSV or Parquet files with a data dictionary and a
//! manifest (resuming an interrupted export of the same selection), from the server or
//! (`--from-copy`) from this computer's local copy; optionally de-identified.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use indicatif::HumanCount;
use jhe_engine::audit::Draft;
use jhe_engine::auth::{KeychainOwner, KeyringStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::error::Error;
use jhe_engine::export::{Deidentify, Flagged, Format, Layout, Passphrase, ShiftMode};
use jhe_engine::jobs::{self, ExportRequest, IdentifierChoice, Phase, Progress};

use crate::{
    audit, bar, bar_style, ctrl_c_cancels, output, parse_date, spinner_style, sync, Ctx, Failure,
};

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FormatArg {
    /// CSV with ISO 8601 times (R, pandas, polars)
    Csv,
    /// CSV for Excel and other spreadsheets: `YYYY-MM-DD HH:MM:SS` times, UTF-8 with a BOM
    ExcelCsv,
    Parquet,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum FlaggedArg {
    /// Write them like every other observation (findings.csv lists them)
    Keep,
    /// Leave implausible, future-dated and re-sent readings out of the data files
    LeaveOut,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum ShiftArg {
    /// Back by 0-364 whole days per participant (intervals and time of day kept)
    Days,
    /// Back by 0-52 whole weeks per participant (weekday patterns kept too)
    Weeks,
    /// Dates kept; only the ids replaced (and identifiers and free text dropped)
    None,
}

#[derive(Clone, Copy, ValueEnum)]
pub(crate) enum LayoutArg {
    /// One file per data type
    PerType,
    /// One long file, one row per measure
    Long,
    /// Parquet only: a folder per type, a file per participant, in hive-style partitions
    /// (TYPE/study_id=ID/patient_id=ID/part-0.parquet), to scan many studies as one dataset
    Partitioned,
}

#[derive(Args)]
pub(crate) struct ExportArgs {
    #[arg(long, value_name = "ID")]
    study: u64,
    /// Only these participants (repeat for more)
    #[arg(long = "patient", value_name = "ID")]
    patients: Vec<u64>,
    /// Only these types, e.g. omh:heart-rate:2.0 or heart-rate (repeat for more)
    #[arg(long = "type", value_name = "CODE")]
    types: Vec<String>,
    /// First day (YYYY-MM-DD, UTC, inclusive)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD, UTC, inclusive)
    #[arg(long, value_name = "DATE", value_parser = parse_date)]
    to: Option<NaiveDate>,
    #[arg(long, value_enum)]
    format: FormatArg,
    #[arg(long, value_enum, default_value = "per-type")]
    layout: LayoutArg,
    /// Output folder (created if needed; when it holds other files, a new subfolder in it)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Participant × type downloads at once
    #[arg(long, default_value_t = jobs::DEFAULT_PARALLELISM, value_name = "N")]
    parallel: usize,
    /// The participants' identifiers participants.csv lists: all, none, or identifier systems
    /// separated by commas (as the server writes them, see `jhe patients`)
    #[arg(long, default_value = "all", value_name = "all|none|SYSTEM,…", value_parser = parse_identifiers)]
    identifiers: IdentifierChoice,
    /// Observations the data-quality check finds wrong (as `jhe check` does): keep them, or
    /// leave them out; findings.csv lists every finding either way
    #[arg(long, value_enum, default_value = "keep")]
    flagged: FlaggedArg,
    /// De-identify: participant ids become pseudonyms (a keyed hash; the study's key is kept in
    /// the keychain, or given in JHE_DEID_KEY as 64 hex digits, so re-exports line up),
    /// identifiers and free text are dropped, every time of a participant is shifted (--shift)
    #[arg(long)]
    deidentify: bool,
    /// With --deidentify: how each participant's times are shifted
    #[arg(long, value_enum, default_value = "days", requires = "deidentify")]
    shift: ShiftArg,
    /// Exit 0 even when the server's counts and the rows received differ
    #[arg(long)]
    allow_incomplete: bool,
    /// Export from this computer's copy of the study (kept by `jhe sync`): no network, no
    /// sign-in, the data as last synced
    #[arg(long)]
    from_copy: bool,
    /// Encrypt the export into one FILE.tar.age in --out, made in memory (no plaintext on
    /// disk), for a passphrase asked on the terminal or given in JHE_EXPORT_PASSPHRASE; open it
    /// with JHE Desktop's offline review or `age -d FILE.tar.age | tar x`
    #[arg(long)]
    encrypt: bool,
}

/// The environment variable that gives `--encrypt` its passphrase without a prompt.
pub(crate) const PASSPHRASE_ENV: &str = "JHE_EXPORT_PASSPHRASE";

/// The passphrase of an encrypted export: from [`PASSPHRASE_ENV`], else asked twice on the
/// terminal.
fn passphrase() -> Result<Passphrase, Error> {
    let hint = || {
        format!("Give the passphrase in {PASSPHRASE_ENV}, or run the export in a terminal to be asked for it.")
    };
    let text = match std::env::var(PASSPHRASE_ENV) {
        Ok(p) => p,
        Err(_) => {
            let ask = |prompt: &str| {
                rpassword::prompt_password(prompt).map_err(|e| {
                    Error::InvalidInput(format!("Cannot read a passphrase ({e}). {}", hint()))
                })
            };
            let first = ask("Passphrase for the encrypted export (hidden): ")?;
            if ask("The same passphrase again: ")? != first {
                return Err(Error::InvalidInput(
                    "The two passphrases differ; nothing was exported. Run the export again."
                        .into(),
                ));
            }
            first
        }
    };
    Passphrase::new(&text).map_err(|e| Error::InvalidInput(format!("{e}.")))
}

fn parse_identifiers(s: &str) -> Result<IdentifierChoice, String> {
    Ok(match s.trim() {
        "all" => IdentifierChoice::All,
        "none" | "" => IdentifierChoice::None,
        list => IdentifierChoice::Systems(
            list.split(',')
                .map(str::trim)
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect(),
        ),
    })
}

pub(crate) async fn run(ctx: &Ctx, a: ExportArgs) -> Result<(), Failure> {
    if matches!(a.layout, LayoutArg::Partitioned) && !matches!(a.format, FormatArg::Parquet) {
        return Err(Error::InvalidInput(
            "--layout partitioned writes Parquet files only: use it with --format parquet.".into(),
        )
        .into());
    }
    // From the local copy: no session at all.
    let source = if a.from_copy {
        let server = jhe_engine::server_check::ServerUrl::parse(&ctx.server_input()?)?;
        let copy = sync::open_copy(&server.to_string(), a.study)?;
        Err(std::sync::Arc::new(copy))
    } else {
        Ok(ctx.session().await?)
    };
    let deidentify = if a.deidentify {
        let server = match &source {
            Ok(s) => s.server().url.to_string(),
            Err(copy) => copy.meta.server.clone(),
        };
        Some(deid_key(&server, a.study, a.shift)?)
    } else {
        None
    };
    let req = ExportRequest {
        study_id: a.study,
        patient_ids: (!a.patients.is_empty()).then(|| a.patients.clone()),
        codes: (!a.types.is_empty()).then(|| a.types.clone()),
        date_from: a.from,
        date_to: a.to,
        format: match a.format {
            FormatArg::Csv => Format::Csv,
            FormatArg::ExcelCsv => Format::ExcelCsv,
            FormatArg::Parquet => Format::Parquet,
        },
        layout: match a.layout {
            LayoutArg::PerType => Layout::PerType,
            LayoutArg::Long => Layout::Long,
            LayoutArg::Partitioned => Layout::Partitioned,
        },
        out_dir: a.out.clone(),
        parallelism: a.parallel,
        identifiers: a.identifiers.clone(),
        flagged: match a.flagged {
            FlaggedArg::Keep => Flagged::Keep,
            FlaggedArg::LeaveOut => Flagged::LeaveOut,
        },
        deidentify,
        encrypt: if a.encrypt { Some(passphrase()?) } else { None },
    };
    let cancel = CancelToken::new();
    ctrl_c_cancels(&cancel, ctx.quiet);
    let pb = bar(ctx);
    pb.set_style(spinner_style());
    pb.set_message(format!("Planning the export of study {}…", a.study));
    let pb2 = pb.clone();
    let on_progress = move |p: Progress| match p.phase {
        Phase::Planning => pb2.set_message(format!("{}…", p.phase.label())),
        Phase::Counting => pb2.set_message(format!(
            "{} ({} parts, {} already done earlier)…",
            p.phase.label(),
            p.units_total,
            p.units_resumed
        )),
        Phase::Fetching => {
            if pb2.length() != Some(p.expected) {
                pb2.set_style(bar_style());
                pb2.set_length(p.expected);
            }
            pb2.set_position(p.fetched.min(p.expected));
            let retries = if p.retries > 0 {
                format!(", {} retries", p.retries)
            } else {
                String::new()
            };
            pb2.set_message(format!("parts {}/{}{retries}", p.units_done, p.units_total));
        }
        Phase::Finishing => {
            pb2.set_style(spinner_style());
            pb2.set_message(format!("{}…", p.phase.label()));
        }
        Phase::Summarizing | Phase::Done => {}
    };
    let res = match &source {
        Ok(s) => jobs::export_study(s, req, on_progress, cancel).await,
        Err(copy) => jobs::export_from_copy(copy.clone(), req, on_progress, cancel).await,
    };
    pb.finish_and_clear();
    // Error messages say that an interrupted export resumes when run again.
    let out = res?;
    // Recorded even when incomplete: the files are written.
    let mut entry = Draft::export(&out, audit::client());
    match &source {
        Ok(s) => entry = entry.by(s),
        Err(copy) => entry.server = copy.meta.server.clone(),
    }
    audit::record(entry);
    if ctx.json {
        output::print_json(&out);
    } else {
        let m = &out.manifest;
        println!(
            "Exported {} observations ({} rows) of study {} to {}",
            HumanCount(m.total_observations),
            HumanCount(m.total_rows),
            a.study,
            out.out_dir.display()
        );
        // A partitioned export's files are listed per table folder (one file per participant).
        let mut listed: Vec<(String, usize, u64)> = Vec::new();
        for f in &m.files {
            let name = f
                .name
                .split_once('/')
                .map_or(f.name.clone(), |(dir, _)| format!("{dir}/"));
            match listed.iter_mut().find(|(n, _, _)| *n == name) {
                Some(e) => (e.1, e.2) = (e.1 + 1, e.2 + f.rows),
                None => listed.push((name, 1, f.rows)),
            }
        }
        for (name, files, rows) in listed {
            let name = if files > 1 {
                format!("{name} ({files} files)")
            } else {
                name
            };
            println!("  {name:<40} {:>9} rows", HumanCount(rows).to_string());
        }
        println!("  manifest.json");
        if a.encrypt {
            println!(
                "All of it is encrypted in {}: open it with JHE Desktop (Open an export), or with `age -d FILE | tar x`.",
                out.out_dir.display()
            );
        }
        if out.units_resumed > 0 {
            println!(
                "{} of {} parts were taken over from an earlier, interrupted run.",
                out.units_resumed, out.units_total
            );
        }
    }
    for w in &out.warnings {
        eprintln!("warning: {w}");
    }
    if !out.complete && !a.allow_incomplete {
        eprintln!("error: the export is incomplete (exit code 6). Run it again, or pass --allow-incomplete to accept it.");
        return Err(Failure::Incomplete);
    }
    Ok(())
}

/// The study's de-identification key (made and kept in the keychain the first time).
fn deid_key(server: &str, study: u64, shift: ShiftArg) -> Result<Deidentify, Error> {
    let shift = match shift {
        ShiftArg::Days => ShiftMode::WholeDays,
        ShiftArg::Weeks => ShiftMode::KeepWeekday,
        ShiftArg::None => ShiftMode::None,
    };
    let store = KeyringStore::of(KeychainOwner::Cli);
    Deidentify::load(&store, server, study, shift, true)
        .map_err(|e| {
            Error::InvalidInput(format!(
                "{e}. On a computer without a keychain, give the key in {} (64 hex digits, e.g. from `openssl rand -hex 32`; keep it to make later exports line up).",
                jhe_engine::export::deidentify::KEY_ENV
            ))
        })?
        .ok_or_else(|| Error::InvalidInput("no de-identification key".into()))
}
