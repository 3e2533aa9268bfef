//! MAGE, MODD and the AGP's percentiles exactly as the R package iglu (version 4.1.7, CRAN)
//! computes them (`plot_agp()` for the AGP):
//! `mage()` with its default moving-average algorithm (`mage_ma_single`, short/long windows 5
//! and 32, `direction = "avg"`, `inter_gap = 45`, `max_gap = 180`) and `modd(lag = 1)`, both on
//! iglu's `CGMS2DayByDay` interpolation grid. A port of the published R source, step by step.
//!
//! The one choice iglu leaves to its `tz` argument: the grid starts at local midnight of the
//! first reading's date (from that reading's UTC offset) and then runs in elapsed time
//! (iglu called with a fixed-offset time zone). Across a DST change, "the same time on the
//! next day" is therefore 24 h later, not the same wall-clock time.

use super::stats;
use super::{US_PER_DAY, US_PER_MIN};

/// iglu's `inter_gap`: no interpolation across gaps longer than this many minutes.
pub const INTER_GAP_MIN: f64 = 45.0;
/// iglu's `max_gap` for MAGE: longer gaps split the trace into segments.
pub const MAX_GAP_MIN: i64 = 180;
/// iglu's MAGE moving-average windows (in 5-minute grid points).
pub const SHORT_MA: usize = 5;
pub const LONG_MA: usize = 32;

/// One participant's trace ready for the grid: UTC µs ascending and unique, mg/dL values, and
/// the UTC offset (s) of the first reading.
pub struct Trace<'a> {
    pub utc_us: &'a [i64],
    pub mg_dl: &'a [f64],
    pub first_offset_s: i32,
}

/// iglu's `CGMS2DayByDay`: values on a grid of `dt0` minutes, one row per day, `NaN` where
/// there is no data or the grid point lies inside a gap longer than `inter_gap`.
struct DayByDay {
    values: Vec<f64>,
    per_day: usize,
}

/// R's `round()` (IEC 60559: half to even).
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
        r - x.signum()
    } else {
        r
    }
}

/// The grid step iglu picks when `dt0 = NULL`: median gap in minutes, rounded, adjusted to
/// divide a day. `None` where iglu stops with an error (step above `inter_gap`).
fn auto_dt0(utc_us: &[i64]) -> Option<i64> {
    let mut gaps: Vec<f64> = utc_us
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / US_PER_MIN as f64)
        .collect();
    let mut dt0 = round_half_even(stats::median(&mut gaps)?) as i64;
    if dt0 as f64 > INTER_GAP_MIN || dt0 < 1 {
        return None;
    }
    if 1440 % dt0 != 0 {
        if dt0 > 20 {
            dt0 = 20;
        } else {
            let rem = dt0 % 5;
            dt0 = if rem > 2 { dt0 + 5 - rem } else { dt0 - rem };
        }
    }
    Some(dt0)
}

fn day_by_day(t: &Trace, dt0_min: i64) -> Option<DayByDay> {
    let (&tmin, &tmax) = (t.utc_us.first()?, t.utc_us.last()?);
    let off_us = i64::from(t.first_offset_s) * 1_000_000;
    // Local midnight of the first reading, as a UTC instant.
    let min_d = (tmin + off_us).div_euclid(US_PER_DAY) * US_PER_DAY - off_us;
    let span_days = (tmax - tmin) as f64 / US_PER_DAY as f64;
    let ndays = (span_days + 1.0).ceil() as usize;
    let per_day = (1440 / dt0_min) as usize;
    let step = dt0_min * US_PER_MIN;
    let inter_gap_us = INTER_GAP_MIN * US_PER_MIN as f64;
    let mut values = vec![f64::NAN; ndays * per_day];
    let (x, y) = (t.utc_us, t.mg_dl);
    let mut i = 0usize; // x[i] <= v < x[i+1]
    for (k, out) in values.iter_mut().enumerate() {
        let v = min_d + (k as i64 + 1) * step;
        if v < tmin || v > tmax {
            continue;
        }
        while i + 1 < x.len() && x[i + 1] <= v {
            i += 1;
        }
        if x[i] == v {
            *out = y[i];
            continue;
        }
        let j = i + 1; // x[i] < v < x[j]
        if (x[j] - x[i]) as f64 > inter_gap_us {
            continue; // inside a gap longer than inter_gap: left NA
        }
        let frac = (v - x[i]) as f64 / (x[j] - x[i]) as f64;
        *out = y[i] + (y[j] - y[i]) * frac;
    }
    Some(DayByDay { values, per_day })
}

