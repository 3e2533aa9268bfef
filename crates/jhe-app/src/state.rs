//! What the app remembers between operations: the signed-in session (or the files under offline
//! review), the demo exchange while it runs, running jobs, small caches, and the desktop's
//! dialogs ([`Picker`]).

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jhe_engine::api::types::CodeableConcept;
use jhe_engine::api::Session as EngineSession;
use jhe_engine::audit::AuditLog;
use jhe_engine::auth::{MemoryStore, SecretStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::error::ErrorKind;
use parking_lot::Mutex;

use crate::about::{BuildInfo, NoUpdater, Updater, RECENT_ERRORS_MAX};
use crate::error::{Error, Result};
use crate::ipc::{DateRange, PatientRow, RecentServer, SignInKind};
use crate::offline::OfflineData;
use crate::picker::{Headless, Picker};

/// Where the data comes from.
#[derive(Clone)]
pub enum Source {
    Online { session: EngineSession, demo: bool },
    Offline(Arc<OfflineData>),
}

/// The last participant view: its observations per type code, for paging through readings.
#[derive(Clone)]
pub struct PatientCache {
    pub patient_id: u64,
    pub range: DateRange,
    pub obs: HashMap<String, Arc<Vec<Obs>>>,
}

pub struct AppState {
    pub source: Mutex<Option<Source>>,
    /// The in-process demo exchange, while demo mode is on.
    pub sandbox: tokio::sync::Mutex<Option<jhe_sandbox::Sandbox>>,
    /// The pending browser sign-in.
    pub sign_in: Mutex<Option<CancelToken>>,
    /// Running exports by the UI's job id.
    pub jobs: Mutex<HashMap<String, CancelToken>>,
    /// Per study: the types it requests and its participant rows (from the last overview).
    pub scopes: Mutex<HashMap<u64, Vec<CodeableConcept>>>,
    pub rows: Mutex<HashMap<u64, Vec<PatientRow>>>,
    pub patient: Mutex<Option<PatientCache>>,
    /// Where recent servers are kept (no secrets: address, method, time).
    pub config_dir: Mutex<Option<PathBuf>>,
    /// Native dialogs and openers (or a test double), chosen at start-up.
    pub picker: Arc<dyn Picker>,
    /// The paths the webview may name (see [`Grants`]).
    pub grants: Mutex<Grants>,
    /// Where sign-ins are kept between launches: the OS keychain's desktop-app entries in the app
    /// (see `src-tauri`), memory in tests.
    pub secrets: Arc<dyn SecretStore>,
    /// Version, commit, build date, web view (the About dialog).
    pub build: BuildInfo,
    /// The kinds of the latest failed operations, oldest first (see [`AppState::noted`]).
    pub recent_errors: Mutex<VecDeque<ErrorKind>>,
    /// Check for new versions at start: the user's answer (`None`: not asked yet), kept in
    /// `settings.json` in the config folder.
    pub update_check: Mutex<Option<bool>>,
    /// Where new versions come from ([`NoUpdater`] unless the app sets one).
    pub updater: Arc<dyn Updater>,
    /// Where the local study copies are (`None`: the OS's data folder, see
    /// `jhe_engine::copy::data_dir`).
    pub data_dir: Mutex<Option<PathBuf>>,
    /// One sync at a time per server and study.
    copy_locks: Mutex<HashMap<(String, u64), CopyLock>>,
    /// Minutes between background checks for new data (0: off), kept in `settings.json`.
    pub sync_every: Mutex<u32>,
    /// Per study: what the background checks found since the study was last opened (the
    /// study list's badges).
    pub news: Mutex<std::collections::BTreeMap<u64, crate::ipc::StudyNews>>,
    /// Counts sign-ins, sign-outs and offline opens: the background check runs at once after
    /// each change of session.
    pub epoch: std::sync::atomic::AtomicU64,
    /// The audit log every data operation is recorded in (see [`crate::audit`]): the one in the
    /// data folder (`JHE_DATA_DIR` overrides it) for an app with a config folder; none for a
    /// state that keeps nothing on disk ([`AppState::default`], tests) unless
    /// [`AppState::with_audit`] gives one.
    pub audit: Option<AuditLog>,
}

/// Held while a study's copy is synced.
type CopyLock = Arc<tokio::sync::Mutex<()>>;

/// Background checks for new data, by default every 15 minutes.
pub const SYNC_EVERY_DEFAULT: u32 = 15;

/// `settings.json` in the config folder (no secrets).
#[derive(Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    check_for_updates: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sync_every_minutes: Option<u32>,
}

