//! JSON the way JHE stores and re-emits OMH payloads: PostgreSQL `jsonb` key order (shorter keys
//! first, then bytewise) and, inside FHIR attachments, Python `json.dumps` formatting.

use serde_json::{Map, Value};

fn jsonb_key_order(a: &str, b: &str) -> std::cmp::Ordering {
    a.len()
        .cmp(&b.len())
        .then_with(|| a.as_bytes().cmp(b.as_bytes()))
}

/// Reorders every object's keys as `jsonb` does.
pub fn jsonb_order(v: Value) -> Value {
    match v {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| jsonb_key_order(&a.0, &b.0));
            let mut out = Map::with_capacity(entries.len());
            for (k, v) in entries {
                out.insert(k, jsonb_order(v));
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.into_iter().map(jsonb_order).collect()),
        other => other,
    }
}

/// `json.dumps(value)` of Python: `", "` and `": "` separators, non-ASCII escaped. Keys are
/// written in `jsonb` order.
pub fn py_dumps(v: &Value) -> String {
    let mut out = String::with_capacity(256);
    write_python(v, &DUMPS, &mut out);
    out
}

/// How a Python printer spells a JSON value's leaves and orders its keys; the nesting, the
/// `", "` and `": "` separators are the same for all.
pub(crate) struct PyStyle {
    pub null: &'static str,
    pub true_: &'static str,
    pub false_: &'static str,
    pub float: fn(f64, &mut String),
    pub string: fn(&str, &mut String),
    /// Objects' keys in `jsonb` order (else in the order the map holds them).
    pub jsonb_keys: bool,
}

/// `json.dumps`.
const DUMPS: PyStyle = PyStyle {
    null: "null",
    true_: "true",
    false_: "false",
    float: write_py_float,
    string: write_py_str,
    jsonb_keys: true,
};

/// Writes `v` as Python prints it in `style`.
pub(crate) fn write_python(v: &Value, style: &PyStyle, out: &mut String) {
    match v {
        Value::Null => out.push_str(style.null),
        Value::Bool(b) => out.push_str(if *b { style.true_ } else { style.false_ }),
        Value::Number(n) => {
            if n.is_f64() {
                (style.float)(n.as_f64().unwrap_or(f64::NAN), out);
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => (style.string)(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python(item, style, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            if style.jsonb_keys {
                entries.sort_by(|a, b| jsonb_key_order(a.0, b.0));
            }
            out.push('{');
            for (i, (k, val)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                (style.string)(k, out);
                out.push_str(": ");
                write_python(val, style, out);
            }
            out.push('}');
        }
    }
}

/// [`py_float`], written to `out`.
fn write_py_float(f: f64, out: &mut String) {
    out.push_str(&py_float(f));
}

/// Python's `repr(float)`: shortest round-trip digits, `.0` on whole numbers, exponent as `e+XX`.
fn py_float(f: f64) -> String {
    if f.is_finite() && f == f.trunc() && f.abs() < 1e16 {
        return format!("{f:.1}");
    }
    let s = format!("{f:?}");
    if let Some((mant, exp)) = s.split_once('e') {
        let exp: i32 = exp.parse().unwrap_or(0);
        let sign = if exp < 0 { '-' } else { '+' };
        return format!("{mant}e{sign}{:02}", exp.abs());
    }
    s
}

fn write_py_str(s: &str, out: &mut String) {
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0c}' => out.push_str("\\f"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{unit:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn matches_the_reference_attachment_bytes() {
        // Decoded from a captured FHIR attachment (fhir_Observation_search_patient_code_page2).
        let expected = r#"{"body": {"blood_glucose": {"unit": "mg/dL", "value": 119}, "effective_time_frame": {"date_time": "2026-11-24T19:00:00Z"}, "temporal_relationship_to_meal": "after meal"}, "header": {"uuid": "69f66895-c6f3-5ce2-8410-e555fad17fd4", "modality": "sensed", "schema_id": {"name": "blood-glucose", "version": "4.0", "namespace": "omh"}, "external_datasheets": [{"datasheet_type": "manufacturer", "datasheet_reference": "jhe-desktop sample"}], "source_creation_date_time": "2026-11-24T19:01:00Z"}}"#;
        let v: Value = serde_json::from_str(expected).unwrap();
        // Shuffle the key order: the output must not depend on it.
        let shuffled = json!({"header": v["header"], "body": v["body"]});
        assert_eq!(py_dumps(&shuffled), expected);
    }

    #[test]
    fn floats_and_unicode_like_python() {
        assert_eq!(py_dumps(&json!(72.0)), "72.0");
        assert_eq!(py_dumps(&json!(97.3)), "97.3");
        assert_eq!(py_dumps(&json!(1e-5)), "1e-05");
        assert_eq!(py_dumps(&json!("café")), "\"caf\\u00e9\"");
    }
}
