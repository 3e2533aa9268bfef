//! The clinical summary of one type's readings, in words a coordinator reads (the app's type card
//! and the report): what the readings of the chosen period say, by the field's standard
//! definitions (this module's siblings: CGM consensus 2019 and GRI,
//! AHA 2017 blood-pressure categories, daily steps, SpO2), with physiologically implausible
//! values (the type spec's `plausible` range) left out of every number and counted. Live and
//! offline alike (it works on the decoded [`Obs`]).

use serde::{Deserialize, Serialize};

use super::input::Counting;
use super::{
    bp_metrics, cgm_metrics, spo2_metrics, step_metrics, BpCategory, BpGoal, GlucoseReading, Period,
};
use crate::chart::Obs;
use crate::omh::DataType;

/// A type's clinical summary: the bands and labelled metrics a type card (and the report) shows.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    /// Shares of readings per band, lowest first (time in ranges; blood-pressure categories);
    /// empty for types without bands.
    pub bands: Vec<Band>,
    pub metrics: Vec<Metric>,
    /// One sentence: how many readings, whose days, what was left out.
    pub basis: String,
    /// Implausible readings left out of every number.
    #[cfg_attr(feature = "ts", ts(type = "number"))]
    pub excluded: u64,
    /// The readings by time of day (CGM: the ambulatory glucose profile), when there are
    /// readings on at least two days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub profile: Option<Profile>,
    /// The same summary with the implausible readings counted (present only when there are
    /// some): what the card shows when the user asks to count them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "ts", ts(optional))]
    pub with_implausible: Option<Box<Summary>>,
}

/// A chart of the readings by time of day, with what it shows in words.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// e.g. "Daily pattern (AGP)".
    pub title: String,
    /// What the lines and bands are, over how many days.
    pub caption: String,
    /// A complete `<svg>` document rendered by plotters.
    pub svg: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Band {
    /// Stable name, e.g. `in-range`, `stage-1` (the UI's colour).
    pub key: String,
    /// e.g. "In range: 70–180".
    pub label: String,
    /// Share of readings, 0–100.
    pub percent: f64,
    /// The consensus goal, e.g. "goal over 70 %"; empty when there is none.
    pub goal: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[cfg_attr(feature = "ts", derive(ts_rs::TS))]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    pub label: String,
    /// `None` when it cannot be computed (e.g. too few readings).
    pub value: Option<f64>,
    /// Decimals to show.
    pub decimals: u8,
    /// Shown instead of the number when set, e.g. "132/80 (stage 1 hypertension)".
    pub text: Option<String>,
    pub unit: String,
    /// What it means, in one sentence (a tooltip and for screen readers).
    pub help: String,
}

impl Metric {
    /// The value as shown: the text, else the number with its decimals and unit; "–" when it
    /// cannot be computed.
    pub fn shown(&self) -> String {
        if let Some(t) = &self.text {
            return t.clone();
        }
        match self.value {
            Some(v) if v.is_finite() => {
                let n = format!("{v:.*}", usize::from(self.decimals));
                if self.unit.is_empty() {
                    n
                } else {
                    format!("{n} {}", self.unit)
                }
            }
            _ => "–".into(),
        }
    }
}

/// The plausible ranges of the type's values, in words ("glucose 20–600 mg/dL").
fn range_words(view: &DataType) -> String {
    view.spec()
        .map(|s| s.plausible_ranges().join(", "))
        .unwrap_or_default()
}

fn metric(label: &str, value: Option<f64>, decimals: u8, unit: &str, help: &str) -> Metric {
    Metric {
        label: label.into(),
        value,
        decimals,
        text: None,
        unit: unit.into(),
        help: help.into(),
    }
}

fn band(key: &str, label: &str, percent: Option<f64>, goal: &str) -> Band {
    Band {
        key: key.into(),
        label: label.into(),
        percent: percent.unwrap_or(0.0),
        goal: goal.into(),
    }
}

