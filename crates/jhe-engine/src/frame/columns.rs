//! The columns of the tables: dtypes, the fixed columns every table shares (ids, times, header
//! facts) and their names ([`names`], shared by the writer and the export reader), the columns
//! of a per-type table ([`view_columns`], from the type's spec) and of the long table
//! ([`long_columns`]), and the data dictionary built from them.

use std::collections::HashMap;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

pub use crate::omh::types::{col, ColumnDef, Dtype};
use crate::omh::DataType;
use names::*;

/// Column names shared by the tables' writer ([`crate::frame`]) and the export reader
/// ([`crate::export::read`]).
pub mod names {
    pub const OBSERVATION_ID: &str = "observation_id";
    pub const PATIENT_ID: &str = "patient_id";
    pub const TIME_UTC: &str = "time_utc";
    pub const END_UTC: &str = "end_utc";
    pub const TIME_LOCAL: &str = "time_local";
    pub const END_LOCAL: &str = "end_local";
    pub const UTC_OFFSET_MINUTES: &str = "utc_offset_minutes";
    pub const START_UTC: &str = "start_utc";
    pub const START_LOCAL: &str = "start_local";
    pub const DURATION_MIN: &str = "duration_min";
    pub const MODALITY: &str = "modality";
    pub const SOURCE_NAME: &str = "source_name";
    pub const DEVICE: &str = "device";
    pub const UUID: &str = "uuid";
    pub const CODE: &str = "code";
    pub const LAST_UPDATED_UTC: &str = "last_updated_utc";
    pub const TABLE: &str = "table";
    pub const MEASURE: &str = "measure";
    pub const VALUE: &str = "value";
    pub const UNIT: &str = "unit";
    pub const ORIGINAL_VALUE: &str = "original_value";
    pub const ORIGINAL_UNIT: &str = "original_unit";
    pub const VALUE_TEXT: &str = "value_text";
}

impl Dtype {
    pub fn polars(self) -> polars::prelude::DataType {
        use polars::prelude::DataType as P;
        match self {
            Dtype::Int64 => P::Int64,
            Dtype::Int32 => P::Int32,
            Dtype::Float64 => P::Float64,
            Dtype::Boolean => P::Boolean,
            Dtype::String => P::String,
            Dtype::Categorical => P::from_categories(Categories::global()),
            Dtype::DatetimeUtc => P::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            Dtype::DatetimeLocal => P::Datetime(TimeUnit::Microseconds, None),
        }
    }

    /// The dictionary dtype of a polars dtype (for generic columns).
    pub fn of(dt: &polars::prelude::DataType) -> Dtype {
        use polars::prelude::DataType as P;
        match dt {
            P::Int64 | P::UInt64 | P::Int16 | P::UInt32 => Dtype::Int64,
            P::Int32 => Dtype::Int32,
            P::Float64 | P::Float32 => Dtype::Float64,
            P::Boolean => Dtype::Boolean,
            P::Categorical(_, _) => Dtype::Categorical,
            P::Datetime(_, Some(_)) => Dtype::DatetimeUtc,
            P::Datetime(_, None) => Dtype::DatetimeLocal,
            _ => Dtype::String,
        }
    }
}

pub(crate) const I64: Dtype = Dtype::Int64;
const I32: Dtype = Dtype::Int32;
const F64: Dtype = Dtype::Float64;
const STR: Dtype = Dtype::String;
const CAT: Dtype = Dtype::Categorical;
pub(crate) const UTC: Dtype = Dtype::DatetimeUtc;
pub(crate) const LOCAL: Dtype = Dtype::DatetimeLocal;

pub(crate) const ID_COLS: [ColumnDef; 2] = [
    col(
        OBSERVATION_ID,
        I64,
        "",
        "JHE observation id (FHIR Observation.id).",
    ),
    col(
        PATIENT_ID,
        I64,
        "",
        "JHE patient id (FHIR Patient id; Admin API subjectPatientId).",
    ),
];

