//! Servers and signing in: recent servers, checking an address, sign-in with an API key or the
//! browser (the page opens through the [`Picker`](crate::picker::Picker)), continuing a sign-in
//! kept in the keychain ("Continue as …"), the built-in demo exchange, sign-out.

use jhe_engine::api::{Session as EngineSession, SessionOptions};
use jhe_engine::auth::BrowserOptions;
use jhe_engine::cancel::CancelToken;
use jhe_engine::server_check::{self, ServerUrl};

use crate::error::{Error, Result};
use crate::ipc::*;
use crate::state::{AppState, Source};

pub async fn recent_servers(state: &AppState) -> Result<Vec<RecentServer>> {
    Ok(state.recent_servers())
}

pub async fn check_server(url: &str) -> Result<ServerCheck> {
    let info = server_check::check_server(url).await?;
    Ok(ServerCheck {
        url: info.url.to_string(),
        version: info.version.clone(),
        loopback: info.url.is_loopback(),
        https: info.url.url().scheme() == "https",
    })
}

/// "Mary Richmond", or the e-mail address when the profile has no name.
fn display_name(s: &EngineSession) -> String {
    let p = s.profile();
    let name = format!(
        "{} {}",
        p.first_name.as_deref().unwrap_or_default().trim(),
        p.last_name.as_deref().unwrap_or_default().trim()
    );
    match name.trim() {
        "" => p.email.clone().unwrap_or_default(),
        n => n.to_string(),
    }
}

fn session_dto(s: &EngineSession, demo: bool, remembered: bool) -> Session {
    let p = s.profile();
    Session {
        server: s.server().url.to_string(),
        user: User {
            id: p.id,
            email: p.email.clone().unwrap_or_default(),
            first_name: p.first_name.clone().unwrap_or_default(),
            last_name: p.last_name.clone().unwrap_or_default(),
        },
        demo,
        remembered,
    }
}

fn start_online(state: &AppState, session: EngineSession, demo: bool, remembered: bool) -> Session {
    state.clear();
    let dto = session_dto(&session, demo, remembered);
    *state.source.lock() = Some(Source::Online { session, demo });
    dto
}

pub async fn sign_in(state: &AppState, url: &str, method: SignInMethod) -> Result<Session> {
    let cancel = CancelToken::new();
    if let Some(old) = state.sign_in.lock().replace(cancel.clone()) {
        old.cancel();
    }
    let result = async {
        let info = cancel.run(server_check::check_server(url)).await?;
        let opts = SessionOptions::default();
        let (session, kind) = match method {
            SignInMethod::ApiKey { api_key } => (
                cancel
                    .run(EngineSession::sign_in_with_api_key(&info, &api_key, opts))
                    .await?,
                SignInKind::ApiKey,
            ),
            SignInMethod::Browser { client_id } => {
                let mut b = BrowserOptions::default();
                if let Some(c) = client_id.filter(|c| !c.trim().is_empty()) {
                    b.client_id = c.trim().to_string();
                }
                let opener = state.picker.clone();
                let open = move |u: &str| {
                    if let Err(e) = opener.open_url(u) {
                        tracing::warn!("could not open the browser: {e}");
                    }
                };
                (
                    cancel
                        .run(EngineSession::sign_in_with_browser(&info, &b, opts, open))
                        .await?,
                    SignInKind::Browser,
                )
            }
        };
        Ok::<_, jhe_engine::error::Error>((session, kind))
    }
    .await;
    state.sign_in.lock().take();
    let (session, kind) = result?;
    // Keep the sign-in in the keychain; a missing keychain does not stop the sign-in (the
    // session says so, and the UI tells the user the key is needed again next time).
    let remembered = match session.remember(state.secrets.clone()).await {
        Ok(()) => true,
        Err(e) => {
            tracing::warn!("the sign-in is not saved in the keychain: {e}");
            false
        }
    };
    Ok(signed_in(state, session, kind, remembered).await)
}

/// A real (not demo) sign-in succeeded: the server goes first in the recent ones with who signed
/// in, the demo stops, and the session becomes the app's.
async fn signed_in(
    state: &AppState,
    session: EngineSession,
    kind: SignInKind,
    remembered: bool,
) -> Session {
    state.remember_server(
        &session.server().url.to_string(),
        kind,
        Some(display_name(&session)),
    );
    stop_demo(state).await;
    start_online(state, session, false, remembered)
}

