//! The per-type tables ("clear views"): one row per observation, the columns of the type's
//! spec ([`crate::omh::types`]) between the fixed id/time and header columns; for a type not
//! modelled, the flattened OMH body after the fixed columns.

use std::collections::BTreeMap;

use polars::prelude::*;

use super::build::{Cols, DynCols};
use super::columns::{view_columns, ColumnDef};
use crate::omh::compat::{flatten_into, CompatRow};
use crate::omh::types::{Src, ValueColumn};
use crate::omh::{header_and_body, DataType, DecodedObservation};

/// Builds one table of [`view_frames`], one observation at a time.
pub struct ViewBuilder {
    view: DataType,
    columns: &'static [ValueColumn],
    cols: Cols,
    dynamic: Option<DynCols>,
}

impl ViewBuilder {
    pub fn new(view: DataType) -> ViewBuilder {
        ViewBuilder::with_capacity(view, 0)
    }

    pub fn with_capacity(view: DataType, cap: usize) -> ViewBuilder {
        let dynamic = view.spec().is_none().then(DynCols::default);
        ViewBuilder {
            cols: Cols::new(view_columns(&view), cap),
            columns: view.columns(),
            view,
            dynamic,
        }
    }

    pub fn view(&self) -> &DataType {
        &self.view
    }

    pub fn len(&self) -> usize {
        self.cols.rows
    }

    pub fn is_empty(&self) -> bool {
        self.cols.rows == 0
    }

    /// Appends one observation (of this view: others are ignored and `false` returned).
    pub fn push(&mut self, o: &DecodedObservation) -> bool {
        if o.view != self.view {
            return false;
        }
        let c = &mut self.cols;
        c.ids(o);
        c.times(o, self.view.is_interval_view());
        let v = &o.values;
        for col in self.columns {
            match col.src {
                Src::Value(i) => c.f64(v.quantity(i).and_then(|q| q.value)),
                Src::ValueOrOriginal(i) => {
                    c.f64(v.quantity(i).and_then(|q| q.value.or(q.original_value)))
                }
                Src::OriginalValue(i) => c.f64(v.quantity(i).and_then(|q| q.original_value)),
                Src::OriginalUnit(i) => {
                    c.str(v.quantity(i).and_then(|q| q.original_unit.as_deref()))
                }
                Src::Text(i) => c.str(v.text(i)),
                Src::Number(i) => c.f64(v.number(i)),
                Src::Count(i) => c.i64(v.number(i).map(|n| n as i64)),
                Src::Flag(i) => c.bool(v.flag(i)),
                Src::Context(k) => c.str(o.body_str(k)),
            }
        }
        c.header_tail(o);
        c.end_row();
        if let Some(d) = &mut self.dynamic {
            d.push_row(flat_body(o, &self.cols.defs));
        }
        true
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let (rows, mut cols) = self.cols.finish()?;
        if let Some(d) = self.dynamic {
            cols.extend(d.finish()?);
        }
        DataFrame::new(rows, cols)
    }
}

/// The OMH body flattened like the compat rows, without the effective time frame (already in
/// the time columns).
pub(super) fn flat_body_keys(o: &DecodedObservation) -> CompatRow {
    let mut row = CompatRow::new();
    let omh = o.omh_value();
    for (k, v) in header_and_body(&omh).1 {
        if k != "effective_time_frame" {
            flatten_into(k, v, &mut row);
        }
    }
    row
}

/// [`flat_body_keys`], where keys that collide with a fixed column get a `body_` prefix.
fn flat_body(o: &DecodedObservation, fixed: &[ColumnDef]) -> CompatRow {
    let mut row = flat_body_keys(o);
    for (k, _) in row.iter_mut() {
        if fixed.iter().any(|d| d.name == k.as_str()) {
            *k = format!("body_{k}");
        }
    }
    row
}

/// One clear table per view present in `observations` (rows in input order).
pub fn view_frames(
    observations: &[DecodedObservation],
) -> PolarsResult<BTreeMap<DataType, DataFrame>> {
    let mut builders: BTreeMap<DataType, ViewBuilder> = BTreeMap::new();
    for o in observations {
        builders
            .entry(o.view.clone())
            .or_insert_with(|| ViewBuilder::new(o.view.clone()))
            .push(o);
    }
    builders
        .into_iter()
        .map(|(k, b)| Ok((k, b.finish()?)))
        .collect()
}
