//! JHE Desktop: the Tauri app, a shell over `jhe-app` (what the app does): `commands` (one
//! one-line wrapper per `Backend` method of the web UI, and their handler), `picker` (native
//! dialogs and openers behind `jhe_app::picker::Picker`), `updater` (the updater plugin behind
//! `jhe_app::about::Updater`) and `bindings` (the IPC payloads as TypeScript).
//!
//! Environment:
//! * `JHE_START_DEMO=1` — open directly on the built-in demo exchange.
//! * `JHE_EXIT_WHEN_READY=1` — start-up benchmark: exit once the window has loaded.
//! * `RUST_LOG` — log filter (default `info`), logs go to stderr.
//!
//! Only in builds with the `test-hooks` feature (e2e tests; never in a release):
//! * `JHE_TEST_EXPORT_DIR=DIR` — "Choose folder…" hands out `DIR/1`, `DIR/2`, … without the
//!   native picker, and "Open an exported file or folder…" opens the latest of them.
//! * `JHE_TEST_OPEN_PATH=PATH` — "Open an exported file or folder…" opens PATH.

pub mod bindings;
pub mod commands;
pub mod picker;
pub mod updater;

use std::sync::Arc;

use jhe_app::picker::Picker;
use jhe_app::AppState;
use jhe_engine::auth::{KeychainOwner, KeyringStore};
use tauri::Manager;

use crate::picker::NativePicker;
use crate::updater::NativeUpdater;

/// Env (benchmarks): exit as soon as the window has loaded.
pub const EXIT_WHEN_READY_ENV: &str = "JHE_EXIT_WHEN_READY";

/// Env: open directly on the demo exchange.
pub const START_DEMO_ENV: &str = "JHE_START_DEMO";

/// Clicks the sign-in screen's demo button once the UI has rendered it (the UI starts on the
/// sign-in screen; this is the same path a user takes).
const CLICK_DEMO_JS: &str = r#"(function(){var n=0;var t=setInterval(function(){var b=document.querySelector('button.btn.demo');if(b&&!b.disabled){clearInterval(t);b.click();}else if(++n>200){clearInterval(t);}},50);})();"#;

/// The native dialogs, or (test builds, when `JHE_TEST_*` is set) the test picker around them.
fn picker(app: &tauri::AppHandle) -> Arc<dyn Picker> {
    let native: Arc<dyn Picker> = Arc::new(NativePicker(app.clone()));
    #[cfg(feature = "test-hooks")]
    if let Some(p) = jhe_app::picker::TestPicker::from_env(native.clone()) {
        tracing::info!(
            "test hooks: dialogs answered from JHE_TEST_EXPORT_DIR / JHE_TEST_OPEN_PATH"
        );
        return Arc::new(p);
    }
    native
}

fn start_demo_requested() -> bool {
    std::env::var(START_DEMO_ENV).is_ok_and(|v| v == "1" || v.eq_ignore_ascii_case("true"))
}

pub fn run() {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .try_init();
    let t0 = std::time::Instant::now();
    let auto_demo = start_demo_requested();
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_updater::Builder::new().build())
        .plugin(tauri_plugin_notification::init())
        .setup(|app| {
            let dir = app.path().app_config_dir().ok();
            // Sign-ins are kept in the OS keychain, in the desktop app's own entries.
            let secrets = Arc::new(KeyringStore::of(KeychainOwner::Desktop));
            let build = jhe_app::about::BuildInfo {
                version: app.package_info().version.to_string(),
                commit: env!("JHE_GIT_COMMIT").into(),
                build_date: env!("JHE_BUILD_DATE").into(),
                webview: tauri::webview_version().ok(),
            };
            let updater = Arc::new(NativeUpdater::new(app.handle().clone()));
            app.manage(
                AppState::new(picker(app.handle()), dir)
                    .with_secrets(secrets)
                    .with_build(build)
                    .with_updater(updater),
            );
            // The background check for new data in the studies kept on this computer.
            let handle = app.handle().clone();
            tauri::async_runtime::spawn(async move {
                jhe_app::copies::monitor(&handle.state::<AppState>()).await
            });
            Ok(())
        })
        .on_page_load(move |webview, payload| {
            if payload.event() == tauri::webview::PageLoadEvent::Finished {
                tracing::info!("window ready {} ms after start", t0.elapsed().as_millis());
                if std::env::var_os(EXIT_WHEN_READY_ENV).is_some() {
                    // Start-up benchmark: the window is usable; stop.
                    webview.app_handle().exit(0);
                    return;
                }
                if auto_demo {
                    if let Err(e) = webview.eval(CLICK_DEMO_JS) {
                        tracing::warn!("could not open the demo: {e}");
                    }
                }
            }
        })
        .invoke_handler(commands::handler())
        .run(tauri::generate_context!("tauri.conf.json"));
    if let Err(e) = result {
        eprintln!("JHE Desktop could not start: {e}");
        std::process::exit(1);
    }
}
