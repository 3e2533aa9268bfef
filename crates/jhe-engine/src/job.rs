//! Jobs the app and the CLI share: exporting a study ([`export_study`]) and the per-participant
//! overview of a study ([`study_summary`]).
//!
//! An export works in *units* (one participant × one data type, all pages). Units already
//! written by an earlier, interrupted run of the same export are skipped (the data helper's
//! [`Export::is_done`]); each unit is written only after all of its pages arrived, so a failure
//! or a cancel never loses what was already written and never writes half a unit.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use futures_util::{stream, StreamExt};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio::sync::{mpsc, Semaphore};

use crate::api::types::{CodeableConcept, ConsentState, Patient, Study};
use crate::api::{ObservationQuery, Session};
use crate::cancel::CancelToken;
use crate::error::{Error, Result};
use crate::export::{
    Export, ExportError, ExportSpec, Format, Layout, Manifest, PreparedUnit, UnitBuilder,
};
use crate::fetch::fetch_observations_each;
use crate::http::HttpStatsSnapshot;
use crate::omh::{self, RawObservation, ViewKind};

/// Default number of units fetched at once.
pub const DEFAULT_PARALLELISM: usize = 4;
/// Upper bound of `parallelism` (be gentle with the server).
pub const MAX_PARALLELISM: usize = 16;

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
        }
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

