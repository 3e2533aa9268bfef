//! The metric tables of an export (`metrics_cgm`, `metrics_blood_pressure`, `metrics_steps`,
//! `metrics_spo2`: one row per participant, see [`crate::analysis::tables`]), computed from the
//! export's own data files as they are about to be published — read back by [`super::read`]
//! ([`read_back`]),
//! so the numbers are those of the files beside them — over the export's days, implausible
//! readings left out and counted.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::{io_err, Export, ExportError, Format, ManifestFile, StagedWithDict};
use crate::analysis::tables::metric_tables_by;
use crate::analysis::{dictionary, Period};
use crate::chart::Obs;
use crate::frame::DictEntry;

/// The observations of the staged data files `data`, read back by [`super::read`] (once, for
/// the metric tables and `participants.csv` alike).
pub(super) fn read_back(store: &super::Store, data: &[PathBuf]) -> Result<Vec<Obs>, ExportError> {
    let mut obs = Vec::new();
    for p in data {
        let f = super::read::read_file_in(store, p).map_err(|e| ExportError::ReadBack {
            path: p.clone(),
            message: e.to_string(),
        })?;
        obs.extend(f.obs);
    }
    Ok(obs)
}

impl Export {
    /// Writes the metric tables of `obs` (the export's data as read back, see [`read_back`])
    /// into `final_tmp`; returns each with its dictionary entries.
    pub(super) fn stage_metrics(
        &mut self,
        final_tmp: &Path,
        obs: &[Obs],
        shifts: Option<&BTreeMap<u64, i64>>,
    ) -> Result<Vec<StagedWithDict>, ExportError> {
        // A de-identified participant's days are the export's days shifted as their data was.
        let period = self.period();
        let period_of = |pid: u64| match shifts.and_then(|m| m.get(&pid)) {
            Some(&s) => Period {
                start_us: period.start_us.map(|t| t + s),
                end_us: period.end_us.map(|t| t + s),
            },
            None => period,
        };
        let tables = metric_tables_by(obs, &period_of)?;
        let mut out = Vec::new();
        for (name, mut df) in tables {
            let ext = self.spec.format.extension();
            let file = format!("{name}.{ext}");
            let path = final_tmp.join(&file);
            let tmp = self.next_tmp("metrics");
            let format = self.spec.format;
            let w = self.store.write_atomic(&self.tmp_dir, &tmp, &path, |w| {
                match format {
                    Format::Parquet => {
                        ParquetWriter::new(&mut *w).finish(&mut df)?;
                    }
                    Format::Csv | Format::ExcelCsv => {
                        if format.with_bom() {
                            w.write_all(super::UTF8_BOM)
                                .map_err(io_err("write", &path))?;
                        }
                        CsvWriter::new(&mut *w)
                            .include_header(true)
                            .finish(&mut df)?;
                    }
                }
                Ok(())
            })?;
            let dict = df
                .get_column_names()
                .iter()
                .map(|c| {
                    let d = dictionary::metric_def(name, c);
                    DictEntry {
                        table: name.to_string(),
                        column: c.to_string(),
                        dtype: df
                            .column(c)
                            .map_or("string", |c| crate::frame::Dtype::of(c.dtype()).label())
                            .into(),
                        unit: d.map_or("", |d| d.unit).into(),
                        description: d.map_or("", |d| d.definition).into(),
                    }
                })
                .collect();
            let entry = ManifestFile {
                name: file,
                role: "metrics".into(),
                table: Some(name.to_string()),
                format: ext.into(),
                rows: df.height() as u64,
                observations: 0,
                bytes: w.bytes,
                sha256: w.sha256,
            };
            out.push(((path, entry), dict));
        }
        Ok(out)
    }

    /// The export's days as a period of UTC instants (`date_to` inclusive), before any shift.
    fn period(&self) -> Period {
        let day = |d: &Option<String>| {
            d.as_deref()
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc().timestamp_micros())
        };
        Period {
            start_us: day(&self.spec.date_from),
            end_us: day(&self.spec.date_to).map(|t| t + 86_400_000_000),
        }
    }
}
