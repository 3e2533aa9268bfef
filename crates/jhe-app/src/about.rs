//! The About dialog, "Copy diagnostics" and the opt-in check for new versions.
//!
//! [`about_info`] says what the app is (version, commit, build date, OS, processor, web view),
//! which server it is signed in to (the host only, and the JHE version that server reports) and
//! the kinds of its latest errors. Diagnostics carry kinds only — never an error's message, a
//! name, an id, a path, a URL path or a key — so a user can paste them into a support request.
//!
//! Updates: the [`Updater`] (the Tauri updater plugin in the app, [`NoUpdater`] elsewhere) is only
//! ever asked when the user said yes ([`set_update_check`]); the answer is kept in the app's
//! settings file beside the recent servers.

use futures_util::future::BoxFuture;

use crate::error::Result;
use crate::ipc::{AboutInfo, ServerAbout, UpdateFound, UpdateSettings};
use crate::state::{AppState, Source};

/// How many error kinds the diagnostics keep (the oldest are forgotten first).
pub const RECENT_ERRORS_MAX: usize = 10;

/// What the build knows about itself (`src-tauri/build.rs` stamps the commit and the date).
#[derive(Clone, Debug)]
pub struct BuildInfo {
    pub version: String,
    pub commit: String,
    pub build_date: String,
    /// The system web view's version, when the platform tells (`tauri::webview_version`).
    pub webview: Option<String>,
}

impl Default for BuildInfo {
    fn default() -> Self {
        BuildInfo {
            version: env!("CARGO_PKG_VERSION").to_string(),
            commit: "unknown".into(),
            build_date: "unknown".into(),
            webview: None,
        }
    }
}

/// The OS as people call it.
pub fn os_name() -> &'static str {
    match std::env::consts::OS {
        "linux" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        other => other,
    }
}

/// What the About dialog shows, with the diagnostics text.
pub fn about_info(state: &AppState) -> AboutInfo {
    let server = match &*state.source.lock() {
        Some(Source::Online { session, demo }) => Some(ServerAbout {
            host: session
                .server()
                .url
                .url()
                .host_str()
                .unwrap_or("unknown")
                .to_string(),
            version: session.server().version.clone(),
            demo: *demo,
        }),
        _ => None,
    };
    let mut info = AboutInfo {
        version: state.build.version.clone(),
        commit: state.build.commit.clone(),
        build_date: state.build.build_date.clone(),
        os: os_name().to_string(),
        arch: std::env::consts::ARCH.to_string(),
        webview: state.build.webview.clone(),
        server,
        recent_errors: state.recent_errors.lock().iter().copied().collect(),
        diagnostics: String::new(),
    };
    info.diagnostics = diagnostics_text(&info);
    info
}

/// The plain text "Copy diagnostics" puts on the clipboard (built from `info`'s other fields).
pub fn diagnostics_text(info: &AboutInfo) -> String {
    let server = match &info.server {
        None => "not signed in".to_string(),
        Some(s) => format!(
            "{}{}, JHE version {}",
            s.host,
            if s.demo { " (demo exchange)" } else { "" },
            s.version.as_deref().unwrap_or("not reported")
        ),
    };
    let errors = if info.recent_errors.is_empty() {
        "none".to_string()
    } else {
        info.recent_errors
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "JHE Desktop {version}\n\
         Commit: {commit}\n\
         Built: {date}\n\
         System: {os} {arch}\n\
         Web view: {webview}\n\
         Server: {server}\n\
         Recent error kinds (oldest first): {errors}\n",
        version = info.version,
        commit = info.commit,
        date = info.build_date,
        os = info.os,
        arch = info.arch,
        webview = info.webview.as_deref().unwrap_or("not reported"),
    )
}

// ----- updates ----------------------------------------------------------------------------------

/// Checks for and installs new versions (the Tauri updater plugin in the app).
pub trait Updater: Send + Sync {
    /// The host checks go to; `None` when this build has no update address.
    fn host(&self) -> Option<String>;
    /// Asks the update address whether a newer version exists.
    fn check(&self) -> BoxFuture<'_, Result<Option<UpdateFound>>>;
    /// Downloads and installs the version the last [`check`](Updater::check) found, then restarts.
    fn install(&self) -> BoxFuture<'_, Result<()>>;
}

