//! Time in ranges as horizontal 100 % stacked bars ([`render_tir_bars`]): one bar per row (one
//! participant, or each of a cohort), the five CGM consensus ranges (Battelino 2019) left to right
//! from very low to very high, the percent written inside every segment wide enough for it, and a
//! legend above with each range's consensus goal (and, for a single row, its value, so the
//! narrow segments are read too). Colours are the consensus report's ([`super::Paint`]s
//! `--chart-tir-*`); the height grows with the rows.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{
    finish_svg, fit_text, text_width, DrawResult, Paint, FG, FONT, TIR_HIGH, TIR_IN_RANGE, TIR_LOW,
    TIR_TEXT, TIR_TEXT_HIGH, TIR_VERY_HIGH, TIR_VERY_LOW,
};
use crate::analysis::CgmMetrics;

/// One bar: a label (a participant's name or id; may be empty) and the % of readings very low
/// (<54 mg/dL), low (54–<70), in range (70–180), high (>180–250) and very high (>250), in that
/// order.
#[derive(Clone, Debug, PartialEq)]
pub struct TirRow {
    pub label: String,
    pub percents: [f64; 5],
}

impl TirRow {
    /// The row of one participant's metrics; `None` without readings.
    pub fn from_metrics(label: impl Into<String>, m: &CgmMetrics) -> Option<TirRow> {
        Some(TirRow {
            label: label.into(),
            percents: [
                m.very_low_percent?,
                m.low_percent?,
                m.in_range_percent?,
                m.high_percent?,
                m.very_high_percent?,
            ],
        })
    }
}

/// The ranges in bar order: fill, the text written on it, name, consensus goal.
pub(super) const RANGES: [(Paint, Paint, &str, &str); 5] = [
    (TIR_VERY_LOW, TIR_TEXT, "Very low <54 mg/dL", "<1 %"),
    (TIR_LOW, TIR_TEXT, "Low 54–69", "<4 %"),
    (TIR_IN_RANGE, TIR_TEXT, "In range 70–180", ">70 %"),
    (TIR_HIGH, TIR_TEXT_HIGH, "High 181–250", "<25 %"),
    (TIR_VERY_HIGH, TIR_TEXT, "Very high >250", "<5 %"),
];

const MARGIN: i32 = 8;
const LEGEND_SIZE: f64 = 15.0;
const LABEL_SIZE: f64 = 15.0;

/// A percentage as written on the chart: whole numbers from 10 %, one decimal below.
pub(super) fn percent(p: f64) -> String {
    if p >= 9.95 {
        format!("{p:.0} %")
    } else if p >= 0.05 || p == 0.0 {
        format!("{p:.1} %").replace("0.0 %", "0 %")
    } else {
        "<0.1 %".to_string()
    }
}

/// The bars as a complete `<svg>` document, `width` user units wide (its height follows the
/// rows); empty when no row has a percentage.
pub fn render_tir_bars(rows: &[TirRow], width: u32) -> String {
    if !rows.iter().any(|r| total(r) > 0.0) {
        return String::new();
    }
    draw(rows, width.max(320))
        .map_err(|e| tracing::warn!("time-in-range chart: {e}"))
        .unwrap_or_default()
}

fn total(r: &TirRow) -> f64 {
    r.percents
        .iter()
        .filter(|p| p.is_finite() && **p > 0.0)
        .sum()
}

/// The legend's entries in equal columns (as many as fit in `w`, row by row): (x, line, text).
fn legend_layout(texts: &[String], w: i32) -> Vec<(i32, i32, &str)> {
    let col_w = 20
        + texts
            .iter()
            .map(|t| text_width(t, LEGEND_SIZE))
            .max()
            .unwrap_or(0)
        + 18;
    let cols = ((w - 2 * MARGIN + 18) / col_w.max(1)).clamp(1, 5);
    texts
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let i = i as i32;
            (MARGIN + (i % cols) * col_w, i / cols, t.as_str())
        })
        .collect()
}

