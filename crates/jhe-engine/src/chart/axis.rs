//! The chart's axes: a time axis in UTC microseconds with ticks at the viewer's local
//! midnights (or hours, weeks, months, by span), and the y range and labels.

use std::ops::Range;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};

use super::{Point, Presentation};
use crate::omh::time::{civil_from_days, US_PER_DAY};

/// The time axis: linear in UTC microseconds, ticks at local midnights (or hours, weeks,
/// months, by span).
pub(super) struct TimeAxis {
    pub(super) from: i64,
    pub(super) to: i64,
    pub(super) ticks: Vec<i64>,
}

impl Ranged for TimeAxis {
    type FormatOption = DefaultFormatting;
    type ValueType = i64;

    fn map(&self, value: &i64, limit: (i32, i32)) -> i32 {
        let f = (*value - self.from) as f64 / (self.to - self.from).max(1) as f64;
        limit.0 + (f * f64::from(limit.1 - limit.0)).round() as i32
    }

    fn key_points<Hint: KeyPointHint>(&self, hint: Hint) -> Vec<i64> {
        let max = hint.max_num_points().max(1);
        if self.ticks.len() <= max {
            return self.ticks.clone();
        }
        let every = self.ticks.len().div_ceil(max);
        self.ticks.iter().step_by(every).copied().collect()
    }

    fn range(&self) -> Range<i64> {
        self.from..self.to
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum TickUnit {
    Hours(i64),
    Days(i64),
    Months,
}

pub(super) fn tick_unit(span_us: i64) -> TickUnit {
    let days = span_us as f64 / US_PER_DAY as f64;
    if days <= 1.5 {
        TickUnit::Hours(3)
    } else if days <= 3.5 {
        TickUnit::Hours(12)
    } else if days <= 16.0 {
        TickUnit::Days(1)
    } else if days <= 35.0 {
        TickUnit::Days(3)
    } else if days <= 120.0 {
        TickUnit::Days(7)
    } else {
        TickUnit::Months
    }
}

/// Tick times (UTC µs) inside `[from, to]` at local boundaries.
pub(super) fn ticks(from: i64, to: i64, offset_us: i64, unit: TickUnit) -> Vec<i64> {
    let local_from = from + offset_us;
    let local_to = to + offset_us;
    let mut out = Vec::new();
    match unit {
        TickUnit::Hours(_) | TickUnit::Days(_) => {
            let step = match unit {
                TickUnit::Hours(h) => h.max(1) * 3_600_000_000,
                TickUnit::Days(d) => d.max(1) * US_PER_DAY,
                TickUnit::Months => US_PER_DAY,
            };
            // Weekly ticks on Mondays; daily and hourly from midnight.
            let mut t = local_from.div_euclid(US_PER_DAY) * US_PER_DAY;
            if unit == TickUnit::Days(7) {
                // 1970-01-01 was a Thursday: day 4 is a Monday.
                let day = t.div_euclid(US_PER_DAY);
                t = (day - (day - 4).rem_euclid(7)) * US_PER_DAY;
            }
            while t <= local_to && out.len() < 1000 {
                if t >= local_from {
                    out.push(t - offset_us);
                }
                t += step;
            }
        }
        TickUnit::Months => {
            let (mut y, mut m, _) = civil_from_days(local_from.div_euclid(US_PER_DAY));
            loop {
                let t = crate::omh::time::days_from_civil(y, m, 1) * US_PER_DAY;
                if t > local_to || out.len() >= 1000 {
                    break;
                }
                if t >= local_from {
                    out.push(t - offset_us);
                }
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
        }
    }
    out
}

pub(super) fn tick_label(t: i64, offset_us: i64, unit: TickUnit) -> String {
    let local = t + offset_us;
    let (y, m, d) = civil_from_days(local.div_euclid(US_PER_DAY));
    let month = MONTHS[(m as usize).saturating_sub(1).min(11)];
    match unit {
        TickUnit::Hours(_) => {
            let h = local.rem_euclid(US_PER_DAY) / 3_600_000_000;
            if h == 0 {
                format!("{month} {d}")
            } else {
                format!("{h:02}:00")
            }
        }
        TickUnit::Days(_) => format!("{month} {d}"),
        TickUnit::Months => {
            if m == 1 {
                format!("{month} {y}")
            } else {
                month.to_string()
            }
        }
    }
}

pub(super) fn y_range(pres: &Presentation, series: &[Point], bars: bool) -> (f64, f64) {
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for p in series {
        lo = lo.min(p.v);
        hi = hi.max(p.v);
        if let Some(v2) = p.v2 {
            lo = lo.min(v2);
            hi = hi.max(v2);
        }
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if bars {
        return (0.0, (hi * 1.1).max(1.0));
    }
    if let Some((a, b)) = pres.y_extent {
        lo = lo.min(a);
        hi = hi.max(b);
    }
    if pres.unit == "%" {
        return ((lo - 1.0).min(90.0).floor(), 100.5);
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(0.5);
    let lo = if lo >= 0.0 {
        (lo - pad).max(0.0)
    } else {
        lo - pad
    };
    (lo, hi + pad)
}

pub(super) fn y_label(v: f64, span: f64) -> String {
    if span >= 20.0 || v.fract() == 0.0 && span >= 5.0 {
        let r = v.round() as i64;
        if r.abs() >= 10_000 {
            format!("{},{:03}", r / 1000, (r % 1000).abs())
        } else {
            r.to_string()
        }
    } else if span >= 2.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}
