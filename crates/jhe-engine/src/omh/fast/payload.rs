//! A fast, lenient reader of the OMH fields the engine needs, straight from the JSON text (or
//! from an already parsed `serde_json::Value`), without building a JSON tree: one pass with
//! serde visitors that keep only the header facts, the effective time frame, the measured
//! quantities and the context strings, and skip everything else.
//!
//! Lenient: a field of an unexpected JSON type reads as absent (as `Value::get`/`as_str` would
//! treat it); only a payload that is not a JSON object, or invalid JSON, is an error.

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON scalar (containers are only noted as `Other`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum J<'a> {
    #[default]
    Null,
    Bool(bool),
    Num(f64),
    Str(Cow<'a, str>),
    Other,
}

impl J<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            J::Str(s) => Some(s),
            _ => None,
        }
    }
    pub(crate) fn as_f64(&self) -> Option<f64> {
        match self {
            J::Num(n) => Some(*n),
            _ => None,
        }
    }
}

impl fmt::Display for J<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            J::Null => f.write_str("null"),
            J::Bool(b) => write!(f, "{b}"),
            J::Num(n) => write!(f, "{n}"),
            J::Str(s) => write!(f, "{s:?}"),
            J::Other => f.write_str("an object or list"),
        }
    }
}

/// Visitor methods for JSON scalars: the value is skipped and `Default` returned.
macro_rules! skip_scalars {
    () => {
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(Default::default())
        }
    };
}

/// Visitor methods for everything but maps: the value is skipped and `Default` returned.
macro_rules! skip_non_maps {
    () => {
        skip_scalars!();
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Default::default())
        }
    };
}

/// A lenient reader of a JSON object into `$ty<'de>`: anything but an object reads as
/// `Default`, the value starts as `$init`, and each key either names the field its value goes
/// to (`{ Key => field, … }`), or `$read` (with the value being built as `$v`, the key as `$k`
/// and the map as `$map`) reads it and is `true`, or is `false` and the value is skipped.
macro_rules! lenient_object {
    ($ty:ident, $what:literal, $init:expr, { $($key:ident => $field:ident),+ $(,)? }) => {
        lenient_object!($ty, $what, $init, |v, k, map| match k {
            $(K::$key => {
                v.$field = Some(map.next_value()?);
                true
            })+
            _ => false,
        });
    };
    ($ty:ident, $what:literal, $init:expr, |$v:ident, $k:ident, $map:ident| $read:expr) => {
        const _: () = {
            struct ObjectVisitor;

            impl<'de> Visitor<'de> for ObjectVisitor {
                type Value = $ty<'de>;
                fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                    f.write_str($what)
                }
                skip_non_maps!();
                fn visit_map<A: MapAccess<'de>>(
                    self,
                    mut $map: A,
                ) -> Result<Self::Value, A::Error> {
                    let mut $v: $ty<'de> = $init;
                    while let Some($k) = $map.next_key::<K>()? {
                        let read: bool = $read;
                        if !read {
                            $map.next_value::<IgnoredAny>()?;
                        }
                    }
                    Ok($v)
                }
            }

            impl<'de> Deserialize<'de> for $ty<'de> {
                fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                    d.deserialize_any(ObjectVisitor)
                }
            }
        };
    };
}

struct JVisitor;

