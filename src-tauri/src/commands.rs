//! The Tauri commands: one line each, a call into `jhe-app` (where what the app does lives).
//! Progress streams through a `Channel`; every failure reaches the UI as `{kind, message}`, and
//! `state.noted` keeps its kind (only the kind) for the About dialog's diagnostics.

use jhe_app::ipc::*;
use jhe_app::{
    about, audit, copies, export, offline, participant, report, session, studies, AppState, Result,
};
use tauri::ipc::Channel;
use tauri::State;

/// A progress callback that forwards to the UI's channel (a closed channel is ignored).
fn sink<T: tauri::ipc::IpcResponse + Send + Sync + 'static>(
    ch: Channel<T>,
) -> impl Fn(T) + Send + Sync {
    move |p| {
        let _ = ch.send(p);
    }
}

// ----- servers and signing in -------------------------------------------------------------------

#[tauri::command]
pub async fn recent_servers(state: State<'_, AppState>) -> Result<Vec<RecentServer>> {
    state.noted(session::recent_servers(&state).await)
}

#[tauri::command]
pub async fn check_server(state: State<'_, AppState>, url: String) -> Result<ServerCheck> {
    state.noted(session::check_server(&url).await)
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    url: String,
    method: SignInMethod,
) -> Result<Session> {
    state.noted(session::sign_in(&state, &url, method).await)
}

#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> Result<()> {
    state.noted(session::cancel_sign_in(&state).await)
}

#[tauri::command]
pub async fn remembered_sign_in(state: State<'_, AppState>) -> Result<Option<RememberedSignIn>> {
    state.noted(session::remembered_sign_in(&state).await)
}

#[tauri::command]
pub async fn continue_sign_in(state: State<'_, AppState>, url: String) -> Result<Session> {
    state.noted(session::continue_sign_in(&state, &url).await)
}

#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> Result<Session> {
    state.noted(session::start_demo(&state).await)
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<()> {
    state.noted(session::sign_out(&state).await)
}

// ----- browsing ---------------------------------------------------------------------------------

#[tauri::command]
pub async fn list_organizations(state: State<'_, AppState>) -> Result<Vec<Organization>> {
    state.noted(studies::list_organizations(&state).await)
}

#[tauri::command]
pub async fn list_studies(state: State<'_, AppState>) -> Result<Vec<Study>> {
    state.noted(studies::list_studies(&state).await)
}

#[tauri::command]
pub async fn get_study_overview(
    state: State<'_, AppState>,
    study_id: u64,
    job_id: Option<String>,
    on_event: Channel<OverviewProgress>,
) -> Result<StudyOverview> {
    state.noted(
        studies::study_overview_job(&state, study_id, job_id.as_deref(), sink(on_event)).await,
    )
}

#[tauri::command]
pub async fn get_patient_data(
    state: State<'_, AppState>,
    study_id: u64,
    patient_id: u64,
    range: DateRange,
) -> Result<PatientData> {
    state.noted(participant::patient_data(&state, study_id, patient_id, range).await)
}

#[tauri::command]
pub async fn get_rows(
    state: State<'_, AppState>,
    patient_id: u64,
    code: String,
    offset: u64,
    limit: u64,
    range: DateRange,
) -> Result<RowsPage> {
    state.noted(participant::rows(&state, patient_id, &code, offset, limit, range).await)
}

// ----- export -----------------------------------------------------------------------------------

#[tauri::command]
pub async fn export_data(
    state: State<'_, AppState>,
    job_id: String,
    request: ExportRequest,
    on_event: Channel<ExportProgress>,
) -> Result<ExportResult> {
    state.noted(export::export_data(&state, &job_id, request, sink(on_event)).await)
}

#[tauri::command]
pub async fn discard_unfinished(state: State<'_, AppState>, out_dir: String) -> Result<Discarded> {
    state.noted(export::discard_unfinished(&state, &out_dir).await)
}

#[tauri::command]
pub async fn cancel_export(state: State<'_, AppState>, job_id: String) -> Result<()> {
    state.noted(export::cancel_export(&state, &job_id).await)
}

#[tauri::command]
pub async fn pick_folder(state: State<'_, AppState>) -> Result<Option<String>> {
    state.noted(export::pick_folder(&state).await)
}

#[tauri::command]
pub async fn pick_export_to_open(state: State<'_, AppState>) -> Result<Option<String>> {
    state.noted(export::pick_export_to_open(&state).await)
}

