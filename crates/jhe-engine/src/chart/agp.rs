//! The ambulatory glucose profile drawn as SVG ([`render_agp`]): one modal day, 00:00 to 24:00
//! of the participant's clock, with the 5th–95th and 25th–75th percentile bands, the median, the
//! dashed 5th and 95th percentile lines and the target range's edges. The percentiles are
//! [`crate::analysis::iglu::agp`]'s (iglu's `plot_agp(smooth = FALSE)`); colours are
//! [`super::Paint`]s, so the chart follows the theme like the others.

use plotters::prelude::*;

use super::axis::TimeAxis;
use super::draw::{
    builder, finish_svg, mesh, DrawResult, AGP_EDGE, AGP_INNER, AGP_MEDIAN, AGP_OUTER, BAND_EDGE,
    FG, FONT,
};
use crate::analysis::iglu::AgpProfile;

/// The consensus target range (mg/dL), drawn as two dashed lines.
const TARGET: (f64, f64) = (70.0, 180.0);

/// Runs of consecutive grid times with values: (minute, the five percentiles).
fn runs(p: &AgpProfile) -> Vec<Vec<(i64, [f64; 5])>> {
    let mut out: Vec<Vec<(i64, [f64; 5])>> = Vec::new();
    let mut cur = Vec::new();
    for (m, b) in p.minutes.iter().zip(&p.bands) {
        if b.iter().all(|v| v.is_finite()) {
            cur.push((i64::from(*m), *b));
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The AGP as a complete `<svg>` document (`width` × `height` user units); empty when the
/// profile has no values or drawing fails.
pub fn render_agp(p: &AgpProfile, width: u32, height: u32) -> String {
    let runs = runs(p);
    if runs.is_empty() {
        return String::new();
    }
    draw(&runs, width.max(200), height.max(120))
        .map_err(|e| tracing::warn!("AGP chart: {e}"))
        .unwrap_or_default()
}

fn draw(runs: &[Vec<(i64, [f64; 5])>], w: u32, h: u32) -> DrawResult<String> {
    let top = runs
        .iter()
        .flatten()
        .map(|(_, b)| b[4])
        .fold(250.0_f64, f64::max);
    let bottom = runs
        .iter()
        .flatten()
        .map(|(_, b)| b[0])
        .fold(50.0_f64, f64::min);
    let (ylo, yhi) = (
        (bottom / 20.0).floor() * 20.0,
        (top / 50.0).ceil() * 50.0 + 10.0,
    );
    let mut svg = String::with_capacity(32 * 1024);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let mut chart = builder(&root)
            .margin_top(30)
            // Minutes of the day, a labelled tick every 3 hours, 00:00 to 24:00.
            .build_cartesian_2d(
                TimeAxis {
                    from: 0,
                    to: 1440,
                    ticks: (0..=8).map(|h| h * 180).collect(),
                },
                ylo..yhi,
            )?;
        mesh(&mut chart, true)
            .x_labels(9)
            .y_labels(6)
            .x_label_formatter(&|m: &i64| format!("{:02}:00", m / 60))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("Time of day (the participant's clock)")
            .y_desc("Glucose (mg/dL)")
            .draw()?;
        let band = |lo: usize, hi: usize, run: &[(i64, [f64; 5])]| -> Vec<(i64, f64)> {
            run.iter()
                .map(|(m, b)| (*m, b[hi]))
                .chain(run.iter().rev().map(|(m, b)| (*m, b[lo])))
                .collect()
        };
        for run in runs {
            chart.draw_series(std::iter::once(Polygon::new(
                band(0, 4, run),
                AGP_OUTER.color().filled(),
            )))?;
            chart.draw_series(std::iter::once(Polygon::new(
                band(1, 3, run),
                AGP_INNER.color().filled(),
            )))?;
            for k in [0, 4] {
                chart.draw_series(LineSeries::new(
                    run.iter().map(|(m, b)| (*m, b[k])),
                    AGP_EDGE.color().stroke_width(1),
                ))?;
            }
            chart.draw_series(LineSeries::new(
                run.iter().map(|(m, b)| (*m, b[2])),
                AGP_MEDIAN.color().stroke_width(2),
            ))?;
        }
        chart.draw_series(
            [TARGET.0, TARGET.1]
                .into_iter()
                .filter(|v| (ylo..=yhi).contains(v))
                .map(|v| PathElement::new(vec![(0, v), (1440, v)], BAND_EDGE.color())),
        )?;
        // The legend in one row above the plot, where it hides no data.
        let (xr, _) = chart.plotting_area().get_pixel_range();
        let mut x = xr.start;
        let y = 12;
        let small = (FONT, 16).into_font().color(&FG);
        for (label, key) in [
            ("Median", 0),
            ("25–75 % of readings", 1),
            ("5–95 %", 2),
            ("Target 70–180 mg/dL", 3),
        ] {
            match key {
                0 => root.draw(&PathElement::new(
                    vec![(x, y), (x + 18, y)],
                    AGP_MEDIAN.color().stroke_width(2),
                ))?,
                1 => root.draw(&Rectangle::new(
                    [(x, y - 5), (x + 18, y + 5)],
                    AGP_INNER.color().filled(),
                ))?,
                2 => root.draw(&Rectangle::new(
                    [(x, y - 5), (x + 18, y + 5)],
                    AGP_OUTER.color().filled(),
                ))?,
                _ => root.draw(&PathElement::new(
                    vec![(x, y), (x + 18, y)],
                    BAND_EDGE.color().stroke_width(1),
                ))?,
            }
            root.draw(&Text::new(label, (x + 24, y - 7), small.clone()))?;
            // About 8.5 px a character at 16 px, and a gap.
            x += 24 + (label.chars().count() as i32 * 17) / 2 + 22;
        }
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(minutes: &[u32], f: impl Fn(u32) -> Option<f64>) -> AgpProfile {
        AgpProfile {
            step_min: 5,
            minutes: minutes.to_vec(),
            bands: minutes
                .iter()
                .map(|m| match f(*m) {
                    Some(c) => [c - 40.0, c - 15.0, c, c + 20.0, c + 60.0],
                    None => [f64::NAN; 5],
                })
                .collect(),
            days: 14,
        }
    }

    #[test]
    fn the_agp_has_both_bands_the_median_the_target_and_themed_colours() {
        let minutes: Vec<u32> = (1..=288).map(|k| k * 5).collect();
        let svg = render_agp(
            &profile(&minutes, |m| Some(120.0 + f64::from(m % 300) / 10.0)),
            760,
            240,
        );
        assert!(svg.starts_with("<svg"), "{svg}");
        for needle in [
            "var(--chart-agp-outer",
            "var(--chart-agp-inner",
            "var(--chart-agp-median",
            "stroke-dasharray=\"4 3\" stroke=\"var(--chart-agp-edge",
            "stroke-dasharray=\"5 3\" stroke=\"var(--chart-band",
            "Median",
            "Target 70–180 mg/dL",
            "00:00",
            "12:00",
            "24:00",
        ] {
            assert!(svg.contains(needle), "{needle} missing");
        }
        assert!(!svg.contains("#010203"), "axes are currentColor");
    }

    #[test]
    fn times_of_day_without_data_break_the_bands_and_nothing_is_drawn_without_data() {
        let minutes: Vec<u32> = (1..=288).map(|k| k * 5).collect();
        // No day has data from 10:00 to 14:00: two runs, so two median lines.
        let gap = |m: u32| (!(600..840).contains(&m)).then_some(140.0);
        let p = profile(&minutes, gap);
        assert_eq!(runs(&p).len(), 2);
        let svg = render_agp(&p, 760, 240);
        assert_eq!(
            svg.matches("var(--chart-agp-median").count(),
            2 + 1,
            "two runs and the legend"
        );
        assert_eq!(render_agp(&profile(&minutes, |_| None), 760, 240), "");
    }
}
