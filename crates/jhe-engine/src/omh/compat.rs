//! Compat rows: a port of `jupyterhealth_client.tidy_observation` (jupyterhealth-client 0.5),
//! so DataFrames built from them have the same column names and values as
//! `JupyterHealthClient.list_observations_df` and existing notebooks keep working.
//!
//! What the Python function does, and so what this does:
//!
//! 1. `resource_type` and `code`: the coding code;
//! 2. the FHIR resource without `valueAttachment`, flattened: nested keys joined with `_`, list
//!    items by index (`meta_lastUpdated`, `meta_source`, `id` (a string), `identifier_0_system`,
//!    `status`, `code_coding_0_code`, `effectiveDateTime` / `effectivePeriod_start`,
//!    `subject_reference`, `subject_identifier_value`, `resourceType`, …);
//! 3. the OMH header, flattened (`uuid`, `modality`, `schema_id_name`, …);
//! 4. the OMH body, flattened (`blood_glucose_value`, `blood_glucose_unit`,
//!    `effective_time_frame_date_time`, …); a key seen before keeps its place and takes the
//!    new value (Python `dict.update`);
//! 5. every key ending in `date_time` becomes a UTC timestamp, and `<key>_local` (appended, in
//!    the same order) the naive wall clock in the offset written in the payload;
//! 6. `meta_lastUpdated` becomes a UTC timestamp.
//!
//! For an Admin API observation the FHIR envelope is rebuilt the way JHE's FHIR API renders the
//! same row (see [`super::Envelope`]); only `identifier_*` cannot be (the Admin API omits it).

use std::fmt;

use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::time::parse_date_time;
use super::{header_and_body, DecodedObservation, Effective, OmhPayload};

/// A value of a compat row, typed like the Python value it mirrors.
#[derive(Clone, Debug, PartialEq)]
pub enum CompatValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    /// A tz-aware UTC timestamp, microseconds.
    TimeUtc(i64),
    /// A naive (local wall-clock) timestamp, microseconds.
    TimeNaive(i64),
}

/// One tidy row: keys in Python's order.
pub type CompatRow = Vec<(String, CompatValue)>;

fn set(row: &mut CompatRow, key: String, value: CompatValue) {
    if let Some(slot) = row.iter_mut().find(|(k, _)| *k == key) {
        slot.1 = value;
    } else {
        row.push((key, value));
    }
}

fn scalar(v: &Value) -> CompatValue {
    match v {
        Value::Null => CompatValue::Null,
        Value::Bool(b) => CompatValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => CompatValue::Int(i),
            None => n.as_f64().map_or(CompatValue::Null, CompatValue::Float),
        },
        Value::String(s) => CompatValue::Str(s.clone()),
        // never reached: containers are flattened
        Value::Array(_) | Value::Object(_) => CompatValue::Str(v.to_string()),
    }
}

/// Python `flatten_dict`: nested objects and lists become `prefix_key` / `prefix_index` keys;
/// empty containers vanish.
pub fn flatten_into(prefix: &str, v: &Value, out: &mut CompatRow) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}_{k}")
                };
                flatten_into_key(key, x, out);
            }
        }
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                let key = if prefix.is_empty() {
                    i.to_string()
                } else {
                    format!("{prefix}_{i}")
                };
                flatten_into_key(key, x, out);
            }
        }
        other => set(out, prefix.to_string(), scalar(other)),
    }
}

fn flatten_into_key(key: String, v: &Value, out: &mut CompatRow) {
    match v {
        Value::Object(_) | Value::Array(_) => flatten_into(&key, v, out),
        other => set(out, key, scalar(other)),
    }
}

fn s(v: &str) -> CompatValue {
    CompatValue::Str(v.to_string())
}

/// The tidy row of one observation, as `tidy_observation` makes it from the FHIR resource.
pub fn compat_row(obs: &DecodedObservation) -> CompatRow {
    let mut row: CompatRow = Vec::with_capacity(48);
    let env = &obs.envelope;
    row.push(("resource_type".into(), s(&obs.code)));
    row.push(("code".into(), s(&obs.code)));
    if let Some(lu) = &obs.last_updated {
        set(&mut row, "meta_lastUpdated".into(), s(lu));
    }
    if let Some(src) = &env.meta_source {
        set(&mut row, "meta_source".into(), s(src));
    }
    set(&mut row, "id".into(), CompatValue::Str(obs.id.to_string()));
    for (i, ident) in env.identifiers.iter().enumerate() {
        if let Some(x) = &ident.system {
            set(&mut row, format!("identifier_{i}_system"), s(x));
        }
        if let Some(x) = &ident.value {
            set(&mut row, format!("identifier_{i}_value"), s(x));
        }
    }
    if let Some(x) = &env.status {
        set(&mut row, "status".into(), s(x));
    }
    set(
        &mut row,
        "code_coding_0_system".into(),
        s(&obs.coding_system),
    );
    set(&mut row, "code_coding_0_code".into(), s(&obs.code));
    if let Some(x) = &env.coding_display {
        set(&mut row, "code_coding_0_display".into(), s(x));
    }
    match &env.effective {
        Some(Effective::DateTime(t)) => set(&mut row, "effectiveDateTime".into(), s(t)),
        Some(Effective::Period { start, end }) => {
            if let Some(x) = start {
                set(&mut row, "effectivePeriod_start".into(), s(x));
            }
            if let Some(x) = end {
                set(&mut row, "effectivePeriod_end".into(), s(x));
            }
        }
        None => {}
    }
    set(
        &mut row,
        "subject_reference".into(),
        CompatValue::Str(format!("Patient/{}", obs.patient_id)),
    );
    if let Some(ident) = &env.subject_identifier {
        if let Some(x) = &ident.system {
            set(&mut row, "subject_identifier_system".into(), s(x));
        }
        if let Some(x) = &ident.value {
            set(&mut row, "subject_identifier_value".into(), s(x));
        }
    }
    set(&mut row, "resourceType".into(), s("Observation"));

    flatten_payload(obs, &mut row);

    let n = row.len();
    for i in 0..n {
        if !row[i].0.ends_with("date_time") {
            continue;
        }
        let parsed = match &row[i].1 {
            CompatValue::Str(t) => parse_date_time(t),
            _ => None,
        };
        let (utc, local) = match parsed {
            Some(t) => (
                CompatValue::TimeUtc(t.utc_us),
                CompatValue::TimeNaive(t.local_us()),
            ),
            None => (CompatValue::Null, CompatValue::Null),
        };
        row[i].1 = utc;
        let key = format!("{}_local", row[i].0);
        set(&mut row, key, local);
    }
    if let Some(slot) = row.iter_mut().find(|(k, _)| k == "meta_lastUpdated") {
        slot.1 = match &slot.1 {
            CompatValue::Str(t) => {
                parse_date_time(t).map_or(CompatValue::Null, |t| CompatValue::TimeUtc(t.utc_us))
            }
            _ => CompatValue::Null,
        };
    }
    row
}