/// iglu `modd(data, lag)`: mean absolute difference between grid values `lag` days apart.
/// `None` for fewer than 2 readings, a median step above 45 min, or no pair of values.
pub fn modd(t: &Trace, lag: usize) -> Option<f64> {
    if t.utc_us.len() < 2 || lag == 0 {
        return None;
    }
    let dt0 = auto_dt0(t.utc_us)?;
    let g = day_by_day(t, dt0)?;
    let shift = lag * g.per_day;
    let (mut sum, mut n) = (0.0, 0usize);
    for k in shift..g.values.len() {
        let d = (g.values[k] - g.values[k - shift]).abs();
        if !d.is_nan() {
            sum += d;
            n += 1;
        }
    }
    (n > 0).then(|| sum / n as f64)
}

/// The percentiles of the ambulatory glucose profile, in the order of [`AgpProfile::bands`].
pub const AGP_PROBS: [f64; 5] = [0.05, 0.25, 0.50, 0.75, 0.95];

/// The ambulatory glucose profile as iglu's `plot_agp()` computes it: the readings on iglu's
/// `CGMS2DayByDay` grid (step `dt0` picked as iglu does, linear interpolation, none across gaps
/// over 45 min), then for each grid time of day the 5th, 25th, 50th, 75th and 95th percentiles
/// across days (R's `quantile()` default, type 7, `na.rm = TRUE`).
#[derive(Clone, Debug, PartialEq)]
pub struct AgpProfile {
    /// The grid step in minutes.
    pub step_min: u32,
    /// Each grid time as minutes after local midnight: `step`, `2 step`, …, 1440 (iglu's
    /// `times`).
    pub minutes: Vec<u32>,
    /// Per grid time, the values of [`AGP_PROBS`] (mg/dL); `NaN` where no day has a value.
    pub bands: Vec<[f64; 5]>,
    /// Days of the grid with at least one value.
    pub days: usize,
}

/// R's `quantile(x, p)` of type 7 (the default) over sorted, non-empty `x`.
pub fn quantile_type7(sorted: &[f64], p: f64) -> f64 {
    let h = (sorted.len() - 1) as f64 * p;
    let lo = h.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
}

/// iglu `plot_agp()`'s percentiles. `None` for fewer than 2 readings or where iglu stops with
/// an error (a median step above 45 min).
pub fn agp(t: &Trace) -> Option<AgpProfile> {
    if t.utc_us.len() < 2 {
        return None;
    }
    let dt0 = auto_dt0(t.utc_us)?;
    let g = day_by_day(t, dt0)?;
    let days = g.values.len() / g.per_day;
    let mut col = Vec::with_capacity(days);
    let bands = (0..g.per_day)
        .map(|k| {
            col.clear();
            col.extend(
                (0..days)
                    .map(|d| g.values[d * g.per_day + k])
                    .filter(|v| !v.is_nan()),
            );
            if col.is_empty() {
                return [f64::NAN; 5];
            }
            col.sort_by(f64::total_cmp);
            AGP_PROBS.map(|p| quantile_type7(&col, p))
        })
        .collect();
    let with_data = (0..days)
        .filter(|d| {
            g.values[d * g.per_day..(d + 1) * g.per_day]
                .iter()
                .any(|v| !v.is_nan())
        })
        .count();
    Some(AgpProfile {
        step_min: dt0 as u32,
        minutes: (1..=g.per_day).map(|k| (k as i64 * dt0) as u32).collect(),
        bands,
        days: with_data,
    })
}

