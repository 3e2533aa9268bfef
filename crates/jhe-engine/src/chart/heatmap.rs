//! Data completeness as a participant × day heatmap ([`render_completeness_heatmap`]): one row
//! per participant (label at the left), one column per date (a tick label about every week on
//! top), each cell shaded by its fraction 0–1 (the share of the day covered, e.g.
//! [`crate::analysis::daily_completeness`]) from light to the full `--chart-heat` colour; a day
//! without data is an outlined empty cell. A legend under the grid reads the shades; the height
//! grows with the rows.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{finish_svg, fit_text, text_width, DrawResult, FG, FONT, HEAT};
use crate::analysis::DayCompleteness;

/// One participant's row: a label and (date, fraction 0–1) for the days with data, any order;
/// dates not listed have no data.
#[derive(Clone, Debug, PartialEq)]
pub struct HeatRow {
    pub label: String,
    pub days: Vec<(NaiveDate, f64)>,
}

impl HeatRow {
    /// The row of one participant's [`crate::analysis::daily_completeness`].
    pub fn from_completeness(label: impl Into<String>, days: &[DayCompleteness]) -> HeatRow {
        HeatRow {
            label: label.into(),
            days: days.iter().map(|d| (d.date, d.fraction)).collect(),
        }
    }
}

const MARGIN: i32 = 8;
const TICKS_H: i32 = 26;
const LEGEND_H: i32 = 34;
/// Days between date labels: the first of these whose labels keep apart.
const TICK_STEPS: [usize; 9] = [1, 2, 7, 14, 28, 56, 91, 182, 364];

/// The opacity a fraction is drawn with: 0.2 for a little data to 1 for a full day.
fn shade(f: f64) -> f64 {
    ((0.2 + 0.8 * f.clamp(0.0, 1.0)) * 100.0).round() / 100.0
}

/// The heatmap as a complete `<svg>` document, `width` user units wide (its height follows the
/// rows); empty without rows or days.
pub fn render_completeness_heatmap(rows: &[HeatRow], days: &[NaiveDate], width: u32) -> String {
    if rows.is_empty() || days.is_empty() {
        return String::new();
    }
    draw(rows, days, width.max(320))
        .map_err(|e| tracing::warn!("completeness heatmap: {e}"))
        .unwrap_or_default()
}

