//! Exporting a study ([`export_study`]) in four steps: *plan* the units (participants × types),
//! *count* what is to come, *fetch* the units and write each one, *finish* the final files.
//!
//! An export works in *units* (one participant × one data type, all pages). Units already
//! written by an earlier, interrupted run of the same export are skipped (the data helper's
//! [`Export::is_done`]); each unit is written only after all of its pages arrived, so a failure
//! or a cancel never loses what was already written and never writes half a unit.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use chrono::NaiveDate;
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Semaphore};

use super::{parallelism, Phase, Progress, Reporter, DEFAULT_PARALLELISM};
use crate::api::types::{CodeableConcept, ConsentState, Patient};
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::export::{
    Deidentify, Export, ExportError, ExportSpec, Flagged, Format, Layout, Manifest, Participant,
    Passphrase, PreparedUnit, UnitBuilder,
};
use crate::fetch::fetch_observations_each;
use crate::http::HttpStatsSnapshot;
use crate::omh::{self, DataType, RawObservation};

mod fetch;
mod from_copy;
use fetch::Fetch;
pub use from_copy::export_from_copy;

/// What to export.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ExportRequest {
    pub study_id: u64,
    /// `None` = every participant of the study.
    pub patient_ids: Option<Vec<u64>>,
    /// `None` = every type the study requests. Full codes (`omh:heart-rate:2.0`) or names
    /// (`heart-rate`).
    pub codes: Option<Vec<String>>,
    /// First day (UTC, by effective time), inclusive.
    pub date_from: Option<NaiveDate>,
    /// Last day (UTC), inclusive.
    pub date_to: Option<NaiveDate>,
    pub format: Format,
    pub layout: Layout,
    pub out_dir: PathBuf,
    /// Units fetched at once (default 4).
    pub parallelism: usize,
    /// Which identifiers `participants.csv` lists.
    #[serde(default)]
    pub identifiers: IdentifierChoice,
    /// Whether observations the data-quality check finds wrong are written (`findings.csv`
    /// lists them either way).
    #[serde(default)]
    pub flagged: Flagged,
    /// De-identify the export (pseudonyms, shifted times, identifiers and free text dropped:
    /// [`crate::export::deidentify`]); `None`: a plain export. Never serialized (it holds the
    /// key): get it with [`Deidentify::load`].
    #[serde(skip)]
    pub deidentify: Option<Deidentify>,
    /// Encrypt the export to this passphrase: one `.tar.age` file in `out_dir`, made in memory
    /// so no plaintext reaches the disk ([`crate::export::sealed`]); `None`: a folder. Never
    /// serialized.
    #[serde(skip)]
    pub encrypt: Option<Passphrase>,
}

/// Which of the participants' identifiers (MRN, e-mail, study id, …) go into
/// `participants.csv`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IdentifierChoice {
    /// Every identifier the server lists for them.
    #[default]
    All,
    /// None: the participant id only.
    None,
    /// Those of these systems (exactly as the server writes them).
    Systems(Vec<String>),
}

impl IdentifierChoice {
    fn keeps(&self, system: &str) -> bool {
        match self {
            IdentifierChoice::All => true,
            IdentifierChoice::None => false,
            IdentifierChoice::Systems(s) => s.iter().any(|x| x == system),
        }
    }
}

impl ExportRequest {
    /// Every participant and type of `study_id`, as Parquet, one file per type.
    pub fn new(study_id: u64, out_dir: impl Into<PathBuf>) -> ExportRequest {
        ExportRequest {
            study_id,
            patient_ids: None,
            codes: None,
            date_from: None,
            date_to: None,
            format: Format::Parquet,
            layout: Layout::PerType,
            out_dir: out_dir.into(),
            parallelism: DEFAULT_PARALLELISM,
            identifiers: IdentifierChoice::All,
            flagged: Flagged::Keep,
            deidentify: None,
            encrypt: None,
        }
    }

    /// The search for `code`'s observations of one participant (`None`: of the whole study).
    fn query(&self, code: &CodeableConcept, patient_id: Option<u64>) -> ObservationQuery {
        ObservationQuery {
            study_id: Some(self.study_id),
            patient_id,
            code: Some((code.coding_system.clone(), code.coding_code.clone())),
            date_from: self.date_from,
            date_to: self.date_to,
            updated_since: None,
        }
    }
}

