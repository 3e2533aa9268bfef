//! One spec per data type: everything the engine knows about a type of observation — the codes
//! it answers to, its table name and title, its value columns (with units and dictionary
//! text), its rows in the long table, how its chart is drawn and how its values are read from
//! the OMH body — in one [`TypeSpec`] (the specs themselves are in [`specs`]).
//!
//! Every per-type table of the engine derives from the spec: [`DataType::from_code`],
//! [`DataType::name`]/[`DataType::title`], the view and long frames ([`crate::frame`]), the
//! data dictionary, the charts ([`crate::chart`]) and the export reader
//! ([`crate::export::read`]). To add a data type: write its spec (and, when its values are not
//! simple fields, its value reader) in [`specs`], and list it in the `data_types!` table below.

mod specs;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::fast::Body;
use super::record::{OmhPayload, Quantity, Values};

pub use self::specs::*;

// ------------------------------------------------------------------------------------------------
// column descriptors

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
}

/// A column of a table, with its dictionary entry.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ColumnDef {
    pub name: std::borrow::Cow<'static, str>,
    pub dtype: Dtype,
    /// Unit of the values ("" when not applicable).
    pub unit: std::borrow::Cow<'static, str>,
    pub description: std::borrow::Cow<'static, str>,
}

/// A [`ColumnDef`] in a `const`.
pub const fn col(
    name: &'static str,
    dtype: Dtype,
    unit: &'static str,
    description: &'static str,
) -> ColumnDef {
    ColumnDef {
        name: std::borrow::Cow::Borrowed(name),
        dtype,
        unit: std::borrow::Cow::Borrowed(unit),
        description: std::borrow::Cow::Borrowed(description),
    }
}

// ------------------------------------------------------------------------------------------------
// the spec

/// Where a value column's cells come from (`i` is the index of a field of the type's
/// [`Values`], see [`Values::field`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Src {
    /// The normalised value of quantity `i` (float64).
    Value(u8),
    /// The normalised value of quantity `i`, or the value as sent when its unit is unknown.
    ValueOrOriginal(u8),
    /// The value of quantity `i` as sent (float64).
    OriginalValue(u8),
    /// The unit of quantity `i` as sent (categorical).
    OriginalUnit(u8),
    /// Text field `i` (categorical).
    Text(u8),
    /// Number field `i` (float64).
    Number(u8),
    /// Number field `i` as a count (int64).
    Count(u8),
    /// Yes/no field `i` (boolean).
    Flag(u8),
    /// A context string of the body, e.g. `temporal_relationship_to_meal` (categorical; one of
    /// the keys the fast reader keeps, `fast::STR_KEYS`).
    Context(&'static str),
}

/// A value or context column of a per-type table (between the time and the tail columns).
#[derive(Clone, Debug, PartialEq)]
pub struct ValueColumn {
    pub def: ColumnDef,
    pub src: Src,
}

/// A value or context column in a `const`.
pub const fn vcol(
    name: &'static str,
    dtype: Dtype,
    unit: &'static str,
    description: &'static str,
    src: Src,
) -> ValueColumn {
    ValueColumn {
        def: col(name, dtype, unit, description),
        src,
    }
}

/// Where a row of the long table comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MeasureSrc {
    /// Quantity `i`: always a row (empty value when it could not be normalised).
    Quantity(u8),
    /// Quantity `i`, when a value was sent.
    QuantityIfSent(u8),
    /// Text field `i`, when present (in `value_text`).
    Text(u8),
    /// Number field `i`, when present (the same as value and original value).
    Number(u8),
    /// Yes/no field `i`, when present (`true`/`false` in `value_text`).
    Flag(u8),
    /// The length of the effective time interval, minutes.
    IntervalMinutes,
}

/// One measure of the long table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Measure {
    /// The `measure` column, e.g. `glucose`.
    pub name: &'static str,
    /// The `unit` column ("" for none).
    pub unit: &'static str,
    pub src: MeasureSrc,
}

/// How a chart draws its values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    Glucose,
    BloodPressure,
    /// A line through the readings.
    Line,
    /// One bar per day: the day's total (steps).
    DailyTotal,
    /// One bar per night (sleep, in hours; the values are minutes).
    Nightly,
    /// Nothing to draw (types without a modelled value).
    None,
}

