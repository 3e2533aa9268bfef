//! The Glycemia Risk Index grid of Klonoff et al. 2023 ([`render_gri_grid`]): x is the
//! hypoglycemia component (VLow + 0.8 × Low, % of readings, 0–30), y the hyperglycemia component
//! (VHigh + 0.5 × High, 0–60; both axes grow when a point lies beyond), GRI = 3 × hypo + 1.6 ×
//! hyper. Zones A (GRI 0–20) to E (80 and above) are the diagonal bands between the lines
//! 3x + 1.6y = 20, 40, 60, 80, drawn as tinted polygons clipped to the plot (`--chart-gri-a` …
//! `-e`), with their letters; one dot per point, labelled where its label has room.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::draw::{
    builder, finish_svg, fit_text, mesh, text_width, DrawResult, Paint, FG, FONT, GRI_A, GRI_B,
    GRI_C, GRI_D, GRI_DOT, GRI_E,
};
use crate::analysis::{CgmMetrics, GriZone};

/// One participant on the grid: a label and the two components, in % of readings.
#[derive(Clone, Debug, PartialEq)]
pub struct GriPoint {
    pub label: String,
    /// VLow + 0.8 × Low.
    pub hypo: f64,
    /// VHigh + 0.5 × High.
    pub hyper: f64,
}

impl GriPoint {
    /// The point of one participant's metrics; `None` without readings.
    pub fn from_metrics(label: impl Into<String>, m: &CgmMetrics) -> Option<GriPoint> {
        let (hypo, hyper) = m.gri_components()?;
        Some(GriPoint {
            label: label.into(),
            hypo,
            hyper,
        })
    }

    /// 3 × hypo + 1.6 × hyper, uncapped.
    pub fn gri(&self) -> f64 {
        3.0 * self.hypo + 1.6 * self.hyper
    }
}

/// The zones: paint, letter, the GRI range (E has no upper bound on the grid).
const ZONES: [(Paint, GriZone, f64, f64); 5] = [
    (GRI_A, GriZone::A, 0.0, 20.0),
    (GRI_B, GriZone::B, 20.0, 40.0),
    (GRI_C, GriZone::C, 40.0, 60.0),
    (GRI_D, GriZone::D, 60.0, 80.0),
    (GRI_E, GriZone::E, 80.0, f64::INFINITY),
];

/// The part of `poly` where `keep(pt) ≥ 0`, for `keep` linear (Sutherland–Hodgman, one edge).
fn clip(poly: &[(f64, f64)], keep: impl Fn((f64, f64)) -> f64) -> Vec<(f64, f64)> {
    let mut out = Vec::new();
    for (i, &a) in poly.iter().enumerate() {
        let b = poly[(i + 1) % poly.len()];
        let (fa, fb) = (keep(a), keep(b));
        if fa >= 0.0 {
            out.push(a);
        }
        if (fa >= 0.0) != (fb >= 0.0) {
            let t = fa / (fa - fb);
            out.push((a.0 + t * (b.0 - a.0), a.1 + t * (b.1 - a.1)));
        }
    }
    out
}

/// The zone `lo ≤ 3x + 1.6y < hi` inside `[0, xmax] × [0, ymax]`.
fn zone_polygon(lo: f64, hi: f64, xmax: f64, ymax: f64) -> Vec<(f64, f64)> {
    let rect = [(0.0, 0.0), (xmax, 0.0), (xmax, ymax), (0.0, ymax)];
    let above = clip(&rect, |(x, y)| 3.0 * x + 1.6 * y - lo);
    if hi.is_finite() {
        clip(&above, |(x, y)| hi - 3.0 * x - 1.6 * y)
    } else {
        above
    }
}

/// The grid as a complete `<svg>` document (`width` × `height` user units); empty without a
/// point with finite components.
pub fn render_gri_grid(points: &[GriPoint], width: u32, height: u32) -> String {
    let pts: Vec<&GriPoint> = points
        .iter()
        .filter(|p| p.hypo.is_finite() && p.hyper.is_finite())
        .collect();
    if pts.is_empty() {
        return String::new();
    }
    draw(&pts, width.max(320), height.max(240))
        .map_err(|e| tracing::warn!("GRI grid: {e}"))
        .unwrap_or_default()
}

