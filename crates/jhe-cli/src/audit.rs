//! `jhe audit verify|list|export` over the tamper-evident audit log
//! ([`jhe_engine::audit`]), and [`record`], the one place the data commands add their line.
//!
//! A failure to write the audit log does not fail the command that read or wrote the data: the
//! export, report or sync is already on disk and its exit code says so; a warning on stderr says
//! that the log is missing that entry. Only the `jhe audit` commands fail (exit 8) on the log
//! itself: when it was altered (verify) or cannot be read.

use std::path::PathBuf;

use clap::Subcommand;
use jhe_engine::api::Session;
use jhe_engine::audit::{self, Action, AuditLog, Draft, Entry, Filter};
use serde_json::json;

use crate::{output, Ctx, Failure};

/// Exit code of `jhe audit` when the log was altered or cannot be read.
pub const EXIT_AUDIT: i32 = 8;

#[derive(Subcommand)]
pub enum AuditCmd {
    /// Check the whole chain: exit 0 when intact, 8 naming the first altered entry otherwise
    Verify,
    /// The latest entries, oldest first
    List {
        /// Only the last N entries
        #[arg(long, value_name = "N")]
        last: Option<usize>,
        /// Only the entries of this study
        #[arg(long, value_name = "ID")]
        study: Option<u64>,
    },
    /// Write every entry as CSV (for a spreadsheet or an auditor)
    Export {
        #[arg(long, value_name = "FILE")]
        csv: PathBuf,
    },
}

/// `client` of the CLI's entries.
pub fn client() -> String {
    format!("{} {}", audit::CLIENT_CLI, env!("CARGO_PKG_VERSION"))
}

/// A draft of `action` by the account signed in on `s`.
pub fn draft(action: Action, s: &Session) -> Draft {
    Draft::new(action, client()).by(s)
}

/// A draft of `action` with no one signed in (e.g. removing a local copy).
pub fn local_draft(action: Action) -> Draft {
    Draft::new(action, client())
}

/// Appends `d` to the audit log; on failure, a warning (the command's result stands).
pub fn record(d: Draft) {
    let res = AuditLog::open_default().and_then(|log| log.append(d));
    if let Err(e) = res {
        // Shown even with --quiet: the audit trail is missing an entry.
        eprintln!("warning: this was not recorded in the audit log: {e}");
    }
}

fn log() -> Result<AuditLog, Failure> {
    AuditLog::open_default().map_err(|e| fail(&e.to_string()))
}

fn fail(msg: &str) -> Failure {
    eprintln!("error: {msg}");
    Failure::Exit(EXIT_AUDIT)
}

pub fn run(ctx: &Ctx, cmd: AuditCmd) -> Result<(), Failure> {
    let log = log()?;
    let path = log.path().display().to_string();
    match cmd {
        AuditCmd::Verify => {
            let r = log.verify().map_err(|e| fail(&e.to_string()))?;
            if ctx.json {
                output::print_json(&json!({ "path": path, "report": r }));
            } else if r.ok {
                println!(
                    "The audit log {path} is intact: {} entries{}.",
                    r.entries,
                    r.last_hash
                        .as_deref()
                        .map(|h| format!(", the last with hash {h}"))
                        .unwrap_or_default()
                );
            }
            if let Some(line) = r.torn_tail {
                ctx.note(&format!(
                    "note: line {line} is the unfinished end of an entry (the program stopped while writing it); it is not part of the log and the next entry replaces it."
                ));
            }
            match &r.first_break {
                None => Ok(()),
                Some(b) => {
                    let intact = match r.intact {
                        0 => String::new(),
                        1 => " Entry 1 is intact.".to_string(),
                        n => format!(" Entries 1 to {n} are intact."),
                    };
                    Err(fail(&format!(
                        "The audit log {path} was altered: {b}.{intact} Keep the file as it is as evidence."
                    )))
                }
            }
        }
        AuditCmd::List { last, study } => {
            let entries = log
                .read(&Filter {
                    last,
                    study,
                    action: None,
                })
                .map_err(|e| fail(&e.to_string()))?;
            if ctx.json {
                output::print_json(&entries);
            } else if entries.is_empty() {
                println!("The audit log {path} has no entries yet.");
            } else {
                table(&entries);
            }
            Ok(())
        }
        AuditCmd::Export { csv } => {
            let entries = log
                .read(&Filter::default())
                .map_err(|e| fail(&e.to_string()))?;
            let mut bytes = Vec::new();
            audit::to_csv(&entries, &mut bytes).map_err(|e| fail(&e.to_string()))?;
            jhe_engine::export::save_private(&csv, &bytes).map_err(|e| {
                fail(&format!(
                    "Could not write {}: {e}. Choose a file in a folder you can write to.",
                    csv.display()
                ))
            })?;
            if ctx.json {
                output::print_json(&json!({ "path": csv, "entries": entries.len() }));
            } else {
                ctx.note(&format!(
                    "Wrote {} audit entries to {}.",
                    entries.len(),
                    csv.display()
                ));
            }
            Ok(())
        }
    }
}

fn table(entries: &[Entry]) {
    println!(
        "{:>5}  {:<24} {:<12} {:>7} {:>6} {:>9}  {:<28} written to",
        "seq", "at", "action", "study", "people", "rows", "who"
    );
    for e in entries {
        println!(
            "{:>5}  {:<24} {:<12} {:>7} {:>6} {:>9}  {:<28} {}",
            e.seq,
            e.at,
            e.action.as_str(),
            e.study.map(|s| s.to_string()).unwrap_or_default(),
            e.participants.len(),
            e.rows,
            e.who,
            e.written_to.as_deref().unwrap_or("")
        );
    }
}