/// A shaded band on a chart (e.g. the glucose target range).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Band {
    pub lo: f64,
    pub hi: f64,
    pub label: &'static str,
}

/// A charted value: a quantity field and its label in the readings table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Series {
    pub field: u8,
    pub label: &'static str,
    /// Values outside `[low, high]` (the chart's unit) are physiologically implausible: charts
    /// mark them and metrics leave them out (documented in the data dictionary).
    pub plausible: Option<(f64, f64)>,
}

/// How the app charts a type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ChartSpec {
    pub style: Style,
    /// Unit of the values as shown (stats and chart); empty when none.
    pub unit: &'static str,
    /// The y axis label, for a non-specialist.
    pub y_desc: &'static str,
    /// The charted values: the main one, and a second (diastolic) drawn beside it.
    pub series: &'static [Series],
    pub band: Option<Band>,
    /// The y axis covers at least this range.
    pub y_extent: Option<(f64, f64)>,
}

/// How a field of [`Values::Fields`] is read from the OMH body.
#[derive(Clone, Copy, Debug)]
pub enum FieldKind {
    /// `{value, unit}` (or a bare number), normalised by the function (see [`super::units`]).
    Quantity(fn(f64, &str) -> Option<f64>),
    Number,
    Text,
    Flag,
}

/// A field of a type read generically from the OMH body's JSON.
#[derive(Clone, Copy, Debug)]
pub struct FieldSpec {
    /// Keys from the body down to the field, e.g. `["sleep_stage_summary", "rem_sleep_duration"]`.
    pub path: &'static [&'static str],
    pub kind: FieldKind,
}

/// The value reader of a type.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Reader {
    /// Reads the fast scan of the body (the types of most data: no JSON tree is built).
    Scan(fn(&Body) -> Result<Values, String>),
    /// Reads the listed fields from the body's JSON into [`Values::Fields`] (in order; a missing
    /// field is empty, never a problem).
    Fields(&'static [FieldSpec]),
}

/// Everything about one data type.
#[derive(Clone, Copy, Debug)]
pub struct TypeSpec {
    /// The coding code's namespace and name (`omh`, `blood-glucose`); every version of the
    /// schema shares the type.
    pub namespace: &'static str,
    pub schema: &'static str,
    /// Table (and file stem) name, e.g. `blood_glucose`.
    pub name: &'static str,
    /// A human title, e.g. "Blood glucose".
    pub title: &'static str,
    /// Rows are intervals by nature (`start_utc`/`end_utc`/`duration_min` instead of
    /// `time_utc`/`end_utc`).
    pub interval: bool,
    pub columns: &'static [ValueColumn],
    pub measures: &'static [Measure],
    pub chart: ChartSpec,
    pub(crate) reader: Reader,
}

impl TypeSpec {
    /// Whether a reading's charted values (`v`, and `v2` for the second series) lie in the
    /// series' plausible ranges (and, for blood pressure, diastolic is below systolic); a missing
    /// value or range does not make it implausible.
    pub fn plausible(&self, v: Option<f64>, v2: Option<f64>) -> bool {
        let ok = |v: Option<f64>, i: usize| match (
            v,
            self.chart.series.get(i).and_then(|s| s.plausible),
        ) {
            (Some(v), Some((lo, hi))) => (lo..=hi).contains(&v),
            _ => true,
        };
        // Blood pressure: the diastolic value is below the systolic one.
        let ordered = self.chart.style != Style::BloodPressure
            || v.zip(v2).is_none_or(|(sys, dia)| dia < sys);
        ok(v, 0) && ok(v2, 1) && ordered
    }

    /// The plausible ranges in words, one per charted series: `["glucose 20–600 mg/dL"]`.
    pub fn plausible_ranges(&self) -> Vec<String> {
        self.chart
            .series
            .iter()
            .filter_map(|s| {
                let (lo, hi) = s.plausible?;
                let words = format!("{} {lo}–{hi} {}", s.label.to_lowercase(), self.chart.unit);
                Some(words.trim_end().to_string())
            })
            .collect()
    }

