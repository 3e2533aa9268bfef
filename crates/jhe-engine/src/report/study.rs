//! The study report: who has data and how complete it is, then per type one row per
//! participant with the standard metrics (CGM consensus, AHA blood pressure, steps, SpO2) and
//! the cohort charts, then the data-quality findings and the definitions.

use super::common::{count, definitions, num, provenance, quality};
use super::html::Page;
use super::{
    data_span, obs_local_date, obs_vec, types_present, ParticipantInput, ReportInput, PERIOD,
};
use crate::analysis::summary::category_words;
use crate::analysis::tables::{type_metrics, TypeMetrics};
use crate::chart::presentation;
use crate::omh::DataType;

pub(super) fn write(page: &mut Page, input: &ReportInput) {
    let pv = &input.provenance;
    page.h1(&pv.study_name);
    page.muted(&format!("Study report · {}", pv.organization));
    let span = data_span(&input.participants);
    provenance(page, input, span);

    let types = types_present(&input.participants);
    overview(page, input, &types);
    for t in &types {
        type_section(page, input, t);
    }
    quality(page, input.findings.as_deref(), None, true);
    definitions(page);
    page.footer(&format!(
        "{} · study {} · made {} by {}",
        pv.study_name, pv.study_id, pv.generated_at, pv.generated_by
    ));
}

/// Participants and their data: one row each, and the readings per type.
fn overview(page: &mut Page, input: &ReportInput, types: &[DataType]) {
    let ps = &input.participants;
    page.section_start("overview");
    page.h2("Participants and their data");
    let with_data = ps
        .iter()
        .filter(|p| p.obs.values().any(|v| !v.is_empty()))
        .count();
    page.p(&format!(
        "{} participants, {} of them with readings in the period.",
        ps.len(),
        with_data
    ));
    let rows: Vec<Vec<String>> = types
        .iter()
        .map(|t| {
            let (mut n, mut who) = (0u64, 0usize);
            for p in ps {
                let k = obs_vec(p, t).len() as u64;
                n += k;
                who += usize::from(k > 0);
            }
            vec![presentation(t).label, who.to_string(), count(n)]
        })
        .collect();
    page.table(
        "",
        &["Type", "Participants with data", "Readings"],
        &rows,
        &[1, 2],
    );
    let findings = input.findings.as_deref().unwrap_or_default();
    let rows: Vec<Vec<String>> = ps
        .iter()
        .map(|p| {
            let mut days: Vec<_> = p.obs.values().flatten().map(obs_local_date).collect();
            days.sort_unstable();
            days.dedup();
            let n: u64 = p.obs.values().map(|v| v.len() as u64).sum();
            let f = findings.iter().filter(|f| f.participant_id == p.id).count();
            vec![
                p.id.to_string(),
                p.name.clone(),
                count(n),
                days.len().to_string(),
                days.first().map(|d| d.to_string()).unwrap_or_default(),
                days.last().map(|d| d.to_string()).unwrap_or_default(),
                if input.findings.is_some() {
                    f.to_string()
                } else {
                    "–".into()
                },
            ]
        })
        .collect();
    page.table(
        "Days are the participants' local dates; a day counts when it has a reading of any type.",
        &[
            "ID",
            "Name",
            "Readings",
            "Days with data",
            "First",
            "Last",
            "Findings",
        ],
        &rows,
        &[0, 2, 3, 6],
    );
    super::charts::study_completeness(page, ps);
    page.section_end();
}

fn type_section(page: &mut Page, input: &ReportInput, view: &DataType) {
    super::type_heading(page, view);
    let ps: Vec<&ParticipantInput> = input
        .participants
        .iter()
        .filter(|p| !obs_vec(p, view).is_empty())
        .collect();
    let metrics: Vec<(u64, TypeMetrics, u64)> = ps
        .iter()
        .filter_map(|p| {
            type_metrics(view, &p.id.to_string(), &obs_vec(p, view), PERIOD)
                .map(|(m, left_out)| (p.id, m, left_out))
        })
        .collect();
    let left_out: u64 = metrics.iter().map(|m| m.2).sum();
    match view {
        DataType::BloodGlucose => cgm_table(page, &metrics),
        DataType::BloodPressure => bp_table(page, &metrics),
        DataType::StepCount => steps_table(page, &metrics),
        DataType::OxygenSaturation => spo2_table(page, &metrics),
        _ => counts_table(page, view, &ps),
    }
    if left_out > 0 {
        page.muted(&format!(
            "{left_out} implausible reading(s) are left out of these numbers (see Data quality)."
        ));
    }
    super::charts::type_charts(page, view, &ps, false);
    page.section_end();
}

