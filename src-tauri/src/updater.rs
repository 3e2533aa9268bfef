//! The native side of [`Updater`]: the Tauri updater plugin. It asks the `latest.json` named in
//! `plugins.updater.endpoints` of `tauri.conf.json` (empty in builds not made by the release
//! workflow, which then never check) and installs only bundles signed with the private key of
//! `plugins.updater.pubkey`. `jhe_app::about` calls it only after the user opted in.

use futures_util::future::BoxFuture;
use jhe_app::about::Updater;
use jhe_app::ipc::UpdateFound;
use jhe_app::{Error, Result};
use parking_lot::Mutex;
use tauri::AppHandle;
use tauri_plugin_updater::{Update, UpdaterExt};

pub struct NativeUpdater {
    app: AppHandle,
    host: Option<String>,
    /// What the last check found, for "Install".
    found: Mutex<Option<Update>>,
}

impl NativeUpdater {
    /// The host of the first update address in the app's configuration (`None`: no address).
    pub fn new(app: AppHandle) -> NativeUpdater {
        let host = app
            .config()
            .plugins
            .0
            .get("updater")
            .and_then(|u| u.get("endpoints"))
            .and_then(|e| e.as_array())
            .and_then(|e| e.first())
            .and_then(|e| e.as_str())
            .and_then(|e| tauri::Url::parse(e).ok())
            .and_then(|u| u.host_str().map(str::to_string));
        NativeUpdater {
            app,
            host,
            found: Mutex::new(None),
        }
    }

    /// Not reaching the update address is `unreachable`; anything else (a bad signature, a
    /// release without this platform, an install that failed) is reported as the app's own.
    fn failed(&self, e: tauri_plugin_updater::Error) -> Error {
        use tauri_plugin_updater::Error as U;
        match e {
            U::Reqwest(_) | U::Network(_) | U::ReleaseNotFound => {
                Error::Engine(jhe_engine::error::Error::Unreachable {
                    url: self.host.clone().unwrap_or_default(),
                    detail: format!("the check for a new version failed ({e})"),
                })
            }
            e => Error::Internal(format!("updating JHE Desktop failed ({e})")),
        }
    }
}

impl Updater for NativeUpdater {
    fn host(&self) -> Option<String> {
        self.host.clone()
    }

    fn check(&self) -> BoxFuture<'_, Result<Option<UpdateFound>>> {
        Box::pin(async move {
            let update = self
                .app
                .updater()
                .map_err(|e| self.failed(e))?
                .check()
                .await
                .map_err(|e| self.failed(e))?;
            let found = update.as_ref().map(|u| UpdateFound {
                version: u.version.clone(),
                notes: u.body.clone().filter(|b| !b.trim().is_empty()),
            });
            *self.found.lock() = update;
            Ok(found)
        })
    }

    fn install(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let Some(update) = self.found.lock().take() else {
                return Err(Error::InvalidInput(
                    "There is no new version to install: check for one first.".into(),
                ));
            };
            update
                .download_and_install(|_, _| {}, || {})
                .await
                .map_err(|e| self.failed(e))?;
            self.app.restart()
        })
    }
}