/// What an export did.
#[derive(Clone, Debug, Serialize)]
pub struct ExportOutcome {
    /// Where the files are: the chosen folder, or a new subfolder of it when it already held
    /// other files (`study-30006_2026-12-02_1415`); for an encrypted export, its one file in
    /// the chosen folder (`study-30006_2026-12-02_1415.tar.age`).
    pub out_dir: PathBuf,
    /// True when every unit's rows match the server's total.
    pub complete: bool,
    /// Plain sentences for the user (incomplete units, skipped malformed observations, …).
    pub warnings: Vec<String>,
    pub units_total: usize,
    pub units_resumed: usize,
    pub units_fetched: usize,
    /// Observations fetched in this run (distinct).
    pub fetched: u64,
    /// The server's count for the units fetched in this run.
    pub expected: u64,
    pub manifest: Manifest,
    pub http: HttpStatsSnapshot,
}

impl From<ExportError> for Error {
    fn from(e: ExportError) -> Error {
        Error::Export {
            detail: e.to_string(),
        }
    }
}

/// Runs the export's file work on the blocking pool.
async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> std::result::Result<T, ExportError> + Send + 'static,
) -> Result<T> {
    let r = tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| Error::Export {
            detail: e.to_string(),
        })?;
    Ok(r?)
}

/// The key of a unit: `<patient id>/<code>`.
pub fn unit_key(patient_id: u64, code: &str) -> String {
    format!("{patient_id}/{code}")
}

/// Exports a study: plans the units (participants × types), skips units an interrupted earlier
/// run already wrote, counts the rest (`_summary=count`), fetches them `parallelism` at a time
/// and writes each one as soon as all its pages arrived, then writes the final files, the data
/// dictionary and `manifest.json`.
///
/// On failure or cancel, the units written so far stay on disk and a repeated call with the
/// same request resumes; the error is returned ([`Error::Cancelled`] for a cancel).
pub async fn export_study(
    session: &Session,
    req: ExportRequest,
    progress: impl Fn(Progress) + Send + Sync,
    cancel: CancelToken,
) -> Result<ExportOutcome> {
    check_dates(&req)?;
    let parallelism = parallelism(req.parallelism);
    let mut report = Reporter::new("export", session, &progress);
    report.enter(Phase::Planning);

    let mut plan = Plan::make(session, &req, &cancel).await?;
    report.p.units_total = plan.units_total;
    report.p.units_resumed = plan.resumed;
    report.p.units_done = plan.resumed;
    report.enter(Phase::Counting);

    match plan.count(session, &req, parallelism, &cancel).await {
        Ok(expected) => report.p.expected = expected,
        Err(e) => {
            plan.export.abort();
            return Err(e);
        }
    }
    report.enter(Phase::Fetching);

    let Plan {
        export,
        todo,
        units_total,
        resumed,
        patients: plan_patients,
        codes,
        ..
    } = plan;
    let fetch = Fetch::new(&req, &todo);
    // The participants' consents (for participants.csv) come in while the data does.
    let (fetched, people) = tokio::join!(
        fetch.run(
            session,
            &req,
            export,
            todo,
            parallelism,
            &cancel,
            &mut report,
        ),
        participants(session, &req, &plan_patients, &codes, parallelism, &cancel)
    );
    let (mut export, fetched) = fetched?;
    export.set_participants(
        people?,
        codes.iter().map(|c| c.coding_code.clone()).collect(),
    );

    report.enter(Phase::Finishing);
    let out_dir = export.spec().out_dir.clone();
    let manifest = blocking(move || export.finish()).await?;
    let (complete, warnings) = warnings(&manifest, fetched.short_units);
    report.enter(Phase::Done);
    Ok(ExportOutcome {
        out_dir,
        complete,
        warnings,
        units_total,
        units_resumed: resumed,
        units_fetched: fetched.units,
        fetched: fetched.rows,
        expected: report.p.expected,
        manifest,
        http: session.stats(),
    })
}

/// A period that ends before it starts is refused.
fn check_dates(req: &ExportRequest) -> Result<()> {
    if let (Some(f), Some(t)) = (req.date_from, req.date_to) {
        if f > t {
            return Err(Error::InvalidInput(format!(
                "The start date {f} is after the end date {t}."
            )));
        }
    }
    Ok(())
}

// ----- plan -------------------------------------------------------------------------------------

struct Unit {
    key: String,
    patient_id: u64,
    code: CodeableConcept,
    expected: u64,
}

/// The export folder opened and the units listed: what is left to fetch, and what an earlier
/// run already holds.
struct Plan {
    export: Export,
    codes: Vec<CodeableConcept>,
    /// Units still to fetch.
    todo: Vec<Unit>,
    units_total: usize,
    /// Units taken over from an interrupted earlier run.
    resumed: usize,
    /// Per coding code: observations the resumed units already hold.
    resumed_rows: HashMap<String, u64>,
    /// Every participant of the study (none chosen).
    whole_study: bool,
    study_patients: u64,
    /// The participants exported, in the study's order.
    patients: Vec<Patient>,
}

