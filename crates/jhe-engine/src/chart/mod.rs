//! Charts of one participant's data, as SVG for the app's webview: one chart per data type,
//! drawn with plotters' SVG backend (no font files: text stays SVG `<text>` that the webview
//! renders), a transparent background, `currentColor` for axes and text, and CSS custom
//! properties with a fallback for the series colours ([`PAINTS`]), so the chart follows the
//! light or dark theme.
//!
//! Besides the SVG, [`render`] returns where the time axis sits ([`XAxis`], for the hover
//! readout), at most [`MAX_POINTS`] points for that readout, and statistics over the full range.
//!
//! The input is one [`Obs`] per observation, built from decoded observations
//! ([`Obs::from_decoded`]) or read back from an export's files ([`read_export_file`]), so the
//! live view and the offline review draw the same charts.
//!
//! The analysis charts are pure functions of metrics, each returning a complete `<svg>` (empty
//! when there is nothing to draw): time in ranges ([`render_tir_bars`]), the GRI grid
//! ([`render_gri_grid`]), daily profiles ([`render_daily_profiles`]), blood pressure by hour
//! ([`render_bp_by_hour`]), data completeness ([`render_completeness_heatmap`]) and one metric
//! across a cohort ([`render_cohort_bars`]).

mod agp;
mod axis;
mod bp_hour;
mod cohort;
mod daily;
mod draw;
mod gri;
mod heatmap;
mod paint;
mod tir;

use std::collections::BTreeMap;
use std::ops::Range;

use serde::{Deserialize, Serialize};

use crate::omh::time::{iso_z, US_PER_DAY};
pub use crate::omh::types::{Band, Style};
use crate::omh::{DataType, DecodedObservation};
pub use agp::render_agp;
pub use bp_hour::render_bp_by_hour;
pub use cohort::{render_cohort_bars, CohortMetric, CohortRow};
pub use daily::{render_daily_profiles, DayTrace};
pub use draw::{Paint, PAINTS};
pub use gri::{render_gri_grid, GriPoint};
pub use heatmap::{render_completeness_heatmap, HeatRow};
pub use tir::{render_tir_bars, TirRow};

/// Most points returned for the hover readout.
pub const MAX_POINTS: usize = 1000;
/// Chart size in SVG user units (the webview scales it to the card's width).
pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 240;
/// A gap in the data: consecutive readings further apart than this many typical intervals.
pub const GAP_FACTOR: f64 = 3.0;

/// One observation, reduced to what charts and the readings table show.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Obs {
    pub observation_id: u64,
    pub patient_id: u64,
    /// The coding code, e.g. `omh:blood-glucose:4.0`.
    pub code: String,
    /// Measurement time (or interval start), UTC microseconds.
    pub t_us: i64,
    /// Interval end, UTC microseconds.
    pub end_us: Option<i64>,
    /// Participant's wall clock at `t_us` (naive microseconds), when known: decoded observations
    /// have it when their time carried a UTC offset (`None` when it carried none and was read as
    /// UTC); read back from an export it is the `time_local` column, which equals UTC then.
    pub local_us: Option<i64>,
    /// The value in the view's unit (systolic for blood pressure; minutes of sleep).
    pub v: Option<f64>,
    /// Diastolic blood pressure.
    pub v2: Option<f64>,
    /// Device, or the source app when no device is named.
    pub device: Option<String>,
}

impl Obs {
    /// The values of a decoded observation.
    pub fn from_decoded(o: &DecodedObservation) -> Obs {
        let (v, v2) = o
            .view
            .spec()
            .map_or((None, None), |s| s.chart_values(&o.values));
        Obs {
            observation_id: o.id,
            patient_id: o.patient_id,
            code: o.code.clone(),
            t_us: o.time.start_utc,
            end_us: o.time.end_utc,
            local_us: o.time.utc_offset_min.map(|_| o.time.start_local),
            v,
            v2,
            device: o
                .header
                .device
                .clone()
                .or_else(|| o.header.source_name.clone()),
        }
    }
}