/// No update address (tests, builds without the updater): nothing is ever checked.
pub struct NoUpdater;

impl Updater for NoUpdater {
    fn host(&self) -> Option<String> {
        None
    }
    fn check(&self) -> BoxFuture<'_, Result<Option<UpdateFound>>> {
        Box::pin(async { Ok(None) })
    }
    fn install(&self) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

pub async fn update_settings(state: &AppState) -> Result<UpdateSettings> {
    Ok(UpdateSettings {
        host: state.updater.host(),
        check_on_start: *state.update_check.lock(),
    })
}

/// Remembers the user's answer ("Check for new versions when it starts?").
pub async fn set_update_check(state: &AppState, on: bool) -> Result<UpdateSettings> {
    state.set_update_check(on);
    update_settings(state).await
}

/// Asks the update address for a newer version — only when the user opted in; otherwise
/// `None` without contacting anything.
pub async fn check_for_update(state: &AppState) -> Result<Option<UpdateFound>> {
    if *state.update_check.lock() != Some(true) || state.updater.host().is_none() {
        return Ok(None);
    }
    state.updater.check().await
}

/// Installs the version [`check_for_update`] found (the app restarts).
pub async fn install_update(state: &AppState) -> Result<()> {
    state.updater.install().await
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use jhe_engine::error::ErrorKind;

    use super::*;
    use crate::error::Error;
    use crate::picker::Headless;

    fn state() -> AppState {
        AppState::default().with_build(BuildInfo {
            version: "1.2.3".into(),
            commit: "abc123def456".into(),
            build_date: "2026-12-02".into(),
            webview: Some("2.44.0".into()),
        })
    }

    #[test]
    fn reports_the_build_the_system_and_no_server_when_signed_out() {
        let info = about_info(&state());
        assert_eq!(info.version, "1.2.3");
        assert_eq!(info.commit, "abc123def456");
        assert_eq!(info.build_date, "2026-12-02");
        assert_eq!(info.os, os_name());
        assert_eq!(info.arch, std::env::consts::ARCH);
        assert!(info.server.is_none());
        assert!(info.recent_errors.is_empty());
        let d = &info.diagnostics;
        assert!(d.contains("JHE Desktop 1.2.3"), "{d}");
        assert!(d.contains("Commit: abc123def456"), "{d}");
        assert!(d.contains("Built: 2026-12-02"), "{d}");
        assert!(d.contains(&format!("System: {} {}", os_name(), std::env::consts::ARCH)));
        assert!(d.contains("Web view: 2.44.0"), "{d}");
        assert!(d.contains("Server: not signed in"), "{d}");
        assert!(d.contains("Recent error kinds (oldest first): none"), "{d}");
    }

    #[tokio::test]
    async fn names_the_servers_host_and_version_when_signed_in() -> Result<()> {
        let st = state();
        crate::session::start_demo_with(
            &st,
            jhe_sandbox::Config {
                patients: 2,
                days: 1,
                ..Default::default()
            },
        )
        .await?;
        let info = about_info(&st);
        let server = info.server.clone().ok_or(Error::NotSignedIn)?;
        assert_eq!(server.host, "127.0.0.1");
        assert!(server.demo);
        // The sandbox reports a version on /health, as JHE does.
        let want = st.online()?.server().version.clone();
        assert_eq!(server.version, want);
        let shown = want.as_deref().unwrap_or("not reported").to_string();
        assert!(info.diagnostics.contains(&format!(
            "Server: 127.0.0.1 (demo exchange), JHE version {shown}"
        )));
        // Only the host: no port, no path, no user.
        assert!(!info.diagnostics.contains("http"), "{}", info.diagnostics);
        assert!(!info.diagnostics.contains("Mary"), "{}", info.diagnostics);
        crate::session::sign_out(&st).await?;
        assert!(about_info(&st).server.is_none());
        Ok(())
    }

    #[test]
    fn says_not_reported_when_the_server_reports_no_version() {
        let mut info = about_info(&state());
        info.server = Some(ServerAbout {
            host: "jhe.example.org".into(),
            version: None,
            demo: false,
        });
        assert!(
            diagnostics_text(&info).contains("Server: jhe.example.org, JHE version not reported")
        );
    }

    #[tokio::test]
    async fn diagnostics_keep_the_kinds_of_failed_operations_but_nothing_they_said() {
        let st = state();
        // A failing operation whose message names a participant (a folder named after her).
        let dir = std::env::temp_dir().join("Jane Doe MRN-0042 export");
        let failed = st
            .noted(crate::offline::open_export(&st, &dir.to_string_lossy(), None).await)
            .err();
        let Some(failed) = failed else {
            panic!("opening a folder the user did not choose must fail");
        };
        assert!(failed.to_string().contains("Jane Doe"), "{failed}");
        let kind = failed.kind();
        let _ = st.noted::<()>(Err(Error::NotFound(
            "Participant Jane Doe (40006) was not found".into(),
        )));
        let _ = st.noted::<()>(Err(Error::cancelled()));
        let info = about_info(&st);
        assert_eq!(info.recent_errors, vec![kind, ErrorKind::NotFound]);
        let d = &info.diagnostics;
        assert!(
            d.contains(&format!(
                "Recent error kinds (oldest first): {}, not_found",
                kind.as_str()
            )),
            "{d}"
        );
        for phi in ["Jane", "Doe", "MRN", "0042", "40006"] {
            assert!(!d.contains(phi), "diagnostics contain {phi:?}: {d}");
        }
        assert!(!d.contains(&dir.to_string_lossy().to_string()), "{d}");
    }

    #[test]
    fn keeps_only_the_latest_error_kinds() {
        let st = state();
        for _ in 0..RECENT_ERRORS_MAX {
            let _ = st.noted::<()>(Err(Error::Io("x".into())));
        }
        let _ = st.noted::<()>(Err(Error::NotSignedIn));
        let kinds = about_info(&st).recent_errors;
        assert_eq!(kinds.len(), RECENT_ERRORS_MAX);
        assert_eq!(kinds.last(), Some(&ErrorKind::NotSignedIn));
    }

    /// Counts checks; answers "0.2.0 is out".
    struct Counting(AtomicU32);

    impl Updater for Counting {
        fn host(&self) -> Option<String> {
            Some("github.com".into())
        }
        fn check(&self) -> BoxFuture<'_, Result<Option<UpdateFound>>> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Box::pin(async {
                Ok(Some(UpdateFound {
                    version: "0.2.0".into(),
                    notes: None,
                }))
            })
        }
        fn install(&self) -> BoxFuture<'_, Result<()>> {
            Box::pin(async { Ok(()) })
        }
    }

    #[tokio::test]
    async fn checks_for_updates_only_after_the_user_said_yes_and_remembers_the_answer() -> Result<()>
    {
        let dir = tempfile::tempdir().map_err(|e| Error::Io(e.to_string()))?;
        let updater = Arc::new(Counting(AtomicU32::new(0)));
        let st = AppState::new(Arc::new(Headless), Some(dir.path().to_path_buf()))
            .with_updater(updater.clone());
        let s = update_settings(&st).await?;
        assert_eq!(s.host.as_deref(), Some("github.com"));
        assert_eq!(s.check_on_start, None, "not asked yet");
        assert_eq!(check_for_update(&st).await?, None);
        assert_eq!(
            updater.0.load(Ordering::SeqCst),
            0,
            "no check before the answer"
        );

        assert_eq!(
            set_update_check(&st, false).await?.check_on_start,
            Some(false)
        );
        assert_eq!(check_for_update(&st).await?, None);
        assert_eq!(updater.0.load(Ordering::SeqCst), 0, "no check after no");

        set_update_check(&st, true).await?;
        let found = check_for_update(&st).await?;
        assert_eq!(found.map(|f| f.version).as_deref(), Some("0.2.0"));
        assert_eq!(updater.0.load(Ordering::SeqCst), 1);

        // The next launch remembers the answer.
        let again = AppState::new(Arc::new(Headless), Some(dir.path().to_path_buf()));
        assert_eq!(update_settings(&again).await?.check_on_start, Some(true));
        // Without an update address nothing is checked, whatever the answer.
        assert_eq!(update_settings(&again).await?.host, None);
        assert_eq!(check_for_update(&again).await?, None);
        Ok(())
    }
}
