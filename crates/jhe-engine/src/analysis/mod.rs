//! Clinical metrics over decoded readings: CGM (consensus 2019, GRI, iglu's MAGE/MODD), blood
//! pressure (AHA 2017), steps, resting heart rate, sleep, weight and SpO2.
//!
//! Plain Rust over slices, UI-free and independent of polars: callers hand in one
//! participant's readings (UTC instant in µs, the reading's UTC offset in seconds, value) and
//! get a result struct back. "Local" always means the participant's wall clock from each
//! reading's own offset (`utc + offset`), never the machine's time zone and never UTC.
//! [`dictionary`] documents every number for the export's data dictionary.

pub mod bp;
pub mod cgm;
pub mod completeness;
pub mod dictionary;
pub mod frame;
pub mod iglu;
pub mod input;
pub mod other;
pub mod quality;
mod stats;
pub mod summary;
pub mod tables;

pub use bp::{bp_category, bp_metrics, BpCategory, BpGoal, BpMetrics, BpReading};
pub use cgm::{
    cgm_metrics, glucose_agp, hyper_component, hypo_component, CgmMetrics, GlucoseReading,
    GlucoseUnit, GriZone, MG_DL_PER_MMOL_L,
};
pub use completeness::{daily_completeness, Completeness, DayCompleteness};
pub use other::{
    resting_hr_trend, sleep_per_night, spo2_metrics, step_metrics, weight_trend, RestingHrTrend,
    SleepEpisode, SleepNights, Spo2Metrics, StepMetrics, TimedValue, WeightTrend,
};

use chrono::NaiveDate;

/// Microseconds per second / minute / day.
pub(crate) const US_PER_S: i64 = 1_000_000;
pub(crate) const US_PER_MIN: i64 = 60 * US_PER_S;
pub(crate) const US_PER_DAY: i64 = 86_400 * US_PER_S;

/// A half-open period of UTC instants `[start_us, end_us)`; `None` bounds are open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Period {
    pub start_us: Option<i64>,
    pub end_us: Option<i64>,
}

impl Period {
    /// All of the data.
    pub const ALL: Period = Period {
        start_us: None,
        end_us: None,
    };

    /// Whether the UTC instant `utc_us` lies in the period.
    pub fn contains(&self, utc_us: i64) -> bool {
        self.start_us.is_none_or(|s| utc_us >= s) && self.end_us.is_none_or(|e| utc_us < e)
    }
}

/// The participant's local wall-clock time of a reading, in µs since 1970-01-01T00:00 local.
pub(crate) fn local_us(utc_us: i64, offset_s: i32) -> i64 {
    utc_us + i64::from(offset_s) * US_PER_S
}

/// Days since 1970-01-01 of the reading's local date.
pub(crate) fn local_day_number(utc_us: i64, offset_s: i32) -> i64 {
    local_us(utc_us, offset_s).div_euclid(US_PER_DAY)
}

/// Local hour of day (0–23) of a reading.
pub(crate) fn local_hour(utc_us: i64, offset_s: i32) -> u32 {
    // Bounded to 0..24 by rem_euclid, so the cast cannot truncate.
    (local_us(utc_us, offset_s).rem_euclid(US_PER_DAY) / (3600 * US_PER_S)) as u32
}

/// The calendar date of a day number (days since 1970-01-01).
pub fn date_of_day_number(day: i64) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    i32::try_from(day)
        .ok()
        .and_then(|d| epoch.checked_add_signed(chrono::Duration::days(i64::from(d))))
        .unwrap_or(epoch)
}

/// The participant's local date of a reading.
pub fn local_date(utc_us: i64, offset_s: i32) -> NaiveDate {
    date_of_day_number(local_day_number(utc_us, offset_s))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_date_uses_the_readings_offset_not_utc() {
        // 2024-03-10T03:30Z is still 2024-03-09 at UTC−05:00.
        let utc = 1_710_041_400 * US_PER_S;
        assert_eq!(local_date(utc, 0).to_string(), "2024-03-10");
        assert_eq!(local_date(utc, -5 * 3600).to_string(), "2024-03-09");
        assert_eq!(local_hour(utc, -5 * 3600), 22);
        assert_eq!(local_date(-1, 0).to_string(), "1969-12-31");
    }

    #[test]
    fn period_is_half_open() {
        let p = Period {
            start_us: Some(10),
            end_us: Some(20),
        };
        assert!(p.contains(10) && p.contains(19) && !p.contains(20) && !p.contains(9));
        assert!(Period::ALL.contains(i64::MIN));
    }
}
