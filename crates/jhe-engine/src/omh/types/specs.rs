//! The spec of each data type (see [`super::TypeSpec`]), with its value reader: columns in
//! table order, long-table measures, chart, and how the values are read from the OMH body.

use super::{
    vcol, Band, ChartSpec, Dtype, FieldKind, FieldSpec, Measure, Reader, Series, Style, TypeSpec,
    ValueColumn,
};
use super::{MeasureSrc as M, Src as S};
use crate::omh::fast::{Body, Qty, J};
use crate::omh::record::{Quantity, Values};
use crate::omh::units::{self, *};

const F64: Dtype = Dtype::Float64;
const I64: Dtype = Dtype::Int64;
const BOOL: Dtype = Dtype::Boolean;
const CAT: Dtype = Dtype::Categorical;

// ----- shared columns

const ORIGINAL_VALUE: ValueColumn = vcol(
    "original_value",
    F64,
    "(original_unit)",
    "The value as sent, before unit normalisation.",
    S::OriginalValue(0),
);
const ORIGINAL_UNIT: ValueColumn = vcol(
    "original_unit",
    CAT,
    "",
    "The unit as sent (e.g. mmol/L, MGDL, lb, F).",
    S::OriginalUnit(0),
);
const DESCRIPTIVE_STATISTIC: ValueColumn = vcol(
    "descriptive_statistic",
    CAT,
    "",
    "OMH descriptive_statistic when the value summarises several measurements (e.g. average, \
     maximum); empty for a single measurement.",
    S::Context("descriptive_statistic"),
);
const REL_ACTIVITY: ValueColumn = vcol(
    "temporal_relationship_to_physical_activity",
    CAT,
    "",
    "OMH temporal_relationship_to_physical_activity (e.g. at rest, after exercise).",
    S::Context("temporal_relationship_to_physical_activity"),
);
const REL_SLEEP: ValueColumn = vcol(
    "temporal_relationship_to_sleep",
    CAT,
    "",
    "OMH temporal_relationship_to_sleep (e.g. on waking, during sleep).",
    S::Context("temporal_relationship_to_sleep"),
);
const MEASUREMENT_LOCATION: ValueColumn = vcol(
    "measurement_location",
    CAT,
    "",
    "OMH measurement_location (body site of the measurement).",
    S::Context("measurement_location"),
);

/// A chart of one line through the readings.
const fn line(unit: &'static str, y_desc: &'static str, series: &'static [Series]) -> ChartSpec {
    ChartSpec {
        style: Style::Line,
        unit,
        y_desc,
        series,
        band: None,
        y_extent: None,
    }
}

/// One quantity field, always a row in the long table.
const fn single(name: &'static str, unit: &'static str) -> [Measure; 1] {
    [Measure {
        name,
        unit,
        src: M::Quantity(0),
    }]
}

// ----- value readers (from the fast scan)

/// `{value, unit}` (or a bare number) under `key`.
fn raw_quantity(body: &Body, key: &str) -> (Option<f64>, Option<String>) {
    body.qty(key).map(Qty::read).unwrap_or((None, None))
}

/// A quantity that must be there (a problem otherwise), normalised by `norm`.
fn required(
    body: &Body,
    key: &str,
    norm: impl Fn(f64, &str) -> Option<f64>,
) -> Result<Quantity, String> {
    let (v, unit) = raw_quantity(body, key);
    let Some(v) = v else {
        return Err(format!("{key}.value is missing or not a number"));
    };
    Ok(Quantity {
        value: unit.as_deref().and_then(|u| norm(v, u)),
        original_value: Some(v),
        original_unit: unit,
    })
}

fn optional(body: &Body, key: &str, norm: impl Fn(f64, &str) -> Option<f64>) -> Quantity {
    let (v, unit) = raw_quantity(body, key);
    Quantity {
        value: match (v, unit.as_deref()) {
            (Some(v), Some(u)) => norm(v, u),
            _ => None,
        },
        original_value: v,
        original_unit: unit,
    }
}

// ----- the types

