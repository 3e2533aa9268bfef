//! Polars adapter: the per-participant metric structs as one-row-per-participant DataFrames
//! (`metrics_cgm`), with the column names of the data dictionary.

use super::cgm::CgmMetrics;
use polars::prelude::*;

/// `metrics_cgm`: one row per participant, columns as [`super::cgm::CGM_COLUMNS`].
pub fn cgm_frame(rows: &[CgmMetrics]) -> PolarsResult<DataFrame> {
    let f = |get: fn(&CgmMetrics) -> Option<f64>| -> Vec<Option<f64>> {
        rows.iter().map(get).collect()
    };
    let cols: Vec<Column> = vec![
        Column::new(
            "participant_id".into(),
            rows.iter()
                .map(|r| r.participant_id.as_str())
                .collect::<Vec<_>>(),
        ),
        Column::new(
            "n_readings".into(),
            rows.iter().map(|r| r.n_readings).collect::<Vec<_>>(),
        ),
        Column::new("mean_mg_dl".into(), f(|r| r.mean_mg_dl)),
        Column::new("sd_mg_dl".into(), f(|r| r.sd_mg_dl)),
        Column::new("cv_percent".into(), f(|r| r.cv_percent)),
        Column::new("gmi_percent".into(), f(|r| r.gmi_percent)),
        Column::new("very_low_percent".into(), f(|r| r.very_low_percent)),
        Column::new("low_percent".into(), f(|r| r.low_percent)),
        Column::new("in_range_percent".into(), f(|r| r.in_range_percent)),
        Column::new("high_percent".into(), f(|r| r.high_percent)),
        Column::new("very_high_percent".into(), f(|r| r.very_high_percent)),
        Column::new("tight_range_percent".into(), f(|r| r.tight_range_percent)),
        Column::new("gri".into(), f(|r| r.gri)),
        Column::new(
            "gri_zone".into(),
            rows.iter()
                .map(|r| r.gri_zone.map(|z| z.as_str()))
                .collect::<Vec<_>>(),
        ),
        Column::new("active_percent".into(), f(|r| r.active_percent)),
        Column::new("mage_mg_dl".into(), f(|r| r.mage_mg_dl)),
        Column::new("modd_mg_dl".into(), f(|r| r.modd_mg_dl)),
        Column::new("j_index".into(), f(|r| r.j_index)),
        Column::new("lbgi".into(), f(|r| r.lbgi)),
        Column::new("hbgi".into(), f(|r| r.hbgi)),
    ];
    DataFrame::new(rows.len(), cols)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::cgm::{cgm_metrics, GlucoseReading, GlucoseUnit, CGM_COLUMNS};
    use crate::analysis::{Period, US_PER_MIN};

    #[test]
    fn one_row_per_participant_with_the_dictionary_columns() {
        let rs: Vec<GlucoseReading> = (0..50)
            .map(|k| GlucoseReading {
                utc_us: k * 5 * US_PER_MIN,
                offset_s: 0,
                value: 100.0 + k as f64,
                unit: GlucoseUnit::MgDl,
            })
            .collect();
        let rows = [
            cgm_metrics("a", &rs, Period::ALL),
            cgm_metrics("b", &[], Period::ALL),
        ];
        let df = cgm_frame(&rows).expect("frame");
        assert_eq!(df.height(), 2);
        let names: Vec<String> = df
            .get_column_names()
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(names, CGM_COLUMNS.to_vec());
        let zone = df
            .column("gri_zone")
            .expect("col")
            .str()
            .expect("str")
            .get(0);
        assert_eq!(zone, Some("A"));
        assert_eq!(df.column("mean_mg_dl").expect("col").null_count(), 1);
    }
}
