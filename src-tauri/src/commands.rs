//! The Tauri commands: a thin layer that maps IPC payloads to jhe-engine calls and back. Every
//! network call happens here in Rust (the webview has no network access); long work is async
//! and streams progress through a `Channel`.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use futures_util::{stream, StreamExt, TryStreamExt};
use jhe_engine::api::types as em;
use jhe_engine::api::{ObservationQuery, Session as EngineSession, SessionOptions};
use jhe_engine::auth::{BrowserOptions, KeyringStore};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::fetch::fetch_observations_map;
use jhe_engine::jobs::{self, Phase, Progress};
use jhe_engine::omh;
use jhe_engine::server_check;
use tauri::ipc::Channel;
use tauri::{AppHandle, State};
use tauri_plugin_dialog::DialogExt;
use tauri_plugin_opener::OpenerExt;

use crate::error::{Error, Result};
use crate::models::*;
use crate::offline;
use crate::state::{AppState, PatientCache, Source};
use crate::views;

/// Env: a folder under which `pick_folder` hands out `1/`, `2/`, … instead of showing the
/// native picker, and from which `pick_export_to_open` returns the latest one (tests).
pub const TEST_EXPORT_DIR_ENV: &str = "JHE_TEST_EXPORT_DIR";
/// Env: what `pick_export_to_open` returns instead of showing the native picker (tests).
pub const TEST_OPEN_PATH_ENV: &str = "JHE_TEST_OPEN_PATH";

fn env_path(name: &str) -> Option<PathBuf> {
    std::env::var_os(name)
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
}

// ----- servers and signing in -------------------------------------------------------------------

#[tauri::command]
pub async fn recent_servers(state: State<'_, AppState>) -> Result<Vec<RecentServer>> {
    Ok(state.recent_servers())
}

#[tauri::command]
pub async fn check_server(url: String) -> Result<ServerCheck> {
    let info = server_check::check_server(&url).await?;
    Ok(ServerCheck {
        url: info.url.to_string(),
        version: info.version.clone(),
        loopback: info.url.is_loopback(),
        https: info.url.url().scheme() == "https",
    })
}

fn session_dto(s: &EngineSession, demo: bool) -> Session {
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
    }
}

fn start_online(state: &AppState, session: EngineSession, demo: bool) -> Session {
    state.clear();
    let dto = session_dto(&session, demo);
    *state.source.lock() = Some(Source::Online { session, demo });
    dto
}

