//! Column builders: typed polars columns written one row at a time, positionally over a fixed
//! list of [`ColumnDef`]s ([`Cols`]), or discovered from the data with pandas-like typing
//! ([`DynCols`]: compat rows, flattened bodies of types not modelled).

use std::collections::HashMap;

use polars::prelude::*;

use super::columns::{ColumnDef, Dtype, LOCAL, UTC};
use crate::omh::compat::{CompatRow, CompatValue};
use crate::omh::time::{iso_naive_us, iso_utc_us};
use crate::omh::DecodedObservation;

enum Buf {
    I64(PrimitiveChunkedBuilder<Int64Type>),
    I32(PrimitiveChunkedBuilder<Int32Type>),
    F64(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    Str(StringChunkedBuilder),
}

impl Buf {
    fn new(d: &ColumnDef, cap: usize) -> Buf {
        let name = PlSmallStr::from(d.name.as_ref());
        match d.dtype {
            Dtype::Int64 | Dtype::DatetimeUtc | Dtype::DatetimeLocal => {
                Buf::I64(PrimitiveChunkedBuilder::new(name, cap))
            }
            Dtype::Int32 => Buf::I32(PrimitiveChunkedBuilder::new(name, cap)),
            Dtype::Float64 => Buf::F64(PrimitiveChunkedBuilder::new(name, cap)),
            Dtype::Boolean => Buf::Bool(BooleanChunkedBuilder::new(name, cap)),
            Dtype::String | Dtype::Categorical => Buf::Str(StringChunkedBuilder::new(name, cap)),
        }
    }

    fn finish(self, d: &ColumnDef) -> PolarsResult<Column> {
        let s = match self {
            Buf::I64(b) => b.finish().into_series(),
            Buf::I32(b) => b.finish().into_series(),
            Buf::F64(b) => b.finish().into_series(),
            Buf::Bool(b) => b.finish().into_series(),
            Buf::Str(b) => b.finish().into_series(),
        };
        let s = match d.dtype {
            Dtype::DatetimeUtc | Dtype::DatetimeLocal | Dtype::Categorical => {
                s.cast(&d.dtype.polars())?
            }
            _ => s,
        };
        Ok(s.into_column())
    }
}

/// Positional row writer over a fixed list of columns.
pub(super) struct Cols {
    pub(super) defs: Vec<ColumnDef>,
    bufs: Vec<Buf>,
    i: usize,
    pub(super) rows: usize,
}

/// A writer of the next cell for one kind of column buffer.
macro_rules! cell_writer {
    ($($name:ident: $ty:ty => $variant:ident),* $(,)?) => {$(
        #[inline]
        pub(super) fn $name(&mut self, v: Option<$ty>) {
            match self.next() {
                Buf::$variant(b) => b.append_option(v),
                _ => debug_assert!(false, "column type mismatch"),
            }
        }
    )*};
}

impl Cols {
    pub(super) fn new(defs: Vec<ColumnDef>, cap: usize) -> Cols {
        let bufs = defs.iter().map(|d| Buf::new(d, cap)).collect();
        Cols {
            defs,
            bufs,
            i: 0,
            rows: 0,
        }
    }
    #[inline]
    fn next(&mut self) -> &mut Buf {
        let i = self.i;
        self.i += 1;
        &mut self.bufs[i]
    }
    cell_writer!(i64: i64 => I64, i32: i32 => I32, f64: f64 => F64, bool: bool => Bool, str: &str => Str);

    /// `observation_id`, `patient_id`.
    pub(super) fn ids(&mut self, o: &DecodedObservation) {
        self.i64(Some(o.id as i64));
        self.i64(Some(o.patient_id as i64));
    }

    /// The time columns (start, end, local start and end, offset; the duration for intervals).
    pub(super) fn times(&mut self, o: &DecodedObservation, with_duration: bool) {
        let t = &o.time;
        self.i64(Some(t.start_utc));
        self.i64(t.end_utc);
        self.i64(Some(t.start_local));
        self.i64(t.end_local);
        self.i32(t.utc_offset_min);
        if with_duration {
            self.f64(t.duration_min());
        }
    }

