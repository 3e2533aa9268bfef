//! Merging a table's part files into its final file: the union schema ([`unify`], [`align`]),
//! row groups streamed to Parquet or CSV, and the early merge of a table whose units are all in.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::files::Written;
use super::files::{formula_safe, needs_formula_guard};
use super::state::PartRecord;
use super::store::Store;
use super::{Export, ExportError, Format, ManifestFile};
use crate::frame::{LongBuilder, ViewBuilder};
use crate::omh;

/// Rows per row group (and per CSV batch) in the final files.
pub(super) const ROW_GROUP_ROWS: usize = 65_536;

/// A table's view and its parts in unit order.
pub(super) type TableParts = (Option<omh::DataType>, Vec<PartRecord>);

/// A table's final file, merged from its parts.
pub(super) struct Merged {
    schema: Schema,
    rows: u64,
    observations: u64,
    written: Written,
}

/// A table's final file written ahead of `finish`, valid while its parts stay the same.
pub(super) struct EarlyMerge {
    parts: Vec<PartRecord>,
    path: PathBuf,
    merged: Merged,
}

/// A dtype both can be cast to: equal → itself; two numeric → Float64; otherwise String.
fn unify(a: &DataType, b: &DataType) -> DataType {
    if a == b {
        return a.clone();
    }
    if a.is_null() {
        return b.clone();
    }
    if b.is_null() {
        return a.clone();
    }
    if a.is_primitive_numeric() && b.is_primitive_numeric() {
        return DataType::Float64;
    }
    if a.is_categorical() && b.is_categorical() {
        return a.clone();
    }
    DataType::String
}