/// How the app presents a view: its label, the unit of its values and its chart style.
#[derive(Clone, Debug, PartialEq)]
pub struct Presentation {
    pub label: String,
    /// Unit of the values as shown (stats and chart); empty when none.
    pub unit: &'static str,
    pub style: Style,
    /// `["Systolic", "Diastolic"]` for blood pressure.
    pub value_labels: Option<[&'static str; 2]>,
    /// The y axis label, for a non-specialist.
    pub y_desc: &'static str,
    /// A shaded band (the glucose target range).
    pub band: Option<Band>,
    /// The y axis covers at least this range.
    pub y_extent: Option<(f64, f64)>,
}

/// How a type is presented, from its spec ([`crate::omh::types::ChartSpec`]).
pub fn presentation(view: &DataType) -> Presentation {
    match view.spec() {
        Some(s) => {
            let c = &s.chart;
            Presentation {
                label: view.title(),
                unit: c.unit,
                style: c.style,
                value_labels: match c.series {
                    [a, b] => Some([a.label, b.label]),
                    _ => None,
                },
                y_desc: c.y_desc,
                band: c.band,
                y_extent: c.y_extent,
            }
        }
        None => Presentation {
            label: match view {
                DataType::Other(code) => code.clone(),
                known => known.title(),
            },
            unit: "",
            style: Style::None,
            value_labels: None,
            y_desc: "",
            band: None,
            y_extent: None,
        },
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Stats {
    pub n: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    /// Sample standard deviation (0 for fewer than two values).
    pub sd: f64,
}

impl Stats {
    pub fn of(values: impl IntoIterator<Item = f64>) -> Stats {
        let (mut n, mut sum, mut min, mut max) = (0u64, 0.0, f64::INFINITY, f64::NEG_INFINITY);
        let mut all = Vec::new();
        for v in values.into_iter().filter(|v| v.is_finite()) {
            n += 1;
            sum += v;
            min = min.min(v);
            max = max.max(v);
            all.push(v);
        }
        if n == 0 {
            return Stats::default();
        }
        let mean = sum / n as f64;
        let sd = if n > 1 {
            (all.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64).sqrt()
        } else {
            0.0
        };
        Stats {
            n,
            mean,
            min,
            max,
            sd,
        }
    }
}

/// A point of the hover readout.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// UTC microseconds.
    pub t_us: i64,
    pub v: f64,
    pub v2: Option<f64>,
}

/// Where the time axis sits in the SVG: `left`/`right` are fractions of the width, `from_us` /
/// `to_us` the times (UTC microseconds) at those edges.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct XAxis {
    pub left: f64,
    pub right: f64,
    pub from_us: i64,
    pub to_us: i64,
}

impl XAxis {
    pub fn from_iso(&self) -> String {
        iso_z(self.from_us)
    }
    pub fn to_iso(&self) -> String {
        iso_z(self.to_us)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Chart {
    /// A complete `<svg>` document; empty when there is nothing to draw.
    pub svg: String,
    pub x_axis: Option<XAxis>,
    /// At most [`MAX_POINTS`], in time order.
    pub points: Vec<Point>,
    /// Over every value in the range (for daily totals: over the days).
    pub stats: Stats,
    /// Of `v2` (diastolic), when the view has a second value.
    pub stats2: Option<Stats>,
    /// Raw observations in the range.
    pub rows: usize,
}

/// How to draw.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Options {
    /// The time span of the axis (UTC microseconds, end exclusive); `None` = the data's span.
    pub span: Option<(i64, i64)>,
    /// Offset of the viewer's clock from UTC, seconds: axis labels and day boundaries use it.
    pub utc_offset_s: i32,
    pub width: u32,
    pub height: u32,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            span: None,
            utc_offset_s: 0,
            width: WIDTH,
            height: HEIGHT,
        }
    }
}

/// Renders the chart of one view. `obs` may be in any order; observations of other views or
/// without a value are ignored in the drawing but counted in `rows`.
pub fn render(view: &DataType, obs: &[Obs], opts: &Options) -> Chart {
    let pres = presentation(view);
    let rows = obs.len();
    // Physiologically implausible readings (the type spec's ranges) are neither drawn as data nor
    // counted in the statistics; the chart marks when they were sent.
    let plausible = |o: &&Obs| view.spec().is_none_or(|s| s.plausible(o.v, o.v2));
    let mut flagged: Vec<i64> = obs
        .iter()
        .filter(|o| !plausible(o))
        .map(|o| o.t_us)
        .collect();
    flagged.sort_unstable();
    let mut pts: Vec<Point> = obs
        .iter()
        .filter(plausible)
        .filter_map(|o| {
            o.v.filter(|v| v.is_finite()).map(|v| Point {
                t_us: o.t_us,
                v,
                v2: o.v2.filter(|v| v.is_finite()),
            })
        })
        .collect();
    pts.sort_by_key(|p| p.t_us);
    let offset_us = i64::from(opts.utc_offset_s) * 1_000_000;

    // What is drawn and summarised: readings, or one total per (local) day.
    let (series, bars) = match pres.style {
        Style::DailyTotal => (daily(&pts, offset_us, false), true),
        Style::Nightly => (daily(&pts, offset_us, true), true),
        _ => (pts, false),
    };
    let stats = Stats::of(series.iter().map(|p| p.v));
    let stats2 =
        (pres.style == Style::BloodPressure).then(|| Stats::of(series.iter().filter_map(|p| p.v2)));
    let points = downsample(&series, MAX_POINTS);
    let drawn = if series.is_empty() || pres.style == Style::None {
        None
    } else {
        let (from, to) = opts.span.filter(|(a, b)| b > a).unwrap_or_else(|| {
            let first = series.first().map_or(0, |p| p.t_us);
            let last = series.last().map_or(0, |p| p.t_us);
            if bars {
                (first, last + US_PER_DAY)
            } else if last > first {
                let pad = (last - first) / 50;
                (first - pad, last + pad)
            } else {
                (first - US_PER_DAY / 2, first + US_PER_DAY / 2)
            }
        });
        draw::draw(&pres, &series, &flagged, bars, from, to, offset_us, opts)
            .map_err(|e| tracing::warn!("chart of {}: {e}", pres.label))
            .ok()
    };
    let (svg, x_axis) = match drawn {
        Some((svg, x_axis)) => (svg, Some(x_axis)),
        None => (String::new(), None),
    };
    Chart {
        svg,
        x_axis,
        points,
        stats,
        stats2,
        rows,
    }
}

