//! A signed-in [`Session`] and the read calls of the Admin API and the FHIR API; [`types`] holds
//! the wire types those APIs return.

pub mod types;

use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;

use chrono::NaiveDate;
use futures_util::{stream, StreamExt, TryStreamExt};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use self::types::{
    Bundle, CodeableConcept, DataSource, Organization, Page, Patient, PatientConsents, Profile,
    ScopeRequest, Study, StudyDataSource,
};
use crate::auth::{self, browser, Auth, BrowserOptions, Persist, SavedSignIn, SecretStore};
use crate::error::{Error, Result};
use crate::http::{Fail, Http, HttpStatsSnapshot, RetryPolicy};
use crate::omh;
use crate::server_check::ServerInfo;

/// Admin API and FHIR page size (the server's maximum).
pub const PAGE_SIZE: u32 = 1000;

/// Settings of a session.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct SessionOptions {
    pub retry: RetryPolicy,
}

struct Inner {
    server: ServerInfo,
    http: Http,
    auth: Auth,
    profile: Profile,
}

/// A signed-in connection to one JHE server. Cheap to clone and share between tasks.
#[derive(Clone)]
pub struct Session {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("server", &self.inner.server.url.as_str())
            .field("user", &self.inner.profile.display_name())
            .finish()
    }
}

impl Session {
    /// Signs in with a practitioner API key (the base64 `key` from the JHE profile page).
    pub async fn sign_in_with_api_key(
        server: &ServerInfo,
        api_key: &str,
        opts: SessionOptions,
    ) -> Result<Session> {
        let key = auth::normalize_api_key(api_key)?;
        Self::start(
            server,
            SavedSignIn::ApiKey { api_key: key },
            None,
            None,
            opts,
        )
        .await
    }

    /// Signs in through the browser. `open_browser` receives the sign-in page's address; it
    /// should open it in the system browser (and may also show it to the user).
    pub async fn sign_in_with_browser(
        server: &ServerInfo,
        browser_opts: &BrowserOptions,
        opts: SessionOptions,
        open_browser: impl FnOnce(&str),
    ) -> Result<Session> {
        let tokens = browser::sign_in(server, &opts.retry, browser_opts, open_browser).await?;
        let Some(refresh) = tokens.refresh_token.clone() else {
            return Err(Error::SignInFailed {
                reason: "the server did not issue a refresh token, so the sign-in cannot be kept."
                    .into(),
            });
        };
        let saved = SavedSignIn::Browser {
            client_id: browser_opts.client_id.clone(),
            refresh_token: refresh,
        };
        Self::start(server, saved, Some(tokens), None, opts).await
    }

    /// Resumes the sign-in saved in `store` for this server.
    pub async fn resume(
        server: &ServerInfo,
        store: Arc<dyn SecretStore>,
        opts: SessionOptions,
    ) -> Result<Session> {
        let account = server.url.key();
        let saved =
            SavedSignIn::load(store.as_ref(), &account)?.ok_or_else(|| Error::NotSignedIn {
                server: server.url.to_string(),
            })?;
        let persist = Persist { store, account };
        match Self::start(server, saved, None, Some(persist.clone()), opts).await {
            // A saved sign-in that no longer works is a "sign in again".
            Err(Error::SignInFailed { reason }) => Err(Error::SignInAgain { reason }),
            other => other,
        }
    }

    /// Starts from an explicit saved sign-in (e.g. an API key from the environment).
    pub async fn from_saved(
        server: &ServerInfo,
        saved: SavedSignIn,
        opts: SessionOptions,
    ) -> Result<Session> {
        Self::start(server, saved, None, None, opts).await
    }

    async fn start(
        server: &ServerInfo,
        saved: SavedSignIn,
        initial: Option<auth::TokenResponse>,
        persist: Option<Persist>,
        opts: SessionOptions,
    ) -> Result<Session> {
        let http = Http::new(opts.retry.clone())?;
        let auth = Auth::new(server.clone(), opts.retry, saved, initial, persist)?;
        let session = Session {
            inner: Arc::new(Inner {
                server: server.clone(),
                http,
                auth,
                profile: Profile::default(),
            }),
        };
        let profile: Profile = session.get("/api/v1/users/profile", "your profile").await?;
        if profile.is_patient() {
            let _ = session.inner.auth.revoke().await;
            return Err(Error::PatientAccount);
        }
        let Ok(mut inner) = Arc::try_unwrap(session.inner) else {
            return Err(Error::bad_response("internal: the new session is shared"));
        };
        inner.profile = profile;
        Ok(Session {
            inner: Arc::new(inner),
        })
    }

