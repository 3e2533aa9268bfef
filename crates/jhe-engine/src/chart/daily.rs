//! Daily glucose profiles as small multiples ([`render_daily_profiles`]): one panel per local
//! date, seven to a row, each with that day's trace from 00:00 to 24:00 of the participant's
//! clock on the same fixed glucose scale (40–400 mg/dL, so panels compare), the 70–180 mg/dL
//! target band, the line broken where readings are more than 45 minutes apart, and the date as
//! the panel's title. The height grows with the rows of panels.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{finish_svg, DrawResult, BAND_EDGE, BAND_FILL, FG, FONT, LINE};
use crate::analysis::{local_date, GlucoseReading, US_PER_DAY, US_PER_MIN};

/// One local day's glucose trace: (minute of the local day 0–1440, mg/dL), in any order.
#[derive(Clone, Debug, PartialEq)]
pub struct DayTrace {
    pub date: NaiveDate,
    pub points: Vec<(f64, f64)>,
}

impl DayTrace {
    /// One trace per local date of the readings (each reading's own UTC offset), in date order;
    /// days between without readings are not listed.
    pub fn from_readings(readings: &[GlucoseReading]) -> Vec<DayTrace> {
        let mut days: BTreeMap<NaiveDate, Vec<(f64, f64)>> = BTreeMap::new();
        for r in readings {
            let v = r.mg_dl();
            if !v.is_finite() || v <= 0.0 {
                continue;
            }
            let local = r.utc_us + i64::from(r.offset_s) * 1_000_000;
            let minute = local.rem_euclid(US_PER_DAY) as f64 / US_PER_MIN as f64;
            days.entry(local_date(r.utc_us, r.offset_s))
                .or_default()
                .push((minute, v));
        }
        days.into_iter()
            .map(|(date, points)| DayTrace { date, points })
            .collect()
    }
}

/// The fixed glucose scale of every panel, mg/dL.
const Y: (f64, f64) = (40.0, 400.0);
/// A longer step between readings breaks the line, minutes.
const GAP_MIN: f64 = 45.0;
const COLUMNS: usize = 7;
const LEFT: i32 = 40;
const RIGHT: i32 = 8;
const GAP: i32 = 6;
const LEGEND_H: i32 = 26;
const TITLE_H: i32 = 18;
const HOURS_H: i32 = 18;

/// Runs of a day's readings (sorted by minute, clamped to the scale) without a gap over 45 min.
fn runs(points: &[(f64, f64)]) -> Vec<Vec<(f64, f64)>> {
    let mut pts: Vec<(f64, f64)> = points
        .iter()
        .filter(|p| p.0.is_finite() && p.1.is_finite() && (0.0..=1440.0).contains(&p.0))
        .map(|&(m, v)| (m, v.clamp(Y.0, Y.1)))
        .collect();
    pts.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut out: Vec<Vec<(f64, f64)>> = Vec::new();
    for p in pts {
        match out.last_mut() {
            Some(run) if run.last().is_some_and(|q| p.0 - q.0 <= GAP_MIN) => run.push(p),
            _ => out.push(vec![p]),
        }
    }
    out
}

/// The panels as a complete `<svg>` document, `width` user units wide (its height follows the
/// days); empty without a reading.
pub fn render_daily_profiles(days: &[DayTrace], width: u32) -> String {
    if days.iter().all(|d| runs(&d.points).is_empty()) {
        return String::new();
    }
    draw(days, width.max(320))
        .map_err(|e| tracing::warn!("daily profiles: {e}"))
        .unwrap_or_default()
}