impl Plan {
    /// Reads the study, its types and participants, selects the requested ones and opens the
    /// export folder (resuming an earlier run of the same request).
    async fn make(session: &Session, req: &ExportRequest, cancel: &CancelToken) -> Result<Plan> {
        // The study, its types and participants, asked at once (one round trip, not three);
        // the study's own answer goes first, as it explains a 403.
        let study_id = req.study_id;
        let (study, scopes, patients) = cancel
            .run(async {
                Ok(tokio::join!(
                    session.study(study_id),
                    session.study_scopes(study_id),
                    session.study_patients(study_id)
                ))
            })
            .await?;
        study?;
        let codes = select_codes(&scopes?, req.codes.as_deref(), study_id)?;
        let patients = select_patients(patients?, req.patient_ids.as_deref(), study_id)?;
        Plan::open(&session.server().url.to_string(), req, codes, patients).await
    }

    /// Opens the export folder of `req` (resuming an earlier run of the same request) and lists
    /// the units of the chosen `codes` × `patients` (from the server or a local copy).
    async fn open(
        server: &str,
        req: &ExportRequest,
        codes: Vec<CodeableConcept>,
        patients: Vec<Patient>,
    ) -> Result<Plan> {
        let spec = export_spec(server, req, &codes);
        let export = blocking(move || Export::open(spec)).await?;
        let mut plan = Plan {
            export,
            codes,
            todo: Vec::new(),
            units_total: 0,
            resumed: 0,
            resumed_rows: HashMap::new(),
            whole_study: req.patient_ids.as_ref().is_none_or(|p| p.is_empty()),
            study_patients: patients.len() as u64,
            patients: Vec::new(),
        };
        plan.list_units(&patients);
        plan.patients = patients;
        Ok(plan)
    }

    /// Lists the units; an earlier run's unit is kept unless it came up short of the server's
    /// total.
    fn list_units(&mut self, patients: &[Patient]) {
        for pt in patients {
            for c in &self.codes {
                self.units_total += 1;
                let key = unit_key(pt.id, &c.coding_code);
                if self.export.is_done(&key) {
                    let report = self.export.unit_report(&key);
                    let short =
                        report.is_some_and(|r| r.server_total.is_some_and(|t| t != r.fetched));
                    if !short {
                        self.resumed += 1;
                        *self.resumed_rows.entry(c.coding_code.clone()).or_default() +=
                            report.map_or(0, |r| r.fetched);
                        continue;
                    }
                }
                self.todo.push(Unit {
                    key,
                    patient_id: pt.id,
                    code: c.clone(),
                    expected: 0,
                });
            }
        }
    }

    /// Counts what is to come (for progress, and to fetch the largest units first) and
    /// returns the observations expected in this run. For a whole study one count per type
    /// suffices (each participant's share is taken as the average); for chosen participants,
    /// one per participant and type. Either way at `parallelism` at a time: on a real server
    /// each count is a round trip of about the time of a page.
    async fn count(
        &mut self,
        session: &Session,
        req: &ExportRequest,
        parallelism: usize,
        cancel: &CancelToken,
    ) -> Result<u64> {
        let queries: Vec<ObservationQuery> = if self.whole_study {
            self.codes.iter().map(|c| req.query(c, None)).collect()
        } else {
            self.todo
                .iter()
                .map(|u| req.query(&u.code, Some(u.patient_id)))
                .collect()
        };
        let counts: Vec<Result<u64>> = stream::iter(queries.iter().map(|q| {
            let cancel = cancel.clone();
            async move { cancel.run(session.observation_count(q)).await }
        }))
        .buffered(parallelism)
        .collect()
        .await;
        let counts = counts.into_iter().collect::<Result<Vec<u64>>>()?;
        let mut expected = 0;
        if self.whole_study {
            for (c, n) in self.codes.iter().zip(&counts) {
                let share = n.div_ceil(self.study_patients.max(1));
                let mut left = *n;
                for u in self.todo.iter_mut().filter(|u| {
                    u.code.coding_code == c.coding_code && u.code.coding_system == c.coding_system
                }) {
                    u.expected = share.min(left);
                    left -= u.expected;
                }
                // what units resumed from an earlier run already hold is not to come
                let held = self.resumed_rows.get(&c.coding_code).copied().unwrap_or(0);
                expected += n.saturating_sub(held);
            }
        } else {
            for (u, n) in self.todo.iter_mut().zip(&counts) {
                u.expected = *n;
            }
            expected = self.todo.iter().map(|u| u.expected).sum();
        }
        // Largest units first: a big unit's pages come one after another (each `next` link is
        // only known from the page before), so one started last would leave the other slots
        // idle.
        self.todo.sort_by_key(|u| std::cmp::Reverse(u.expected));
        Ok(expected)
    }
}

