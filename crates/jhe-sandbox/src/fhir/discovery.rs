//! The FHIR discovery documents: the capability statement (`metadata`) and the SMART
//! configuration.

use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use crate::auth::cors;
use crate::http::{base_url, json_response};

use crate::time::{iso_offset, now_us};

use super::{AUX, NATIVE};

pub async fn smart_configuration(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    cors(json_response(
        StatusCode::OK,
        &json!({
            "authorization_endpoint": format!("{b}/o/authorize/"),
            "token_endpoint": format!("{b}/o/token/"),
            "grant_types_supported": ["authorization_code"],
            "response_types_supported": ["code"],
            "code_challenge_methods_supported": ["S256"],
            "capabilities": ["launch-standalone", "client-public", "client-confidential-symmetric"]
        }),
    ))
}

pub async fn metadata(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let shall = json!([{"url": "http://hl7.org/fhir/StructureDefinition/capabilitystatement-expectation", "valueCode": "SHALL"}]);
    let interactions = |codes: &[&str]| -> Value {
        Value::Array(
            codes
                .iter()
                .map(|c| json!({"code": c, "extension": shall}))
                .collect(),
        )
    };
    let params = |list: &[(&str, &str)]| -> Value {
        Value::Array(
            list.iter()
                .map(|(n, t)| json!({"name": n, "type": t, "extension": shall}))
                .collect(),
        )
    };
    let common = [
        ("_id", "token"),
        ("_lastUpdated", "date"),
        ("patient", "reference"),
        ("patient.organization", "reference"),
        ("patient._has:Group:member:_id", "token"),
    ];
    let mut resources = Vec::new();
    for t in NATIVE.iter().chain(AUX.iter()) {
        let (doc, inter, mut sp): (&str, Vec<&str>, Vec<(&str, &str)>) = match *t {
            "Observation" => (
                "JHE-native Observations carry the full Open mHealth data point as a base64 JSON valueAttachment (contentType application/json). Search with code=system|code one code at a time.",
                vec!["create", "read", "search-type"],
                vec![("code", "token"), ("date", "date"), ("status", "token"), ("identifier", "token")],
            ),
            "Patient" => (
                "Patients sharing an organization with the caller.",
                vec!["read", "search-type"],
                vec![("identifier", "token"), ("family", "string"), ("given", "string"), ("name", "string"), ("birthdate", "date")],
            ),
            t if NATIVE.contains(&t) => ("JHE-native records.", vec!["read", "search-type"], vec![]),
            _ => (
                "Imported records; creates must name a FhirSource via the X-JHE-FHIR-Source-ID header.",
                vec!["create", "delete", "patch", "read", "search-type", "update"],
                vec![],
            ),
        };
        sp.extend_from_slice(&common);
        resources.push(json!({"type": t, "documentation": doc, "interaction": interactions(&inter), "searchParam": params(&sp)}));
    }
    resources.sort_by(|a, b| a["type"].as_str().cmp(&b["type"].as_str()));
    let body = json!({
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": iso_offset(now_us()),
        "kind": "instance",
        "software": {"name": "JupyterHealth Exchange"},
        "implementation": {"description": "JupyterHealth Exchange (jhe-sandbox)", "url": format!("{b}/FHIR/R5/")},
        "fhirVersion": "5.0.0",
        "format": ["json"],
        "patchFormat": ["application/json"],
        "rest": [{
            "mode": "server",
            "documentation": "Searches also support _sort (date, lastUpdated) and _summary=count. POST [base]/[type]/_search is accepted; only query-string parameters filter.",
            "security": {
                "extension": [{"url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris", "extension": [
                    {"url": "authorize", "valueUri": format!("{b}/o/authorize/")},
                    {"url": "token", "valueUri": format!("{b}/o/token/")}
                ]}],
                "service": [{"coding": [{"system": "http://terminology.hl7.org/CodeSystem/restful-security-service", "code": "SMART-on-FHIR"}]}],
                "description": "OAuth 2.0 (SMART-on-FHIR). Unauthorized requests are rejected with 401, 403, or 404."
            },
            "interaction": interactions(&["batch"]),
            "resource": resources
        }]
    });
    cors(json_response(StatusCode::OK, &body))
}
