//! tauri-build reads the app's configuration (`tauri.conf.json` beside this file, icons in the
//! top-level `icons/`), and only the commands listed here get permissions,
//! which `capabilities/default.json` grants to the main window.

const COMMANDS: &[&str] = &[
    "recent_servers",
    "check_server",
    "sign_in",
    "cancel_sign_in",
    "remembered_sign_in",
    "continue_sign_in",
    "start_demo",
    "sign_out",
    "list_organizations",
    "list_studies",
    "get_study_overview",
    "get_patient_data",
    "get_rows",
    "export_data",
    "cancel_export",
    "discard_unfinished",
    "pick_folder",
    "pick_export_to_open",
    "show_in_folder",
    "open_export",
];

fn main() {
    let attrs = tauri_build::Attributes::new()
        .config_path("tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}