    pub fn server(&self) -> &ServerInfo {
        &self.inner.server
    }

    /// Who is signed in.
    pub fn profile(&self) -> &Profile {
        &self.inner.profile
    }

    pub fn stats(&self) -> HttpStatsSnapshot {
        self.inner.http.stats.snapshot()
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        self.inner.http.policy()
    }

    /// How this session signs in (secrets inside; keep it in a [`SecretStore`] only).
    pub async fn saved_sign_in(&self) -> SavedSignIn {
        self.inner.auth.saved().await
    }

    /// Saves the sign-in in `store` (the OS keychain) and keeps it there as refresh tokens rotate.
    pub async fn remember(&self, store: Arc<dyn SecretStore>) -> Result<()> {
        let account = self.inner.server.url.key();
        self.inner
            .auth
            .saved()
            .await
            .save(store.as_ref(), &account)?;
        self.inner
            .auth
            .set_persist_target(Some(Persist { store, account }));
        Ok(())
    }

    /// Signs out: revokes the tokens on the server and deletes the saved secret from `store`.
    /// The secret is deleted even when the server cannot be reached (the error is returned).
    pub async fn sign_out(&self, store: Option<&dyn SecretStore>) -> Result<()> {
        self.inner.auth.set_persist_target(None);
        let revoked = self.inner.auth.revoke().await;
        if let Some(s) = store {
            s.delete(&self.inner.server.url.key())?;
        }
        revoked
    }

    // ----- raw access -------------------------------------------------------------------------

    /// GET a URL (absolute, on this server) as JSON. On 401 it signs in again silently once and
    /// retries; a second 401 becomes [`Error::SignInAgain`].
    pub async fn get_url(&self, url: &str, what: &str) -> Result<Value> {
        self.get_url_parsed(url, what, &|b: &[u8]| serde_json::from_slice(b))
            .await
    }

    /// Like [`Session::get_url`], reading the body with `parse` (see `Http::get_parsed`).
    pub(crate) async fn get_url_parsed<T>(
        &self,
        url: &str,
        what: &str,
        parse: &(dyn Fn(&[u8]) -> serde_json::Result<T> + Sync),
    ) -> Result<T> {
        let (tok, generation) = self.inner.auth.token().await?;
        match self.inner.http.get_parsed(url, &tok, what, parse).await {
            Ok(v) => Ok(v),
            Err(Fail::Unauthorized) => {
                self.inner
                    .http
                    .stats
                    .reauthentications
                    .fetch_add(1, Ordering::Relaxed);
                let (tok, _) = self.inner.auth.after_unauthorized(generation).await?;
                match self.inner.http.get_parsed(url, &tok, what, parse).await {
                    Ok(v) => Ok(v),
                    Err(Fail::Unauthorized) => Err(Error::SignInAgain {
                        reason: "the server no longer accepts this sign-in.".into(),
                    }),
                    Err(f) => Err(final_error(f)),
                }
            }
            Err(f) => Err(final_error(f)),
        }
    }