fn draw(rows: &[TirRow], w: u32) -> DrawResult<String> {
    let wi = w as i32;
    let single = rows.len() == 1;
    let texts: Vec<String> = RANGES
        .iter()
        .enumerate()
        .map(|(k, (_, _, name, goal))| match rows.first() {
            Some(r) if single => format!("{name}: {} (goal {goal})", percent(r.percents[k])),
            _ => format!("{name} (goal {goal})"),
        })
        .collect();
    let legend = legend_layout(&texts, wi);
    let lines = legend.last().map_or(0, |l| l.1) + 1;
    let top = MARGIN + lines * 22 + 6;
    let (pitch, bar_h, in_size) = if rows.len() <= 12 {
        (34, 26, 15.0)
    } else {
        (24, 18, 13.0)
    };
    let labelled = rows.iter().any(|r| !r.label.trim().is_empty());
    let label_w = if labelled {
        let longest = rows
            .iter()
            .map(|r| text_width(r.label.trim(), LABEL_SIZE))
            .max()
            .unwrap_or(0);
        (longest + 12).min(wi * 3 / 10)
    } else {
        0
    };
    let x0 = MARGIN + label_w;
    // Room at the right for half of the "100 %" tick label.
    let x1 = wi - MARGIN - 16;
    let span = f64::from(x1 - x0);
    let h = top + rows.len() as i32 * pitch + 34;

    let mut svg = String::with_capacity(4096 + rows.len() * 1200);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h as u32)).into_drawing_area();
        let text = (FONT, LEGEND_SIZE).into_font().color(&FG);
        for (k, (x, line, t)) in legend.iter().enumerate() {
            let y = MARGIN + line * 22 + 8;
            root.draw(&Rectangle::new(
                [(*x, y - 7), (x + 14, y + 7)],
                RANGES[k].0.color().filled(),
            ))?;
            root.draw(&Text::new(
                t.to_string(),
                (x + 20, y),
                text.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        let label_style = (FONT, LABEL_SIZE)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Right, VPos::Center));
        for (i, row) in rows.iter().enumerate() {
            let y0 = top + i as i32 * pitch;
            let yc = y0 + bar_h / 2;
            if labelled {
                let label = fit_text(row.label.trim(), label_w - 12, LABEL_SIZE);
                root.draw(&Text::new(label, (x0 - 8, yc), label_style.clone()))?;
            }
            let sum = total(row);
            if sum <= 0.0 {
                root.draw(&Text::new(
                    "No readings",
                    (x0 + 4, yc),
                    text.pos(Pos::new(HPos::Left, VPos::Center)),
                ))?;
                continue;
            }
            let mut cum = 0.0;
            for (k, (fill, ink, _, _)) in RANGES.iter().enumerate() {
                let p = row.percents[k];
                let p = if p.is_finite() && p > 0.0 { p } else { 0.0 };
                let left = x0 + (span * cum / sum).round() as i32;
                cum += p;
                let right = x0 + (span * cum / sum).round() as i32;
                if p <= 0.0 || right <= left {
                    continue;
                }
                // A 1-unit gap between segments (not after the last), so neighbours stay apart.
                let gap = i32::from(cum < sum - 1e-9 && right - left >= 3);
                root.draw(&Rectangle::new(
                    [(left, y0), (right - gap, y0 + bar_h)],
                    fill.color().filled(),
                ))?;
                let label = percent(row.percents[k]);
                if text_width(&label, in_size) + 6 <= right - left - gap {
                    let style = (FONT, in_size)
                        .into_font()
                        .style(FontStyle::Bold)
                        .color(&ink.rgb())
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    root.draw(&Text::new(label, ((left + right - gap) / 2, yc), style))?;
                }
            }
        }
        // The percent axis under the bars.
        let ya = top + rows.len() as i32 * pitch - (pitch - bar_h) + 4;
        let tick = (FONT, 14.0)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for q in [0, 25, 50, 75, 100] {
            let x = x0 + (span * f64::from(q) / 100.0).round() as i32;
            root.draw(&PathElement::new(vec![(x, ya), (x, ya + 5)], FG))?;
            root.draw(&Text::new(format!("{q} %"), (x, ya + 8), tick.clone()))?;
        }
        root.draw(&PathElement::new(vec![(x0, ya), (x1, ya)], FG))?;
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;

    fn row(label: &str, p: [f64; 5]) -> TirRow {
        TirRow {
            label: label.into(),
            percents: p,
        }
    }

    /// Rectangles filled with one of the five range colours, per range.
    fn segments(svg: &str) -> [usize; 5] {
        let rects = elements(svg, "rect");
        RANGES.map(|(fill, ..)| {
            let want = css(&fill);
            rects
                .iter()
                .filter(|r| attr(r, "fill") == Some(want.as_str()))
                .count()
        })
    }

    #[test]
    fn one_participant_has_one_bar_and_the_goals_with_values() {
        let svg = render_tir_bars(
            &[row("Participant 40001", [0.4, 2.6, 71.0, 20.0, 6.0])],
            760,
        );
        assert_well_formed(&svg);
        preview("tir-one", &svg);
        // A legend swatch and one segment per range.
        assert_eq!(segments(&svg), [2; 5]);
        for needle in [
            "Very low &lt;54 mg/dL: 0.4 % (goal &lt;1 %)",
            "In range 70–180: 71 % (goal &gt;70 %)",
            "Very high &gt;250: 6.0 % (goal &lt;5 %)",
            "Participant 40001",
            ">\n71 %\n",
            ">\n20 %\n",
        ] {
            assert!(svg.contains(needle), "{needle} missing");
        }
        // 0.4 % is far too narrow to be written inside its segment.
        assert!(!svg.contains(">\n0.4 %\n"));
        assert!(!svg.contains("#010203"), "text is currentColor");
    }

    #[test]
    fn a_cohort_has_a_bar_per_row_and_grows() {
        let rows: Vec<TirRow> = (0..30)
            .map(|i| {
                let lo = f64::from(i % 5);
                let hi = f64::from(i % 7) * 4.0;
                row(
                    &format!("P{:03}", i + 1),
                    [lo / 4.0, lo, 100.0 - lo * 1.25 - hi * 1.5, hi, hi / 2.0],
                )
            })
            .collect();
        let svg = render_tir_bars(&rows, 760);
        assert_well_formed(&svg);
        preview("tir-cohort", &svg);
        let drawn: usize = segments(&svg).iter().sum::<usize>() - 5;
        let nonzero: usize = rows
            .iter()
            .map(|r| r.percents.iter().filter(|p| **p > 0.0).count())
            .sum();
        assert_eq!(drawn, nonzero);
        assert_eq!(
            elements(&svg, "text").len() - 5 - 5,
            30 + count_in_bar(&svg)
        );
        let few = render_tir_bars(&rows[..3], 760);
        assert!(height(&svg) > height(&few) + 27 * 20);
        assert!(
            !svg.contains(": "),
            "values only in the legend of a single row"
        );
    }

    fn height(svg: &str) -> i32 {
        elements(svg, "svg")
            .first()
            .and_then(|t| attr(t, "height"))
            .and_then(|h| h.parse().ok())
            .unwrap_or_default()
    }

    /// Texts in the ink colours (the percents written inside segments).
    fn count_in_bar(svg: &str) -> usize {
        elements(svg, "text")
            .iter()
            .filter(|t| {
                let f = attr(t, "fill");
                f == Some(css(&TIR_TEXT).as_str()) || f == Some(css(&TIR_TEXT_HIGH).as_str())
            })
            .count()
    }

    #[test]
    fn nothing_to_draw_gives_no_svg_and_empty_rows_say_so() {
        assert_eq!(render_tir_bars(&[], 760), "");
        assert_eq!(render_tir_bars(&[row("x", [0.0; 5])], 760), "");
        let svg = render_tir_bars(
            &[
                row("a", [0.0, 0.0, 100.0, 0.0, 0.0]),
                row("b", [f64::NAN; 5]),
            ],
            400,
        );
        assert_well_formed(&svg);
        assert_eq!(segments(&svg), [1, 1, 2, 1, 1]);
        preview("tir-narrow", &svg);
        assert!(svg.contains("No readings"));
        assert!(svg.contains(">\n100 %\n"));
    }

    #[test]
    fn percents_read_well() {
        assert_eq!(percent(71.04), "71 %");
        assert_eq!(percent(9.94), "9.9 %");
        assert_eq!(percent(0.0), "0 %");
        assert_eq!(percent(0.01), "<0.1 %");
    }
}
