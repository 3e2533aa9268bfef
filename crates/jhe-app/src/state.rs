//! What the app remembers between operations: the signed-in session (or the files under offline
//! review), the demo exchange while it runs, running jobs, small caches, and the desktop's
//! dialogs ([`Picker`]).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jhe_engine::api::types::CodeableConcept;
use jhe_engine::api::Session as EngineSession;
use jhe_engine::auth::{MemoryStore, SecretStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use parking_lot::Mutex;

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