#[tauri::command]
pub async fn sign_in(
    app: AppHandle,
    state: State<'_, AppState>,
    url: String,
    method: SignInMethod,
) -> Result<Session> {
    let cancel = CancelToken::new();
    if let Some(old) = state.sign_in.lock().replace(cancel.clone()) {
        old.cancel();
    }
    let result = async {
        let info = cancel.run(server_check::check_server(&url)).await?;
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
                let opener = app.clone();
                let open = move |u: &str| {
                    if let Err(e) = opener.opener().open_url(u, None::<&str>) {
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
    // Keep the sign-in in the OS keychain; a missing keychain does not stop the sign-in.
    if let Err(e) = session.remember(Arc::new(KeyringStore::default())).await {
        tracing::warn!("the sign-in is not saved in the keychain: {e}");
    }
    state.remember_server(&session.server().url.to_string(), kind);
    stop_demo(&state).await;
    Ok(start_online(&state, session, false))
}

#[tauri::command]
pub async fn cancel_sign_in(state: State<'_, AppState>) -> Result<()> {
    if let Some(c) = state.sign_in.lock().take() {
        c.cancel();
    }
    Ok(())
}

async fn stop_demo(state: &AppState) {
    if let Some(sb) = state.sandbox.lock().await.take() {
        sb.stop().await;
    }
}

/// Starts the demo exchange in-process (a free port on 127.0.0.1, generated demo data) and
/// signs in as its main demo user with her API key.
pub async fn start_demo_session(state: &AppState) -> Result<Session> {
    stop_demo(state).await;
    let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config::default())
        .await
        .map_err(|e| Error::Internal(format!("the demo exchange did not start: {e}")))?;
    let info = sb.info();
    let key = info
        .practitioners
        .iter()
        .find(|p| p.email == "manager_mary@example.com")
        .or_else(|| info.practitioners.first())
        .map(|p| p.api_key.clone())
        .ok_or_else(|| Error::Internal("the demo exchange has no users".into()))?;
    let server_info = server_check::check_server(sb.url()).await?;
    let session =
        EngineSession::sign_in_with_api_key(&server_info, &key, SessionOptions::default()).await?;
    *state.sandbox.lock().await = Some(sb);
    Ok(start_online(state, session, true))
}

#[tauri::command]
pub async fn start_demo(state: State<'_, AppState>) -> Result<Session> {
    start_demo_session(&state).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> Result<()> {
    let src = state.source.lock().take();
    state.clear();
    if let Some(Source::Online { session, demo }) = src {
        let store = KeyringStore::default();
        let store: Option<&dyn jhe_engine::auth::SecretStore> =
            if demo { None } else { Some(&store) };
        if let Err(e) = session.sign_out(store).await {
            tracing::warn!("sign-out: {e}");
        }
    }
    stop_demo(&state).await;
    Ok(())
}

// ----- browsing ---------------------------------------------------------------------------------

fn role(r: Option<&str>) -> Option<Role> {
    match r? {
        "manager" | "super_user" => Some(Role::Manager),
        "member" => Some(Role::Member),
        "viewer" => Some(Role::Viewer),
        _ => None,
    }
}

#[tauri::command]
pub async fn list_organizations(state: State<'_, AppState>) -> Result<Vec<Organization>> {
    let s = state.online()?;
    Ok(s.organizations()
        .await?
        .into_iter()
        .map(|o| Organization {
            id: o.id,
            name: o.name,
            kind: o.kind.unwrap_or_default(),
            role: role(o.current_user_role.as_deref()),
        })
        .collect())
}

#[tauri::command]
pub async fn list_studies(state: State<'_, AppState>) -> Result<Vec<Study>> {
    let s = state.online()?;
    let orgs: HashMap<u64, String> = s
        .organizations()
        .await?
        .into_iter()
        .map(|o| (o.id, o.name))
        .collect();
    let studies = s.studies(None).await?;
    let ids: Vec<u64> = studies.iter().map(|st| st.id).collect();
    let counts: Vec<u64> = stream::iter(ids.into_iter().map(|id| {
        let s = s.clone();
        async move {
            match s.study_patients(id).await {
                Ok(p) => Ok(p.len() as u64),
                Err(jhe_engine::error::Error::Forbidden { .. }) => Ok(0),
                Err(e) => Err(e),
            }
        }
    }))
    .buffered(4)
    .try_collect::<Vec<u64>>()
    .await?;
    Ok(studies
        .into_iter()
        .zip(counts)
        .map(|(st, n)| Study {
            id: st.id,
            organization_name: st
                .organization
                .name
                .clone()
                .or_else(|| orgs.get(&st.organization.id).cloned())
                .unwrap_or_default(),
            organization_id: st.organization.id,
            name: st.name,
            description: st.description.unwrap_or_default(),
            patient_count: n,
        })
        .collect())
}

fn study_dto(st: &em::Study, patient_count: u64) -> Study {
    Study {
        id: st.id,
        name: st.name.clone(),
        description: st.description.clone().unwrap_or_default(),
        organization_id: st.organization.id,
        organization_name: st.organization.name.clone().unwrap_or_default(),
        patient_count,
    }
}

fn patient_row(p: &em::Patient) -> PatientRow {
    let identifiers: Vec<Identifier> = p
        .identifiers
        .iter()
        .map(|i| Identifier {
            system: i.system.clone().unwrap_or_default(),
            value: i.value.clone().unwrap_or_default(),
        })
        .collect();
    let mrn = identifiers
        .iter()
        .find(|i| i.system.to_ascii_lowercase().contains("mrn"))
        .or_else(|| identifiers.first())
        .map(|i| i.value.clone())
        .filter(|v| !v.is_empty());
    PatientRow {
        id: p.id,
        name_given: p.name_given.clone().unwrap_or_default(),
        name_family: p.name_family.clone().unwrap_or_default(),
        identifiers,
        mrn,
        consent: BTreeMap::new(),
        counts: BTreeMap::new(),
        first_date: None,
        last_date: None,
        days_since_last_upload: None,
    }
}

#[tauri::command]
pub async fn get_study_overview(
    state: State<'_, AppState>,
    study_id: u64,
    on_event: Channel<OverviewProgress>,
) -> Result<StudyOverview> {
    match state.source()? {
        Source::Offline(data) => {
            let _ = on_event.send(OverviewProgress {
                done: data.overview.patients.len() as u64,
                total: data.overview.patients.len() as u64,
            });
            Ok(data.overview.clone())
        }
        Source::Online { session, .. } => {
            let progress = move |p: Progress| {
                let _ = on_event.send(OverviewProgress {
                    done: p.units_done as u64,
                    total: p.units_total as u64,
                });
            };
            let sum =
                jobs::study_summary(&session, study_id, 4, progress, CancelToken::new()).await?;
            let patients: Vec<PatientRow> = sum
                .patients
                .iter()
                .map(|ps| {
                    let mut row = patient_row(&ps.patient);
                    row.consent = ps
                        .consents
                        .iter()
                        .filter_map(|(code, c)| {
                            let c = match c {
                                em::ConsentState::Consented => ConsentState::Consented,
                                em::ConsentState::Declined => ConsentState::Declined,
                                em::ConsentState::Pending => ConsentState::Pending,
                                em::ConsentState::Unknown => return None,
                            };
                            Some((code.clone(), c))
                        })
                        .collect();
                    row.counts = ps.counts.clone();
                    row.first_date = ps.first_date.clone();
                    row.last_date = ps.last_date.clone();
                    row.days_since_last_upload = ps.days_since_last_upload.map(|d| d.max(0));
                    row
                })
                .collect();
            let overview = StudyOverview {
                study: study_dto(&sum.study, patients.len() as u64),
                types: sum
                    .scopes
                    .iter()
                    .map(|s| views::scope_type(&s.coding_code))
                    .collect(),
                patients: patients.clone(),
            };
            state.scopes.lock().insert(study_id, sum.scopes);
            state.rows.lock().insert(study_id, patients);
            Ok(overview)
        }
    }
}

async fn study_scopes(
    state: &AppState,
    s: &EngineSession,
    study_id: u64,
) -> Result<Vec<em::CodeableConcept>> {
    if let Some(c) = state.scopes.lock().get(&study_id) {
        return Ok(c.clone());
    }
    let c = s.study_scopes(study_id).await?;
    state.scopes.lock().insert(study_id, c.clone());
    Ok(c)
}

async fn patient_row_of(
    state: &AppState,
    s: &EngineSession,
    study_id: u64,
    patient_id: u64,
) -> Result<PatientRow> {
    if let Some(r) = state
        .rows
        .lock()
        .get(&study_id)
        .and_then(|rows| rows.iter().find(|r| r.id == patient_id).cloned())
    {
        return Ok(r);
    }
    s.study_patients(study_id)
        .await?
        .iter()
        .find(|p| p.id == patient_id)
        .map(patient_row)
        .ok_or_else(|| {
            Error::NotFound(format!(
                "Participant {patient_id} is not in study {study_id} (or your account cannot see them)."
            ))
        })
}

/// Every observation of one participant and type in the range, decoded (malformed ones are
/// skipped: they are reported by an export's problems.csv).
async fn fetch_obs(s: &EngineSession, q: ObservationQuery) -> Result<Vec<Obs>> {
    // Decoded page by page as they arrive (no base64 text kept until the last page).
    let f = fetch_observations_map(s, &q, &CancelToken::new(), &|_| {}, &|raw| {
        omh::decode_owned(raw).ok().map(|d| Obs::from_decoded(&d))
    })
    .await?;
    Ok(f.observations.into_iter().flatten().collect())
}

#[tauri::command]
pub async fn get_patient_data(
    state: State<'_, AppState>,
    study_id: u64,
    patient_id: u64,
    range: DateRange,
) -> Result<PatientData> {
    let (from, to) = views::parse_range(&range)?;
    let (patient, by_code): (PatientRow, Vec<(String, Vec<Obs>)>) = match state.source()? {
        Source::Offline(data) => {
            let row = data
                .overview
                .patients
                .iter()
                .find(|r| r.id == patient_id)
                .cloned()
                .ok_or_else(|| {
                    Error::NotFound(format!("Participant {patient_id} is not in these files."))
                })?;
            let list = data
                .overview
                .types
                .iter()
                .map(|t| {
                    (
                        t.code.clone(),
                        views::filter_range(data.of(patient_id, &t.code), from, to),
                    )
                })
                .collect();
            (row, list)
        }
        Source::Online { session, .. } => {
            let scopes = study_scopes(&state, &session, study_id).await?;
            let row = patient_row_of(&state, &session, study_id, patient_id).await?;
            let s = &session;
            let list: Vec<(String, Vec<Obs>)> =
                stream::iter(scopes.into_iter().map(|sc| async move {
                    let q = ObservationQuery {
                        study_id: Some(study_id),
                        patient_id: Some(patient_id),
                        code: Some((sc.coding_system.clone(), sc.coding_code.clone())),
                        date_from: from,
                        date_to: to,
                    };
                    fetch_obs(s, q).await.map(|o| (sc.coding_code, o))
                }))
                .buffered(4)
                .try_collect()
                .await?;
            (row, list)
        }
    };
    let cache_obs: HashMap<String, Arc<Vec<Obs>>> = by_code
        .iter()
        .map(|(c, o)| (c.clone(), Arc::new(o.clone())))
        .collect();
    *state.patient.lock() = Some(PatientCache {
        patient_id,
        range: range.clone(),
        obs: cache_obs,
    });
    let types = tokio::task::spawn_blocking(move || {
        by_code
            .iter()
            .map(|(code, obs)| views::type_series(code, obs, from, to))
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(PatientData {
        patient,
        range,
        types,
    })
}

#[tauri::command]
pub async fn get_rows(
    state: State<'_, AppState>,
    patient_id: u64,
    code: String,
    offset: u64,
    limit: u64,
    range: DateRange,
) -> Result<RowsPage> {
    let (from, to) = views::parse_range(&range)?;
    let cached = state.patient.lock().as_ref().and_then(|c| {
        (c.patient_id == patient_id && c.range == range)
            .then(|| c.obs.get(&code).cloned())
            .flatten()
    });
    let obs: Arc<Vec<Obs>> = match cached {
        Some(o) => o,
        None => match state.source()? {
            Source::Offline(data) => {
                Arc::new(views::filter_range(data.of(patient_id, &code), from, to))
            }
            Source::Online { session, .. } => {
                let q = ObservationQuery {
                    study_id: None,
                    patient_id: Some(patient_id),
                    code: Some((omh::OMH_SYSTEM.to_string(), code.clone())),
                    date_from: from,
                    date_to: to,
                };
                Arc::new(fetch_obs(&session, q).await?)
            }
        },
    };
    Ok(views::rows_page(&code, &obs, offset, limit))
}

// ----- export -----------------------------------------------------------------------------------

fn export_progress(p: &Progress) -> ExportProgress {
    let phase = match p.phase {
        Phase::Planning | Phase::Counting | Phase::Summarizing => ExportPhase::Counting,
        Phase::Fetching => ExportPhase::Fetching,
        Phase::Finishing => ExportPhase::Writing,
        Phase::Done => ExportPhase::Done,
    };
    ExportProgress {
        phase,
        fetched: p.fetched,
        expected: p.expected,
        current_patient: None,
        message: (p.retries > 0).then(|| {
            format!(
                "The connection is unsteady: retried {} request(s) so far. Nothing is lost.",
                p.retries
            )
        }),
    }
}

/// The engine's export request for the UI's.
pub fn engine_request(r: &ExportRequest) -> Result<jobs::ExportRequest> {
    let (from, to) = views::parse_range(&DateRange {
        from: r.from.clone(),
        to: r.to.clone(),
    })?;
    if r.out_dir.trim().is_empty() {
        return Err(Error::InvalidInput("Choose a folder to export to.".into()));
    }
    let (study_id, patients) = match r.scope {
        ExportScope::Patient {
            patient_id,
            study_id,
        } => (study_id, Some(vec![patient_id])),
        ExportScope::Study { study_id } => (study_id, None),
    };
    let mut req = jobs::ExportRequest::new(study_id, PathBuf::from(r.out_dir.trim()));
    req.patient_ids = patients;
    req.codes = (!r.types.is_empty()).then(|| r.types.clone());
    req.date_from = from;
    req.date_to = to;
    req.format = match r.format {
        ExportFormat::Csv => jhe_engine::export::Format::Csv,
        ExportFormat::Parquet => jhe_engine::export::Format::Parquet,
    };
    req.layout = match r.layout {
        ExportLayout::PerType => jhe_engine::export::Layout::PerType,
        ExportLayout::Long => jhe_engine::export::Layout::Long,
    };
    Ok(req)
}

#[tauri::command]
pub async fn export_data(
    state: State<'_, AppState>,
    job_id: String,
    request: ExportRequest,
    on_event: Channel<ExportProgress>,
) -> Result<ExportResult> {
    let session = state.online()?;
    let req = engine_request(&request)?;
    let cancel = CancelToken::new();
    state.jobs.lock().insert(job_id.clone(), cancel.clone());
    let progress = move |p: Progress| {
        let _ = on_event.send(export_progress(&p));
    };
    // The engine's job future is not `Send` as the compiler sees it (higher-ranked closure
    // lifetimes), so it runs on a blocking-pool thread that drives it on the app's runtime.
    let handle = tokio::runtime::Handle::current();
    let outcome = tokio::task::spawn_blocking(move || {
        handle.block_on(jobs::export_study(&session, req, progress, cancel))
    })
    .await?;
    state.jobs.lock().remove(&job_id);
    let o = outcome?;
    Ok(ExportResult {
        out_dir: o.out_dir.display().to_string(),
        files: o
            .manifest
            .files
            .iter()
            .map(|f| ExportedFile {
                name: f.name.clone(),
                // Rows of data only: the dictionary's lines are not observations.
                rows: if f.role == "data" { f.rows } else { 0 },
                bytes: f.bytes,
            })
            .collect(),
        warnings: o.warnings,
    })
}

#[tauri::command]
pub async fn cancel_export(state: State<'_, AppState>, job_id: String) -> Result<()> {
    if let Some(c) = state.jobs.lock().get(&job_id) {
        c.cancel();
    }
    Ok(())
}

#[tauri::command]
pub async fn pick_folder(app: AppHandle, state: State<'_, AppState>) -> Result<Option<String>> {
    if let Some(dir) = env_path(TEST_EXPORT_DIR_ENV) {
        let d = dir.join(state.next_test_pick().to_string());
        std::fs::create_dir_all(&d)
            .map_err(|e| Error::Io(format!("Could not create {}: {e}.", d.display())))?;
        *state.last_test_pick.lock() = Some(d.clone());
        return Ok(Some(d.display().to_string()));
    }
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Choose a folder for the export")
        .pick_folder(move |p| {
            let _ = tx.send(p);
        });
    let picked = rx.await.ok().flatten();
    Ok(picked
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

#[tauri::command]
pub async fn pick_export_to_open(
    app: AppHandle,
    state: State<'_, AppState>,
) -> Result<Option<String>> {
    if let Some(p) = env_path(TEST_OPEN_PATH_ENV) {
        return Ok(Some(p.display().to_string()));
    }
    if env_path(TEST_EXPORT_DIR_ENV).is_some() {
        return Ok(state
            .last_test_pick
            .lock()
            .as_ref()
            .map(|p| p.display().to_string()));
    }
    // One dialog for both: manifest.json opens its whole export folder; a .csv / .parquet
    // file opens just that file.
    let (tx, rx) = tokio::sync::oneshot::channel();
    app.dialog()
        .file()
        .set_title("Open an export: choose its manifest.json, or one .csv / .parquet file")
        .add_filter("Exported data", &["json", "csv", "parquet"])
        .pick_file(move |p| {
            let _ = tx.send(p);
        });
    Ok(rx
        .await
        .ok()
        .flatten()
        .and_then(|p| p.into_path().ok())
        .map(|p| p.display().to_string()))
}

#[tauri::command]
pub async fn show_in_folder(app: AppHandle, path: String) -> Result<()> {
    let p = PathBuf::from(&path);
    if !p.exists() {
        return Err(Error::NotFound(format!(
            "{path} does not exist (any more)."
        )));
    }
    app.opener()
        .reveal_item_in_dir(&p)
        .map_err(|e| Error::Io(format!("Could not open the file manager at {path}: {e}.")))
}

// ----- offline review ---------------------------------------------------------------------------

#[tauri::command]
pub async fn open_export(state: State<'_, AppState>, path: String) -> Result<OfflineReview> {
    let p = PathBuf::from(path.trim());
    let data = tokio::task::spawn_blocking(move || offline::load(&p)).await??;
    let review = OfflineReview {
        path: data.path.clone(),
        overview: data.overview.clone(),
    };
    state.clear();
    stop_demo(&state).await;
    *state.source.lock() = Some(Source::Offline(Arc::new(data)));
    Ok(review)
}