fn draw(days: &[DayTrace], w: u32) -> DrawResult<String> {
    let cols = days.len().clamp(1, COLUMNS) as i32;
    let rows = (days.len() as i32 + cols - 1) / cols;
    let pw = (w as i32 - LEFT - RIGHT - GAP * (cols - 1)) / cols;
    let ph = (pw * 9 / 10).clamp(70, 170);
    let row_h = TITLE_H + ph + HOURS_H + 4;
    let h = LEGEND_H + rows * row_h + 4;
    let mut svg = String::with_capacity(8192 + days.len() * 6000);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h as u32)).into_drawing_area();
        let small = (FONT, 13.0).into_font().color(&FG);
        let title = (FONT, 14.0)
            .into_font()
            .style(FontStyle::Bold)
            .color(&FG)
            .pos(Pos::new(HPos::Left, VPos::Bottom));
        // The legend: the target band and the line.
        let legend = (FONT, 15.0)
            .into_font()
            .color(&FG)
            .pos(Pos::new(HPos::Left, VPos::Center));
        let mut x = LEFT;
        root.draw(&Rectangle::new(
            [(x, 6), (x + 18, 18)],
            BAND_FILL.color().filled(),
        ))?;
        root.draw(&Rectangle::new([(x, 6), (x + 18, 18)], BAND_EDGE.color()))?;
        root.draw(&Text::new(
            "Target 70–180 mg/dL",
            (x + 24, 12),
            legend.clone(),
        ))?;
        x += 24 + 170;
        root.draw(&PathElement::new(
            vec![(x, 12), (x + 18, 12)],
            LINE.color().stroke_width(2),
        ))?;
        root.draw(&Text::new(
            "Glucose, 40–400 mg/dL in every panel",
            (x + 24, 12),
            legend,
        ))?;

        let y_of =
            |top: i32, v: f64| top + ((Y.1 - v) / (Y.1 - Y.0) * f64::from(ph)).round() as i32;
        for (i, day) in days.iter().enumerate() {
            let (c, r) = (i as i32 % cols, i as i32 / cols);
            let left = LEFT + c * (pw + GAP);
            let top = LEGEND_H + r * row_h + TITLE_H;
            let x_of = |m: f64| left + (m / 1440.0 * f64::from(pw)).round() as i32;
            root.draw(&Text::new(
                day.date.format("%a %-d %b").to_string(),
                (left + 1, top - 4),
                title.clone(),
            ))?;
            let (band_top, band_bottom) = (y_of(top, 180.0), y_of(top, 70.0));
            root.draw(&Rectangle::new(
                [(left, band_top), (left + pw, band_bottom)],
                BAND_FILL.color().filled(),
            ))?;
            for y in [band_top, band_bottom] {
                root.draw(&PathElement::new(
                    vec![(left, y), (left + pw, y)],
                    BAND_EDGE.color(),
                ))?;
            }
            // Faint lines at 06:00, 12:00 and 18:00.
            for m in [360.0, 720.0, 1080.0] {
                root.draw(&PathElement::new(
                    vec![(x_of(m), top), (x_of(m), top + ph)],
                    FG.mix(0.12),
                ))?;
            }
            let runs = runs(&day.points);
            for run in &runs {
                let line: Vec<(i32, i32)> =
                    run.iter().map(|p| (x_of(p.0), y_of(top, p.1))).collect();
                if line.len() == 1 {
                    root.draw(&Circle::new(line[0], 2, LINE.color().filled()))?;
                } else {
                    root.draw(&PathElement::new(
                        line,
                        LINE.color().stroke_width(if pw >= 300 { 2 } else { 1 }),
                    ))?;
                }
            }
            if runs.is_empty() {
                root.draw(&Text::new(
                    "No readings",
                    (left + pw / 2, top + ph / 2),
                    small.pos(Pos::new(HPos::Center, VPos::Center)),
                ))?;
            }
            root.draw(&Rectangle::new(
                [(left, top), (left + pw, top + ph)],
                FG.mix(0.45),
            ))?;
            // Hours under the panel; glucose at the left of the first column.
            let hours = small.pos(Pos::new(HPos::Center, VPos::Top));
            for (m, label) in [(0.0, "0"), (720.0, "12"), (1440.0, "24 h")] {
                let anchor = if m == 1440.0 {
                    HPos::Right
                } else if m == 0.0 {
                    HPos::Left
                } else {
                    HPos::Center
                };
                root.draw(&Text::new(
                    label,
                    (x_of(m), top + ph + 3),
                    hours.pos(Pos::new(anchor, VPos::Top)),
                ))?;
            }
            if c == 0 {
                let ticks = small.pos(Pos::new(HPos::Right, VPos::Center));
                for v in [70.0, 180.0, 300.0] {
                    root.draw(&Text::new(
                        format!("{v:.0}"),
                        (left - 5, y_of(top, v)),
                        ticks.clone(),
                    ))?;
                }
            }
        }
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;
    use crate::analysis::GlucoseUnit;

    fn day(d: u32, points: Vec<(f64, f64)>) -> DayTrace {
        DayTrace {
            date: NaiveDate::from_ymd_opt(2024, 6, d).unwrap_or_default(),
            points,
        }
    }

    /// A day every 5 minutes, with a meal peak; `gap` minutes without readings from 10:00.
    fn trace(d: u32, gap: f64) -> DayTrace {
        let pts = (0..288)
            .map(|k| f64::from(k) * 5.0)
            .filter(|m| !(600.0..600.0 + gap).contains(m))
            .map(|m| {
                let meal = (-((m - 780.0) / 60.0).powi(2)).exp() * (90.0 + f64::from(d) * 12.0);
                (m, 105.0 + 25.0 * (m / 200.0).sin() + meal)
            })
            .collect();
        day(d, pts)
    }

    fn lines(svg: &str) -> usize {
        elements(svg, "polyline")
            .iter()
            .filter(|p| attr(p, "stroke") == Some(css(&LINE).as_str()))
            .count()
    }

    fn panels(svg: &str) -> usize {
        elements(svg, "rect")
            .iter()
            .filter(|r| {
                attr(r, "fill") == Some("none") && attr(r, "stroke") == Some("currentColor")
            })
            .count()
    }

    #[test]
    fn a_panel_per_day_with_gaps_broken() {
        // Ten days: two rows of panels; day 3 has a 2-hour gap (two runs), day 5 a 40-minute one
        // (not a gap), day 8 no readings.
        let days: Vec<DayTrace> = (1..=10)
            .map(|d| match d {
                3 => trace(d, 120.0),
                5 => trace(d, 40.0),
                8 => day(d, Vec::new()),
                _ => trace(d, 0.0),
            })
            .collect();
        let svg = render_daily_profiles(&days, 760);
        assert_well_formed(&svg);
        preview("daily", &svg);
        assert_eq!(panels(&svg), 10);
        // One line a day, two for day 3, none for day 8, plus the legend's.
        assert_eq!(lines(&svg), 9 + 1 + 1);
        assert!(svg.contains(">\nSat 1 Jun\n") && svg.contains(">\nMon 10 Jun\n"));
        assert!(svg.contains("No readings"));
        let one = render_daily_profiles(&days[..1], 760);
        assert_well_formed(&one);
        preview("daily-one", &one);
        assert_eq!(panels(&one), 1);
    }

    #[test]
    fn nothing_to_draw_gives_no_svg() {
        assert_eq!(render_daily_profiles(&[], 760), "");
        assert_eq!(render_daily_profiles(&[day(1, Vec::new())], 760), "");
    }

    #[test]
    fn traces_use_the_local_day_and_clamp_to_the_scale() {
        // 2024-06-01T02:30Z at UTC−05:00 is 21:30 on 31 May.
        let utc = 1_717_209_000_000_000;
        let r = |utc_us: i64, value: f64| GlucoseReading {
            utc_us,
            offset_s: -5 * 3600,
            value,
            unit: GlucoseUnit::MgDl,
        };
        let t = DayTrace::from_readings(&[r(utc, 100.0), r(utc + 5 * US_PER_MIN, 500.0)]);
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].date.to_string(), "2024-05-31");
        assert_eq!(t[0].points, vec![(1290.0, 100.0), (1295.0, 500.0)]);
        assert_eq!(
            runs(&t[0].points),
            vec![vec![(1290.0, 100.0), (1295.0, 400.0)]]
        );
    }
}
