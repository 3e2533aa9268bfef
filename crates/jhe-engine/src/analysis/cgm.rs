//! CGM metrics of one participant over a period: the international consensus on time in
//! ranges (Battelino 2019), GMI, GRI (Klonoff 2023), time CGM active, J-index, LBGI/HBGI and
//! iglu's MAGE/MODD ([`super::iglu`]). Definitions: [`super::dictionary`].

use super::{iglu, stats, Period, US_PER_MIN};
use serde::Serialize;

/// mg/dL per mmol/L of glucose.
pub const MG_DL_PER_MMOL_L: f64 = 18.0182;
/// Device interval assumed when it cannot be inferred (a single reading).
pub const DEFAULT_INTERVAL_MIN: f64 = 5.0;

/// Unit of a glucose value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GlucoseUnit {
    MgDl,
    MmolL,
}

/// One glucose reading: UTC instant (µs), the reading's UTC offset (s), value and unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlucoseReading {
    pub utc_us: i64,
    pub offset_s: i32,
    pub value: f64,
    pub unit: GlucoseUnit,
}

impl GlucoseReading {
    /// The value in mg/dL.
    pub fn mg_dl(&self) -> f64 {
        match self.unit {
            GlucoseUnit::MgDl => self.value,
            GlucoseUnit::MmolL => self.value * MG_DL_PER_MMOL_L,
        }
    }
}

/// GRI zone A (best) to E (worst).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum GriZone {
    A,
    B,
    C,
    D,
    E,
}

impl GriZone {
    /// Klonoff 2023 zones: A 0–20, B >20–40, C >40–60, D >60–80, E >80–100.
    pub fn of(gri: f64) -> GriZone {
        if gri <= 20.0 {
            GriZone::A
        } else if gri <= 40.0 {
            GriZone::B
        } else if gri <= 60.0 {
            GriZone::C
        } else if gri <= 80.0 {
            GriZone::D
        } else {
            GriZone::E
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            GriZone::A => "A",
            GriZone::B => "B",
            GriZone::C => "C",
            GriZone::D => "D",
            GriZone::E => "E",
        }
    }
}

/// One participant's CGM metrics; the field names are the `metrics_cgm` columns.
/// `None` where a metric is undefined (no readings, SD of one reading, iglu's `NA`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CgmMetrics {
    pub participant_id: String,
    pub n_readings: u64,
    pub mean_mg_dl: Option<f64>,
    pub sd_mg_dl: Option<f64>,
    pub cv_percent: Option<f64>,
    pub gmi_percent: Option<f64>,
    pub very_low_percent: Option<f64>,
    pub low_percent: Option<f64>,
    pub in_range_percent: Option<f64>,
    pub high_percent: Option<f64>,
    pub very_high_percent: Option<f64>,
    pub tight_range_percent: Option<f64>,
    pub gri: Option<f64>,
    pub gri_zone: Option<GriZone>,
    pub active_percent: Option<f64>,
    pub mage_mg_dl: Option<f64>,
    pub modd_mg_dl: Option<f64>,
    pub j_index: Option<f64>,
    pub lbgi: Option<f64>,
    pub hbgi: Option<f64>,
}

/// The GRI's hypoglycemia component (Klonoff 2023), % of readings: VLow + 0.8 × Low.
pub fn hypo_component(very_low_percent: f64, low_percent: f64) -> f64 {
    very_low_percent + 0.8 * low_percent
}

/// The GRI's hyperglycemia component (Klonoff 2023), % of readings: VHigh + 0.5 × High.
pub fn hyper_component(very_high_percent: f64, high_percent: f64) -> f64 {
    very_high_percent + 0.5 * high_percent
}

impl CgmMetrics {
    /// (hypoglycemia, hyperglycemia) components of the GRI, where the four bands are known; GRI
    /// = 3 × hypo + 1.6 × hyper (capped at 100).
    pub fn gri_components(&self) -> Option<(f64, f64)> {
        Some((
            hypo_component(self.very_low_percent?, self.low_percent?),
            hyper_component(self.very_high_percent?, self.high_percent?),
        ))
    }
}

