//! The report's HTML: a page builder that escapes every text it is given, the print-friendly
//! style sheet, and the pieces the sections are made of (headings, key–value lists, tables,
//! figures with an inline SVG chart and its caption).
//!
//! Charts are the engine's own SVG (plotters, then [`crate::chart`]'s touch-ups); they are
//! inlined as they are, with their `var(--chart-…, #light)` colours falling back to the light
//! theme, and `currentColor` taking the page's text colour.

use std::fmt::Write;

/// `&`, `<`, `>`, `"` and `'` escaped: safe as element text and as a quoted attribute.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters (but tab and newline) have no business in a report.
            c if c.is_control() && c != '\n' && c != '\t' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

/// The page's style: A4/Letter-friendly, no web fonts, tables that break across pages with their
/// header repeated, sections that keep their heading with their content.
const STYLE: &str = r#"
:root { color-scheme: light; --fg: #111827; --muted: #4b5563; --line: #d1d5db; --bg-soft: #f3f4f6;
  --very-low: #7f1d1d; --low: #dc2626; --in-range: #15803d; --high: #d97706; --very-high: #c2410c;
  --normal: #15803d; --elevated: #ca8a04; --stage-1: #ea580c; --stage-2: #dc2626; --crisis: #7f1d1d; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
  color: var(--fg); background: #fff; margin: 0 auto; padding: 24px; max-width: 1000px; }
h1 { font-size: 24px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 28px 0 8px; border-bottom: 2px solid var(--line); padding-bottom: 4px; }
h3 { font-size: 16px; margin: 18px 0 6px; }
p { margin: 6px 0; }
.muted { color: var(--muted); }
.lead { font-size: 15px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
.metrics { display: flex; flex-wrap: wrap; gap: 8px; margin: 8px 0; }
.metric { background: var(--bg-soft); border-radius: 6px; padding: 6px 10px; flex: 1 1 190px; }
.metric .label { color: var(--muted); font-size: 12px; }
.metric .value { font-size: 17px; font-weight: 600; }
.metric .help { color: var(--muted); font-size: 11.5px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0; font-size: 12.5px; }
th, td { border-bottom: 1px solid var(--line); padding: 3px 6px; text-align: left; vertical-align: top; }
th { background: var(--bg-soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
figure { margin: 10px 0 16px; break-inside: avoid; }
figure svg { width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: 12.5px; margin-top: 4px; }
.bar { display: flex; height: 18px; border-radius: 3px; overflow: hidden; margin: 6px 0; border: 1px solid var(--line); }
.bar span { display: block; height: 100%; }
.legend { list-style: none; padding: 0; margin: 4px 0; display: flex; flex-wrap: wrap; gap: 4px 14px; font-size: 12.5px; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 4px; vertical-align: baseline; }
.warn { border-left: 4px solid #d97706; background: #fffbeb; padding: 6px 10px; margin: 8px 0; }
section { break-inside: auto; }
h2, h3 { break-after: avoid; }
footer { margin-top: 32px; color: var(--muted); font-size: 12px; border-top: 1px solid var(--line); padding-top: 8px; }
@page { margin: 14mm; }
@media print { body { padding: 0; max-width: none; font-size: 12px; } h2 { break-before: auto; }
  .page-break { break-before: page; } a { color: inherit; text-decoration: none; } }
"#;

/// A report page being written. Every `&str` argument is text (escaped here); only `svg`
/// arguments are markup, and they must be the engine's own chart output.
pub struct Page {
    buf: String,
    /// Charts inlined so far.
    pub charts: usize,
}

impl Page {
    pub fn new(title: &str) -> Page {
        let mut buf = String::with_capacity(256 * 1024);
        let _ = write!(
            buf,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; \
             style-src 'unsafe-inline'; img-src data:\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n",
            esc(title)
        );
        Page { buf, charts: 0 }
    }

    /// Raw markup made by this module (never text from the data).
    fn raw(&mut self, s: &str) {
        self.buf.push_str(s);
    }

    pub fn h1(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<h1>{}</h1>", esc(text));
    }

    pub fn h2(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<h2>{}</h2>", esc(text));
    }

    pub fn h3(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<h3>{}</h3>", esc(text));
    }

    pub fn p(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<p>{}</p>", esc(text));
    }

    pub fn muted(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<p class=\"muted\">{}</p>", esc(text));
    }

    pub fn warn(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<p class=\"warn\">{}</p>", esc(text));
    }

    pub fn section_start(&mut self, id: &str) {
        let _ = writeln!(self.buf, "<section id=\"{}\">", esc(id));
    }

    pub fn section_end(&mut self) {
        self.raw("</section>\n");
    }

    /// A definition list of (term, value) pairs.
    pub fn facts(&mut self, rows: &[(&str, String)]) {
        self.raw("<dl class=\"facts\">\n");
        for (k, v) in rows {
            let _ = writeln!(self.buf, "<dt>{}</dt><dd>{}</dd>", esc(k), esc(v));
        }
        self.raw("</dl>\n");
    }

    /// Metric boxes: (label, value as shown, one-sentence help).
    pub fn metrics(&mut self, boxes: &[(String, String, String)]) {
        if boxes.is_empty() {
            return;
        }
        self.raw("<div class=\"metrics\">\n");
        for (label, value, help) in boxes {
            let _ = writeln!(
                self.buf,
                "<div class=\"metric\"><div class=\"label\">{}</div><div class=\"value\">{}</div><div class=\"help\">{}</div></div>",
                esc(label),
                esc(value),
                esc(help)
            );
        }
        self.raw("</div>\n");
    }

    /// A 100 % stacked bar with its legend: (CSS colour variable, label, percent, goal).
    pub fn stacked_bar(&mut self, aria: &str, parts: &[(&str, String, f64, String)]) {
        let _ = write!(
            self.buf,
            "<div class=\"bar\" role=\"img\" aria-label=\"{}\">",
            esc(aria)
        );
        for (var, label, pct, _) in parts {
            if *pct > 0.0 {
                let _ = write!(
                    self.buf,
                    "<span style=\"width:{:.2}%;background:var(--{})\" title=\"{}\"></span>",
                    pct.clamp(0.0, 100.0),
                    css_ident(var),
                    esc(label)
                );
            }
        }
        self.raw("</div>\n<ul class=\"legend\">");
        for (var, label, pct, goal) in parts {
            let _ = write!(
                self.buf,
                "<li><span class=\"swatch\" style=\"background:var(--{})\"></span>{} <strong>{:.1} %</strong>{}</li>",
                css_ident(var),
                esc(label),
                pct,
                if goal.is_empty() {
                    String::new()
                } else {
                    format!(" <span class=\"muted\">({})</span>", esc(goal))
                }
            );
        }
        self.raw("</ul>\n");
    }

    /// A table: header cells, then rows; cells whose header is in `numeric` are right-aligned.
    pub fn table(&mut self, caption: &str, head: &[&str], rows: &[Vec<String>], numeric: &[usize]) {
        self.raw("<table>\n");
        if !caption.is_empty() {
            let _ = writeln!(
                self.buf,
                "<caption class=\"muted\" style=\"caption-side:bottom;text-align:left\">{}</caption>",
                esc(caption)
            );
        }
        self.raw("<thead><tr>");
        for (i, h) in head.iter().enumerate() {
            let class = if numeric.contains(&i) {
                " class=\"num\""
            } else {
                ""
            };
            let _ = write!(self.buf, "<th scope=\"col\"{class}>{}</th>", esc(h));
        }
        self.raw("</tr></thead>\n<tbody>\n");
        for r in rows {
            self.raw("<tr>");
            for (i, c) in r.iter().enumerate() {
                let class = if numeric.contains(&i) {
                    " class=\"num\""
                } else {
                    ""
                };
                let _ = write!(self.buf, "<td{class}>{}</td>", esc(c));
            }
            self.raw("</tr>\n");
        }
        self.raw("</tbody></table>\n");
    }

    /// A chart with its title and caption; nothing when `svg` is empty (nothing to draw).
    pub fn figure(&mut self, title: &str, svg: &str, caption: &str) {
        if svg.is_empty() {
            return;
        }
        self.charts += 1;
        let _ = write!(
            self.buf,
            "<figure role=\"group\" aria-label=\"{}\">\n<h3>{}</h3>\n",
            esc(title),
            esc(title)
        );
        // The SVG document's XML declaration, if any, is not valid inside HTML.
        let svg = svg.trim_start();
        let svg = match svg.strip_prefix("<?xml") {
            Some(rest) => rest.split_once("?>").map_or("", |(_, r)| r),
            None => svg,
        };
        self.raw(&light_colours(svg));
        let _ = writeln!(
            self.buf,
            "\n<figcaption>{}</figcaption>\n</figure>",
            esc(caption)
        );
    }

    pub fn footer(&mut self, text: &str) {
        let _ = writeln!(self.buf, "<footer>{}</footer>", esc(text));
    }

    pub fn finish(mut self) -> String {
        self.raw("</body>\n</html>\n");
        self.buf
    }
}

/// The chart's themed colours (`var(--chart-…, #RRGGBB)`) as their light values: a report is
/// printed on white, and PDF printers and SVG tools that do not resolve CSS variables in
/// attributes draw the same colours as browsers.
fn light_colours(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(i) = rest.find("var(--") {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let fallback = tail.find(')').and_then(|end| {
            let (_, hex) = tail[..end].split_once(", ")?;
            let ok = hex.len() == 7
                && hex.starts_with('#')
                && hex[1..].chars().all(|c| c.is_ascii_hexdigit());
            ok.then_some((hex, end))
        });
        match fallback {
            Some((hex, end)) => {
                out.push_str(hex);
                rest = &tail[end + 1..];
            }
            None => {
                out.push_str("var(--");
                rest = &tail[6..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A CSS identifier made of letters, digits and `-` only (our own keys; anything else dropped).
fn css_ident(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_and_attributes_are_escaped() {
        assert_eq!(
            esc("<script>alert('x')</script> & \"q\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        let mut p = Page::new("<b>t</b>");
        p.table(
            "",
            &["<th>"],
            &[vec!["<img src=x onerror=alert(1)>".into()]],
            &[],
        );
        p.stacked_bar(
            "a\"b",
            &[("in-range\"><script>", "x".into(), 50.0, String::new())],
        );
        let doc = p.finish();
        assert!(!doc.contains("<img"));
        assert!(!doc.contains("<script"));
        assert!(!doc.contains("<b>t"));
        assert!(doc.contains("default-src 'none'"));
    }

    #[test]
    fn a_figure_drops_the_xml_declaration_and_counts_the_chart() {
        let mut p = Page::new("t");
        p.figure("AGP", "<?xml version=\"1.0\"?><svg></svg>", "cap");
        p.figure("none", "", "cap");
        assert_eq!(p.charts, 1);
        let doc = p.finish();
        assert!(!doc.contains("<?xml"));
        assert!(doc.contains("<svg></svg>"));
    }

    #[test]
    fn chart_colours_are_baked_to_their_light_values() {
        assert_eq!(
            light_colours(r##"<path stroke="var(--chart-line, #2563EB)" fill="var(--x)"/>"##),
            r##"<path stroke="#2563EB" fill="var(--x)"/>"##
        );
        assert_eq!(light_colours("var(--a, #12"), "var(--a, #12");
    }
}