    /// The column holding quantity `field`'s normalised value.
    pub fn value_def(&self, field: u8) -> Option<&'static ColumnDef> {
        self.columns.iter().find_map(|c| match c.src {
            Src::Value(i) | Src::ValueOrOriginal(i) if i == field => Some(&c.def),
            _ => None,
        })
    }

    /// The name of [`TypeSpec::value_def`].
    pub fn value_column(&self, field: u8) -> Option<&'static str> {
        self.value_def(field).map(|d| d.name.as_ref())
    }

    /// The long-table measure holding quantity `field`.
    pub fn measure_of(&self, field: u8) -> Option<&'static str> {
        self.measures.iter().find_map(|m| match m.src {
            MeasureSrc::Quantity(i) | MeasureSrc::QuantityIfSent(i) if i == field => Some(m.name),
            _ => None,
        })
    }

    /// The charted value columns (main, second).
    pub fn chart_columns(&self) -> (Option<&'static str>, Option<&'static str>) {
        let s = self.chart.series;
        (
            s.first().and_then(|s| self.value_column(s.field)),
            s.get(1).and_then(|s| self.value_column(s.field)),
        )
    }

    /// The charted long-table measures (main, second).
    pub fn chart_measures(&self) -> (Option<&'static str>, Option<&'static str>) {
        let s = self.chart.series;
        (
            s.first().and_then(|s| self.measure_of(s.field)),
            s.get(1).and_then(|s| self.measure_of(s.field)),
        )
    }

    /// The charted values of an observation's values (main, second).
    pub fn chart_values(&self, values: &Values) -> (Option<f64>, Option<f64>) {
        let v = |i: usize| {
            self.chart
                .series
                .get(i)
                .and_then(|s| values.quantity(s.field))
                .and_then(|q| q.value)
        };
        (v(0), v(1))
    }

    /// Reads the values of a body: from the fast scan, or (field readers) from the payload's
    /// JSON tree.
    pub(crate) fn read(&self, body: &Body, omh: &OmhPayload) -> Result<Values, String> {
        match self.reader {
            Reader::Scan(f) => f(body),
            Reader::Fields(fields) => {
                let omh = omh.to_value();
                let (_, body) = super::header_and_body(&omh);
                Ok(Values::Fields(
                    fields.iter().map(|f| read_field(body, f)).collect(),
                ))
            }
        }
    }
}

/// One field of [`Values::Fields`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Field {
    Quantity(Quantity),
    Number(Option<f64>),
    Text(Option<String>),
    Flag(Option<bool>),
}

fn read_field(body: &Map<String, Value>, f: &FieldSpec) -> Field {
    let mut v = None;
    let mut map = Some(body);
    for k in f.path {
        v = map.and_then(|m| m.get(*k));
        map = v.and_then(Value::as_object);
    }
    match f.kind {
        FieldKind::Quantity(norm) => {
            let (value, unit) = match v {
                Some(Value::Object(q)) => (
                    q.get("value").and_then(Value::as_f64),
                    q.get("unit").and_then(Value::as_str).map(str::to_string),
                ),
                Some(Value::Number(n)) => (n.as_f64(), None),
                _ => (None, None),
            };
            Field::Quantity(Quantity {
                value: value.zip(unit.as_deref()).and_then(|(v, u)| norm(v, u)),
                original_value: value,
                original_unit: unit,
            })
        }
        FieldKind::Number => Field::Number(v.and_then(Value::as_f64)),
        FieldKind::Text => Field::Text(v.and_then(Value::as_str).map(str::to_string)),
        FieldKind::Flag => Field::Flag(v.and_then(Value::as_bool)),
    }
}

// ------------------------------------------------------------------------------------------------
// the data types

