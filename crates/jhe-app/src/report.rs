//! "Write report…": a study's or one participant's report as one HTML file
//! ([`jhe_engine::report`]), from the server or from the export under offline review. The user
//! picks where to save it; progress goes to a callback; "Open report" shows it in the browser.

use std::path::PathBuf;

use jhe_engine::cancel::CancelToken;
use jhe_engine::jobs::{self, Progress};
use jhe_engine::report::{self, ParticipantInput, Provenance, ReportInput};

use jhe_engine::audit::{Action, Draft};

use crate::audit;
use crate::error::{Error, Result};
use crate::ipc::{ExportPhase, ExportProgress, ReportRequest, ReportWritten};
use crate::offline::OfflineData;
use crate::state::{AppState, Source};
use crate::views;

/// The file name the save dialog suggests.
pub fn suggested_name(r: &ReportRequest) -> String {
    match r.patient_id {
        Some(p) => format!("report-study-{}-participant-{p}.html", r.study_id),
        None => format!("report-study-{}.html", r.study_id),
    }
}

/// Asks where to save, gathers the data, writes the file; `None` when the dialog was closed.
pub async fn write_report(
    state: &AppState,
    job_id: &str,
    request: ReportRequest,
    on_progress: impl Fn(ExportProgress) + Send + Sync + 'static,
) -> Result<Option<ReportWritten>> {
    let (from, to) = views::parse_range(&request.range)?;
    let source = state.source.lock().clone().ok_or(Error::NotSignedIn)?;
    let Some(path) = state
        .picker
        .pick_report_file(&suggested_name(&request))
        .await?
    else {
        return Ok(None);
    };
    let path = with_html_extension(path);
    let generated_by = format!("JHE Desktop {}", state.build.version);
    let entry = match &source {
        Source::Online { session, .. } => audit::draft(state, Action::Report, session),
        Source::Offline(_) => Draft::new(Action::Report, audit::client(state)),
    };
    let input = match source {
        Source::Online { session, .. } => {
            let req = jobs::ReportRequest {
                study_id: request.study_id,
                patient: request.patient_id,
                from,
                to,
                parallelism: 0,
                generated_by,
            };
            let cancel = CancelToken::new();
            state.jobs.lock().insert(job_id.to_string(), cancel.clone());
            let progress = move |p: Progress| {
                on_progress(ExportProgress {
                    phase: ExportPhase::Fetching,
                    fetched: p.fetched,
                    expected: 0,
                    current_patient: None,
                    message: Some(format!(
                        "Reading participants: {} of {}",
                        p.units_done, p.units_total
                    )),
                })
            };
            // As for exports: the engine's job future runs on a blocking-pool thread.
            let handle = tokio::runtime::Handle::current();
            let res = tokio::task::spawn_blocking(move || {
                handle.block_on(jobs::report_input(&session, &req, progress, cancel))
            })
            .await;
            state.jobs.lock().remove(job_id);
            res??
        }
        Source::Offline(data) => offline_input(&data, &request, from, to, generated_by)?,
    };
    let entry = entry
        .study(request.study_id)
        .report_of(&input)
        .window(from, to);
    let out = path.clone();
    let stats = tokio::task::spawn_blocking(move || {
        let (html, stats) = report::render(&input);
        jhe_engine::export::save_private(&out, html.as_bytes()).map(|_| stats)
    })
    .await?
    .map_err(|e| {
        Error::Io(format!(
            "Could not write the report to {}: {e}. Choose a folder you can write to and try again.",
            path.display()
        ))
    })?;
    audit::record(state, entry.rows(stats.observations).written_to(&path));
    state.grants.lock().grant(&path);
    Ok(Some(ReportWritten {
        path: path.display().to_string(),
        participants: stats.participants as u64,
        observations: stats.observations,
        charts: stats.charts as u64,
        findings: stats.findings as u64,
    }))
}

/// Opens a written report in the system's browser.
pub async fn open_report(state: &AppState, path: &str) -> Result<()> {
    let p = PathBuf::from(path);
    state.check_granted(&p)?;
    if !p.is_file() {
        return Err(Error::NotFound(format!(
            "{path} does not exist (any more). Write the report again."
        )));
    }
    state.picker.open_file(&p)
}

fn with_html_extension(p: PathBuf) -> PathBuf {
    let html = p
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("html") || e.eq_ignore_ascii_case("htm"));
    if html {
        p
    } else {
        let mut s = p.into_os_string();
        s.push(".html");
        PathBuf::from(s)
    }
}

/// The report's data from the files under review, limited to the request.
fn offline_input(
    data: &OfflineData,
    r: &ReportRequest,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    generated_by: String,
) -> Result<ReportInput> {
    if let Some(p) = r.patient_id {
        if !data.obs.contains_key(&p) {
            return Err(Error::NotFound(format!(
                "Participant {p} is not in these files."
            )));
        }
    }
    let participants = data
        .obs
        .iter()
        .filter(|(id, _)| r.patient_id.is_none_or(|p| p == **id))
        .map(|(id, by_code)| ParticipantInput {
            id: *id,
            name: String::new(),
            obs: by_code
                .iter()
                .map(|(c, l)| (c.clone(), views::filter_range(l, from, to)))
                .filter(|(_, l)| !l.is_empty())
                .collect(),
        })
        .collect();
    let study = &data.overview.study;
    let findings = data.findings.as_ref().map(|f| {
        f.iter()
            .filter(|f| r.patient_id.is_none_or(|p| p == f.participant_id))
            .cloned()
            .collect()
    });
    Ok(ReportInput {
        provenance: Provenance {
            generated_by,
            generated_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            source: format!("export opened offline: {}", data.path),
            fetched_at: data.exported_at.clone().unwrap_or_default(),
            account: None,
            study_id: study.id,
            study_name: study.name.clone(),
            organization: study.organization_name.clone(),
            from,
            to,
            warnings: data.warnings.clone(),
        },
        participants,
        findings,
        single: r.patient_id.is_some(),
    })
}
