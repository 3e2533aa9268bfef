//! `jhe-sandbox`: a local JupyterHealth Exchange that behaves like the real server (JHE v0.0.13)
//! field for field and quirk for quirk, with a deterministic data set, for the demo mode, the
//! tests and the benchmarks.
//!
//! Run it as the `jhe-sandbox` binary, or in-process with [`Sandbox::start`].

// Handlers return early with a ready HTTP response as their error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

/// The value of an `Ok`, or return the ready error response from the handler.
macro_rules! or_reply {
    ($e:expr) => {
        match $e {
            Ok(v) => v,
            Err(r) => return r,
        }
    };
}

pub mod admin;
pub mod auth;
pub mod caller;
pub mod data;
pub mod demo;
pub mod faults;
pub mod fhir;
pub mod generate;
pub mod hostile;
pub mod http;
pub mod proxy;
pub mod pyjson;
pub mod render;
pub mod schema;
pub mod store;
pub mod time;
pub mod world;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use parking_lot::{Mutex, RwLock};
use serde::Serialize;
use serde_json::json;

pub use crate::data::DataSummary;
pub use crate::faults::{FaultStats, Faults};
pub use crate::hostile::{
    EndlessPages, ForeignRows, Hostile, HostileBody, HostileStats, Redirect, RedirectTo,
};
use crate::store::Store;
use crate::world::World;

pub const JHE_VERSION: &str = "v0.0.13";

/// How the sandbox is built and served.
#[derive(Clone, Debug)]
pub struct Config {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub port: u16,
    /// Keys, names and data are deterministic for a given seed.
    pub seed: u64,
    /// Participants in the demo study 30006 (the reference server has 20).
    pub patients: u32,
    /// Days of data per participant, ending at `end_us`.
    pub days: u32,
    /// UTC microseconds where the data ends; `None` = now, rounded down to the hour.
    pub end_us: Option<i64>,
    /// Share of generated observations that are deliberately dirty (0.0–1.0).
    pub dirty_share: f64,
    /// `expires_in` of access tokens, in seconds (JHE: 1,209,600).
    pub token_lifetime_s: i64,
    pub faults: Faults,
    /// Hostile-server behaviours (off by default; see [`hostile`]).
    pub hostile: Hostile,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            seed: 42,
            patients: 20,
            days: 14,
            end_us: None,
            dirty_share: 0.01,
            token_lifetime_s: 1_209_600,
            faults: Faults::default(),
            hostile: Hostile::default(),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("could not listen on {addr}: {source}. Is another server using that port? Try --port 0 for a free one.")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("building the data set failed: {0}")]
    Data(String),
}

pub struct AppState {
    pub world: RwLock<World>,
    pub store: RwLock<Store>,
    pub auth: Mutex<auth::AuthState>,
    pub faults: RwLock<Faults>,
    pub fault_stats: FaultStats,
    pub hostile: RwLock<Hostile>,
    pub hostile_stats: HostileStats,
    pub summary: DataSummary,
    schemas: OnceLock<Result<schema::SchemaSet, String>>,
}

impl AppState {
    /// The upload validator, compiled on first use.
    pub fn schemas(&self) -> SchemaRef<'_> {
        SchemaRef(
            self.schemas
                .get_or_init(|| schema::SchemaSet::embedded().map_err(|e| e.to_string())),
        )
    }
}

pub struct SchemaRef<'a>(&'a Result<schema::SchemaSet, String>);

impl SchemaRef<'_> {
    pub fn validate(&self, code: &str, omh: &serde_json::Value) -> Result<(), Vec<String>> {
        match self.0 {
            Ok(set) => set.validate(code, omh),
            Err(e) => Err(vec![format!("schema set unavailable: {e}")]),
        }
    }
}

