//! OMH / IEEE 1752 JSON-schema validation, as JHE's upload validator does it.
//!
//! JHE preloads `data/schema/omh/*.json` under [`OMH_BASE`] and `data/schema/ieee/**.json`
//! (flattened by file name) under [`IEEE_BASE`], blocks remote `$ref`s, and for an observation
//! with code `ns:name:version` validates `header` against `ieee:header:1.0` and `body` against
//! `{"$ref": "<base>/<name>-<version>.json"}`. The root of that `$ref` has no `$schema`, so Python
//! `jsonschema` uses its latest draft (2020-12); `format` is not asserted.
//!
//! The schema files are vendored in `crates/jhe-sandbox/schemas/` and embedded by `build.rs`.
//! In that copy the `*-N.x.json` alias files are plain text naming their target (they are
//! symlinks upstream); [`SchemaSet::embedded`] resolves them to the target's contents.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::{Registry, Retrieve, Uri, ValidationError, Validator};
use parking_lot::RwLock;
use serde::de::{Deserialize, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde_json::Value;

use crate::pyjson::{write_python, PyStyle};

mod files {
    include!(concat!(env!("OUT_DIR"), "/schema_files.rs"));
}

/// Base URI of the OMH schemas (`omh/NAME-VERSION.json`).
pub const OMH_BASE: &str = "https://w3id.org/openmhealth/schemas/omh/";
/// Base URI of the IEEE 1752 schemas (`ieee/**/NAME-VERSION.json`, flattened by file name).
pub const IEEE_BASE: &str = "https://w3id.org/ieee/ieee-1752-schema/";
/// The code of the schema every data point's `header` is validated against.
pub const HEADER_CODE: &str = "ieee:header:1.0";

/// The embedded schema files: (path relative to `schemas/`, contents), sorted by path.
pub fn embedded_files() -> &'static [(&'static str, &'static str)] {
    files::SCHEMA_FILES
}

/// Failure to load the schema set.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("schema file {path}: {message}")]
    File { path: String, message: String },
    #[error("schema registry: {0}")]
    Registry(String),
}

/// Refuses every retrieval: only preloaded resources resolve (JHE's `NoNetwork`).
struct NoNetwork;

impl Retrieve for NoNetwork {
    fn retrieve(
        &self,
        uri: &Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Err(format!("Remote $ref blocked (not preloaded): {uri}").into())
    }
}

/// A compiled validator and the schema's top-level property names in file order.
struct CompiledSchema {
    validator: Validator,
    order: Vec<String>,
}

type Compiled = Arc<Result<CompiledSchema, String>>;

/// The preloaded OMH + IEEE schemas with a cache of compiled validators (one per code).
pub struct SchemaSet {
    registry: Registry<'static>,
    /// Every URL a file was registered under (its base URL and, if different, its `$id`).
    urls: HashSet<String>,
    /// Base URL → the file's text (aliases resolved), for the property order.
    texts: HashMap<String, &'static str>,
    cache: RwLock<HashMap<String, Compiled>>,
}

impl std::fmt::Debug for SchemaSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaSet")
            .field("resources", &self.urls.len())
            .field("compiled", &self.cache.read().len())
            .finish()
    }
}

