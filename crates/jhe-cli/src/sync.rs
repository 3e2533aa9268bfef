//! `jhe sync` (keep an encrypted local copy of a study up to date, once or every N minutes with
//! `--watch`) and `jhe copies` (list the local copies with their sizes; remove one).

use std::time::Duration;

use clap::ValueEnum;
use jhe_engine::audit::Action;
use jhe_engine::auth::{KeychainOwner, KeyringStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::copy::{self, CopyKey, LocalCopy};
use jhe_engine::error::Error;
use jhe_engine::jobs::{sync_study, Reconcile, SyncOptions};

use crate::{output, Ctx, Failure};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum ReconcileArg {
    /// Compare counts per type when the last check is over a day old
    Daily,
    /// Compare counts per type now (finds deletions)
    Counts,
    /// Fetch every participant × type again and compare row by row (finds rows changed in place)
    Full,
}

impl From<ReconcileArg> for Reconcile {
    fn from(r: ReconcileArg) -> Reconcile {
        match r {
            ReconcileArg::Daily => Reconcile::Daily,
            ReconcileArg::Counts => Reconcile::Counts,
            ReconcileArg::Full => Reconcile::Full,
        }
    }
}

fn root() -> Result<std::path::PathBuf, Error> {
    copy::data_dir().ok_or_else(|| {
        Error::InvalidInput(format!(
            "This system names no folder for application data: set {} to the folder that should hold the local copies.",
            copy::DATA_DIR_ENV
        ))
    })
}

fn key(server: &str) -> Result<CopyKey, Error> {
    let store = KeyringStore::of(KeychainOwner::Cli);
    CopyKey::load(&store, server, true)
        .map_err(|e| {
            Error::InvalidInput(format!(
                "{e} On a computer without a keychain, give the key in {} (an age secret key, as `age-keygen` prints).",
                jhe_engine::copy::seal::KEY_ENV
            ))
        })?
        .ok_or_else(|| Error::InvalidInput("no key for the local copies".into()))
}

/// The local copy of `study` from `server` (as `jhe sync` keeps it), for `jhe export
/// --from-copy`: no network.
pub fn open_copy(server: &str, study: u64) -> Result<LocalCopy, Error> {
    let server = server.trim_end_matches('/');
    let dir = LocalCopy::dir_of(&root()?, server, study);
    let store = KeyringStore::of(KeychainOwner::Cli);
    let key = CopyKey::load(&store, server, false)?;
    key.and_then(|k| LocalCopy::open(&dir, k).transpose())
        .transpose()?
        .filter(|c| c.meta.synced_at.is_some())
        .ok_or_else(|| Error::from(copy::CopyError::NoCopy(study)))
}

/// `jhe sync --study ID [--reconcile …] [--watch MINUTES]`.
pub async fn run(
    ctx: &Ctx,
    study: u64,
    reconcile: ReconcileArg,
    watch: Option<u64>,
) -> Result<(), Failure> {
    let s = ctx.session().await?;
    let server = s.server().url.to_string().trim_end_matches('/').to_string();
    let dir = LocalCopy::dir_of(&root()?, &server, study);
    let key = key(&server)?;
    let opts = SyncOptions {
        reconcile: reconcile.into(),
        ..SyncOptions::default()
    };
    loop {
        let mut copy =
            LocalCopy::open_or_new(&dir, key.clone(), &server, study).map_err(Error::from)?;
        let cancel = CancelToken::new();
        let ctrl_c = cancel.clone();
        let guard = tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                ctrl_c.cancel();
            }
        });
        let r = sync_study(&s, &mut copy, &opts, &cancel, &|_| {}).await;
        guard.abort();
        let out = r?;
        let c = &out.change;
        crate::audit::record(
            crate::audit::draft(Action::Sync, &s)
                .study(study)
                .rows(c.added + c.changed + c.removed)
                .written_to(&dir),
        );
        if ctx.json {
            output::print_json(&out);
        } else {
            println!(
                "Study {study}: {} ({} readings of {} participants held, {} on disk in {}).",
                out.sentence(),
                out.held,
                out.participants,
                bytes(out.bytes),
                dir.display()
            );
            if out.skipped > 0 {
                println!(
                    "{} rows the server sent could not be kept (unreadable, or not of this study); `jhe check --study {study}` lists them.",
                    out.skipped
                );
            }
        }
        let Some(minutes) = watch else { return Ok(()) };
        tokio::select! {
            _ = tokio::time::sleep(Duration::from_secs(minutes.max(1) * 60)) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// `jhe copies [--remove STUDY]`: the local copies on this computer (all servers).
pub fn copies(ctx: &Ctx, remove: Option<u64>) -> Result<(), Failure> {
    let list = copy::list_copies(&root()?);
    if let Some(study) = remove {
        let mine: Vec<_> = list.iter().filter(|c| c.study_id == study).collect();
        if mine.is_empty() {
            return Err(Error::InvalidInput(format!(
                "There is no local copy of study {study} on this computer (jhe copies lists them)."
            ))
            .into());
        }
        for c in mine {
            copy::remove_dir(&c.dir).map_err(Error::from)?;
            crate::audit::record(
                crate::audit::local_draft(Action::CopyRemoved)
                    .study(study)
                    .written_to(&c.dir),
            );
            println!(
                "Removed the local copy of study {study} ({}).",
                c.server_dir
            );
        }
        return Ok(());
    }
    if ctx.json {
        output::print_json(&list);
    } else if list.is_empty() {
        println!("No local copies on this computer yet (jhe sync --study ID makes one).");
    } else {
        for c in &list {
            println!(
                "study {:<8} {:>10}  {}",
                c.study_id,
                bytes(c.bytes),
                c.server_dir
            );
        }
    }
    Ok(())
}

/// "3.4 MB".
fn bytes(n: u64) -> String {
    match n {
        n if n >= 1 << 30 => format!("{:.1} GB", n as f64 / (1u64 << 30) as f64),
        n if n >= 1 << 20 => format!("{:.1} MB", n as f64 / (1u64 << 20) as f64),
        n if n >= 1 << 10 => format!("{:.0} kB", n as f64 / 1024.0),
        n => format!("{n} B"),
    }
}