/// The most recent server whose sign-in the keychain still holds (for "Continue as …"), if any.
/// A keychain that cannot be read is "nothing kept": the sign-in form is shown as usual.
pub async fn remembered_sign_in(state: &AppState) -> Result<Option<RememberedSignIn>> {
    for r in state.recent_servers() {
        let Ok(url) = ServerUrl::parse(&r.url) else {
            continue;
        };
        match state.secrets.get(&url.key()) {
            Ok(Some(_)) => {
                return Ok(Some(RememberedSignIn {
                    server: url.to_string(),
                    name: r.user.clone().unwrap_or_else(|| url.to_string()),
                    method: r.method,
                }))
            }
            Ok(None) => {}
            Err(e) => {
                tracing::warn!("the keychain could not be read: {e}");
                return Ok(None);
            }
        }
    }
    Ok(None)
}

/// Continues the sign-in kept in the keychain for `url` without asking for the key. A kept
/// sign-in the server no longer accepts is `sign_in_again` (the form is shown, the address kept).
pub async fn continue_sign_in(state: &AppState, url: &str) -> Result<Session> {
    let cancel = CancelToken::new();
    if let Some(old) = state.sign_in.lock().replace(cancel.clone()) {
        old.cancel();
    }
    let result = async {
        let info = cancel.run(server_check::check_server(url)).await?;
        cancel
            .run(EngineSession::resume(
                &info,
                state.secrets.clone(),
                SessionOptions::default(),
            ))
            .await
    }
    .await;
    state.sign_in.lock().take();
    let session = result?;
    let kind = state
        .recent_servers()
        .into_iter()
        .find(|r| {
            r.url
                .eq_ignore_ascii_case(&session.server().url.to_string())
        })
        .map_or(SignInKind::ApiKey, |r| r.method);
    Ok(signed_in(state, session, kind, true).await)
}

pub async fn cancel_sign_in(state: &AppState) -> Result<()> {
    if let Some(c) = state.sign_in.lock().take() {
        c.cancel();
    }
    Ok(())
}

pub(crate) async fn stop_demo(state: &AppState) {
    if let Some(sb) = state.sandbox.lock().await.take() {
        sb.stop().await;
    }
}

/// Starts the demo exchange in-process (a free port on 127.0.0.1, generated demo data) and
/// signs in as its main demo user with her API key.
pub async fn start_demo(state: &AppState) -> Result<Session> {
    start_demo_with(state, jhe_sandbox::Config::default()).await
}

/// [`start_demo`] with other demo data (tests: fewer participants or days).
pub async fn start_demo_with(state: &AppState, config: jhe_sandbox::Config) -> Result<Session> {
    stop_demo(state).await;
    crate::copies::clear_demo_copies(state);
    let sb = jhe_sandbox::Sandbox::start(config)
        .await
        .map_err(|e| Error::Internal(format!("the demo exchange did not start: {e}")))?;
    let info = sb.info();
    let key = info
        .api_key(jhe_sandbox::demo::MARY)
        .or_else(|| info.practitioners.first().map(|p| p.api_key.as_str()))
        .map(str::to_string)
        .ok_or_else(|| Error::Internal("the demo exchange has no users".into()))?;
    let server_info = server_check::check_server(sb.url()).await?;
    let session =
        EngineSession::sign_in_with_api_key(&server_info, &key, SessionOptions::default()).await?;
    *state.sandbox.lock().await = Some(sb);
    Ok(start_online(state, session, true, false))
}

pub async fn sign_out(state: &AppState) -> Result<()> {
    let src = state.source.lock().take();
    state.clear();
    if let Some(Source::Online { session, demo }) = src {
        // Revokes the sign-in and deletes only the app's own keychain entry (the CLI keeps its).
        let store = (!demo).then_some(state.secrets.as_ref());
        if let Err(e) = session.sign_out(store).await {
            tracing::warn!("sign-out: {e}");
        }
    }
    stop_demo(state).await;
    Ok(())
}