/// What `participants.csv` says of each exported participant: the chosen identifiers and the
/// consent per requested type (`parallelism` participants' consents asked at once). Consents
/// the account may not see are `not_visible`.
async fn participants(
    session: &Session,
    req: &ExportRequest,
    patients: &[Patient],
    codes: &[CodeableConcept],
    parallelism: usize,
    cancel: &CancelToken,
) -> Result<Vec<Participant>> {
    let asks = patients.iter().map(|p| async move {
        let consents = match cancel.run(session.patient_consents(p.id)).await {
            Ok(c) => Some(c),
            Err(Error::Forbidden { .. }) | Err(Error::NotFound { .. }) => None,
            Err(e) => return Err(e),
        };
        Ok(participant_of(req, p, consents.as_ref(), codes))
    });
    stream::iter(asks)
        .buffered(parallelism.max(1))
        .collect::<Vec<Result<Participant>>>()
        .await
        .into_iter()
        .collect()
}

/// One participant's line of `participants.csv`: the chosen identifiers, the consent per type
/// (`not_visible` without `consents`), when they first consented.
fn participant_of(
    req: &ExportRequest,
    p: &Patient,
    consents: Option<&crate::api::types::PatientConsents>,
    codes: &[CodeableConcept],
) -> Participant {
    let study_id = req.study_id;
    let states = codes
        .iter()
        .map(|c| {
            let state = consents.map_or(ConsentState::NotVisible, |k| {
                k.state(study_id, &c.coding_system, &c.coding_code)
            });
            (c.coding_code.clone(), consent_text(state).to_string())
        })
        .collect();
    let first_consent_utc = consents.and_then(|k| {
        k.studies
            .iter()
            .filter(|s| s.id == study_id)
            .flat_map(|s| &s.scope_consents)
            .filter_map(|c| c.consented_time.as_deref())
            .filter_map(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .min()
            .map(|t| t.to_rfc3339())
    });
    Participant {
        patient_id: p.id,
        identifiers: p
            .identifiers
            .iter()
            .filter_map(|i| Some((i.system.clone()?, i.value.clone()?)))
            .filter(|(s, v)| !v.is_empty() && req.identifiers.keeps(s))
            .collect(),
        consents: states,
        first_consent_utc,
    }
}

/// A consent state as `participants.csv` writes it.
fn consent_text(s: ConsentState) -> &'static str {
    match s {
        ConsentState::Consented => "consented",
        ConsentState::Declined => "declined",
        ConsentState::Pending => "pending",
        ConsentState::Unknown => "unknown",
        ConsentState::NotVisible => "not_visible",
    }
}

/// The export's spec (what identifies it for resuming) for `req`.
fn export_spec(server: &str, req: &ExportRequest, codes: &[CodeableConcept]) -> ExportSpec {
    let mut patient_ids = req.patient_ids.clone().unwrap_or_default();
    patient_ids.sort_unstable();
    patient_ids.dedup();
    let codes: Vec<String> = if req.codes.as_ref().is_some_and(|c| !c.is_empty()) {
        codes.iter().map(|c| c.coding_code.clone()).collect()
    } else {
        Vec::new()
    };
    ExportSpec {
        patient_ids,
        codes,
        date_from: req.date_from.map(|d| d.to_string()),
        date_to: req.date_to.map(|d| d.to_string()),
        flagged: req.flagged,
        deidentify: req.deidentify.clone(),
        encrypt: req.encrypt.clone(),
        ..ExportSpec::new(
            &req.out_dir,
            req.format,
            req.layout,
            server,
            Some(req.study_id),
        )
    }
}

