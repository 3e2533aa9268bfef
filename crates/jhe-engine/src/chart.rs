//! Charts of one participant's data, as SVG for the app's webview: one chart per data type,
//! drawn with plotters' SVG backend (no font files: text stays SVG `<text>` that the webview
//! renders), a transparent background and `currentColor` for axes and text so the chart
//! follows the light or dark theme.
//!
//! Besides the SVG, [`render`] returns where the time axis sits ([`XAxis`], for the hover
//! readout), at most [`MAX_POINTS`] points for that readout, and statistics over the full range.
//!
//! The input is one [`Obs`] per observation, built from decoded observations
//! ([`Obs::from_decoded`]) or read back from an export's files ([`read_export_file`]), so the
//! live view and the offline review draw the same charts.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint, Ranged};
use plotters::prelude::*;
use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::omh::time::{civil_from_days, iso_z, US_PER_DAY};
use crate::omh::{DecodedObservation, Values, ViewKind};

/// Most points returned for the hover readout.
pub const MAX_POINTS: usize = 1000;
/// Chart size in SVG user units (the webview scales it to the card's width).
pub const WIDTH: u32 = 760;
pub const HEIGHT: u32 = 240;
/// A gap in the data: consecutive readings further apart than this many typical intervals.
pub const GAP_FACTOR: f64 = 3.0;

/// Axis and text colour, replaced by `currentColor` in the SVG.
const FG: RGBColor = RGBColor(1, 2, 3);
const FG_HEX: &str = "#010203";
const BLUE: RGBColor = RGBColor(0x25, 0x63, 0xEB);
const RED: RGBColor = RGBColor(0xC0, 0x26, 0x2D);
/// Diastolic blood pressure: drawn dashed (the SVG gets a dash array for this colour).
const DIASTOLIC: RGBColor = RGBColor(0x25, 0x63, 0xEC);
const DIASTOLIC_HEX: &str = "#2563EC";
const BAND: RGBColor = RGBColor(0x16, 0xA3, 0x4A);
const FONT: &str = "sans-serif";

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
    /// Participant's wall clock at `t_us` (naive microseconds), when known.
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
        let (v, v2) = match &o.values {
            Values::BloodGlucose(q)
            | Values::HeartRate(q)
            | Values::StepCount(q)
            | Values::BodyWeight(q)
            | Values::OxygenSaturation(q)
            | Values::RespiratoryRate(q)
            | Values::BodyTemperature(q)
            | Values::SleepDuration(q) => (q.value, None),
            Values::BloodPressure {
                systolic,
                diastolic,
            } => (systolic.value, diastolic.value),
            Values::PhysicalActivity { distance, .. } => (distance.value, None),
            Values::Other => (None, None),
        };
        Obs {
            observation_id: o.id,
            patient_id: o.patient_id,
            code: o.code.clone(),
            t_us: o.time.start_utc,
            end_us: o.time.end_utc,
            local_us: Some(o.time.start_local),
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

/// What a chart shows for a view: label, unit and how it is drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Glucose,
    BloodPressure,
    /// A line through the readings.
    Line,
    /// One bar per day: the day's total (steps).
    DailyTotal,
    /// One bar per night (sleep, in hours).
    Nightly,
    /// Nothing to draw (types without a modelled value).
    None,
}

/// How the app presents a view: its label, the unit of its values and its chart style.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Presentation {
    pub label: String,
    /// Unit of the values as shown (stats and chart); empty when none.
    pub unit: &'static str,
    pub style: Style,
    /// `["Systolic", "Diastolic"]` for blood pressure.
    pub value_labels: Option<[&'static str; 2]>,
    /// The y axis label, for a non-specialist.
    pub y_desc: &'static str,
}