fn file_name(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

fn dir_of(path: &str) -> &str {
    match path.rfind('/') {
        Some(i) => &path[..i],
        None => "",
    }
}

/// Parses one embedded file, following an alias file (`foo-1.x.json` containing `foo-1.0.json`)
/// to its sibling. Aliases may chain a few times. Returns the JSON text and its value.
fn load_json(
    path: &str,
    by_path: &HashMap<&'static str, &'static str>,
) -> Result<(&'static str, Value), SchemaError> {
    let mut current = path.to_string();
    for _ in 0..8 {
        let text: &'static str =
            by_path
                .get(current.as_str())
                .copied()
                .ok_or_else(|| SchemaError::File {
                    path: path.to_string(),
                    message: format!("alias target {current} is not embedded"),
                })?;
        let trimmed = text.trim();
        if trimmed.starts_with('{') || trimmed.starts_with('[') {
            let value = serde_json::from_str(trimmed).map_err(|e| SchemaError::File {
                path: current.clone(),
                message: e.to_string(),
            })?;
            return Ok((trimmed, value));
        }
        if trimmed.ends_with(".json") && !trimmed.contains(['\n', ' ', '/']) {
            let dir = dir_of(&current);
            current = if dir.is_empty() {
                trimmed.to_string()
            } else {
                format!("{dir}/{trimmed}")
            };
            continue;
        }
        return Err(SchemaError::File {
            path: current,
            message: "neither JSON nor an alias file name".into(),
        });
    }
    Err(SchemaError::File {
        path: path.to_string(),
        message: "alias chain too long".into(),
    })
}

/// The names of a schema's top-level `properties`, in file order (Python `jsonschema` checks
/// them in that order; `serde_json::Value` does not keep it).
fn property_order(text: &str) -> Vec<String> {
    struct Keys(Vec<String>);
    impl<'de> Deserialize<'de> for Keys {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Keys, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Keys;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Keys, A::Error> {
                    let mut keys = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        map.next_value::<IgnoredAny>()?;
                        keys.push(k);
                    }
                    Ok(Keys(keys))
                }
            }
            d.deserialize_map(V)
        }
    }
    struct Top(Vec<String>);
    impl<'de> Deserialize<'de> for Top {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Top, D::Error> {
            struct V;
            impl<'de> Visitor<'de> for V {
                type Value = Top;
                fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                    f.write_str("a schema")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
                    let mut order = Vec::new();
                    while let Some(k) = map.next_key::<String>()? {
                        if k == "properties" {
                            order = map.next_value::<Keys>()?.0;
                        } else {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                    Ok(Top(order))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_str::<Top>(text)
        .map(|t| t.0)
        .unwrap_or_default()
}

/// `ns:name:version` → the URL JHE's `code_to_schema` builds.
pub fn code_to_url(code: &str) -> Option<String> {
    let mut parts = code.split(':');
    let (ns, name, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || name.is_empty() || version.is_empty() {
        return None;
    }
    let base = match ns {
        "omh" => OMH_BASE,
        "ieee" => IEEE_BASE,
        _ => return None,
    };
    Some(format!("{base}{name}-{version}.json"))
}

impl SchemaSet {
    /// Loads the schemas embedded in the binary.
    pub fn embedded() -> Result<SchemaSet, SchemaError> {
        Self::from_files(embedded_files())
    }

    /// Loads a schema set from `(relative path, contents)` pairs laid out like `schemas/`
    /// (`omh/NAME.json`, `ieee/<any folder>/NAME.json`).
    pub fn from_files(files: &[(&'static str, &'static str)]) -> Result<SchemaSet, SchemaError> {
        let by_path: HashMap<&'static str, &'static str> = files.iter().copied().collect();
        let mut resources: Vec<(String, Value)> = Vec::with_capacity(files.len() * 2);
        let mut urls = HashSet::new();
        let mut texts = HashMap::new();
        for (path, _) in files {
            let base = if path.starts_with("omh/") {
                OMH_BASE
            } else if path.starts_with("ieee/") {
                IEEE_BASE
            } else {
                continue;
            };
            let (text, value) = load_json(path, &by_path)?;
            let url = format!("{base}{}", file_name(path));
            texts.insert(url.clone(), text);
            let id = value
                .get("$id")
                .and_then(Value::as_str)
                .map(|s| s.trim_end_matches('#').to_string());
            if let Some(id) = id {
                if id != url && !urls.contains(&id) && id.starts_with("http") {
                    urls.insert(id.clone());
                    resources.push((id, value.clone()));
                }
            }
            if urls.insert(url.clone()) {
                resources.push((url, value));
            }
        }
        let registry = Registry::new()
            .retriever(NoNetwork)
            .extend(resources)
            .and_then(|b| b.prepare())
            .map_err(|e| SchemaError::Registry(e.to_string()))?;
        Ok(SchemaSet {
            registry,
            urls,
            texts,
            cache: RwLock::new(HashMap::new()),
        })
    }

    /// Whether a schema file exists for this code (`omh:NAME:VERSION` or `ieee:NAME:VERSION`).
    pub fn has_schema(&self, code: &str) -> bool {
        code_to_url(code).is_some_and(|u| self.urls.contains(&u))
    }

    fn compiled(&self, code: &str) -> Compiled {
        if let Some(c) = self.cache.read().get(code) {
            return c.clone();
        }
        let result = match code_to_url(code) {
            None => Err(format!(
                "not enough values to unpack or unknown namespace in code {code:?}"
            )),
            Some(url) if !self.urls.contains(&url) => Err(format!("Unresolvable: {url}")),
            Some(url) => jsonschema::options()
                .with_registry(&self.registry)
                .with_retriever(NoNetwork)
                .should_validate_formats(false)
                .build(&serde_json::json!({ "$ref": url }))
                .map(|validator| CompiledSchema {
                    validator,
                    order: self
                        .texts
                        .get(&url)
                        .map_or_else(Vec::new, |t| property_order(t)),
                })
                .map_err(|e| format!("cannot compile {url}: {e}")),
        };
        let compiled = Arc::new(result);
        self.cache
            .write()
            .entry(code.to_string())
            .or_insert(compiled)
            .clone()
    }

    /// Validates a single instance against the schema named by `code`; errors in Python
    /// `jsonschema` style, ordered as Python finds them where that is cheap to know (errors
    /// under the top-level properties in the schema file's order, then the instance's own,
    /// e.g. `required`), so the first one is the message JHE reports.
    pub fn validate_instance(&self, code: &str, instance: &Value) -> Result<(), Vec<String>> {
        let compiled = self.compiled(code);
        let schema = match compiled.as_ref() {
            Ok(v) => v,
            Err(e) => return Err(vec![e.clone()]),
        };
        let mut errors: Vec<((u8, usize), String)> = Vec::new();
        for error in schema.validator.iter_errors(instance) {
            let msg = python_message(&error);
            if errors.iter().any(|(_, m)| *m == msg) {
                continue;
            }
            let path = error.instance_path().as_str();
            let key = match path.strip_prefix('/') {
                None => (1, 0),
                Some(rest) => {
                    let first = rest.split('/').next().unwrap_or(rest);
                    let first = first.replace("~1", "/").replace("~0", "~");
                    let pos = schema.order.iter().position(|k| *k == first);
                    (0, pos.unwrap_or(usize::MAX))
                }
            };
            errors.push((key, msg));
        }
        if errors.is_empty() {
            return Ok(());
        }
        errors.sort_by_key(|(k, _)| *k);
        Err(errors.into_iter().map(|(_, m)| m).collect())
    }

    /// Validates an OMH data point like JHE: `header` against IEEE header-1.0, then `body` against
    /// the schema named by `code` (e.g. `omh:blood-glucose:4.0`). A missing `header`/`body` is
    /// validated as `null`. As in JHE, the header is checked first and only its errors are
    /// returned when it fails; JHE reports the first message of the list.
    pub fn validate(&self, code: &str, omh: &Value) -> Result<(), Vec<String>> {
        let header = omh.get("header").unwrap_or(&Value::Null);
        self.validate_instance(HEADER_CODE, header)?;
        let body = omh.get("body").unwrap_or(&Value::Null);
        self.validate_instance(code, body)
    }
}

/// Python `repr()` of a JSON value as `json.loads` would produce it.
pub fn py_repr(value: &Value) -> String {
    let mut out = String::new();
    write_python(value, &REPR, &mut out);
    out
}

fn write_py_str(s: &str, out: &mut String) {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
}

fn write_py_float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("nan");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else if f.fract() == 0.0 && f.abs() < 1e16 {
        out.push_str(&format!("{f:.1}"));
    } else {
        // Rust prints the shortest round-trip digits like Python, but `1e16` vs `1e+16`.
        let s = format!("{f:e}");
        let abs = f.abs();
        if (1e-4..1e16).contains(&abs) {
            out.push_str(&format!("{f}"));
        } else if let Some((mant, exp)) = s.split_once('e') {
            let exp: i32 = exp.parse().unwrap_or(0);
            out.push_str(mant);
            out.push_str(&format!(
                "e{}{:02}",
                if exp < 0 { '-' } else { '+' },
                exp.abs()
            ));
        } else {
            out.push_str(&s);
        }
    }
}

/// `repr()` of what `json.loads` gives: `None`, `True`, `False`, quotes as Python picks them.
const REPR: PyStyle = PyStyle {
    null: "None",
    true_: "True",
    false_: "False",
    float: write_py_float,
    string: write_py_str,
    jsonb_keys: false,
};

fn py_type_list(kind: &TypeKind) -> String {
    let names: Vec<String> = match kind {
        TypeKind::Single(t) => vec![format!("'{}'", t.as_str())],
        TypeKind::Multiple(set) => set.iter().map(|t| format!("'{}'", t.as_str())).collect(),
    };
    names.join(", ")
}

/// The message Python `jsonschema` gives for this error.
fn python_message(error: &ValidationError<'_>) -> String {
    let instance = py_repr(error.instance());
    match error.kind() {
        ValidationErrorKind::Required { property } => {
            format!("{} is a required property", py_repr(property))
        }
        ValidationErrorKind::Enum { options } => {
            format!("{instance} is not one of {}", py_repr(options))
        }
        ValidationErrorKind::Type { kind } => {
            format!("{instance} is not of type {}", py_type_list(kind))
        }
        ValidationErrorKind::OneOfNotValid { .. } | ValidationErrorKind::AnyOf { .. } => {
            format!("{instance} is not valid under any of the given schemas")
        }
        ValidationErrorKind::OneOfMultipleValid { .. } => {
            format!("{instance} is valid under each of the given schemas")
        }
        ValidationErrorKind::Constant { expected_value } => {
            format!("{} was expected", py_repr(expected_value))
        }
        ValidationErrorKind::Minimum { limit } => {
            format!("{instance} is less than the minimum of {}", py_repr(limit))
        }
        ValidationErrorKind::Maximum { limit } => {
            format!(
                "{instance} is greater than the maximum of {}",
                py_repr(limit)
            )
        }
        ValidationErrorKind::ExclusiveMinimum { limit } => format!(
            "{instance} is less than or equal to the minimum of {}",
            py_repr(limit)
        ),
        ValidationErrorKind::ExclusiveMaximum { limit } => format!(
            "{instance} is greater than or equal to the maximum of {}",
            py_repr(limit)
        ),
        ValidationErrorKind::Pattern { pattern } => {
            format!(
                "{instance} does not match {}",
                py_repr(&Value::String(pattern.clone()))
            )
        }
        ValidationErrorKind::Format { format } => {
            format!(
                "{instance} is not a {}",
                py_repr(&Value::String(format.clone()))
            )
        }
        ValidationErrorKind::MinItems { limit } => {
            if *limit == 1 {
                format!("{instance} should be non-empty")
            } else {
                format!("{instance} is too short")
            }
        }
        ValidationErrorKind::MaxItems { .. } => format!("{instance} is too long"),
        ValidationErrorKind::MinLength { .. } => format!("{instance} is too short"),
        ValidationErrorKind::MaxLength { .. } => format!("{instance} is too long"),
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let names: Vec<String> = unexpected
                .iter()
                .map(|u| py_repr(&Value::String(u.clone())))
                .collect();
            let verb = if unexpected.len() == 1 { "was" } else { "were" };
            format!(
                "Additional properties are not allowed ({} {verb} unexpected)",
                names.join(", ")
            )
        }
        ValidationErrorKind::FalseSchema => format!("False schema does not allow {instance}"),
        ValidationErrorKind::UniqueItems => format!("{instance} has non-unique elements"),
        ValidationErrorKind::Not { schema } => {
            format!("{} should not be valid under {}", instance, py_repr(schema))
        }
        _ => error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn set() -> SchemaSet {
        SchemaSet::embedded().expect("embedded schemas load")
    }

    fn bg(body: Value) -> Value {
        json!({
            "header": {
                "uuid": "aaaa1234-1a2b-3c4d-5e6f-000000000001",
                "schema_id": {"namespace": "omh", "name": "blood-glucose", "version": "4.0"},
                "source_creation_date_time": "2025-01-01T01:01:01-08:00",
                "modality": "sensed"
            },
            "body": body
        })
    }

    #[test]
    fn embedded_table_is_complete() {
        let files = embedded_files();
        assert!(files.len() > 290, "only {} files embedded", files.len());
        assert!(files
            .iter()
            .any(|(p, _)| *p == "ieee/metadata/header-1.0.json"));
        assert!(files
            .iter()
            .any(|(p, _)| *p == "omh/blood-glucose-4.0.json"));
    }

    #[test]
    fn has_schema_follows_codes() {
        let s = set();
        for code in [
            "omh:blood-glucose:4.0",
            "omh:heart-rate:2.0",
            "omh:step-count:3.0",
            "omh:physical-activity:1.2",
            "omh:sleep-duration:2.0",
            "omh:blood-glucose:4.x",
            "ieee:header:1.0",
            "ieee:sleep-stage-summary:1.0",
        ] {
            assert!(s.has_schema(code), "{code}");
        }
        for code in [
            "omh:blood-glucose:9.0",
            "fhir:x:1.0",
            "omh:blood-glucose",
            "QuestionnaireResponse",
        ] {
            assert!(!s.has_schema(code), "{code}");
        }
    }

    #[test]
    fn valid_and_invalid_blood_glucose() {
        let s = set();
        let ok = bg(json!({
            "blood_glucose": {"unit": "mg/dL", "value": 129},
            "effective_time_frame": {"date_time": "2025-01-01T00:01:00-08:00"}
        }));
        assert_eq!(s.validate("omh:blood-glucose:4.0", &ok), Ok(()));

        let missing = bg(json!({
            "blood_glucose": {"unit": "mg/dL"},
            "effective_time_frame": {"date_time": "2025-01-01T00:01:00-08:00"}
        }));
        let errs = s.validate("omh:blood-glucose:4.0", &missing).unwrap_err();
        assert_eq!(errs, vec!["'value' is a required property".to_string()]);

        let mgdl = bg(json!({
            "blood_glucose": {"unit": "MGDL", "value": 129},
            "effective_time_frame": {"date_time": "2025-01-01T00:01:00-08:00"}
        }));
        let errs = s.validate("omh:blood-glucose:4.0", &mgdl).unwrap_err();
        assert_eq!(
            errs,
            vec!["'MGDL' is not one of ['mg/dL', 'mmol/L']".to_string()]
        );

        let wrong_type = bg(json!({
            "blood_glucose": {"unit": "mg/dL", "value": "129"},
            "effective_time_frame": {"date_time": "2025-01-01T00:01:00-08:00"}
        }));
        let errs = s
            .validate("omh:blood-glucose:4.0", &wrong_type)
            .unwrap_err();
        assert_eq!(errs, vec!["'129' is not of type 'number'".to_string()]);
    }

    #[test]
    fn format_is_not_asserted() {
        let s = set();
        let naive = bg(json!({
            "blood_glucose": {"unit": "mg/dL", "value": 129},
            "effective_time_frame": {"date_time": "2026-11-20T08:05:00"}
        }));
        assert_eq!(s.validate("omh:blood-glucose:4.0", &naive), Ok(()));
        let mut bad_uuid = naive.clone();
        bad_uuid["header"]["uuid"] = json!("not-a-uuid");
        assert_eq!(s.validate("omh:blood-glucose:4.0", &bad_uuid), Ok(()));
    }

    #[test]
    fn header_is_checked_first() {
        let s = set();
        let mut v = bg(json!({"blood_glucose": {"unit": "MGDL"}}));
        v["header"].as_object_mut().unwrap().remove("uuid");
        let errs = s.validate("omh:blood-glucose:4.0", &v).unwrap_err();
        assert_eq!(errs, vec!["'uuid' is a required property".to_string()]);

        let errs = s
            .validate("omh:blood-glucose:4.0", &json!({"body": {}}))
            .unwrap_err();
        assert_eq!(errs, vec!["None is not of type 'object'".to_string()]);
    }

    #[test]
    fn time_interval_required_for_step_count() {
        let s = set();
        let mut v = bg(json!({
            "step_count": {"unit": "steps", "value": 8421},
            "effective_time_frame": {"date_time": "2026-11-25T00:00:00Z"}
        }));
        v["header"]["schema_id"] =
            json!({"namespace": "omh", "name": "step-count", "version": "3.0"});
        let errs = s.validate("omh:step-count:3.0", &v).unwrap_err();
        assert!(
            errs.contains(&"'time_interval' is a required property".to_string()),
            "{errs:?}"
        );
        v["body"]["effective_time_frame"] = json!({"time_interval": {
            "start_date_time": "2026-11-25T00:00:00Z", "end_date_time": "2026-11-26T00:00:00Z"}});
        assert_eq!(s.validate("omh:step-count:3.0", &v), Ok(()));
    }

    #[test]
    fn errors_come_in_python_order() {
        let s = set();
        let mut v = bg(json!({
            "heart_rate": {"unit": "bpm", "value": 60},
            "effective_time_frame": {}
        }));
        v["header"]["schema_id"] =
            json!({"namespace": "omh", "name": "heart-rate", "version": "2.0"});
        let errs = s.validate("omh:heart-rate:2.0", &v).unwrap_err();
        assert_eq!(
            errs,
            vec![
                "'bpm' is not one of ['beats/min']".to_string(),
                "{} is not valid under any of the given schemas".to_string()
            ]
        );
        assert_eq!(
            property_order(
                r#"{"a": 1, "properties": {"z": {}, "b": {"properties": {"q": 1}}, "m": 2}}"#
            ),
            vec!["z", "b", "m"]
        );
    }

    #[test]
    fn unknown_code_is_an_error() {
        let s = set();
        let v = bg(json!({}));
        assert!(s.validate("omh:nope:1.0", &v).is_err());
        assert!(s.validate("garbage", &v).is_err());
    }

    #[test]
    fn python_reprs() {
        assert_eq!(
            py_repr(&json!({"a": [1, 2.5, null, true, "x'y"]})),
            r#"{'a': [1, 2.5, None, True, "x'y"]}"#
        );
        assert_eq!(py_repr(&json!(72.0)), "72.0");
        assert_eq!(py_repr(&json!(1e20)), "1e+20");
        assert_eq!(py_repr(&json!(0.00001)), "1e-05");
        assert_eq!(py_repr(&json!("it's \"q\"")), r#"'it\'s "q"'"#);
    }

    /// Every example data point shipped with JHE validates (the copy vendored in
    /// `tests/fixtures/omh-schemas/examples`, or `$JHE_SHARED_DIR/omh-schemas/examples`).
    #[test]
    fn shared_examples_validate() {
        let dir = crate::schema::tests::shared_dir().join("omh-schemas/examples");
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| {
            panic!(
                "cannot read {} ({e}); the examples are vendored in tests/fixtures \
                 (or set JHE_SHARED_DIR)",
                dir.display()
            )
        });
        let s = set();
        let mut n = 0;
        for entry in entries {
            let path = entry.unwrap().path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            let sid = &v["header"]["schema_id"];
            let code = format!(
                "{}:{}:{}",
                sid["namespace"].as_str().unwrap(),
                sid["name"].as_str().unwrap(),
                sid["version"].as_str().unwrap()
            );
            assert_eq!(s.validate(&code, &v), Ok(()), "{}", path.display());
            n += 1;
        }
        assert!(n >= 7, "only {n} examples in {}", dir.display());
    }

    /// `$JHE_SHARED_DIR`, or the repository's vendored `tests/fixtures`.
    pub(crate) fn shared_dir() -> std::path::PathBuf {
        match std::env::var_os("JHE_SHARED_DIR") {
            Some(d) => d.into(),
            None => std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures"),
        }
    }
}