impl<'de> Visitor<'de> for JVisitor {
    type Value = J<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<J<'de>, E> {
        Ok(J::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<J<'de>, E> {
        Ok(J::Num(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<J<'de>, E> {
        Ok(J::Num(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<J<'de>, E> {
        Ok(J::Num(v))
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<J<'de>, E> {
        Ok(J::Str(Cow::Owned(v)))
    }
    fn visit_unit<E: de::Error>(self) -> Result<J<'de>, E> {
        Ok(J::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<J<'de>, E> {
        Ok(J::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<J<'de>, D::Error> {
        d.deserialize_any(JVisitor)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<J<'de>, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(J::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<J<'de>, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(J::Other)
    }
}

impl<'de> Deserialize<'de> for J<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(JVisitor)
    }
}

/// Body keys holding a quantity `{value, unit}` (or a bare number).
pub(crate) const QTY_KEYS: [&str; 12] = [
    "blood_glucose",
    "systolic_blood_pressure",
    "diastolic_blood_pressure",
    "heart_rate",
    "step_count",
    "body_weight",
    "oxygen_saturation",
    "respiratory_rate",
    "body_temperature",
    "sleep_duration",
    "distance",
    "kcal_burned",
];

/// Body keys holding a string the views show.
pub(crate) const STR_KEYS: [&str; 12] = [
    "temporal_relationship_to_meal",
    "temporal_relationship_to_sleep",
    "specimen_source",
    "descriptive_statistic",
    "body_posture",
    "position_during_measurement",
    "measurement_location",
    "temporal_relationship_to_physical_activity",
    "system",
    "measurement_method",
    "activity_name",
    "reported_activity_intensity",
];

/// Every key name the scanner looks at.
#[derive(Clone, Copy, PartialEq, Eq)]
enum K {
    Header,
    Body,
    Uuid,
    SchemaId,
    Namespace,
    Name,
    Version,
    Modality,
    SourceCreation,
    AcquisitionProvenance,
    ExternalDatasheets,
    SourceName,
    DatasheetType,
    DatasheetReference,
    EffectiveTimeFrame,
    DateTime,
    TimeInterval,
    StartDateTime,
    EndDateTime,
    Duration,
    Date,
    Value,
    Unit,
    MetValue,
    Qty(u8),
    Str(u8),
    Other,
}

impl K {
    fn of(s: &str) -> K {
        match s {
            "header" => K::Header,
            "body" => K::Body,
            "uuid" => K::Uuid,
            "schema_id" => K::SchemaId,
            "namespace" => K::Namespace,
            "name" => K::Name,
            "version" => K::Version,
            "modality" => K::Modality,
            "source_creation_date_time" => K::SourceCreation,
            "acquisition_provenance" => K::AcquisitionProvenance,
            "external_datasheets" => K::ExternalDatasheets,
            "source_name" => K::SourceName,
            "datasheet_type" => K::DatasheetType,
            "datasheet_reference" => K::DatasheetReference,
            "effective_time_frame" => K::EffectiveTimeFrame,
            "date_time" => K::DateTime,
            "time_interval" => K::TimeInterval,
            "start_date_time" => K::StartDateTime,
            "end_date_time" => K::EndDateTime,
            "duration" => K::Duration,
            "date" => K::Date,
            "value" => K::Value,
            "unit" => K::Unit,
            "met_value" => K::MetValue,
            _ => {
                if let Some(i) = QTY_KEYS.iter().position(|k| *k == s) {
                    K::Qty(i as u8)
                } else if let Some(i) = STR_KEYS.iter().position(|k| *k == s) {
                    K::Str(i as u8)
                } else {
                    K::Other
                }
            }
        }
    }
}

struct KVisitor;

impl Visitor<'_> for KVisitor {
    type Value = K;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<K, E> {
        Ok(K::of(v))
    }
}

impl<'de> Deserialize<'de> for K {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KVisitor)
    }
}

/// How a quantity was written.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) enum QtyShape {
    #[default]
    Other,
    Object,
    Number(f64),
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Qty<'a> {
    pub shape: QtyShape,
    pub value: Option<J<'a>>,
    pub unit: Option<J<'a>>,
}

impl Qty<'_> {
    /// `(value, unit)` the way `raw_quantity` reads them: from an object, or a bare number
    /// without unit.
    pub(crate) fn read(&self) -> (Option<f64>, Option<String>) {
        match self.shape {
            QtyShape::Object => (
                self.value.as_ref().and_then(J::as_f64),
                self.unit.as_ref().and_then(J::as_str).map(str::to_string),
            ),
            QtyShape::Number(n) => (Some(n), None),
            QtyShape::Other => (None, None),
        }
    }
}