pub fn presentation(view: &ViewKind) -> Presentation {
    let p = |unit, style, y_desc| Presentation {
        label: view.title(),
        unit,
        style,
        value_labels: None,
        y_desc,
    };
    match view {
        ViewKind::BloodGlucose => p("mg/dL", Style::Glucose, "Glucose (mg/dL)"),
        ViewKind::BloodPressure => Presentation {
            value_labels: Some(["Systolic", "Diastolic"]),
            ..p("mmHg", Style::BloodPressure, "Blood pressure (mmHg)")
        },
        ViewKind::HeartRate => p("beats/min", Style::Line, "Heart rate (beats per minute)"),
        ViewKind::StepCount => p("steps/day", Style::DailyTotal, "Steps per day"),
        ViewKind::BodyWeight => p("kg", Style::Line, "Weight (kg)"),
        ViewKind::OxygenSaturation => p("%", Style::Line, "Oxygen saturation (%)"),
        ViewKind::RespiratoryRate => p("breaths/min", Style::Line, "Breaths per minute"),
        ViewKind::BodyTemperature => p("°C", Style::Line, "Temperature (°C)"),
        ViewKind::SleepDuration => p("h", Style::Nightly, "Hours asleep"),
        ViewKind::PhysicalActivity => p("m", Style::Line, "Distance (m)"),
        ViewKind::Other(code) => Presentation {
            label: code.clone(),
            ..p("", Style::None, "")
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
pub fn render(view: &ViewKind, obs: &[Obs], opts: &Options) -> Chart {
    let pres = presentation(view);
    let rows = obs.len();
    let mut pts: Vec<Point> = obs
        .iter()
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
    if series.is_empty() || pres.style == Style::None {
        return Chart {
            svg: String::new(),
            x_axis: None,
            points,
            stats,
            stats2,
            rows,
        };
    }
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
    match draw(&pres, &series, bars, from, to, offset_us, opts) {
        Ok((svg, x_axis)) => Chart {
            svg,
            x_axis: Some(x_axis),
            points,
            stats,
            stats2,
            rows,
        },
        Err(e) => {
            tracing::warn!("chart of {}: {e}", pres.label);
            Chart {
                svg: String::new(),
                x_axis: None,
                points,
                stats,
                stats2,
                rows,
            }
        }
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

/// Per pixel column keep the first, lowest, highest and last reading (in time order): the line
/// looks the same as with every reading, with a few thousand points at most.
fn decimate(
    seg: &[Point],
    value: impl Fn(&Point) -> Option<f64>,
    x_of: impl Fn(i64) -> i32,
) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = Vec::new();
    let mut i = 0;
    while i < seg.len() {
        let col = x_of(seg[i].t_us);
        let mut j = i;
        let mut bucket: Vec<(i64, f64)> = Vec::new();
        while j < seg.len() && x_of(seg[j].t_us) == col {
            if let Some(v) = value(&seg[j]) {
                bucket.push((seg[j].t_us, v));
            }
            j += 1;
        }
        if bucket.len() <= 4 {
            out.extend(bucket);
        } else {
            let first = 0;
            let last = bucket.len() - 1;
            let (mut lo, mut hi) = (0, 0);
            for (k, b) in bucket.iter().enumerate() {
                if b.1 < bucket[lo].1 {
                    lo = k;
                }
                if b.1 > bucket[hi].1 {
                    hi = k;
                }
            }
            let mut idx = vec![first, lo, hi, last];
            idx.sort_unstable();
            idx.dedup();
            out.extend(idx.into_iter().map(|k| bucket[k]));
        }
        i = j;
    }
    out
}

/// The time axis: linear in UTC microseconds, ticks at local midnights (or hours, weeks,
/// months, by span).
struct TimeAxis {
    from: i64,
    to: i64,
    ticks: Vec<i64>,
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
enum TickUnit {
    Hours(i64),
    Days(i64),
    Months,
}

fn tick_unit(span_us: i64) -> TickUnit {
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
fn ticks(from: i64, to: i64, offset_us: i64, unit: TickUnit) -> Vec<i64> {
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

fn tick_label(t: i64, offset_us: i64, unit: TickUnit) -> String {
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

fn y_range(pres: &Presentation, series: &[Point], bars: bool) -> (f64, f64) {
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
    match pres.style {
        Style::Glucose => {
            lo = lo.min(60.0);
            hi = hi.max(200.0);
        }
        Style::BloodPressure => {
            lo = lo.min(60.0);
            hi = hi.max(140.0);
        }
        _ => {}
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

fn y_label(v: f64, span: f64) -> String {
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

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

fn draw(
    pres: &Presentation,
    series: &[Point],
    bars: bool,
    from: i64,
    to: i64,
    offset_us: i64,
    opts: &Options,
) -> DrawResult<(String, XAxis)> {
    let (w, h) = (opts.width.max(200), opts.height.max(120));
    let unit = tick_unit(to - from);
    let axis = TimeAxis {
        from,
        to,
        ticks: ticks(from, to, offset_us, unit),
    };
    let (ylo, yhi) = y_range(pres, series, bars);
    let yspan = yhi - ylo;
    let x_desc = match unit {
        TickUnit::Hours(_) => "Date and time",
        _ => "Date",
    };
    let mut svg = String::with_capacity(64 * 1024);
    let x_axis;
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let text = (FONT, 16).into_font().color(&FG);
        let mut chart = ChartBuilder::on(&root)
            .margin_top(10)
            .margin_right(28)
            .margin_left(6)
            .margin_bottom(4)
            .x_label_area_size(40)
            .y_label_area_size(62)
            .build_cartesian_2d(axis, ylo..yhi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .light_line_style(TRANSPARENT)
            .bold_line_style(FG.mix(0.12))
            .axis_style(FG.mix(0.6))
            .x_labels(9)
            .y_labels(6)
            .x_label_formatter(&|t| tick_label(*t, offset_us, unit))
            .y_label_formatter(&|v| y_label(*v, yspan))
            .x_label_style(text.clone())
            .y_label_style(text.clone())
            .axis_desc_style(text.clone())
            .x_desc(x_desc)
            .y_desc(pres.y_desc)
            .draw()?;

        let (xr, _) = chart.plotting_area().get_pixel_range();
        x_axis = XAxis {
            left: f64::from(xr.start) / f64::from(w),
            right: f64::from(xr.end) / f64::from(w),
            from_us: from,
            to_us: to,
        };
        let px = |t: i64| -> i32 {
            let f = (t - from) as f64 / (to - from).max(1) as f64;
            (f * f64::from(xr.end - xr.start)).floor() as i32
        };

        let mut legend = false;
        if pres.style == Style::Glucose {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(from, 70.0_f64.max(ylo)), (to, 180.0_f64.min(yhi))],
                    BAND.mix(0.14).filled(),
                )))?
                .label("Target range 70–180 mg/dL")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], BAND.mix(0.3).filled())
                });
            legend = true;
        }

        if bars {
            let day = US_PER_DAY;
            chart.draw_series(series.iter().map(|p| {
                let pad = day / 8;
                Rectangle::new(
                    [(p.t_us + pad, 0.0), (p.t_us + day - pad, p.v)],
                    BLUE.mix(0.8).filled(),
                )
            }))?;
        } else {
            let segs = segments(series);
            let sparse = series.len() <= 400;
            let first_color = if pres.style == Style::BloodPressure {
                RED
            } else {
                BLUE
            };
            let mut labelled = false;
            for seg in &segs {
                let s = &series[seg.clone()];
                let line = decimate(s, |p| Some(p.v), px);
                let drawn = chart.draw_series(LineSeries::new(
                    line.iter().copied(),
                    first_color.stroke_width(2),
                ))?;
                if pres.style == Style::BloodPressure && !labelled {
                    drawn.label("Systolic").legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2))
                    });
                }
                if sparse || s.len() == 1 {
                    chart.draw_series(
                        s.iter()
                            .map(|p| Circle::new((p.t_us, p.v), 2, first_color.filled())),
                    )?;
                }
                if pres.style == Style::BloodPressure {
                    let line2 = decimate(s, |p| p.v2, px);
                    let drawn = chart.draw_series(LineSeries::new(
                        line2.iter().copied(),
                        DIASTOLIC.stroke_width(2),
                    ))?;
                    if !labelled {
                        drawn.label("Diastolic").legend(move |(x, y)| {
                            PathElement::new(vec![(x, y), (x + 18, y)], DIASTOLIC.stroke_width(2))
                        });
                    }
                    if sparse || s.len() == 1 {
                        chart.draw_series(s.iter().filter_map(|p| {
                            p.v2.map(|v2| Circle::new((p.t_us, v2), 2, DIASTOLIC.filled()))
                        }))?;
                    }
                    legend = true;
                }
                labelled = true;
            }
        }
        if legend {
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperRight)
                .background_style(TRANSPARENT)
                .border_style(TRANSPARENT)
                .label_font(text.clone())
                .draw()?;
        }
        root.present()?;
    }
    Ok((finish_svg(svg), x_axis))
}

