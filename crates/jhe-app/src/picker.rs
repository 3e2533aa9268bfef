//! What the app asks of the desktop around it: a folder to export into, an export to open, a
//! file manager showing a path, a browser showing a sign-in page. The Tauri shell implements
//! [`Picker`] with native dialogs; tests hand out folders without a window ([`TestPicker`],
//! only with the `test-hooks` feature, so release builds have no test hooks).

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;

use crate::error::Result;

/// The native dialogs and openers, chosen once at start-up.
pub trait Picker: Send + Sync {
    /// A folder for an export; `None` when the user closes the dialog.
    fn pick_folder(&self) -> BoxFuture<'_, Result<Option<PathBuf>>>;
    /// An export folder's `manifest.json`, or one `.csv` / `.parquet` file; `None` when closed.
    fn pick_export_to_open(&self) -> BoxFuture<'_, Result<Option<PathBuf>>>;
    /// Where to save a report, `suggested` being the file name offered; `None` when closed.
    fn pick_report_file(&self, suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>>;
    /// Where to save a CSV file (the activity log), `suggested` being the name offered; `None`
    /// when closed. By default the report dialog's answer.
    fn pick_csv_file(&self, suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        self.pick_report_file(suggested)
    }
    /// Shows `path` in the system file manager.
    fn reveal(&self, path: &Path) -> Result<()>;
    /// Opens a file the app wrote (a report) in the program the system opens it with.
    fn open_file(&self, path: &Path) -> Result<()>;
    /// Opens `url` in the system browser (browser sign-in).
    fn open_url(&self, url: &str) -> Result<()>;
    /// Shows a desktop notification (new data in a study); nothing where there is no desktop.
    fn notify(&self, _title: &str, _body: &str) -> Result<()> {
        Ok(())
    }
}

#[cfg(feature = "test-hooks")]
pub use test_hooks::{TestPicker, TEST_EXPORT_DIR_ENV, TEST_OPEN_PATH_ENV};

#[cfg(feature = "test-hooks")]
mod test_hooks {
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use futures_util::future::BoxFuture;
    use parking_lot::Mutex;

    use super::Picker;
    use crate::error::{Error, Result};

    /// Env: a folder under which "Choose folder…" hands out `1/`, `2/`, … instead of showing the
    /// native picker, and from which "Open an exported file or folder…" opens the latest one.
    pub const TEST_EXPORT_DIR_ENV: &str = "JHE_TEST_EXPORT_DIR";
    /// Env: what "Open an exported file or folder…" opens instead of showing the native picker.
    pub const TEST_OPEN_PATH_ENV: &str = "JHE_TEST_OPEN_PATH";

    fn env_path(name: &str) -> Option<PathBuf> {
        std::env::var_os(name)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }

    /// Dialogs answered from `JHE_TEST_EXPORT_DIR` / `JHE_TEST_OPEN_PATH`; the file manager
    /// and the browser are still the real ones (`native`).
    pub struct TestPicker {
        export_dir: Option<PathBuf>,
        open_path: Option<PathBuf>,
        native: Arc<dyn Picker>,
        picks: AtomicU32,
        reports: AtomicU32,
        last_pick: Mutex<Option<PathBuf>>,
    }

    impl TestPicker {
        pub fn new(
            export_dir: Option<PathBuf>,
            open_path: Option<PathBuf>,
            native: Arc<dyn Picker>,
        ) -> TestPicker {
            TestPicker {
                export_dir,
                open_path,
                native,
                picks: AtomicU32::new(0),
                reports: AtomicU32::new(0),
                last_pick: Mutex::new(None),
            }
        }

        /// The test picker when either variable is set, else `None` (use the native one).
        pub fn from_env(native: Arc<dyn Picker>) -> Option<TestPicker> {
            let export_dir = env_path(TEST_EXPORT_DIR_ENV);
            let open_path = env_path(TEST_OPEN_PATH_ENV);
            (export_dir.is_some() || open_path.is_some())
                .then(|| TestPicker::new(export_dir, open_path, native))
        }
    }

