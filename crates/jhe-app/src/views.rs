//! From observations to what the participant view shows: one [`TypeSeries`] per data type
//! (chart, stats, hover points) and pages of readings. Shared by the live session and the
//! offline review, so both look the same.

use chrono::NaiveDate;
use jhe_engine::chart::{self, Obs, Options};
use jhe_engine::omh::time::{iso_z, US_PER_DAY};
use jhe_engine::omh::DataType;

use crate::error::{Error, Result};
use crate::ipc::{
    Cell, ChartXAxis, DateRange, RowColumn, RowsPage, ScopeType, SeriesPoint, Stats, TypeSeries,
};

/// The viewer's UTC offset now, seconds (axis labels and day boundaries of the charts).
pub fn local_offset_s() -> i32 {
    chrono::Local::now().offset().local_minus_utc()
}

pub fn scope_type(code: &str) -> ScopeType {
    let p = chart::presentation(&DataType::from_code(code));
    ScopeType {
        code: code.to_string(),
        label: p.label,
        unit: p.unit.to_string(),
    }
}

fn day(s: &Option<String>, what: &str) -> Result<Option<NaiveDate>> {
    match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => NaiveDate::parse_from_str(s, "%Y-%m-%d")
            .map(Some)
            .map_err(|_| {
                Error::InvalidInput(format!(
                    "The {what} date \"{s}\" is not a date like 2025-06-30."
                ))
            }),
    }
}

/// The range as days; an error for unreadable dates or a start after the end.
pub fn parse_range(r: &DateRange) -> Result<(Option<NaiveDate>, Option<NaiveDate>)> {
    let from = day(&r.from, "start")?;
    let to = day(&r.to, "end")?;
    if let (Some(f), Some(t)) = (from, to) {
        if f > t {
            return Err(Error::InvalidInput(format!(
                "The start date {f} is after the end date {t}."
            )));
        }
    }
    Ok((from, to))
}

fn day_us(d: NaiveDate) -> i64 {
    d.and_hms_opt(0, 0, 0)
        .map(|t| t.and_utc().timestamp_micros())
        .unwrap_or_default()
}

/// `[from 00:00 UTC, day after to 00:00 UTC)`, as the server filters (UTC days).
pub fn span_us(from: Option<NaiveDate>, to: Option<NaiveDate>) -> (Option<i64>, Option<i64>) {
    (from.map(day_us), to.map(|t| day_us(t) + US_PER_DAY))
}

/// Observations inside the range (UTC days, as the server filters).
pub fn filter_range(obs: &[Obs], from: Option<NaiveDate>, to: Option<NaiveDate>) -> Vec<Obs> {
    let (lo, hi) = span_us(from, to);
    obs.iter()
        .filter(|o| lo.is_none_or(|lo| o.t_us >= lo) && hi.is_none_or(|hi| o.t_us < hi))
        .cloned()
        .collect()
}

fn stats(s: chart::Stats) -> Stats {
    Stats {
        n: s.n,
        mean: s.mean,
        min: s.min,
        max: s.max,
        sd: s.sd,
    }
}