pub const BLOOD_GLUCOSE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "blood-glucose",
    name: "blood_glucose",
    title: "Blood glucose",
    interval: false,
    columns: &[
        vcol(
            "glucose_mg_dl",
            F64,
            "mg/dL",
            "Blood glucose in mg/dL (mmol/L converted with x 18.016 and rounded to 0.1 mg/dL; MGDL \
             and mg/dl read as mg/dL).",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        vcol(
            "temporal_relationship_to_meal",
            CAT,
            "",
            "OMH temporal_relationship_to_meal (e.g. fasting, before meal, after meal).",
            S::Context("temporal_relationship_to_meal"),
        ),
        REL_SLEEP,
        vcol(
            "specimen_source",
            CAT,
            "",
            "OMH specimen_source (e.g. capillary blood, interstitial fluid).",
            S::Context("specimen_source"),
        ),
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("glucose", "mg/dL"),
    chart: ChartSpec {
        style: Style::Glucose,
        band: Some(Band {
            lo: 70.0,
            hi: 180.0,
            label: "Target range 70–180 mg/dL",
        }),
        y_extent: Some((60.0, 200.0)),
        ..line(
            "mg/dL",
            "Glucose (mg/dL)",
            &[Series {
                field: 0,
                label: "Glucose",

                plausible: Some((20.0, 600.0)),
            }],
        )
    },
    reader: Reader::Scan(|b| {
        Ok(Values::BloodGlucose(required(
            b,
            "blood_glucose",
            glucose_mg_dl,
        )?))
    }),
};

pub const BLOOD_PRESSURE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "blood-pressure",
    name: "blood_pressure",
    title: "Blood pressure",
    interval: false,
    columns: &[
        vcol(
            "systolic_mmhg",
            F64,
            "mmHg",
            "Systolic blood pressure in mmHg.",
            S::Value(0),
        ),
        vcol(
            "diastolic_mmhg",
            F64,
            "mmHg",
            "Diastolic blood pressure in mmHg.",
            S::Value(1),
        ),
        vcol(
            "original_systolic_value",
            F64,
            "(original_systolic_unit)",
            "Systolic value as sent.",
            S::OriginalValue(0),
        ),
        vcol(
            "original_systolic_unit",
            CAT,
            "",
            "Systolic unit as sent.",
            S::OriginalUnit(0),
        ),
        vcol(
            "original_diastolic_value",
            F64,
            "(original_diastolic_unit)",
            "Diastolic value as sent.",
            S::OriginalValue(1),
        ),
        vcol(
            "original_diastolic_unit",
            CAT,
            "",
            "Diastolic unit as sent.",
            S::OriginalUnit(1),
        ),
        vcol(
            "body_posture",
            CAT,
            "",
            "OMH body_posture during the measurement (e.g. sitting).",
            S::Context("body_posture"),
        ),
        vcol(
            "position_during_measurement",
            CAT,
            "",
            "OMH position_during_measurement (older schema versions).",
            S::Context("position_during_measurement"),
        ),
        MEASUREMENT_LOCATION,
        REL_ACTIVITY,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &[
        Measure {
            name: "systolic",
            unit: "mmHg",
            src: M::Quantity(0),
        },
        Measure {
            name: "diastolic",
            unit: "mmHg",
            src: M::Quantity(1),
        },
    ],
    chart: ChartSpec {
        style: Style::BloodPressure,
        y_extent: Some((60.0, 140.0)),
        ..line(
            "mmHg",
            "Blood pressure (mmHg)",
            &[
                Series {
                    field: 0,
                    label: "Systolic",

                    plausible: Some((50.0, 260.0)),
                },
                Series {
                    field: 1,
                    label: "Diastolic",

                    plausible: Some((25.0, 180.0)),
                },
            ],
        )
    },
    reader: Reader::Scan(|b| {
        Ok(Values::BloodPressure {
            systolic: required(b, "systolic_blood_pressure", pressure_mmhg)?,
            diastolic: required(b, "diastolic_blood_pressure", pressure_mmhg)?,
        })
    }),
};

pub const HEART_RATE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "heart-rate",
    name: "heart_rate",
    title: "Heart rate",
    interval: false,
    columns: &[
        vcol(
            "heart_rate_bpm",
            F64,
            "beats/min",
            "Heart rate in beats per minute.",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        REL_ACTIVITY,
        REL_SLEEP,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("heart_rate", "beats/min"),
    chart: line(
        "beats/min",
        "Heart rate (beats per minute)",
        &[Series {
            field: 0,
            label: "Heart rate",

            plausible: Some((25.0, 250.0)),
        }],
    ),
    reader: Reader::Scan(|b| Ok(Values::HeartRate(required(b, "heart_rate", per_minute)?))),
};

pub const STEP_COUNT: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "step-count",
    name: "step_count",
    title: "Step count",
    interval: true,
    columns: &[
        vcol(
            "steps",
            F64,
            "steps",
            "Number of steps in the interval.",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("steps", "steps"),
    chart: ChartSpec {
        style: Style::DailyTotal,
        ..line(
            "steps/day",
            "Steps per day",
            &[Series {
                field: 0,
                label: "Steps",

                plausible: Some((0.0, 100_000.0)),
            }],
        )
    },
    reader: Reader::Scan(|b| {
        let (v, unit) = raw_quantity(b, "step_count");
        let Some(v) = v else {
            return Err("step_count.value is missing or not a number".into());
        };
        Ok(Values::StepCount(Quantity {
            value: units::steps(v, unit.as_deref()),
            original_value: Some(v),
            original_unit: unit,
        }))
    }),
};

pub const BODY_WEIGHT: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "body-weight",
    name: "body_weight",
    title: "Body weight",
    interval: false,
    columns: &[
        vcol(
            "body_weight_kg",
            F64,
            "kg",
            "Body weight in kg (lb converted with x 0.45359237 and rounded to 0.1 g).",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("body_weight", "kg"),
    chart: line(
        "kg",
        "Weight (kg)",
        &[Series {
            field: 0,
            label: "Weight",

            plausible: Some((1.0, 500.0)),
        }],
    ),
    reader: Reader::Scan(|b| Ok(Values::BodyWeight(required(b, "body_weight", mass_kg)?))),
};

pub const OXYGEN_SATURATION: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "oxygen-saturation",
    name: "oxygen_saturation",
    title: "Oxygen saturation (SpO2)",
    interval: false,
    columns: &[
        vcol(
            "spo2_pct",
            F64,
            "%",
            "Blood oxygen saturation (SpO2) in percent.",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        vcol(
            "system",
            CAT,
            "",
            "OMH system: where the saturation was measured (e.g. peripheral capillary).",
            S::Context("system"),
        ),
        vcol(
            "measurement_method",
            CAT,
            "",
            "OMH measurement_method (e.g. pulse oximetry).",
            S::Context("measurement_method"),
        ),
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("spo2", "%"),
    chart: line(
        "%",
        "Oxygen saturation (%)",
        &[Series {
            field: 0,
            label: "SpO2",

            plausible: Some((50.0, 100.0)),
        }],
    ),
    reader: Reader::Scan(|b| {
        Ok(Values::OxygenSaturation(required(
            b,
            "oxygen_saturation",
            percent,
        )?))
    }),
};

pub const RESPIRATORY_RATE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "respiratory-rate",
    name: "respiratory_rate",
    title: "Respiratory rate",
    interval: false,
    columns: &[
        vcol(
            "respiratory_rate_bpm",
            F64,
            "breaths/min",
            "Respiratory rate in breaths per minute.",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        REL_ACTIVITY,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("respiratory_rate", "breaths/min"),
    chart: line(
        "breaths/min",
        "Breaths per minute",
        &[Series {
            field: 0,
            label: "Respiratory rate",

            plausible: Some((4.0, 70.0)),
        }],
    ),
    reader: Reader::Scan(|b| {
        Ok(Values::RespiratoryRate(required(
            b,
            "respiratory_rate",
            per_minute,
        )?))
    }),
};

pub const BODY_TEMPERATURE: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "body-temperature",
    name: "body_temperature",
    title: "Body temperature",
    interval: false,
    columns: &[
        vcol(
            "body_temperature_c",
            F64,
            "°C",
            "Body temperature in degrees Celsius (F converted with (F - 32) x 5/9, K with - 273.15; \
             converted values rounded to 0.01).",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        MEASUREMENT_LOCATION,
        REL_SLEEP,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("body_temperature", "C"),
    chart: line(
        "°C",
        "Temperature (°C)",
        &[Series {
            field: 0,
            label: "Temperature",

            plausible: Some((25.0, 45.0)),
        }],
    ),
    reader: Reader::Scan(|b| {
        Ok(Values::BodyTemperature(required(
            b,
            "body_temperature",
            temperature_c,
        )?))
    }),
};

/// Hours asleep per night (the values are minutes of sleep, field 0).
const NIGHTLY: ChartSpec = ChartSpec {
    style: Style::Nightly,
    ..line(
        "h",
        "Hours asleep",
        &[Series {
            field: 0,
            label: "Asleep",

            plausible: Some((0.0, 1440.0)),
        }],
    )
};

pub const SLEEP_DURATION: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "sleep-duration",
    name: "sleep_duration",
    title: "Sleep duration",
    interval: true,
    columns: &[
        vcol(
            "sleep_duration_min",
            F64,
            "min",
            "Time asleep in minutes (OMH sleep_duration; h and sec converted, to 0.001 min). Not the same as \
             duration_min, the length of the interval it was measured in.",
            S::Value(0),
        ),
        ORIGINAL_VALUE,
        ORIGINAL_UNIT,
        DESCRIPTIVE_STATISTIC,
    ],
    measures: &single("sleep_duration", "min"),
    chart: NIGHTLY,
    reader: Reader::Scan(|b| {
        Ok(Values::SleepDuration(required(
            b,
            "sleep_duration",
            units::duration_min,
        )?))
    }),
};

pub const PHYSICAL_ACTIVITY: TypeSpec = TypeSpec {
    namespace: "omh",
    schema: "physical-activity",
    name: "physical_activity",
    title: "Physical activity",
    interval: true,
    columns: &[
        vcol(
            "activity_name",
            CAT,
            "",
            "OMH activity_name (e.g. walking, cycling).",
            S::Text(0),
        ),
        vcol(
            "distance_m",
            F64,
            "m",
            "Distance covered in metres (mi, km, ft, yd converted, to 1 mm).",
            S::Value(1),
        ),
        vcol(
            "original_distance_value",
            F64,
            "(original_distance_unit)",
            "Distance as sent.",
            S::OriginalValue(1),
        ),
        vcol(
            "original_distance_unit",
            CAT,
            "",
            "Distance unit as sent.",
            S::OriginalUnit(1),
        ),
        vcol(
            "kcal_burned",
            F64,
            "kcal",
            "Energy burned in kcal.",
            S::ValueOrOriginal(2),
        ),
        vcol(
            "reported_activity_intensity",
            CAT,
            "",
            "Self-reported intensity: light, moderate or vigorous.",
            S::Text(3),
        ),
        vcol(
            "met_value",
            F64,
            "MET",
            "Metabolic equivalent of task, if given.",
            S::Number(4),
        ),
    ],
    measures: &[
        Measure {
            name: "activity_name",
            unit: "",
            src: M::Text(0),
        },
        Measure {
            name: "activity_duration",
            unit: "min",
            src: M::IntervalMinutes,
        },
        Measure {
            name: "distance",
            unit: "m",
            src: M::QuantityIfSent(1),
        },
        Measure {
            name: "kcal_burned",
            unit: "kcal",
            src: M::QuantityIfSent(2),
        },
        Measure {
            name: "met_value",
            unit: "MET",
            src: M::Number(4),
        },
    ],
    chart: line(
        "m",
        "Distance (m)",
        &[Series {
            field: 1,
            label: "Distance",

            plausible: None,
        }],
    ),
    reader: Reader::Scan(|b| {
        Ok(Values::PhysicalActivity {
            activity_name: b.str("activity_name").map(str::to_string),
            distance: optional(b, "distance", length_m),
            kcal_burned: optional(b, "kcal_burned", energy_kcal),
            reported_activity_intensity: b.str("reported_activity_intensity").map(str::to_string),
            met_value: b.met_value.as_ref().and_then(J::as_f64),
        })
    }),
};

// ----- sleep: see sleep.rs

mod sleep;
pub use sleep::{SLEEP_EPISODE, SLEEP_STAGE_SUMMARY};