/// `currentColor` for axes and text, a dash array for the diastolic line, and a viewBox so the
/// webview can scale the chart.
fn finish_svg(svg: String) -> String {
    let mut s = svg.replace(FG_HEX, "currentColor");
    s = s.replace(
        &format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{DIASTOLIC_HEX}\""),
        &format!("<polyline fill=\"none\" opacity=\"1\" stroke-dasharray=\"7 4\" stroke=\"{DIASTOLIC_HEX}\""),
    );
    s
}

// ----- reading an export back (offline review) ---------------------------------------------------

/// What [`read_export_file`] found in one data file.
#[derive(Clone, Debug, Default)]
pub struct FileData {
    pub obs: Vec<Obs>,
    /// Rows that could not be read (no patient or time).
    pub skipped: u64,
}

fn col_f64(df: &DataFrame, name: &str) -> Option<Vec<Option<f64>>> {
    let c = df.column(name).ok()?;
    let c = c.cast(&DataType::Float64).ok()?;
    Some(c.f64().ok()?.iter().collect())
}

fn col_i64(df: &DataFrame, name: &str) -> Option<Vec<Option<i64>>> {
    let c = df.column(name).ok()?;
    let c = match c.dtype() {
        DataType::Datetime(tu, _) => {
            let scale = match tu {
                TimeUnit::Nanoseconds => -1000,
                TimeUnit::Microseconds => 1,
                TimeUnit::Milliseconds => 1000,
            };
            let v = c.cast(&DataType::Int64).ok()?;
            let v: Vec<Option<i64>> = v.i64().ok()?.iter().collect();
            return Some(
                v.into_iter()
                    .map(|x| x.map(|x| if scale < 0 { x / 1000 } else { x * scale }))
                    .collect(),
            );
        }
        DataType::String => {
            // CSV: ISO 8601 times.
            let s: Vec<Option<i64>> = c
                .str()
                .ok()?
                .iter()
                .map(|s| s.and_then(parse_time_text))
                .collect();
            return Some(s);
        }
        _ => c.cast(&DataType::Int64).ok()?,
    };
    Some(c.i64().ok()?.iter().collect())
}

