//! The native side of [`Picker`]: folder and file dialogs (tauri-plugin-dialog), the file
//! manager and the browser (tauri-plugin-opener), desktop notifications
//! (tauri-plugin-notification).

use std::path::{Path, PathBuf};

use futures_util::future::BoxFuture;
use jhe_app::picker::Picker;
use jhe_app::{Error, Result};
use tauri::AppHandle;
use tauri_plugin_dialog::{DialogExt, FileDialogBuilder, FilePath};
use tauri_plugin_notification::NotificationExt;
use tauri_plugin_opener::OpenerExt;

pub struct NativePicker(pub AppHandle);

type Choice = tokio::sync::oneshot::Receiver<Option<FilePath>>;

enum Ask {
    Folder,
    File,
    Save,
}

/// Shows the dialog now; the future resolves to the user's choice (`None` when closed).
fn show(
    dialog: FileDialogBuilder<tauri::Wry>,
    ask: Ask,
) -> BoxFuture<'static, Result<Option<PathBuf>>> {
    let (tx, rx): (_, Choice) = tokio::sync::oneshot::channel();
    let send = move |p| {
        let _ = tx.send(p);
    };
    match ask {
        Ask::Folder => dialog.pick_folder(send),
        Ask::File => dialog.pick_file(send),
        Ask::Save => dialog.save_file(send),
    }
    Box::pin(async move { Ok(rx.await.ok().flatten().and_then(|p| p.into_path().ok())) })
}

impl Picker for NativePicker {
    fn pick_folder(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        let d = self.0.dialog().file();
        show(d.set_title("Choose a folder for the export"), Ask::Folder)
    }

    fn pick_export_to_open(&self) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        // One dialog for both: manifest.json opens its whole export folder; a .csv / .parquet
        // file opens just that file.
        let d = self
            .0
            .dialog()
            .file()
            .set_title("Open an export: its manifest.json, its encrypted .tar.age file, or one .csv / .parquet file")
            .add_filter("Exported data", &["json", "age", "csv", "parquet"]);
        show(d, Ask::File)
    }

    fn pick_report_file(&self, suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        let d = self
            .0
            .dialog()
            .file()
            .set_title("Save the report")
            .set_file_name(suggested);
        show(d.add_filter("Web page (HTML)", &["html"]), Ask::Save)
    }

    fn pick_csv_file(&self, suggested: &str) -> BoxFuture<'_, Result<Option<PathBuf>>> {
        let d = self
            .0
            .dialog()
            .file()
            .set_title("Save the activity log")
            .set_file_name(suggested);
        show(d.add_filter("CSV", &["csv"]), Ask::Save)
    }

    fn reveal(&self, path: &Path) -> Result<()> {
        self.0.opener().reveal_item_in_dir(path).map_err(|e| {
            Error::Io(format!(
                "Could not open the file manager at {}: {e}.",
                path.display()
            ))
        })
    }

    fn open_file(&self, path: &Path) -> Result<()> {
        let p = path.display().to_string();
        let e = |e| {
            Error::Io(format!(
                "Could not open {p}: {e}. Open it from the file manager."
            ))
        };
        self.0
            .opener()
            .open_path(path.display().to_string(), None::<&str>)
            .map_err(e)
    }

    fn open_url(&self, url: &str) -> Result<()> {
        self.0
            .opener()
            .open_url(url, None::<&str>)
            .map_err(|e| Error::Io(format!("Could not open the browser at {url}: {e}.")))
    }

    fn notify(&self, title: &str, body: &str) -> Result<()> {
        self.0
            .notification()
            .builder()
            .title(title)
            .body(body)
            .show()
            .map_err(|e| Error::Io(format!("Could not show a notification: {e}.")))
    }
}
