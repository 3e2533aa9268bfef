//! Organizations and studies: the study list with participant counts, and a study's overview
//! (participants with consent, counts and last upload), which later operations read back from
//! the state's caches.

use std::collections::{BTreeMap, HashMap};

use futures_util::{stream, StreamExt, TryStreamExt};
use jhe_engine::api::types as em;
use jhe_engine::cancel::CancelToken;
use jhe_engine::jobs::{self, Progress};

use jhe_engine::audit::Action;

use crate::audit;
use crate::error::Result;
use crate::ipc::*;
use crate::state::{AppState, Source};
use crate::views;

fn role(r: Option<&str>) -> Option<Role> {
    match r? {
        "manager" | "super_user" => Some(Role::Manager),
        "member" => Some(Role::Member),
        "viewer" => Some(Role::Viewer),
        _ => None,
    }
}

pub async fn list_organizations(state: &AppState) -> Result<Vec<Organization>> {
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

/// The studies the user can see, each with its number of participants (0 where the account
/// may not list them).
pub async fn list_studies(state: &AppState) -> Result<Vec<Study>> {
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

pub(crate) fn study_dto(st: &em::Study, patient_count: u64) -> Study {
    Study {
        id: st.id,
        name: st.name.clone(),
        description: st.description.clone().unwrap_or_default(),
        organization_id: st.organization.id,
        organization_name: st.organization.name.clone().unwrap_or_default(),
        patient_count,
    }
}

/// A participant's row without observations yet; the MRN is the identifier whose system says
/// `mrn` (no guess: a server whose identifiers are e-mail addresses has none, and the UI labels
/// what it shows by its system).
pub(crate) fn patient_row(p: &em::Patient) -> PatientRow {
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

/// The consent states the UI shows; `Unknown` (no record) is left out.
pub(crate) fn consent(c: &em::ConsentState) -> Option<ConsentState> {
    Some(match c {
        em::ConsentState::Consented => ConsentState::Consented,
        em::ConsentState::Declined => ConsentState::Declined,
        em::ConsentState::Pending => ConsentState::Pending,
        em::ConsentState::NotVisible => ConsentState::NotVisible,
        em::ConsentState::Unknown => return None,
    })
}

/// The study's participants with consent, counts and dates (online: read from the server, one
/// request per participant, `on_progress` after each; offline: from the files). Remembers the
/// study's types and rows for the participant view.
pub async fn study_overview(
    state: &AppState,
    study_id: u64,
    on_progress: impl Fn(OverviewProgress) + Send + Sync + 'static,
) -> Result<StudyOverview> {
    study_overview_job(state, study_id, None, on_progress).await
}

/// [`study_overview`] as a job: [`crate::export::cancel_export`] with the same `job_id` stops
/// it (it then fails as cancelled).
pub async fn study_overview_job(
    state: &AppState,
    study_id: u64,
    job_id: Option<&str>,
    on_progress: impl Fn(OverviewProgress) + Send + Sync + 'static,
) -> Result<StudyOverview> {
    let cancel = CancelToken::new();
    if let Some(id) = job_id {
        state.jobs.lock().insert(id.to_string(), cancel.clone());
    }
    let out = overview(state, study_id, cancel, on_progress).await;
    if let Some(id) = job_id {
        state.jobs.lock().remove(id);
    }
    out
}

async fn overview(
    state: &AppState,
    study_id: u64,
    cancel: CancelToken,
    on_progress: impl Fn(OverviewProgress) + Send + Sync + 'static,
) -> Result<StudyOverview> {
    match state.source()? {
        Source::Offline(data) => {
            on_progress(OverviewProgress {
                done: data.overview.patients.len() as u64,
                total: data.overview.patients.len() as u64,
            });
            Ok(data.overview.clone())
        }
        Source::Online { session, .. } => {
            // A study kept on this computer is shown at once from its copy; the UI then syncs it.
            if let Some((overview, scopes)) =
                crate::copies::cached_overview(state, study_id).await?
            {
                let n = overview.patients.len() as u64;
                on_progress(OverviewProgress { done: n, total: n });
                state.scopes.lock().insert(study_id, scopes);
                state
                    .rows
                    .lock()
                    .insert(study_id, overview.patients.clone());
                return Ok(overview);
            }
            let progress = move |p: Progress| {
                on_progress(OverviewProgress {
                    done: p.units_done as u64,
                    total: p.units_total as u64,
                });
            };
            let sum = jobs::study_summary(&session, study_id, 4, progress, cancel).await?;
            audit::record(
                state,
                audit::draft(state, Action::Overview, &session)
                    .study(study_id)
                    .participants(sum.patients.iter().map(|p| p.patient.id))
                    .types(sum.scopes.iter().map(|s| s.coding_code.clone()))
                    .rows(sum.patients.iter().map(|p| p.total).sum()),
            );
            let patients: Vec<PatientRow> = sum
                .patients
                .iter()
                .map(|ps| {
                    let mut row = patient_row(&ps.patient);
                    row.consent = ps
                        .consents
                        .iter()
                        .filter_map(|(code, c)| Some((code.clone(), consent(c)?)))
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
                synced_at: None,
            };
            state.scopes.lock().insert(study_id, sum.scopes);
            state.rows.lock().insert(study_id, patients);
            Ok(overview)
        }
    }
}