/// What a client needs to use a running sandbox: its URL and the demo accounts.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SandboxInfo {
    pub url: String,
    pub version: &'static str,
    pub seed: u64,
    /// Public client for the browser sign-in (authorization code + PKCE, loopback redirect).
    pub desktop_client_id: String,
    pub password: &'static str,
    pub practitioners: Vec<PractitionerInfo>,
    pub studies: Vec<StudyInfo>,
    pub observations: usize,
    pub data: DataSummary,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PractitionerInfo {
    pub email: String,
    pub user_id: u32,
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub organizations: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StudyInfo {
    pub id: u32,
    pub name: String,
    pub organization_id: u32,
    pub patients: usize,
    /// Observations the study filter returns (enrolled patients, requested types).
    pub observations: usize,
}

pub fn info_of(state: &AppState, url: &str, seed: u64) -> SandboxInfo {
    let world = state.world.read();
    let store = state.store.read();
    let practitioners = world
        .practitioner_users()
        .filter_map(|u| {
            let app = world
                .apps
                .iter()
                .find(|a| a.user_id == Some(u.id) && a.practitioner_client_id.is_some())?;
            Some(PractitionerInfo {
                email: u.email.clone(),
                user_id: u.id,
                api_key: app.api_key()?,
                client_id: app.client_id.clone(),
                client_secret: app.client_secret.clone()?,
                organizations: world
                    .memberships
                    .iter()
                    .filter(|m| m.0 == u.id)
                    .filter_map(|m| {
                        world
                            .org(m.1)
                            .map(|o| json!({"id": o.id, "name": o.name, "role": m.2.as_str()}))
                    })
                    .collect(),
            })
        })
        .collect();
    let studies = world
        .studies
        .iter()
        .map(|s| {
            let q = store::Query {
                patients: s.patients.iter().map(|(_, p)| *p).collect(),
                scopes: Some(world.study_scope_ids(s)),
                ..Default::default()
            };
            StudyInfo {
                id: s.id,
                name: s.name.clone(),
                organization_id: s.org,
                patients: s.patients.len(),
                observations: store.count(&q),
            }
        })
        .collect();
    SandboxInfo {
        url: url.to_string(),
        version: JHE_VERSION,
        seed,
        desktop_client_id: world::DESKTOP_CLIENT_ID.to_string(),
        password: world::PASSWORD,
        practitioners,
        studies,
        observations: store.len(),
        data: state.summary.clone(),
    }
}

async fn health() -> Response {
    http::json_response(
        StatusCode::OK,
        &json!({"status": "ok", "version": JHE_VERSION}),
    )
}

async fn openapi() -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/vnd.oai.openapi+json"),
        )],
        include_str!("../data/openapi.json"),
    )
        .into_response()
}

async fn fallback(uri: Uri) -> Response {
    http::not_found_page(uri.path())
}

async fn sandbox_info(State(st): State<Arc<AppState>>, headers: axum::http::HeaderMap) -> Response {
    let seed = st.summary.seed;
    let info = info_of(&st, &http::base_url(&headers), seed);
    http::json_response(
        StatusCode::OK,
        &serde_json::to_value(info).unwrap_or_default(),
    )
}

async fn get_faults(State(st): State<Arc<AppState>>) -> Response {
    let f = st.faults.read().clone();
    http::json_response(StatusCode::OK, &serde_json::to_value(f).unwrap_or_default())
}

async fn put_faults(State(st): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Faults>(&body) {
        Ok(f) => {
            *st.faults.write() = f.clone();
            http::json_response(StatusCode::OK, &serde_json::to_value(f).unwrap_or_default())
        }
        Err(e) => http::detail(StatusCode::BAD_REQUEST, &format!("bad fault settings: {e}")),
    }
}

async fn get_hostile(State(st): State<Arc<AppState>>) -> Response {
    let h = st.hostile.read().clone();
    http::json_response(StatusCode::OK, &serde_json::to_value(h).unwrap_or_default())
}

async fn put_hostile(State(st): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    match serde_json::from_slice::<Hostile>(&body) {
        Ok(h) => {
            *st.hostile.write() = h.clone();
            http::json_response(StatusCode::OK, &serde_json::to_value(h).unwrap_or_default())
        }
        Err(e) => http::detail(
            StatusCode::BAD_REQUEST,
            &format!("bad hostile settings: {e}"),
        ),
    }
}

