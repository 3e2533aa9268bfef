//! Blood-pressure metrics of one participant: AHA/ACC 2017 category per reading and of the
//! mean, % of readings at goal, mean by local hour, morning vs evening, min/max with dates.

use super::{local_date, local_hour, stats, Period};
use chrono::NaiveDate;
use serde::Serialize;

/// One reading: UTC instant (µs), its UTC offset (s), systolic and diastolic in mmHg.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BpReading {
    pub utc_us: i64,
    pub offset_s: i32,
    pub systolic: f64,
    pub diastolic: f64,
}

/// AHA/ACC 2017 category (hypertensive crisis included).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub enum BpCategory {
    Normal,
    Elevated,
    Stage1,
    Stage2,
    Crisis,
}

impl BpCategory {
    pub const ALL: [BpCategory; 5] = [
        BpCategory::Normal,
        BpCategory::Elevated,
        BpCategory::Stage1,
        BpCategory::Stage2,
        BpCategory::Crisis,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BpCategory::Normal => "normal",
            BpCategory::Elevated => "elevated",
            BpCategory::Stage1 => "stage_1",
            BpCategory::Stage2 => "stage_2",
            BpCategory::Crisis => "crisis",
        }
    }
}

/// The category of one (systolic, diastolic) pair; the higher of the two readings' categories
/// wins. Edges are continuous: crisis sys > 180 or dia > 120; stage 2 sys ≥ 140 or dia ≥ 90;
/// stage 1 sys ≥ 130 or dia ≥ 80; elevated sys ≥ 120 (and dia < 80); else normal.
pub fn bp_category(systolic: f64, diastolic: f64) -> BpCategory {
    if systolic > 180.0 || diastolic > 120.0 {
        BpCategory::Crisis
    } else if systolic >= 140.0 || diastolic >= 90.0 {
        BpCategory::Stage2
    } else if systolic >= 130.0 || diastolic >= 80.0 {
        BpCategory::Stage1
    } else if systolic >= 120.0 {
        BpCategory::Elevated
    } else {
        BpCategory::Normal
    }
}

/// "At goal" means systolic < `systolic_below` AND diastolic < `diastolic_below`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct BpGoal {
    pub systolic_below: f64,
    pub diastolic_below: f64,
}

impl Default for BpGoal {
    fn default() -> Self {
        BpGoal {
            systolic_below: 130.0,
            diastolic_below: 80.0,
        }
    }
}

/// Local morning and evening windows (hours, inclusive start, exclusive end).
pub const MORNING_HOURS: (u32, u32) = (4, 12);
pub const EVENING_HOURS: (u32, u32) = (18, 24);

/// An extreme value with when it happened.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Extreme {
    pub value: f64,
    pub utc_us: i64,
    pub local_date: NaiveDate,
}

/// Means of the readings in one local hour of day.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct HourMean {
    pub hour: u32,
    pub n_readings: u64,
    pub mean_systolic: f64,
    pub mean_diastolic: f64,
}

/// One participant's blood-pressure metrics; `None` where there are no readings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BpMetrics {
    pub participant_id: String,
    pub n_readings: u64,
    pub mean_systolic: Option<f64>,
    pub mean_diastolic: Option<f64>,
    pub sd_systolic: Option<f64>,
    pub sd_diastolic: Option<f64>,
    /// Category of (mean systolic, mean diastolic).
    pub category_of_mean: Option<BpCategory>,
    /// % of readings per category, in [`BpCategory::ALL`] order.
    pub category_percent: Option<[f64; 5]>,
    pub goal: BpGoal,
    pub at_goal_percent: Option<f64>,
    /// Hours with at least one reading, ascending.
    pub by_hour: Vec<HourMean>,
    pub morning_n: u64,
    pub morning_mean_systolic: Option<f64>,
    pub morning_mean_diastolic: Option<f64>,
    pub evening_n: u64,
    pub evening_mean_systolic: Option<f64>,
    pub evening_mean_diastolic: Option<f64>,
    pub min_systolic: Option<Extreme>,
    pub max_systolic: Option<Extreme>,
    pub min_diastolic: Option<Extreme>,
    pub max_diastolic: Option<Extreme>,
}

