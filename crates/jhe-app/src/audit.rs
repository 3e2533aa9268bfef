//! The audit log in the app ([`jhe_engine::audit`]): [`record`] after every data operation (a
//! study overview, a participant view, an export, a report, opening an export offline), and the
//! operations behind the audit screen: [`audit_log`], [`verify_audit`], [`export_audit_csv`].
//!
//! The log is the one the CLI writes too (`<data dir>/audit.jsonl`), so `jhe audit verify` checks
//! both. A failure to write it does not fail the operation (its data is shown or written
//! already): it is logged as a warning without the entry's content, and [`verify_audit`] still
//! tells the truth about what is there.

use std::path::PathBuf;

use jhe_engine::api::Session as EngineSession;
use jhe_engine::audit::{self, Action, Draft, Entry, Filter};

use crate::error::{Error, Result};
use crate::ipc::{AuditCheck, AuditRow};
use crate::state::AppState;

/// Entries [`audit_log`] returns when no limit is given.
pub const DEFAULT_LIMIT: usize = 500;

/// `client` of the app's entries: `JHE Desktop <version>`.
pub fn client(state: &AppState) -> String {
    format!("{} {}", audit::CLIENT_APP, state.build.version)
}

/// A draft of `action` by the account signed in on `session`.
pub fn draft(state: &AppState, action: Action, session: &EngineSession) -> Draft {
    Draft::new(action, client(state)).by(session)
}

/// Appends `draft` to the state's audit log (nothing when it keeps none); a failure is a
/// warning, never the operation's error.
pub fn record(state: &AppState, draft: Draft) {
    let Some(log) = state.audit.clone() else {
        return;
    };
    if let Err(e) = log.append(draft) {
        tracing::warn!("an operation was not recorded in the audit log: {e}");
    }
}

fn row(e: Entry) -> AuditRow {
    let w = e.window.unwrap_or_default();
    AuditRow {
        seq: e.seq,
        at: e.at,
        who: e.who,
        server: e.server,
        action: e.action.as_str().to_string(),
        study: e.study,
        participants: e.participants,
        types: e.types,
        from: w.from.map(|d| d.to_string()),
        to: w.to.map(|d| d.to_string()),
        rows: e.rows,
        written_to: e.written_to,
        client: e.client,
        hash: e.hash,
    }
}

fn io(e: audit::AuditError) -> Error {
    Error::Io(e.to_string())
}

/// The latest `limit` entries (default [`DEFAULT_LIMIT`]), newest first.
pub async fn audit_log(state: &AppState, limit: Option<u32>) -> Result<Vec<AuditRow>> {
    let Some(log) = state.audit.clone() else {
        return Ok(Vec::new());
    };
    let last = limit.map_or(DEFAULT_LIMIT, |n| n as usize);
    let filter = Filter {
        last: Some(last),
        ..Filter::default()
    };
    let entries = tokio::task::spawn_blocking(move || log.read(&filter))
        .await?
        .map_err(io)?;
    Ok(entries.into_iter().rev().map(row).collect())
}

/// Checks the whole chain ("Verify" on the audit screen).
pub async fn verify_audit(state: &AppState) -> Result<AuditCheck> {
    let Some(log) = state.audit.clone() else {
        return Ok(AuditCheck {
            path: None,
            entries: 0,
            ok: true,
            problem: None,
            broken_line: None,
            broken_seq: None,
            last_hash: None,
        });
    };
    let path = log.path().display().to_string();
    let r = tokio::task::spawn_blocking(move || log.verify())
        .await?
        .map_err(io)?;
    Ok(AuditCheck {
        path: Some(path),
        entries: r.entries,
        ok: r.ok,
        problem: r.first_break.as_ref().map(ToString::to_string),
        broken_line: r.first_break.as_ref().map(|b| b.line),
        broken_seq: r.first_break.as_ref().and_then(|b| b.seq),
        last_hash: r.last_hash,
    })
}

/// "Export as CSV…": every entry into `path` (a file in a folder the user chose, see
/// [`crate::state::Grants`]).
pub async fn export_audit_csv(state: &AppState, path: &str) -> Result<()> {
    let p = PathBuf::from(path.trim());
    state.check_granted(&p)?;
    let Some(log) = state.audit.clone() else {
        return Err(Error::NotFound(
            "This app keeps no audit log (it has no folder for its data).".into(),
        ));
    };
    let out = p.clone();
    tokio::task::spawn_blocking(move || {
        let entries = log.read(&Filter::default()).map_err(io)?;
        let mut bytes = Vec::new();
        audit::to_csv(&entries, &mut bytes).map_err(|e| Error::Io(e.to_string()))?;
        jhe_engine::export::save_private(&out, &bytes).map_err(|e| {
            Error::Io(format!(
                "Could not write the audit log to {}: {e}. Choose a folder you can write to and try again.",
                out.display()
            ))
        })
    })
    .await??;
    Ok(())
}

/// "Save as CSV…": asks where (the save dialog), writes every entry there and returns the path;
/// `None` when the dialog was closed.
pub async fn save_audit_csv(state: &AppState) -> Result<Option<String>> {
    let Some(p) = state.picker.pick_csv_file("jhe-activity-log.csv").await? else {
        return Ok(None);
    };
    state.grants.lock().grant(&p);
    let path = p.display().to_string();
    export_audit_csv(state, &path).await?;
    Ok(Some(path))
}
