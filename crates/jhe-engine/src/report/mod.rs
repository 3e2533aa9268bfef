//! The report: one self-contained HTML file (charts inline as SVG, no scripts, prints cleanly to
//! PDF from any browser) with a study's or one participant's metrics, data quality, period and
//! provenance, for a study meeting or a clinician.
//!
//! Input is the same on a live study and on an export folder opened offline: the participants'
//! [`Obs`] per type code, the quality findings and where the data came from ([`ReportInput`]);
//! the live job that gathers it is [`crate::jobs::report`]. The numbers are
//! [`crate::analysis`]'s (the same summary the app's type cards show, [`summary`]), the charts
//! [`crate::chart`]'s. Every text from the server or a file (names, codes, details) is escaped;
//! the page's Content-Security-Policy forbids scripts and any network access, so a hostile name
//! cannot make the file do anything when opened.
//!
//! [`summary`]: crate::analysis::summary

mod charts;
mod common;
mod html;
mod participant;
mod study;

pub use html::esc;

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::analysis::quality::{Finding, FindingKind};
use crate::analysis::{local_date, Period};
use crate::chart::Obs;
use crate::omh::DataType;

/// Where the report's data came from and how it was chosen, printed at its top.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Provenance {
    /// e.g. "JHE Desktop 0.9.0" or "jhe 0.9.0".
    pub generated_by: String,
    /// When the report was made (RFC 3339, UTC).
    pub generated_at: String,
    /// Where the data was read: "https://jhe.example.org (live)" or "export folder …".
    pub source: String,
    /// When the data was fetched from the server (live: now; offline: the export's time).
    pub fetched_at: String,
    /// The signed-in account, when known (its email or name; no secrets).
    pub account: Option<String>,
    pub study_id: u64,
    pub study_name: String,
    pub organization: String,
    /// The days asked for (UTC days, inclusive), `None`: all of the data.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// Anything the reader must know about the source (files changed since export, …).
    pub warnings: Vec<String>,
}

/// One participant's data.
#[derive(Clone, Debug, Default)]
pub struct ParticipantInput {
    pub id: u64,
    /// As the server or the export's `participants.csv` names them; may be empty.
    pub name: String,
    /// Type code → observations (any order).
    pub obs: BTreeMap<String, Vec<Obs>>,
}

impl ParticipantInput {
    /// "Name (id)", or "Participant id" without a name.
    pub fn label(&self) -> String {
        if self.name.trim().is_empty() {
            format!("Participant {}", self.id)
        } else {
            format!("{} ({})", self.name.trim(), self.id)
        }
    }
}

/// Everything a report is made of.
#[derive(Clone, Debug, Default)]
pub struct ReportInput {
    pub provenance: Provenance,
    pub participants: Vec<ParticipantInput>,
    /// The data-quality findings of these participants; `None` when they were not checked.
    pub findings: Option<Vec<Finding>>,
    /// A report of one participant (else of the study, even with one participant).
    pub single: bool,
}

/// What was written, for the caller's message.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReportStats {
    pub participants: usize,
    pub observations: u64,
    pub findings: usize,
    /// Charts drawn into the report.
    pub charts: usize,
    pub bytes: u64,
}

/// The report as one HTML document, with what went into it.
pub fn render(input: &ReportInput) -> (String, ReportStats) {
    let mut page = html::Page::new(&title(input));
    if input.single {
        if let Some(p) = input.participants.first() {
            participant::write(&mut page, input, p);
        }
    } else {
        study::write(&mut page, input);
    }
    let charts = page.charts;
    let doc = page.finish();
    let stats = ReportStats {
        participants: input.participants.len(),
        observations: input
            .participants
            .iter()
            .flat_map(|p| p.obs.values())
            .map(|v| v.len() as u64)
            .sum(),
        findings: input.findings.as_ref().map_or(0, Vec::len),
        charts,
        bytes: doc.len() as u64,
    };
    (doc, stats)
}

fn title(input: &ReportInput) -> String {
    let study = &input.provenance.study_name;
    match (input.single, input.participants.first()) {
        (true, Some(p)) => format!("{} — {study}", p.label()),
        _ => format!("{study} — study report"),
    }
}

/// The types present in any participant's data, known ones in their canonical order, then
/// unknown codes alphabetically.
fn types_present(participants: &[ParticipantInput]) -> Vec<DataType> {
    let mut codes: Vec<&String> = participants.iter().flat_map(|p| p.obs.keys()).collect();
    codes.sort();
    codes.dedup();
    let mut types: Vec<DataType> = codes.iter().map(|c| DataType::from_code(c)).collect();
    types.sort_by_key(|t| {
        DataType::KNOWN
            .iter()
            .position(|k| k == t)
            .unwrap_or(usize::MAX)
    });
    types.dedup();
    types
}

/// A participant's observations of `view` (all codes of that type).
fn obs_of<'a>(p: &'a ParticipantInput, view: &DataType) -> Vec<&'a Obs> {
    p.obs
        .iter()
        .filter(|(code, _)| DataType::from_code(code) == *view)
        .flat_map(|(_, v)| v.iter())
        .collect()
}

/// Owned copy of [`obs_of`] (the analysis takes slices).
fn obs_vec(p: &ParticipantInput, view: &DataType) -> Vec<Obs> {
    obs_of(p, view).into_iter().cloned().collect()
}

/// The participant's local date of a reading (its own offset; UTC when it carried none).
fn obs_local_date(o: &Obs) -> NaiveDate {
    local_date(o.t_us, crate::analysis::input::offset_s(o))
}

/// First and last local date of the data.
fn data_span(participants: &[ParticipantInput]) -> Option<(NaiveDate, NaiveDate)> {
    let mut span: Option<(NaiveDate, NaiveDate)> = None;
    for o in participants.iter().flat_map(|p| p.obs.values()).flatten() {
        let d = obs_local_date(o);
        span = Some(match span {
            None => (d, d),
            Some((a, b)) => (a.min(d), b.max(d)),
        });
    }
    span
}

/// Findings per kind (over the given participants; all when `only` is `None`).
fn findings_by_kind(
    findings: &[Finding],
    only: Option<u64>,
) -> BTreeMap<FindingKind, (usize, usize)> {
    let mut m: BTreeMap<FindingKind, (usize, usize)> = BTreeMap::new();
    for f in findings
        .iter()
        .filter(|f| only.is_none_or(|id| f.participant_id == id))
    {
        let e = m.entry(f.kind).or_default();
        e.0 += 1;
        e.1 += f.observation_ids.len();
    }
    m
}

/// Opens a type's section: "Blood glucose (mg/dL)".
fn type_heading(page: &mut html::Page, view: &DataType) {
    let pres = crate::chart::presentation(view);
    page.section_start(&format!("type-{}", view.name()));
    if pres.unit.is_empty() {
        page.h2(&pres.label);
    } else {
        page.h2(&format!("{} ({})", pres.label, pres.unit));
    }
}

/// The period every metric of the report covers.
const PERIOD: Period = Period::ALL;

#[cfg(test)]
mod tests;
