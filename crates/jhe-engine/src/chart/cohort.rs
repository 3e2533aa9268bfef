//! One CGM metric across a cohort ([`render_cohort_bars`]): a horizontal bar per participant
//! in the order given, its value written at the bar's end, and a dashed reference line at the
//! metric's goal (time in range 70 %, GMI 7 %, mean glucose 154 mg/dL ≈ GMI 7 %). Participants
//! without the metric keep their row, marked "No data". The height grows with the rows.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{finish_svg, fit_text, text_width, DrawResult, BAND_EDGE, FG, FONT, LINE};
use crate::analysis::CgmMetrics;

/// One participant's bar: a label and the metrics the chart can show.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct CohortRow {
    pub label: String,
    pub mean_mg_dl: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub in_range_percent: Option<f64>,
}

impl CohortRow {
    pub fn from_metrics(label: impl Into<String>, m: &CgmMetrics) -> CohortRow {
        CohortRow {
            label: label.into(),
            mean_mg_dl: m.mean_mg_dl,
            gmi_percent: m.gmi_percent,
            in_range_percent: m.in_range_percent,
        }
    }
}

/// Which metric the bars show.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CohortMetric {
    MeanGlucose,
    Gmi,
    TimeInRange,
}

impl CohortMetric {
    fn value(self, r: &CohortRow) -> Option<f64> {
        match self {
            CohortMetric::MeanGlucose => r.mean_mg_dl,
            CohortMetric::Gmi => r.gmi_percent,
            CohortMetric::TimeInRange => r.in_range_percent,
        }
        .filter(|v| v.is_finite() && *v >= 0.0)
    }

    /// The reference line: value and label.
    fn goal(self) -> (f64, &'static str) {
        match self {
            CohortMetric::MeanGlucose => (154.0, "154 mg/dL ≈ GMI 7 %"),
            CohortMetric::Gmi => (7.0, "Goal <7 %"),
            CohortMetric::TimeInRange => (70.0, "Goal >70 %"),
        }
    }

    fn title(self) -> &'static str {
        match self {
            CohortMetric::MeanGlucose => "Mean glucose (mg/dL)",
            CohortMetric::Gmi => "Glucose management indicator, GMI (%)",
            CohortMetric::TimeInRange => "Time in range 70–180 mg/dL (% of readings)",
        }
    }

    fn label(self, v: f64) -> String {
        match self {
            CohortMetric::MeanGlucose => format!("{v:.0}"),
            CohortMetric::Gmi => format!("{v:.1} %"),
            CohortMetric::TimeInRange => format!("{v:.0} %"),
        }
    }

    /// The axis end and its tick step for values up to `max`.
    fn axis(self, max: f64) -> (f64, f64) {
        match self {
            CohortMetric::TimeInRange => (100.0, 20.0),
            CohortMetric::Gmi => ((max.max(8.0) + 0.5).ceil(), 1.0),
            CohortMetric::MeanGlucose => {
                let end = ((max.max(200.0) * 1.05) / 50.0).ceil() * 50.0;
                (end, if end > 300.0 { 100.0 } else { 50.0 })
            }
        }
    }
}

const MARGIN: i32 = 8;
const SIZE: f64 = 15.0;

/// The bars as a complete `<svg>` document, `width` user units wide (its height follows the
/// rows); empty when no row has the metric.
pub fn render_cohort_bars(rows: &[CohortRow], metric: CohortMetric, width: u32) -> String {
    if !rows.iter().any(|r| metric.value(r).is_some()) {
        return String::new();
    }
    draw(rows, metric, width.max(320))
        .map_err(|e| tracing::warn!("cohort chart: {e}"))
        .unwrap_or_default()
}

