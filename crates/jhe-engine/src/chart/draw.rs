//! Drawing a chart with plotters' SVG backend: the band, bars or lines (decimated per pixel
//! column, broken at gaps), the legend, and the SVG touch-ups (`currentColor`, theme colours,
//! dashes).
//!
//! Colours: axes and text are `currentColor` (the webview's text colour for charts). Every other
//! colour is a [`Paint`]: the SVG says `var(--chart-line, #2563EB)`, so the webview themes it
//! from `ui/src/styles.css` (light and dark values, both meeting WCAG 1.4.11's 3:1 against the
//! card background, checked by the tests below), and a file viewed outside the app falls back to
//! the light value.

use plotters::chart::MeshStyle;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;

use super::axis::{tick_label, tick_unit, ticks, y_label, y_range, TickUnit, TimeAxis};
use super::{segments, Options, Point, Presentation, Style, XAxis};
use crate::omh::time::US_PER_DAY;

pub(super) use super::paint::*;
pub use super::paint::{Paint, PAINTS};

/// Axis and text colour, replaced by `currentColor` in the SVG.
pub(super) const FG: RGBColor = RGBColor(1, 2, 3);
pub(super) const FG_HEX: &str = "#010203";

pub(super) const FONT: &str = "sans-serif";

/// About how wide `text` is at plotters font size `size` (the SVG's font-size is `size / 1.24`),
/// a little wide for safety: 0.64 em a character (DejaVu Sans digits). Layouts use it to keep
/// labels apart.
pub(super) fn text_width(text: &str, size: f64) -> i32 {
    (text.chars().count() as f64 * size / 1.24 * 0.64).ceil() as i32
}

/// `text`, shortened with an ellipsis to fit `max_px` at font size `size`.
pub(super) fn fit_text(text: &str, max_px: i32, size: f64) -> String {
    if text_width(text, size) <= max_px {
        return text.to_string();
    }
    let per = (size / 1.24 * 0.64).max(1.0);
    let keep = ((f64::from(max_px) / per).floor() as usize).saturating_sub(1);
    let mut out: String = text.chars().take(keep).collect();
    out.push('…');
    out
}

/// Test helpers for the charts' SVG: a tiny well-formedness check, the elements of one kind with
/// their attributes, and a preview written to `$JHE_CHART_PREVIEW/<name>.svg` when that is set.
#[cfg(test)]
pub(super) mod svg_test {
    /// Starts with `<svg`, ends with `</svg>`, every tag closed in order, quotes paired.
    pub(crate) fn assert_well_formed(svg: &str) {
        assert!(svg.starts_with("<svg"), "{}", &svg[..svg.len().min(80)]);
        assert!(svg.trim_end().ends_with("</svg>"));
        let mut stack: Vec<&str> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let after = &rest[i + 1..];
            let Some(j) = after.find('>') else {
                panic!("an unclosed tag: {}", &after[..after.len().min(80)]);
            };
            let tag = &after[..j];
            rest = &after[j + 1..];
            assert_eq!(tag.matches('"').count() % 2, 0, "quotes in <{tag}>");
            if let Some(name) = tag.strip_prefix('/') {
                assert_eq!(stack.pop(), Some(name.trim()), "closing </{name}>");
            } else if !tag.ends_with('/') && !tag.starts_with('?') && !tag.starts_with('!') {
                stack.push(tag.split_whitespace().next().unwrap_or_default());
            }
        }
        assert!(stack.is_empty(), "left open: {stack:?}");
    }

    /// The opening tags `<name …>` of the SVG.
    pub(crate) fn elements<'a>(svg: &'a str, name: &str) -> Vec<&'a str> {
        let open = format!("<{name} ");
        svg.match_indices(&open)
            .filter_map(|(i, _)| svg[i..].find('>').map(|j| &svg[i..i + j]))
            .collect()
    }

    /// An attribute of a tag from [`elements`].
    pub(crate) fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
        let key = format!(" {name}=\"");
        let start = tag.find(&key)? + key.len();
        tag[start..].find('"').map(|end| &tag[start..start + end])
    }

    /// `var(--chart-…, #RRGGBB)`, as a paint is written in the SVG.
    pub(crate) fn css(p: &super::Paint) -> String {
        format!("var({}, {})", p.var, p.light_hex())
    }

    pub(crate) fn preview(name: &str, svg: &str) {
        if let Some(dir) = std::env::var_os("JHE_CHART_PREVIEW") {
            let path = std::path::Path::new(&dir).join(format!("{name}.svg"));
            std::fs::write(&path, svg).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        }
    }
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

