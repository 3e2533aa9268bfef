//! What the app remembers between operations: the signed-in session (or the files under offline
//! review), the demo exchange while it runs, running jobs, small caches, and the desktop's
//! dialogs ([`Picker`]).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use jhe_engine::api::types::CodeableConcept;
use jhe_engine::api::Session as EngineSession;
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
        }
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

    /// Puts `url` first in the recent servers (at most 8 kept).
    pub fn remember_server(&self, url: &str, method: SignInKind) {
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
