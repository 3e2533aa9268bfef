//! Export jobs: the UI's request becomes the engine's, progress goes to a callback (the Tauri
//! shell forwards it to a `Channel`), a job can be cancelled by its id; plus the folder
//! dialogs around it (through the [`Picker`](crate::picker::Picker)).

use std::path::PathBuf;

use jhe_engine::audit::{Action, Draft};
use jhe_engine::cancel::CancelToken;
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
    Ok(req)
}

/// Runs an export to its end; [`cancel_export`] with the same `job_id` stops it.
pub async fn export_data(
    state: &AppState,
    job_id: &str,
    request: ExportRequest,
    on_progress: impl Fn(ExportProgress) + Send + Sync + 'static,
) -> Result<ExportResult> {
    let session = state.online()?;
    let who = crate::audit::draft(state, Action::Export, &session);
    let req = engine_request(&request)?;
    state.check_granted(&req.out_dir)?;
    let cancel = CancelToken::new();
    state.jobs.lock().insert(job_id.to_string(), cancel.clone());
    let progress = move |p: Progress| on_progress(export_progress(&p));
    // The engine's job future is not `Send` as the compiler sees it (higher-ranked closure
    // lifetimes), so it runs on a blocking-pool thread that drives it on the app's runtime.
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        handle.block_on(jobs::export_study(&session, req, progress, cancel))
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