/// iglu `mage()` default (`mage_ma`, direction "avg"): segment MAGEs weighted by segment
/// length. `None` where iglu returns `NA`.
pub fn mage(t: &Trace) -> Option<f64> {
    if t.utc_us.len() < 2 {
        return None;
    }
    let g = day_by_day(t, 5)?;
    let first = g.values.iter().position(|v| !v.is_nan())?;
    let last = g.values.iter().rposition(|v| !v.is_nan())?;
    let data = &g.values[first..=last];
    if data.len() < 7 || data.len() < LONG_MA {
        return None;
    }
    // Split at NA runs longer than max_gap (run length × 5 min > 180 min).
    let max_run = (MAX_GAP_MIN / 5) as usize;
    let mut segments: Vec<&[f64]> = Vec::new();
    let mut seg_start = 0usize;
    let mut k = 0usize;
    while k < data.len() {
        if data[k].is_nan() {
            let run_start = k;
            while k < data.len() && data[k].is_nan() {
                k += 1;
            }
            if k - run_start > max_run {
                segments.push(&data[seg_start..run_start]);
                seg_start = k;
            }
        } else {
            k += 1;
        }
    }
    segments.push(&data[seg_start..]);
    // Rows (mage, duration in grid steps) with a value, as iglu's "avg" filter keeps them.
    let mut rows: Vec<(f64, f64)> = Vec::new();
    for seg in segments {
        let dur = seg.len().saturating_sub(1) as f64;
        if let Some((plus, minus)) = mage_atomic(seg) {
            rows.extend(plus.map(|m| (m, dur)));
            rows.extend(minus.map(|m| (m, dur)));
        }
    }
    let total: f64 = rows.iter().map(|r| r.1).sum();
    if rows.is_empty() || total <= 0.0 {
        return None;
    }
    Some(rows.iter().map(|(m, d)| m * (d / total)).sum())
}

/// Right-aligned rolling mean with `na.rm = TRUE`, leading values filled with the first full
/// window's (zoo::rollapply + iglu's `replace`).
fn rolling_mean(gl: &[f64], w: usize) -> Vec<f64> {
    let mut out = vec![f64::NAN; gl.len()];
    let mut buf: Vec<f64> = Vec::with_capacity(w);
    for i in (w - 1)..gl.len() {
        buf.clear();
        buf.extend(gl[i + 1 - w..=i].iter().copied().filter(|v| !v.is_nan()));
        out[i] = stats::mean(&buf).unwrap_or(f64::NAN);
    }
    let fill = out[w - 1];
    for v in out.iter_mut().take(w) {
        *v = fill;
    }
    out
}

/// iglu's `mage_atomic` on one segment: `(MAGE+, MAGE−)`, or `None` for NA on both.
fn mage_atomic(gl: &[f64]) -> Option<(Option<f64>, Option<f64>)> {
    let n = gl.len();
    let present: Vec<f64> = gl.iter().copied().filter(|v| !v.is_nan()).collect();
    if present.is_empty() || n < 7 || n < LONG_MA {
        return None;
    }
    let sd = stats::sd(&present)?;
    if sd < 1.0 {
        return None;
    }
    let short = rolling_mean(gl, SHORT_MA);
    let long = rolling_mean(gl, LONG_MA);
    let delta: Vec<f64> = short.iter().zip(&long).map(|(s, l)| s - l).collect();

    // Crossing points: (position, is_max).
    let mut crosses: Vec<(usize, bool)> = vec![(0, delta[0] > 0.0)];
    for i in 1..n {
        if gl[i].is_nan() || gl[i - 1].is_nan() || delta[i].is_nan() || delta[i - 1].is_nan() {
            continue;
        }
        if delta[i] * delta[i - 1] < 0.0 {
            crosses.push((i, delta[i] >= delta[i - 1]));
        } else {
            let prev = delta[crosses[crosses.len() - 1].0];
            if delta[i] * prev < 0.0 {
                crosses.push((i, delta[i] >= prev));
            }
        }
    }
    crosses.push((n - 1, delta[n - 1] > 0.0));

    // Turning points between successive crossings, on the interpolated values.
    let num_extrema = crosses.len() - 1;
    let mut minmax = vec![f64::NAN; num_extrema];
    let mut indexes = vec![0usize; num_extrema];
    for i in 0..num_extrema {
        let s1 = if i == 0 { crosses[0].0 } else { indexes[i - 1] };
        let s2 = crosses[i + 1].0;
        let mut best: Option<(usize, f64)> = None;
        for (p, &v) in gl.iter().enumerate().take(s2 + 1).skip(s1) {
            if v.is_nan() {
                continue;
            }
            let better = match best {
                None => true,
                Some((_, b)) => {
                    if crosses[i].1 {
                        v > b
                    } else {
                        v < b
                    }
                }
            };
            if better {
                best = Some((p, v));
            }
        }
        let (p, v) = best?;
        minmax[i] = v;
        indexes[i] = p;
    }

    let plus = excursions(&minmax, sd, true);
    let minus = excursions(&minmax, sd, false);
    if plus.is_empty() && minus.is_empty() {
        return None;
    }
    let plus = stats::mean(&plus);
    let minus = stats::mean(&minus).map(f64::abs);
    Some((plus, minus))
}

