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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use crate::omh::compat::{compat_row, flatten_into, CompatRow, CompatValue};
use crate::omh::time::{iso_naive_us, iso_utc_us};
use crate::omh::{header_and_body, DecodedObservation, Quantity, Values, ViewKind};

/// Column dtypes used in the tables.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Dtype {
    Int64,
    Int32,
    Float64,
    Boolean,
    String,
    Categorical,
    /// `Datetime(Microseconds, "UTC")`
    DatetimeUtc,
    /// `Datetime(Microseconds)` without a time zone: a local wall-clock time.
    DatetimeLocal,
}

impl Dtype {
    pub fn polars(self) -> DataType {
        match self {
            Dtype::Int64 => DataType::Int64,
            Dtype::Int32 => DataType::Int32,
            Dtype::Float64 => DataType::Float64,
            Dtype::Boolean => DataType::Boolean,
            Dtype::String => DataType::String,
            Dtype::Categorical => DataType::from_categories(Categories::global()),
            Dtype::DatetimeUtc => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
            Dtype::DatetimeLocal => DataType::Datetime(TimeUnit::Microseconds, None),
        }
    }

    /// The dtype as written in the data dictionary.
    pub fn label(self) -> &'static str {
        match self {
            Dtype::Int64 => "int64",
            Dtype::Int32 => "int32",
            Dtype::Float64 => "float64",
            Dtype::Boolean => "boolean",
            Dtype::String => "string",
            Dtype::Categorical => "categorical (string)",
            Dtype::DatetimeUtc => "datetime[us, UTC]",
            Dtype::DatetimeLocal => "datetime[us] (local, no time zone)",
        }
    }

    /// The dictionary dtype of a polars dtype (for generic columns).
    pub fn of(dt: &DataType) -> Dtype {
        match dt {
            DataType::Int64 | DataType::UInt64 | DataType::Int16 | DataType::UInt32 => Dtype::Int64,
            DataType::Int32 => Dtype::Int32,
            DataType::Float64 | DataType::Float32 => Dtype::Float64,
            DataType::Boolean => Dtype::Boolean,
            DataType::Categorical(_, _) => Dtype::Categorical,
            DataType::Datetime(_, Some(_)) => Dtype::DatetimeUtc,
            DataType::Datetime(_, None) => Dtype::DatetimeLocal,
            _ => Dtype::String,
        }
    }
}

/// A column of a table, with its dictionary entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: Cow<'static, str>,
    pub dtype: Dtype,
    /// Unit of the values ("" when not applicable).
    pub unit: Cow<'static, str>,
    pub description: Cow<'static, str>,
}

const fn col(
    name: &'static str,
    dtype: Dtype,
    unit: &'static str,
    description: &'static str,
) -> ColumnDef {
    ColumnDef {
        name: Cow::Borrowed(name),
        dtype,
        unit: Cow::Borrowed(unit),
        description: Cow::Borrowed(description),
    }
}

const I64: Dtype = Dtype::Int64;
const I32: Dtype = Dtype::Int32;
const F64: Dtype = Dtype::Float64;
const STR: Dtype = Dtype::String;
const CAT: Dtype = Dtype::Categorical;
const UTC: Dtype = Dtype::DatetimeUtc;
const LOCAL: Dtype = Dtype::DatetimeLocal;

const ID_COLS: [ColumnDef; 2] = [
    col(
        "observation_id",
        I64,
        "",
        "JHE observation id (FHIR Observation.id).",
    ),
    col(
        "patient_id",
        I64,
        "",
        "JHE patient id (FHIR Patient id; Admin API subjectPatientId).",
    ),
];

