//! Metrics of the other types: daily steps and days at goal, resting heart-rate trend, sleep
//! per night, weight change per week, SpO2 below 90 %. All days are the participant's local
//! dates from each record's own UTC offset.

use super::{date_of_day_number, local_day_number, stats, Period, US_PER_DAY};
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// One timed value: UTC instant (µs) of the record (for intervals: the start), its UTC offset
/// (s) and the value in the type's unit (steps, bpm, kg, %).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimedValue {
    pub utc_us: i64,
    pub offset_s: i32,
    pub value: f64,
}

fn in_period(values: &[TimedValue], period: Period) -> impl Iterator<Item = &TimedValue> {
    values
        .iter()
        .filter(move |v| period.contains(v.utc_us) && v.value.is_finite())
}

/// Default daily step goal.
pub const STEP_GOAL: f64 = 7000.0;

/// Daily step totals and the share of days at or above the goal.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StepMetrics {
    /// (local date, total steps) for each date with at least one record, ascending.
    pub daily: Vec<(NaiveDate, f64)>,
    pub goal: f64,
    pub mean_daily_steps: Option<f64>,
    /// % of the dates in `daily` with total ≥ goal.
    pub days_at_goal_percent: Option<f64>,
}

/// Steps per local date of each record's start; days without records are not counted.
pub fn step_metrics(records: &[TimedValue], period: Period, goal: f64) -> StepMetrics {
    let mut days: BTreeMap<i64, f64> = BTreeMap::new();
    for r in in_period(records, period) {
        *days
            .entry(local_day_number(r.utc_us, r.offset_s))
            .or_default() += r.value;
    }
    let totals: Vec<f64> = days.values().copied().collect();
    let at_goal = totals.iter().filter(|&&t| t >= goal).count();
    StepMetrics {
        daily: days
            .into_iter()
            .map(|(d, t)| (date_of_day_number(d), t))
            .collect(),
        goal,
        mean_daily_steps: stats::mean(&totals),
        days_at_goal_percent: (!totals.is_empty())
            .then(|| at_goal as f64 / totals.len() as f64 * 100.0),
    }
}

/// Quantile of each day's heart rates taken as that day's resting heart rate.
pub const RESTING_HR_QUANTILE: f64 = 0.05;

/// Resting heart rate per local day and its linear trend.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RestingHrTrend {
    /// (local date, 5th percentile (R type 7) of that day's heart-rate values), ascending.
    pub daily: Vec<(NaiveDate, f64)>,
    pub mean_bpm: Option<f64>,
    /// Least-squares slope of the daily values on the day number, × 7 (bpm per week).
    pub slope_bpm_per_week: Option<f64>,
}

pub fn resting_hr_trend(heart_rates: &[TimedValue], period: Period) -> RestingHrTrend {
    let mut days: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for r in in_period(heart_rates, period) {
        days.entry(local_day_number(r.utc_us, r.offset_s))
            .or_default()
            .push(r.value);
    }
    let daily: Vec<(i64, f64)> = days
        .into_iter()
        .filter_map(|(d, mut v)| stats::quantile7(&mut v, RESTING_HR_QUANTILE).map(|q| (d, q)))
        .collect();
    let vals: Vec<f64> = daily.iter().map(|d| d.1).collect();
    let pts: Vec<(f64, f64)> = daily.iter().map(|&(d, v)| (d as f64, v)).collect();
    RestingHrTrend {
        mean_bpm: stats::mean(&vals),
        slope_bpm_per_week: stats::ls_slope(&pts).map(|s| s * 7.0),
        daily: daily
            .into_iter()
            .map(|(d, v)| (date_of_day_number(d), v))
            .collect(),
    }
}

/// One sleep episode: start and end (UTC µs) and the UTC offset (s) at its end.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SleepEpisode {
    pub start_utc_us: i64,
    pub end_utc_us: i64,
    pub end_offset_s: i32,
}

/// Sleep per night: minutes summed per local date of each episode's end.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SleepNights {
    pub nightly_minutes: Vec<(NaiveDate, f64)>,
    pub mean_minutes: Option<f64>,
}

/// Episodes whose end lies in `period`; episodes with end before start are ignored.
pub fn sleep_per_night(episodes: &[SleepEpisode], period: Period) -> SleepNights {
    let mut nights: BTreeMap<i64, f64> = BTreeMap::new();
    for e in episodes
        .iter()
        .filter(|e| period.contains(e.end_utc_us) && e.end_utc_us >= e.start_utc_us)
    {
        let minutes = (e.end_utc_us - e.start_utc_us) as f64 / 60e6;
        *nights
            .entry(local_day_number(e.end_utc_us, e.end_offset_s))
            .or_default() += minutes;
    }
    let vals: Vec<f64> = nights.values().copied().collect();
    SleepNights {
        mean_minutes: stats::mean(&vals),
        nightly_minutes: nights
            .into_iter()
            .map(|(d, m)| (date_of_day_number(d), m))
            .collect(),
    }
}

/// Weight change over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WeightTrend {
    pub n_readings: u64,
    pub first_kg: Option<f64>,
    pub last_kg: Option<f64>,
    /// Least-squares slope of every reading's kg on its UTC time in days, × 7 (kg per week).
    pub slope_kg_per_week: Option<f64>,
}