/// `POST /_sandbox/uploads` `{"count": N, "study": ID}` (at most 100,000; `study` default the
/// demo study 30006): new uploads, as copies of the N most recent observations of the study's
/// participants with new ids, header uuids and write times (the data a sync or the app's
/// background check then finds).
async fn post_uploads(State(st): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    #[derive(serde::Deserialize)]
    struct Ask {
        count: usize,
        #[serde(default)]
        study: Option<u32>,
    }
    match serde_json::from_slice::<Ask>(&body) {
        Ok(a) => {
            let study = a.study.unwrap_or(demo::DEMO_STUDY as u32);
            let members: std::collections::HashSet<u32> = st
                .world
                .read()
                .study(study)
                .map(|s| s.patients.iter().map(|(_, p)| *p).collect())
                .unwrap_or_default();
            let added = st
                .store
                .write()
                .upload_copies(a.count.min(100_000), |p| members.contains(&p));
            let mut patients: Vec<u32> = added.iter().map(|(_, p)| *p).collect();
            patients.sort_unstable();
            patients.dedup();
            http::json_response(
                StatusCode::OK,
                &json!({
                    "added": added.len(),
                    "ids": added.iter().map(|(id, _)| id).collect::<Vec<_>>(),
                    "patients": patients,
                }),
            )
        }
        Err(e) => http::detail(
            StatusCode::BAD_REQUEST,
            &format!("bad uploads request: {e}"),
        ),
    }
}

async fn revoke_tokens(State(st): State<Arc<AppState>>) -> Response {
    let n = st.auth.lock().revoke_all();
    http::json_response(StatusCode::OK, &json!({"revoked": n}))
}

/// The complete route table, mirroring JHE's URL conf (trailing slashes included). Detail
/// routes with and without a sub-resource share one handler (`{sub}` empty).
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/api/schema/", get(openapi))
        .route(
            "/o/.well-known/openid-configuration",
            get(auth::openid_configuration),
        )
        .route(
            "/o/.well-known/oauth-authorization-server",
            get(auth::authorization_server),
        )
        .route("/o/.well-known/jwks.json", get(auth::jwks))
        .route("/o/token/", post(auth::token))
        .route("/o/authorize/", get(auth::authorize))
        .route("/o/revoke_token/", post(auth::revoke))
        .route("/o/introspect/", post(auth::introspect))
        .route("/o/userinfo/", get(auth::userinfo))
        .route(
            "/accounts/login/",
            get(auth::login_form).post(auth::login_submit),
        )
        .route("/api/v1/users/profile", get(admin::profile))
        .route("/api/v1/users/organizations", get(admin::user_orgs))
        .route("/api/v1/organizations", get(admin::orgs))
        .route("/api/v1/organizations/types", get(admin::org_types))
        .route("/api/v1/organizations/{id}", get(admin::org_detail))
        .route("/api/v1/organizations/{id}/{sub}", get(admin::org_detail))
        .route("/api/v1/studies", get(admin::studies))
        .route("/api/v1/studies/{id}", get(admin::study_detail))
        .route(
            "/api/v1/studies/{id}/{sub}",
            get(admin::study_detail).post(admin::study_detail),
        )
        .route("/api/v1/patients", get(admin::patients))
        .route("/api/v1/patients/me", get(admin::patient_me))
        .route("/api/v1/patients/global_lookup", get(admin::global_lookup))
        .route("/api/v1/patients/{id}", get(admin::patient_detail))
        .route(
            "/api/v1/patients/{id}/{sub}",
            get(admin::patient_detail)
                .post(admin::patient_detail)
                .patch(admin::patient_detail),
        )
        .route("/api/v1/data_sources", get(admin::data_sources))
        .route("/api/v1/data_sources/all_scopes", get(admin::all_scopes))
        .route("/api/v1/data_sources/{id}", get(admin::data_source_detail))
        .route(
            "/api/v1/data_sources/{id}/{sub}",
            get(admin::data_source_detail),
        )
        .route("/api/v1/observations", get(admin::observations))
        .route("/api/v1/observations/{id}", get(admin::observation_detail))
        .route("/api/v1/clients", get(admin::clients))
        .route(
            "/api/v1/practitioner_clients",
            get(admin::practitioner_clients).post(admin::practitioner_clients),
        )
        .route(
            "/api/v1/practitioner_clients/{id}",
            get(admin::practitioner_client_detail).delete(admin::practitioner_client_detail),
        )
        .route("/FHIR/R5", post(fhir::batch))
        .route("/FHIR/R5/", post(fhir::batch))
        .route("/FHIR/R5/metadata", get(fhir::metadata))
        .route(
            "/FHIR/R5/.well-known/smart-configuration",
            get(fhir::smart_configuration),
        )
        .route(
            "/FHIR/R5/{rtype}",
            get(fhir::type_get).post(fhir::type_post),
        )
        .route(
            "/FHIR/R5/{rtype}/{id}",
            get(fhir::read)
                .post(fhir::read)
                .put(fhir::read)
                .patch(fhir::read)
                .delete(fhir::read),
        )
        .route("/_sandbox/info", get(sandbox_info))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route("/_sandbox/revoke_tokens", post(revoke_tokens))
        .route("/_sandbox/uploads", post(post_uploads))
        .route("/_sandbox/hostile", get(get_hostile).put(put_hostile))
        .route("/_sandbox/trap", axum::routing::any(hostile::trap))
        .fallback(fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            hostile::apply,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            faults::inject,
        ))
        .with_state(state)
}