fn draw(pts: &[&GriPoint], w: u32, h: u32) -> DrawResult<String> {
    let max_x = pts.iter().map(|p| p.hypo).fold(0.0, f64::max);
    let max_y = pts.iter().map(|p| p.hyper).fold(0.0, f64::max);
    // 0–30 and 0–60, or on to the next 10 (20) beyond the farthest point.
    let xmax = (max_x / 10.0).ceil().max(3.0) * 10.0;
    let ymax = (max_y / 20.0).ceil().max(3.0) * 20.0;
    // The zone key, wrapped to the width, and axis titles that fit.
    let mut keys: Vec<(String, i32, i32)> = Vec::new();
    let (mut x, mut line) = (62, 0);
    for (_, zone, lo, hi) in ZONES {
        let t = match (hi.is_finite(), w >= 600) {
            (true, true) => format!("{} GRI {lo:.0}–{hi:.0}", zone.as_str()),
            (true, false) => format!("{} {lo:.0}–{hi:.0}", zone.as_str()),
            (false, true) => format!("{} GRI >{lo:.0}", zone.as_str()),
            (false, false) => format!("{} >{lo:.0}", zone.as_str()),
        };
        let need = 19 + text_width(&t, 15.0);
        if x > 62 && x + need > w as i32 - 8 {
            (x, line) = (62, line + 1);
        }
        keys.push((t, x, line));
        x += need + 14;
    }
    let top = 26 + line * 20;
    // About 8 units a character at size 16, and room for the ticks.
    let x_desc = match w {
        0..=479 => "Hypoglycemia component (%)",
        _ => "Hypoglycemia component: VLow + 0.8 × Low (%)",
    };
    let y_desc = match h as i32 - top {
        i32::MIN..=269 => "Hyper (%)",
        270..=429 => "Hyperglycemia component (%)",
        _ => "Hyperglycemia component: VHigh + 0.5 × High (%)",
    };
    let mut svg = String::with_capacity(16 * 1024 + pts.len() * 400);
    {
        let root = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let mut chart = builder(&root)
            .margin_top(top as u32)
            .margin_right(16)
            .x_label_area_size(46)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..xmax, 0.0..ymax)?;
        mesh(&mut chart, false)
            .x_labels(7)
            .y_labels(7)
            .x_label_formatter(&|v| format!("{v:.0}"))
            .y_label_formatter(&|v| format!("{v:.0}"))
            .x_desc(x_desc)
            .y_desc(y_desc)
            .draw()?;
        for (paint, _, lo, hi) in ZONES {
            let poly = zone_polygon(lo, hi, xmax, ymax);
            if poly.len() >= 3 {
                chart.draw_series(std::iter::once(Polygon::new(poly, paint.color().filled())))?;
            }
        }
        // The zone boundaries: 3x + 1.6y = c, clipped to the plot.
        for c in [20.0, 40.0, 60.0, 80.0] {
            let axes = [(0.0, c / 1.6), (c / 3.0, 0.0)];
            let seg = clip(&clip(&axes, |(x, _)| xmax - x), |(_, y)| ymax - y);
            if let (Some(a), Some(b)) = (seg.first(), seg.last()) {
                chart.draw_series(std::iter::once(PathElement::new(
                    vec![*a, *b],
                    FG.mix(0.45).stroke_width(1),
                )))?;
            }
        }
        let (xr, yr) = chart.plotting_area().get_pixel_range();
        let to_px = |x: f64, y: f64| -> (i32, i32) {
            let fx = x / xmax;
            let fy = y / ymax;
            (
                xr.start + (fx * f64::from(xr.end - xr.start)).round() as i32,
                yr.end - (fy * f64::from(yr.end - yr.start)).round() as i32,
            )
        };
        let dots: Vec<(i32, i32)> = pts.iter().map(|p| to_px(p.hypo, p.hyper)).collect();
        let size = 14.0;
        let mut taken: Vec<[i32; 4]> = Vec::new();
        // Each zone's letter just above the x axis, where its GRI is the middle of its range
        // (few participants have much hypoglycemia and little hyperglycemia); labels keep off.
        let letter = (FONT, 24)
            .into_font()
            .style(FontStyle::Bold)
            .color(&FG)
            .pos(Pos::new(HPos::Center, VPos::Center));
        let y_letter = ymax * 0.05;
        for (_, zone, lo, hi) in ZONES {
            let mid = if hi.is_finite() {
                (lo + hi) / 2.0
            } else {
                lo + 10.0
            };
            let x = (mid - 1.6 * y_letter) / 3.0;
            if x < xmax * 0.97 {
                let (px, py) = to_px(x, y_letter);
                root.draw(&Text::new(zone.as_str(), (px, py), letter.clone()))?;
                taken.push([px - 10, py - 11, px + 10, py + 11]);
            }
        }
        // The dots over the letters, then the labels that find room (right, left, above, below).
        chart.draw_series(
            pts.iter()
                .map(|p| Circle::new((p.hypo, p.hyper), 5, GRI_DOT.color().filled())),
        )?;
        let overlaps =
            |a: &[i32; 4], b: &[i32; 4]| a[0] < b[2] && b[0] < a[2] && a[1] < b[3] && b[1] < a[3];
        for (p, &(cx, cy)) in pts.iter().zip(&dots) {
            let label = fit_text(p.label.trim(), 130, size);
            if label.is_empty() {
                continue;
            }
            let tw = text_width(&label, size);
            let th = 12;
            let tries = [
                (8, -th / 2, HPos::Left),
                (-8 - tw, -th / 2, HPos::Right),
                (-tw / 2, -8 - th, HPos::Center),
                (-tw / 2, 8, HPos::Center),
            ]
            .map(|(dx, dy, a)| ([cx + dx, cy + dy, cx + dx + tw, cy + dy + th], a));
            let inside = |b: &[i32; 4]| {
                b[0] >= xr.start && b[2] <= xr.end + 12 && b[1] >= yr.start - 4 && b[3] <= yr.end
            };
            let free = tries.into_iter().find(|(b, _)| {
                inside(b)
                    && !taken.iter().any(|t| overlaps(t, b))
                    && !dots
                        .iter()
                        .any(|&(x, y)| overlaps(&[x - 5, y - 5, x + 5, y + 5], b))
            });
            if let Some((b, anchor)) = free {
                let x = match anchor {
                    HPos::Left => b[0],
                    HPos::Right => b[2],
                    HPos::Center => (b[0] + b[2]) / 2,
                };
                let style = (FONT, size)
                    .into_font()
                    .color(&GRI_DOT.rgb())
                    .pos(Pos::new(anchor, VPos::Center));
                root.draw(&Text::new(label, (x, (b[1] + b[3]) / 2), style))?;
                taken.push(b);
            }
        }
        // The zone key above the plot.
        let key = (FONT, 15).into_font().color(&FG);
        for ((paint, ..), (t, x, line)) in ZONES.iter().zip(&keys) {
            let y = 13 + line * 20;
            root.draw(&Rectangle::new(
                [(*x, y - 7), (x + 14, y + 7)],
                paint.color().filled(),
            ))?;
            root.draw(&Text::new(
                t.clone(),
                (x + 19, y),
                key.pos(Pos::new(HPos::Left, VPos::Center)),
            ))?;
        }
        root.present()?;
    }
    Ok(finish_svg(svg))
}