#[tauri::command]
pub async fn show_in_folder(state: State<'_, AppState>, path: String) -> Result<()> {
    state.noted(export::show_in_folder(&state, &path).await)
}

// ----- offline review ---------------------------------------------------------------------------

#[tauri::command]
pub async fn open_export(
    state: State<'_, AppState>,
    path: String,
    passphrase: Option<String>,
) -> Result<OfflineReview> {
    state.noted(offline::open_export(&state, &path, passphrase).await)
}

// ----- local copies and new-data checks ---------------------------------------------------------

#[tauri::command]
pub async fn local_copies(state: State<'_, AppState>) -> Result<Vec<LocalCopyInfo>> {
    state.noted(copies::local_copies(&state).await)
}

#[tauri::command]
pub async fn open_local_copy(
    state: State<'_, AppState>,
    server: String,
    study_id: u64,
) -> Result<OfflineReview> {
    state.noted(copies::open_local_copy(&state, &server, study_id).await)
}

#[tauri::command]
pub async fn sync_study(
    state: State<'_, AppState>,
    study_id: u64,
    job_id: Option<String>,
    on_event: Channel<SyncProgress>,
) -> Result<SyncResult> {
    state.noted(copies::sync_study(&state, study_id, job_id.as_deref(), sink(on_event)).await)
}

#[tauri::command]
pub async fn remove_local_copy(
    state: State<'_, AppState>,
    server: Option<String>,
    study_id: u64,
) -> Result<()> {
    state.noted(copies::remove_local_copy(&state, server.as_deref(), study_id).await)
}

#[tauri::command]
pub async fn remove_server_copies(state: State<'_, AppState>) -> Result<u64> {
    state.noted(copies::remove_server_copies(&state).await)
}

#[tauri::command]
pub async fn study_news(state: State<'_, AppState>) -> Result<Vec<StudyNews>> {
    copies::study_news(&state).await
}

#[tauri::command]
pub async fn clear_study_news(state: State<'_, AppState>, study_id: u64) -> Result<()> {
    copies::clear_study_news(&state, study_id).await
}

#[tauri::command]
pub async fn sync_every(state: State<'_, AppState>) -> Result<u32> {
    copies::sync_every(&state).await
}

#[tauri::command]
pub async fn set_sync_every(state: State<'_, AppState>, minutes: u32) -> Result<u32> {
    copies::set_sync_every(&state, minutes).await
}

// ----- the activity (audit) log -----------------------------------------------------------------

#[tauri::command]
pub async fn audit_log(state: State<'_, AppState>, limit: Option<u32>) -> Result<Vec<AuditRow>> {
    state.noted(audit::audit_log(&state, limit).await)
}

#[tauri::command]
pub async fn verify_audit(state: State<'_, AppState>) -> Result<AuditCheck> {
    state.noted(audit::verify_audit(&state).await)
}

#[tauri::command]
pub async fn save_audit_csv(state: State<'_, AppState>) -> Result<Option<String>> {
    state.noted(audit::save_audit_csv(&state).await)
}

// ----- reports ---------------------------------------------------------------------------------

#[tauri::command]
pub async fn write_report(
    state: State<'_, AppState>,
    job_id: String,
    request: ReportRequest,
    on_event: Channel<ExportProgress>,
) -> Result<Option<ReportWritten>> {
    state.noted(report::write_report(&state, &job_id, request, sink(on_event)).await)
}

#[tauri::command]
pub async fn open_report(state: State<'_, AppState>, path: String) -> Result<()> {
    state.noted(report::open_report(&state, &path).await)
}

// ----- about and updates ------------------------------------------------------------------------

#[tauri::command]
pub async fn about_info(state: State<'_, AppState>) -> Result<AboutInfo> {
    Ok(about::about_info(&state))
}

#[tauri::command]
pub async fn update_settings(state: State<'_, AppState>) -> Result<UpdateSettings> {
    about::update_settings(&state).await
}

#[tauri::command]
pub async fn set_update_check(state: State<'_, AppState>, on: bool) -> Result<UpdateSettings> {
    about::set_update_check(&state, on).await
}

#[tauri::command]
pub async fn check_for_update(state: State<'_, AppState>) -> Result<Option<UpdateFound>> {
    state.noted(about::check_for_update(&state).await)
}

#[tauri::command]
pub async fn install_update(state: State<'_, AppState>) -> Result<()> {
    state.noted(about::install_update(&state).await)
}
