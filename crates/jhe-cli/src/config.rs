//! `config.json` in the user's config folder: the default server and per-server client ids.
//! It never holds secrets (those live in the OS keychain).

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Config {
    /// The server `jhe login` signed in to last.
    pub default_server: Option<String>,
    /// Browser sign-in client id per server (when not `jhe-desktop`).
    pub client_ids: BTreeMap<String, String>,
}

fn path() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("JHE_CONFIG_DIR") {
        return Some(PathBuf::from(dir).join("config.json"));
    }
    dirs::config_dir().map(|d| d.join("jhe").join("config.json"))
}

impl Config {
    pub fn load() -> Config {
        path()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default()
    }

    /// Best effort: a config that cannot be written only costs convenience.
    pub fn save(&self) {
        let Some(p) = path() else { return };
        if let Some(dir) = p.parent() {
            let _ = std::fs::create_dir_all(dir);
        }
        if let Ok(bytes) = serde_json::to_vec_pretty(self) {
            let tmp = p.with_extension("json.tmp");
            if std::fs::write(&tmp, bytes).is_ok() {
                let _ = std::fs::rename(&tmp, &p);
            }
        }
    }
}
