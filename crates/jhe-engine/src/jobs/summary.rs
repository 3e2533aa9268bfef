//! The per-participant overview of a study ([`study_summary`]): consent and observation
//! counts per requested type, first and last data date, days since the last upload.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Phase, Progress, Reporter};
use crate::api::types::{CodeableConcept, ConsentState, Patient, Study};
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};

/// One row of the app's study table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PatientSummary {
    pub patient: Patient,
    /// Consent per requested type (key: coding code).
    pub consents: BTreeMap<String, ConsentState>,
    /// Observations per requested type (key: coding code).
    pub counts: BTreeMap<String, u64>,
    pub total: u64,
    /// Earliest and latest effective time (RFC 3339, UTC) of the study's data; the latest is the
    /// latest up to today (readings dated in the future are left to the data-quality check).
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    /// Latest server write time (`meta.lastUpdated`).
    pub last_upload: Option<String>,
    /// Whole days since `last_upload`.
    pub days_since_last_upload: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct StudySummary {
    pub study: Study,
    /// The types the study requests, in the order of the columns.
    pub scopes: Vec<CodeableConcept>,
    pub patients: Vec<PatientSummary>,
    /// When this was computed (RFC 3339, UTC).
    pub generated_at: String,
}

/// The effective time of a FHIR Observation (instant, or the period start).
fn effective_of(resource: &Value) -> Option<String> {
    resource
        .get("effectiveDateTime")
        .and_then(Value::as_str)
        .or_else(|| {
            resource
                .pointer("/effectivePeriod/start")
                .and_then(Value::as_str)
        })
        .map(str::to_string)
}

/// Per participant: consent per requested type, counts per type, first and last data date, and
/// days since the last upload. `parallelism` participants are read at once.
pub async fn study_summary(
    session: &Session,
    study_id: u64,
    parallelism: usize,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<StudySummary> {
    let parallelism = super::parallelism(parallelism);
    let study = cancel.run(session.study(study_id)).await?;
    let scopes = cancel.run(session.study_scopes(study_id)).await?;
    let patients = cancel.run(session.study_patients(study_id)).await?;
    let total = patients.len();
    let mut report = Reporter::new("summary", session, &progress);
    report.p.expected = total as u64;
    report.p.units_total = total;
    report.enter(Phase::Summarizing);
    let now = Utc::now();
    let scopes_ref = &scopes;
    let cancel_ref = &cancel;
    let mut out = Vec::with_capacity(total);
    {
        let mut rows = stream::iter(patients.into_iter().map(|pt| async move {
            summarize_patient(session, study_id, pt, scopes_ref, now, cancel_ref).await
        }))
        .buffered(parallelism);
        while let Some(r) = rows.next().await {
            out.push(r?);
            report.p.units_done += 1;
            report.p.fetched += 1;
            report.send();
        }
    }
    report.enter(Phase::Done);
    Ok(StudySummary {
        study,
        scopes,
        patients: out,
        generated_at: now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

async fn summarize_patient(
    session: &Session,
    study_id: u64,
    patient: Patient,
    scopes: &[CodeableConcept],
    now: DateTime<Utc>,
    cancel: &CancelToken,
) -> Result<PatientSummary> {
    let consents = match cancel.run(session.patient_consents(patient.id)).await {
        Ok(c) => Some(c),
        // Consents of a participant outside the user's organizations: not visible to this user
        // (which is not the same as "not asked").
        Err(Error::Forbidden { .. }) | Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut consent_map = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for s in scopes {
        let state = consents
            .as_ref()
            .map(|c| c.state(study_id, &s.coding_system, &s.coding_code))
            .unwrap_or(ConsentState::NotVisible);
        consent_map.insert(s.coding_code.clone(), state);
        let q = ObservationQuery {
            study_id: Some(study_id),
            patient_id: Some(patient.id),
            code: Some((s.coding_system.clone(), s.coding_code.clone())),
            ..Default::default()
        };
        let n = cancel.run(session.observation_count(&q)).await?;
        counts.insert(s.coding_code.clone(), n);
    }
    let total = counts.values().sum();
    let q = ObservationQuery {
        study_id: Some(study_id),
        patient_id: Some(patient.id),
        ..Default::default()
    };
    let (first_date, last_date, last_upload) = if total == 0 {
        (None, None, None)
    } else {
        let first = cancel.run(session.observation_edge(&q, true)).await?;
        // "Last data" is the latest reading dated up to today (UTC): one dated later comes from
        // a wrong device clock (`jhe check` reports it), not from the participant still uploading.
        let until_today = ObservationQuery {
            date_to: Some(now.date_naive()),
            ..q.clone()
        };
        let last = match cancel
            .run(session.observation_edge(&until_today, false))
            .await?
        {
            Some(r) => Some(r),
            None => cancel.run(session.observation_edge(&q, false)).await?,
        };
        let upload = cancel
            .run(session.observation_sorted_first(&q, "-_lastUpdated"))
            .await?;
        (
            first.as_ref().and_then(effective_of),
            last.as_ref().and_then(effective_of),
            upload
                .as_ref()
                .and_then(|r| r.pointer("/meta/lastUpdated"))
                .and_then(Value::as_str)
                .map(str::to_string),
        )
    };
    let days_since_last_upload = last_upload
        .as_deref()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| (now - t.with_timezone(&Utc)).num_days());
    Ok(PatientSummary {
        patient,
        consents: consent_map,
        counts,
        total,
        first_date,
        last_date,
        last_upload,
        days_since_last_upload,
    })
}