/// Builds the world and its observations (CPU-bound; seconds for millions of rows).
pub fn build_state(config: &Config) -> Result<AppState, SandboxError> {
    let (world, store, summary) = data::build(config).map_err(SandboxError::Data)?;
    Ok(AppState {
        world: RwLock::new(world),
        store: RwLock::new(store),
        auth: Mutex::new(auth::AuthState::new(config.token_lifetime_s)),
        faults: RwLock::new(config.faults.clone()),
        fault_stats: FaultStats::default(),
        hostile: RwLock::new(config.hostile.clone()),
        hostile_stats: HostileStats::default(),
        summary,
        schemas: OnceLock::new(),
    })
}

/// A running sandbox. Dropping it stops the server.
pub struct Sandbox {
    url: String,
    addr: SocketAddr,
    seed: u64,
    state: Arc<AppState>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pub build_time: Duration,
}

impl Sandbox {
    /// Builds the data set and serves it on `config.bind:config.port`.
    pub async fn start(config: Config) -> Result<Sandbox, SandboxError> {
        let t0 = Instant::now();
        let cfg = config.clone();
        let state = tokio::task::spawn_blocking(move || build_state(&cfg))
            .await
            .map_err(|e| SandboxError::Data(e.to_string()))??;
        let build_time = t0.elapsed();
        Self::serve(Arc::new(state), &config, build_time).await
    }

    /// Serves an already built state.
    pub async fn serve(
        state: Arc<AppState>,
        config: &Config,
        build_time: Duration,
    ) -> Result<Sandbox, SandboxError> {
        let addr = SocketAddr::new(config.bind, config.port);
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let host = match addr.ip() {
            IpAddr::V6(ip) => format!("[{ip}]"),
            IpAddr::V4(ip) => ip.to_string(),
        };
        let url = format!("http://{host}:{}", addr.port());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let app = router(state.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(Sandbox {
            url,
            addr,
            seed: config.seed,
            state,
            shutdown: Some(tx),
            task: Some(task),
            build_time,
        })
    }

    pub fn url(&self) -> &str {
        &self.url
    }
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    pub fn info(&self) -> SandboxInfo {
        info_of(&self.state, &self.url, self.seed)
    }
    pub fn state(&self) -> &Arc<AppState> {
        &self.state
    }
    pub fn set_faults(&self, faults: Faults) {
        *self.state.faults.write() = faults;
    }
    pub fn fault_stats(&self) -> &FaultStats {
        &self.state.fault_stats
    }
    /// Switches hostile-server behaviours on or off (see [`hostile`]).
    pub fn set_hostile(&self, hostile: Hostile) {
        *self.state.hostile.write() = hostile;
    }
    /// What reached `/_sandbox/trap`.
    pub fn hostile_stats(&self) -> &HostileStats {
        &self.state.hostile_stats
    }
    /// The ground truth of the planted defects: `(observation id, patient id, defect)` of every
    /// deliberately dirty observation in the store (upload gaps are not observations).
    pub fn planted_defects(&self) -> Vec<(u32, u32, generate::DirtyKind)> {
        self.state
            .store
            .read()
            .rows()
            .iter()
            .filter_map(|r| match &r.payload {
                store::Payload::Gen(_, p) => p.dirty().map(|d| (r.id, r.patient_id, d)),
                store::Payload::Raw(_) => None,
            })
            .collect()
    }
    /// Every token stops working at once (clients must sign in again).
    pub fn revoke_all_tokens(&self) -> usize {
        self.state.auth.lock().revoke_all()
    }
    /// Lifetime of tokens issued from now on.
    pub fn set_token_lifetime(&self, seconds: i64) {
        self.state.auth.lock().lifetime_s = seconds;
    }
    pub async fn stop(mut self) {
        self.shutdown_now().await;
    }
    async fn shutdown_now(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}