pub(super) type DrawResult<T> = Result<T, Box<dyn std::error::Error>>;

/// Every chart's frame: margins and the room for the axis labels.
pub(super) fn builder<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, plotters::coord::Shift>,
) -> ChartBuilder<'a, 'b, DB> {
    let mut b = ChartBuilder::on(root);
    b.margin_top(10)
        .margin_right(28)
        .margin_left(6)
        .margin_bottom(4)
        .x_label_area_size(40)
        .y_label_area_size(62);
    b
}

/// Every chart's mesh: axes at full strength, labels and axis names in the text style, no
/// light lines; with `grid`, faint horizontal grid lines (none vertical), else none at all. The
/// caller adds the label counts, their formatters and the axis names.
pub(super) fn mesh<'a, 'b, X, Y, DB>(
    chart: &'b mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    grid: bool,
) -> MeshStyle<'a, 'b, X, Y, DB>
where
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
    DB: DrawingBackend,
{
    let text = (FONT, 16).into_font().color(&FG);
    let mut m = chart.configure_mesh();
    if grid {
        m.disable_x_mesh().bold_line_style(FG.mix(0.12));
    } else {
        m.bold_line_style(TRANSPARENT);
    }
    m.light_line_style(TRANSPARENT)
        .axis_style(FG)
        .x_label_style(text.clone())
        .y_label_style(text.clone())
        .axis_desc_style(text);
    m
}

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
        let mut chart = builder(&root).build_cartesian_2d(axis, ylo..yhi)?;
        mesh(&mut chart, true)
            .x_labels(9)
            .y_labels(6)
            .x_label_formatter(&|t| tick_label(*t, offset_us, unit))
            .y_label_formatter(&|v| y_label(*v, yspan))
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
                    BAND_FILL.color().filled(),
                )))?
                .label(band.label)
                .legend(|(x, y)| {
                    EmptyElement::at((x, y))
                        + Rectangle::new([(0, -5), (18, 5)], BAND_FILL.color().filled())
                        + Rectangle::new([(0, -5), (18, 5)], BAND_EDGE.color().stroke_width(1))
                });
            // The edges, where the band ends inside the chart (dashed by `finish_svg`).
            chart.draw_series(
                [band.lo, band.hi]
                    .into_iter()
                    .filter(|v| (ylo..=yhi).contains(v))
                    .map(|v| {
                        PathElement::new(
                            vec![(from, v), (to, v)],
                            BAND_EDGE.color().stroke_width(1),
                        )
                    }),
            )?;
            legend = true;
        }

        if bars {
            let day = US_PER_DAY;
            chart.draw_series(series.iter().map(|p| {
                let pad = day / 8;
                Rectangle::new(
                    [(p.t_us + pad, 0.0), (p.t_us + day - pad, p.v)],
                    LINE.color().filled(),
                )
            }))?;
        } else {
            let segs = segments(series);
            let sparse = series.len() <= 400;
            let first_color = if pres.style == Style::BloodPressure {
                SYSTOLIC.color()
            } else {
                LINE.color()
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
                        PathElement::new(
                            vec![(x, y), (x + 18, y)],
                            SYSTOLIC.color().stroke_width(2),
                        )
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
                        DIASTOLIC.color().stroke_width(2),
                    ))?;
                    if !labelled {
                        drawn.label("Diastolic").legend(move |(x, y)| {
                            PathElement::new(
                                vec![(x, y), (x + 18, y)],
                                DIASTOLIC.color().stroke_width(2),
                            )
                        });
                    }
                    if sparse || s.len() == 1 {
                        chart.draw_series(s.iter().filter_map(|p| {
                            p.v2.map(|v2| Circle::new((p.t_us, v2), 2, DIASTOLIC.color().filled()))
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
                        .map(|&t| TriangleMarker::new((t, yhi), 6, FLAGGED.color().filled())),
                )?
                .label("Implausible value, not counted")
                .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, FLAGGED.color().filled()));
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

/// `currentColor` for axes and text, dash arrays for the diastolic line and the band's edges,
/// and each [`Paint`]'s light colour as `var(--chart-…, #light)` so the webview themes it.
pub(super) fn finish_svg(svg: String) -> String {
    let mut s = svg.replace(FG_HEX, "currentColor");
    for (paint, dash) in [(DIASTOLIC, "7 4"), (BAND_EDGE, "5 3"), (AGP_EDGE, "4 3")] {
        let hex = paint.light_hex();
        s = s.replace(
            &format!("<polyline fill=\"none\" opacity=\"1\" stroke=\"{hex}\""),
            &format!("<polyline fill=\"none\" opacity=\"1\" stroke-dasharray=\"{dash}\" stroke=\"{hex}\""),
        );
    }
    for paint in PAINTS {
        let hex = paint.light_hex();
        s = s.replace(
            &format!("=\"{hex}\""),
            &format!("=\"var({}, {hex})\"", paint.var),
        );
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::chart::{render, Obs, Options};
    use crate::omh::DataType;

    // The chart's surroundings, as `ui/src/styles.css` sets them (`ui/test/chart-colours.test.ts`
    // checks that it still does): a chart sits on a card (`.card { background: var(--surface) }`)
    // and draws its axes and text in `currentColor`, which is `.chart { color: var(--muted) }`.
    // Light theme: `:root`; dark theme: the `@media (prefers-color-scheme: dark)` block.
    const SURFACE_LIGHT: u32 = 0xffffff;
    const SURFACE_DARK: u32 = 0x1d232b;
    const MUTED_LIGHT: u32 = 0x5b6675;
    const MUTED_DARK: u32 = 0xa0abb9;
    /// The paints drawn over the band's fill.
    const OVER_BAND: [Paint; 4] = [LINE, SYSTOLIC, DIASTOLIC, FLAGGED];

    fn channels(c: u32) -> [f64; 3] {
        [c >> 16, c >> 8, c].map(|x| f64::from(x & 0xff))
    }

    /// `fg` drawn with opacity `alpha` over `bg`, as the eye sees it.
    fn over(fg: u32, alpha: f64, bg: u32) -> u32 {
        let (f, b) = (channels(fg), channels(bg));
        (0..3).fold(0, |acc, i| {
            (acc << 8)
                | (alpha * f[i] + (1.0 - alpha) * b[i])
                    .round()
                    .clamp(0.0, 255.0) as u32
        })
    }

    /// WCAG 2.x relative luminance of an sRGB colour.
    fn luminance(c: u32) -> f64 {
        let [r, g, b] = channels(c).map(|x| {
            let x = x / 255.0;
            if x <= 0.04045 {
                x / 12.92
            } else {
                ((x + 0.055) / 1.055).powf(2.4)
            }
        });
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    /// WCAG 2.x contrast ratio, 1 to 21.
    fn contrast(a: u32, b: u32) -> f64 {
        let (la, lb) = (luminance(a), luminance(b));
        (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
    }

    #[test]
    fn the_contrast_ratio_is_wcags() {
        assert!((contrast(0x000000, 0xffffff) - 21.0).abs() < 1e-9);
        assert!((contrast(0x777777, 0x777777) - 1.0).abs() < 1e-9);
        // #767676 on white is the well-known smallest grey that passes 4.5:1.
        assert!((contrast(0x767676, 0xffffff) - 4.54).abs() < 0.01);
        assert!(contrast(0x777777, 0xffffff) < 4.5);
    }

    #[test]
    fn every_chart_colour_meets_wcag_aa_on_both_themes() {
        let mut failed = Vec::new();
        for (theme, bg, text) in [
            ("light", SURFACE_LIGHT, MUTED_LIGHT),
            ("dark", SURFACE_DARK, MUTED_DARK),
        ] {
            // Axes, tick labels, legend text: `currentColor` at full opacity (text: 4.5:1).
            let r = contrast(text, bg);
            if r < 4.5 {
                failed.push(format!("{theme}: text and axes {text:06x} {r:.2} < 4.5"));
            }
            let value = |p: &Paint| if theme == "light" { p.light } else { p.dark };
            for p in PAINTS {
                let c = value(&p);
                let r = contrast(over(c, p.alpha, bg), bg);
                if r < p.min_contrast {
                    failed.push(format!(
                        "{theme}: {} {c:06x} {r:.2} < {}",
                        p.var, p.min_contrast
                    ));
                }
            }
            // The AGP's median keeps 3:1 over both of its bands, its dashed edges over the light one.
            let outer = over(value(&AGP_OUTER), AGP_OUTER.alpha, bg);
            let inner = over(value(&AGP_INNER), AGP_INNER.alpha, outer);
            for (p, under, name) in [
                (AGP_MEDIAN, inner, "the AGP's dark band"),
                (AGP_MEDIAN, outer, "the AGP's light band"),
                (AGP_EDGE, outer, "the AGP's light band"),
            ] {
                let r = contrast(value(&p), under);
                if r < 3.0 {
                    failed.push(format!("{theme}: {} on {name} {r:.2} < 3", p.var));
                }
            }
            // Lines and marks keep 3:1 where they cross the target band.
            let fill = over(value(&BAND_FILL), BAND_FILL.alpha, bg);
            for p in OVER_BAND {
                let c = value(&p);
                let r = contrast(c, fill);
                if r < 3.0 {
                    failed.push(format!("{theme}: {} {c:06x} on the band {r:.2} < 3", p.var));
                }
            }
        }
        assert!(failed.is_empty(), "{failed:#?}");
    }

    #[test]
    fn paints_are_told_apart_by_their_light_value() {
        let mut hexes: Vec<String> = PAINTS.iter().map(Paint::light_hex).collect();
        hexes.push(FG_HEX.to_string());
        let n = hexes.len();
        hexes.sort();
        hexes.dedup();
        assert_eq!(hexes.len(), n, "two paints share a light value");
        let vars: std::collections::BTreeSet<&str> = PAINTS.iter().map(|p| p.var).collect();
        assert_eq!(vars.len(), PAINTS.len());
    }

    /// Every `fill` / `stroke` colour of the SVG, as written.
    fn colours(svg: &str) -> Vec<String> {
        let mut out = Vec::new();
        for attr in [" fill=\"", " stroke=\""] {
            for part in svg.split(attr).skip(1) {
                if let Some(end) = part.find('"') {
                    out.push(part[..end].to_string());
                }
            }
        }
        out
    }

    #[test]
    fn charts_use_only_themed_colours_with_a_fallback() {
        let start = 1_750_000_000_000_000;
        let glucose: Vec<Obs> = (0..300)
            .map(|i| Obs {
                observation_id: i + 1,
                t_us: start + i as i64 * 300_000_000,
                // One implausible reading, for the flag mark.
                v: Some(if i == 40 {
                    2000.0
                } else {
                    60.0 + (i % 150) as f64
                }),
                code: "omh:blood-glucose:4.0".into(),
                ..Default::default()
            })
            .collect();
        let bp = super::super::tests::bp_readings(start, 20);
        let steps: Vec<Obs> = (0..48)
            .map(|i| Obs {
                t_us: start + i * 3_600_000_000,
                v: Some(100.0),
                code: "omh:step-count:3.0".into(),
                ..Default::default()
            })
            .collect();
        let allowed: Vec<String> = PAINTS
            .iter()
            .map(|p| format!("var({}, {})", p.var, p.light_hex()))
            .chain(["currentColor".to_string(), "none".to_string()])
            .collect();
        let mut seen = std::collections::BTreeSet::new();
        for (view, obs) in [
            (DataType::BloodGlucose, &glucose),
            (DataType::BloodPressure, &bp),
            (DataType::StepCount, &steps),
        ] {
            let svg = render(&view, obs, &Options::default()).svg;
            assert!(svg.starts_with("<svg"), "{view:?}");
            for c in colours(&svg) {
                assert!(allowed.contains(&c), "{view:?}: colour {c} is not themed");
                seen.insert(c);
            }
        }
        // The AGP of the same glucose readings (its own paints).
        let readings = crate::analysis::input::glucose(&glucose).readings;
        let agp =
            crate::analysis::glucose_agp(&readings, crate::analysis::Period::ALL).expect("an AGP");
        for c in colours(&crate::chart::render_agp(&agp, 760, 260)) {
            assert!(allowed.contains(&c), "AGP: colour {c} is not themed");
            seen.insert(c);
        }
        // The analysis charts (their own paints).
        for (name, svg) in analysis_charts() {
            for c in colours(&svg) {
                assert!(allowed.contains(&c), "{name}: colour {c} is not themed");
                seen.insert(c);
            }
        }
        // Every paint is used, and the band's edges and the diastolic line are dashed.
        for p in PAINTS {
            let want = format!("var({}, {})", p.var, p.light_hex());
            assert!(seen.contains(&want), "{} is never drawn", p.var);
        }
        let bp_svg = render(&DataType::BloodPressure, &bp, &Options::default()).svg;
        assert!(
            bp_svg.contains("stroke-dasharray=\"7 4\" stroke=\"var(--chart-diastolic, #2563EC)\"")
        );
        let g_svg = render(&DataType::BloodGlucose, &glucose, &Options::default()).svg;
        assert_eq!(
            g_svg
                .matches("stroke-dasharray=\"5 3\" stroke=\"var(--chart-band, #166534)\"")
                .count(),
            2,
            "both edges of the 70–180 band"
        );
    }

    /// One of each analysis chart, every paint of theirs in use.
    fn analysis_charts() -> Vec<(&'static str, String)> {
        use crate::analysis::bp::HourMean;
        use crate::chart::*;
        let tir = [TirRow {
            label: "P1".into(),
            percents: [2.0, 5.0, 60.0, 23.0, 10.0],
        }];
        let gri = [GriPoint {
            label: "P1".into(),
            hypo: 3.0,
            hyper: 20.0,
        }];
        let day = chrono::NaiveDate::from_ymd_opt(2024, 6, 1).unwrap_or_default();
        let daily = [DayTrace {
            date: day,
            points: (0..100).map(|k| (f64::from(k) * 5.0, 150.0)).collect(),
        }];
        let hours: Vec<HourMean> = [(110.0, 70.0), (125.0, 75.0), (135.0, 82.0), (150.0, 95.0)]
            .iter()
            .enumerate()
            .map(|(h, &(s, d))| HourMean {
                hour: h as u32,
                n_readings: 1,
                mean_systolic: s,
                mean_diastolic: d,
            })
            .collect();
        let heat = [HeatRow {
            label: "P1".into(),
            days: vec![(day, 0.5)],
        }];
        let cohort = [CohortRow {
            label: "P1".into(),
            in_range_percent: Some(60.0),
            ..Default::default()
        }];
        vec![
            ("TIR", render_tir_bars(&tir, 760)),
            ("GRI", render_gri_grid(&gri, 760, 480)),
            ("daily", render_daily_profiles(&daily, 760)),
            ("BP by hour", render_bp_by_hour(&hours, 760, 300)),
            ("heatmap", render_completeness_heatmap(&heat, &[day], 760)),
            (
                "cohort",
                render_cohort_bars(&cohort, CohortMetric::TimeInRange, 760),
            ),
        ]
    }

    #[test]
    fn text_in_time_in_range_segments_and_gri_dots_keep_their_contrast() {
        let mut failed = Vec::new();
        for (theme, bg) in [("light", SURFACE_LIGHT), ("dark", SURFACE_DARK)] {
            let value = |p: &Paint| if theme == "light" { p.light } else { p.dark };
            // The percent inside a segment: 4.5:1 with the segment (bold text).
            for (fill, ink, name, _) in super::super::tir::RANGES {
                let r = contrast(value(&ink), value(&fill));
                if r < 4.5 {
                    failed.push(format!("{theme}: {} on {name} {r:.2} < 4.5", ink.var));
                }
            }
            // Dots and their labels over every GRI zone: 4.5:1 (the labels are text).
            for zone in [GRI_A, GRI_B, GRI_C, GRI_D, GRI_E] {
                let under = over(value(&zone), zone.alpha, bg);
                let r = contrast(value(&GRI_DOT), under);
                if r < 4.5 {
                    failed.push(format!("{theme}: the GRI dot on {} {r:.2} < 4.5", zone.var));
                }
            }
            // Neighbouring time-in-range segments and BP categories differ in colour.
            for group in [
                vec![TIR_VERY_LOW, TIR_LOW, TIR_IN_RANGE, TIR_HIGH, TIR_VERY_HIGH],
                vec![BP_NORMAL, BP_ELEVATED, BP_STAGE_1, BP_STAGE_2, BP_CRISIS],
            ] {
                for pair in group.windows(2) {
                    let (a, b) = (value(&pair[0]), value(&pair[1]));
                    let d: f64 = channels(a)
                        .iter()
                        .zip(channels(b))
                        .map(|(x, y)| (x - y).abs())
                        .sum();
                    if d < 60.0 {
                        failed.push(format!(
                            "{theme}: {} and {} look alike",
                            pair[0].var, pair[1].var
                        ));
                    }
                }
            }
        }
        assert!(failed.is_empty(), "{failed:#?}");
    }
}
