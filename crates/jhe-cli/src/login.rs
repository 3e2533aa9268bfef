//! `jhe login` and `jhe logout`: sign in with an API key (typed, piped or from `JHE_API_KEY`) or in
//! the browser, keep the sign-in in the OS keychain, and sign out again.

use std::io::{BufRead, IsTerminal};
use std::sync::Arc;
use std::time::Duration;

use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::auth::{
    BrowserOptions, KeychainOwner, KeyringStore, SecretStore, DEFAULT_CLIENT_ID,
};
use jhe_engine::error::Error;
use jhe_engine::server_check;
use serde_json::json;

use crate::config::Config;
use crate::{api_key_from_env, output, Ctx, Failure, LoginArgs};

pub async fn login(ctx: &Ctx, a: LoginArgs) -> Result<(), Failure> {
    let input = ctx.server_input()?;
    let info = server_check::check_server(&input).await?;
    let session = if a.browser {
        let key = info.url.key();
        let client_id = a
            .client_id
            .clone()
            .or_else(|| ctx.config.client_ids.get(&key).cloned())
            .unwrap_or_else(|| DEFAULT_CLIENT_ID.to_string());
        let opts = BrowserOptions {
            client_id,
            timeout: Duration::from_secs(a.timeout),
            ..Default::default()
        };
        let quiet = ctx.quiet;
        Session::sign_in_with_browser(&info, &opts, SessionOptions::default(), |url| {
            if !quiet {
                eprintln!(
                    "Opening your browser to sign in. If it does not open, visit:\n\n  {url}\n"
                );
            }
            open_in_browser(url);
        })
        .await?
    } else {
        let key = read_api_key(a.api_key_stdin)?;
        Session::sign_in_with_api_key(&info, &key, SessionOptions::default()).await?
    };
    let store: Arc<dyn SecretStore> = Arc::new(KeyringStore::of(KeychainOwner::Cli));
    session.remember(store).await?;
    let mut cfg = Config::load();
    cfg.default_server = Some(info.url.to_string());
    if let Some(id) = a.client_id.filter(|id| id != DEFAULT_CLIENT_ID) {
        cfg.client_ids.insert(info.url.key(), id);
    }
    cfg.save();
    if ctx.json {
        output::print_json(&json!({"server": info.url, "profile": session.profile()}));
    } else {
        println!(
            "Signed in to {} as {}. The sign-in is saved in your system keychain.",
            info.url,
            session.profile().display_name()
        );
    }
    Ok(())
}

fn read_api_key(from_stdin: bool) -> Result<String, Error> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).map_err(|e| {
            Error::InvalidInput(format!(
                "Could not read the API key from standard input: {e}"
            ))
        })?;
        return Ok(line.trim().to_string());
    }
    if let Some(k) = api_key_from_env() {
        return Ok(k);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::InvalidInput(
            "No terminal to ask for the API key. Pipe it in with --api-key-stdin, or use --browser.".into(),
        ));
    }
    eprintln!("Paste your practitioner API key (JHE web portal → Profile → API Key).");
    rpassword::prompt_password("API key (hidden): ")
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::InvalidInput(format!("Could not read the API key: {e}")))
}

/// Opens `url` in the default browser, without a shell on any platform (the URL is printed
/// too, for when no browser opens).
fn open_in_browser(url: &str) {
    if url.starts_with("https://") || url.starts_with("http://") {
        let _ = open::that_detached(url);
    }
}

pub async fn logout(ctx: &Ctx) -> Result<(), Failure> {
    let info = ctx.server().await?;
    let store = KeyringStore::of(KeychainOwner::Cli);
    let shared: Arc<dyn SecretStore> = Arc::new(store.clone());
    match Session::resume(&info, shared, SessionOptions::default()).await {
        Ok(s) => {
            if let Err(e) = s.sign_out(Some(&store)).await {
                ctx.note(&format!(
                    "note: the sign-in was deleted from the keychain, but revoking it on the server failed: {e}"
                ));
            }
        }
        Err(Error::NotSignedIn { .. }) => {
            ctx.note(&format!("You were not signed in to {}.", info.url));
            return Ok(());
        }
        // The saved sign-in no longer works: nothing to revoke, just forget it.
        Err(_) => store.delete(&info.url.key())?,
    }
    let mut cfg = Config::load();
    if cfg.default_server.as_deref() == Some(info.url.as_str()) {
        cfg.default_server = None;
        cfg.save();
    }
    if ctx.json {
        output::print_json(&json!({"signed_out": info.url}));
    } else {
        println!("Signed out of {}.", info.url);
        if api_key_from_env().is_none() {
            println!("If you signed in with an API key, the key itself still works: delete it in the JHE web portal (Profile → API Key) if it may have leaked.");
        }
    }
    Ok(())
}