/// The paths the user chose in a native dialog, and the folders exports were written to: the
/// only paths (or paths inside them) the webview may name for `export_data`, `show_in_folder`
/// and `open_export`. A compromised or buggy webview therefore cannot make the app write,
/// reveal or read anywhere else.
#[derive(Debug, Default)]
pub struct Grants {
    paths: Vec<PathBuf>,
}

/// Paths kept (the oldest are forgotten first).
const GRANTS_MAX: usize = 64;

impl Grants {
    pub fn grant(&mut self, path: &Path) {
        if self.paths.iter().any(|p| p == path) {
            return;
        }
        if self.paths.len() == GRANTS_MAX {
            self.paths.remove(0);
        }
        self.paths.push(path.to_path_buf());
    }

    /// Whether `path` is a granted path or lies inside one (no `..`; links followed where the
    /// path exists).
    pub fn allows(&self, path: &Path) -> bool {
        if !path.is_absolute()
            || path
                .components()
                .any(|c| matches!(c, std::path::Component::ParentDir))
        {
            return false;
        }
        let real = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
        let (lexical, resolved) = (path, real(path));
        self.paths
            .iter()
            .any(|g| lexical.starts_with(g) && (resolved.starts_with(real(g)) || !path.exists()))
    }
}

impl Default for AppState {
    /// No desktop around it ([`Headless`]), no recent servers kept.
    fn default() -> Self {
        AppState::new(Arc::new(Headless), None)
    }
}

impl AppState {
    pub fn new(picker: Arc<dyn Picker>, config_dir: Option<PathBuf>) -> AppState {
        let settings = config_dir
            .as_ref()
            .and_then(|d| std::fs::read(d.join("settings.json")).ok())
            .and_then(|b| serde_json::from_slice::<Settings>(&b).ok())
            .unwrap_or_default();
        let audit = config_dir
            .is_some()
            .then(AuditLog::default_path)
            .flatten()
            .map(AuditLog::at);
        AppState {
            source: Mutex::default(),
            sandbox: tokio::sync::Mutex::default(),
            sign_in: Mutex::default(),
            jobs: Mutex::default(),
            scopes: Mutex::default(),
            rows: Mutex::default(),
            patient: Mutex::default(),
            config_dir: Mutex::new(config_dir),
            picker,
            grants: Mutex::default(),
            secrets: Arc::new(MemoryStore::new()),
            build: BuildInfo::default(),
            recent_errors: Mutex::default(),
            update_check: Mutex::new(settings.check_for_updates),
            updater: Arc::new(NoUpdater),
            data_dir: Mutex::default(),
            copy_locks: Mutex::default(),
            news: Mutex::default(),
            epoch: std::sync::atomic::AtomicU64::new(0),
            sync_every: Mutex::new(settings.sync_every_minutes.unwrap_or(SYNC_EVERY_DEFAULT)),
            audit,
        }
    }

    /// Keeps the local study copies in `dir` (tests; the app uses the OS's data folder).
    pub fn with_data_dir(self, dir: PathBuf) -> AppState {
        *self.data_dir.lock() = Some(dir);
        self
    }

    /// Where the local study copies are.
    pub fn data_dir(&self) -> Option<PathBuf> {
        self.data_dir
            .lock()
            .clone()
            .or_else(jhe_engine::copy::data_dir)
    }

    /// The lock that keeps syncs of one study's copy one at a time.
    pub fn copy_lock(&self, server: &str, study_id: u64) -> CopyLock {
        self.copy_locks
            .lock()
            .entry((server.to_string(), study_id))
            .or_default()
            .clone()
    }

    /// Records the app's operations in `log` (`None`: keeps no audit log).
    pub fn with_audit(mut self, log: Option<AuditLog>) -> AppState {
        self.audit = log;
        self
    }

    /// What the build knows about itself (the app passes its commit, date and web view).
    pub fn with_build(mut self, build: BuildInfo) -> AppState {
        self.build = build;
        self
    }

    /// Checks for new versions with `updater` (only once the user opted in).
    pub fn with_updater(mut self, updater: Arc<dyn Updater>) -> AppState {
        self.updater = updater;
        self
    }