#[cfg(test)]
mod tests {
    use super::super::draw::svg_test::{assert_well_formed, attr, css, elements, preview};
    use super::*;

    /// The tint of a zone.
    fn zone_paint(z: GriZone) -> Paint {
        ZONES
            .iter()
            .find(|(_, zone, ..)| *zone == z)
            .map_or(GRI_E, |(p, ..)| *p)
    }

    fn point(label: &str, hypo: f64, hyper: f64) -> GriPoint {
        GriPoint {
            label: label.into(),
            hypo,
            hyper,
        }
    }

    /// Whether `(x, y)` lies inside the polygon (even-odd rule).
    fn inside(poly: &[(f64, f64)], (x, y): (f64, f64)) -> bool {
        let mut odd = false;
        for (i, a) in poly.iter().enumerate() {
            let b = poly[(i + poly.len() - 1) % poly.len()];
            if (a.1 > y) != (b.1 > y) && x < (b.0 - a.0) * (y - a.1) / (b.1 - a.1) + a.0 {
                odd = !odd;
            }
        }
        odd
    }

    fn points_of(tag: &str) -> Vec<(f64, f64)> {
        attr(tag, "points")
            .unwrap_or_default()
            .split_whitespace()
            .filter_map(|p| p.split_once(','))
            .filter_map(|(x, y)| Some((x.parse().ok()?, y.parse().ok()?)))
            .collect()
    }

