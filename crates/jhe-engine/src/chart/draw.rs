//! Drawing a chart with plotters' SVG backend: the band, bars or lines (decimated per pixel
//! column, broken at gaps), the legend, and the SVG touch-ups (`currentColor`, dashes).

use plotters::prelude::*;

use super::axis::{tick_label, tick_unit, ticks, y_label, y_range, TickUnit, TimeAxis};
use super::{segments, Options, Point, Presentation, Style, XAxis};
use crate::omh::time::US_PER_DAY;

/// Axis and text colour, replaced by `currentColor` in the SVG.
const FG: RGBColor = RGBColor(1, 2, 3);
pub(super) const FG_HEX: &str = "#010203";
const BLUE: RGBColor = RGBColor(0x25, 0x63, 0xEB);
const RED: RGBColor = RGBColor(0xC0, 0x26, 0x2D);
/// Diastolic blood pressure: drawn dashed (the SVG gets a dash array for this colour).
const DIASTOLIC: RGBColor = RGBColor(0x25, 0x63, 0xEC);
const DIASTOLIC_HEX: &str = "#2563EC";
const BAND: RGBColor = RGBColor(0x16, 0xA3, 0x4A);
/// Marks of implausible readings.
const FLAGGED: RGBColor = RGBColor(0xE8, 0x6A, 0x00);
const FONT: &str = "sans-serif";

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

type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

#[allow(clippy::too_many_arguments)]
pub(super) fn draw(
    pres: &Presentation,
    series: &[Point],
    flagged: &[i64],
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
        if let Some(band) = pres.band {
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(from, band.lo.max(ylo)), (to, band.hi.min(yhi))],
                    BAND.mix(0.14).filled(),
                )))?
                .label(band.label)
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
        // Implausible readings: a mark on the top edge at their time (not a value).
        let marks: Vec<i64> = flagged
            .iter()
            .copied()
            .filter(|t| (from..=to).contains(t))
            .collect();
        if !marks.is_empty() {
            chart
                .draw_series(
                    marks
                        .iter()
                        .map(|&t| TriangleMarker::new((t, yhi), 6, FLAGGED.filled())),
                )?
                .label("Implausible value, not counted")
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, FLAGGED.filled()));
            legend = true;
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
