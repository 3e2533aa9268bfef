//! From observations to what the participant view shows: one [`TypeSeries`] per data type
//! (chart, stats, hover points) and pages of readings. Shared by the live session and the
//! offline review, so both look the same.
//!
//! A reading's time is shown as the participant's wall clock with the UTC offset the data gave
//! ([`time_at_offset`]): the screen says when in the participant's day it was, and the instant
//! stays exact (the UI shows it in UTC too, as the exported `time_utc` has it).

use std::fmt::Write as _;

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
        summary: jhe_engine::analysis::summary::summary(&view, obs),
    }
}

/// Largest UTC offset believed (real ones are −12:00 … +14:00).
const MAX_OFFSET_S: i64 = 18 * 3600;

/// The reading's own UTC offset in seconds (its wall clock minus its instant), when the data gave
/// one. `None` too for a zero offset: an export read back records a reading without an offset
/// with a wall clock equal to UTC, so there zero cannot be told from none, and calling such a
/// time UTC is true either way. `None` also for an offset that is not whole minutes or is out
/// of range (not a real one).
fn reading_offset_s(o: &Obs) -> Option<i64> {
    let d = o.local_us? - o.t_us;
    (d != 0 && d % 60_000_000 == 0 && d.abs() <= MAX_OFFSET_S * 1_000_000).then_some(d / 1_000_000)
}

/// An instant as ISO 8601 at a UTC offset: the wall clock there and the offset,
/// `2026-11-20T08:05:00-08:00`; with `None`, in UTC: `2026-11-20T16:05:00Z`. Either way the
/// same instant, so the UI can show the UTC time next to the local one.
pub fn time_at_offset(utc_us: i64, offset_s: Option<i64>) -> String {
    let Some(off) = offset_s.filter(|o| *o != 0) else {
        return iso_z(utc_us);
    };
    let mut s = iso_z(utc_us + off * 1_000_000);
    s.pop(); // the `Z`
    let m = off.abs() / 60;
    let sign = if off < 0 { '-' } else { '+' };
    let _ = write!(s, "{sign}{:02}:{:02}", m / 60, m % 60);
    s
}

fn column(name: &str, label: &str, unit: &str) -> RowColumn {
    RowColumn {
        name: name.to_string(),
        label: label.to_string(),
        unit: (!unit.is_empty()).then(|| unit.to_string()),
    }
}

/// The readings table's columns for a type (names as in the exported files). The times are
/// the exported `time_utc` (or `start_utc`, `end_utc`) instants written at the reading's own
/// UTC offset ([`time_at_offset`]): the participant's local time when the data gave an offset,
/// UTC when it gave none.
pub fn row_columns(view: &DataType) -> Vec<RowColumn> {
    let mut cols = Vec::new();
    if view.is_interval_view() {
        cols.push(column("start_utc", "Start (participant's local)", ""));
        cols.push(column("end_utc", "End (participant's local)", ""));
    } else {
        cols.push(column("time_utc", "Time (participant's local)", ""));
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
            // The end at the start's offset: the data gives no other (an exact instant either
            // way, the offset is written with it).
            let offset = reading_offset_s(o);
            let mut r = vec![Cell::Text(time_at_offset(o.t_us, offset))];
            if view.is_interval_view() {
                r.push(
                    o.end_us
                        .map_or(Cell::Null, |e| Cell::Text(time_at_offset(e, offset))),
                );
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

    fn utc(s: &str) -> i64 {
        jhe_engine::omh::time::parse_date_time(s).map_or(i64::MIN, |t| t.utc_us)
    }

    #[test]
    fn times_are_the_participants_local_with_the_offset_or_utc() {
        let t = utc("2026-11-20T16:05:00Z");
        let hour = 3_600_000_000;
        let reading = |id, local_us| Obs {
            observation_id: id,
            t_us: t + id as i64 * 60_000_000,
            local_us,
            v: Some(100.0),
            code: "omh:blood-glucose:4.0".into(),
            ..Default::default()
        };
        let obs = [
            // written 2026-11-20T08:05:00-08:00
            reading(0, Some(t - 8 * hour)),
            // written with a UTC time, no offset
            reading(1, None),
            // read back from an export: wall clock = UTC
            reading(2, Some(t + 2 * 60_000_000)),
            // +05:45 (Nepal)
            reading(3, Some(t + 3 * 60_000_000 + 5 * hour + 45 * 60_000_000)),
        ];
        let p = rows_page("omh:blood-glucose:4.0", &obs, 0, 10);
        assert_eq!(p.columns[0].name, "time_utc");
        assert_eq!(p.columns[0].label, "Time (participant's local)");
        let times: Vec<&Cell> = p.rows.iter().map(|r| &r[0]).collect();
        assert_eq!(
            times,
            [
                &Cell::Text("2026-11-20T08:05:00-08:00".into()),
                &Cell::Text("2026-11-20T16:06:00Z".into()),
                &Cell::Text("2026-11-20T16:07:00Z".into()),
                &Cell::Text("2026-11-20T21:53:00+05:45".into()),
            ]
        );
        // Each is the same instant as its UTC time.
        for (r, o) in p.rows.iter().zip(&obs) {
            let Cell::Text(s) = &r[0] else {
                panic!("{r:?}")
            };
            assert_eq!(utc(s), o.t_us, "{s}");
        }

        // Intervals: start and end at the start's offset.
        let start = utc("2026-11-20T06:00:00Z");
        let steps = Obs {
            t_us: start,
            end_us: Some(start + hour),
            local_us: Some(start - 5 * hour),
            v: Some(100.0),
            code: "omh:step-count:3.0".into(),
            ..Default::default()
        };
        let p = rows_page("omh:step-count:3.0", &[steps], 0, 10);
        assert_eq!(p.columns[0].label, "Start (participant's local)");
        assert_eq!(p.columns[1].label, "End (participant's local)");
        assert_eq!(
            p.rows[0][..2],
            [
                Cell::Text("2026-11-20T01:00:00-05:00".into()),
                Cell::Text("2026-11-20T02:00:00-05:00".into()),
            ]
        );
    }

    #[test]
    fn odd_offsets_are_not_believed() {
        assert_eq!(time_at_offset(0, Some(0)), "1970-01-01T00:00:00Z");
        let o = |local_us| Obs {
            local_us: Some(local_us),
            ..Default::default()
        };
        assert_eq!(reading_offset_s(&o(30_000_000)), None, "half a minute");
        assert_eq!(reading_offset_s(&o(20 * 3_600_000_000)), None, "20 hours");
        assert_eq!(reading_offset_s(&o(-12 * 3_600_000_000)), Some(-12 * 3600));
    }
}