/// Blood-pressure metrics of one participant's readings in `period`. Readings with a
/// non-finite value are ignored; extremes report the earliest reading with that value.
pub fn bp_metrics(
    participant_id: &str,
    readings: &[BpReading],
    period: Period,
    goal: BpGoal,
) -> BpMetrics {
    let mut rs: Vec<BpReading> = readings
        .iter()
        .filter(|r| period.contains(r.utc_us) && r.systolic.is_finite() && r.diastolic.is_finite())
        .copied()
        .collect();
    rs.sort_by_key(|r| r.utc_us);
    let n = rs.len();
    let sys: Vec<f64> = rs.iter().map(|r| r.systolic).collect();
    let dia: Vec<f64> = rs.iter().map(|r| r.diastolic).collect();
    let (ms, md) = (stats::mean(&sys), stats::mean(&dia));
    let mut counts = [0u64; 5];
    let mut at_goal = 0u64;
    let mut hours = [(0u64, 0.0f64, 0.0f64); 24];
    for r in &rs {
        counts[bp_category(r.systolic, r.diastolic) as usize] += 1;
        if r.systolic < goal.systolic_below && r.diastolic < goal.diastolic_below {
            at_goal += 1;
        }
        let h = &mut hours[local_hour(r.utc_us, r.offset_s) as usize];
        h.0 += 1;
        h.1 += r.systolic;
        h.2 += r.diastolic;
    }
    let window = |(a, b): (u32, u32)| -> (u64, Option<f64>, Option<f64>) {
        let sel: Vec<&BpReading> = rs
            .iter()
            .filter(|r| (a..b).contains(&local_hour(r.utc_us, r.offset_s)))
            .collect();
        let s: Vec<f64> = sel.iter().map(|r| r.systolic).collect();
        let d: Vec<f64> = sel.iter().map(|r| r.diastolic).collect();
        (sel.len() as u64, stats::mean(&s), stats::mean(&d))
    };
    let (mn, mss, mdd) = window(MORNING_HOURS);
    let (en, ess, edd) = window(EVENING_HOURS);
    let extreme = |val: fn(&BpReading) -> f64, max: bool| -> Option<Extreme> {
        let mut best: Option<&BpReading> = None;
        for r in &rs {
            let better = best.is_none_or(|b| {
                if max {
                    val(r) > val(b)
                } else {
                    val(r) < val(b)
                }
            });
            if better {
                best = Some(r);
            }
        }
        best.map(|r| Extreme {
            value: val(r),
            utc_us: r.utc_us,
            local_date: local_date(r.utc_us, r.offset_s),
        })
    };
    let pct = |c: u64| c as f64 / n as f64 * 100.0;
    BpMetrics {
        participant_id: participant_id.to_string(),
        n_readings: n as u64,
        mean_systolic: ms,
        mean_diastolic: md,
        sd_systolic: stats::sd(&sys),
        sd_diastolic: stats::sd(&dia),
        category_of_mean: ms.zip(md).map(|(s, d)| bp_category(s, d)),
        category_percent: (n > 0).then(|| counts.map(pct)),
        goal,
        at_goal_percent: (n > 0).then(|| pct(at_goal)),
        by_hour: (0u32..24)
            .zip(hours)
            .filter(|(_, h)| h.0 > 0)
            .map(|(hour, h)| HourMean {
                hour,
                n_readings: h.0,
                mean_systolic: h.1 / h.0 as f64,
                mean_diastolic: h.2 / h.0 as f64,
            })
            .collect(),
        morning_n: mn,
        morning_mean_systolic: mss,
        morning_mean_diastolic: mdd,
        evening_n: en,
        evening_mean_systolic: ess,
        evening_mean_diastolic: edd,
        min_systolic: extreme(|r| r.systolic, false),
        max_systolic: extreme(|r| r.systolic, true),
        min_diastolic: extreme(|r| r.diastolic, false),
        max_diastolic: extreme(|r| r.diastolic, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::US_PER_S;

    #[test]
    fn aha_2017_edges() {
        assert_eq!(bp_category(119.0, 79.0), BpCategory::Normal);
        assert_eq!(bp_category(120.0, 79.0), BpCategory::Elevated);
        assert_eq!(bp_category(129.9, 79.9), BpCategory::Elevated);
        assert_eq!(bp_category(130.0, 70.0), BpCategory::Stage1);
        assert_eq!(bp_category(110.0, 80.0), BpCategory::Stage1);
        assert_eq!(bp_category(139.0, 89.0), BpCategory::Stage1);
        assert_eq!(bp_category(140.0, 70.0), BpCategory::Stage2);
        assert_eq!(bp_category(125.0, 90.0), BpCategory::Stage2);
        assert_eq!(bp_category(180.0, 120.0), BpCategory::Stage2);
        assert_eq!(bp_category(181.0, 80.0), BpCategory::Crisis);
        assert_eq!(bp_category(150.0, 121.0), BpCategory::Crisis);
    }

    #[test]
    fn goal_hours_and_extremes_use_local_time() {
        // 2024-01-01T10:00Z at UTC−08:00 is 02:00 local (neither morning nor evening);
        // 2024-01-01T16:00Z is 08:00 local (morning); 2024-01-02T03:00Z is 19:00 local
        // on 2024-01-01 (evening).
        let at = |s: i64, sys: f64, dia: f64| BpReading {
            utc_us: s * US_PER_S,
            offset_s: -8 * 3600,
            systolic: sys,
            diastolic: dia,
        };
        let t0 = 1_704_103_200; // 2024-01-01T10:00Z
        let rs = [
            at(t0, 118.0, 76.0),
            at(t0 + 6 * 3600, 129.0, 80.0),
            at(t0 + 17 * 3600, 150.0, 95.0),
        ];
        let m = bp_metrics("p", &rs, Period::ALL, BpGoal::default());
        assert_eq!(m.n_readings, 3);
        assert!((m.at_goal_percent.unwrap_or_default() - 100.0 / 3.0).abs() < 1e-9);
        assert_eq!(
            m.by_hour.iter().map(|h| h.hour).collect::<Vec<_>>(),
            vec![2, 8, 19]
        );
        assert_eq!((m.morning_n, m.morning_mean_systolic), (1, Some(129.0)));
        assert_eq!((m.evening_n, m.evening_mean_diastolic), (1, Some(95.0)));
        let max = m.max_systolic.map(|e| (e.value, e.local_date.to_string()));
        assert_eq!(max, Some((150.0, "2024-01-01".to_string())));
        // mean 132.33/83.67 → stage 1
        assert_eq!(m.category_of_mean, Some(BpCategory::Stage1));
        let stage2 = m.category_percent.map(|c| c[3]).unwrap_or_default();
        assert!((stage2 - 100.0 / 3.0).abs() < 1e-9);
    }
}