/// The summary of one type's readings (already limited to the period), or `None` for a type
/// without standard metrics (or no readings). Implausible readings are left out of every number;
/// when there are any, `with_implausible` has the same summary counting them, for the card's
/// "count them" switch.
pub fn summary(view: &DataType, obs: &[Obs]) -> Option<Summary> {
    let mut s = summary_counting(view, obs, Counting::PlausibleOnly)?;
    if s.excluded > 0 {
        s.with_implausible = summary_counting(view, obs, Counting::All).map(Box::new);
    }
    Some(s)
}

fn summary_counting(view: &DataType, obs: &[Obs], c: Counting) -> Option<Summary> {
    let excluded;
    let mut profile = None;
    let (bands, metrics, n) = match view {
        DataType::BloodGlucose => {
            let rs = c.glucose(obs);
            excluded = rs.implausible;
            // The card draws the daily pattern of the standard summary only: the variant that
            // counts implausible readings does not compute (and send) a second one.
            if c == Counting::PlausibleOnly {
                profile = glucose_profile(&rs.readings);
            }
            let m = cgm_metrics("", &rs.readings, Period::ALL);
            let bands = vec![
                band(
                    "very-low",
                    "Very low: below 54",
                    m.very_low_percent,
                    "goal under 1 %",
                ),
                band("low", "Low: 54–69", m.low_percent, "goal under 4 %"),
                band(
                    "in-range",
                    "In range: 70–180",
                    m.in_range_percent,
                    "goal over 70 %",
                ),
                band("high", "High: 181–250", m.high_percent, "goal under 25 %"),
                band(
                    "very-high",
                    "Very high: above 250",
                    m.very_high_percent,
                    "goal under 5 %",
                ),
            ];
            let mut gri = metric(
                "Glycemia risk (GRI)",
                m.gri,
                0,
                "of 100",
                "Glycemia Risk Index (Klonoff 2023): 0 is best, 100 worst; zone A (0–20) to E (81–100).",
            );
            gri.text = m
                .gri
                .zip(m.gri_zone)
                .map(|(g, z)| format!("{g:.0} (zone {})", z.as_str()));
            let metrics = vec![
                metric("Average glucose", m.mean_mg_dl, 0, "mg/dL", "Mean of the readings."),
                metric(
                    "GMI",
                    m.gmi_percent,
                    1,
                    "%",
                    "Glucose management indicator: the HbA1c that the average glucose suggests (3.31 + 0.02392 × mean mg/dL).",
                ),
                metric(
                    "Variability (CV)",
                    m.cv_percent,
                    1,
                    "%",
                    "Coefficient of variation: SD ÷ mean. 36 % or less counts as stable.",
                ),
                metric(
                    "Time in tight range",
                    m.tight_range_percent,
                    1,
                    "%",
                    "Share of readings from 70 to 140 mg/dL.",
                ),
                gri,
                metric(
                    "Time CGM active",
                    m.active_percent,
                    0,
                    "%",
                    "Readings received ÷ readings expected at the sensor's interval, first to last reading. 70 % or more is enough for these numbers.",
                ),
            ];
            (bands, metrics, m.n_readings)
        }
        DataType::BloodPressure => {
            let rs = c.blood_pressure(obs);
            excluded = rs.implausible;
            let goal = BpGoal::default();
            let m = bp_metrics("", &rs.readings, Period::ALL, goal);
            let pc = |c: BpCategory| m.category_percent.map(|p| p[c as usize]);
            let bands = [
                ("normal", "Normal: below 120/80", BpCategory::Normal),
                (
                    "elevated",
                    "Elevated: 120–129 / below 80",
                    BpCategory::Elevated,
                ),
                ("stage-1", "Stage 1: 130–139 or 80–89", BpCategory::Stage1),
                ("stage-2", "Stage 2: 140+ or 90+", BpCategory::Stage2),
                (
                    "crisis",
                    "Crisis: above 180 or above 120",
                    BpCategory::Crisis,
                ),
            ]
            .into_iter()
            .map(|(key, label, c)| band(key, label, pc(c), ""))
            .collect();
            let mut mean = metric(
                "Average",
                None,
                0,
                "mmHg",
                "Mean systolic / diastolic, and its AHA 2017 category.",
            );
            mean.text = m.mean_systolic.zip(m.mean_diastolic).map(|(s, d)| {
                let cat = m.category_of_mean.map(category_words).unwrap_or_default();
                // One decimal: a mean of 80.1 is "stage 1", and "80" would not say why.
                format!("{s:.1}/{d:.1} ({cat})")
            });
            let metrics = vec![
                mean,
                metric(
                    "At goal",
                    m.at_goal_percent,
                    0,
                    "%",
                    &format!(
                        "Share of readings below {:.0}/{:.0} mmHg.",
                        goal.systolic_below, goal.diastolic_below
                    ),
                ),
            ];
            (bands, metrics, m.n_readings)
        }
        DataType::StepCount => {
            let rs = c.timed(view, obs);
            excluded = rs.implausible;
            let m = step_metrics(&rs.readings, Period::ALL, super::other::STEP_GOAL);
            let metrics = vec![
                metric(
                    "Steps per day",
                    m.mean_daily_steps,
                    0,
                    "steps",
                    "Mean of the daily totals (the participant's local dates; days without data are not counted).",
                ),
                metric(
                    "Days at goal",
                    m.days_at_goal_percent,
                    0,
                    "%",
                    &format!("Share of days with {:.0} steps or more.", m.goal),
                ),
            ];
            (Vec::new(), metrics, rs.readings.len() as u64)
        }
        DataType::OxygenSaturation => {
            let rs = c.timed(view, obs);
            excluded = rs.implausible;
            let m = spo2_metrics(&rs.readings, Period::ALL);
            let metrics = vec![
                metric(
                    "Average SpO2",
                    m.mean_percent,
                    1,
                    "%",
                    "Mean of the readings.",
                ),
                metric(
                    "Below 90 %",
                    m.below_90_percent,
                    1,
                    "% of readings",
                    "Share of readings under 90 % oxygen saturation.",
                ),
            ];
            (Vec::new(), metrics, m.n_readings)
        }
        _ => return None,
    };
    if n == 0 && excluded == 0 {
        return None;
    }
    let mut basis =
        format!("From {n} reading(s) in this period; days are the participant's local dates.");
    match c {
        Counting::PlausibleOnly if excluded > 0 => basis.push_str(&format!(
            " {excluded} implausible reading(s) (outside {}) are not counted.",
            range_words(view)
        )),
        Counting::All if excluded > 0 => basis.push_str(&format!(
            " {excluded} of them implausible (outside {}), counted as you asked.",
            range_words(view)
        )),
        _ => {}
    }
    Some(Summary {
        bands,
        metrics,
        basis,
        excluded,
        profile,
        with_implausible: None,
    })
}

