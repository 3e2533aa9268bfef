//! Data completeness per local day of one participant, for the completeness heatmap
//! (`chart::render_completeness_heatmap`): for CGM the day's distinct readings ÷ the readings
//! expected in 1440 minutes at the device interval ([`super::cgm::device_interval_min`]), capped
//! at 1; for every other type 1 when the day has any reading, else 0. Days are the participant's
//! local dates from each reading's own UTC offset; every day from the first to the last reading's
//! is listed, days without data with 0.
//!
//! The expected count is always 1440 minutes' worth: a full day that is 23 hours long on the
//! wall clock (the spring change to daylight time) shows 23/24, one of 25 hours caps at 1.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::cgm::device_interval_min;
use super::{date_of_day_number, local_day_number};

/// How a day's fraction is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Completeness {
    /// CGM: readings ÷ expected readings at the device interval, at most 1.
    Cgm,
    /// Any other type: 1 when the day has a reading, else 0.
    AnyReading,
}

/// One local day's completeness.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DayCompleteness {
    pub date: NaiveDate,
    /// Distinct reading instants that day.
    pub readings: u64,
    /// 0 (no data) to 1 (complete).
    pub fraction: f64,
}

/// The completeness of every local day from the first reading's to the last's. `readings` are
/// (UTC µs, UTC offset s) in any order; repeated instants count once.
pub fn daily_completeness(readings: &[(i64, i32)], kind: Completeness) -> Vec<DayCompleteness> {
    let mut rs = readings.to_vec();
    rs.sort_unstable();
    rs.dedup_by_key(|r| r.0);
    let mut per_day: BTreeMap<i64, u64> = BTreeMap::new();
    for &(utc, offset) in &rs {
        *per_day.entry(local_day_number(utc, offset)).or_default() += 1;
    }
    let expected = match kind {
        Completeness::Cgm => {
            let instants: Vec<i64> = rs.iter().map(|r| r.0).collect();
            1440.0 / device_interval_min(&instants)
        }
        Completeness::AnyReading => 1.0,
    };
    // The first and last dates (by date: an offset change can put a later instant on an
    // earlier date).
    let (Some(&lo), Some(&hi)) = (per_day.keys().next(), per_day.keys().next_back()) else {
        return Vec::new();
    };
    (lo..=hi)
        .map(|day| {
            let n = per_day.get(&day).copied().unwrap_or(0);
            DayCompleteness {
                date: date_of_day_number(day),
                readings: n,
                fraction: (n as f64 / expected).min(1.0),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::{US_PER_DAY, US_PER_MIN, US_PER_S};

    /// Every `every_min` minutes for `n` readings from `start_us`, at `offset_s`.
    fn series(start_us: i64, every_min: i64, n: i64, offset_s: i32) -> Vec<(i64, i32)> {
        (0..n)
            .map(|k| (start_us + k * every_min * US_PER_MIN, offset_s))
            .collect()
    }

    #[test]
    fn cgm_days_are_counted_at_the_device_interval_with_a_day_without_data() {
        // 2024-03-18, midnight UTC: complete (288 at 5 min), the 19th nothing, the 20th half.
        let day0 = 19_800 * US_PER_DAY;
        let mut rs = series(day0, 5, 288, 0);
        rs.extend(series(day0 + 2 * US_PER_DAY, 5, 144, 0));
        // A repeated instant counts once, order does not matter.
        rs.push(rs[3]);
        rs.reverse();
        let days = daily_completeness(&rs, Completeness::Cgm);
        let got: Vec<(String, u64, f64)> = days
            .iter()
            .map(|d| (d.date.to_string(), d.readings, d.fraction))
            .collect();
        assert_eq!(
            got,
            vec![
                ("2024-03-18".to_string(), 288, 1.0),
                ("2024-03-19".to_string(), 0, 0.0),
                ("2024-03-20".to_string(), 144, 0.5),
            ]
        );
        let any = daily_completeness(&rs, Completeness::AnyReading);
        assert_eq!(
            any.iter().map(|d| d.fraction).collect::<Vec<_>>(),
            vec![1.0, 0.0, 1.0]
        );
        assert!(daily_completeness(&[], Completeness::Cgm).is_empty());
    }

    #[test]
    fn days_are_local_dates_across_a_daylight_saving_change() {
        // New York, 2024-03-10: 00:00 EST (UTC−5) is 05:00Z; at 02:00 EST (07:00Z) clocks jump
        // to 03:00 EDT (UTC−4). A 15-minute meter read every 15 min over that local day has
        // 23 h × 4 = 92 readings: 92 / 96 of the expected.
        let start = 1_710_046_800 * US_PER_S; // 2024-03-10T05:00Z = 00:00 local
        let rs: Vec<(i64, i32)> = (0..92)
            .map(|k| {
                let utc = start + k * 15 * US_PER_MIN;
                let offset = if utc < start + 2 * 3600 * US_PER_S {
                    -5 * 3600
                } else {
                    -4 * 3600
                };
                (utc, offset)
            })
            .collect();
        let days = daily_completeness(&rs, Completeness::Cgm);
        assert_eq!(days.len(), 1, "{days:?}");
        assert_eq!(days[0].date.to_string(), "2024-03-10");
        assert!((days[0].fraction - 92.0 / 96.0).abs() < 1e-12);
        // The same instants read as UTC spread over two dates.
        let utc: Vec<(i64, i32)> = rs.iter().map(|r| (r.0, 0)).collect();
        let days = daily_completeness(&utc, Completeness::AnyReading);
        assert_eq!(
            days.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
            vec!["2024-03-10", "2024-03-11"]
        );
        // 00:30 on the 10th at UTC+10 is still the 9th in UTC: the reading's own offset decides.
        let early = (start - 870 * US_PER_MIN, 10 * 3600);
        let d = daily_completeness(&[early], Completeness::AnyReading);
        assert_eq!(
            d.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
            ["2024-03-10"]
        );
        let d = daily_completeness(&[(early.0, 0)], Completeness::AnyReading);
        assert_eq!(
            d.iter().map(|d| d.date.to_string()).collect::<Vec<_>>(),
            ["2024-03-09"]
        );
    }
}