/// The column names of [`CgmMetrics`], in order.
pub const CGM_COLUMNS: [&str; 20] = [
    "participant_id",
    "n_readings",
    "mean_mg_dl",
    "sd_mg_dl",
    "cv_percent",
    "gmi_percent",
    "very_low_percent",
    "low_percent",
    "in_range_percent",
    "high_percent",
    "very_high_percent",
    "tight_range_percent",
    "gri",
    "gri_zone",
    "active_percent",
    "mage_mg_dl",
    "modd_mg_dl",
    "j_index",
    "lbgi",
    "hbgi",
];

/// CGM metrics of one participant's readings inside `period` (any order, any mix of
/// units). Readings with a non-finite or non-positive value are ignored.
pub fn cgm_metrics(
    participant_id: &str,
    readings: &[GlucoseReading],
    period: Period,
) -> CgmMetrics {
    let rows = period_rows(readings, period);
    let gl: Vec<f64> = rows.iter().map(|r| r.2).collect();
    let n = gl.len();
    let mean = stats::mean(&gl);
    let sd = stats::sd(&gl);
    let pct = |pred: &dyn Fn(f64) -> bool| -> Option<f64> {
        (n > 0).then(|| gl.iter().filter(|&&g| pred(g)).count() as f64 / n as f64 * 100.0)
    };
    let very_low = pct(&|g| g < 54.0);
    let low = pct(&|g| (54.0..70.0).contains(&g));
    let in_range = pct(&|g| (70.0..=180.0).contains(&g));
    let high = pct(&|g| g > 180.0 && g <= 250.0);
    let very_high = pct(&|g| g > 250.0);
    let tight = pct(&|g| (70.0..=140.0).contains(&g));
    let gri = match (very_low, low, very_high, high) {
        (Some(vl), Some(l), Some(vh), Some(h)) => {
            Some((3.0 * vl + 2.4 * l + 1.6 * vh + 0.8 * h).min(100.0))
        }
        _ => None,
    };
    // Kovatchev risk: f = ln(g)^1.084 − 5.381; iglu's 22.77 ≈ 10 × 1.509².
    let (mut lo_sum, mut hi_sum) = (0.0, 0.0);
    for &g in &gl {
        let f = g.ln().powf(1.084) - 5.381;
        if g < 112.5 {
            lo_sum += f.min(0.0).powi(2);
        } else {
            hi_sum += f.max(0.0).powi(2);
        }
    }
    let (t_u, g_u) = unique_instants(&rows);
    let trace = iglu::Trace {
        utc_us: &t_u,
        mg_dl: &g_u,
        first_offset_s: rows.first().map_or(0, |r| r.1),
    };
    CgmMetrics {
        participant_id: participant_id.to_string(),
        n_readings: n as u64,
        mean_mg_dl: mean,
        sd_mg_dl: sd,
        cv_percent: mean.zip(sd).map(|(m, s)| s / m * 100.0),
        gmi_percent: mean.map(|m| 3.31 + 0.02392 * m),
        very_low_percent: very_low,
        low_percent: low,
        in_range_percent: in_range,
        high_percent: high,
        very_high_percent: very_high,
        tight_range_percent: tight,
        gri,
        gri_zone: gri.map(GriZone::of),
        active_percent: active_percent(&t_u),
        mage_mg_dl: iglu::mage(&trace),
        modd_mg_dl: iglu::modd(&trace, 1),
        j_index: mean.zip(sd).map(|(m, s)| 0.001 * (m + s) * (m + s)),
        lbgi: (n > 0).then(|| 22.77 * lo_sum / n as f64),
        hbgi: (n > 0).then(|| 22.77 * hi_sum / n as f64),
    }
}