struct QtyVisitor;

impl<'de> Visitor<'de> for QtyVisitor {
    type Value = Qty<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a quantity")
    }
    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Qty::default())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Qty {
            shape: QtyShape::Number(v as f64),
            ..Qty::default()
        })
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Qty {
            shape: QtyShape::Number(v as f64),
            ..Qty::default()
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Qty {
            shape: QtyShape::Number(v),
            ..Qty::default()
        })
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Qty::default())
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Qty::default())
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Qty::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Qty::default())
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut q = Qty {
            shape: QtyShape::Object,
            ..Qty::default()
        };
        while let Some(k) = map.next_key::<K>()? {
            match k {
                K::Value => q.value = Some(map.next_value()?),
                K::Unit => q.unit = Some(map.next_value()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(q)
    }
}

impl<'de> Deserialize<'de> for Qty<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(QtyVisitor)
    }
}

/// `effective_time_frame.time_interval`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Interval<'a> {
    pub is_object: bool,
    pub start: Option<J<'a>>,
    pub end: Option<J<'a>>,
    pub duration: Option<Qty<'a>>,
    pub date: Option<J<'a>>,
}

lenient_object!(
    Interval,
    "a time interval",
    Interval {
        is_object: true,
        ..Interval::default()
    },
    {
        StartDateTime => start,
        EndDateTime => end,
        Duration => duration,
        Date => date,
    }
);

/// `effective_time_frame`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct TimeFrame<'a> {
    pub is_object: bool,
    pub date_time: Option<J<'a>>,
    pub interval: Option<Interval<'a>>,
}

lenient_object!(
    TimeFrame,
    "a time frame",
    TimeFrame {
        is_object: true,
        ..TimeFrame::default()
    },
    { DateTime => date_time, TimeInterval => interval }
);

/// The OMH body (or a bare-body payload's root).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Body<'a> {
    pub is_object: bool,
    pub time_frame: Option<TimeFrame<'a>>,
    pub qty: [Option<Qty<'a>>; QTY_KEYS.len()],
    pub strs: [Option<J<'a>>; STR_KEYS.len()],
    pub met_value: Option<J<'a>>,
}

impl<'a> Body<'a> {
    /// Reads the value of `k` into the body; `false` if the key is not a body key.
    fn take<'de: 'a, A: MapAccess<'de>>(&mut self, k: K, map: &mut A) -> Result<bool, A::Error> {
        match k {
            K::EffectiveTimeFrame => self.time_frame = Some(map.next_value()?),
            K::Qty(i) => self.qty[i as usize] = Some(map.next_value()?),
            K::Str(i) => self.strs[i as usize] = Some(map.next_value()?),
            K::MetValue => self.met_value = Some(map.next_value()?),
            _ => return Ok(false),
        }
        Ok(true)
    }

    pub(crate) fn qty(&self, key: &str) -> Option<&Qty<'a>> {
        let i = QTY_KEYS.iter().position(|k| *k == key)?;
        self.qty[i].as_ref()
    }

    pub(crate) fn str(&self, key: &str) -> Option<&str> {
        let i = STR_KEYS.iter().position(|k| *k == key)?;
        self.strs[i].as_ref().and_then(J::as_str)
    }
}

lenient_object!(
    Body,
    "an OMH body",
    Body {
        is_object: true,
        ..Body::default()
    },
    |b, k, map| b.take(k, &mut map)?
);

/// `header.acquisition_provenance`.
#[derive(Default)]
struct Provenance<'a> {
    source_name: Option<J<'a>>,
}

lenient_object!(
    Provenance,
    "acquisition provenance",
    Provenance::default(),
    { SourceName => source_name }
);

/// One `external_datasheets` entry: (`datasheet_type`, `datasheet_reference`).
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Sheet<'a> {
    pub kind: Option<J<'a>>,
    pub reference: Option<J<'a>>,
}