fn cgm_table(page: &mut Page, rows: &[(u64, TypeMetrics, u64)]) {
    let cgm: Vec<(u64, &crate::analysis::CgmMetrics)> = rows
        .iter()
        .filter_map(|(id, m, _)| match m {
            TypeMetrics::Cgm(c) => Some((*id, c)),
            _ => None,
        })
        .collect();
    let summary: Vec<Vec<String>> = cgm
        .iter()
        .map(|(id, c)| {
            vec![
                id.to_string(),
                count(c.n_readings),
                num(c.active_percent, 0),
                num(c.mean_mg_dl, 0),
                num(c.gmi_percent, 1),
                num(c.cv_percent, 1),
                match (c.gri, c.gri_zone) {
                    (Some(g), Some(z)) => format!("{g:.0} ({})", z.as_str()),
                    _ => "–".into(),
                },
                num(c.mage_mg_dl, 0),
                num(c.modd_mg_dl, 0),
                num(c.j_index, 1),
            ]
        })
        .collect();
    page.table(
        "Active: readings received ÷ expected at the sensor's interval (%), 70 % or more is enough for these numbers. Mean, MAGE and MODD in mg/dL; GMI and CV in % (CV 36 % or less counts as stable). GRI from 0 (best) to 100, zone A to E.",
        &["ID", "Readings", "Active %", "Mean", "GMI %", "CV %", "GRI (zone)", "MAGE", "MODD", "J-index"],
        &summary,
        &[0, 1, 2, 3, 4, 5, 7, 8, 9],
    );
    let ranges: Vec<Vec<String>> = cgm
        .iter()
        .map(|(id, c)| {
            vec![
                id.to_string(),
                num(c.very_low_percent, 1),
                num(c.low_percent, 1),
                num(c.in_range_percent, 1),
                num(c.high_percent, 1),
                num(c.very_high_percent, 1),
                num(c.tight_range_percent, 1),
            ]
        })
        .collect();
    page.table(
        "Share of readings, %. Very low < 54, low 54–69, in range 70–180, high 181–250, very high > 250 mg/dL; tight range 70–140. Consensus goals: in range over 70 %, low under 4 %, very low under 1 %, high under 25 %, very high under 5 %.",
        &["ID", "Very low", "Low", "In range", "High", "Very high", "Tight range"],
        &ranges,
        &[0, 1, 2, 3, 4, 5, 6],
    );
}

fn bp_table(page: &mut Page, rows: &[(u64, TypeMetrics, u64)]) {
    let pair = |s: Option<f64>, d: Option<f64>| match (s, d) {
        (Some(s), Some(d)) => format!("{s:.0}/{d:.0}"),
        _ => "–".into(),
    };
    let body: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|(id, m, _)| match m {
            TypeMetrics::BloodPressure(b) => Some(vec![
                id.to_string(),
                count(b.n_readings),
                match (b.mean_systolic, b.mean_diastolic) {
                    (Some(s), Some(d)) => format!("{s:.1}/{d:.1}"),
                    _ => "–".into(),
                },
                b.category_of_mean.map(category_words).unwrap_or_default(),
                num(b.at_goal_percent, 0),
                pair(b.morning_mean_systolic, b.morning_mean_diastolic),
                pair(b.evening_mean_systolic, b.evening_mean_diastolic),
                b.max_systolic
                    .map(|e| format!("{:.0} on {}", e.value, e.local_date))
                    .unwrap_or_default(),
            ]),
            _ => None,
        })
        .collect();
    let goal = rows.iter().find_map(|(_, m, _)| match m {
        TypeMetrics::BloodPressure(b) => Some(b.goal),
        _ => None,
    });
    let goal = goal.map_or(String::new(), |g| {
        format!(
            " At goal: systolic below {:.0} and diastolic below {:.0} mmHg.",
            g.systolic_below, g.diastolic_below
        )
    });
    page.table(
        &format!("mmHg; the category is the AHA 2017 one of the mean pair. Morning 04–12 h, evening 18–24 h, the participant's clock.{goal}"),
        &["ID", "Readings", "Mean", "Category of mean", "At goal %", "Morning", "Evening", "Highest systolic"],
        &body,
        &[0, 1, 2, 4, 5, 6],
    );
}

fn steps_table(page: &mut Page, rows: &[(u64, TypeMetrics, u64)]) {
    let mut goal = None;
    let body: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|(id, m, _)| match m {
            TypeMetrics::Steps(s) => {
                goal = Some(s.goal);
                Some(vec![
                    id.to_string(),
                    s.daily.len().to_string(),
                    num(s.mean_daily_steps, 0),
                    num(s.days_at_goal_percent, 0),
                ])
            }
            _ => None,
        })
        .collect();
    page.table(
        &format!(
            "Daily totals per local date; days without data are not counted. Goal: {} steps a day.",
            num(goal, 0)
        ),
        &["ID", "Days with data", "Steps per day", "Days at goal %"],
        &body,
        &[0, 1, 2, 3],
    );
}

fn spo2_table(page: &mut Page, rows: &[(u64, TypeMetrics, u64)]) {
    let body: Vec<Vec<String>> = rows
        .iter()
        .filter_map(|(id, m, _)| match m {
            TypeMetrics::Spo2(s) => Some(vec![
                id.to_string(),
                count(s.n_readings),
                num(s.mean_percent, 1),
                num(s.below_90_percent, 1),
            ]),
            _ => None,
        })
        .collect();
    page.table(
        "Oxygen saturation in %; below 90 % does not include 90 itself.",
        &["ID", "Readings", "Mean %", "Below 90 % (share of readings)"],
        &body,
        &[0, 1, 2, 3],
    );
}

/// Types without standard metrics: readings and the mean of the values per participant.
fn counts_table(page: &mut Page, view: &DataType, ps: &[&ParticipantInput]) {
    let body: Vec<Vec<String>> = ps
        .iter()
        .map(|p| {
            let obs = obs_vec(p, view);
            let plausible: Vec<f64> = obs
                .iter()
                .filter(|o| view.spec().is_none_or(|s| s.plausible(o.v, o.v2)))
                .filter_map(|o| o.v)
                .filter(|v| v.is_finite())
                .collect();
            let mean = (!plausible.is_empty())
                .then(|| plausible.iter().sum::<f64>() / plausible.len() as f64);
            vec![p.id.to_string(), count(obs.len() as u64), num(mean, 1)]
        })
        .collect();
    let unit = presentation(view).unit;
    page.table(
        "",
        &["ID", "Readings", &format!("Mean value {unit}")],
        &body,
        &[0, 1, 2],
    );
}