/// Appends the flattened OMH header and body to `row`: streamed from the payload without
/// building a JSON tree; a bare-body payload (no `body` key) goes through `serde_json::Value`.
fn flatten_payload(obs: &DecodedObservation, row: &mut CompatRow) {
    let mut header = CompatRow::new();
    let mut body = CompatRow::new();
    let mut has_body = false;
    let visitor = RootFlattener {
        header: &mut header,
        body: &mut body,
        has_body: &mut has_body,
    };
    let ok = match &obs.omh {
        OmhPayload::Text(t) => {
            let mut de = serde_json::Deserializer::from_str(t);
            de.deserialize_map(visitor).is_ok()
        }
        OmhPayload::Json(v) => v.deserialize_map(visitor).is_ok(),
    };
    if ok && has_body {
        for (k, v) in header.into_iter().chain(body) {
            set(row, k, v);
        }
        return;
    }
    let omh = obs.omh_value();
    let (h, b) = header_and_body(&omh);
    if let Some(h) = h {
        for (k, v) in h {
            flatten_into_key(k.clone(), v, row);
        }
    }
    for (k, v) in b {
        flatten_into_key(k.clone(), v, row);
    }
}

/// A map key, borrowed from the input when possible.
enum Key<'de> {
    Borrowed(&'de str),
    Owned(String),
}

impl Key<'_> {
    fn as_str(&self) -> &str {
        match self {
            Key::Borrowed(s) => s,
            Key::Owned(s) => s,
        }
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Key<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Key<'de>, E> {
        Ok(Key::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Key<'de>, E> {
        Ok(Key::Owned(v))
    }
}

impl<'de> serde::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct RootFlattener<'r> {
    header: &'r mut CompatRow,
    body: &'r mut CompatRow,
    has_body: &'r mut bool,
}

impl<'de> Visitor<'de> for RootFlattener<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an OMH data point")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<Key>()? {
            match k.as_str() {
                "header" => {
                    self.header.clear();
                    map.next_value_seed(Flatten {
                        prefix: String::new(),
                        out: &mut *self.header,
                    })?;
                }
                "body" => {
                    self.body.clear();
                    *self.has_body = true;
                    map.next_value_seed(Flatten {
                        prefix: String::new(),
                        out: &mut *self.body,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }
}

/// Python `flatten_dict` as a streaming visitor: `prefix` is the key of the current value.
struct Flatten<'r> {
    prefix: String,
    out: &'r mut CompatRow,
}

impl Flatten<'_> {
    fn child(&self, key: &str) -> String {
        if self.prefix.is_empty() {
            key.to_string()
        } else {
            let mut s = String::with_capacity(self.prefix.len() + 1 + key.len());
            s.push_str(&self.prefix);
            s.push('_');
            s.push_str(key);
            s
        }
    }
    fn scalar(self, v: CompatValue) {
        set(self.out, self.prefix, v);
    }
}

impl<'de> DeserializeSeed<'de> for Flatten<'_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Flatten<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<(), E> {
        self.scalar(CompatValue::Bool(v));
        Ok(())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<(), E> {
        self.scalar(CompatValue::Int(v));
        Ok(())
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<(), E> {
        self.scalar(match i64::try_from(v) {
            Ok(i) => CompatValue::Int(i),
            Err(_) => CompatValue::Float(v as f64),
        });
        Ok(())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<(), E> {
        self.scalar(CompatValue::Float(v));
        Ok(())
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<(), E> {
        self.scalar(CompatValue::Str(v.to_string()));
        Ok(())
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<(), E> {
        self.scalar(CompatValue::Str(v));
        Ok(())
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar(CompatValue::Null);
        Ok(())
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar(CompatValue::Null);
        Ok(())
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0usize;
        loop {
            let key = self.child(&i.to_string());
            if seq
                .next_element_seed(Flatten {
                    prefix: key,
                    out: &mut *self.out,
                })?
                .is_none()
            {
                return Ok(());
            }
            i += 1;
        }
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(k) = map.next_key::<Key>()? {
            let key = self.child(k.as_str());
            map.next_value_seed(Flatten {
                prefix: key,
                out: &mut *self.out,
            })?;
        }
        Ok(())
    }
}