const POINT_TIME_COLS: [ColumnDef; 5] = [
    col(
        "time_utc",
        UTC,
        "UTC",
        "When the measurement was taken (OMH effective_time_frame), in UTC. For a measurement \
         over an interval (e.g. a nightly average) the start of the interval. A time written \
         without a UTC offset is read as UTC, as the JHE server does.",
    ),
    col(
        "end_utc",
        UTC,
        "UTC",
        "End of the interval for a measurement over an interval; empty for a single instant.",
    ),
    col(
        "time_local",
        LOCAL,
        "local time",
        "Participant's local wall-clock time at time_utc: time_utc shifted by the UTC offset \
         written in the data (no time zone attached). Equal to time_utc when the data had no \
         offset.",
    ),
    col(
        "end_local",
        LOCAL,
        "local time",
        "Participant's local wall-clock time at end_utc (with the offset written with the end).",
    ),
    col(
        "utc_offset_minutes",
        I32,
        "min",
        "UTC offset written with the time, in minutes east of UTC (e.g. -480 for UTC-08:00, 330 \
         for UTC+05:30); empty when the data carried no offset.",
    ),
];

const INTERVAL_TIME_COLS: [ColumnDef; 6] = [
    col(
        "start_utc",
        UTC,
        "UTC",
        "Start of the interval the value covers (OMH effective_time_frame.time_interval), in \
         UTC; for a value given at a single instant, that instant. A time written without a UTC \
         offset is read as UTC, as the JHE server does. An interval given as a date and part of \
         day covers that whole UTC day.",
    ),
    col(
        "end_utc",
        UTC,
        "UTC",
        "End of the interval, in UTC (computed from start + duration or given); empty for a \
         single instant.",
    ),
    col(
        "start_local",
        LOCAL,
        "local time",
        "Participant's local wall-clock time at start_utc: start_utc shifted by the UTC offset \
         written in the data (no time zone attached).",
    ),
    col(
        "end_local",
        LOCAL,
        "local time",
        "Participant's local wall-clock time at end_utc (with the offset written with the end, \
         which differs from the start's across a daylight-saving change).",
    ),
    col(
        "utc_offset_minutes",
        I32,
        "min",
        "UTC offset written with the start, in minutes east of UTC; empty when the data carried \
         no offset.",
    ),
    col(
        "duration_min",
        F64,
        "min",
        "Length of the interval (end_utc - start_utc) in minutes; empty for a single instant.",
    ),
];

const TAIL_COLS: [ColumnDef; 6] = [
    col(
        "modality",
        CAT,
        "",
        "OMH header.modality: 'sensed' (measured by a device) or 'self-reported'.",
    ),
    col(
        "source_name",
        CAT,
        "",
        "OMH header.acquisition_provenance.source_name: the app or generator that produced the \
         data point, if given.",
    ),
    col(
        "device",
        CAT,
        "",
        "OMH header.external_datasheets[].datasheet_reference (the manufacturer entry first): \
         the device or platform, if given.",
    ),
    col(
        "uuid",
        STR,
        "",
        "OMH header.uuid: the data point's id at its source. A re-sent copy of the same \
         measurement has the same uuid but a new observation_id.",
    ),
    col(
        "code",
        CAT,
        "",
        "OMH schema of the observation, namespace:name:version (e.g. omh:blood-glucose:4.0).",
    ),
    col(
        "last_updated_utc",
        UTC,
        "UTC",
        "When the JHE server stored the observation (FHIR meta.lastUpdated): upload time, not \
         measurement time.",
    ),
];

const ORIGINAL: [ColumnDef; 2] = [
    col(
        "original_value",
        F64,
        "(original_unit)",
        "The value as sent, before unit normalisation.",
    ),
    col(
        "original_unit",
        CAT,
        "",
        "The unit as sent (e.g. mmol/L, MGDL, lb, F).",
    ),
];

const DESCRIPTIVE_STATISTIC: ColumnDef = col(
    "descriptive_statistic",
    CAT,
    "",
    "OMH descriptive_statistic when the value summarises several measurements (e.g. average, \
     maximum); empty for a single measurement.",
);
const REL_ACTIVITY: ColumnDef = col(
    "temporal_relationship_to_physical_activity",
    CAT,
    "",
    "OMH temporal_relationship_to_physical_activity (e.g. at rest, after exercise).",
);
const REL_SLEEP: ColumnDef = col(
    "temporal_relationship_to_sleep",
    CAT,
    "",
    "OMH temporal_relationship_to_sleep (e.g. on waking, during sleep).",
);
const MEASUREMENT_LOCATION: ColumnDef = col(
    "measurement_location",
    CAT,
    "",
    "OMH measurement_location (body site of the measurement).",
);