fn col_str(df: &DataFrame, name: &str) -> Option<Vec<Option<String>>> {
    let c = df.column(name).ok()?;
    let c = c.cast(&DataType::String).ok()?;
    Some(
        c.str()
            .ok()?
            .iter()
            .map(|s| s.map(str::to_string))
            .collect(),
    )
}

fn parse_time_text(s: &str) -> Option<i64> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Some(t) = crate::omh::time::parse_date_time(s) {
        return Some(t.utc_us);
    }
    // "2025-06-01 08:00:00" (no offset, CSV of a naive datetime): read as UTC.
    crate::omh::time::parse_date_time(&s.replacen(' ', "T", 1)).map(|t| t.utc_us)
}

fn read_frame(path: &Path) -> Result<DataFrame, String> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or_default()
        .to_ascii_lowercase();
    match ext.as_str() {
        "parquet" => {
            let f = std::fs::File::open(path)
                .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
            ParquetReader::new(f)
                .finish()
                .map_err(|e| format!("{} is not a readable Parquet file: {e}", path.display()))
        }
        "csv" => CsvReadOptions::default()
            .with_has_header(true)
            .with_infer_schema_length(Some(10_000))
            .try_into_reader_with_file_path(Some(path.to_path_buf()))
            .and_then(|r| r.finish())
            .map_err(|e| format!("{} is not a readable CSV file: {e}", path.display())),
        _ => Err(format!(
            "{} is not a .csv or .parquet file exported by JHE Desktop",
            path.display()
        )),
    }
}