fn draw(rows: &[CohortRow], metric: CohortMetric, w: u32) -> DrawResult<String> {
    let wi = w as i32;
    let (pitch, bar_h) = if rows.len() <= 20 { (26, 18) } else { (20, 14) };
    let labelled = rows.iter().any(|r| !r.label.trim().is_empty());
    let label_w = if labelled {
        let longest = rows
            .iter()
            .map(|r| text_width(r.label.trim(), SIZE))
            .max()
            .unwrap_or(0);
        (longest + 12).min(wi * 3 / 10)
    } else {
        0
    };
    let max = rows
        .iter()
        .filter_map(|r| metric.value(r))
        .fold(0.0, f64::max);
    let (end, step) = metric.axis(max);
    let x0 = MARGIN + label_w;
    // Room at the right for the longest value label.
    let x1 = wi - MARGIN - text_width("100.0 %", SIZE) - 6;
    let x_of = |v: f64| x0 + (v.clamp(0.0, end) / end * f64::from(x1 - x0)).round() as i32;
    let top = MARGIN + 24;
    let bottom = top + rows.len() as i32 * pitch - (pitch - bar_h);
    let h = bottom + 52;

    let mut svg = String::with_capacity(4096 + rows.len() * 600);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h as u32)).into_drawing_area();
        let font = (FONT, SIZE).into_font().color(&FG);
        let left = font.pos(Pos::new(HPos::Left, VPos::Center));
        let right = font.pos(Pos::new(HPos::Right, VPos::Center));
        // Faint grid lines at the ticks, under the bars.
        let ticks: Vec<f64> = (0..)
            .map(|k| f64::from(k) * step)
            .take_while(|v| *v <= end + 1e-9)
            .collect();
        for &v in &ticks {
            root.draw(&PathElement::new(
                vec![(x_of(v), top - 4), (x_of(v), bottom)],
                FG.mix(0.12),
            ))?;
        }
        let (goal, goal_label) = metric.goal();
        let xg = x_of(goal);
        for (i, row) in rows.iter().enumerate() {
            let y0 = top + i as i32 * pitch;
            let yc = y0 + bar_h / 2;
            if labelled {
                let label = fit_text(row.label.trim(), label_w - 12, SIZE);
                root.draw(&Text::new(label, (x0 - 8, yc), right.clone()))?;
            }
            match metric.value(row) {
                Some(v) => {
                    let xe = x_of(v).max(x0 + 1);
                    root.draw(&Rectangle::new(
                        [(x0, y0), (xe, y0 + bar_h)],
                        LINE.color().filled(),
                    ))?;
                    // After the bar's end, or after the goal line where it would cross it.
                    let label = metric.label(v);
                    let mut xl = xe + 5;
                    if xl - 4 <= xg && xg <= xl + text_width(&label, SIZE) + 4 {
                        xl = xg + 5;
                    }
                    root.draw(&Text::new(label, (xl, yc), left.clone()))?;
                }
                None => root.draw(&Text::new("No data", (x0 + 4, yc), left.clone()))?,
            }
        }
        // The goal, over the bars, labelled above them.
        root.draw(&PathElement::new(
            vec![(xg, top - 6), (xg, bottom + 2)],
            BAND_EDGE.color().stroke_width(2),
        ))?;
        let half = text_width(goal_label, SIZE) / 2;
        root.draw(&Text::new(
            goal_label,
            (xg.clamp(half + 2, wi - half - 2), top - 9),
            font.pos(Pos::new(HPos::Center, VPos::Bottom)),
        ))?;
        // The value axis.
        root.draw(&PathElement::new(
            vec![(x0, bottom + 4), (x1, bottom + 4)],
            FG,
        ))?;
        let tick = (FONT, 14.0)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Center, VPos::Top));
        for &v in &ticks {
            let x = x_of(v);
            root.draw(&PathElement::new(
                vec![(x, bottom + 4), (x, bottom + 9)],
                FG,
            ))?;
            root.draw(&Text::new(
                format!("{v:.0}"),
                (x, bottom + 12),
                tick.clone(),
            ))?;
        }
        root.draw(&Text::new(
            metric.title(),
            ((x0 + x1) / 2, bottom + 32),
            tick.clone(),
        ))?;
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;

    fn rows(n: usize) -> Vec<CohortRow> {
        (0..n)
            .map(|i| {
                let mean = 120.0 + (i * 37 % 110) as f64;
                CohortRow {
                    label: format!("Participant {}", 40001 + i),
                    mean_mg_dl: Some(mean),
                    gmi_percent: Some(3.31 + 0.02392 * mean),
                    in_range_percent: Some(95.0 - (mean - 120.0) * 0.6),
                }
            })
            .collect()
    }

    fn bars(svg: &str) -> Vec<i32> {
        elements(svg, "rect")
            .iter()
            .filter(|r| attr(r, "fill") == Some(css(&LINE).as_str()))
            .filter_map(|r| attr(r, "width")?.parse().ok())
            .collect()
    }

    #[test]
    fn a_bar_per_participant_with_its_value_and_the_goal() {
        let mut rs = rows(12);
        rs[4].in_range_percent = None;
        for (metric, goal) in [
            (CohortMetric::TimeInRange, "Goal &gt;70 %"),
            (CohortMetric::Gmi, "Goal &lt;7 %"),
            (CohortMetric::MeanGlucose, "154 mg/dL ≈ GMI 7 %"),
        ] {
            let svg = render_cohort_bars(&rs, metric, 760);
            assert_well_formed(&svg);
            preview(&format!("cohort-{metric:?}"), &svg);
            let n = if metric == CohortMetric::TimeInRange {
                11
            } else {
                12
            };
            assert_eq!(bars(&svg).len(), n, "{metric:?}");
            assert!(svg.contains(goal), "{goal}");
            assert!(svg.contains(metric.title()));
            assert_eq!(
                svg.matches(&format!(
                    "stroke-dasharray=\"5 3\" stroke=\"{}\"",
                    css(&BAND_EDGE)
                ))
                .count(),
                1,
                "the dashed goal line"
            );
        }
        let svg = render_cohort_bars(&rs, CohortMetric::TimeInRange, 760);
        assert!(svg.contains(">\nNo data\n"));
        assert!(svg.contains(&format!(">\n{}\n", CohortMetric::TimeInRange.label(95.0))));
        // Sorted as given: the bars keep the rows' order (longer for a higher value).
        // Means 120, 157, 194, 121.
        let widths = bars(&render_cohort_bars(
            &rs[..4],
            CohortMetric::MeanGlucose,
            760,
        ));
        assert!(
            widths[0] < widths[1] && widths[1] < widths[2] && widths[2] > widths[3],
            "{widths:?}"
        );
    }

    #[test]
    fn many_one_and_none() {
        let many = render_cohort_bars(&rows(80), CohortMetric::Gmi, 760);
        assert_well_formed(&many);
        preview("cohort-many", &many);
        assert_eq!(bars(&many).len(), 80);
        let one = render_cohort_bars(&rows(1), CohortMetric::TimeInRange, 320);
        assert_well_formed(&one);
        preview("cohort-one-narrow", &one);
        assert_eq!(bars(&one).len(), 1);
        assert_eq!(render_cohort_bars(&[], CohortMetric::Gmi, 760), "");
        let none = [CohortRow {
            label: "x".into(),
            ..Default::default()
        }];
        assert_eq!(
            render_cohort_bars(&none, CohortMetric::MeanGlucose, 760),
            ""
        );
    }
}