    /// GET `path_and_query` (starting with `/`) on this server, decoded as `T`.
    pub async fn get<T: DeserializeOwned>(&self, path_and_query: &str, what: &str) -> Result<T> {
        let v = self
            .get_url(&self.inner.server.url.join(path_and_query), what)
            .await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(format!("{what}: {e}")))
    }

    /// All pages of an Admin API list (`page_size=1000`, following `next` on our base URL).
    pub async fn get_all_pages<T: DeserializeOwned>(
        &self,
        path: &str,
        params: &[(&str, String)],
        what: &str,
    ) -> Result<Vec<T>> {
        self.get_all_pages_with(path, params, what, &|b: &[u8]| serde_json::from_slice(b))
            .await
    }

    /// Like [`Session::get_all_pages`], reading each page's bytes with `parse`.
    async fn get_all_pages_with<T>(
        &self,
        path: &str,
        params: &[(&str, String)],
        what: &str,
        parse: &(dyn Fn(&[u8]) -> serde_json::Result<Page<T>> + Sync),
    ) -> Result<Vec<T>> {
        let endpoint = self.inner.server.url.join(path);
        let mut query: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect();
        query.push(("page_size".into(), PAGE_SIZE.to_string()));
        let mut url = with_query(&endpoint, &query);
        let mut out = Vec::new();
        let mut seen_urls = HashSet::new();
        let mut count;
        let mut bound = crate::paging::PageBound::default();
        bound.new_walk();
        loop {
            if !seen_urls.insert(url.clone()) {
                return Err(Error::bad_response(format!(
                    "{what}: the server's next-page link points back to a page already read"
                )));
            }
            let page = self.get_url_parsed(&url, what, parse).await?;
            count = page.count;
            let page_len = page.results.len() as u64;
            out.extend(page.results);
            match page.next {
                Some(n) if !n.is_empty() => {
                    bound.check(what, page_len, None, count.max(out.len() as u64))?;
                    url = crate::paging::next_url(&endpoint, &query, &n)?;
                }
                _ => break,
            }
        }
        if out.len() as u64 != count {
            tracing::warn!(
                "{what}: the server announced {count} but {} arrived",
                out.len()
            );
        }
        Ok(out)
    }

    // ----- Admin API --------------------------------------------------------------------------

    /// The user's organizations, each with the user's role in it.
    pub async fn organizations(&self) -> Result<Vec<Organization>> {
        let orgs: Vec<Organization> = self
            .get("/api/v1/users/organizations", "your organizations")
            .await?;
        stream::iter(orgs)
            .map(|o| async move {
                let what = format!("organization {}", o.id);
                match self
                    .get::<Organization>(&format!("/api/v1/organizations/{}", o.id), &what)
                    .await
                {
                    Ok(full) => Ok(Organization {
                        current_user_role: full.current_user_role,
                        ..o
                    }),
                    Err(Error::NotFound { .. }) => Ok(o),
                    Err(e) => Err(e),
                }
            })
            .buffered(4)
            .try_collect()
            .await
    }

    /// Studies of the organizations the user belongs to (or of one organization).
    pub async fn studies(&self, organization_id: Option<u64>) -> Result<Vec<Study>> {
        let params: Vec<(&str, String)> = organization_id
            .map(|o| vec![("organization_id", o.to_string())])
            .unwrap_or_default();
        self.get_all_pages("/api/v1/studies", &params, "your studies")
            .await
    }

    /// One study; 403 (also for a study that does not exist) is explained.
    pub async fn study(&self, study_id: u64) -> Result<Study> {
        self.get(
            &format!("/api/v1/studies/{study_id}"),
            &format!("study {study_id}"),
        )
        .await
    }

    /// The study's participants (de-duplicated by id, ordered by id).
    pub async fn study_patients(&self, study_id: u64) -> Result<Vec<Patient>> {
        let mut list: Vec<Patient> = self
            .get_all_pages(
                &format!("/api/v1/studies/{study_id}/patients"),
                &[],
                &format!("the participants of study {study_id}"),
            )
            .await?;
        let mut seen = HashSet::new();
        list.retain(|p| seen.insert(p.id));
        list.sort_by_key(|p| p.id);
        Ok(list)
    }

    /// The data types the study requests (its scope requests), de-duplicated.
    pub async fn study_scopes(&self, study_id: u64) -> Result<Vec<CodeableConcept>> {
        let reqs: Vec<ScopeRequest> = self
            .get(
                &format!("/api/v1/studies/{study_id}/scope_requests"),
                &format!("the data types of study {study_id}"),
            )
            .await?;
        let mut seen = HashSet::new();
        Ok(reqs
            .into_iter()
            .map(|r| r.scope_code)
            .filter(|c| !c.coding_code.is_empty() && seen.insert(c.token()))
            .collect())
    }

    pub async fn study_data_sources(&self, study_id: u64) -> Result<Vec<StudyDataSource>> {
        self.get(
            &format!("/api/v1/studies/{study_id}/data_sources"),
            &format!("the data sources of study {study_id}"),
        )
        .await
    }

    /// Every data source on the server.
    pub async fn data_sources(&self) -> Result<Vec<DataSource>> {
        self.get_all_pages("/api/v1/data_sources", &[], "the data sources")
            .await
    }

    /// A patient's consents. Never sends `reset=true` (that would delete them).
    pub async fn patient_consents(&self, patient_id: u64) -> Result<PatientConsents> {
        self.get(
            &format!("/api/v1/patients/{patient_id}/consents"),
            &format!("the consents of patient {patient_id}"),
        )
        .await
    }

    /// The Admin API's observations of a study (optionally one participant), every page, read
    /// straight into records ([`omh::from_admin_json`]: decoded `omhData` and the same fields
    /// the FHIR API gives) and de-duplicated by id, with the participants' names; unreadable
    /// items are returned as problems. The Admin API cannot filter by type or date.
    pub async fn admin_observations(
        &self,
        organization_id: u64,
        study_id: u64,
        patient_id: Option<u64>,
    ) -> Result<AdminObservations> {
        let mut params = vec![
            ("organization_id", organization_id.to_string()),
            ("study_id", study_id.to_string()),
        ];
        if let Some(p) = patient_id {
            params.push(("patient_id", p.to_string()));
        }
        let items = self
            .get_all_pages_with(
                "/api/v1/observations",
                &params,
                &format!("the observations of study {study_id}"),
                &|b: &[u8]| {
                    // One item with bytes that are not UTF-8 fails that item, not the page.
                    let text = omh::PageText::new(b);
                    let p: Page<&serde_json::value::RawValue> =
                        serde_json::from_str(text.as_str())?;
                    Ok(Page {
                        count: p.count,
                        next: p.next,
                        results: p
                            .results
                            .into_iter()
                            .map(|r| {
                                let read = omh::from_admin_json(r.get());
                                if text.is_damaged(r.get()) {
                                    return (Err(omh::not_text(read)), None);
                                }
                                let name = serde_json::from_str::<AdminName>(r.get())
                                    .ok()
                                    .and_then(AdminName::into_pair);
                                (read, name)
                            })
                            .collect(),
                    })
                },
            )
            .await?;
        let mut out = AdminObservations::default();
        let mut seen = HashSet::new();
        for (item, name) in items {
            if let Some((id, name)) = name {
                out.patient_names.entry(id).or_insert(name);
            }
            match item {
                Ok(o) if seen.insert(o.id) => out.observations.push(o),
                Ok(_) => out.duplicates += 1,
                Err(p) => out.problems.push(p),
            }
        }
        Ok(out)
    }

    // ----- FHIR -------------------------------------------------------------------------------

    /// `_summary=count` of a FHIR Observation search.
    pub async fn observation_count(&self, q: &ObservationQuery) -> Result<u64> {
        let mut params = q.params();
        params.push(("_summary".into(), "count".into()));
        let b: Bundle = self.fhir_search(&params, &q.describe()).await?;
        b.total
            .ok_or_else(|| Error::bad_response("a count came back without a total"))
    }

    /// The first (`ascending`) or last observation by effective date, if any.
    pub async fn observation_edge(
        &self,
        q: &ObservationQuery,
        ascending: bool,
    ) -> Result<Option<Value>> {
        self.observation_sorted_first(q, if ascending { "date" } else { "-date" })
            .await
    }

    /// The first observation of a search sorted by `sort` (e.g. `-_lastUpdated`).
    pub async fn observation_sorted_first(
        &self,
        q: &ObservationQuery,
        sort: &str,
    ) -> Result<Option<Value>> {
        let mut params = q.params();
        params.push(("_sort".into(), sort.into()));
        params.push(("_count".into(), "1".into()));
        let b: Bundle = self.fhir_search(&params, &q.describe()).await?;
        Ok(b.entry.into_iter().next().map(|e| e.resource))
    }

    pub(crate) fn fhir_observation_endpoint(&self) -> String {
        self.inner.server.url.join("/FHIR/R5/Observation")
    }

    async fn fhir_search(&self, params: &[(String, String)], what: &str) -> Result<Bundle> {
        let url = with_query(&self.fhir_observation_endpoint(), params);
        let v = self.get_url(&url, what).await?;
        serde_json::from_value(v).map_err(|e| Error::bad_response(format!("{what}: {e}")))
    }
}

