//! Jobs the app and the CLI share: exporting a study ([`export_study`], in [`export`]), the
//! per-participant overview of a study ([`study_summary`], in [`summary`]), its data-quality
//! check ([`check_study`], in [`check`]), its clinical metrics ([`study_metrics`], in
//! [`metrics`]) and a report's data ([`report_input`], in [`report`]), with the progress
//! they report ([`Progress`], in one of the [`Phase`]s).

pub mod check;
pub mod export;
pub mod metrics;
pub mod report;
pub mod summary;
pub mod sync;

use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::api::Session;

pub use check::{check_study, QualityReport};
pub use export::{
    export_from_copy, export_study, unit_key, ExportOutcome, ExportRequest, IdentifierChoice,
};
pub use metrics::{study_metrics, ParticipantMetrics, StudyMetrics};
pub use report::{report_input, ReportRequest};
pub use summary::{study_summary, PatientSummary, StudySummary};
pub use sync::{sync_study, Reconcile, SyncOptions, SyncOutcome};

/// Default number of units fetched at once.
pub const DEFAULT_PARALLELISM: usize = 4;
/// Upper bound of `parallelism` (be gentle with the server).
pub const MAX_PARALLELISM: usize = 16;

/// The ids of a study's participants, or just `patient` (an error when they are not in it).
async fn participants(
    session: &Session,
    study_id: u64,
    patient: Option<u64>,
    cancel: &crate::cancel::CancelToken,
) -> crate::error::Result<Vec<u64>> {
    let all: Vec<u64> = cancel
        .run(session.study_patients(study_id))
        .await?
        .iter()
        .map(|p| p.id)
        .collect();
    match patient {
        None => Ok(all),
        Some(p) if all.contains(&p) => Ok(vec![p]),
        Some(p) => Err(crate::error::Error::InvalidInput(format!(
            "Participant {p} is not in study {study_id} (or your account cannot see them)."
        ))),
    }
}

/// The requested parallelism, within bounds (0: the default).
fn parallelism(requested: usize) -> usize {
    match requested {
        0 => DEFAULT_PARALLELISM,
        n => n.min(MAX_PARALLELISM),
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading the study, its participants and types.
    Planning,
    /// Asking the server how many observations each unit has.
    Counting,
    /// Downloading.
    Fetching,
    /// Writing the final files.
    Finishing,
    /// Study overview: reading participants.
    Summarizing,
    Done,
}

impl Phase {
    /// The phase's name, as serialised (`planning`, `counting`, …).
    pub fn name(self) -> &'static str {
        self.words().0
    }

    /// What the job is doing in this phase, in a few plain words ("Reading the study").
    pub fn label(self) -> &'static str {
        self.words().1
    }

    fn words(self) -> (&'static str, &'static str) {
        match self {
            Phase::Planning => ("planning", "Reading the study"),
            Phase::Counting => ("counting", "Counting observations"),
            Phase::Fetching => ("fetching", "Downloading"),
            Phase::Finishing => ("finishing", "Writing the final files"),
            Phase::Summarizing => ("summarizing", "Reading participants"),
            Phase::Done => ("done", "Done"),
        }
    }
}

/// A progress event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Progress {
    pub phase: Phase,
    /// Observations fetched so far in this run.
    pub fetched: u64,
    /// Observations expected in this run (from `_summary=count`); 0 while unknown.
    pub expected: u64,
    pub units_done: usize,
    pub units_total: usize,
    /// Units taken over from an interrupted earlier run.
    pub units_resumed: usize,
    /// Retries so far (network trouble made visible).
    pub retries: u64,
}

/// A job's progress and where it goes: the one place that changes the phase, sends the event
/// (with the session's retries so far) and logs the phase change.
struct Reporter<'a> {
    job: &'static str,
    /// The session whose retries are reported (`None`: work without network).
    session: Option<&'a Session>,
    send: &'a (dyn Fn(Progress) + Send + Sync),
    started: Instant,
    /// The state sent with the next event.
    p: Progress,
}

impl<'a> Reporter<'a> {
    /// A reporter for `job` (the name in the log); nothing is sent before the first
    /// [`Reporter::enter`].
    fn new(
        job: &'static str,
        session: &'a Session,
        send: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Reporter<'a> {
        Reporter::of(job, Some(session), send)
    }

    /// A reporter of work that uses no network (e.g. an export from a local copy).
    fn offline(job: &'static str, send: &'a (dyn Fn(Progress) + Send + Sync)) -> Reporter<'a> {
        Reporter::of(job, None, send)
    }

    fn of(
        job: &'static str,
        session: Option<&'a Session>,
        send: &'a (dyn Fn(Progress) + Send + Sync),
    ) -> Reporter<'a> {
        Reporter {
            job,
            session,
            send,
            started: Instant::now(),
            p: Progress {
                phase: Phase::Planning,
                fetched: 0,
                expected: 0,
                units_done: 0,
                units_total: 0,
                units_resumed: 0,
                retries: 0,
            },
        }
    }

    /// Moves to `phase`, sends the event and logs the change.
    fn enter(&mut self, phase: Phase) {
        self.p.phase = phase;
        self.send();
        tracing::info!(
            "{}: {} after {} ms",
            self.job,
            phase.name(),
            self.started.elapsed().as_millis()
        );
    }

    /// Sends the current state.
    fn send(&mut self) {
        self.p.retries = self.session.map_or(0, |s| s.stats().retries);
        (self.send)(self.p.clone());
    }
}
