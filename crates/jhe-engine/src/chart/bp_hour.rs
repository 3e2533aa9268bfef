//! Blood pressure by hour of day ([`render_bp_by_hour`]): for every local hour (0–23) with
//! readings, the mean systolic (circle) and mean diastolic (square) joined by a bar, all three in
//! the colour of the AHA/ACC 2017 category of that hour's mean pair
//! ([`crate::analysis::bp_category`]; `--chart-bp-*`), and a legend above that names the shapes
//! and the five categories.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::axis::TimeAxis;
use super::draw::{
    builder, finish_svg, mesh, text_width, DrawResult, Paint, BP_CRISIS, BP_ELEVATED, BP_NORMAL,
    BP_STAGE_1, BP_STAGE_2, FG, FONT,
};
use crate::analysis::bp::HourMean;
use crate::analysis::{bp_category, BpCategory};

/// The paint and legend name of a category.
pub(super) fn category_paint(c: BpCategory) -> (Paint, &'static str) {
    match c {
        BpCategory::Normal => (BP_NORMAL, "Normal"),
        BpCategory::Elevated => (BP_ELEVATED, "Elevated"),
        BpCategory::Stage1 => (BP_STAGE_1, "Stage 1"),
        BpCategory::Stage2 => (BP_STAGE_2, "Stage 2"),
        BpCategory::Crisis => (BP_CRISIS, "Crisis"),
    }
}

/// The chart as a complete `<svg>` document (`width` × `height` user units); empty without an
/// hour with finite means.
pub fn render_bp_by_hour(by_hour: &[HourMean], width: u32, height: u32) -> String {
    let hours: Vec<&HourMean> = by_hour
        .iter()
        .filter(|h| h.hour < 24 && h.mean_systolic.is_finite() && h.mean_diastolic.is_finite())
        .collect();
    if hours.is_empty() {
        return String::new();
    }
    draw(&hours, width.max(320), height.max(200))
        .map_err(|e| tracing::warn!("blood pressure by hour: {e}"))
        .unwrap_or_default()
}