lenient_object!(
    Sheet,
    "a datasheet",
    Sheet::default(),
    { DatasheetType => kind, DatasheetReference => reference }
);

#[derive(Default)]
struct Sheets<'a>(Vec<Sheet<'a>>);

struct SheetsVisitor;

impl<'de> Visitor<'de> for SheetsVisitor {
    type Value = Sheets<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of datasheets")
    }
    skip_scalars!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Sheets::default())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut v = Vec::new();
        while let Some(s) = seq.next_element::<Sheet<'de>>()? {
            v.push(s);
        }
        Ok(Sheets(v))
    }
}

impl<'de> Deserialize<'de> for Sheets<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SheetsVisitor)
    }
}

/// `header.schema_id`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct SchemaId<'a> {
    pub namespace: Option<J<'a>>,
    pub name: Option<J<'a>>,
    pub version: Option<J<'a>>,
}

lenient_object!(SchemaId, "an OMH schema id", SchemaId::default(), {
    Namespace => namespace,
    Name => name,
    Version => version,
});

/// The OMH header facts.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Header<'a> {
    pub schema: SchemaId<'a>,
    pub uuid: Option<J<'a>>,
    pub modality: Option<J<'a>>,
    pub source_name: Option<J<'a>>,
    pub sheets: Vec<Sheet<'a>>,
    pub source_creation: Option<J<'a>>,
}

lenient_object!(
    Header,
    "an OMH header",
    Header::default(),
    |h, k, map| match k {
        K::SchemaId => {
            h.schema = map.next_value()?;
            true
        }
        K::Uuid => {
            h.uuid = Some(map.next_value()?);
            true
        }
        K::Modality => {
            h.modality = Some(map.next_value()?);
            true
        }
        K::SourceCreation => {
            h.source_creation = Some(map.next_value()?);
            true
        }
        K::AcquisitionProvenance => {
            h.source_name = map.next_value::<Provenance<'_>>()?.source_name;
            true
        }
        K::ExternalDatasheets => {
            h.sheets = map.next_value::<Sheets<'_>>()?.0;
            true
        }
        _ => false,
    }
);

/// What the engine reads from an OMH data point.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct Scan<'a> {
    /// `header` (only when the payload has a `body`).
    pub header: Option<Header<'a>>,
    /// `body`, or the root itself for a bare-body payload.
    pub body: Body<'a>,
}

struct RootVisitor;

impl<'de> Visitor<'de> for RootVisitor {
    type Value = Scan<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OMH data point (a JSON object)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut header = None;
        let mut body: Option<Body<'de>> = None;
        // a bare-body payload: the root's own keys
        let mut root = Body {
            is_object: true,
            ..Body::default()
        };
        while let Some(k) = map.next_key::<K>()? {
            match k {
                K::Header => header = Some(map.next_value()?),
                K::Body => body = Some(map.next_value()?),
                k => {
                    if !root.take(k, &mut map)? {
                        map.next_value::<IgnoredAny>()?;
                    }
                }
            }
        }
        Ok(match body {
            Some(body) => Scan { header, body },
            None => Scan {
                header: None,
                body: root,
            },
        })
    }
}

/// Scan errors: the payload is not JSON, or not a JSON object.
pub(crate) enum ScanError {
    Syntax(String),
    NotObject,
}

/// Scans JSON text.
pub(crate) fn scan_str(text: &str) -> Result<Scan<'_>, ScanError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let res = de.deserialize_any(RootVisitor).and_then(|s| {
        de.end()?;
        Ok(s)
    });
    res.map_err(|e| match e.classify() {
        serde_json::error::Category::Data => ScanError::NotObject,
        _ => ScanError::Syntax(e.to_string()),
    })
}

/// Scans an already parsed JSON value.
pub(crate) fn scan_value(v: &serde_json::Value) -> Result<Scan<'_>, ScanError> {
    v.deserialize_any(RootVisitor)
        .map_err(|_| ScanError::NotObject)
}
