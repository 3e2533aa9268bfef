//! Typed polars DataFrames from decoded observations:
//!
//! * [`compat_frame`]: jupyterhealth-client's `list_observations_df` columns (see
//!   [`crate::omh::compat`]);
//! * [`view_frames`]: one clear table per type (blood glucose, blood pressure, …) with
//!   descriptive column names and normalised units, plus one generic table per code that is not
//!   modelled;
//! * [`long_frame`]: one long table, one row per measured quantity.
//!
//! Column dtypes: UTC instants are `Datetime(Microseconds, "UTC")`, participant-local wall
//! clocks naive `Datetime(Microseconds)`, ids `Int64`, measurements `Float64`, codes, units,
//! modality and other small vocabularies `Categorical`. Every column of every table has a
//! dictionary entry ([`ColumnDef`], [`dictionary`]).
//!
//! For streaming, [`ViewBuilder`] and [`LongBuilder`] take one observation at a time.
//!
//! Modules: [`columns`] (dtypes, fixed columns and their [`names`], the dictionary), `build`
//! (column builders), `view` (per-type tables), `long` (the long table). The per-type columns
//! come from the data type's spec ([`crate::omh::types`]).

mod build;
pub mod columns;
mod long;
mod view;

use polars::prelude::*;

pub use self::columns::{
    col, dictionary, long_columns, names, view_columns, ColumnDef, DictEntry, Dtype,
};
pub use self::long::{long_frame, LongBuilder};
pub use self::view::{view_frames, ViewBuilder};

use self::build::DynCols;
use crate::omh::compat::compat_row;
use crate::omh::DecodedObservation;

/// jupyterhealth-client compatible DataFrame: the columns of `list_observations_df` (union of
/// the rows' keys in first-seen order), one row per observation in input order.
pub fn compat_frame(observations: &[DecodedObservation]) -> PolarsResult<DataFrame> {
    let mut d = DynCols::default();
    for o in observations {
        d.push_row(compat_row(o));
    }
    let rows = d.rows;
    DataFrame::new(rows, d.finish()?)
}
