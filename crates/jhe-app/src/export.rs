//! Export jobs: the UI's request becomes the engine's, progress goes to a callback (the Tauri
//! shell forwards it to a `Channel`), a job can be cancelled by its id; plus the folder
//! dialogs around it (through the [`Picker`](crate::picker::Picker)).

use std::path::PathBuf;

use jhe_engine::audit::{Action, Draft};
use jhe_engine::cancel::CancelToken;
use jhe_engine::export::{Deidentify, ShiftMode};
use jhe_engine::jobs::{self, Phase, Progress};

use crate::error::{Error, Result};
use crate::ipc::*;
use crate::state::AppState;
use crate::views;

fn export_progress(p: &Progress) -> ExportProgress {
    let phase = match p.phase {
        Phase::Planning | Phase::Counting | Phase::Summarizing => ExportPhase::Counting,
        Phase::Fetching => ExportPhase::Fetching,
        Phase::Finishing => ExportPhase::Writing,
        Phase::Done => ExportPhase::Done,
    };
    ExportProgress {
        phase,
        fetched: p.fetched,
        expected: p.expected,
        current_patient: None,
        message: (p.retries > 0).then(|| {
            format!(
                "The connection is unsteady: retried {} request(s) so far. Nothing is lost.",
                p.retries
            )
        }),
    }
}

/// The engine's export request for the UI's.
pub fn engine_request(r: &ExportRequest) -> Result<jobs::ExportRequest> {
    let (from, to) = views::parse_range(&DateRange {
        from: r.from.clone(),
        to: r.to.clone(),
    })?;
    if r.out_dir.trim().is_empty() {
        return Err(Error::InvalidInput("Choose a folder to export to.".into()));
    }
    let (study_id, patients) = match r.scope {
        ExportScope::Patient {
            patient_id,
            study_id,
        } => (study_id, Some(vec![patient_id])),
        ExportScope::Study { study_id } => (study_id, None),
    };
    let mut req = jobs::ExportRequest::new(study_id, PathBuf::from(r.out_dir.trim()));
    req.patient_ids = patients;
    req.codes = (!r.types.is_empty()).then(|| r.types.clone());
    req.date_from = from;
    req.date_to = to;
    req.format = match r.format {
        ExportFormat::Csv => jhe_engine::export::Format::Csv,
        ExportFormat::ExcelCsv => jhe_engine::export::Format::ExcelCsv,
        ExportFormat::Parquet => jhe_engine::export::Format::Parquet,
    };
    req.layout = match r.layout {
        ExportLayout::PerType => jhe_engine::export::Layout::PerType,
        ExportLayout::Long => jhe_engine::export::Layout::Long,
    };
    req.identifiers = match &r.identifier_systems {
        None => jobs::IdentifierChoice::All,
        Some(s) if s.is_empty() => jobs::IdentifierChoice::None,
        Some(s) => jobs::IdentifierChoice::Systems(s.clone()),
    };
    req.flagged = match r.leave_out_flagged {
        Some(true) => jhe_engine::export::Flagged::LeaveOut,
        _ => jhe_engine::export::Flagged::Keep,
    };
    req.encrypt = match &r.encrypt_passphrase {
        Some(p) => Some(
            jhe_engine::export::Passphrase::new(&p.0)
                .map_err(|e| Error::InvalidInput(format!("{e}.")))?,
        ),
        None => None,
    };
    Ok(req)
}

/// The engine's shift mode for the UI's choice.
pub fn shift_mode(s: DeidentifyShift) -> ShiftMode {
    match s {
        DeidentifyShift::Days => ShiftMode::WholeDays,
        DeidentifyShift::Weeks => ShiftMode::KeepWeekday,
        DeidentifyShift::None => ShiftMode::None,
    }
}