/// The ambulatory glucose profile of the readings (iglu's `plot_agp()` percentiles, unsmoothed),
/// when they span at least two days.
fn glucose_profile(readings: &[GlucoseReading]) -> Option<Profile> {
    let agp = super::glucose_agp(readings, Period::ALL)?;
    if agp.days < 2 {
        return None;
    }
    let svg = crate::chart::render_agp(&agp, crate::chart::WIDTH, 260);
    if svg.is_empty() {
        return None;
    }
    let few = if agp.days < 14 {
        " The consensus asks for 14 days or more before reading patterns from it."
    } else {
        ""
    };
    Some(Profile {
        title: "Daily pattern (AGP)".into(),
        caption: format!(
            "All {} days laid over one day, by the participant's clock: the line is the median \
             reading at each time of day, the dark band holds the middle half of the readings \
             (25th to 75th percentile), the light band 90 % of them (5th to 95th). Dashed green \
             lines: the target range, 70–180 mg/dL.{few}",
            agp.days
        ),
        svg,
    })
}

pub fn category_words(c: BpCategory) -> String {
    match c {
        BpCategory::Normal => "normal",
        BpCategory::Elevated => "elevated",
        BpCategory::Stage1 => "stage 1 hypertension",
        BpCategory::Stage2 => "stage 2 hypertension",
        BpCategory::Crisis => "hypertensive crisis",
    }
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(i: i64, v: f64, v2: Option<f64>) -> Obs {
        Obs {
            observation_id: i as u64,
            patient_id: 1,
            code: String::new(),
            t_us: 1_700_000_000_000_000 + i * 300_000_000,
            end_us: None,
            local_us: Some(1_700_000_000_000_000 + i * 300_000_000 - 5 * 3_600_000_000),
            v: Some(v),
            v2,
            device: None,
        }
    }

    #[test]
    fn glucose_bands_use_the_consensus_edges_and_implausible_values_are_not_counted() {
        // One reading per band at its edges, plus a planted 1,200 mg/dL.
        let vals = [53.0, 54.0, 69.0, 70.0, 180.0, 181.0, 250.0, 251.0, 1200.0];
        let o: Vec<Obs> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| obs(i as i64, v, None))
            .collect();
        let s = summary(&DataType::BloodGlucose, &o).expect("a summary");
        let pct: Vec<f64> = s.bands.iter().map(|b| b.percent).collect();
        assert_eq!(pct, [12.5, 25.0, 25.0, 25.0, 12.5]);
        assert_eq!(s.excluded, 1);
        assert!(s.basis.contains("From 8 reading(s)"), "{}", s.basis);
        assert!(s.basis.contains("glucose 20–600 mg/dL"), "{}", s.basis);
        let mean = s.metrics.iter().find(|m| m.label == "Average glucose");
        let want = vals[..8].iter().sum::<f64>() / 8.0;
        assert_eq!(mean.and_then(|m| m.value), Some(want));
        // Asked to count it, the 1,200 is in every number, and the basis says so.
        let all = s.with_implausible.expect("the summary counting it");
        let mean = all.metrics.iter().find(|m| m.label == "Average glucose");
        let want = vals.iter().sum::<f64>() / 9.0;
        assert_eq!(mean.and_then(|m| m.value), Some(want));
        assert_eq!(all.excluded, 1);
        assert!(all.basis.contains("From 9 reading(s)"), "{}", all.basis);
        assert!(all.basis.contains("counted as you asked"), "{}", all.basis);
        assert!(all.with_implausible.is_none());
        assert!(all.profile.is_none(), "one daily pattern, the standard one");
        // Nothing implausible: nothing to switch to.
        let clean = summary(&DataType::BloodGlucose, &o[..8]).expect("a summary");
        assert!(clean.with_implausible.is_none());
    }

    #[test]
    fn blood_pressure_uses_the_aha_categories_and_drops_a_zero_reading() {
        let o = vec![
            obs(0, 118.0, Some(76.0)),
            obs(1, 125.0, Some(78.0)),
            obs(2, 135.0, Some(70.0)),
            obs(3, 150.0, Some(95.0)),
            obs(4, 0.0, Some(0.0)),
        ];
        let s = summary(&DataType::BloodPressure, &o).expect("a summary");
        let pct: Vec<f64> = s.bands.iter().map(|b| b.percent).collect();
        assert_eq!(pct, [25.0, 25.0, 25.0, 25.0, 0.0]);
        assert_eq!(s.excluded, 1);
        let avg = s.metrics[0].text.as_deref().unwrap_or_default();
        assert_eq!(avg, "132.0/79.8 (stage 1 hypertension)");
    }

    #[test]
    fn glucose_over_several_days_has_a_daily_pattern_and_one_day_has_none() {
        // Every 5 minutes for 3 days (864 readings), higher after noon.
        let o: Vec<Obs> = (0..864)
            .map(|i| obs(i, if (i % 288) > 144 { 190.0 } else { 110.0 }, None))
            .collect();
        let s = summary(&DataType::BloodGlucose, &o).expect("a summary");
        let p = s.profile.expect("a daily pattern");
        assert_eq!(p.title, "Daily pattern (AGP)");
        assert!(p.svg.starts_with("<svg"));
        // 72 h from 17:13 local: parts of four local days.
        assert!(p.caption.starts_with("All 4 days"), "{}", p.caption);
        assert!(p.caption.contains("14 days or more"), "{}", p.caption);
        // 17:13 to 22:08 local: one day.
        let one_day = summary(&DataType::BloodGlucose, &o[..60]).expect("a summary");
        assert!(one_day.profile.is_none(), "one day is no pattern");
    }

    #[test]
    fn types_without_standard_metrics_have_no_summary() {
        assert!(summary(&DataType::RespiratoryRate, &[obs(0, 14.0, None)]).is_none());
        assert!(summary(&DataType::BloodGlucose, &[]).is_none());
    }
}