/// One point per local day at the day's start (UTC): the day's total (steps), or for sleep the
/// hours asleep, counted on the day the sleep ended (the morning).
fn daily(pts: &[Point], offset_us: i64, sleep: bool) -> Vec<Point> {
    let mut days: BTreeMap<i64, f64> = BTreeMap::new();
    for p in pts {
        let local = p.t_us + offset_us;
        let day = local.div_euclid(US_PER_DAY)
            + i64::from(sleep && local.rem_euclid(US_PER_DAY) >= US_PER_DAY / 2);
        let v = if sleep { p.v / 60.0 } else { p.v };
        *days.entry(day).or_default() += v;
    }
    days.into_iter()
        .map(|(day, v)| Point {
            t_us: day * US_PER_DAY - offset_us,
            v,
            v2: None,
        })
        .collect()
}

/// At most `max` points, evenly spread over the series (first and last kept).
pub fn downsample(series: &[Point], max: usize) -> Vec<Point> {
    if series.len() <= max || max < 2 {
        return series.to_vec();
    }
    let step = (series.len() - 1) as f64 / (max - 1) as f64;
    (0..max)
        .map(|i| series[((i as f64 * step).round() as usize).min(series.len() - 1)].clone())
        .collect()
}

/// Runs of readings without gaps: a gap is a step longer than [`GAP_FACTOR`] × the median step.
pub fn segments(series: &[Point]) -> Vec<Range<usize>> {
    if series.is_empty() {
        return Vec::new();
    }
    let mut steps: Vec<i64> = series
        .windows(2)
        .map(|w| w[1].t_us - w[0].t_us)
        .filter(|d| *d > 0)
        .collect();
    if steps.is_empty() {
        return std::iter::once(0..series.len()).collect();
    }
    let mid = steps.len() / 2;
    let (_, median, _) = steps.select_nth_unstable(mid);
    let limit = (*median as f64 * GAP_FACTOR).max(1.0);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..series.len() {
        if (series[i].t_us - series[i - 1].t_us) as f64 > limit {
            out.push(start..i);
            start = i;
        }
    }
    out.push(start..series.len());
    out
}

#[cfg(test)]
mod tests {
    use super::axis::{tick_label, ticks, TickUnit};
    use super::draw::FG_HEX;
    use super::*;

    fn cgm(n: usize, every_min: i64, start: i64) -> Vec<Obs> {
        (0..n)
            .map(|i| {
                let t = start + i as i64 * every_min * 60_000_000;
                Obs {
                    observation_id: i as u64 + 1,
                    patient_id: 40001,
                    code: "omh:blood-glucose:4.0".into(),
                    t_us: t,
                    v: Some(120.0 + 50.0 * ((i as f64) / 20.0).sin()),
                    ..Default::default()
                }
            })
            .collect()
    }

    #[test]
    fn glucose_chart_has_band_axis_labels_and_current_color() {
        let start = 1_750_000_000_000_000;
        let obs = cgm(2000, 5, start);
        let c = render(&DataType::BloodGlucose, &obs, &Options::default());
        assert!(
            c.svg.starts_with("<svg"),
            "{}",
            &c.svg[..c.svg.len().min(200)]
        );
        assert!(c.svg.contains("currentColor"));
        assert!(!c.svg.contains(FG_HEX));
        assert!(c.svg.contains("Target range 70–180 mg/dL"));
        assert!(c.svg.contains("Glucose (mg/dL)"));
        assert!(c.svg.contains(">Date<") || c.svg.contains("Date\n"));
        assert!(!c.svg.contains("#FFFFFF"), "background must be transparent");
        assert_eq!(c.rows, 2000);
        assert_eq!(c.stats.n, 2000);
        assert!(c.points.len() <= MAX_POINTS);
        let ax = c.x_axis.unwrap_or(XAxis {
            left: 0.0,
            right: 0.0,
            from_us: 0,
            to_us: 0,
        });
        assert!(ax.left > 0.0 && ax.left < ax.right && ax.right < 1.0);
    }