fn draw(rows: &[HeatRow], days: &[NaiveDate], w: u32) -> DrawResult<String> {
    let wi = w as i32;
    let (pitch, cell_h, size) = if rows.len() <= 40 {
        (18, 15, 14.0)
    } else {
        (12, 10, 12.0)
    };
    let labelled = rows.iter().any(|r| !r.label.trim().is_empty());
    let label_w = if labelled {
        let longest = rows
            .iter()
            .map(|r| text_width(r.label.trim(), size))
            .max()
            .unwrap_or(0);
        (longest + 10).min(wi / 4)
    } else {
        0
    };
    let x0 = MARGIN + label_w;
    let x1 = wi - MARGIN;
    let n = days.len();
    let cw = f64::from(x1 - x0) / n as f64;
    let gap = i32::from(cw >= 4.0);
    let outline = cw >= 5.0;
    let cell_x = |i: usize| x0 + (i as f64 * cw).floor() as i32;
    let top = MARGIN + TICKS_H;
    let h = top + rows.len() as i32 * pitch + LEGEND_H;
    let tick_size = 14.0;
    let need = f64::from(text_width("30 Sep", tick_size) + 10);
    let step = TICK_STEPS
        .into_iter()
        .find(|k| *k as f64 * cw >= need)
        .unwrap_or(364);

    let mut svg = String::with_capacity(8192 + rows.len() * n * 110);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h as u32)).into_drawing_area();
        let tick = (FONT, tick_size).into_font().color(&FG);
        for i in (0..n).step_by(step) {
            let label = days[i].format("%-d %b").to_string();
            let half = text_width(&label, tick_size) / 2;
            let xc = cell_x(i) + (cw / 2.0) as i32;
            let x = xc.clamp(x0 + half, wi - 4 - half);
            root.draw(&Text::new(
                label,
                (x, top - 8),
                tick.pos(Pos::new(HPos::Center, VPos::Bottom)),
            ))?;
            root.draw(&PathElement::new(vec![(xc, top - 6), (xc, top - 1)], FG))?;
        }
        let label_style = (FONT, size)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Right, VPos::Center));
        let empty_style = if outline {
            FG.mix(0.35).stroke_width(1)
        } else {
            FG.mix(0.1).filled()
        };
        for (r, row) in rows.iter().enumerate() {
            let y = top + r as i32 * pitch;
            if labelled {
                let label = fit_text(row.label.trim(), label_w - 10, size);
                root.draw(&Text::new(
                    label,
                    (x0 - 6, y + cell_h / 2),
                    label_style.clone(),
                ))?;
            }
            let by_day: BTreeMap<NaiveDate, f64> = row
                .days
                .iter()
                .filter(|d| d.1.is_finite())
                .map(|&(d, f)| (d, f))
                .collect();
            for (i, day) in days.iter().enumerate() {
                let (left, right) = (cell_x(i), (cell_x(i + 1) - gap).max(cell_x(i) + 1));
                match by_day.get(day).copied().filter(|f| *f > 0.0) {
                    Some(f) => root.draw(&Rectangle::new(
                        [(left, y), (right, y + cell_h)],
                        HEAT.rgb().mix(shade(f)).filled(),
                    ))?,
                    None => root.draw(&Rectangle::new(
                        [(left, y), (right, y + cell_h)],
                        empty_style,
                    ))?,
                }
            }
        }
        // The legend: an empty cell, then four shades.
        let y = top + rows.len() as i32 * pitch + 12;
        let key = (FONT, 14.0)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let mut x = x0;
        root.draw(&Rectangle::new(
            [(x, y), (x + 14, y + 14)],
            FG.mix(0.35).stroke_width(1),
        ))?;
        root.draw(&Text::new("No data", (x + 19, y + 7), key.clone()))?;
        x += 19 + text_width("No data", 14.0) + 20;
        let caption = "Share of the day with data:";
        root.draw(&Text::new(caption, (x, y + 7), key.clone()))?;
        x += text_width(caption, 14.0) + 8;
        for q in [25, 50, 75, 100] {
            root.draw(&Rectangle::new(
                [(x, y), (x + 14, y + 14)],
                HEAT.rgb().mix(shade(f64::from(q) / 100.0)).filled(),
            ))?;
            let t = format!("{q} %");
            root.draw(&Text::new(t.clone(), (x + 18, y + 7), key.clone()))?;
            x += 18 + text_width(&t, 14.0) + 12;
        }
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;

    fn dates(n: u32) -> Vec<NaiveDate> {
        (0..n)
            .filter_map(|k| {
                NaiveDate::from_ymd_opt(2024, 5, 1)?.checked_add_days(chrono::Days::new(k.into()))
            })
            .collect()
    }

    /// (filled cells, outlined cells).
    fn cells(svg: &str) -> (usize, usize) {
        let rects = elements(svg, "rect");
        let heat = css(&HEAT);
        let filled = rects
            .iter()
            .filter(|r| attr(r, "fill") == Some(heat.as_str()))
            .count();
        let outlined = rects
            .iter()
            .filter(|r| {
                attr(r, "fill") == Some("none") && attr(r, "stroke") == Some("currentColor")
            })
            .count();
        (filled, outlined)
    }

    #[test]
    fn a_cell_per_participant_and_day_with_empty_days_outlined() {
        let days = dates(30);
        let rows: Vec<HeatRow> = (0..4)
            .map(|p| HeatRow {
                label: format!("Participant {}", 40001 + p),
                days: days
                    .iter()
                    .enumerate()
                    // Participant p has no data every (p + 3)th day and a partial first day.
                    .filter(|(i, _)| i % (p + 3) != 0 || *i == 0)
                    .map(|(i, d)| (*d, if i == 0 { 0.3 } else { 1.0 }))
                    .collect(),
            })
            .collect();
        let svg = render_completeness_heatmap(&rows, &days, 760);
        assert_well_formed(&svg);
        preview("heatmap", &svg);
        let with_data: usize = rows.iter().map(|r| r.days.len()).sum();
        // Plus the legend: four shades and one empty cell.
        assert_eq!(cells(&svg), (with_data + 4, 4 * 30 - with_data + 1));
        assert!(
            svg.contains(">\n1 May\n") && svg.contains(">\n8 May\n"),
            "weekly ticks"
        );
        assert!(!svg.contains(">\n2 May\n"));
        assert!(svg.contains(">\nParticipant 40001\n"));
        assert!(
            svg.contains("opacity=\"0.44\""),
            "the partial day is lighter"
        );
    }

    #[test]
    fn many_rows_and_days_and_nothing() {
        let days = dates(120);
        let rows: Vec<HeatRow> = (0..60)
            .map(|p| HeatRow {
                label: format!("P{p:02}"),
                days: days
                    .iter()
                    .enumerate()
                    .filter(|(i, _)| (i + p) % 9 != 0)
                    .map(|(i, d)| (*d, ((i * 7 + p) % 10) as f64 / 10.0))
                    .collect(),
            })
            .collect();
        let svg = render_completeness_heatmap(&rows, &days, 760);
        assert_well_formed(&svg);
        preview("heatmap-many", &svg);
        let few = render_completeness_heatmap(&rows[..2], &days, 760);
        let height = |s: &str| {
            elements(s, "svg")
                .first()
                .and_then(|t| attr(t, "height"))
                .and_then(|h| h.parse::<i32>().ok())
                .unwrap_or_default()
        };
        assert!(height(&svg) > height(&few) + 58 * 11);
        assert_eq!(render_completeness_heatmap(&[], &days, 760), "");
        assert_eq!(render_completeness_heatmap(&rows, &[], 760), "");
        let one = render_completeness_heatmap(&rows[..1], &days[..1], 760);
        assert_well_formed(&one);
        assert_eq!(cells(&one).0 + cells(&one).1, 1 + 5);
    }
}