pub(crate) const POINT_TIME_COLS: [ColumnDef; 5] = [
    col(
        TIME_UTC,
        UTC,
        "UTC",
        "When the measurement was taken (OMH effective_time_frame), in UTC. For a measurement \
         over an interval (e.g. a nightly average) the start of the interval. A time written \
         without a UTC offset is read as UTC, as the JHE server does.",
    ),
    col(
        END_UTC,
        UTC,
        "UTC",
        "End of the interval for a measurement over an interval; empty for a single instant.",
    ),
    col(
        TIME_LOCAL,
        LOCAL,
        "local time",
        "Participant's local wall-clock time at time_utc: time_utc shifted by the UTC offset \
         written in the data (no time zone attached). Equal to time_utc when the data had no \
         offset.",
    ),
    col(
        END_LOCAL,
        LOCAL,
        "local time",
        "Participant's local wall-clock time at end_utc (with the offset written with the end).",
    ),
    col(
        UTC_OFFSET_MINUTES,
        I32,
        "min",
        "UTC offset written with the time, in minutes east of UTC (e.g. -480 for UTC-08:00, 330 \
         for UTC+05:30); empty when the data carried no offset.",
    ),
];

pub(crate) const INTERVAL_TIME_COLS: [ColumnDef; 6] = [
    col(
        START_UTC,
        UTC,
        "UTC",
        "Start of the interval the value covers (OMH effective_time_frame.time_interval), in \
         UTC; for a value given at a single instant, that instant. A time written without a UTC \
         offset is read as UTC, as the JHE server does. An interval given as a date and part of \
         day covers that whole UTC day.",
    ),
    col(
        END_UTC,
        UTC,
        "UTC",
        "End of the interval, in UTC (computed from start + duration or given); empty for a \
         single instant.",
    ),
    col(
        START_LOCAL,
        LOCAL,
        "local time",
        "Participant's local wall-clock time at start_utc: start_utc shifted by the UTC offset \
         written in the data (no time zone attached).",
    ),
    col(
        END_LOCAL,
        LOCAL,
        "local time",
        "Participant's local wall-clock time at end_utc (with the offset written with the end, \
         which differs from the start's across a daylight-saving change).",
    ),
    col(
        UTC_OFFSET_MINUTES,
        I32,
        "min",
        "UTC offset written with the start, in minutes east of UTC; empty when the data carried \
         no offset.",
    ),
    col(
        DURATION_MIN,
        F64,
        "min",
        "Length of the interval (end_utc - start_utc) in minutes, rounded to 0.001 min; empty \
         for a single instant.",
    ),
];

pub(crate) const TAIL_COLS: [ColumnDef; 6] = [
    col(
        MODALITY,
        CAT,
        "",
        "OMH header.modality: 'sensed' (measured by a device) or 'self-reported'.",
    ),
    col(
        SOURCE_NAME,
        CAT,
        "",
        "OMH header.acquisition_provenance.source_name: the app or generator that produced the \
         data point, if given.",
    ),
    col(
        DEVICE,
        CAT,
        "",
        "The device or platform the data came from: OMH \
         header.external_datasheets[].datasheet_reference (the manufacturer entry first) when \
         given, otherwise header.acquisition_provenance.source_name (as on screen).",
    ),
    col(
        UUID,
        STR,
        "",
        "OMH header.uuid: the data point's id at its source. A re-sent copy of the same \
         measurement has the same uuid but a new observation_id.",
    ),
    col(
        CODE,
        CAT,
        "",
        "OMH schema of the observation, namespace:name:version (e.g. omh:blood-glucose:4.0).",
    ),
    col(
        LAST_UPDATED_UTC,
        UTC,
        "UTC",
        "When the JHE server stored the observation (FHIR meta.lastUpdated): upload time, not \
         measurement time.",
    ),
];

/// The columns of a type's table, in order. For [`DataType::Other`] only the fixed columns: the
/// flattened OMH body columns (named as in the compat rows, e.g. `rr_interval_value`) follow
/// them and depend on the data.
pub fn view_columns(view: &DataType) -> Vec<ColumnDef> {
    let mut v: Vec<ColumnDef> = ID_COLS.to_vec();
    if view.is_interval_view() {
        v.extend(INTERVAL_TIME_COLS);
    } else {
        v.extend(POINT_TIME_COLS);
    }
    v.extend(view.columns().iter().map(|c| c.def.clone()));
    v.extend(TAIL_COLS);
    v
}