/// What an export did.
#[derive(Clone, Debug, Serialize)]
pub struct ExportOutcome {
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

fn export_err(e: ExportError) -> Error {
    Error::Export {
        detail: e.to_string(),
    }
}

/// The key of a unit: `<patient id>/<code>`.
pub fn unit_key(patient_id: u64, code: &str) -> String {
    format!("{patient_id}/{code}")
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

struct Unit {
    key: String,
    patient_id: u64,
    code: CodeableConcept,
    expected: u64,
}

enum Msg {
    Rows(u64),
    Done(String, Result<FetchedUnit>),
}

/// A unit fetched completely and decoded, waiting to be written.
struct FetchedUnit {
    server_total: u64,
    received: u64,
    complete: bool,
    prepared: PreparedUnit,
}

/// Fetches one unit, decoding each page as it arrives into the unit's column builders: the
/// fetch tasks share the decoding and tidying, and the single writer is left only the file
/// work.
async fn fetch_unit(
    session: &Session,
    q: &ObservationQuery,
    layout: Layout,
    expected: u64,
    cancel: &CancelToken,
    on_rows: &(dyn Fn(u64) + Send + Sync),
) -> Result<FetchedUnit> {
    let mut unit = UnitBuilder::new(layout, expected.min(1 << 20) as usize);
    let f = fetch_observations_each(
        session,
        q,
        cancel,
        on_rows,
        &|raw: RawObservation| (raw.id, omh::decode_owned(raw)),
        &mut |(id, decoded)| unit.push(id, decoded),
    )
    .await?;
    for p in f.problems.iter().cloned() {
        unit.push_unreadable(p);
    }
    let prepared = tokio::task::spawn_blocking(move || unit.finish())
        .await
        .map_err(|e| Error::Export {
            detail: e.to_string(),
        })?
        .map_err(export_err)?;
    Ok(FetchedUnit {
        server_total: f.server_total,
        received: f.received(),
        complete: f.is_complete(),
        prepared,
    })
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
    if let (Some(f), Some(t)) = (req.date_from, req.date_to) {
        if f > t {
            return Err(Error::InvalidInput(format!(
                "The start date {f} is after the end date {t}."
            )));
        }
    }
    let parallelism = match req.parallelism {
        0 => DEFAULT_PARALLELISM,
        n => n.min(MAX_PARALLELISM),
    };
    let started = std::time::Instant::now();
    let mut p = Progress {
        phase: Phase::Planning,
        fetched: 0,
        expected: 0,
        units_done: 0,
        units_total: 0,
        units_resumed: 0,
        retries: 0,
    };
    progress(p.clone());
    tracing::info!(
        "export: {:?} after {} ms",
        p.phase,
        started.elapsed().as_millis()
    );

    // Plan: the study, its types and participants, asked at once (one round trip, not three);
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
    let whole_study = req.patient_ids.as_ref().is_none_or(|p| p.is_empty());
    let study_patients = patients.len() as u64;

    let mut spec_patients = req.patient_ids.clone().unwrap_or_default();
    spec_patients.sort_unstable();
    spec_patients.dedup();
    let spec_codes: Vec<String> = if req.codes.as_ref().is_some_and(|c| !c.is_empty()) {
        codes.iter().map(|c| c.coding_code.clone()).collect()
    } else {
        Vec::new()
    };
    let spec = ExportSpec {
        out_dir: req.out_dir.clone(),
        format: req.format,
        layout: req.layout,
        server: session.server().url.to_string(),
        study_id: Some(study_id),
        patient_ids: spec_patients,
        codes: spec_codes,
        date_from: req.date_from.map(|d| d.to_string()),
        date_to: req.date_to.map(|d| d.to_string()),
        app_version: env!("CARGO_PKG_VERSION").to_string(),
    };
    let mut export = tokio::task::spawn_blocking(move || Export::open(spec))
        .await
        .map_err(|e| Error::Export {
            detail: e.to_string(),
        })?
        .map_err(export_err)?;

    // Units; an earlier run's unit is kept unless it came up short of the server's total.
    let mut todo: Vec<Unit> = Vec::new();
    let mut units_total = 0;
    let mut resumed = 0;
    // per coding code: observations the resumed units already hold
    let mut resumed_rows: HashMap<&str, u64> = HashMap::new();
    for pt in &patients {
        for c in &codes {
            units_total += 1;
            let key = unit_key(pt.id, &c.coding_code);
            if export.is_done(&key) {
                let report = export.unit_report(&key);
                let short = report.is_some_and(|r| r.server_total.is_some_and(|t| t != r.fetched));
                if !short {
                    resumed += 1;
                    *resumed_rows.entry(c.coding_code.as_str()).or_default() +=
                        report.map_or(0, |r| r.fetched);
                    continue;
                }
            }
            todo.push(Unit {
                key,
                patient_id: pt.id,
                code: c.clone(),
                expected: 0,
            });
        }
    }
    p.units_total = units_total;
    p.units_resumed = resumed;
    p.units_done = resumed;
    p.phase = Phase::Counting;
    progress(p.clone());
    tracing::info!(
        "export: {:?} after {} ms",
        p.phase,
        started.elapsed().as_millis()
    );

    let query_of = |u: &Unit| ObservationQuery {
        study_id: Some(study_id),
        patient_id: Some(u.patient_id),
        code: Some((u.code.coding_system.clone(), u.code.coding_code.clone())),
        date_from: req.date_from,
        date_to: req.date_to,
    };

    // Count what is to come (for progress, and to fetch the largest units first). For a whole
    // study one count per type suffices (each participant's share is taken as the average);
    // for chosen participants, one per participant and type. Either way at `parallelism` at a
    // time: on a real server each count is a round trip of about the time of a page.
    let count_query = |code: &CodeableConcept, patient_id: Option<u64>| ObservationQuery {
        study_id: Some(study_id),
        patient_id,
        code: Some((code.coding_system.clone(), code.coding_code.clone())),
        date_from: req.date_from,
        date_to: req.date_to,
    };
    let queries: Vec<ObservationQuery> = if whole_study {
        codes.iter().map(|c| count_query(c, None)).collect()
    } else {
        todo.iter()
            .map(|u| count_query(&u.code, Some(u.patient_id)))
            .collect()
    };
    let counts: Vec<Result<u64>> = stream::iter(queries.iter().map(|q| {
        let cancel = cancel.clone();
        async move { cancel.run(session.observation_count(q)).await }
    }))
    .buffered(parallelism)
    .collect()
    .await;
    let mut counts_ok = Vec::with_capacity(counts.len());
    for c in counts {
        match c {
            Ok(n) => counts_ok.push(n),
            Err(e) => {
                export.abort();
                return Err(e);
            }
        }
    }
    if whole_study {
        for (c, n) in codes.iter().zip(&counts_ok) {
            let share = n.div_ceil(study_patients.max(1));
            let mut left = *n;
            for u in todo.iter_mut().filter(|u| {
                u.code.coding_code == c.coding_code && u.code.coding_system == c.coding_system
            }) {
                u.expected = share.min(left);
                left -= u.expected;
            }
            // what units resumed from an earlier run already hold is not to come
            let held = resumed_rows
                .get(c.coding_code.as_str())
                .copied()
                .unwrap_or(0);
            p.expected += n.saturating_sub(held);
        }
    } else {
        for (u, n) in todo.iter_mut().zip(&counts_ok) {
            u.expected = *n;
        }
        p.expected = todo.iter().map(|u| u.expected).sum();
    }
    // Largest units first: a big unit's pages come one after another (each `next` link is
    // only known from the page before), so one started last would leave the other slots idle.
    todo.sort_by_key(|u| std::cmp::Reverse(u.expected));
    p.phase = Phase::Fetching;
    p.retries = session.stats().retries;
    progress(p.clone());
    tracing::info!(
        "export: {:?} after {} ms",
        p.phase,
        started.elapsed().as_millis()
    );

    // Fetch in tasks, write here, one unit at a time. `inner` stops the other tasks after a
    // failure; it is also cancelled with the caller's token.
    // Units still to come per table (one file per type): once a table has all of its units, its
    // final file is merged while the other units download, instead of in `finish`.
    let table_of = |u: &Unit| ViewKind::from_code(&u.code.coding_code).name();
    let mut left_per_table: HashMap<String, usize> = HashMap::new();
    if req.layout == Layout::PerType {
        for u in &todo {
            *left_per_table.entry(table_of(u)).or_default() += 1;
        }
    }
    let unit_table: HashMap<String, String> =
        todo.iter().map(|u| (u.key.clone(), table_of(u))).collect();

    let inner_cancel = cancel.child();
    let sem = Arc::new(Semaphore::new(parallelism));
    let (tx, mut rx) = mpsc::channel::<Msg>(parallelism * 4);
    let mut tasks = AbortOnDrop(Vec::with_capacity(todo.len()));
    for u in &todo {
        let q = query_of(u);
        let key = u.key.clone();
        let (layout, expected) = (req.layout, u.expected);
        let session = session.clone();
        let sem = sem.clone();
        let tx = tx.clone();
        let inner = inner_cancel.clone();
        tasks.0.push(tokio::spawn(async move {
            let Ok(_permit) = sem.acquire().await else {
                return;
            };
            if inner.is_cancelled() {
                let _ = tx.send(Msg::Done(key, Err(Error::Cancelled))).await;
                return;
            }
            let rows_tx = tx.clone();
            let on_rows = move |n: u64| {
                let _ = rows_tx.try_send(Msg::Rows(n));
            };
            let r = fetch_unit(&session, &q, layout, expected, &inner, &on_rows).await;
            let _ = tx.send(Msg::Done(key, r)).await;
        }));
    }
    drop(tx);

    let mut first_error: Option<Error> = None;
    let mut fetched_units = 0usize;
    let mut fetched_rows = 0u64;
    let mut warnings = Vec::new();
    let mut short_units = Vec::new();
    while let Some(msg) = rx.recv().await {
        match msg {
            Msg::Rows(n) => {
                p.fetched += n;
                p.retries = session.stats().retries;
                progress(p.clone());
            }
            Msg::Done(key, Ok(f)) => {
                let total = f.server_total;
                let n = f.received;
                if !f.complete {
                    short_units.push(format!("{key}: {n} of {total} observations"));
                }
                let k = key.clone();
                // the unit's table is complete with this one: merge it now
                let complete_table = unit_table.get(&key).and_then(|t| {
                    let left = left_per_table.get_mut(t)?;
                    *left -= 1;
                    (*left == 0).then(|| t.clone())
                });
                let (ex, written) = tokio::task::spawn_blocking(move || {
                    let r = export.commit_unit(&k, f.prepared, Some(total));
                    if let (Ok(_), Some(t)) = (&r, complete_table) {
                        // only an optimisation: `finish` merges whatever is not merged here
                        if let Err(e) = export.merge_early(&t) {
                            tracing::warn!("merging {t} early failed ({e}); finishing will retry");
                        }
                    }
                    (export, r)
                })
                .await
                .map_err(|e| Error::Export {
                    detail: e.to_string(),
                })?;
                export = ex;
                if let Err(e) = written {
                    first_error.get_or_insert(export_err(e));
                    inner_cancel.cancel();
                    continue;
                }
                fetched_units += 1;
                fetched_rows += n;
                // Page events may have been dropped under load: settle the count per unit.
                p.fetched = p.fetched.max(fetched_rows);
                p.units_done += 1;
                p.retries = session.stats().retries;
                progress(p.clone());
            }
            Msg::Done(_, Err(Error::Cancelled)) => {}
            Msg::Done(_, Err(e)) => {
                if first_error.is_none() {
                    first_error = Some(e);
                    inner_cancel.cancel();
                }
            }
        }
    }
    for h in tasks.0.drain(..) {
        let _ = h.await;
    }
    if let Some(e) = first_error {
        export.abort();
        return Err(e);
    }
    if cancel.is_cancelled() {
        export.abort();
        return Err(Error::Cancelled);
    }

    p.phase = Phase::Finishing;
    progress(p.clone());
    tracing::info!(
        "export: {:?} after {} ms",
        p.phase,
        started.elapsed().as_millis()
    );
    let manifest = tokio::task::spawn_blocking(move || export.finish())
        .await
        .map_err(|e| Error::Export {
            detail: e.to_string(),
        })?
        .map_err(export_err)?;

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
    if manifest.problems_count > 0 {
        warnings.push(format!(
            "{} malformed observation(s) were skipped and listed in problems.csv; the rest of the data is complete.",
            manifest.problems_count
        ));
    }
    p.phase = Phase::Done;
    p.retries = session.stats().retries;
    progress(p.clone());
    tracing::info!(
        "export: {:?} after {} ms",
        p.phase,
        started.elapsed().as_millis()
    );
    Ok(ExportOutcome {
        out_dir: req.out_dir,
        complete,
        warnings,
        units_total,
        units_resumed: resumed,
        units_fetched: fetched_units,
        fetched: fetched_rows,
        expected: p.expected,
        manifest,
        http: session.stats(),
    })
}

/// Aborts the fetch tasks when the export is dropped (e.g. the app closes the window).
struct AbortOnDrop(Vec<tokio::task::JoinHandle<()>>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        for h in &self.0 {
            h.abort();
        }
    }
}

// ----- study overview ---------------------------------------------------------------------------

/// One row of the app's study table.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PatientSummary {
    pub patient: Patient,
    /// Consent per requested type (key: coding code).
    pub consents: BTreeMap<String, ConsentState>,
    /// Observations per requested type (key: coding code).
    pub counts: BTreeMap<String, u64>,
    pub total: u64,
    /// Earliest and latest effective time (RFC 3339, UTC) of the study's data.
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
    let parallelism = match parallelism {
        0 => DEFAULT_PARALLELISM,
        n => n.min(MAX_PARALLELISM),
    };
    let study = cancel.run(session.study(study_id)).await?;
    let scopes = cancel.run(session.study_scopes(study_id)).await?;
    let patients = cancel.run(session.study_patients(study_id)).await?;
    let total = patients.len();
    let mut p = Progress {
        phase: Phase::Summarizing,
        fetched: 0,
        expected: total as u64,
        units_done: 0,
        units_total: total,
        units_resumed: 0,
        retries: 0,
    };
    progress(p.clone());
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
            p.units_done += 1;
            p.fetched += 1;
            p.retries = session.stats().retries;
            progress(p.clone());
        }
    }
    p.phase = Phase::Done;
    progress(p);
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
        // Consents of a participant outside the user's organizations: show as unknown.
        Err(Error::Forbidden { .. }) | Err(Error::NotFound { .. }) => None,
        Err(e) => return Err(e),
    };
    let mut consent_map = BTreeMap::new();
    let mut counts = BTreeMap::new();
    for s in scopes {
        let state = consents
            .as_ref()
            .map(|c| c.state(study_id, &s.coding_system, &s.coding_code))
            .unwrap_or(ConsentState::Unknown);
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
        let last = cancel.run(session.observation_edge(&q, false)).await?;
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