/// The view of a per-type file, from its name (`blood_glucose.csv`) or its value columns.
pub fn view_of_table(stem: &str, columns: &[String]) -> Option<ViewKind> {
    let by_name = ViewKind::KNOWN.iter().find(|v| v.name() == stem).cloned();
    if by_name.is_some() {
        return by_name;
    }
    let has = |c: &str| columns.iter().any(|n| n == c);
    [
        ("glucose_mg_dl", ViewKind::BloodGlucose),
        ("systolic_mmhg", ViewKind::BloodPressure),
        ("heart_rate_bpm", ViewKind::HeartRate),
        ("steps", ViewKind::StepCount),
        ("body_weight_kg", ViewKind::BodyWeight),
        ("spo2_pct", ViewKind::OxygenSaturation),
        ("respiratory_rate_bpm", ViewKind::RespiratoryRate),
        ("body_temperature_c", ViewKind::BodyTemperature),
        ("sleep_duration_min", ViewKind::SleepDuration),
        ("distance_m", ViewKind::PhysicalActivity),
    ]
    .into_iter()
    .find(|(c, _)| has(c))
    .map(|(_, v)| v)
}

fn value_columns(view: &ViewKind) -> (&'static str, Option<&'static str>) {
    match view {
        ViewKind::BloodGlucose => ("glucose_mg_dl", None),
        ViewKind::BloodPressure => ("systolic_mmhg", Some("diastolic_mmhg")),
        ViewKind::HeartRate => ("heart_rate_bpm", None),
        ViewKind::StepCount => ("steps", None),
        ViewKind::BodyWeight => ("body_weight_kg", None),
        ViewKind::OxygenSaturation => ("spo2_pct", None),
        ViewKind::RespiratoryRate => ("respiratory_rate_bpm", None),
        ViewKind::BodyTemperature => ("body_temperature_c", None),
        ViewKind::SleepDuration => ("sleep_duration_min", None),
        ViewKind::PhysicalActivity => ("distance_m", None),
        ViewKind::Other(_) => ("", None),
    }
}

/// The measure of the long table that holds a view's main (and second) value.
fn long_measures(view: &ViewKind) -> (&'static str, Option<&'static str>) {
    match view {
        ViewKind::BloodGlucose => ("glucose", None),
        ViewKind::BloodPressure => ("systolic", Some("diastolic")),
        ViewKind::HeartRate => ("heart_rate", None),
        ViewKind::StepCount => ("steps", None),
        ViewKind::BodyWeight => ("body_weight", None),
        ViewKind::OxygenSaturation => ("spo2", None),
        ViewKind::RespiratoryRate => ("respiratory_rate", None),
        ViewKind::BodyTemperature => ("body_temperature", None),
        ViewKind::SleepDuration => ("sleep_duration", None),
        ViewKind::PhysicalActivity => ("distance", None),
        ViewKind::Other(_) => ("", None),
    }
}