/// The columns of the long table, in order.
pub fn long_columns() -> Vec<ColumnDef> {
    let mut v: Vec<ColumnDef> = ID_COLS.to_vec();
    v.push(col(
        TABLE,
        CAT,
        "",
        "The per-type table this observation belongs to (blood_glucose, blood_pressure, …, or \
         other_<code> for types not modelled).",
    ));
    v.push(col(
        MEASURE,
        CAT,
        "",
        "What the row measures: glucose, systolic, diastolic, heart_rate, steps, body_weight, \
         spo2, respiratory_rate, body_temperature, sleep_duration, activity_name, \
         activity_duration, distance, kcal_burned, met_value; for types not modelled the \
         flattened OMH body key (e.g. sleep_stage_summary_total_sleep_time); `observation` \
         for an observation without any value (so that no observation is left out).",
    ));
    v.extend(POINT_TIME_COLS);
    v.push(col(
        VALUE,
        F64,
        "(unit)",
        "The value in the unit of the unit column (normalised for modelled types; as sent for \
         types not modelled). Empty for text measures.",
    ));
    v.push(col(
        UNIT,
        CAT,
        "",
        "Unit of value: mg/dL, mmHg, beats/min, steps, kg, %, breaths/min, C, min, m, kcal, MET; \
         as sent for types not modelled.",
    ));
    v.push(col(
        ORIGINAL_VALUE,
        F64,
        "(original_unit)",
        "The value as sent, before unit normalisation.",
    ));
    v.push(col(ORIGINAL_UNIT, CAT, "", "The unit as sent."));
    v.push(col(
        VALUE_TEXT,
        STR,
        "",
        "The value of a text measure (e.g. activity_name, or a text field of a type not \
         modelled); empty for numeric measures.",
    ));
    v.extend(TAIL_COLS);
    v
}

/// One entry of the data dictionary.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DictEntry {
    /// Table (and file stem), e.g. `blood_glucose`.
    pub table: String,
    pub column: String,
    pub dtype: String,
    pub unit: String,
    pub description: String,
}

/// Dictionary entries of a table, given its actual schema (generic columns of `other_*`
/// tables get a generated description).
pub fn dictionary(table: &str, view: Option<&DataType>, schema: &Schema) -> Vec<DictEntry> {
    let defs: HashMap<String, ColumnDef> = match view {
        Some(v) => view_columns(v),
        None => long_columns(),
    }
    .into_iter()
    .map(|d| (d.name.to_string(), d))
    .collect();
    schema
        .iter()
        .map(|(name, dt)| match defs.get(name.as_str()) {
            Some(d) => DictEntry {
                table: table.into(),
                column: name.to_string(),
                dtype: d.dtype.label().into(),
                unit: d.unit.to_string(),
                description: d.description.to_string(),
            },
            None if name.starts_with(super::build::OVERFLOW_COLUMN) => DictEntry {
                table: table.into(),
                column: name.to_string(),
                dtype: Dtype::of(dt).label().into(),
                unit: String::new(),
                description: format!(
                    "The OMH body fields of this row whose names are beyond the first {} distinct \
                     field names of the table, as one JSON object of name: value (text), so data \
                     with a key of its own per row cannot grow the table without bound.",
                    super::build::DYN_COLUMNS_MAX
                ),
            },
            None => DictEntry {
                table: table.into(),
                column: name.to_string(),
                dtype: Dtype::of(dt).label().into(),
                unit: if name.ends_with("_value") {
                    format!("({}_unit)", name.trim_end_matches("_value"))
                } else {
                    String::new()
                },
                description: format!(
                    "OMH body field {} (nested keys joined with _, as in jupyterhealth-client's \
                     tidy_observation), as sent.",
                    name.strip_prefix("body_").unwrap_or(name)
                ),
            },
        })
        .collect()
}
