//! The data-quality check of a study ([`check_study`]): every observation of each participant
//! (of any type, so readings of types the study does not ask for are seen too), decoded and
//! checked by [`crate::analysis::quality::check`].

use futures_util::{stream, StreamExt};
use serde::Serialize;

use super::{Phase, Progress, Reporter};
use crate::analysis::quality::{self, Finding};
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::error::Result;
use crate::fetch::fetch_observations_map;
use crate::omh::{self, Problem};

/// What [`check_study`] found.
#[derive(Clone, Debug, Serialize)]
pub struct QualityReport {
    pub study_id: u64,
    /// Participants checked.
    pub participants: usize,
    /// Observations read (all types).
    pub observations: u64,
    /// Observations that could not be read at all (malformed); listed by `jhe export` in
    /// `problems.csv`.
    pub unreadable: u64,
    pub findings: Vec<Finding>,
    /// When this was computed (RFC 3339, UTC).
    pub generated_at: String,
}

/// Checks the data of a study's participants (or of one: `patient`), `parallelism` at a time.
pub async fn check_study(
    session: &Session,
    study_id: u64,
    patient: Option<u64>,
    parallelism: usize,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<QualityReport> {
    let parallelism = super::parallelism(parallelism);
    cancel.run(session.study(study_id)).await?;
    let scopes: Vec<String> = cancel
        .run(session.study_scopes(study_id))
        .await?
        .into_iter()
        .map(|s| s.coding_code)
        .collect();
    let patients = super::participants(session, study_id, patient, &cancel).await?;
    let mut report = Reporter::new("check", session, &progress);
    report.p.units_total = patients.len();
    report.enter(Phase::Fetching);
    let now_us = chrono::Utc::now().timestamp_micros();
    let cancel_ref = &cancel;
    let mut out = QualityReport {
        study_id,
        participants: patients.len(),
        observations: 0,
        unreadable: 0,
        findings: Vec::new(),
        generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    };
    let scopes_ref = &scopes;
    let mut rows = stream::iter(patients.into_iter().map(|pid| async move {
        let q = ObservationQuery {
            patient_id: Some(pid),
            ..Default::default()
        };
        let f =
            fetch_observations_map(session, &q, cancel_ref, &|_| {}, &omh::decode_owned).await?;
        let mut decoded = Vec::with_capacity(f.observations.len());
        let mut problems: Vec<Problem> = f.problems;
        problems.extend(f.foreign);
        for o in f.observations {
            match o {
                Ok(d) => decoded.push(d),
                Err(p) => problems.push(p),
            }
        }
        let findings = quality::check(&decoded, &problems, scopes_ref, now_us);
        let unreadable = problems.iter().filter(|p| !p.not_asked).count() as u64;
        Ok::<_, crate::error::Error>((decoded.len() as u64 + unreadable, unreadable, findings))
    }))
    .buffered(parallelism);
    while let Some(r) = rows.next().await {
        let (n, unreadable, findings) = r?;
        out.observations += n;
        out.unreadable += unreadable;
        out.findings.extend(findings);
        report.p.units_done += 1;
        report.p.fetched += n;
        report.send();
    }
    report.enter(Phase::Done);
    Ok(out)
}
