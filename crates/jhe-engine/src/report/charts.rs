//! The report's analysis charts, each with its title and a caption that says what it shows:
//! completeness heat maps, and per type the time-in-range bars, the GRI grid, the day-by-day
//! glucose profiles, the cohort bars, and blood pressure by hour of day. Charts are labelled with
//! participant ids (names stay in the tables).

use chrono::NaiveDate;

use super::html::Page;
use super::{obs_vec, ParticipantInput, PERIOD};
use crate::analysis::input::{self, offset_s};
use crate::analysis::{bp_metrics, cgm_metrics, daily_completeness, BpGoal, Completeness};
use crate::chart::{
    presentation, render_bp_by_hour, render_cohort_bars, render_completeness_heatmap,
    render_daily_profiles, render_gri_grid, render_tir_bars, CohortMetric, CohortRow, DayTrace,
    GriPoint, HeatRow, TirRow, WIDTH,
};
use crate::omh::DataType;

/// Day-by-day panels drawn at the most (the latest days with readings): four weeks.
pub const DAILY_MAX_DAYS: usize = 28;

/// Days a heat map shows at the most (the latest ones).
pub const HEATMAP_MAX_DAYS: usize = 120;

/// Every date from `first` to `last`, the latest [`HEATMAP_MAX_DAYS`] of them.
fn days_between(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    let mut all: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    if all.len() > HEATMAP_MAX_DAYS {
        all.drain(..all.len() - HEATMAP_MAX_DAYS);
    }
    all
}

fn heatmap(page: &mut Page, title: &str, rows: Vec<HeatRow>, caption: &str) {
    let first = rows.iter().flat_map(|r| r.days.iter().map(|d| d.0)).min();
    let last = rows.iter().flat_map(|r| r.days.iter().map(|d| d.0)).max();
    let (Some(first), Some(last)) = (first, last) else {
        return;
    };
    let days = days_between(first, last);
    let cut = if days.first() != Some(&first) {
        format!(" Only the last {HEATMAP_MAX_DAYS} days are drawn.")
    } else {
        String::new()
    };
    let svg = render_completeness_heatmap(&rows, &days, WIDTH);
    page.figure(title, &svg, &format!("{caption}{cut}"));
}

/// The study's participants × days: a day is filled when it has a reading of any type; for
/// CGM, shaded by wear (readings ÷ expected readings that day).
pub(super) fn study_completeness(page: &mut Page, ps: &[ParticipantInput]) {
    let any: Vec<HeatRow> = ps
        .iter()
        .map(|p| {
            let rs: Vec<(i64, i32)> = p
                .obs
                .values()
                .flatten()
                .map(|o| (o.t_us, offset_s(o)))
                .collect();
            HeatRow::from_completeness(
                p.id.to_string(),
                &daily_completeness(&rs, Completeness::AnyReading),
            )
        })
        .collect();
    heatmap(
        page,
        "Days with data",
        any,
        "One row per participant (by id), one column per day (the participants' local dates): a filled cell is a day with at least one reading of any type; an empty outline, a day without any.",
    );
    let cgm: Vec<HeatRow> = ps
        .iter()
        .filter_map(|p| {
            let rs: Vec<(i64, i32)> = obs_vec(p, &DataType::BloodGlucose)
                .iter()
                .map(|o| (o.t_us, offset_s(o)))
                .collect();
            (!rs.is_empty()).then(|| {
                HeatRow::from_completeness(
                    p.id.to_string(),
                    &daily_completeness(&rs, Completeness::Cgm),
                )
            })
        })
        .collect();
    if !cgm.is_empty() {
        heatmap(
            page,
            "CGM wear per day",
            cgm,
            "Per participant with glucose readings and day: the readings received ÷ the readings a full day has at the sensor's interval. Darker is more complete; the consensus asks for 70 % or more of the expected readings.",
        );
    }
}

/// One participant's types × days.
pub(super) fn participant_completeness(page: &mut Page, p: &ParticipantInput, types: &[DataType]) {
    let rows: Vec<HeatRow> = types
        .iter()
        .map(|t| {
            let rs: Vec<(i64, i32)> = obs_vec(p, t)
                .iter()
                .map(|o| (o.t_us, offset_s(o)))
                .collect();
            let kind = if *t == DataType::BloodGlucose {
                Completeness::Cgm
            } else {
                Completeness::AnyReading
            };
            HeatRow::from_completeness(presentation(t).label, &daily_completeness(&rs, kind))
        })
        .collect();
    heatmap(
        page,
        "Days with data",
        rows,
        "One row per type, one column per day (the participant's local dates): filled, a day with readings; for glucose shaded by wear (readings ÷ the readings a full day has at the sensor's interval).",
    );
}