    /// Passes `result` through, remembering the kind of an error (not its message: messages
    /// can name participants and folders) for the diagnostics. Cancelling is not a failure.
    pub fn noted<T>(&self, result: Result<T>) -> Result<T> {
        if let Err(e) = &result {
            let kind = e.kind();
            if kind != ErrorKind::Cancelled {
                let mut kinds = self.recent_errors.lock();
                if kinds.len() == RECENT_ERRORS_MAX {
                    kinds.pop_front();
                }
                kinds.push_back(kind);
            }
        }
        result
    }

    /// Remembers whether to check for new versions at start (in `settings.json` when there is a
    /// config folder, else for this run only).
    pub fn set_update_check(&self, on: bool) {
        *self.update_check.lock() = Some(on);
        self.save_settings();
    }

    /// Minutes between background checks for new data (0: off), remembered like the update
    /// check. At most a day.
    pub fn set_sync_every(&self, minutes: u32) {
        *self.sync_every.lock() = minutes.min(24 * 60);
        self.save_settings();
    }

    fn save_settings(&self) {
        let Some(dir) = self.config_dir.lock().clone() else {
            return;
        };
        let p = dir.join("settings.json");
        let settings = Settings {
            check_for_updates: *self.update_check.lock(),
            sync_every_minutes: Some(*self.sync_every.lock()),
        };
        let _ = std::fs::create_dir_all(&dir);
        let tmp = p.with_extension("json.tmp");
        let saved = serde_json::to_vec_pretty(&settings)
            .map_err(|e| e.to_string())
            .and_then(|b| std::fs::write(&tmp, b).map_err(|e| e.to_string()))
            .and_then(|_| std::fs::rename(&tmp, &p).map_err(|e| e.to_string()));
        if let Err(e) = saved {
            tracing::warn!("could not save the settings in {}: {e}", p.display());
        }
    }

    /// Keeps sign-ins in `secrets` (the app passes the OS keychain).
    pub fn with_secrets(mut self, secrets: Arc<dyn SecretStore>) -> AppState {
        self.secrets = secrets;
        self
    }

    /// [`Error::InvalidInput`] unless the webview may name `path` (see [`Grants`]).
    pub fn check_granted(&self, path: &Path) -> Result<()> {
        if self.grants.lock().allows(path) {
            return Ok(());
        }
        Err(Error::InvalidInput(format!(
            "JHE Desktop only saves to and opens folders you chose yourself, and {} is not one of them. Use \"Choose folder…\" (or \"Open an exported file or folder…\") to choose it.",
            path.display()
        )))
    }

    pub fn online(&self) -> Result<EngineSession> {
        match &*self.source.lock() {
            Some(Source::Online { session, .. }) => Ok(session.clone()),
            _ => Err(Error::NotSignedIn),
        }
    }

    pub fn source(&self) -> Result<Source> {
        self.source.lock().clone().ok_or(Error::NotSignedIn)
    }

    /// Forgets the session, the files and every cache.
    pub fn clear(&self) {
        self.epoch
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        self.news.lock().clear();
        *self.source.lock() = None;
        self.scopes.lock().clear();
        self.rows.lock().clear();
        *self.patient.lock() = None;
        for (_, c) in self.jobs.lock().drain() {
            c.cancel();
        }
    }

    fn recent_path(&self) -> Option<PathBuf> {
        self.config_dir
            .lock()
            .as_ref()
            .map(|d| d.join("recent_servers.json"))
    }

    pub fn recent_servers(&self) -> Vec<RecentServer> {
        let Some(p) = self.recent_path() else {
            return Vec::new();
        };
        std::fs::read(&p)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Puts `url` first in the recent servers (at most 8 kept), with who signed in there.
    pub fn remember_server(&self, url: &str, method: SignInKind, user: Option<String>) {
        let Some(p) = self.recent_path() else {
            return;
        };
        let mut list = self.recent_servers();
        list.retain(|r| !r.url.eq_ignore_ascii_case(url));
        list.insert(
            0,
            RecentServer {
                url: url.to_string(),
                last_used: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                method,
                user,
            },
        );
        list.truncate(8);
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        match serde_json::to_vec_pretty(&list) {
            Ok(bytes) => {
                let tmp = p.with_extension("json.tmp");
                if std::fs::write(&tmp, bytes)
                    .and_then(|_| std::fs::rename(&tmp, &p))
                    .is_err()
                {
                    tracing::warn!("could not save the recent servers in {}", p.display());
                }
            }
            Err(e) => tracing::warn!("recent servers: {e}"),
        }
    }
}
