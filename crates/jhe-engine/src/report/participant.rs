//! The report of one participant: for each type with data, the same summary the app's type card
//! shows (bands, labelled metrics, what was left out), the readings over time, and for glucose
//! the daily pattern (AGP), the day-by-day profiles and the GRI grid; for blood pressure the
//! means by hour of day; then the data-quality findings and the definitions.

use std::collections::HashMap;

use super::common::{count, definitions, provenance, quality};
use super::html::Page;
use super::{obs_local_date, obs_vec, types_present, ParticipantInput, ReportInput};
use crate::analysis::input::offset_s;
use crate::analysis::summary::summary;
use crate::chart::{self, presentation, Obs, Options};
use crate::omh::DataType;

/// The participant's most common UTC offset (seconds): their clock for chart axes.
pub(super) fn usual_offset(obs: &[Obs]) -> i32 {
    let mut n: HashMap<i32, usize> = HashMap::new();
    for o in obs {
        *n.entry(offset_s(o)).or_default() += 1;
    }
    n.into_iter()
        .max_by_key(|(off, c)| (*c, -off))
        .map_or(0, |(off, _)| off)
}

pub(super) fn write(page: &mut Page, input: &ReportInput, p: &ParticipantInput) {
    page.h1(&p.label());
    page.muted(&format!(
        "Participant report · {} · {}",
        input.provenance.study_name, input.provenance.organization
    ));
    let span = super::data_span(std::slice::from_ref(p));
    provenance(page, input, span);

    let types = types_present(std::slice::from_ref(p));
    page.section_start("overview");
    page.h2("Data at a glance");
    if types.is_empty() {
        page.p("This participant has no readings in the period.");
    } else {
        let rows: Vec<Vec<String>> = types
            .iter()
            .map(|t| {
                let obs = obs_vec(p, t);
                let first = obs.iter().map(obs_local_date).min();
                let last = obs.iter().map(obs_local_date).max();
                let mut days: Vec<_> = obs.iter().map(obs_local_date).collect();
                days.sort_unstable();
                days.dedup();
                vec![
                    presentation(t).label,
                    count(obs.len() as u64),
                    days.len().to_string(),
                    first.map(|d| d.to_string()).unwrap_or_default(),
                    last.map(|d| d.to_string()).unwrap_or_default(),
                ]
            })
            .collect();
        page.table(
            "Days are the participant's local dates.",
            &["Type", "Readings", "Days with data", "First", "Last"],
            &rows,
            &[1, 2],
        );
        super::charts::participant_completeness(page, p, &types);
    }
    page.section_end();

    for t in &types {
        type_section(page, p, t);
    }
    quality(page, input.findings.as_deref(), Some(p.id), false);
    definitions(page);
    page.footer(&format!(
        "{} · made {} by {} · numbers by the international CGM consensus (2019), GRI (Klonoff 2023), AHA 2017 and iglu's MAGE/MODD.",
        p.label(),
        input.provenance.generated_at,
        input.provenance.generated_by
    ));
}

fn type_section(page: &mut Page, p: &ParticipantInput, view: &DataType) {
    let obs = obs_vec(p, view);
    let pres = presentation(view);
    super::type_heading(page, view);
    let sum = summary(view, &obs);
    if let Some(s) = &sum {
        if !s.bands.is_empty() {
            let parts: Vec<(&str, String, f64, String)> = s
                .bands
                .iter()
                .map(|b| (b.key.as_str(), b.label.clone(), b.percent, b.goal.clone()))
                .collect();
            let aria = s
                .bands
                .iter()
                .map(|b| format!("{}: {:.1} %", b.label, b.percent))
                .collect::<Vec<_>>()
                .join("; ");
            page.stacked_bar(&aria, &parts);
        }
        let boxes: Vec<(String, String, String)> = s
            .metrics
            .iter()
            .map(|m| (m.label.clone(), m.shown(), m.help.clone()))
            .collect();
        page.metrics(&boxes);
        page.muted(&s.basis);
    }
    let offset = usual_offset(&obs);
    let c = chart::render(
        view,
        &obs,
        &Options {
            utc_offset_s: offset,
            ..Options::default()
        },
    );
    if sum.is_none() && c.stats.n > 0 {
        let u = if pres.unit.is_empty() {
            String::new()
        } else {
            format!(" {}", pres.unit)
        };
        let help = "Of the values drawn (implausible ones left out).".to_string();
        page.metrics(&[
            ("Count (n)".into(), count(c.stats.n), help.clone()),
            (
                "Mean".into(),
                format!("{:.1}{u}", c.stats.mean),
                help.clone(),
            ),
            ("Min".into(), format!("{:.1}{u}", c.stats.min), help.clone()),
            ("Max".into(), format!("{:.1}{u}", c.stats.max), help),
        ]);
    }
    page.figure(
        "Readings over time",
        &c.svg,
        &format!(
            "Every reading in the period ({}), on the participant's clock (UTC{}). Implausible values are marked on the top edge, not drawn.",
            count(obs.len() as u64),
            offset_words(offset)
        ),
    );
    if let Some(prof) = sum.as_ref().and_then(|s| s.profile.as_ref()) {
        page.figure(&prof.title, &prof.svg, &prof.caption);
    }
    super::charts::type_charts(page, view, &[p], true);
    page.section_end();
}

/// "+02:00", "−05:00", "" for UTC itself.
pub(super) fn offset_words(offset_s: i32) -> String {
    if offset_s == 0 {
        return String::new();
    }
    let sign = if offset_s < 0 { '−' } else { '+' };
    let m = offset_s.unsigned_abs() / 60;
    format!("{sign}{:02}:{:02}", m / 60, m % 60)
}