/// The analysis charts of a type: for glucose the GRI grid and the day-by-day profiles (one
/// participant) or the time-in-range bars, the GRI grid and the cohort's bars (a study); for blood pressure of
/// one participant the means by hour of day.
pub(super) fn type_charts(
    page: &mut Page,
    view: &DataType,
    ps: &[&ParticipantInput],
    single: bool,
) {
    match view {
        DataType::BloodGlucose => glucose(page, ps, single),
        DataType::BloodPressure if single => {
            let Some(p) = ps.first() else { return };
            let r = input::blood_pressure(&obs_vec(p, view));
            let m = bp_metrics(&p.id.to_string(), &r.readings, PERIOD, BpGoal::default());
            page.figure(
                "Blood pressure by hour of day",
                &render_bp_by_hour(&m.by_hour, WIDTH, 300),
                "Mean systolic and diastolic of the readings in each hour of the participant's clock, coloured by the AHA 2017 category of that hour's means. Hours without readings are not drawn.",
            );
        }
        _ => {}
    }
}

fn glucose(page: &mut Page, ps: &[&ParticipantInput], single: bool) {
    let view = DataType::BloodGlucose;
    let per: Vec<_> = ps
        .iter()
        .map(|p| {
            let r = input::glucose(&obs_vec(p, &view));
            let m = cgm_metrics(&p.id.to_string(), &r.readings, PERIOD);
            (p.id.to_string(), m, r.readings)
        })
        .filter(|(_, m, _)| m.n_readings > 0)
        .collect();
    if per.is_empty() {
        return;
    }
    // One participant's time in ranges is the bar above their numbers.
    if !single {
        let tir: Vec<TirRow> = per
            .iter()
            .filter_map(|(l, m, _)| TirRow::from_metrics(l.clone(), m))
            .collect();
        page.figure(
            "Time in ranges",
            &render_tir_bars(&tir, WIDTH),
            "Per participant (by id), the share of readings very low (< 54 mg/dL), low (54–69), in range (70–180), high (181–250) and very high (> 250). Consensus goals: in range over 70 %, low under 4 %, very low under 1 %, high under 25 %, very high under 5 %.",
        );
    }
    let gri: Vec<GriPoint> = per
        .iter()
        .filter_map(|(l, m, _)| GriPoint::from_metrics(l.clone(), m))
        .collect();
    page.figure(
        "Glycemia Risk Index (GRI) grid",
        &render_gri_grid(&gri, WIDTH, 420),
        "Across: the hypoglycaemia component (very low % + 0.8 × low %); up: the hyperglycaemia component (very high % + 0.5 × high %). GRI = 3 × across + 1.6 × up; the bands are its zones A (0–20, lowest risk) to E (above 80).",
    );
    if single {
        let mut days = DayTrace::from_readings(&per[0].2);
        let cut = if days.len() > DAILY_MAX_DAYS {
            days.drain(..days.len() - DAILY_MAX_DAYS);
            format!(" The last {DAILY_MAX_DAYS} days with readings are drawn.")
        } else {
            String::new()
        };
        page.figure(
            "Day by day",
            &render_daily_profiles(&days, WIDTH),
            &format!("Each day's glucose from midnight to midnight on the participant's clock, with the 70–180 mg/dL target range shaded; lines break at gaps over 45 minutes.{cut}"),
        );
        return;
    }
    let rows: Vec<CohortRow> = per
        .iter()
        .map(|(l, m, _)| CohortRow::from_metrics(l.clone(), m))
        .collect();
    for (metric, title, caption) in [
        (
            CohortMetric::TimeInRange,
            "Time in range per participant",
            "Share of readings from 70 to 180 mg/dL; the line marks the consensus goal of 70 %.",
        ),
        (
            CohortMetric::Gmi,
            "GMI per participant",
            "Glucose management indicator (3.31 + 0.02392 × mean mg/dL), the HbA1c the mean glucose suggests; the line marks 7 %.",
        ),
        (
            CohortMetric::MeanGlucose,
            "Mean glucose per participant",
            "Mean of the readings, mg/dL; the line marks 154 mg/dL (a GMI of about 7 %).",
        ),
    ] {
        page.figure(title, &render_cohort_bars(&rows, metric, WIDTH), caption);
    }
}