/// iglu's MAGE+ (`rising`) or MAGE− excursion search over the turning points; the heights.
/// `d(i, j)` is iglu's `differences[i, j] = minmax[j] − minmax[i]`.
// iglu's `for (k in j:N)` fixes the range once while the body moves `j`: same here.
#[allow(clippy::mut_range_bound)]
fn excursions(m: &[f64], sd: f64, rising: bool) -> Vec<f64> {
    let n = m.len();
    let d = |i: usize, j: usize| m[j] - m[i];
    let mut heights = Vec::new();
    let (mut j, mut prev_j) = (0usize, 0usize);
    // Cached extreme of m[prev_j..=j] (first occurrence): (prev_j, upto, index).
    let mut cache: Option<(usize, usize, usize)> = None;
    while j < n {
        // iglu: delta = differences[prev_j:j, j]; i = which.max(delta) (or which.min).
        // max(m_j − m_i) is at the first minimum of m_i, min(m_j − m_i) at the first maximum.
        let i = match cache {
            Some((p, upto, idx)) if p == prev_j && upto <= j => {
                let mut idx = idx;
                for q in upto + 1..=j {
                    if (rising && m[q] < m[idx]) || (!rising && m[q] > m[idx]) {
                        idx = q;
                    }
                }
                idx
            }
            _ => {
                let mut idx = prev_j;
                for q in prev_j + 1..=j {
                    if (rising && m[q] < m[idx]) || (!rising && m[q] > m[idx]) {
                        idx = q;
                    }
                }
                idx
            }
        };
        cache = Some((prev_j, j, i));
        let v = d(i, j);
        let found = if rising { v >= sd } else { v <= -sd };
        if !found {
            j += 1;
            continue;
        }
        for k in j..n {
            if (rising && m[k] > m[j]) || (!rising && m[k] < m[j]) {
                j = k;
            }
            let closes = if rising { d(j, k) < -sd } else { d(j, k) > sd };
            if closes || k == n - 1 {
                heights.push(m[j] - m[i]);
                // iglu: MAGE+ restarts at k, MAGE− at the turning point j.
                prev_j = if rising { k } else { j };
                j = k;
                break;
            }
        }
    }
    heights
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_rounding_is_half_even() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-2.5), -2.0);
        assert_eq!(round_half_even(4.6), 5.0);
    }

    #[test]
    fn grid_step_follows_iglu() {
        let five: Vec<i64> = (0..10).map(|k| k * 5 * US_PER_MIN).collect();
        assert_eq!(auto_dt0(&five), Some(5));
        let seven: Vec<i64> = (0..10).map(|k| k * 7 * US_PER_MIN).collect();
        assert_eq!(auto_dt0(&seven), Some(5));
        let hourly: Vec<i64> = (0..10).map(|k| k * 60 * US_PER_MIN).collect();
        assert_eq!(auto_dt0(&hourly), None);
    }

    #[test]
    fn flat_or_short_traces_have_no_mage() {
        let t: Vec<i64> = (0..100).map(|k| k * 5 * US_PER_MIN).collect();
        let flat = vec![100.0; 100];
        let tr = Trace {
            utc_us: &t,
            mg_dl: &flat,
            first_offset_s: 0,
        };
        assert_eq!(mage(&tr), None);
        let tr = Trace {
            utc_us: &t[..20],
            mg_dl: &flat[..20],
            first_offset_s: 0,
        };
        assert_eq!(mage(&tr), None);
    }

    #[test]
    fn modd_of_a_repeating_day_is_zero() {
        let t: Vec<i64> = (0..576).map(|k| k * 5 * US_PER_MIN).collect();
        let v: Vec<f64> = (0..576).map(|k| 100.0 + (k % 288) as f64).collect();
        let tr = Trace {
            utc_us: &t,
            mg_dl: &v,
            first_offset_s: 0,
        };
        assert_eq!(modd(&tr, 1), Some(0.0));
    }
}