/// Value and context columns of a modelled view (between the time and the tail columns).
fn value_cols(view: &ViewKind) -> Vec<ColumnDef> {
    let mut v = match view {
        ViewKind::BloodGlucose => vec![col(
            "glucose_mg_dl",
            F64,
            "mg/dL",
            "Blood glucose in mg/dL (mmol/L converted with x 18.016; MGDL and mg/dl read as mg/dL).",
        )],
        ViewKind::BloodPressure => vec![
            col("systolic_mmhg", F64, "mmHg", "Systolic blood pressure in mmHg."),
            col("diastolic_mmhg", F64, "mmHg", "Diastolic blood pressure in mmHg."),
            col("original_systolic_value", F64, "(original_systolic_unit)", "Systolic value as sent."),
            col("original_systolic_unit", CAT, "", "Systolic unit as sent."),
            col("original_diastolic_value", F64, "(original_diastolic_unit)", "Diastolic value as sent."),
            col("original_diastolic_unit", CAT, "", "Diastolic unit as sent."),
        ],
        ViewKind::HeartRate => vec![col("heart_rate_bpm", F64, "beats/min", "Heart rate in beats per minute.")],
        ViewKind::StepCount => vec![col("steps", F64, "steps", "Number of steps in the interval.")],
        ViewKind::BodyWeight => vec![col(
            "body_weight_kg",
            F64,
            "kg",
            "Body weight in kg (lb converted with x 0.45359237).",
        )],
        ViewKind::OxygenSaturation => vec![col(
            "spo2_pct",
            F64,
            "%",
            "Blood oxygen saturation (SpO2) in percent.",
        )],
        ViewKind::RespiratoryRate => vec![col(
            "respiratory_rate_bpm",
            F64,
            "breaths/min",
            "Respiratory rate in breaths per minute.",
        )],
        ViewKind::BodyTemperature => vec![col(
            "body_temperature_c",
            F64,
            "°C",
            "Body temperature in degrees Celsius (F converted with (F - 32) x 5/9, K with - 273.15).",
        )],
        ViewKind::SleepDuration => vec![col(
            "sleep_duration_min",
            F64,
            "min",
            "Time asleep in minutes (OMH sleep_duration; h and sec converted). Not the same as \
             duration_min, the length of the interval it was measured in.",
        )],
        ViewKind::PhysicalActivity => vec![
            col("activity_name", CAT, "", "OMH activity_name (e.g. walking, cycling)."),
            col("distance_m", F64, "m", "Distance covered in metres (mi, km, ft, yd converted)."),
            col("original_distance_value", F64, "(original_distance_unit)", "Distance as sent."),
            col("original_distance_unit", CAT, "", "Distance unit as sent."),
            col("kcal_burned", F64, "kcal", "Energy burned in kcal."),
            col(
                "reported_activity_intensity",
                CAT,
                "",
                "Self-reported intensity: light, moderate or vigorous.",
            ),
            col("met_value", F64, "MET", "Metabolic equivalent of task, if given."),
        ],
        ViewKind::Other(_) => vec![],
    };
    let ctx: Vec<ColumnDef> = match view {
        ViewKind::BloodGlucose => vec![
            col(
                "temporal_relationship_to_meal",
                CAT,
                "",
                "OMH temporal_relationship_to_meal (e.g. fasting, before meal, after meal).",
            ),
            REL_SLEEP,
            col(
                "specimen_source",
                CAT,
                "",
                "OMH specimen_source (e.g. capillary blood, interstitial fluid).",
            ),
            DESCRIPTIVE_STATISTIC,
        ],
        ViewKind::BloodPressure => vec![
            col(
                "body_posture",
                CAT,
                "",
                "OMH body_posture during the measurement (e.g. sitting).",
            ),
            col(
                "position_during_measurement",
                CAT,
                "",
                "OMH position_during_measurement (older schema versions).",
            ),
            MEASUREMENT_LOCATION,
            REL_ACTIVITY,
            DESCRIPTIVE_STATISTIC,
        ],
        ViewKind::HeartRate => vec![REL_ACTIVITY, REL_SLEEP, DESCRIPTIVE_STATISTIC],
        ViewKind::StepCount | ViewKind::BodyWeight | ViewKind::SleepDuration => {
            vec![DESCRIPTIVE_STATISTIC]
        }
        ViewKind::OxygenSaturation => vec![
            col(
                "system",
                CAT,
                "",
                "OMH system: where the saturation was measured (e.g. peripheral capillary).",
            ),
            col(
                "measurement_method",
                CAT,
                "",
                "OMH measurement_method (e.g. pulse oximetry).",
            ),
            DESCRIPTIVE_STATISTIC,
        ],
        ViewKind::RespiratoryRate => vec![REL_ACTIVITY, DESCRIPTIVE_STATISTIC],
        ViewKind::BodyTemperature => vec![MEASUREMENT_LOCATION, REL_SLEEP, DESCRIPTIVE_STATISTIC],
        ViewKind::PhysicalActivity | ViewKind::Other(_) => vec![],
    };
    let single_original = !matches!(
        view,
        ViewKind::BloodPressure | ViewKind::PhysicalActivity | ViewKind::Other(_)
    );
    if single_original {
        v.extend(ORIGINAL);
    }
    v.extend(ctx);
    v
}

