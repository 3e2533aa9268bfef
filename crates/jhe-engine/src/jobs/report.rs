//! Gathering a report's data from the server ([`report_input`]): per participant of the study
//! (or just one), every observation of the study's types in the chosen days, decoded once,
//! checked for quality ([`crate::analysis::quality::Checker`]) and kept as [`Obs`] for the
//! report ([`crate::report::render`]).

use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures_util::{stream, StreamExt};

use super::{Phase, Progress, Reporter};
use crate::analysis::quality::Checker;
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::chart::Obs;
use crate::error::{Error, Result};
use crate::fetch::fetch_observations_map;
use crate::omh::{self, Problem};
use crate::report::{ParticipantInput, Provenance, ReportInput};

/// What to report on.
#[derive(Clone, Debug)]
pub struct ReportRequest {
    pub study_id: u64,
    /// One participant (a participant report), or the whole study.
    pub patient: Option<u64>,
    /// UTC days, inclusive; `None`: open.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Participants fetched at once (0: the default).
    pub parallelism: usize,
    /// Who makes the report, e.g. "jhe 0.9.0".
    pub generated_by: String,
}

/// The report's data, fetched from the server.
pub async fn report_input(
    session: &Session,
    req: &ReportRequest,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<ReportInput> {
    let parallelism = super::parallelism(req.parallelism);
    let study = cancel.run(session.study(req.study_id)).await?;
    let scopes: Vec<String> = cancel
        .run(session.study_scopes(req.study_id))
        .await?
        .into_iter()
        .map(|s| s.coding_code)
        .collect();
    let all = cancel.run(session.study_patients(req.study_id)).await?;
    let names: BTreeMap<u64, String> = all.iter().map(|p| (p.id, p.display_name())).collect();
    let ids = super::participants(session, req.study_id, req.patient, &cancel).await?;
    let mut report = Reporter::new("report", session, &progress);
    report.p.units_total = ids.len();
    report.enter(Phase::Fetching);
    let now_us = chrono::Utc::now().timestamp_micros();
    let (cancel_ref, scopes_ref) = (&cancel, &scopes);
    let mut rows = stream::iter(ids.into_iter().map(|pid| async move {
        let q = ObservationQuery {
            study_id: Some(req.study_id),
            patient_id: Some(pid),
            code: None,
            date_from: req.from,
            date_to: req.to,
            updated_since: None,
        };
        let f =
            fetch_observations_map(session, &q, cancel_ref, &|_| {}, &omh::decode_owned).await?;
        let mut checker = Checker::new(scopes_ref, now_us);
        let mut obs: BTreeMap<String, Vec<Obs>> = BTreeMap::new();
        let mut problems: Vec<Problem> = f.problems;
        problems.extend(f.foreign);
        let mut n = 0u64;
        for o in f.observations {
            match o {
                Ok(d) => {
                    checker.push(&d);
                    n += 1;
                    obs.entry(d.code.clone())
                        .or_default()
                        .push(Obs::from_decoded(&d));
                }
                Err(p) => problems.push(p),
            }
        }
        checker.not_asked_for(&problems);
        Ok::<_, Error>((pid, obs, checker.finish(), n))
    }))
    .buffered(parallelism);
    let mut participants = Vec::new();
    let mut findings = Vec::new();
    while let Some(r) = rows.next().await {
        let (id, obs, found, n) = r?;
        participants.push(ParticipantInput {
            id,
            name: names.get(&id).cloned().unwrap_or_default(),
            obs,
        });
        findings.extend(found);
        report.p.units_done += 1;
        report.p.fetched += n;
        report.send();
    }
    findings.sort_by(|a, b| {
        (a.participant_id, a.kind, &a.code).cmp(&(b.participant_id, b.kind, &b.code))
    });
    report.enter(Phase::Done);
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let profile = session.profile();
    Ok(ReportInput {
        provenance: Provenance {
            generated_by: req.generated_by.clone(),
            generated_at: now.clone(),
            source: format!("{} (live)", session.server().url),
            fetched_at: now,
            account: profile.email.clone().filter(|e| !e.is_empty()),
            study_id: study.id,
            study_name: study.name.clone(),
            organization: study.organization.name.clone().unwrap_or_default(),
            from: req.from,
            to: req.to,
            warnings: Vec::new(),
        },
        participants,
        findings: Some(findings),
        single: req.patient.is_some(),
    })
}
