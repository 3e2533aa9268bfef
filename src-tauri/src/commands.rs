//! The Tauri commands: one line each, a call into `jhe-app` (where what the app does lives).
//! Progress streams through a `Channel`; every failure reaches the UI as `{kind, message}`, and
//! `state.noted` keeps its kind (only the kind) for the About dialog's diagnostics.
//!
//! Each line `fn name(arg: Type, …) -> T = call;` becomes
//! `#[tauri::command] pub async fn name(state: State<'_, AppState>, arg: Type, …) -> Result<T>`
//! whose body is `state.noted(call.await)`; a `#[quiet]` line returns `call.await` as it is
//! (polled or settings commands, whose failures are not diagnostics). The UI calls each command by
//! its name with camelCase arguments. [`handler`] routes them all; [`COMMANDS`] names them (a
//! test keeps `capabilities/default.json`, from which `build.rs` reads the list, equal to it).

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

/// Emits the commands, [`handler`] and [`COMMANDS`] (`$state`: the name the calls use for the
/// app's state).
macro_rules! commands {
    (@call $state:ident; $call:expr) => { $state.noted($call.await) };
    (@call $state:ident quiet; $call:expr) => { $call.await };
    ($state:ident;
     $( $(#[$tag:ident])? fn $name:ident($($arg:ident: $ty:ty),*) -> $ret:ty = $call:expr; )*) => {
        $(
            #[tauri::command]
            pub async fn $name($state: State<'_, AppState>, $($arg: $ty),*) -> Result<$ret> {
                commands!(@call $state $($tag)?; $call)
            }
        )*

        /// The invoke handler of every command (installed by `lib.rs`).
        pub fn handler<R: tauri::Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync
        {
            tauri::generate_handler![$($name),*]
        }

        /// The names of every command, as the UI invokes them.
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];
    };
}

commands! { state;
    // ----- servers and signing in
    fn recent_servers() -> Vec<RecentServer> = session::recent_servers(&state);
    fn check_server(url: String) -> ServerCheck = session::check_server(&url);
    fn sign_in(url: String, method: SignInMethod)
        -> Session = session::sign_in(&state, &url, method);
    fn cancel_sign_in() -> () = session::cancel_sign_in(&state);
    fn remembered_sign_in() -> Option<RememberedSignIn> = session::remembered_sign_in(&state);
    fn continue_sign_in(url: String) -> Session = session::continue_sign_in(&state, &url);
    fn start_demo() -> Session = session::start_demo(&state);
    fn sign_out() -> () = session::sign_out(&state);

    // ----- browsing
    fn list_organizations() -> Vec<Organization> = studies::list_organizations(&state);
    fn list_studies() -> Vec<Study> = studies::list_studies(&state);
    fn get_study_overview(
        study_id: u64, job_id: Option<String>, on_event: Channel<OverviewProgress>
    ) -> StudyOverview = studies::study_overview_job(&state, study_id, job_id.as_deref(), sink(on_event));
    fn get_patient_data(study_id: u64, patient_id: u64, range: DateRange)
        -> PatientData = participant::patient_data(&state, study_id, patient_id, range);
    fn get_rows(patient_id: u64, code: String, offset: u64, limit: u64, range: DateRange)
        -> RowsPage = participant::rows(&state, patient_id, &code, offset, limit, range);

    // ----- export
    fn export_data(job_id: String, request: ExportRequest, on_event: Channel<ExportProgress>)
        -> ExportResult = export::export_data(&state, &job_id, request, sink(on_event));
    fn discard_unfinished(out_dir: String)
        -> Discarded = export::discard_unfinished(&state, &out_dir);
    fn cancel_export(job_id: String) -> () = export::cancel_export(&state, &job_id);
    fn pick_folder() -> Option<String> = export::pick_folder(&state);
    fn pick_export_to_open() -> Option<String> = export::pick_export_to_open(&state);
    fn show_in_folder(path: String) -> () = export::show_in_folder(&state, &path);

    // ----- offline review
    fn open_export(path: String, passphrase: Option<String>)
        -> OfflineReview = offline::open_export(&state, &path, passphrase);

    // ----- local copies and new-data checks
    fn local_copies() -> Vec<LocalCopyInfo> = copies::local_copies(&state);
    fn open_local_copy(server: String, study_id: u64)
        -> OfflineReview = copies::open_local_copy(&state, &server, study_id);
    fn sync_study(study_id: u64, job_id: Option<String>, on_event: Channel<SyncProgress>)
        -> SyncResult = copies::sync_study(&state, study_id, job_id.as_deref(), sink(on_event));
    fn remove_local_copy(server: Option<String>, study_id: u64)
        -> () = copies::remove_local_copy(&state, server.as_deref(), study_id);
    fn remove_server_copies() -> u64 = copies::remove_server_copies(&state);
    #[quiet] fn study_news() -> Vec<StudyNews> = copies::study_news(&state);
    #[quiet] fn clear_study_news(study_id: u64) -> () = copies::clear_study_news(&state, study_id);
    #[quiet] fn sync_every() -> u32 = copies::sync_every(&state);
    #[quiet] fn set_sync_every(minutes: u32) -> u32 = copies::set_sync_every(&state, minutes);

    // ----- the activity (audit) log
    fn audit_log(limit: Option<u32>) -> Vec<AuditRow> = audit::audit_log(&state, limit);
    fn verify_audit() -> AuditCheck = audit::verify_audit(&state);
    fn save_audit_csv() -> Option<String> = audit::save_audit_csv(&state);

    // ----- reports
    fn write_report(job_id: String, request: ReportRequest, on_event: Channel<ExportProgress>)
        -> Option<ReportWritten> = report::write_report(&state, &job_id, request, sink(on_event));
    fn open_report(path: String) -> () = report::open_report(&state, &path);

    // ----- about and updates
    #[quiet] fn about_info() -> AboutInfo = async { Ok(about::about_info(&state)) };
    #[quiet] fn update_settings() -> UpdateSettings = about::update_settings(&state);
    #[quiet] fn set_update_check(on: bool) -> UpdateSettings = about::set_update_check(&state, on);
    fn check_for_update() -> Option<UpdateFound> = about::check_for_update(&state);
    fn install_update() -> () = about::install_update(&state);
}

#[cfg(test)]
mod tests {
    use super::COMMANDS;
    use std::collections::BTreeSet;
    use std::path::Path;

    fn read(rel: &str) -> Result<String, String> {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(rel);
        std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
    }

    fn declared() -> Result<BTreeSet<String>, String> {
        let set: BTreeSet<String> = COMMANDS.iter().map(|c| c.to_string()).collect();
        if set.len() != COMMANDS.len() {
            return Err("a command is declared twice".into());
        }
        Ok(set)
    }

    /// `capabilities/default.json` grants exactly the declared commands (`build.rs` reads the
    /// list from it, so a command missing there would have no permission).
    #[test]
    fn capabilities_grant_every_command() -> Result<(), String> {
        let json: serde_json::Value =
            serde_json::from_str(&read("capabilities/default.json")?).map_err(|e| e.to_string())?;
        let granted: BTreeSet<String> = json["permissions"]
            .as_array()
            .ok_or("no permissions list")?
            .iter()
            .map(|p| {
                p.as_str()
                    .and_then(|p| p.strip_prefix("allow-"))
                    .map(|c| c.replace('-', "_"))
                    .ok_or(format!("not an allow-<command> permission: {p}"))
            })
            .collect::<Result<_, _>>()?;
        assert_eq!(granted, declared()?);
        Ok(())
    }

    /// The UI's Tauri backend calls exactly the declared commands, each by its name.
    #[test]
    fn the_ui_calls_every_command() -> Result<(), String> {
        let ts = read("../ui/src/backend/tauri.ts")?;
        let called: BTreeSet<String> = ts
            .split("call(this.inv, '")
            .skip(1)
            .filter_map(|s| s.split('\'').next())
            .map(str::to_string)
            .collect();
        assert_eq!(called, declared()?);
        Ok(())
    }
}