fn final_error(f: Fail) -> Error {
    match f {
        Fail::Final(e) => e,
        Fail::Unauthorized => Error::SignInAgain {
            reason: "the server no longer accepts this sign-in.".into(),
        },
        Fail::Transport(detail) => Error::Network {
            detail,
            attempts: 1,
        },
        Fail::Server { status, summary } => Error::Server {
            status,
            summary,
            attempts: 1,
        },
        Fail::RateLimited { .. } => Error::RateLimited { attempts: 1 },
    }
}

pub(crate) fn with_query(endpoint: &str, params: &[(String, String)]) -> String {
    if params.is_empty() {
        return endpoint.to_string();
    }
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        s.append_pair(k, v);
    }
    format!("{endpoint}?{}", s.finish())
}

/// What [`Session::admin_observations`] read.
#[derive(Clone, Debug, Default)]
pub struct AdminObservations {
    /// In server order, de-duplicated by id.
    pub observations: Vec<omh::RawObservation>,
    /// Items that could not be read as observations.
    pub problems: Vec<omh::Problem>,
    /// Items that came twice and were dropped.
    pub duplicates: u64,
    /// Participant id → "Given Family", as the Admin API names them.
    pub patient_names: std::collections::BTreeMap<u64, String>,
}

/// The participant's name on an Admin API observation.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AdminName {
    subject_patient_id: Option<u64>,
    patient_name_given: Option<String>,
    patient_name_family: Option<String>,
}