    /// The tail columns: header facts, code, server write time.
    pub(super) fn header_tail(&mut self, o: &DecodedObservation) {
        let h = &o.header;
        self.str(h.modality.as_deref());
        self.str(h.source_name.as_deref());
        // the device, else the source that produced the data (as the app shows it)
        self.str(h.device.as_deref().or(h.source_name.as_deref()));
        self.str(h.uuid.as_deref());
        self.str(Some(&o.code));
        self.i64(o.last_updated_utc);
    }

    #[inline]
    pub(super) fn end_row(&mut self) {
        debug_assert_eq!(self.i, self.bufs.len(), "row of {} columns", self.i);
        self.i = 0;
        self.rows += 1;
    }
    pub(super) fn finish(self) -> PolarsResult<(usize, Vec<Column>)> {
        let cols = self
            .bufs
            .into_iter()
            .zip(&self.defs)
            .map(|(b, d)| b.finish(d))
            .collect::<PolarsResult<Vec<_>>>()?;
        Ok((self.rows, cols))
    }
}

/// Columns discovered from the data (compat rows, flattened bodies): values typed like
/// pandas would type them.
#[derive(Default)]
pub(super) struct DynCols {
    names: Vec<String>,
    index: HashMap<String, usize>,
    cols: Vec<Vec<CompatValue>>,
    /// Per row: the fields beyond [`DYN_COLUMNS_MAX`] as one JSON object (text).
    overflow: Vec<CompatValue>,
    pub(super) rows: usize,
}

/// Distinct body columns a table of a type not modelled gets; fields with further names go,
/// per row, into [`OVERFLOW_COLUMN`] as one JSON object. Without a cap, data whose every row
/// has keys of its own would grow memory with rows × keys (quadratically).
pub const DYN_COLUMNS_MAX: usize = 256;
/// The column of the fields beyond [`DYN_COLUMNS_MAX`].
pub const OVERFLOW_COLUMN: &str = "other_fields";

impl DynCols {
    pub(super) fn push_row(&mut self, row: CompatRow) {
        let mut extra = serde_json::Map::new();
        for (k, v) in row {
            let idx = match self.index.get(&k) {
                Some(&i) => i,
                None if self.names.len() >= DYN_COLUMNS_MAX => {
                    let text = py_repr(&v).map_or(serde_json::Value::Null, serde_json::Value::from);
                    extra.insert(k, text);
                    continue;
                }
                None => {
                    let i = self.names.len();
                    self.index.insert(k.clone(), i);
                    self.names.push(k);
                    self.cols.push(vec![CompatValue::Null; self.rows]);
                    i
                }
            };
            let c = &mut self.cols[idx];
            if c.len() == self.rows {
                c.push(v);
            } else if let Some(last) = c.last_mut() {
                // same key twice in a row cannot happen (rows are de-duplicated); keep the last
                *last = v;
            }
        }
        if !extra.is_empty() || !self.overflow.is_empty() {
            self.overflow.resize(self.rows, CompatValue::Null);
            self.overflow.push(if extra.is_empty() {
                CompatValue::Null
            } else {
                CompatValue::Str(serde_json::Value::Object(extra).to_string())
            });
        }
        self.rows += 1;
        for c in &mut self.cols {
            if c.len() < self.rows {
                c.push(CompatValue::Null);
            }
        }
    }