/// Reads one data file of an export (a per-type table, or the long table) back into
/// observations. Works for the engine's CSV and Parquet files.
pub fn read_export_file(path: &Path) -> Result<FileData, String> {
    let df = read_frame(path)?;
    let columns: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default()
        .to_string();
    let n = df.height();
    let need = |v: Option<Vec<Option<i64>>>, what: &str| {
        v.ok_or_else(|| {
            format!(
                "{} has no {what} column; is it a JHE Desktop export?",
                path.display()
            )
        })
    };
    let ids = col_i64(&df, "observation_id").unwrap_or_else(|| vec![None; n]);
    let patients = need(col_i64(&df, "patient_id"), "patient_id")?;
    let is_long = columns.iter().any(|c| c == "measure") && columns.iter().any(|c| c == "value");
    let time_col = if columns.iter().any(|c| c == "start_utc") {
        "start_utc"
    } else {
        "time_utc"
    };
    let times = need(col_i64(&df, time_col), time_col)?;
    let ends = col_i64(&df, "end_utc").unwrap_or_else(|| vec![None; n]);
    let local_col = if time_col == "start_utc" {
        "start_local"
    } else {
        "time_local"
    };
    let locals = col_i64(&df, local_col).unwrap_or_else(|| vec![None; n]);
    let codes = col_str(&df, "code").unwrap_or_else(|| vec![None; n]);
    let devices = col_str(&df, "device").unwrap_or_else(|| vec![None; n]);
    let sources = col_str(&df, "source_name").unwrap_or_else(|| vec![None; n]);
    let mut out = FileData::default();

    if is_long {
        let tables = col_str(&df, "table").unwrap_or_else(|| vec![None; n]);
        let measures = col_str(&df, "measure").unwrap_or_else(|| vec![None; n]);
        let values = col_f64(&df, "value").unwrap_or_else(|| vec![None; n]);
        // One observation per observation id; its measures fill v / v2.
        let mut by_id: BTreeMap<(u64, i64, i64), Obs> = BTreeMap::new();
        for i in 0..n {
            let (Some(pid), Some(t)) = (patients[i], times[i]) else {
                out.skipped += 1;
                continue;
            };
            let view = tables[i]
                .as_deref()
                .and_then(|t| view_of_table(t, &[]))
                .or_else(|| codes[i].as_deref().map(ViewKind::from_code));
            let Some(view) = view else {
                out.skipped += 1;
                continue;
            };
            let (m1, m2) = long_measures(&view);
            let key = (pid.max(0) as u64, ids[i].unwrap_or(-(i as i64)), t);
            let entry = by_id.entry(key).or_insert_with(|| Obs {
                observation_id: ids[i].unwrap_or_default().max(0) as u64,
                patient_id: pid.max(0) as u64,
                code: codes[i].clone().unwrap_or_else(|| view.name()),
                t_us: t,
                end_us: ends[i],
                local_us: locals[i],
                v: None,
                v2: None,
                device: devices[i].clone().or_else(|| sources[i].clone()),
            });
            let m = measures[i].as_deref().unwrap_or_default();
            if m == m1 {
                entry.v = values[i];
            } else if Some(m) == m2 {
                entry.v2 = values[i];
            }
        }
        out.obs = by_id.into_values().collect();
        return Ok(out);
    }

    let view = view_of_table(&stem, &columns).unwrap_or_else(|| ViewKind::Other(stem.clone()));
    let (c1, c2) = value_columns(&view);
    let v1 = col_f64(&df, c1).unwrap_or_else(|| vec![None; n]);
    let v2 = c2
        .and_then(|c| col_f64(&df, c))
        .unwrap_or_else(|| vec![None; n]);
    out.obs.reserve(n);
    for i in 0..n {
        let (Some(pid), Some(t)) = (patients[i], times[i]) else {
            out.skipped += 1;
            continue;
        };
        out.obs.push(Obs {
            observation_id: ids[i].unwrap_or_default().max(0) as u64,
            patient_id: pid.max(0) as u64,
            code: codes[i].clone().unwrap_or_else(|| view.name()),
            t_us: t,
            end_us: ends[i],
            local_us: locals[i],
            v: v1[i],
            v2: v2[i],
            device: devices[i].clone().or_else(|| sources[i].clone()),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
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
        let c = render(&ViewKind::BloodGlucose, &obs, &Options::default());
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
        let c = render(&ViewKind::BloodGlucose, &obs, &Options::default());
        // Two polylines for the data (plus the legend's none: the band legend is a rect).
        assert_eq!(
            c.svg
                .matches("stroke=\"#2563EB\" stroke-width=\"2\"")
                .count(),
            2,
            "{}",
            c.svg
        );
    }

    #[test]
    fn blood_pressure_has_dashed_diastolic_and_legend() {
        let start = 1_750_000_000_000_000;
        let obs: Vec<Obs> = (0..28)
            .map(|i| Obs {
                t_us: start + i * 12 * 3_600_000_000,
                v: Some(120.0 + i as f64),
                v2: Some(80.0),
                code: "omh:blood-pressure:4.0".into(),
                ..Default::default()
            })
            .collect();
        let c = render(&ViewKind::BloodPressure, &obs, &Options::default());
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
        let c = render(&ViewKind::StepCount, &obs, &Options::default());
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
        let c = render(&ViewKind::HeartRate, &[], &Options::default());
        assert!(c.svg.is_empty());
        assert_eq!(c.stats.n, 0);
        let c = render(
            &ViewKind::Other("x:y:1".into()),
            &cgm(3, 5, 0),
            &Options::default(),
        );
        assert!(c.svg.is_empty());
        assert_eq!(c.rows, 3);
    }
}
