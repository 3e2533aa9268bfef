//! One participant: every type's chart and statistics in a date range, and pages of readings,
//! from the server or from the files under offline review. The last participant's
//! observations stay cached so paging through readings does not download them again.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::{stream, StreamExt, TryStreamExt};
use jhe_engine::api::types as em;
use jhe_engine::api::{ObservationQuery, Session as EngineSession};
use jhe_engine::cancel::CancelToken;
use jhe_engine::chart::Obs;
use jhe_engine::fetch::fetch_observations_map;
use jhe_engine::omh;

use jhe_engine::audit::Action;

use crate::audit;
use crate::error::{Error, Result};
use crate::ipc::*;
use crate::state::{AppState, PatientCache, Source};
use crate::studies::patient_row;
use crate::views;

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

/// Every observation of one participant and type in the range, decoded, and plain sentences
/// about what could not be shown (malformed readings, rows not asked for, a short answer).
async fn fetch_obs(s: &EngineSession, q: ObservationQuery) -> Result<(Vec<Obs>, Vec<String>)> {
    // Decoded page by page as they arrive (no base64 text kept until the last page).
    let mut f = fetch_observations_map(s, &q, &CancelToken::new(), &|_| {}, &|raw| {
        omh::decode_owned(raw)
            .map(|d| Obs::from_decoded(&d))
            .map_err(|p| p.not_asked)
    })
    .await?;
    let complete = f.is_complete();
    let (mut obs, mut unreadable, mut not_asked) = (Vec::new(), f.problems.len() as u64, 0);
    for o in std::mem::take(&mut f.observations) {
        match o {
            Ok(o) => obs.push(o),
            Err(true) => not_asked += 1,
            Err(false) => unreadable += 1,
        }
    }
    let foreign = f.foreign.len() + not_asked;
    let mut notes = Vec::new();
    if unreadable > 0 {
        notes.push(format!(
            "{unreadable} reading(s) could not be read (malformed on the server) and are not shown; an export lists them in problems.csv."
        ));
    }
    if foreign > 0 {
        notes.push(format!(
            "The server sent {foreign} reading(s) of another participant, type or period; they were left out."
        ));
    }
    if !complete {
        notes.push(format!(
            "The server counts {} reading(s) here but sent {}; some may be missing. Open the participant again to retry.",
            f.server_total,
            f.received()
        ));
    }
    Ok((obs, notes))
}

pub async fn patient_data(
    state: &AppState,
    study_id: u64,
    patient_id: u64,
    range: DateRange,
) -> Result<PatientData> {
    let (from, to) = views::parse_range(&range)?;
    let mut notes: HashMap<String, Vec<String>> = HashMap::new();
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
            if let Some((overview, mut held)) =
                crate::copies::participant_obs(state, study_id, patient_id).await?
            {
                let row = overview
                    .patients
                    .iter()
                    .find(|r| r.id == patient_id)
                    .cloned()
                    .ok_or_else(|| {
                        Error::NotFound(format!(
                            "Participant {patient_id} is not in study {study_id} (or your account cannot see them)."
                        ))
                    })?;
                let list = overview
                    .types
                    .iter()
                    .map(|t| {
                        let obs = held.remove(&t.code).unwrap_or_default();
                        (t.code.clone(), views::filter_range(&obs, from, to))
                    })
                    .collect();
                (row, list)
            } else {
                let scopes = study_scopes(state, &session, study_id).await?;
                let row = patient_row_of(state, &session, study_id, patient_id).await?;
                let s = &session;
                let list: Vec<(String, Vec<Obs>, Vec<String>)> =
                    stream::iter(scopes.into_iter().map(|sc| async move {
                        let q = ObservationQuery {
                            study_id: Some(study_id),
                            patient_id: Some(patient_id),
                            code: Some((sc.coding_system.clone(), sc.coding_code.clone())),
                            date_from: from,
                            date_to: to,
                            updated_since: None,
                        };
                        fetch_obs(s, q).await.map(|(o, n)| (sc.coding_code, o, n))
                    }))
                    .buffered(4)
                    .try_collect()
                    .await?;
                audit::record(
                    state,
                    audit::draft(state, Action::Retrieve, &session)
                        .study(study_id)
                        .participants([patient_id])
                        .types(list.iter().map(|(c, _, _)| c.clone()))
                        .window(from, to)
                        .rows(list.iter().map(|(_, o, _)| o.len() as u64).sum()),
                );
                let list = list
                    .into_iter()
                    .map(|(code, obs, n)| {
                        notes.insert(code.clone(), n);
                        (code, obs)
                    })
                    .collect();
                (row, list)
            }
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
            .map(|(code, obs)| {
                let mut series = views::type_series(code, obs, from, to);
                series.notes = notes.remove(code).unwrap_or_default();
                series
            })
            .collect::<Vec<_>>()
    })
    .await?;
    Ok(PatientData {
        patient,
        range,
        types,
    })
}

pub async fn rows(
    state: &AppState,
    patient_id: u64,
    code: &str,
    offset: u64,
    limit: u64,
    range: DateRange,
) -> Result<RowsPage> {
    let (from, to) = views::parse_range(&range)?;
    let cached = state.patient.lock().as_ref().and_then(|c| {
        (c.patient_id == patient_id && c.range == range)
            .then(|| c.obs.get(code).cloned())
            .flatten()
    });
    let obs: Arc<Vec<Obs>> = match cached {
        Some(o) => o,
        None => match state.source()? {
            Source::Offline(data) => {
                Arc::new(views::filter_range(data.of(patient_id, code), from, to))
            }
            Source::Online { session, .. } => {
                let q = ObservationQuery {
                    study_id: None,
                    patient_id: Some(patient_id),
                    code: Some((omh::OMH_SYSTEM.to_string(), code.to_string())),
                    date_from: from,
                    date_to: to,
                    updated_since: None,
                };
                let obs = fetch_obs(&session, q).await?.0;
                audit::record(
                    state,
                    audit::draft(state, Action::Retrieve, &session)
                        .participants([patient_id])
                        .types([code])
                        .window(from, to)
                        .rows(obs.len() as u64),
                );
                Arc::new(obs)
            }
        },
    };
    Ok(views::rows_page(code, &obs, offset, limit))
}