/// (UTC µs, offset s, mg/dL) of the readings in `period` with a positive finite value, in time
/// order (equal instants keep their input order).
fn period_rows(readings: &[GlucoseReading], period: Period) -> Vec<(i64, i32, f64)> {
    let mut rows: Vec<(i64, i32, f64)> = readings
        .iter()
        .filter(|r| period.contains(r.utc_us))
        .map(|r| (r.utc_us, r.offset_s, r.mg_dl()))
        .filter(|r| r.2.is_finite() && r.2 > 0.0)
        .collect();
    if !rows.windows(2).all(|w| w[0].0 <= w[1].0) {
        rows.sort_by_key(|r| r.0); // stable: equal instants keep their input order
    }
    rows
}

/// The grid metrics' input: unique instants, the last reading of a repeated instant kept (iglu).
fn unique_instants(rows: &[(i64, i32, f64)]) -> (Vec<i64>, Vec<f64>) {
    let mut t_u: Vec<i64> = Vec::with_capacity(rows.len());
    let mut g_u: Vec<f64> = Vec::with_capacity(rows.len());
    for r in rows {
        if t_u.last() == Some(&r.0) {
            if let Some(last) = g_u.last_mut() {
                *last = r.2;
            }
        } else {
            t_u.push(r.0);
            g_u.push(r.2);
        }
    }
    (t_u, g_u)
}

/// The ambulatory glucose profile of one participant's readings inside `period`
/// ([`iglu::agp`]: iglu's `plot_agp()` percentiles by time of day, on the grid that starts at
/// local midnight of the first reading's day). `None` for fewer than 2 readings or readings
/// further apart than 45 minutes (median).
pub fn glucose_agp(readings: &[GlucoseReading], period: Period) -> Option<iglu::AgpProfile> {
    let rows = period_rows(readings, period);
    let (t_u, g_u) = unique_instants(&rows);
    iglu::agp(&iglu::Trace {
        utc_us: &t_u,
        mg_dl: &g_u,
        first_offset_s: rows.first().map_or(0, |r| r.1),
    })
}

/// The device interval in whole minutes: the median gap between successive distinct
/// instants, rounded (half to even), at least 1; 5 min when there is no gap.
pub fn device_interval_min(unique_utc_us: &[i64]) -> f64 {
    let mut gaps: Vec<f64> = unique_utc_us
        .windows(2)
        .map(|w| (w[1] - w[0]) as f64 / US_PER_MIN as f64)
        .collect();
    match stats::median(&mut gaps) {
        Some(m) => {
            let r = m.round();
            let r = if (m - m.trunc()).abs() == 0.5 && r % 2.0 != 0.0 {
                r - 1.0
            } else {
                r
            };
            r.max(1.0)
        }
        None => DEFAULT_INTERVAL_MIN,
    }
}