    #[test]
    fn implausible_readings_are_marked_not_drawn_or_counted() {
        let start = 1_750_000_000_000_000;
        let mut obs = cgm(200, 5, start);
        let clean = render(&DataType::BloodGlucose, &obs, &Options::default());
        obs[50].v = Some(1200.0);
        obs[51].v = Some(2.0);
        let c = render(&DataType::BloodGlucose, &obs, &Options::default());
        assert_eq!(c.rows, 200, "every row is still a row");
        assert_eq!(c.stats.n, 198, "the two implausible ones are not counted");
        assert!(c.stats.max < 600.0, "{:?}", c.stats);
        assert!(c.svg.contains("Implausible value, not counted"));
        assert!(!clean.svg.contains("Implausible"));
        assert!(c.points.iter().all(|p| p.v < 600.0 && p.v > 20.0));
    }

    #[test]
    fn gaps_break_the_line() {
        let start = 1_750_000_000_000_000;
        let mut obs = cgm(100, 5, start);
        obs.extend(cgm(100, 5, start + 2 * US_PER_DAY));
        let pts: Vec<Point> = obs
            .iter()
            .map(|o| Point {
                t_us: o.t_us,
                v: o.v.unwrap_or_default(),
                v2: None,
            })
            .collect();
        assert_eq!(segments(&pts).len(), 2);
        let c = render(&DataType::BloodGlucose, &obs, &Options::default());
        // Two polylines for the data (plus the legend's none: the band legend is a rect).
        assert_eq!(
            c.svg
                .matches("stroke=\"var(--chart-line, #2563EB)\" stroke-width=\"2\"")
                .count(),
            2,
            "{}",
            c.svg
        );
    }

    /// `n` blood-pressure readings 12 hours apart from `start` (µs): systolic rising from 120,
    /// diastolic 80.
    pub(super) fn bp_readings(start: i64, n: i64) -> Vec<Obs> {
        (0..n)
            .map(|i| Obs {
                t_us: start + i * 12 * 3_600_000_000,
                v: Some(120.0 + i as f64),
                v2: Some(80.0),
                code: "omh:blood-pressure:4.0".into(),
                ..Default::default()
            })
            .collect()
    }

    #[test]
    fn blood_pressure_has_dashed_diastolic_and_legend() {
        let obs = bp_readings(1_750_000_000_000_000, 28);
        let c = render(&DataType::BloodPressure, &obs, &Options::default());
        assert!(c.svg.contains("stroke-dasharray"));
        assert!(c.svg.contains("Systolic") && c.svg.contains("Diastolic"));
        assert_eq!(c.stats2.map(|s| s.n), Some(28));
        assert!((c.stats2.map(|s| s.mean).unwrap_or_default() - 80.0).abs() < 1e-9);
    }

    #[test]
    fn steps_are_daily_totals() {
        let day0 = 20_000 * US_PER_DAY;
        let obs: Vec<Obs> = (0..48)
            .map(|i| Obs {
                t_us: day0 + i * 3_600_000_000,
                end_us: Some(day0 + (i + 1) * 3_600_000_000),
                v: Some(100.0),
                code: "omh:step-count:3.0".into(),
                ..Default::default()
            })
            .collect();
        let c = render(&DataType::StepCount, &obs, &Options::default());
        assert_eq!(c.stats.n, 2);
        assert!((c.stats.mean - 2400.0).abs() < 1e-9);
        assert_eq!(c.rows, 48);
        assert!(c.svg.contains("Steps per day"));
    }

    #[test]
    fn ticks_are_local_midnights() {
        let from = 20_000 * US_PER_DAY;
        let offset = -7 * 3_600_000_000; // UTC-07:00
        let t = ticks(from, from + 10 * US_PER_DAY, offset, TickUnit::Days(1));
        assert!(!t.is_empty());
        for x in &t {
            assert_eq!((x + offset).rem_euclid(US_PER_DAY), 0);
        }
        assert_eq!(
            tick_label(t[0], offset, TickUnit::Days(1))
                .split(' ')
                .count(),
            2
        );
    }

    #[test]
    fn empty_and_unmodelled_give_no_svg() {
        let c = render(&DataType::HeartRate, &[], &Options::default());
        assert!(c.svg.is_empty());
        assert_eq!(c.stats.n, 0);
        let c = render(
            &DataType::Other("x:y:1".into()),
            &cgm(3, 5, 0),
            &Options::default(),
        );
        assert!(c.svg.is_empty());
        assert_eq!(c.rows, 3);
    }
}
