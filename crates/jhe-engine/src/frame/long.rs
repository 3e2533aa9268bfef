//! The long table: one row per measured quantity (the measures of the type's spec; every
//! numeric or text field of the flattened body for a type not modelled), so that every type
//! fits one table.

use polars::prelude::*;

use super::build::{py_repr, Cols};
use super::columns::long_columns;
use super::view::flat_body_keys;
use crate::omh::compat::{CompatRow, CompatValue};
use crate::omh::types::MeasureSrc;
use crate::omh::{DecodedObservation, Quantity};

/// One row's value cells: value and unit, as sent, text.
#[derive(Default)]
struct Cells<'a> {
    value: Option<f64>,
    unit: Option<&'a str>,
    original_value: Option<f64>,
    original_unit: Option<&'a str>,
    text: Option<&'a str>,
}

impl<'a> Cells<'a> {
    /// A quantity in `unit` (no unit when it could not be normalised).
    fn quantity(q: &'a Quantity, unit: &'a str) -> Cells<'a> {
        Cells {
            value: q.value,
            unit: q.value.map(|_| unit),
            original_value: q.original_value,
            original_unit: q.original_unit.as_deref(),
            text: None,
        }
    }
    fn text(text: &'a str) -> Cells<'a> {
        Cells {
            text: Some(text),
            ..Cells::default()
        }
    }
    /// A number that is the same as sent (`unit` "" for none).
    fn number(n: f64, unit: &'a str) -> Cells<'a> {
        let unit = (!unit.is_empty()).then_some(unit);
        Cells {
            value: Some(n),
            unit,
            original_value: Some(n),
            original_unit: None,
            text: None,
        }
    }
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

    fn row(&mut self, o: &DecodedObservation, table: &str, measure: &str, v: Cells) {
        let c = &mut self.cols;
        c.ids(o);
        c.str(Some(table));
        c.str(Some(measure));
        c.times(o, false);
        c.f64(v.value);
        c.str(v.unit);
        c.f64(v.original_value);
        c.str(v.original_unit);
        c.str(v.text);
        c.header_tail(o);
        c.end_row();
    }

    /// Appends the rows of one observation; returns how many.
    pub fn push(&mut self, o: &DecodedObservation) -> usize {
        let before = self.cols.rows;
        let table = o.view.name();
        let t = table.as_str();
        let v = &o.values;
        match o.view.spec() {
            Some(spec) => {
                for m in spec.measures {
                    let cells = match m.src {
                        MeasureSrc::Quantity(i) => {
                            v.quantity(i).map(|q| Cells::quantity(q, m.unit))
                        }
                        MeasureSrc::QuantityIfSent(i) => v
                            .quantity(i)
                            .filter(|q| q.original_value.is_some())
                            .map(|q| Cells::quantity(q, m.unit)),
                        MeasureSrc::Text(i) => v.text(i).map(Cells::text),
                        MeasureSrc::Number(i) => v.number(i).map(|n| Cells::number(n, m.unit)),
                        MeasureSrc::Flag(i) => v
                            .flag(i)
                            .map(|b| Cells::text(if b { "true" } else { "false" })),
                        MeasureSrc::IntervalMinutes => {
                            o.time.duration_min().map(|d| Cells::number(d, m.unit))
                        }
                    };
                    if let Some(cells) = cells {
                        let cells = match m.src {
                            // a duration derived from the time frame was not sent
                            MeasureSrc::IntervalMinutes => Cells {
                                original_value: None,
                                ..cells
                            },
                            _ => cells,
                        };
                        self.row(o, t, m.name, cells);
                    }
                }
            }
            None => self.push_other(o, t),
        }
        if self.cols.rows == before {
            // nothing measurable (e.g. a body with only its time frame): keep the observation
            self.row(o, t, "observation", Cells::default());
        }
        self.cols.rows - before
    }

    fn push_other(&mut self, o: &DecodedObservation, table: &str) {
        let flat = flat_body_keys(o);
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
            let x = match v {
                CompatValue::Int(i) => Some(*i as f64),
                CompatValue::Float(f) => Some(*f),
                _ => None,
            };
            match (x, v) {
                (Some(x), _) => {
                    let (measure, unit) = match k.strip_suffix("_value") {
                        Some(stem) => (stem, unit_of(&flat, stem)),
                        None => (k.as_str(), None),
                    };
                    let unit = unit.as_deref();
                    let cells = Cells {
                        value: Some(x),
                        unit,
                        original_value: Some(x),
                        original_unit: unit,
                        text: None,
                    };
                    self.row(o, table, measure, cells);
                }
                (None, CompatValue::Null) => {}
                (None, other) => {
                    let text = match other {
                        CompatValue::Bool(b) => Some(if *b { "true" } else { "false" }.to_string()),
                        CompatValue::Str(s) => Some(s.clone()),
                        _ => py_repr(other),
                    };
                    self.row(
                        o,
                        table,
                        k,
                        Cells {
                            text: text.as_deref(),
                            ..Cells::default()
                        },
                    );
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
