//! Decoding: the OMH payload of a [`RawObservation`] (base64 or JSON) read by the fast scanner
//! into a [`DecodedObservation`]: the effective time frame, the header facts, the context
//! strings and the values (by the type's spec, [`super::types`]).

use base64::Engine as _;
use serde_json::Value;

use super::fast::{self, scan_str, scan_value, Body, Header, ScanError, J, STR_KEYS};
use super::record::{
    DecodedObservation, EffectiveTime, Envelope, HeaderInfo, OmhPayload, OmhSource, Problem,
    RawObservation, Values,
};
use super::time::{
    duration_us, in_range, is_duration_unit, parse_date_time, ParsedTime, US_PER_DAY,
};
use super::types::DataType;

const B64: base64::engine::GeneralPurpose = base64::engine::GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    base64::engine::GeneralPurposeConfig::new()
        .with_decode_padding_mode(base64::engine::DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

fn decode_base64(data: &str) -> Result<Vec<u8>, String> {
    match B64.decode(data) {
        Ok(v) => Ok(v),
        Err(e) => {
            // Python's b64decode drops whitespace (e.g. the trailing "\n" of older uploads).
            if data.bytes().any(|b| b.is_ascii_whitespace()) {
                let clean: String = data.chars().filter(|c| !c.is_ascii_whitespace()).collect();
                B64.decode(clean)
                    .map_err(|e| format!("bad base64 in valueAttachment.data: {e}"))
            } else {
                Err(format!("bad base64 in valueAttachment.data: {e}"))
            }
        }
    }
}

/// Decodes the OMH payload of `raw` and reads its time frame, header and values.
///
/// Bad base64, invalid JSON, a payload that is not an object, a missing or unreadable
/// `effective_time_frame`, or a modelled type without its numeric value give a [`Problem`].
/// Unknown units are not problems: the normalised value is then null and the original kept.
pub fn decode(raw: &RawObservation) -> Result<DecodedObservation, Problem> {
    let omh = payload(raw)?;
    decode_parts(Parts {
        id: raw.id,
        patient_id: raw.patient_id,
        coding_system: raw.coding_system.clone(),
        code: raw.coding_code.clone(),
        last_updated: raw.last_updated.clone(),
        envelope: raw.envelope.clone(),
        omh,
    })
}

/// Like [`decode`], consuming the raw observation (no copies of its strings and payload).
pub fn decode_owned(mut raw: RawObservation) -> Result<DecodedObservation, Problem> {
    let omh = match &mut raw.omh {
        OmhSource::Json(Value::String(t)) => OmhPayload::Text(std::mem::take(t)),
        OmhSource::Json(v) => OmhPayload::Json(std::mem::take(v)),
        OmhSource::Base64(_) => payload(&raw)?,
    };
    decode_parts(Parts {
        id: raw.id,
        patient_id: raw.patient_id,
        coding_system: raw.coding_system,
        code: raw.coding_code,
        last_updated: raw.last_updated,
        envelope: raw.envelope,
        omh,
    })
}

fn problem_of(raw: &RawObservation, message: String) -> Problem {
    Problem {
        observation_id: raw.id,
        patient_id: raw.patient_id,
        code: raw.coding_code.clone(),
        message,
        not_asked: false,
    }
}

/// The OMH payload of a raw observation.
fn payload(raw: &RawObservation) -> Result<OmhPayload, Problem> {
    match &raw.omh {
        OmhSource::Base64(data) => {
            let bytes = decode_base64(data).map_err(|m| problem_of(raw, m))?;
            String::from_utf8(bytes).map(OmhPayload::Text).map_err(|e| {
                problem_of(
                    raw,
                    format!("OMH payload is not valid JSON: not UTF-8 ({e})"),
                )
            })
        }
        OmhSource::Json(Value::String(text)) => Ok(OmhPayload::Text(text.clone())),
        OmhSource::Json(v) => Ok(OmhPayload::Json(v.clone())),
    }
}

struct Parts {
    id: u64,
    patient_id: u64,
    coding_system: String,
    code: String,
    last_updated: Option<String>,
    envelope: Envelope,
    omh: OmhPayload,
}

type Read = (
    EffectiveTime,
    HeaderInfo,
    DataType,
    Values,
    Vec<(&'static str, String)>,
);

fn decode_parts(p: Parts) -> Result<DecodedObservation, Problem> {
    match read_omh(&p.code, &p.omh) {
        Ok((_, header, ..)) if schema_disagrees(header.schema_id.as_deref(), &p.code) => {
            Err(Problem {
                message: format!(
                    "not asked for: its OMH header names the schema {}, not its code {}; left out",
                    header.schema_id.as_deref().unwrap_or_default(),
                    p.code
                ),
                observation_id: p.id,
                patient_id: p.patient_id,
                code: p.code,
                not_asked: true,
            })
        }
        Ok((time, header, view, values, context)) => {
            let mut envelope = p.envelope;
            if envelope.effective.is_none() {
                envelope.effective = Some(time.fhir_effective());
            }
            let last_updated_utc = p
                .last_updated
                .as_deref()
                .and_then(parse_date_time)
                .map(|t| t.utc_us);
            Ok(DecodedObservation {
                id: p.id,
                patient_id: p.patient_id,
                coding_system: p.coding_system,
                code: p.code,
                view,
                last_updated: p.last_updated,
                last_updated_utc,
                envelope,
                omh: p.omh,
                time,
                header,
                values,
                context,
            })
        }
        Err(message) => Err(Problem {
            observation_id: p.id,
            patient_id: p.patient_id,
            code: p.code,
            message,
            not_asked: false,
        }),
    }
}

fn read_omh(code: &str, omh: &OmhPayload) -> Result<Read, String> {
    let scanned = match omh {
        OmhPayload::Text(t) => scan_str(t),
        OmhPayload::Json(v) => scan_value(v),
    };
    let scan = scanned.map_err(|e| match e {
        ScanError::Syntax(e) => format!("OMH payload is not valid JSON: {e}"),
        ScanError::NotObject => "OMH payload is not a JSON object".to_string(),
    })?;
    if !scan.body.is_object {
        return Err("OMH body is not a JSON object".into());
    }
    let time = effective_time(&scan.body)?;
    let header = header_info(scan.header.as_ref());
    let view = DataType::from_code(code);
    let values = match view.spec() {
        Some(spec) => spec.read(&scan.body, omh)?,
        None => Values::Other,
    };
    let context = STR_KEYS
        .iter()
        .zip(&scan.body.strs)
        .filter_map(|(k, v)| Some((*k, v.as_ref()?.as_str()?.to_string())))
        .collect();
    Ok((time, header, view, values, context))
}

fn parse_field(key: &str, v: Option<&J>) -> Result<Option<ParsedTime>, String> {
    match v {
        None | Some(J::Null) => Ok(None),
        Some(J::Str(s)) => parse_date_time(s)
            .map(Some)
            .ok_or_else(|| format!("effective_time_frame: cannot read {key} {s:?}")),
        Some(other) => Err(format!(
            "effective_time_frame: {key} is not a string: {other}"
        )),
    }
}

fn duration_of(ti: &fast::Interval) -> Result<Option<i64>, String> {
    let Some(d) = &ti.duration else {
        return Ok(None);
    };
    let (value, unit) = match d.shape {
        fast::QtyShape::Object => (
            d.value.as_ref().and_then(J::as_f64),
            d.unit.as_ref().and_then(J::as_str),
        ),
        _ => (None, None),
    };
    match (value, unit) {
        (Some(v), Some(u)) => duration_us(v, u).map(Some).ok_or_else(|| {
            if is_duration_unit(u) {
                // 1e300, not three hundred digits.
                let v = if v.abs() < 1e9 {
                    v.to_string()
                } else {
                    format!("{v:e}")
                };
                format!("effective_time_frame: duration {v} {u} is out of range (0 to 100 years)")
            } else {
                format!("effective_time_frame: unknown duration unit {u:?}")
            }
        }),
        _ => Err("effective_time_frame: duration without value and unit".into()),
    }
}

/// Reads `effective_time_frame` (a `date_time`, or a `time_interval` given as start+end,
/// start+duration, end+duration, or date+part_of_day); a time outside 1900–2199 is an error.
fn effective_time(body: &Body) -> Result<EffectiveTime, String> {
    let t = effective_time_any(body)?;
    for us in [Some(t.start_utc), t.end_utc].into_iter().flatten() {
        if !in_range(us) {
            return Err(format!(
                "effective_time_frame: {} is out of range (1900-01-01 to 2199-12-31)",
                super::time::iso_z(us)
            ));
        }
    }
    Ok(t)
}

fn effective_time_any(body: &Body) -> Result<EffectiveTime, String> {
    let Some(tf) = body.time_frame.as_ref().filter(|t| t.is_object) else {
        return Err("no effective_time_frame".into());
    };
    if let Some(dt) = &tf.date_time {
        let Some(t) = dt.as_str().and_then(parse_date_time) else {
            return Err(format!("effective_time_frame: cannot read date_time {dt}"));
        };
        return Ok(EffectiveTime {
            start_utc: t.utc_us,
            end_utc: None,
            start_local: t.local_us(),
            end_local: None,
            utc_offset_min: t.offset_min,
        });
    }
    let Some(ti) = tf.interval.as_ref().filter(|i| i.is_object) else {
        return Err("effective_time_frame has neither date_time nor time_interval".into());
    };
    let start = parse_field("start_date_time", ti.start.as_ref())?;
    let end = parse_field("end_date_time", ti.end.as_ref())?;
    let t = match (start, end) {
        (Some(s), Some(e)) => EffectiveTime {
            start_utc: s.utc_us,
            end_utc: Some(e.utc_us),
            start_local: s.local_us(),
            end_local: Some(e.local_us()),
            utc_offset_min: s.offset_min,
        },
        (Some(s), None) => {
            let d = duration_of(ti)?
                .ok_or("effective_time_frame: time_interval with a start but no end or duration")?;
            EffectiveTime {
                start_utc: s.utc_us,
                end_utc: Some(s.utc_us + d),
                start_local: s.local_us(),
                end_local: Some(s.local_us() + d),
                utc_offset_min: s.offset_min,
            }
        }
        (None, Some(e)) => {
            let d = duration_of(ti)?.ok_or(
                "effective_time_frame: time_interval with an end but no start or duration",
            )?;
            EffectiveTime {
                start_utc: e.utc_us - d,
                end_utc: Some(e.utc_us),
                start_local: e.local_us() - d,
                end_local: Some(e.local_us()),
                utc_offset_min: e.offset_min,
            }
        }
        (None, None) => {
            // date + part_of_day: the whole day, read as UTC (as the JHE server does).
            let date = ti.date.as_ref().and_then(J::as_str).ok_or(
                "effective_time_frame: time_interval without start, end or date".to_string(),
            )?;
            let d = parse_date_time(date)
                .filter(|d| d.offset_min.is_none() && d.utc_us % US_PER_DAY == 0)
                .ok_or_else(|| format!("effective_time_frame: cannot read date {date:?}"))?;
            EffectiveTime {
                start_utc: d.utc_us,
                end_utc: Some(d.utc_us + US_PER_DAY),
                start_local: d.utc_us,
                end_local: Some(d.utc_us + US_PER_DAY),
                utc_offset_min: None,
            }
        }
    };
    Ok(t)
}

fn jstr(v: &Option<J>) -> Option<String> {
    v.as_ref().and_then(J::as_str).map(str::to_string)
}

/// Whether the OMH header's `schema_id` (`namespace:name:version`) names another type than the
/// row's code (ASCII case aside). A payload without a complete `schema_id` does not disagree.
fn schema_disagrees(schema_id: Option<&str>, code: &str) -> bool {
    schema_id.is_some_and(|s| !s.eq_ignore_ascii_case(code.trim()))
}

fn header_info(header: Option<&Header>) -> HeaderInfo {
    let Some(h) = header else {
        return HeaderInfo::default();
    };
    let reference = |s: &fast::Sheet| jstr(&s.reference);
    let device = h
        .sheets
        .iter()
        .filter(|s| s.kind.as_ref().and_then(J::as_str) == Some("manufacturer"))
        .find_map(reference)
        .or_else(|| h.sheets.iter().find_map(reference));
    let schema_id = match (
        jstr(&h.schema.namespace),
        jstr(&h.schema.name),
        jstr(&h.schema.version),
    ) {
        (Some(ns), Some(name), Some(v)) => Some(format!("{ns}:{name}:{v}")),
        _ => None,
    };
    HeaderInfo {
        schema_id,
        uuid: jstr(&h.uuid),
        modality: jstr(&h.modality),
        source_name: jstr(&h.source_name),
        device,
        source_creation_utc: h
            .source_creation
            .as_ref()
            .and_then(J::as_str)
            .and_then(parse_date_time)
            .map(|t| t.utc_us),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::omh::{time, Effective, Quantity, OMH_SYSTEM};
    use serde_json::json;

    fn raw(code: &str, omh: Value) -> RawObservation {
        RawObservation {
            id: 1,
            patient_id: 2,
            coding_system: OMH_SYSTEM.into(),
            coding_code: code.into(),
            last_updated: Some("2026-11-26T01:59:33.981290Z".into()),
            omh: OmhSource::Json(omh),
            envelope: Envelope::default(),
        }
    }

    fn body(code: &str, body: Value) -> Result<DecodedObservation, Problem> {
        decode(&raw(code, json!({"header": {"uuid": "u"}, "body": body})))
    }

    #[test]
    fn interval_start_plus_duration_keeps_offset() {
        let d = body(
            "omh:step-count:3.0",
            json!({"step_count": {"unit": "steps", "value": 10234},
                   "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T00:00:00+09:00",
                                                              "duration": {"unit": "h", "value": 24}}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-20T15:00:00Z");
        assert_eq!(time::iso_z(d.time.end_utc.unwrap()), "2026-11-21T15:00:00Z");
        assert_eq!(
            time::iso_naive_us(d.time.start_local),
            "2026-11-21T00:00:00.000000"
        );
        assert_eq!(
            time::iso_naive_us(d.time.end_local.unwrap()),
            "2026-11-22T00:00:00.000000"
        );
        assert_eq!(d.time.utc_offset_min, Some(540));
        assert_eq!(d.time.duration_min(), Some(1440.0));
        assert_eq!(
            d.envelope.effective,
            Some(Effective::Period {
                start: Some("2026-11-20T15:00:00Z".into()),
                end: Some("2026-11-21T15:00:00Z".into())
            })
        );
    }

    #[test]
    fn interval_end_minus_duration() {
        let d = body(
            "omh:step-count:3.0",
            json!({"step_count": {"unit": "steps", "value": 812},
                   "effective_time_frame": {"time_interval": {"end_date_time": "2026-11-21T13:00:00-05:00",
                                                              "duration": {"unit": "min", "value": 60}}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-21T17:00:00Z");
        assert_eq!(
            time::iso_naive_us(d.time.start_local),
            "2026-11-21T12:00:00.000000"
        );
        assert_eq!(d.time.utc_offset_min, Some(-300));
    }

    #[test]
    fn interval_across_dst_uses_each_ends_offset() {
        let d = body(
            "omh:sleep-duration:2.0",
            json!({"sleep_duration": {"unit": "h", "value": 7.25},
                   "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-01T00:30:00-07:00",
                                                              "end_date_time": "2026-11-01T06:45:00-08:00"}}}),
        )
        .unwrap();
        assert_eq!(
            time::iso_naive_us(d.time.end_local.unwrap()),
            "2026-11-01T06:45:00.000000"
        );
        assert_eq!(d.time.duration_min(), Some(435.0));
        assert_eq!(
            d.values,
            Values::SleepDuration(Quantity {
                value: Some(435.0),
                original_value: Some(7.25),
                original_unit: Some("h".into())
            })
        );
    }

    #[test]
    fn naive_time_is_utc_without_offset() {
        let d = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 72},
                   "effective_time_frame": {"date_time": "2026-11-21T09:05:00"}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-21T09:05:00Z");
        assert_eq!(d.time.start_local, d.time.start_utc);
        assert_eq!(d.time.utc_offset_min, None);
        assert!(!d.time.is_interval());
    }

    #[test]
    fn date_and_part_of_day_is_the_utc_day() {
        let d = body(
            "omh:sleep-episode:1.1",
            json!({"effective_time_frame": {"time_interval": {"date": "2026-11-23", "part_of_day": "night"}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-23T00:00:00Z");
        assert_eq!(time::iso_z(d.time.end_utc.unwrap()), "2026-11-24T00:00:00Z");
        // sleep episodes are modelled now (see `types`); a code that is not keeps `Other`
        assert_eq!(d.view, DataType::SleepEpisode);
        let d = body(
            "omh:rr-interval:1.0",
            json!({"effective_time_frame": {"time_interval": {"date": "2026-11-23", "part_of_day": "night"}}}),
        )
        .unwrap();
        assert_eq!(time::iso_z(d.time.start_utc), "2026-11-23T00:00:00Z");
        assert_eq!(time::iso_z(d.time.end_utc.unwrap()), "2026-11-24T00:00:00Z");
        assert_eq!(d.view, DataType::Other("omh:rr-interval:1.0".into()));
        assert_eq!(d.values, Values::Other);
    }

    /// The quantity read from a `{key: {unit, value}}` reading of `code`.
    fn quantity(code: &str, key: &str, unit: &str, value: f64) -> Quantity {
        let d = body(
            code,
            json!({key: {"unit": unit, "value": value},
                   "effective_time_frame": {"date_time": "2026-11-20T07:45:12-08:00"}}),
        )
        .unwrap();
        match d.values {
            Values::BloodGlucose(q) | Values::BodyTemperature(q) | Values::BodyWeight(q) => q,
            v => panic!("not a quantity: {v:?}"),
        }
    }

    #[test]
    fn units_are_normalised_and_originals_kept() {
        let q = quantity("omh:blood-glucose:4.0", "blood_glucose", "mmol/L", 5.5);
        assert!((q.value.unwrap() - 99.1).abs() < 1e-9);
        assert_eq!(q.original_value, Some(5.5));
        assert_eq!(q.original_unit.as_deref(), Some("mmol/L"));
        let q = quantity("omh:body-temperature:4.0", "body_temperature", "F", 98.6);
        assert!((q.value.unwrap() - 37.0).abs() < 1e-9);
        let q = quantity("omh:body-weight:3.0", "body_weight", "lb", 200.0);
        assert!(
            (q.value.unwrap() - 90.7185).abs() < 1e-9,
            "rounded to 0.1 g"
        );
        // an unknown unit keeps the row, with a null normalised value
        let q = quantity("omh:blood-glucose:4.0", "blood_glucose", "furlongs", 5.5);
        assert_eq!(q.value, None);
        assert_eq!(q.original_unit.as_deref(), Some("furlongs"));
    }

    #[test]
    fn malformed_payloads_are_problems() {
        let mut r = raw("omh:heart-rate:2.0", Value::Null);
        r.omh = OmhSource::Base64("!!!".into());
        let p = decode(&r).unwrap_err();
        assert!(p.message.contains("base64"), "{p}");
        r.omh = OmhSource::Base64("eyJib2R5Ijog".into()); // {"body":
        assert!(decode(&r).unwrap_err().message.contains("JSON"));
        r.omh = OmhSource::Json(json!([1, 2]));
        assert!(decode(&r).unwrap_err().message.contains("object"));
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 60}}),
        )
        .unwrap_err();
        assert_eq!(p.message, "no effective_time_frame");
        assert_eq!(
            (p.observation_id, p.patient_id, p.code.as_str()),
            (1, 2, "omh:heart-rate:2.0")
        );
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min"}, "effective_time_frame": {"date_time": "2026-11-20T07:45:12Z"}}),
        )
        .unwrap_err();
        assert!(p.message.contains("heart_rate.value"), "{p}");
        let p = body(
            "omh:heart-rate:2.0",
            json!({"heart_rate": {"unit": "beats/min", "value": 1}, "effective_time_frame": {"date_time": "noon"}}),
        )
        .unwrap_err();
        assert!(p.message.contains("date_time"), "{p}");
    }

    #[test]
    fn base64_with_newline_and_without_padding() {
        let json = br#"{"body": {"effective_time_frame": {"date_time": "2026-11-20T07:45:12Z"}}}"#;
        let enc = base64::engine::general_purpose::STANDARD.encode(json);
        let mut r = raw("x:y:1", Value::Null);
        r.omh = OmhSource::Base64(format!("{enc}\n"));
        assert!(decode(&r).is_ok());
        r.omh = OmhSource::Base64(enc.trim_end_matches('=').to_string());
        assert!(decode(&r).is_ok());
    }

    #[test]
    fn text_and_parsed_json_read_the_same_even_when_odd() {
        let cases = [
            // numbers where strings are expected, lists where objects are, escapes, duplicates
            (
                "omh:heart-rate:2.0",
                r#"{"header": {"uuid": 5, "modality": ["x"], "external_datasheets": {"a": 1},
                "acquisition_provenance": "app", "source_creation_date_time": 7},
               "body": {"heart_rate": {"unit": "beats/min", "value": 61.5, "extra": [1, {"a": 2}]},
                        "effective_time_frame": {"date_time": "2026-11-20T07:45:12\u002B01:00"},
                        "descriptive_statistic": {"kind": "average"},
                        "temporal_relationship_to_sleep": "during\nsleep"}}"#,
            ),
            (
                "omh:step-count:3.0",
                r#"{"header": {"external_datasheets": [5, {"datasheet_type": "other", "datasheet_reference": "A"},
                                                    {"datasheet_type": "manufacturer"},
                                                    {"datasheet_reference": "B", "datasheet_type": "manufacturer"}]},
               "body": {"step_count": 812, "step_count": 900,
                        "effective_time_frame": {"time_interval": {"end_date_time": "2026-11-21T13:00:00Z",
                                                                   "duration": {"unit": "min", "value": 60}}}}}"#,
            ),
            (
                "omh:physical-activity:1.2",
                r#"{"body": {"activity_name": "caf\u00e9 walk", "met_value": 3, "distance": {"value": 1, "unit": "zz"},
                         "kcal_burned": 120,
                         "effective_time_frame": {"time_interval": {"start_date_time": "2026-11-21T13:00:00",
                                                                    "duration": {"unit": "h", "value": 0.5}}}},
                "header": null}"#,
            ),
            (
                "omh:heart-rate:2.0",
                r#"{"effective_time_frame": {"date_time": "2026-11-23T08:00:00Z"}, "heart_rate": {"unit": "bpm", "value": 64}}"#,
            ),
            (
                "omh:step-count:3.0",
                r#"{"body": {"effective_time_frame": {"time_interval": {"duration": 5, "end_date_time": "2026-11-21T13:00:00Z"}}}}"#,
            ),
            (
                "omh:heart-rate:2.0",
                r#"{"body": {"effective_time_frame": {"date_time": null}}}"#,
            ),
            ("omh:heart-rate:2.0", r#"{"body": 3}"#),
        ];
        for (code, text) in cases {
            let mut a = raw(code, Value::Null);
            a.omh = OmhSource::Base64(base64::engine::general_purpose::STANDARD.encode(text));
            let mut b = raw(code, Value::Null);
            b.omh = OmhSource::Json(serde_json::from_str(text).unwrap());
            let (da, db) = (decode(&a), decode(&b));
            assert_eq!(da, db, "{text}");
            assert_eq!(decode_owned(b.clone()), db);
        }
        // the parsed payload of case i, decoded
        let parsed = |i: usize| {
            let (code, text) = cases[i];
            decode(&raw(code, serde_json::from_str(text).unwrap()))
        };
        let d = parsed(0).unwrap();
        assert_eq!(d.header, HeaderInfo::default());
        assert_eq!(d.time.utc_offset_min, Some(60));
        assert_eq!(d.body_str("descriptive_statistic"), None);
        assert_eq!(
            d.body_str("temporal_relationship_to_sleep"),
            Some("during\nsleep")
        );
        let d = parsed(1).unwrap();
        assert_eq!(d.header.device.as_deref(), Some("B"));
        assert_eq!(
            d.values,
            Values::StepCount(Quantity {
                value: Some(900.0),
                original_value: Some(900.0),
                original_unit: None
            })
        );
        let d = parsed(2).unwrap();
        let Values::PhysicalActivity {
            activity_name,
            distance,
            kcal_burned,
            met_value,
            ..
        } = &d.values
        else {
            panic!()
        };
        assert_eq!(activity_name.as_deref(), Some("café walk"));
        assert_eq!((distance.value, distance.original_value), (None, Some(1.0)));
        assert_eq!(
            (kcal_burned.value, kcal_burned.original_value),
            (None, Some(120.0))
        );
        assert_eq!(*met_value, Some(3.0));
        assert_eq!(d.time.duration_min(), Some(30.0));
        let d = parsed(3).unwrap();
        assert_eq!(
            d.values,
            Values::HeartRate(Quantity {
                value: Some(64.0),
                original_value: Some(64.0),
                original_unit: Some("bpm".into())
            })
        );
        assert!(parsed(4).unwrap_err().message.contains("duration"));
        assert!(parsed(5).unwrap_err().message.contains("date_time"));
        assert_eq!(
            parsed(6).unwrap_err().message,
            "OMH body is not a JSON object"
        );
    }

    #[test]
    fn view_names() {
        assert_eq!(
            DataType::from_code("omh:blood-glucose:3.0"),
            DataType::BloodGlucose
        );
        // modelled now (see `types`)
        assert_eq!(
            DataType::from_code("ieee:sleep-stage-summary:1.0").name(),
            "sleep_stage_summary"
        );
        assert_eq!(
            DataType::from_code("ieee:total-sleep-time:1.0").name(),
            "other_ieee_total_sleep_time_1_0"
        );
        assert_eq!(
            DataType::from_code("omh:rr-interval:1.0").name(),
            "other_omh_rr_interval_1_0"
        );
    }
}