/// The columns of a view, in order. For [`ViewKind::Other`] only the fixed columns: the
/// flattened OMH body columns (named as in the compat rows, e.g.
/// `sleep_stage_summary_total_sleep_time_value`) follow them and depend on the data.
pub fn view_columns(view: &ViewKind) -> Vec<ColumnDef> {
    let mut v: Vec<ColumnDef> = ID_COLS.to_vec();
    if view.is_interval_view() {
        v.extend(INTERVAL_TIME_COLS);
    } else {
        v.extend(POINT_TIME_COLS);
    }
    v.extend(value_cols(view));
    v.extend(TAIL_COLS);
    v
}

/// The columns of the long table, in order.
pub fn long_columns() -> Vec<ColumnDef> {
    let mut v: Vec<ColumnDef> = ID_COLS.to_vec();
    v.push(col(
        "table",
        CAT,
        "",
        "The per-type table this observation belongs to (blood_glucose, blood_pressure, …, or \
         other_<code> for types not modelled).",
    ));
    v.push(col(
        "measure",
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
        "value",
        F64,
        "(unit)",
        "The value in the unit of the unit column (normalised for modelled types; as sent for \
         types not modelled). Empty for text measures.",
    ));
    v.push(col(
        "unit",
        CAT,
        "",
        "Unit of value: mg/dL, mmHg, beats/min, steps, kg, %, breaths/min, C, min, m, kcal, MET; \
         as sent for types not modelled.",
    ));
    v.push(col(
        "original_value",
        F64,
        "(original_unit)",
        "The value as sent, before unit normalisation.",
    ));
    v.push(col("original_unit", CAT, "", "The unit as sent."));
    v.push(col(
        "value_text",
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
pub fn dictionary(table: &str, view: Option<&ViewKind>, schema: &Schema) -> Vec<DictEntry> {
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

// ------------------------------------------------------------------------------------------------
// column builders

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
struct Cols {
    defs: Vec<ColumnDef>,
    bufs: Vec<Buf>,
    i: usize,
    rows: usize,
}

impl Cols {
    fn new(defs: Vec<ColumnDef>, cap: usize) -> Cols {
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
    #[inline]
    fn i64(&mut self, v: Option<i64>) {
        match self.next() {
            Buf::I64(b) => b.append_option(v),
            _ => debug_assert!(false, "column type mismatch"),
        }
    }
    #[inline]
    fn i32(&mut self, v: Option<i32>) {
        match self.next() {
            Buf::I32(b) => b.append_option(v),
            _ => debug_assert!(false, "column type mismatch"),
        }
    }
    #[inline]
    fn f64(&mut self, v: Option<f64>) {
        match self.next() {
            Buf::F64(b) => b.append_option(v),
            _ => debug_assert!(false, "column type mismatch"),
        }
    }
    #[inline]
    fn str(&mut self, v: Option<&str>) {
        match self.next() {
            Buf::Str(b) => b.append_option(v),
            _ => debug_assert!(false, "column type mismatch"),
        }
    }
    #[inline]
    fn end_row(&mut self) {
        debug_assert_eq!(self.i, self.bufs.len(), "row of {} columns", self.i);
        self.i = 0;
        self.rows += 1;
    }
    fn finish(self) -> PolarsResult<(usize, Vec<Column>)> {
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
struct DynCols {
    names: Vec<String>,
    index: HashMap<String, usize>,
    cols: Vec<Vec<CompatValue>>,
    rows: usize,
}

impl DynCols {
    fn push_row(&mut self, row: CompatRow) {
        for (k, v) in row {
            let idx = match self.index.get(&k) {
                Some(&i) => i,
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
        self.rows += 1;
        for c in &mut self.cols {
            if c.len() < self.rows {
                c.push(CompatValue::Null);
            }
        }
    }

    fn finish(self) -> PolarsResult<Vec<Column>> {
        self.names
            .into_iter()
            .zip(self.cols)
            .map(|(name, values)| dyn_column(&name, values))
            .collect()
    }
}

fn py_repr(v: &CompatValue) -> Option<String> {
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

// ------------------------------------------------------------------------------------------------
// public frames

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

fn quantity(c: &mut Cols, q: &Quantity) {
    c.f64(q.value);
    c.f64(q.original_value);
    c.str(q.original_unit.as_deref());
}

/// Builds one table of [`view_frames`], one observation at a time.
pub struct ViewBuilder {
    view: ViewKind,
    cols: Cols,
    dynamic: Option<DynCols>,
}

impl ViewBuilder {
    pub fn new(view: ViewKind) -> ViewBuilder {
        ViewBuilder::with_capacity(view, 0)
    }

    pub fn with_capacity(view: ViewKind, cap: usize) -> ViewBuilder {
        let dynamic = matches!(view, ViewKind::Other(_)).then(DynCols::default);
        ViewBuilder {
            cols: Cols::new(view_columns(&view), cap),
            view,
            dynamic,
        }
    }

    pub fn view(&self) -> &ViewKind {
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
        c.i64(Some(o.id as i64));
        c.i64(Some(o.patient_id as i64));
        let t = &o.time;
        c.i64(Some(t.start_utc));
        c.i64(t.end_utc);
        c.i64(Some(t.start_local));
        c.i64(t.end_local);
        c.i32(t.utc_offset_min);
        if self.view.is_interval_view() {
            c.f64(t.duration_min());
        }
        match &o.values {
            Values::BloodGlucose(q) => {
                quantity(c, q);
                for k in [
                    "temporal_relationship_to_meal",
                    "temporal_relationship_to_sleep",
                    "specimen_source",
                    "descriptive_statistic",
                ] {
                    c.str(o.body_str(k));
                }
            }
            Values::BloodPressure {
                systolic,
                diastolic,
            } => {
                c.f64(systolic.value);
                c.f64(diastolic.value);
                c.f64(systolic.original_value);
                c.str(systolic.original_unit.as_deref());
                c.f64(diastolic.original_value);
                c.str(diastolic.original_unit.as_deref());
                for k in [
                    "body_posture",
                    "position_during_measurement",
                    "measurement_location",
                    "temporal_relationship_to_physical_activity",
                    "descriptive_statistic",
                ] {
                    c.str(o.body_str(k));
                }
            }
            Values::HeartRate(q) => {
                quantity(c, q);
                for k in [
                    "temporal_relationship_to_physical_activity",
                    "temporal_relationship_to_sleep",
                    "descriptive_statistic",
                ] {
                    c.str(o.body_str(k));
                }
            }
            Values::StepCount(q) | Values::BodyWeight(q) | Values::SleepDuration(q) => {
                quantity(c, q);
                c.str(o.body_str("descriptive_statistic"));
            }
            Values::OxygenSaturation(q) => {
                quantity(c, q);
                for k in ["system", "measurement_method", "descriptive_statistic"] {
                    c.str(o.body_str(k));
                }
            }
            Values::RespiratoryRate(q) => {
                quantity(c, q);
                for k in [
                    "temporal_relationship_to_physical_activity",
                    "descriptive_statistic",
                ] {
                    c.str(o.body_str(k));
                }
            }
            Values::BodyTemperature(q) => {
                quantity(c, q);
                for k in [
                    "measurement_location",
                    "temporal_relationship_to_sleep",
                    "descriptive_statistic",
                ] {
                    c.str(o.body_str(k));
                }
            }
            Values::PhysicalActivity {
                activity_name,
                distance,
                kcal_burned,
                reported_activity_intensity,
                met_value,
            } => {
                c.str(activity_name.as_deref());
                quantity(c, distance);
                c.f64(kcal_burned.value.or(kcal_burned.original_value));
                c.str(reported_activity_intensity.as_deref());
                c.f64(*met_value);
            }
            Values::Other => {}
        }
        let h = &o.header;
        c.str(h.modality.as_deref());
        c.str(h.source_name.as_deref());
        c.str(h.device.as_deref());
        c.str(h.uuid.as_deref());
        c.str(Some(&o.code));
        c.i64(o.last_updated_utc);
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
/// the time columns); keys that collide with a fixed column get a `body_` prefix.
fn flat_body(o: &DecodedObservation, fixed: &[ColumnDef]) -> CompatRow {
    let mut row = CompatRow::new();
    let omh = o.omh_value();
    for (k, v) in header_and_body(&omh).1 {
        if k == "effective_time_frame" {
            continue;
        }
        flatten_into(k, v, &mut row);
    }
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
) -> PolarsResult<BTreeMap<ViewKind, DataFrame>> {
    let mut builders: BTreeMap<ViewKind, ViewBuilder> = BTreeMap::new();
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

/// Builds the long table, one observation at a time.
pub struct LongBuilder {
    cols: Cols,
}

impl Default for LongBuilder {
    fn default() -> Self {
        LongBuilder::new()
    }
}

impl LongBuilder {
    pub fn new() -> LongBuilder {
        LongBuilder::with_capacity(0)
    }

    pub fn with_capacity(cap: usize) -> LongBuilder {
        LongBuilder {
            cols: Cols::new(long_columns(), cap),
        }
    }

    pub fn len(&self) -> usize {
        self.cols.rows
    }

    pub fn is_empty(&self) -> bool {
        self.cols.rows == 0
    }

    #[allow(clippy::too_many_arguments)]
    fn row(
        &mut self,
        o: &DecodedObservation,
        table: &str,
        measure: &str,
        value: Option<f64>,
        unit: Option<&str>,
        original_value: Option<f64>,
        original_unit: Option<&str>,
        text: Option<&str>,
    ) {
        let c = &mut self.cols;
        c.i64(Some(o.id as i64));
        c.i64(Some(o.patient_id as i64));
        c.str(Some(table));
        c.str(Some(measure));
        let t = &o.time;
        c.i64(Some(t.start_utc));
        c.i64(t.end_utc);
        c.i64(Some(t.start_local));
        c.i64(t.end_local);
        c.i32(t.utc_offset_min);
        c.f64(value);
        c.str(unit);
        c.f64(original_value);
        c.str(original_unit);
        c.str(text);
        let h = &o.header;
        c.str(h.modality.as_deref());
        c.str(h.source_name.as_deref());
        c.str(h.device.as_deref());
        c.str(h.uuid.as_deref());
        c.str(Some(&o.code));
        c.i64(o.last_updated_utc);
        c.end_row();
    }

    fn q(&mut self, o: &DecodedObservation, table: &str, measure: &str, unit: &str, q: &Quantity) {
        self.row(
            o,
            table,
            measure,
            q.value,
            q.value.map(|_| unit),
            q.original_value,
            q.original_unit.as_deref(),
            None,
        );
    }

    /// Appends the rows of one observation; returns how many.
    pub fn push(&mut self, o: &DecodedObservation) -> usize {
        let before = self.cols.rows;
        let table = o.view.name();
        let t = table.as_str();
        match &o.values {
            Values::BloodGlucose(q) => self.q(o, t, "glucose", "mg/dL", q),
            Values::BloodPressure {
                systolic,
                diastolic,
            } => {
                self.q(o, t, "systolic", "mmHg", systolic);
                self.q(o, t, "diastolic", "mmHg", diastolic);
            }
            Values::HeartRate(q) => self.q(o, t, "heart_rate", "beats/min", q),
            Values::StepCount(q) => self.q(o, t, "steps", "steps", q),
            Values::BodyWeight(q) => self.q(o, t, "body_weight", "kg", q),
            Values::OxygenSaturation(q) => self.q(o, t, "spo2", "%", q),
            Values::RespiratoryRate(q) => self.q(o, t, "respiratory_rate", "breaths/min", q),
            Values::BodyTemperature(q) => self.q(o, t, "body_temperature", "C", q),
            Values::SleepDuration(q) => self.q(o, t, "sleep_duration", "min", q),
            Values::PhysicalActivity {
                activity_name,
                distance,
                kcal_burned,
                met_value,
                ..
            } => {
                if let Some(n) = activity_name {
                    self.row(o, t, "activity_name", None, None, None, None, Some(n));
                }
                if let Some(d) = o.time.duration_min() {
                    self.row(
                        o,
                        t,
                        "activity_duration",
                        Some(d),
                        Some("min"),
                        None,
                        None,
                        None,
                    );
                }
                if distance.original_value.is_some() {
                    self.q(o, t, "distance", "m", distance);
                }
                if kcal_burned.original_value.is_some() {
                    self.q(o, t, "kcal_burned", "kcal", kcal_burned);
                }
                if met_value.is_some() {
                    self.row(
                        o,
                        t,
                        "met_value",
                        *met_value,
                        Some("MET"),
                        *met_value,
                        None,
                        None,
                    );
                }
            }
            Values::Other => self.push_other(o, t),
        }
        if self.cols.rows == before {
            // nothing measurable (e.g. a body with only its time frame): keep the observation
            self.row(o, t, "observation", None, None, None, None, None);
        }
        self.cols.rows - before
    }

    fn push_other(&mut self, o: &DecodedObservation, table: &str) {
        let mut flat = CompatRow::new();
        let omh = o.omh_value();
        for (k, v) in header_and_body(&omh).1 {
            if k != "effective_time_frame" {
                flatten_into(k, v, &mut flat);
            }
        }
        let unit_of = |flat: &CompatRow, stem: &str| -> Option<String> {
            let key = format!("{stem}_unit");
            flat.iter().find_map(|(k, v)| match v {
                CompatValue::Str(s) if *k == key => Some(s.clone()),
                _ => None,
            })
        };
        for (k, v) in &flat {
            if let Some(stem) = k.strip_suffix("_unit") {
                if flat
                    .iter()
                    .any(|(k2, _)| k2.strip_suffix("_value") == Some(stem))
                {
                    continue; // reported with its value
                }
            }
            match v {
                CompatValue::Int(_) | CompatValue::Float(_) => {
                    let x = match v {
                        CompatValue::Int(i) => *i as f64,
                        CompatValue::Float(f) => *f,
                        _ => f64::NAN,
                    };
                    let (measure, unit) = match k.strip_suffix("_value") {
                        Some(stem) => (stem, unit_of(&flat, stem)),
                        None => (k.as_str(), None),
                    };
                    self.row(
                        o,
                        table,
                        measure,
                        Some(x),
                        unit.as_deref(),
                        Some(x),
                        unit.as_deref(),
                        None,
                    );
                }
                CompatValue::Null => {}
                other => {
                    let text = match other {
                        CompatValue::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
                        CompatValue::Str(s) => Some(s.clone()),
                        _ => py_repr(other),
                    };
                    self.row(o, table, k, None, None, None, None, text.as_deref());
                }
            }
        }
    }

    pub fn finish(self) -> PolarsResult<DataFrame> {
        let (rows, cols) = self.cols.finish()?;
        DataFrame::new(rows, cols)
    }
}

/// One long table of every observation (rows in input order, one per measure).
pub fn long_frame(observations: &[DecodedObservation]) -> PolarsResult<DataFrame> {
    let mut b = LongBuilder::with_capacity(observations.len());
    for o in observations {
        b.push(o);
    }
    b.finish()
}