    impl Picker for TestPicker {
        fn pick_folder(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
            Box::pin(async move {
                let Some(dir) = &self.export_dir else {
                    return self.native.pick_folder().await;
                };
                let n = self.picks.fetch_add(1, Ordering::Relaxed) + 1;
                let d = dir.join(n.to_string());
                std::fs::create_dir_all(&d)
                    .map_err(|e| Error::Io(format!("Could not create {}: {e}.", d.display())))?;
                *self.last_pick.lock() = Some(d.clone());
                Ok(Some(d))
            })
        }

        fn pick_export_to_open(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
            Box::pin(async move {
                if let Some(p) = &self.open_path {
                    return Ok(Some(p.clone()));
                }
                if self.export_dir.is_some() {
                    // The latest export: its folder, or the encrypted file it is.
                    let last = self.last_pick.lock().clone();
                    let sealed = last.as_ref().and_then(|d| {
                        let mut files = std::fs::read_dir(d).ok()?.flatten().map(|e| e.path());
                        let one = files.next()?;
                        (files.next().is_none() && jhe_engine::export::sealed::is_sealed(&one))
                            .then_some(one)
                    });
                    return Ok(sealed.or(last));
                }
                self.native.pick_export_to_open().await
            })
        }

        /// A report goes to `report-N/` under the test folder (counted apart from the folders).
        fn pick_report_file(&self, suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>> {
            let suggested = suggested.to_string();
            Box::pin(async move {
                let Some(dir) = &self.export_dir else {
                    return self.native.pick_report_file(&suggested).await;
                };
                let n = self.reports.fetch_add(1, Ordering::Relaxed) + 1;
                let d = dir.join(format!("report-{n}"));
                std::fs::create_dir_all(&d)
                    .map_err(|e| Error::Io(format!("Could not create {}: {e}.", d.display())))?;
                Ok(Some(d.join(suggested)))
            })
        }

        fn reveal(&self, path: &Path) -> Result<()> {
            self.native.reveal(path)
        }

        /// Tests read the file themselves: no browser is started under test.
        fn open_file(&self, path: &Path) -> Result<()> {
            if self.export_dir.is_some() {
                return Ok(());
            }
            self.native.open_file(path)
        }

        fn open_url(&self, url: &str) -> Result<()> {
            self.native.open_url(url)
        }

        /// Also written, one line per notification, to `notifications.log` in the test folder
        /// (the tests read it: a desktop without a notification service shows nothing).
        fn notify(&self, title: &str, body: &str) -> Result<()> {
            if let Some(dir) = &self.export_dir {
                use std::io::Write;
                let _ = std::fs::create_dir_all(dir);
                let line = format!("{title}\t{body}\n");
                let _ = std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(dir.join("notifications.log"))
                    .and_then(|mut f| f.write_all(line.as_bytes()));
            }
            if let Err(e) = self.native.notify(title, body) {
                tracing::warn!("notification: {e}");
            }
            Ok(())
        }
    }
}

/// No desktop around the app (tests, the CLI): no dialogs, no file manager, no browser.
pub struct Headless;

impl Picker for Headless {
    fn pick_folder(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        Box::pin(async { Ok(None) })
    }

    fn pick_export_to_open(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        Box::pin(async { Ok(None) })
    }

    fn pick_report_file(&self, _suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        Box::pin(async { Ok(None) })
    }

    fn reveal(&self, path: &Path) -> Result<()> {
        Err(crate::error::Error::Io(format!(
            "There is no file manager to show {} in.",
            path.display()
        )))
    }

    fn open_file(&self, path: &Path) -> Result<()> {
        Err(crate::error::Error::Io(format!(
            "There is nothing to open {} with.",
            path.display()
        )))
    }

    fn open_url(&self, url: &str) -> Result<()> {
        Err(crate::error::Error::Io(format!(
            "There is no browser to open {url} in."
        )))
    }
}