    pub(super) fn finish(self) -> PolarsResult<Vec<Column>> {
        let mut out: Vec<Column> = self
            .names
            .into_iter()
            .zip(self.cols)
            .map(|(name, values)| dyn_column(&name, values))
            .collect::<PolarsResult<_>>()?;
        if !self.overflow.is_empty() {
            let mut overflow = self.overflow;
            overflow.resize(self.rows, CompatValue::Null);
            let mut name = OVERFLOW_COLUMN.to_string();
            while self.index.contains_key(&name) {
                name.push('_');
            }
            out.push(dyn_column(&name, overflow)?);
        }
        Ok(out)
    }
}

pub(super) fn py_repr(v: &CompatValue) -> Option<String> {
    match v {
        CompatValue::Null => None,
        CompatValue::Bool(b) => Some(if *b { "True" } else { "False" }.into()),
        CompatValue::Int(i) => Some(i.to_string()),
        CompatValue::Float(f) => Some(f.to_string()),
        CompatValue::Str(s) => Some(s.clone()),
        CompatValue::TimeUtc(t) => Some(iso_utc_us(*t)),
        CompatValue::TimeNaive(t) => Some(iso_naive_us(*t)),
    }
}

/// A column from dynamically typed values: all ints → Int64, ints and floats → Float64, bools →
/// Boolean, UTC / naive timestamps → Datetime, strings or a mix → String.
fn dyn_column(name: &str, values: Vec<CompatValue>) -> PolarsResult<Column> {
    let (mut int, mut float, mut boolean, mut string, mut utc, mut naive) =
        (false, false, false, false, false, false);
    for v in &values {
        match v {
            CompatValue::Null => {}
            CompatValue::Bool(_) => boolean = true,
            CompatValue::Int(_) => int = true,
            CompatValue::Float(_) => float = true,
            CompatValue::Str(_) => string = true,
            CompatValue::TimeUtc(_) => utc = true,
            CompatValue::TimeNaive(_) => naive = true,
        }
    }
    let kinds = [int || float, boolean, string, utc, naive]
        .iter()
        .filter(|&&b| b)
        .count();
    let name = PlSmallStr::from(name);
    let s = if kinds == 1 && (int || float) {
        if float {
            let v: Vec<Option<f64>> = values
                .iter()
                .map(|v| match v {
                    CompatValue::Int(i) => Some(*i as f64),
                    CompatValue::Float(f) => Some(*f),
                    _ => None,
                })
                .collect();
            Series::new(name, v)
        } else {
            let v: Vec<Option<i64>> = values
                .iter()
                .map(|v| match v {
                    CompatValue::Int(i) => Some(*i),
                    _ => None,
                })
                .collect();
            Series::new(name, v)
        }
    } else if kinds == 1 && boolean {
        let v: Vec<Option<bool>> = values
            .iter()
            .map(|v| match v {
                CompatValue::Bool(b) => Some(*b),
                _ => None,
            })
            .collect();
        Series::new(name, v)
    } else if kinds == 1 && (utc || naive) {
        let v: Vec<Option<i64>> = values
            .iter()
            .map(|v| match v {
                CompatValue::TimeUtc(t) | CompatValue::TimeNaive(t) => Some(*t),
                _ => None,
            })
            .collect();
        let dt = if utc { UTC } else { LOCAL };
        Series::new(name, v).cast(&dt.polars())?
    } else {
        let v: Vec<Option<String>> = values.iter().map(py_repr).collect();
        Series::new(name, v)
    };
    Ok(s.into_column())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_with_keys_of_their_own_cannot_grow_the_table_without_bound() {
        let mut d = DynCols::default();
        let rows = 3 * DYN_COLUMNS_MAX;
        for i in 0..rows {
            let mut row = CompatRow::new();
            row.push(("shared".into(), CompatValue::Int(i as i64)));
            row.push((format!("unique_{i}"), CompatValue::Str(format!("v{i}"))));
            d.push_row(row);
        }
        let cols = d.finish().expect("columns");
        assert_eq!(
            cols.len(),
            DYN_COLUMNS_MAX + 1,
            "capped, plus the overflow column"
        );
        assert!(cols.iter().all(|c| c.len() == rows));
        let over = cols.last().expect("overflow");
        assert_eq!(over.name().as_str(), OVERFLOW_COLUMN);
        let last = over
            .str()
            .expect("text")
            .get(rows - 1)
            .expect("the last row overflowed");
        let v: serde_json::Value = serde_json::from_str(last).expect("JSON object");
        assert_eq!(v[format!("unique_{}", rows - 1)], format!("v{}", rows - 1));
        assert_eq!(
            over.null_count(),
            DYN_COLUMNS_MAX - 1,
            "rows whose keys all had a column"
        );
    }
}
