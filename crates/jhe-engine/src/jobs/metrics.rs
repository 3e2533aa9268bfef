//! Clinical metrics of a study's participants ([`study_metrics`]): per participant, the readings
//! of each type with standard metrics (CGM, blood pressure, steps, SpO2) in the chosen days,
//! fetched and decoded, then [`crate::analysis`] (implausible readings left out and counted).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures_util::{stream, StreamExt};
use serde::Serialize;

use super::{Phase, Progress, Reporter};
use crate::analysis::tables::{type_metrics, TypeMetrics, METRIC_TYPES};
use crate::analysis::{BpMetrics, CgmMetrics, Period, Spo2Metrics, StepMetrics};
use crate::api::types::CodeableConcept;
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::chart::Obs;
use crate::error::{Error, Result};
use crate::fetch::fetch_observations_map;
use crate::omh::{self, DataType};

/// One participant's metrics; a type the study does not ask for, or without readings, is `None`.
#[derive(Clone, Debug, Serialize)]
pub struct ParticipantMetrics {
    pub participant_id: u64,
    pub cgm: Option<CgmMetrics>,
    pub blood_pressure: Option<BpMetrics>,
    pub steps: Option<StepMetrics>,
    pub spo2: Option<Spo2Metrics>,
    /// Implausible readings left out, per type code.
    pub implausible: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct StudyMetrics {
    pub study_id: u64,
    /// The chosen days (UTC, inclusive); `None`: all of each participant's data.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub participants: Vec<ParticipantMetrics>,
    /// When this was computed (RFC 3339, UTC).
    pub generated_at: String,
}

/// Metrics of the study's participants (or of one: `patient`), `parallelism` at a time, over the
/// days `from`–`to` (UTC days, as the server filters; `None`: open).
pub async fn study_metrics(
    session: &Session,
    study_id: u64,
    patient: Option<u64>,
    (from, to): (Option<NaiveDate>, Option<NaiveDate>),
    parallelism: usize,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<StudyMetrics> {
    let parallelism = super::parallelism(parallelism);
    cancel.run(session.study(study_id)).await?;
    let scopes: Vec<CodeableConcept> = cancel.run(session.study_scopes(study_id)).await?;
    let patients = super::participants(session, study_id, patient, &cancel).await?;
    let wanted: Vec<(&DataType, &CodeableConcept)> = METRIC_TYPES
        .iter()
        .flat_map(|t| {
            scopes
                .iter()
                .filter(move |s| DataType::from_code(&s.coding_code) == *t)
                .map(move |s| (t, s))
        })
        .collect();
    let mut report = Reporter::new("metrics", session, &progress);
    report.p.units_total = patients.len();
    report.enter(Phase::Fetching);
    let (cancel_ref, wanted_ref) = (&cancel, &wanted);
    let mut rows = stream::iter(patients.into_iter().map(|pid| async move {
        let mut m = ParticipantMetrics {
            participant_id: pid,
            cgm: None,
            blood_pressure: None,
            steps: None,
            spo2: None,
            implausible: BTreeMap::new(),
        };
        for (view, scope) in wanted_ref {
            let q = ObservationQuery {
                study_id: Some(study_id),
                patient_id: Some(pid),
                code: Some((scope.coding_system.clone(), scope.coding_code.clone())),
                date_from: from,
                date_to: to,
                updated_since: None,
            };
            let f = fetch_observations_map(session, &q, cancel_ref, &|_| {}, &|raw| {
                omh::decode_owned(raw).ok().map(|d| Obs::from_decoded(&d))
            })
            .await?;
            let obs: Vec<Obs> = f.observations.into_iter().flatten().collect();
            if obs.is_empty() {
                continue;
            }
            let Some((metrics, left_out)) = type_metrics(view, &pid.to_string(), &obs, Period::ALL)
            else {
                continue;
            };
            match metrics {
                TypeMetrics::Cgm(c) => m.cgm = Some(c),
                TypeMetrics::BloodPressure(b) => m.blood_pressure = Some(b),
                TypeMetrics::Steps(s) => m.steps = Some(s),
                TypeMetrics::Spo2(s) => m.spo2 = Some(s),
            }
            if left_out > 0 {
                m.implausible.insert(scope.coding_code.clone(), left_out);
            }
        }
        Ok::<_, Error>(m)
    }))
    .buffered(parallelism);
    let mut participants = Vec::new();
    while let Some(r) = rows.next().await {
        participants.push(r?);
        report.p.units_done += 1;
        report.send();
    }
    report.enter(Phase::Done);
    Ok(StudyMetrics {
        study_id,
        from,
        to,
        participants,
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}