/// Runs an export to its end; [`cancel_export`] with the same `job_id` stops it.
pub async fn export_data(
    state: &AppState,
    job_id: &str,
    request: ExportRequest,
    on_progress: impl Fn(ExportProgress) + Send + Sync + 'static,
) -> Result<ExportResult> {
    state.source()?;
    let mut req = engine_request(&request)?;
    state.check_granted(&req.out_dir)?;
    // A study kept on this computer is exported from its copy (no download), unless asked.
    let copy =
        crate::copies::copy_for_export(state, req.study_id, request.from_server.unwrap_or(false))
            .await?;
    let session = match &copy {
        Some(_) => None,
        None => Some(state.online()?),
    };
    // Who exports (an export from the copy under offline review names no account).
    let who = match (&copy, &session) {
        (_, Some(s)) => crate::audit::draft(state, Action::Export, s),
        (Some((c, _)), None) => {
            let mut d = Draft::new(Action::Export, crate::audit::client(state));
            d.server = c.meta.server.clone();
            d
        }
        (None, None) => return Err(Error::NotSignedIn),
    };
    if let Some(shift) = request.deidentify {
        // The study's key, per server: the same pseudonyms whether made online or offline.
        let server = match (&copy, &session) {
            (Some((c, _)), _) => c.meta.server.clone(),
            (None, Some(s)) => s.server().url.to_string(),
            (None, None) => return Err(Error::NotSignedIn),
        };
        let d = Deidentify::load(
            state.secrets.as_ref(),
            &server,
            req.study_id,
            shift_mode(shift),
            true,
        )
        .map_err(|e| Error::InvalidInput(e.to_string()))?
        .ok_or_else(|| Error::InvalidInput("no de-identification key".into()))?;
        req.deidentify = Some(d);
    }
    let cancel = CancelToken::new();
    state.jobs.lock().insert(job_id.to_string(), cancel.clone());
    let progress = move |p: Progress| on_progress(export_progress(&p));
    // The engine's job future is not `Send` as the compiler sees it (higher-ranked closure
    // lifetimes), so it runs on a blocking-pool thread that drives it on the app's runtime.
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || match (copy, session) {
        (Some((copy, _held)), _) => {
            handle.block_on(jobs::export_from_copy(copy, req, progress, cancel))
        }
        (None, Some(session)) => {
            handle.block_on(jobs::export_study(&session, req, progress, cancel))
        }
        (None, None) => Err(jhe_engine::error::Error::InvalidInput(
            "not signed in".into(),
        )),
    })
    .await;
    state.jobs.lock().remove(job_id);
    let o = outcome??;
    // Recorded even when incomplete: the files are written.
    let mut entry = Draft::export(&o, who.client.clone());
    (entry.who, entry.server) = (who.who, who.server);
    crate::audit::record(state, entry);
    state.grants.lock().grant(&o.out_dir);
    Ok(ExportResult {
        out_dir: o.out_dir.display().to_string(),
        files: o
            .manifest
            .files
            .iter()
            .map(|f| ExportedFile {
                name: f.name.clone(),
                // Rows of data only: the dictionary's lines are not observations.
                rows: if f.role == "data" { f.rows } else { 0 },
                bytes: f.bytes,
            })
            .collect(),
        warnings: o.warnings,
    })
}

/// "Delete what was downloaded": after a cancelled or failed export, deletes the parts kept for
/// resuming it (of every unfinished export in that folder the user chose, and its subfolders),
/// so no participant data stays behind in a hidden folder.
pub async fn discard_unfinished(state: &AppState, out_dir: &str) -> Result<Discarded> {
    let dir = PathBuf::from(out_dir.trim());
    state.check_granted(&dir)?;
    let mut done = Discarded {
        exports: 0,
        bytes: 0,
    };
    for u in jhe_engine::export::unfinished(&dir) {
        done.bytes += jhe_engine::export::discard_unfinished(&u).map_err(|e| {
            Error::Io(format!(
                "Could not delete the unfinished export in {}: {e}. Close any program using it and try again.",
                u.folder.display()
            ))
        })?;
        done.exports += 1;
    }
    Ok(done)
}

/// Cancels a running job: an export, or a study overview started with a job id.
pub async fn cancel_export(state: &AppState, job_id: &str) -> Result<()> {
    if let Some(c) = state.jobs.lock().get(job_id) {
        c.cancel();
    }
    Ok(())
}

/// "Choose folder…": where to export to; `None` when the dialog was closed.
pub async fn pick_folder(state: &AppState) -> Result<Option<String>> {
    let picked = state.picker.pick_folder().await?;
    Ok(picked.map(|p| {
        state.grants.lock().grant(&p);
        p.display().to_string()
    }))
}

/// "Open an exported file or folder…": `None` when the dialog was closed.
pub async fn pick_export_to_open(state: &AppState) -> Result<Option<String>> {
    let picked = state.picker.pick_export_to_open().await?;
    Ok(picked.map(|p| {
        state.grants.lock().grant(&p);
        p.display().to_string()
    }))
}

/// Shows an exported folder or file in the system file manager.
pub async fn show_in_folder(state: &AppState, path: &str) -> Result<()> {
    let p = PathBuf::from(path);
    state.check_granted(&p)?;
    if !p.exists() {
        return Err(Error::NotFound(format!(
            "{path} does not exist (any more)."
        )));
    }
    state.picker.reveal(&p)
}