    /// The zone whose polygon holds each dot of the SVG.
    fn zones_of_dots(svg: &str) -> Vec<Option<GriZone>> {
        let polys: Vec<(String, Vec<(f64, f64)>)> = elements(svg, "polygon")
            .iter()
            .map(|t| {
                (
                    attr(t, "fill").unwrap_or_default().to_string(),
                    points_of(t),
                )
            })
            .collect();
        elements(svg, "circle")
            .iter()
            .filter_map(|c| {
                let x: f64 = attr(c, "cx")?.parse().ok()?;
                let y: f64 = attr(c, "cy")?.parse().ok()?;
                Some((x, y))
            })
            .map(|dot| {
                ZONES.iter().map(|z| z.1).find(|z| {
                    let want = css(&zone_paint(*z));
                    polys.iter().any(|(f, p)| *f == want && inside(p, dot))
                })
            })
            .collect()
    }

    #[test]
    fn points_fall_in_the_zone_of_their_gri() {
        // GRI: 3 × 1 + 1.6 × 5 = 11 (A); 3 × 4 + 1.6 × 15 = 36 (B); 3 × 5 + 1.6 × 20 = 47 (C);
        // 3 × 10 + 1.6 × 25 = 70 (D); 3 × 12 + 1.6 × 40 = 100 (E).
        let pts = [
            point("A one", 1.0, 5.0),
            point("B two", 4.0, 15.0),
            point("C three", 5.0, 20.0),
            point("D four", 10.0, 25.0),
            point("E five", 12.0, 40.0),
        ];
        let svg = render_gri_grid(&pts, 760, 480);
        assert_well_formed(&svg);
        preview("gri", &svg);
        let zones: Vec<GriZone> = pts.iter().map(|p| GriZone::of(p.gri())).collect();
        assert_eq!(
            zones,
            [GriZone::A, GriZone::B, GriZone::C, GriZone::D, GriZone::E]
        );
        let found = zones_of_dots(&svg);
        assert_eq!(found, zones.iter().map(|z| Some(*z)).collect::<Vec<_>>());
        for z in ZONES {
            assert!(svg.contains(&css(&z.0)), "{:?} is drawn", z.1);
        }
        for label in ["A one", "E five"] {
            assert!(svg.contains(label), "{label}");
        }
    }

    #[test]
    fn every_dot_is_drawn_and_axes_grow_for_far_points() {
        let pts: Vec<GriPoint> = (0..40)
            .map(|i| point(&format!("P{i}"), f64::from(i % 8), f64::from(i) * 1.4))
            .chain([point("far", 45.0, 90.0)])
            .collect();
        let svg = render_gri_grid(&pts, 760, 480);
        assert_well_formed(&svg);
        preview("gri-cohort", &svg);
        let dots = elements(&svg, "circle")
            .iter()
            .filter(|c| attr(c, "fill") == Some(css(&GRI_DOT).as_str()))
            .count();
        assert_eq!(dots, 41);
        assert!(
            svg.contains(">\n50\n") && svg.contains(">\n100\n"),
            "x to 50, y to 100"
        );
        assert_eq!(zones_of_dots(&svg).last(), Some(&Some(GriZone::E)));
    }

    #[test]
    fn nothing_to_draw_gives_no_svg() {
        assert_eq!(render_gri_grid(&[], 760, 480), "");
        assert_eq!(render_gri_grid(&[point("x", f64::NAN, 1.0)], 760, 480), "");
        let one = render_gri_grid(&[point("", 0.0, 0.0)], 320, 240);
        assert_well_formed(&one);
        preview("gri-one-small", &one);
    }

    #[test]
    fn zone_polygons_tile_the_plot() {
        let area = |p: &[(f64, f64)]| {
            (0..p.len())
                .map(|i| {
                    let (a, b) = (p[i], p[(i + 1) % p.len()]);
                    a.0 * b.1 - b.0 * a.1
                })
                .sum::<f64>()
                .abs()
                / 2.0
        };
        let total: f64 = ZONES
            .iter()
            .map(|z| area(&zone_polygon(z.2, z.3, 30.0, 60.0)))
            .sum();
        assert!((total - 1800.0).abs() < 1e-6, "{total}");
        // Zone A is the triangle under 3x + 1.6y = 20.
        assert!(
            (area(&zone_polygon(0.0, 20.0, 30.0, 60.0)) - 20.0 / 3.0 * 12.5 / 2.0).abs() < 1e-9
        );
    }
}