/// Resolves requested codes against the study's types: full codes or schema names.
fn select_codes(
    scopes: &[CodeableConcept],
    wanted: Option<&[String]>,
    study_id: u64,
) -> Result<Vec<CodeableConcept>> {
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return Ok(scopes.to_vec());
    };
    let mut out: Vec<CodeableConcept> = Vec::new();
    for w in wanted {
        let w = w.trim();
        let found = scopes.iter().find(|s| {
            s.coding_code.eq_ignore_ascii_case(w)
                || s.token().eq_ignore_ascii_case(w)
                || s.coding_code
                    .split(':')
                    .nth(1)
                    .is_some_and(|name| name.eq_ignore_ascii_case(w))
        });
        match found {
            Some(s) => {
                if !out.iter().any(|o| o.token() == s.token()) {
                    out.push(s.clone());
                }
            }
            None => {
                let list = scopes
                    .iter()
                    .map(|s| s.coding_code.as_str())
                    .collect::<Vec<_>>()
                    .join(", ");
                return Err(Error::InvalidInput(format!(
                    "Study {study_id} does not collect the type \"{w}\". Its types are: {}.",
                    if list.is_empty() { "none" } else { &list }
                )));
            }
        }
    }
    Ok(out)
}

fn select_patients(
    patients: Vec<Patient>,
    wanted: Option<&[u64]>,
    study_id: u64,
) -> Result<Vec<Patient>> {
    let Some(wanted) = wanted.filter(|w| !w.is_empty()) else {
        return Ok(patients);
    };
    let mut out = Vec::new();
    for id in wanted {
        match patients.iter().find(|p| p.id == *id) {
            Some(p) => {
                if !out.iter().any(|o: &Patient| o.id == p.id) {
                    out.push(p.clone());
                }
            }
            None => {
                return Err(Error::InvalidInput(format!(
                    "Patient {id} is not a participant of study {study_id} (or your account cannot see them). List the participants with `jhe patients --study {study_id}`."
                )))
            }
        }
    }
    Ok(out)
}

/// Whether the export is complete, and the warnings for the user: incomplete units (from the
/// manifest, and `short_units` the fetch step saw) and skipped malformed observations.
fn warnings(manifest: &Manifest, short_units: Vec<String>) -> (bool, Vec<String>) {
    let mut warnings = Vec::new();
    let complete = manifest.server_total_mismatches.is_empty() && short_units.is_empty();
    if !complete {
        let mut units: Vec<String> = manifest
            .server_total_mismatches
            .iter()
            .map(|m| {
                format!(
                    "{}: {} of {} observations",
                    m.unit,
                    m.fetched.saturating_sub(m.duplicates_dropped),
                    m.server_total.unwrap_or_default()
                )
            })
            .collect();
        for s in short_units {
            if !units.contains(&s) {
                units.push(s);
            }
        }
        warnings.push(format!(
            "The export is incomplete: for {} participant/type pair(s) the number of observations received differs from the server's count ({}). Run the export again to retry them.",
            units.len(),
            units.join("; ")
        ));
    }
    if manifest.foreign_rows_dropped > 0 {
        warnings.push(format!(
            "The server sent {} observation(s) that were not asked for (of another participant or type, or dated outside the chosen dates); they were left out of the export and are listed in problems.csv, and {} participant/type pair(s) are marked suspect in manifest.json. Tell the server's administrator: the server may be misconfigured.",
            manifest.foreign_rows_dropped,
            manifest.units.iter().filter(|u| u.suspect).count()
        ));
    }
    if manifest.flagged_left_out > 0 {
        warnings.push(format!(
            "As asked, {} observation(s) the data-quality check found wrong (implausible values, dated in the future, or the same reading sent again) were left out of the data files; findings.csv lists them.",
            manifest.flagged_left_out
        ));
    }
    if manifest.problems_count > 0 {
        warnings.push(format!(
            "{} malformed observation(s) were skipped and listed in problems.csv; the rest of the data is complete.",
            manifest.problems_count
        ));
    }
    (complete, warnings)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cc(code: &str) -> CodeableConcept {
        CodeableConcept {
            id: 1,
            coding_system: "https://w3id.org/openmhealth".into(),
            coding_code: code.into(),
            text: None,
        }
    }

    #[test]
    fn codes_match_by_full_code_or_name() -> Result<()> {
        let scopes = vec![cc("omh:heart-rate:2.0"), cc("omh:blood-glucose:4.0")];
        let got = select_codes(&scopes, Some(&["heart-rate".to_string()]), 1)?;
        assert_eq!(got[0].coding_code, "omh:heart-rate:2.0");
        let got = select_codes(&scopes, Some(&["omh:blood-glucose:4.0".to_string()]), 1)?;
        assert_eq!(got[0].coding_code, "omh:blood-glucose:4.0");
        let e = select_codes(&scopes, Some(&["steps".to_string()]), 1);
        assert!(matches!(e, Err(Error::InvalidInput(m)) if m.contains("omh:heart-rate:2.0")));
        Ok(())
    }
}