/// Chart, statistics and hover points of one type.
pub fn type_series(
    code: &str,
    obs: &[Obs],
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> TypeSeries {
    let view = DataType::from_code(code);
    let pres = chart::presentation(&view);
    let span = match span_us(from, to) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let c = chart::render(
        &view,
        obs,
        &Options {
            span,
            utc_offset_s: local_offset_s(),
            ..Options::default()
        },
    );
    TypeSeries {
        code: code.to_string(),
        label: pres.label,
        unit: pres.unit.to_string(),
        stats: stats(c.stats),
        stats2: c.stats2.map(stats),
        value_labels: pres
            .value_labels
            .map(|[a, b]| (a.to_string(), b.to_string())),
        chart_svg: c.svg,
        chart_x_axis: c.x_axis.map(|a| ChartXAxis {
            left: a.left,
            right: a.right,
            from: a.from_iso(),
            to: a.to_iso(),
        }),
        points: c
            .points
            .into_iter()
            .map(|p| SeriesPoint {
                t: iso_z(p.t_us),
                v: p.v,
                v2: p.v2,
            })
            .collect(),
        rows: c.rows as u64,
        notes: Vec::new(),
        // `obs` are the period's already (the server's date filter, or `filter_range` offline).
        summary: crate::summary::summary(&view, obs),
    }
}

fn column(name: &str, label: &str, unit: &str) -> RowColumn {
    RowColumn {
        name: name.to_string(),
        label: label.to_string(),
        unit: (!unit.is_empty()).then(|| unit.to_string()),
    }
}

/// The readings table's columns for a type (names as in the exported files).
pub fn row_columns(view: &DataType) -> Vec<RowColumn> {
    let mut cols = Vec::new();
    if view.is_interval_view() {
        cols.push(column("start_utc", "Start (UTC)", ""));
        cols.push(column("end_utc", "End (UTC)", ""));
    } else {
        cols.push(column("time_utc", "Time (UTC)", ""));
    }
    // the charted values, as in the type's spec
    if let Some(spec) = view.spec() {
        for s in spec.chart.series {
            if let Some(d) = spec.value_def(s.field) {
                cols.push(column(&d.name, s.label, &d.unit));
            }
        }
    }
    cols.push(column("device", "Device", ""));
    cols
}

fn num(v: Option<f64>) -> Cell {
    match v {
        Some(v) if v.is_finite() => Cell::Number((v * 1000.0).round() / 1000.0),
        _ => Cell::Null,
    }
}

/// One page of readings, in time order.
pub fn rows_page(code: &str, obs: &[Obs], offset: u64, limit: u64) -> RowsPage {
    let view = DataType::from_code(code);
    let mut sorted: Vec<&Obs> = obs.iter().collect();
    sorted.sort_by_key(|o| (o.t_us, o.observation_id));
    let start = (offset as usize).min(sorted.len());
    let end = start
        .saturating_add(limit.min(10_000) as usize)
        .min(sorted.len());
    let rows = sorted[start..end]
        .iter()
        .map(|o| {
            let mut r = vec![Cell::Text(iso_z(o.t_us))];
            if view.is_interval_view() {
                r.push(o.end_us.map_or(Cell::Null, |e| Cell::Text(iso_z(e))));
            }
            match view {
                DataType::BloodPressure => {
                    r.push(num(o.v));
                    r.push(num(o.v2));
                }
                DataType::Other(_) => {}
                _ => r.push(num(o.v)),
            }
            r.push(o.device.clone().map_or(Cell::Null, Cell::Text));
            r
        })
        .collect();
    RowsPage {
        columns: row_columns(&view),
        rows,
        offset: start as u64,
        total: sorted.len() as u64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_checked() {
        let r = DateRange {
            from: Some("2025-06-10".into()),
            to: Some("2025-06-01".into()),
        };
        assert!(matches!(parse_range(&r), Err(Error::InvalidInput(_))));
        let r = DateRange {
            from: Some("June".into()),
            to: None,
        };
        assert!(parse_range(&r).is_err());
        assert_eq!(parse_range(&DateRange::default()).ok(), Some((None, None)));
    }

    #[test]
    fn rows_page_pages_in_time_order() {
        let obs: Vec<Obs> = (0..10)
            .rev()
            .map(|i| Obs {
                observation_id: i,
                t_us: i as i64 * 1_000_000,
                v: Some(i as f64),
                code: "omh:heart-rate:2.0".into(),
                ..Default::default()
            })
            .collect();
        let p = rows_page("omh:heart-rate:2.0", &obs, 2, 3);
        assert_eq!(p.total, 10);
        assert_eq!(p.rows.len(), 3);
        assert_eq!(p.rows[0][1], Cell::Number(2.0));
        assert_eq!(p.columns[0].name, "time_utc");
        assert_eq!(p.columns.len(), p.rows[0].len());
    }
}