/// `df` with exactly the columns of `schema`, in its order (missing ones all-null).
pub(super) fn align(df: &DataFrame, schema: &Schema) -> PolarsResult<DataFrame> {
    let height = df.height();
    let cols = schema
        .iter()
        .map(|(name, dt)| match df.column(name) {
            Ok(c) if c.dtype() == dt => Ok(c.clone()),
            Ok(c) => c.cast(dt),
            Err(_) => Ok(Column::full_null(name.clone(), height, dt)),
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(height, cols)
}

pub(super) fn sort_df(df: DataFrame, view: Option<&omh::DataType>) -> PolarsResult<DataFrame> {
    let time = match view {
        Some(v) if v.is_interval_view() => "start_utc",
        _ => "time_utc",
    };
    df.sort(
        [time, "observation_id"],
        SortMultipleOptions::default().with_maintain_order(true),
    )
}

/// The columns of a table merged from `parts` (in `parts_dir`): every part's, in first-seen
/// order, each with a dtype all parts can be cast to; a table without parts gets its columns.
pub(super) fn union_schema(
    store: &Store,
    parts_dir: &Path,
    view: Option<&omh::DataType>,
    parts: &[PartRecord],
) -> Result<Schema, ExportError> {
    let mut schema = Schema::default();
    for p in parts {
        let s = store.read_parquet_schema(&parts_dir.join(&p.file))?;
        for (name, dt) in s.iter() {
            let merged = match schema.get(name) {
                Some(old) => unify(old, dt),
                None => dt.clone(),
            };
            schema.with_column(name.clone(), merged);
        }
    }
    if parts.is_empty() {
        let df = match view {
            Some(v) => ViewBuilder::new(v.clone()).finish()?,
            None => LongBuilder::new().finish()?,
        };
        schema = df.schema().as_ref().clone();
    }
    Ok(schema)
}

impl Export {
    /// Table → (view, its parts in unit order): what `finish` merges.
    pub(super) fn table_parts(&self) -> BTreeMap<String, TableParts> {
        let mut tables: BTreeMap<String, TableParts> = BTreeMap::new();
        for r in self.sorted_units() {
            for p in &r.parts {
                tables
                    .entry(p.table.clone())
                    .or_insert_with(|| (p.view.clone(), Vec::new()))
                    .1
                    .push(p.clone());
            }
        }
        tables
    }

    /// Merges `table`'s parts into its final file now, while other units are still being
    /// fetched, so `finish` only has to move it into place. Call it once no unit still to come
    /// can add to the table; should one do so anyway, `finish` sees the parts changed and merges
    /// again. The file stays inside `.jhe-partial` until `finish`.
    pub fn merge_early(&mut self, table: &str) -> Result<(), ExportError> {
        if self.spec.layout == super::Layout::Partitioned {
            // its files are written per participant, in `finish`
            return Ok(());
        }
        let Some((view, parts)) = self.table_parts().remove(table) else {
            return Ok(());
        };
        let path = self.final_path(&self.final_tmp_dir()?, table);
        let merged = self.merge_table(view.as_ref(), &parts, &path)?;
        self.early.insert(
            table.to_string(),
            EarlyMerge {
                parts,
                path,
                merged,
            },
        );
        Ok(())
    }

    fn final_path(&self, final_tmp: &Path, table: &str) -> PathBuf {
        final_tmp.join(format!("{table}.{}", self.spec.format.extension()))
    }

    /// `table`'s final file in `final_tmp` (the early merge's, if its parts are still the same),
    /// its manifest entry and its schema.
    pub(super) fn stage_table(
        &mut self,
        final_tmp: &Path,
        table: &str,
        view: Option<&omh::DataType>,
        parts: &[PartRecord],
    ) -> Result<(PathBuf, ManifestFile, Schema), ExportError> {
        let path = self.final_path(final_tmp, table);
        let m = match self.early.remove(table) {
            Some(e) if e.parts == parts && e.path == path && self.store.is_file(&e.path) => {
                e.merged
            }
            _ => self.merge_table(view, parts, &path)?,
        };
        let ext = self.spec.format.extension();
        let file = ManifestFile {
            name: format!("{table}.{ext}"),
            role: "data".into(),
            table: Some(table.to_string()),
            format: ext.into(),
            rows: m.rows,
            observations: m.observations,
            bytes: m.written.bytes,
            sha256: m.written.sha256,
        };
        Ok((path, file, m.schema))
    }

    /// Streams the parts of one table into `dest` (atomically).
    fn merge_table(
        &mut self,
        view: Option<&omh::DataType>,
        parts: &[PartRecord],
        dest: &Path,
    ) -> Result<Merged, ExportError> {
        let schema = union_schema(&self.store, &self.parts_dir, view, parts)?;
        let format = self.spec.format;
        let parts_dir = self.parts_dir.clone();
        let tmp = self.next_tmp("final");
        let mut rows = 0u64;
        let mut observations = 0u64;
        let store = self.store.clone();
        let written = self.store.write_atomic(&self.tmp_dir, &tmp, dest, |w| {
            let mut sink = match format {
                Format::Parquet => Sink::Parquet(Box::new(
                    ParquetWriter::new(w)
                        .with_compression(ParquetCompression::Zstd(None))
                        .batched(&schema)?,
                )),
                Format::Csv | Format::ExcelCsv => {
                    let excel = format == Format::ExcelCsv;
                    if excel {
                        w.write_all(super::UTF8_BOM)
                            .map_err(|source| ExportError::Io {
                                op: "write",
                                path: dest.to_path_buf(),
                                source,
                            })?;
                    }
                    Sink::Csv(
                        CsvWriter::new(w)
                            .include_header(true)
                            .with_datetime_format(None)
                            .batched(&csv_schema(&schema, excel))?,
                        excel,
                    )
                }
            };
            let mut groups = RowGroups::default();
            let mut write = |d: &DataFrame| sink.write(d);
            for p in parts {
                let df = store.read_parquet(&parts_dir.join(&p.file))?;
                let df = align(&df, &schema)?;
                rows += df.height() as u64;
                observations += p.observations;
                groups.push(df, &mut write)?;
            }
            groups.flush(&mut write)?;
            if parts.is_empty() && format.is_csv() {
                // the CSV writer writes its header with the first batch
                sink.write(&DataFrame::empty_with_schema(&schema))?;
            }
            sink.finish()?;
            Ok(())
        })?;
        Ok(Merged {
            schema,
            rows,
            observations,
            written,
        })
    }
}

/// RFC 3339 for UTC instants in CSV files (local wall-clock times keep polars' ISO default,
/// `2026-11-25T21:00:00.000000`, without an offset).
const CSV_UTC_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.6fZ";

/// Every time (UTC and local) in CSV for spreadsheets, which read it as a date cell.
const EXCEL_FORMAT: &str = "%Y-%m-%d %H:%M:%S";

fn is_utc_datetime(dt: &DataType) -> bool {
    matches!(dt, DataType::Datetime(_, Some(_)))
}

fn is_datetime(dt: &DataType) -> bool {
    matches!(dt, DataType::Datetime(..))
}

fn is_text(dt: &DataType) -> bool {
    matches!(
        dt,
        DataType::String | DataType::Categorical(..) | DataType::Enum(..)
    )
}

/// A column name as written in a CSV header: neutralised like a text cell (names of "other"
/// types come from the server's OMH keys).
fn csv_name(name: &PlSmallStr) -> PlSmallStr {
    PlSmallStr::from(formula_safe(name.as_str()).as_ref())
}

fn csv_schema(schema: &Schema, excel: bool) -> Schema {
    schema
        .iter()
        .map(|(n, dt)| {
            let dt = if is_utc_datetime(dt) || is_text(dt) || (excel && is_datetime(dt)) {
                DataType::String
            } else {
                dt.clone()
            };
            (csv_name(n), dt)
        })
        .collect()
}

/// Text with formula-starting cells neutralised (see [`formula_safe`]); untouched when none is.
fn guard_text(s: &Series) -> PolarsResult<Series> {
    let s = s.cast(&DataType::String)?;
    let ca = s.str()?;
    if !ca.iter().flatten().any(needs_formula_guard) {
        return Ok(s);
    }
    let out = StringChunked::from_iter_options(
        s.name().clone(),
        ca.iter().map(|v| v.map(|v| formula_safe(v).into_owned())),
    );
    Ok(out.into_series())
}

/// UTC datetime columns formatted as `…Z` strings (for spreadsheets, every datetime column as
/// [`EXCEL_FORMAT`]); text cells and names safe for spreadsheets.
fn csv_ready(df: &DataFrame, excel: bool) -> PolarsResult<DataFrame> {
    let cols = df
        .columns()
        .iter()
        .map(|c| {
            let s = c.as_materialized_series();
            let s = if excel && is_datetime(c.dtype()) {
                s.datetime()?.to_string(EXCEL_FORMAT)?.into_series()
            } else if is_utc_datetime(c.dtype()) {
                s.datetime()?.to_string(CSV_UTC_FORMAT)?.into_series()
            } else if is_text(c.dtype()) {
                guard_text(s)?
            } else {
                s.clone()
            };
            Ok(s.with_name(csv_name(c.name())).into_column())
        })
        .collect::<PolarsResult<Vec<_>>>()?;
    DataFrame::new(df.height(), cols)
}

/// The writer of a final data file.
enum Sink<'a, W: Write> {
    Parquet(Box<polars::io::parquet::write::BatchedWriter<&'a mut W>>),
    /// The writer, and whether it writes for spreadsheets.
    Csv(polars::io::csv::write::BatchedWriter<&'a mut W>, bool),
}

impl<W: Write> Sink<'_, W> {
    fn write(&mut self, df: &DataFrame) -> PolarsResult<()> {
        match self {
            Sink::Parquet(b) => b.write_batch(df),
            Sink::Csv(b, excel) => b.write_batch(&csv_ready(df, *excel)?),
        }
    }
    fn finish(self) -> PolarsResult<()> {
        match self {
            Sink::Parquet(b) => b.finish().map(|_| ()),
            Sink::Csv(mut b, _) => b.finish(),
        }
    }
}

/// Frames stacked into row groups of about [`ROW_GROUP_ROWS`] rows before they are written
/// (fewer, larger row groups read faster than one per part).
#[derive(Default)]
pub(super) struct RowGroups(Option<DataFrame>);

impl RowGroups {
    /// Adds `df`; a full row group goes out through `write`.
    pub(super) fn push(
        &mut self,
        df: DataFrame,
        write: &mut impl FnMut(&DataFrame) -> PolarsResult<()>,
    ) -> PolarsResult<()> {
        match &mut self.0 {
            Some(acc) => {
                acc.vstack_mut_owned(df)?;
            }
            None => self.0 = Some(df),
        }
        if self
            .0
            .as_ref()
            .is_some_and(|d| d.height() >= ROW_GROUP_ROWS)
        {
            self.flush(write)?;
        }
        Ok(())
    }

    /// Writes what is left.
    pub(super) fn flush(
        &mut self,
        write: &mut impl FnMut(&DataFrame) -> PolarsResult<()>,
    ) -> PolarsResult<()> {
        if let Some(mut d) = self.0.take() {
            d.rechunk_mut();
            write(&d)?;
        }
        Ok(())
    }
}