pub fn weight_trend(weights_kg: &[TimedValue], period: Period) -> WeightTrend {
    let mut rs: Vec<&TimedValue> = in_period(weights_kg, period).collect();
    rs.sort_by_key(|r| r.utc_us);
    let pts: Vec<(f64, f64)> = rs
        .iter()
        .map(|r| (r.utc_us as f64 / US_PER_DAY as f64, r.value))
        .collect();
    WeightTrend {
        n_readings: rs.len() as u64,
        first_kg: rs.first().map(|r| r.value),
        last_kg: rs.last().map(|r| r.value),
        slope_kg_per_week: stats::ls_slope(&pts).map(|s| s * 7.0),
    }
}

/// SpO2 threshold: readings strictly below count as low.
pub const SPO2_LOW_BELOW: f64 = 90.0;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Spo2Metrics {
    pub n_readings: u64,
    pub mean_percent: Option<f64>,
    /// % of readings with SpO2 < 90 %.
    pub below_90_percent: Option<f64>,
}

pub fn spo2_metrics(readings: &[TimedValue], period: Period) -> Spo2Metrics {
    let vals: Vec<f64> = in_period(readings, period).map(|r| r.value).collect();
    let low = vals.iter().filter(|&&v| v < SPO2_LOW_BELOW).count();
    Spo2Metrics {
        n_readings: vals.len() as u64,
        mean_percent: stats::mean(&vals),
        below_90_percent: (!vals.is_empty()).then(|| low as f64 / vals.len() as f64 * 100.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::US_PER_S;

    fn tv(s: i64, offset_h: i32, value: f64) -> TimedValue {
        TimedValue {
            utc_us: s * US_PER_S,
            offset_s: offset_h * 3600,
            value,
        }
    }
    const D: i64 = 86_400;
    const T0: i64 = 1_704_067_200; // 2024-01-01T00:00Z

    #[test]
    fn steps_by_local_day() {
        // 02:00Z on Jan 2 is still Jan 1 at UTC−05:00.
        let rs = [
            tv(T0 + 12 * 3600, -5, 5000.0),
            tv(T0 + D + 2 * 3600, -5, 2500.0),
            tv(T0 + D + 12 * 3600, -5, 100.0),
        ];
        let m = step_metrics(&rs, Period::ALL, STEP_GOAL);
        assert_eq!(m.daily.len(), 2);
        assert_eq!(m.daily[0].0.to_string(), "2024-01-01");
        assert_eq!(m.daily[0].1, 7500.0);
        assert_eq!(m.days_at_goal_percent, Some(50.0));
    }

    #[test]
    fn resting_hr_slope_per_week() {
        // One value per day rising 1 bpm/day → 7 bpm/week.
        let rs: Vec<_> = (0..10)
            .map(|k| tv(T0 + k * D + 3600, 0, 60.0 + k as f64))
            .collect();
        let m = resting_hr_trend(&rs, Period::ALL);
        assert!((m.slope_bpm_per_week.unwrap_or_default() - 7.0).abs() < 1e-9);
        // 5th percentile of one day's values (R: quantile(c(50,60,70,80,90), .05) = 52).
        let day: Vec<_> = [50.0, 60.0, 70.0, 80.0, 90.0]
            .iter()
            .map(|&v| tv(T0, 0, v))
            .collect();
        assert_eq!(resting_hr_trend(&day, Period::ALL).daily[0].1, 52.0);
    }

    #[test]
    fn sleep_on_the_date_of_the_end() {
        let e = |start: i64, end: i64| SleepEpisode {
            start_utc_us: start * US_PER_S,
            end_utc_us: end * US_PER_S,
            end_offset_s: 3600,
        };
        // 22:00Z Jan 1 → 06:00Z Jan 2 (07:00 local Jan 2) plus a 30-min nap on Jan 2.
        let s = sleep_per_night(
            &[
                e(T0 - 2 * 3600 + D, T0 + 6 * 3600 + D),
                e(T0 + D + 12 * 3600, T0 + D + 12 * 3600 + 1800),
            ],
            Period::ALL,
        );
        assert_eq!(s.nightly_minutes.len(), 1);
        assert_eq!(s.nightly_minutes[0].0.to_string(), "2024-01-02");
        assert_eq!(s.nightly_minutes[0].1, 510.0);
    }

    #[test]
    fn weight_and_spo2() {
        let w: Vec<_> = (0..4)
            .map(|k| tv(T0 + k * 7 * D, 0, 80.0 - 0.5 * k as f64))
            .collect();
        let m = weight_trend(&w, Period::ALL);
        assert!((m.slope_kg_per_week.unwrap_or_default() + 0.5).abs() < 1e-9);
        let s = spo2_metrics(
            &[
                tv(T0, 0, 89.9),
                tv(T0, 0, 90.0),
                tv(T0, 0, 97.0),
                tv(T0, 0, 95.0),
            ],
            Period::ALL,
        );
        assert_eq!(s.below_90_percent, Some(25.0));
    }
}