macro_rules! data_types {
    ($($(#[$doc:meta])* $variant:ident => $spec:ident,)*) => {
        /// The data type of an observation, one per table of the export ("clear views"). Codes
        /// this crate does not model are kept, flattened generically, in a
        /// [`DataType::Other`] table per code.
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum DataType {
            $($(#[$doc])* $variant,)*
            /// Any other code (e.g. `omh:rr-interval:1.0`), flattened generically.
            Other(String),
        }

        impl DataType {
            /// Every modelled type (without `Other`).
            pub const KNOWN: [DataType; [$(stringify!($variant)),*].len()] =
                [$(DataType::$variant),*];

            /// The spec of a modelled type.
            pub fn spec(&self) -> Option<&'static TypeSpec> {
                match self {
                    $(DataType::$variant => Some(&$spec),)*
                    DataType::Other(_) => None,
                }
            }
        }
    };
}

data_types! {
    BloodGlucose => BLOOD_GLUCOSE,
    BloodPressure => BLOOD_PRESSURE,
    HeartRate => HEART_RATE,
    StepCount => STEP_COUNT,
    BodyWeight => BODY_WEIGHT,
    OxygenSaturation => OXYGEN_SATURATION,
    RespiratoryRate => RESPIRATORY_RATE,
    BodyTemperature => BODY_TEMPERATURE,
    SleepDuration => SLEEP_DURATION,
    PhysicalActivity => PHYSICAL_ACTIVITY,
    /// `omh:sleep-episode`: one sleep episode (time asleep, awakenings, efficiency).
    SleepEpisode => SLEEP_EPISODE,
    /// `ieee:sleep-stage-summary`: time in each sleep stage over a sleep episode.
    SleepStageSummary => SLEEP_STAGE_SUMMARY,
}

impl DataType {
    /// The type of a coding code `namespace:name:version`. All versions of a modelled schema
    /// share its type.
    pub fn from_code(code: &str) -> DataType {
        let mut parts = code.split(':');
        let (ns, name) = (parts.next(), parts.next());
        DataType::KNOWN
            .into_iter()
            .find(|t| {
                t.spec()
                    .is_some_and(|s| Some(s.namespace) == ns && Some(s.schema) == name)
            })
            .unwrap_or_else(|| DataType::Other(code.to_string()))
    }

    /// Table / file name: `blood_glucose`, …; `other_<code>` with every run of characters
    /// other than ASCII letters and digits replaced by `_` (e.g. `other_omh_rr_interval_1_0`).
    pub fn name(&self) -> String {
        match self {
            DataType::Other(code) => {
                let mut s = String::from("other_");
                let mut last_us = true;
                for c in code.chars() {
                    if c.is_ascii_alphanumeric() {
                        s.push(c.to_ascii_lowercase());
                        last_us = false;
                    } else if !last_us {
                        s.push('_');
                        last_us = true;
                    }
                }
                while s.ends_with('_') {
                    s.pop();
                }
                s
            }
            known => known.spec().map(|s| s.name).unwrap_or_default().into(),
        }
    }

    /// A human title, e.g. "Blood glucose".
    pub fn title(&self) -> String {
        match (self, self.spec()) {
            (_, Some(s)) => s.title.into(),
            (DataType::Other(code), None) => {
                format!("{code} (not modelled: OMH body flattened)")
            }
            _ => String::new(),
        }
    }

    /// Types whose rows are intervals by nature (`start_utc`/`end_utc` instead of
    /// `time_utc`/`end_utc`); types not modelled are.
    pub fn is_interval_view(&self) -> bool {
        self.spec().is_none_or(|s| s.interval)
    }

    /// The value and context columns of the type's table (none for a type not modelled).
    pub fn columns(&self) -> &'static [ValueColumn] {
        self.spec().map_or(&[], |s| s.columns)
    }
}

/// A field of an observation's [`Values`], by index (see [`Src`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum FieldRef<'a> {
    Quantity(&'a Quantity),
    Number(Option<f64>),
    Text(Option<&'a str>),
    Flag(Option<bool>),
}

impl Values {
    /// Field `i` of the values, in the order of the type's spec.
    pub fn field(&self, i: u8) -> Option<FieldRef<'_>> {
        use FieldRef as F;
        Some(match (self, i) {
            (
                Values::BloodGlucose(q)
                | Values::HeartRate(q)
                | Values::StepCount(q)
                | Values::BodyWeight(q)
                | Values::OxygenSaturation(q)
                | Values::RespiratoryRate(q)
                | Values::BodyTemperature(q)
                | Values::SleepDuration(q),
                0,
            ) => F::Quantity(q),
            (Values::BloodPressure { systolic, .. }, 0) => F::Quantity(systolic),
            (Values::BloodPressure { diastolic, .. }, 1) => F::Quantity(diastolic),
            (Values::PhysicalActivity { activity_name, .. }, 0) => {
                F::Text(activity_name.as_deref())
            }
            (Values::PhysicalActivity { distance, .. }, 1) => F::Quantity(distance),
            (Values::PhysicalActivity { kcal_burned, .. }, 2) => F::Quantity(kcal_burned),
            (
                Values::PhysicalActivity {
                    reported_activity_intensity,
                    ..
                },
                3,
            ) => F::Text(reported_activity_intensity.as_deref()),
            (Values::PhysicalActivity { met_value, .. }, 4) => F::Number(*met_value),
            (Values::Fields(f), i) => match f.get(usize::from(i))? {
                Field::Quantity(q) => F::Quantity(q),
                Field::Number(n) => F::Number(*n),
                Field::Text(t) => F::Text(t.as_deref()),
                Field::Flag(b) => F::Flag(*b),
            },
            _ => return None,
        })
    }

    /// Quantity field `i`.
    pub fn quantity(&self, i: u8) -> Option<&Quantity> {
        match self.field(i)? {
            FieldRef::Quantity(q) => Some(q),
            _ => None,
        }
    }

    /// Text field `i`.
    pub fn text(&self, i: u8) -> Option<&str> {
        match self.field(i)? {
            FieldRef::Text(t) => t,
            _ => None,
        }
    }

    /// Number field `i`.
    pub fn number(&self, i: u8) -> Option<f64> {
        match self.field(i)? {
            FieldRef::Number(n) => n,
            _ => None,
        }
    }

    /// Yes/no field `i`.
    pub fn flag(&self, i: u8) -> Option<bool> {
        match self.field(i)? {
            FieldRef::Flag(b) => b,
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_codes() {
        assert_eq!(
            DataType::from_code("omh:blood-glucose:3.0"),
            DataType::BloodGlucose
        );
        assert_eq!(
            DataType::from_code("ieee:sleep-stage-summary:1.0"),
            DataType::SleepStageSummary
        );
        assert_eq!(
            DataType::from_code("omh:sleep-episode:1.1"),
            DataType::SleepEpisode
        );
        assert_eq!(
            DataType::from_code("omh:sleep-stage-summary:1.0"),
            DataType::Other("omh:sleep-stage-summary:1.0".into())
        );
        assert_eq!(
            DataType::from_code("ieee:sleep-episode:1.0").name(),
            "other_ieee_sleep_episode_1_0"
        );
        assert_eq!(DataType::SleepEpisode.name(), "sleep_episode");
        assert_eq!(DataType::SleepStageSummary.title(), "Sleep stage summary");
    }

    #[test]
    fn every_spec_is_consistent() {
        let mut names = std::collections::BTreeSet::new();
        for t in DataType::KNOWN {
            let s = t.spec().unwrap();
            assert!(names.insert(s.name), "{} twice", s.name);
            assert_eq!(
                DataType::from_code(&format!("{}:{}:1.0", s.namespace, s.schema)),
                t
            );
            for c in s.columns {
                assert!(!c.def.description.is_empty(), "{}.{}", s.name, c.def.name);
                let want = match c.src {
                    Src::Value(_) | Src::ValueOrOriginal(_) | Src::OriginalValue(_) => {
                        vec![Dtype::Float64]
                    }
                    Src::Number(_) => vec![Dtype::Float64],
                    Src::Count(_) => vec![Dtype::Int64],
                    Src::Flag(_) => vec![Dtype::Boolean],
                    Src::OriginalUnit(_) | Src::Text(_) | Src::Context(_) => {
                        vec![Dtype::Categorical, Dtype::String]
                    }
                };
                assert!(want.contains(&c.def.dtype), "{}.{}", s.name, c.def.name);
            }
            // what is charted has a column and a measure
            for series in s.chart.series {
                assert!(s.value_column(series.field).is_some(), "{}", s.name);
                assert!(s.measure_of(series.field).is_some(), "{}", s.name);
            }
            assert_eq!(s.chart.series.is_empty(), s.chart.style == Style::None);
        }
    }
}