impl AdminName {
    fn into_pair(self) -> Option<(u64, String)> {
        let name = [self.patient_name_given, self.patient_name_family]
            .into_iter()
            .flatten()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        Some((self.subject_patient_id?, name)).filter(|(_, n)| !n.is_empty())
    }
}

/// A FHIR Observation search, built only from the parameter names the server really reads.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObservationQuery {
    /// `patient._has:Group:member:_id` (enrolled in the study and a type the study requests).
    pub study_id: Option<u64>,
    /// `patient`.
    pub patient_id: Option<u64>,
    /// `code=system|code` (one at a time: JHE has no OR lists).
    pub code: Option<(String, String)>,
    /// `date=ge…` (effective time, UTC day).
    pub date_from: Option<NaiveDate>,
    /// Inclusive last day: `date=lt<day after>`.
    pub date_to: Option<NaiveDate>,
    /// `_lastUpdated=ge<instant>`: rows the server wrote at or after this instant (as the server
    /// sent it in `meta.lastUpdated`, microseconds kept), for incremental sync.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_since: Option<String>,
}

impl ObservationQuery {
    pub fn params(&self) -> Vec<(String, String)> {
        let mut p = Vec::new();
        if let Some(s) = self.study_id {
            p.push(("patient._has:Group:member:_id".to_string(), s.to_string()));
        }
        if let Some(id) = self.patient_id {
            p.push(("patient".to_string(), id.to_string()));
        }
        if let Some((system, code)) = &self.code {
            p.push(("code".to_string(), format!("{system}|{code}")));
        }
        if let Some(d) = self.date_from {
            p.push(("date".to_string(), format!("ge{}", d.format("%Y-%m-%d"))));
        }
        if let Some(d) = self.date_to {
            if let Some(next) = d.succ_opt() {
                p.push(("date".to_string(), format!("lt{}", next.format("%Y-%m-%d"))));
            }
        }
        if let Some(t) = &self.updated_since {
            p.push(("_lastUpdated".to_string(), format!("ge{t}")));
        }
        p
    }

    /// "observations of patient 40001 (omh:heart-rate:2.0) in study 30006", for messages.
    pub fn describe(&self) -> String {
        let mut s = "observations".to_string();
        if let Some(p) = self.patient_id {
            s.push_str(&format!(" of patient {p}"));
        }
        if let Some((_, c)) = &self.code {
            s.push_str(&format!(" ({c})"));
        }
        if let Some(st) = self.study_id {
            s.push_str(&format!(" in study {st}"));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_use_only_the_names_the_server_reads() {
        let q = ObservationQuery {
            study_id: Some(30006),
            patient_id: Some(40006),
            code: Some((
                "https://w3id.org/openmhealth".into(),
                "omh:heart-rate:2.0".into(),
            )),
            date_from: NaiveDate::from_ymd_opt(2026, 11, 1),
            date_to: NaiveDate::from_ymd_opt(2026, 11, 30),
            updated_since: None,
        };
        let url = with_query("http://h/FHIR/R5/Observation", &q.params());
        assert_eq!(
            url,
            "http://h/FHIR/R5/Observation?patient._has%3AGroup%3Amember%3A_id=30006&patient=40006&code=https%3A%2F%2Fw3id.org%2Fopenmhealth%7Comh%3Aheart-rate%3A2.0&date=ge2026-11-01&date=lt2026-12-01"
        );
    }
}