/// % time CGM active: distinct reading instants ÷ expected readings × 100, capped at 100,
/// where expected = round(minutes from first to last reading ÷ interval) + 1.
pub fn active_percent(unique_utc_us: &[i64]) -> Option<f64> {
    let (first, last) = (unique_utc_us.first()?, unique_utc_us.last()?);
    let interval = device_interval_min(unique_utc_us);
    let span_min = (last - first) as f64 / US_PER_MIN as f64;
    let expected = (span_min / interval).round() + 1.0;
    Some((unique_utc_us.len() as f64 / expected * 100.0).min(100.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(min: i64, value: f64) -> GlucoseReading {
        GlucoseReading {
            utc_us: min * US_PER_MIN,
            offset_s: 0,
            value,
            unit: GlucoseUnit::MgDl,
        }
    }

    #[test]
    fn band_edges_are_the_consensus_ones() {
        let vals = [
            53.9, 54.0, 69.9, 70.0, 140.0, 140.1, 180.0, 180.1, 250.0, 250.1,
        ];
        let rs: Vec<_> = vals
            .iter()
            .enumerate()
            .map(|(i, &v)| r(i as i64 * 5, v))
            .collect();
        let m = cgm_metrics("p", &rs, Period::ALL);
        assert_eq!(m.very_low_percent, Some(10.0));
        assert_eq!(m.low_percent, Some(20.0));
        assert_eq!(m.in_range_percent, Some(40.0));
        assert_eq!(m.tight_range_percent, Some(20.0));
        assert_eq!(m.high_percent, Some(20.0));
        assert_eq!(m.very_high_percent, Some(10.0));
        // 3.0 × 10 + 2.4 × 20 + 1.6 × 10 + 0.8 × 20 = 110, capped at 100.
        let gri: f64 = 100.0;
        assert!((m.gri.unwrap_or_default() - gri).abs() < 1e-9);
        assert_eq!(m.gri_zone, Some(GriZone::E));
        assert_eq!(m.active_percent, Some(100.0));
    }

    #[test]
    fn gri_zone_edges_and_cap() {
        assert_eq!(GriZone::of(0.0), GriZone::A);
        assert_eq!(GriZone::of(20.0), GriZone::A);
        assert_eq!(GriZone::of(20.01), GriZone::B);
        assert_eq!(GriZone::of(60.0), GriZone::C);
        assert_eq!(GriZone::of(80.0), GriZone::D);
        assert_eq!(GriZone::of(100.0), GriZone::E);
        let rs: Vec<_> = (0..10).map(|i| r(i * 5, 40.0)).collect();
        assert_eq!(cgm_metrics("p", &rs, Period::ALL).gri, Some(100.0));
    }

    #[test]
    fn gri_is_three_hypo_plus_one_point_six_hyper() {
        // 2 very low, 3 low, 20 in range, 10 high, 5 very high of 40 readings.
        let vals = [(40.0, 2), (60.0, 3), (120.0, 20), (200.0, 10), (300.0, 5)];
        let rs: Vec<_> = vals
            .iter()
            .flat_map(|&(v, n)| std::iter::repeat_n(v, n))
            .enumerate()
            .map(|(i, v)| r(i as i64 * 5, v))
            .collect();
        let m = cgm_metrics("p", &rs, Period::ALL);
        let (hypo, hyper) = m.gri_components().unwrap_or_default();
        assert!((hypo - (5.0 + 0.8 * 7.5)).abs() < 1e-9, "{hypo}");
        assert!((hyper - (12.5 + 0.5 * 25.0)).abs() < 1e-9, "{hyper}");
        let gri = m.gri.unwrap_or_default();
        assert!((gri - (3.0 * hypo + 1.6 * hyper)).abs() < 1e-9, "{gri}");
        assert_eq!(cgm_metrics("p", &[], Period::ALL).gri_components(), None);
    }

    #[test]
    fn empty_and_single_reading() {
        let m = cgm_metrics("p", &[], Period::ALL);
        assert_eq!(m.n_readings, 0);
        assert_eq!((m.mean_mg_dl, m.gri, m.active_percent), (None, None, None));
        let m = cgm_metrics("p", &[r(0, 100.0)], Period::ALL);
        assert_eq!(
            (m.n_readings, m.mean_mg_dl, m.sd_mg_dl),
            (1, Some(100.0), None)
        );
        assert_eq!(
            (m.active_percent, m.mage_mg_dl, m.modd_mg_dl),
            (Some(100.0), None, None)
        );
    }

    #[test]
    fn mmol_is_converted_and_period_filters() {
        let rs = [
            r(0, 100.0),
            GlucoseReading {
                unit: GlucoseUnit::MmolL,
                value: 10.0,
                ..r(5, 0.0)
            },
            r(10, 300.0),
        ];
        let p = Period {
            start_us: None,
            end_us: Some(10 * US_PER_MIN),
        };
        let m = cgm_metrics("p", &rs, p);
        assert_eq!(m.n_readings, 2);
        assert!((m.mean_mg_dl.unwrap_or_default() - (100.0 + 180.182) / 2.0).abs() < 1e-9);
        assert_eq!(m.high_percent, Some(50.0));
    }

    #[test]
    fn active_percent_counts_missing_readings() {
        // 0..=100 min at 5 min: 21 expected; 5 missing.
        let t: Vec<i64> = (0..=20)
            .filter(|k| !(5..10).contains(k))
            .map(|k| k * 5 * US_PER_MIN)
            .collect();
        let a = active_percent(&t).unwrap_or_default();
        assert!((a - 16.0 / 21.0 * 100.0).abs() < 1e-9);
    }
}