fn draw(hours: &[&HourMean], w: u32, h: u32) -> DrawResult<String> {
    let lo = hours
        .iter()
        .map(|h| h.mean_diastolic.min(h.mean_systolic))
        .fold(60.0, f64::min);
    let hi = hours
        .iter()
        .map(|h| h.mean_systolic.max(h.mean_diastolic))
        .fold(150.0, f64::max);
    // Room above and below for the dots' radius.
    let (ylo, yhi) = (
        ((lo - 8.0) / 10.0).floor() * 10.0,
        ((hi + 12.0) / 10.0).ceil() * 10.0,
    );

    // The legend's entries: (shape, paint or the text colour, text), wrapped to the width.
    let mut entries: Vec<(u8, Option<Paint>, &str)> =
        vec![(0, None, "Systolic"), (1, None, "Diastolic")];
    entries.extend(BpCategory::ALL.map(|c| {
        let (p, name) = category_paint(c);
        (2, Some(p), name)
    }));
    let size = 15.0;
    let mut placed: Vec<(i32, i32)> = Vec::new();
    let (mut x, mut line) = (62, 0);
    for (_, _, t) in &entries {
        let need = 22 + text_width(t, size);
        if x > 62 && x + need > w as i32 - 8 {
            x = 62;
            line += 1;
        }
        placed.push((x, line));
        x += need + 16;
    }
    let legend_h = (line + 1) * 22 + 8;

    // Ticks every 3 hours (6 when narrow), a y label about every 40 units of height.
    let hours_step = if w >= 560 { 3 } else { 6 };
    let plot_h = h as i32 - legend_h - 44;
    let y_labels = (plot_h / 40).clamp(3, 8) as usize;
    let mut svg = String::with_capacity(16 * 1024);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let mut chart = builder(&root)
            .margin_top(legend_h as u32)
            .build_cartesian_2d(
                TimeAxis {
                    from: 0,
                    to: 1440,
                    ticks: (0..=24).step_by(hours_step).map(|k| k * 60).collect(),
                },
                ylo..yhi,
            )?;
        mesh(&mut chart, true)
            .x_labels(25)
            .y_labels(y_labels)
            .x_label_formatter(&|m: &i64| format!("{:02}:00", m / 60))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc("Hour of day (the participant's clock)")
            .y_desc(if plot_h >= 200 {
                "Mean blood pressure (mmHg)"
            } else {
                "mmHg"
            })
            .draw()?;
        for hm in hours {
            let (paint, _) = category_paint(bp_category(hm.mean_systolic, hm.mean_diastolic));
            let m = i64::from(hm.hour) * 60 + 30;
            chart.draw_series(std::iter::once(PathElement::new(
                vec![(m, hm.mean_diastolic), (m, hm.mean_systolic)],
                paint.color().stroke_width(2),
            )))?;
            chart.draw_series(std::iter::once(Circle::new(
                (m, hm.mean_systolic),
                6,
                paint.color().filled(),
            )))?;
            chart.draw_series(std::iter::once(
                EmptyElement::at((m, hm.mean_diastolic))
                    + Rectangle::new([(-5, -5), (5, 5)], paint.color().filled()),
            ))?;
        }
        let key = (FONT, size)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Left, VPos::Center));
        for ((shape, paint, t), (x, line)) in entries.iter().zip(&placed) {
            let y = 6 + line * 22 + 8;
            let colour = paint.map_or(FG.mix(1.0), |p| p.color());
            match shape {
                0 => root.draw(&Circle::new((x + 8, y), 6, colour.filled()))?,
                1 => root.draw(&Rectangle::new(
                    [(x + 3, y - 5), (x + 13, y + 5)],
                    colour.filled(),
                ))?,
                _ => root.draw(&Rectangle::new(
                    [(*x, y - 7), (x + 16, y + 7)],
                    colour.filled(),
                ))?,
            }
            root.draw(&Text::new(t.to_string(), (x + 22, y), key.clone()))?;
        }
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;

    fn hour(hour: u32, sys: f64, dia: f64) -> HourMean {
        HourMean {
            hour,
            n_readings: 3,
            mean_systolic: sys,
            mean_diastolic: dia,
        }
    }

    /// (circles, rectangles) filled with `paint`.
    fn marks(svg: &str, paint: &Paint) -> (usize, usize) {
        let want = css(paint);
        let n = |name| {
            elements(svg, name)
                .iter()
                .filter(|e| attr(e, "fill") == Some(want.as_str()))
                .count()
        };
        (n("circle"), n("rect"))
    }

    #[test]
    fn a_dot_pair_per_hour_in_its_category_colour() {
        let hours = [
            hour(6, 118.0, 76.0),   // normal
            hour(8, 124.0, 78.0),   // elevated
            hour(12, 134.0, 82.0),  // stage 1
            hour(18, 150.0, 95.0),  // stage 2
            hour(19, 146.0, 92.0),  // stage 2
            hour(22, 185.0, 110.0), // crisis
        ];
        let svg = render_bp_by_hour(&hours, 760, 300);
        assert_well_formed(&svg);
        preview("bp-hour", &svg);
        // Per category: its circles (systolic), its squares (diastolic) and one legend swatch.
        for (c, n) in [
            (BpCategory::Normal, 1),
            (BpCategory::Elevated, 1),
            (BpCategory::Stage1, 1),
            (BpCategory::Stage2, 2),
            (BpCategory::Crisis, 1),
        ] {
            let (p, name) = category_paint(c);
            assert_eq!(marks(&svg, &p), (n, n + 1), "{name}");
            assert!(
                svg.contains(&format!(">\n{name}\n")),
                "{name} in the legend"
            );
        }
        assert!(svg.contains(">\nSystolic\n") && svg.contains(">\nDiastolic\n"));
        assert!(svg.contains(">\n06:00\n") && svg.contains(">\n24:00\n"));
        assert!(!svg.contains("#010203"));
    }

    #[test]
    fn a_full_day_and_nothing() {
        let hours: Vec<HourMean> = (0..24)
            .map(|h| hour(h, 112.0 + f64::from(h), 70.0 + f64::from(h) / 2.0))
            .collect();
        let svg = render_bp_by_hour(&hours, 760, 300);
        assert_well_formed(&svg);
        preview("bp-hour-full", &svg);
        let dots: usize = BpCategory::ALL
            .iter()
            .map(|c| marks(&svg, &category_paint(*c).0).0)
            .sum();
        assert_eq!(dots, 24);
        assert_eq!(render_bp_by_hour(&[], 760, 300), "");
        assert_eq!(render_bp_by_hour(&[hour(3, f64::NAN, 80.0)], 760, 300), "");
        let one = render_bp_by_hour(&[hour(0, 120.0, 80.0)], 320, 200);
        assert_well_formed(&one);
        preview("bp-hour-one-small", &one);
    }
}
