//! Contract tests: every request captured from a real JHE server (`tests/fixtures/jhe-contract/`) is
//! replayed against the sandbox, which must answer with the same status and a body of the same
//! structure (same keys and JSON types at every level, same link format).
//!
//! The captured files are read at test time. Captured requests use the reference server's
//! secrets and random client ids; the test substitutes the sandbox's own for them.

use std::collections::HashMap;
use std::path::PathBuf;

use base64::Engine;
use jhe_sandbox::{Config, Sandbox};
use serde_json::Value;

use crate::common::{
    api_key, client_credentials, cookie_of, no_redirects, submit_login, token_for,
};

/// `$JHE_CONTRACT_DIR`, or the capture vendored in the repository.
fn contract_dir() -> PathBuf {
    let dir = match std::env::var_os("JHE_CONTRACT_DIR") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/jhe-contract"),
    };
    assert!(
        dir.join("_index.tsv").exists(),
        "the captured contract ({}/_index.tsv) is missing; set JHE_CONTRACT_DIR",
        dir.display()
    );
    dir
}

/// 2026-11-26T02:00:00Z: the capture's day, so date-window requests hit data.
const CAPTURE_END_US: i64 = 1_795_658_400_000_000;

fn config() -> Config {
    Config {
        end_us: Some(CAPTURE_END_US),
        ..Config::default()
    }
}

struct Entry {
    file: String,
    method: String,
    url: String,
    status: u16,
    content_type: String,
    location: String,
    auth: String,
}

fn index() -> Vec<Entry> {
    let text = std::fs::read_to_string(contract_dir().join("_index.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            Entry {
                file: f[0].into(),
                method: f[1].into(),
                url: f[2].into(),
                status: f[3].parse().unwrap(),
                content_type: f.get(4).unwrap_or(&"").to_string(),
                location: f.get(5).unwrap_or(&"").to_string(),
                auth: f.get(7).unwrap_or(&"").to_string(),
            }
        })
        .collect()
}

fn load(file: &str) -> Value {
    serde_json::from_slice(&std::fs::read(contract_dir().join(file)).unwrap()).unwrap()
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Keys whose value is null or a string depending on the data (links, roles, names).
const NULLABLE: &[&str] = &[
    "next",
    "previous",
    "currentUserRole",
    "currentStudyId",
    "currentOrganizationId",
    "user",
];

/// Elements of FHIR resources that are present only when they have a value.
const OPTIONAL_FHIR: &[&str] = &["identifier", "effectiveDateTime", "effectivePeriod"];

/// An OMH data point is data, not API structure: it must be a data point (header + body with a
/// time frame), whatever the measure.
fn check_omh(ours: &Value, path: &str, errs: &mut Vec<String>) {
    let ok = ours.get("header").is_some_and(|h| {
        h.get("uuid").is_some()
            && h.get("schema_id").is_some()
            && h.get("source_creation_date_time").is_some()
    }) && ours
        .get("body")
        .is_some_and(|b| b.get("effective_time_frame").is_some());
    if !ok {
        errs.push(format!("{path}: not an OMH data point: {ours}"));
    }
}

/// Query-parameter names of a link, in order, and its path: the "link format".
fn link_shape(url: &str) -> (String, Vec<String>) {
    let no_host = url
        .split_once("://")
        .map(|(_, r)| {
            r.split_once('/')
                .map(|(_, p)| format!("/{p}"))
                .unwrap_or_default()
        })
        .unwrap_or_else(|| url.to_string());
    let (path, q) = no_host.split_once('?').unwrap_or((&no_host, ""));
    let names = q
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| p.split('=').next().unwrap_or("").to_string())
        .collect();
    (path.to_string(), names)
}

fn conforms(ours: &Value, theirs: &Value, key: &str, path: &str, errs: &mut Vec<String>) {
    if key == "omhData" {
        return check_omh(ours, path, errs);
    }
    if NULLABLE.contains(&key) && (ours.is_null() || theirs.is_null()) {
        return;
    }
    if type_name(ours) != type_name(theirs) {
        errs.push(format!(
            "{path}: type {} where JHE has {} ({theirs})",
            type_name(ours),
            type_name(theirs)
        ));
        return;
    }
    match (ours, theirs) {
        (Value::Object(o), Value::Object(t)) => {
            let ok: Vec<&String> = o.keys().collect();
            let tk: Vec<&String> = t.keys().collect();
            // FHIR elements JHE emits only when there is a value (jhe-api.md 5.2): identifiers
            // exist only on uploads that had them, and the time is a date-time or a period.
            let fhir = t.contains_key("resourceType");
            let optional = |k: &str| fhir && OPTIONAL_FHIR.contains(&k);
            for k in &tk {
                if !o.contains_key(*k) && !optional(k) {
                    errs.push(format!("{path}: missing key {k:?} (has {ok:?})"));
                }
            }
            for k in &ok {
                if !t.contains_key(*k) && !optional(k) {
                    errs.push(format!("{path}: extra key {k:?} (JHE has {tk:?})"));
                }
            }
            let has_time = |m: &serde_json::Map<String, Value>| {
                m.contains_key("effectiveDateTime") || m.contains_key("effectivePeriod")
            };
            if fhir && has_time(t) && !has_time(o) {
                errs.push(format!("{path}: no effectiveDateTime or effectivePeriod"));
            }
            for (k, v) in o {
                if let Some(tv) = t.get(k) {
                    conforms(v, tv, k, &format!("{path}.{k}"), errs);
                }
            }
        }
        (Value::Array(o), Value::Array(t)) => {
            if t.is_empty() {
                return;
            }
            for (i, item) in o.iter().enumerate() {
                // Each of ours must have the shape of one of theirs (arrays mix shapes, e.g.
                // observations of different types).
                let mut best: Option<Vec<String>> = None;
                for cand in t {
                    let mut e = Vec::new();
                    conforms(item, cand, key, &format!("{path}[{i}]"), &mut e);
                    if e.is_empty() {
                        best = None;
                        break;
                    }
                    if best.as_ref().is_none_or(|b| e.len() < b.len()) {
                        best = Some(e);
                    }
                }
                if let Some(e) = best {
                    errs.extend(e);
                }
            }
        }
        (Value::String(o), Value::String(t))
            if matches!(key, "next" | "previous" | "url")
                && t.starts_with("http://127.0.0.1:8000") =>
        {
            let (op, on) = link_shape(o);
            let (tp, tn) = link_shape(t);
            if op != tp || on != tn {
                errs.push(format!("{path}: link {o} does not have the shape of {t}"));
            }
        }
        (Value::String(o), Value::String(t)) if key == "data" => {
            // A base64 OMH attachment.
            let decoded: Option<Value> = base64::engine::general_purpose::STANDARD
                .decode(o)
                .ok()
                .and_then(|b| serde_json::from_slice(&b).ok());
            match decoded {
                Some(v) => check_omh(&v, path, errs),
                None if t.len() > 20 => errs.push(format!("{path}: not base64 JSON")),
                None => {}
            }
        }
        _ => {}
    }
}

struct Ctx {
    sandbox: Sandbox,
    http: reqwest::Client,
    tokens: HashMap<&'static str, String>,
    admin_ui_client_id: String,
    session_cookie: String,
}

async fn login(http: &reqwest::Client, url: &str, email: &str) -> String {
    let r = submit_login(http, url, "/accounts/login/?next=/", email, "Jhe1234!").await;
    assert_eq!(r.status(), 302, "login as {email}");
    cookie_of(&r)
}

async fn setup() -> Ctx {
    let sandbox = Sandbox::start(config()).await.unwrap();
    let http = no_redirects();
    let url = sandbox.url().to_string();
    let mut tokens = HashMap::new();
    let mary_key = api_key(&sandbox, "manager_mary@example.com");
    tokens.insert("mary", token_for(&http, &url, &mary_key).await);
    let (peter, mark, mary_user, revoked, admin_ui) = {
        let state = sandbox.state();
        let world = state.world.read();
        let admin_ui = world
            .apps
            .iter()
            .find(|a| a.name == "JHE Admin UI")
            .unwrap();
        let (pk, cid) = (admin_ui.pk, admin_ui.client_id.clone());
        drop(world);
        let mut auth = state.auth.lock();
        (
            auth.issue_for_user(10006, 1),
            auth.issue_for_user(10008, pk),
            auth.issue_for_user(10002, pk),
            auth.issue_for_user(10002, pk),
            cid,
        )
    };
    // A revoked user token: issued, then revoked through the public-client revoke call.
    let r = http
        .post(format!("{url}/o/revoke_token/"))
        .form(&[
            ("token", revoked.as_str()),
            ("client_id", admin_ui.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    tokens.insert("peter", peter);
    tokens.insert("mark", mark);
    tokens.insert("mary_user", mary_user);
    tokens.insert("revoked", revoked);
    tokens.insert("bogus", "bogus-token-0000".to_string());
    let session_cookie = login(&http, &url, "manager_mary@example.com").await;
    Ctx {
        sandbox,
        http,
        tokens,
        admin_ui_client_id: admin_ui,
        session_cookie,
    }
}

impl Ctx {
    fn token_for_auth(&self, auth: &str) -> Option<&str> {
        let key = if auth.starts_with("practitioner client-credentials (manager_mary)") {
            "mary"
        } else if auth.starts_with("patient") {
            "peter"
        } else if auth.contains("manager_mark") {
            "mark"
        } else if auth.starts_with("user token (authorization code, manager_mary)") {
            "mary_user"
        } else if auth.starts_with("revoked") {
            "revoked"
        } else if auth.starts_with("bogus") {
            "bogus"
        } else {
            return None;
        };
        self.tokens.get(key).map(String::as_str)
    }
    fn url(&self, captured: &str) -> String {
        captured
            .replace("http://127.0.0.1:8000", self.sandbox.url())
            .replace(
                "AUJLwch3vEKbIoY1zh8NtgNWlFkY6H2fGIQDgYS5",
                &self.admin_ui_client_id,
            )
    }
}

/// A response header as text ("" when absent).
fn header_of(resp: &reqwest::Response, name: &str) -> String {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string()
}

/// Compares one captured response with the sandbox's; returns the differences.
async fn replay(ctx: &Ctx, e: &Entry, body: Option<(&str, Vec<u8>)>) -> Vec<String> {
    let url = ctx.url(&e.url);
    let method: reqwest::Method = e.method.parse().unwrap();
    let mut req = ctx.http.request(method, &url);
    if let Some(t) = ctx.token_for_auth(&e.auth) {
        req = req.bearer_auth(t);
    }
    if e.auth.starts_with("browser session") {
        req = req.header("Cookie", &ctx.session_cookie);
    }
    if let Some((ct, bytes)) = body {
        req = req.header("Content-Type", ct).body(bytes);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let ct = header_of(&resp, "content-type");
    let location = header_of(&resp, "location");
    let www = header_of(&resp, "www-authenticate");
    let text = resp.text().await.unwrap();
    let mut errs = Vec::new();
    if status != e.status {
        errs.push(format!(
            "status {status}, JHE {}: {}",
            e.status,
            &text[..text.len().min(300)]
        ));
        return errs;
    }
    let captured = load(&e.file);
    let expected_www = index_www(&e.file);
    if expected_www != www {
        errs.push(format!("WWW-Authenticate {www:?}, JHE {expected_www:?}"));
    }
    if e.content_type.starts_with("application/json") && !ct.starts_with("application/json") {
        errs.push(format!("content type {ct}, JHE {}", e.content_type));
    }
    if captured.get("_empty_body").is_some() {
        if !e.location.is_empty() {
            let (lp, ln) = link_shape(&location);
            let (tp, tn) = link_shape(&e.location);
            if lp != tp || ln != tn {
                errs.push(format!("Location {location} vs JHE {}", e.location));
            }
        }
        return errs;
    }
    if captured.get("_non_json_body").is_some() {
        if !ct.starts_with("text/html") {
            errs.push(format!("content type {ct}, JHE sends HTML"));
        }
        if let Some(title) = captured["title"].as_str().filter(|t| !t.is_empty()) {
            if !text.contains(&title.replace('\'', "&#x27;")) {
                errs.push(format!("HTML page lacks the title {title:?}"));
            }
        }
        return errs;
    }
    match serde_json::from_str::<Value>(&text) {
        Ok(ours) => conforms(&ours, &captured, "", "$", &mut errs),
        Err(_) => errs.push(format!("not JSON: {}", &text[..text.len().min(200)])),
    }
    errs
}

/// Adds one replayed request's differences to the failures.
fn note_failure(failures: &mut Vec<String>, e: &Entry, errs: &[String]) {
    if !errs.is_empty() {
        failures.push(format!(
            "{} ({} {}):\n    {}",
            e.file,
            e.method,
            e.url,
            errs.join("\n    ")
        ));
    }
}

fn index_www(file: &str) -> String {
    let text = std::fs::read_to_string(contract_dir().join("_index.tsv")).unwrap();
    text.lines()
        .find(|l| l.starts_with(&format!("{file}\t")))
        .and_then(|l| l.split('\t').nth(6))
        .unwrap_or("")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_captured_read_replays_with_the_same_status_and_structure() {
    let ctx = setup().await;
    let mut failures = Vec::new();
    let mut replayed = 0;
    for e in index() {
        if e.method != "GET" {
            continue;
        }
        replayed += 1;
        let errs = replay(&ctx, &e, None).await;
        note_failure(&mut failures, &e, &errs);
    }
    assert!(replayed >= 100, "only {replayed} GETs in the index");
    assert!(
        failures.is_empty(),
        "{} of {replayed} captured reads differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn upload_body(name: &str, rename_identifiers: bool) -> Vec<u8> {
    let path = contract_dir().join("upload-request-bodies").join(name);
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    if rename_identifiers {
        // The sandbox's data set already holds the captured uploads, so a replay that should
        // create rows needs fresh identifiers.
        fn walk(v: &mut Value) {
            match v {
                Value::Object(m) => {
                    if let Some(Value::Array(ids)) = m.get_mut("identifier") {
                        for id in ids {
                            if let Some(Value::String(s)) = id.get_mut("value") {
                                s.push_str("-replay");
                            }
                        }
                    }
                    for (_, x) in m.iter_mut() {
                        walk(x);
                    }
                }
                Value::Array(a) => a.iter_mut().for_each(walk),
                _ => {}
            }
        }
        walk(&mut v);
    }
    serde_json::to_vec(&v).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_captured_write_replays_with_the_same_status_and_structure() {
    let ctx = setup().await;
    let info = ctx.sandbox.info();
    let mary = info
        .practitioners
        .iter()
        .find(|p| p.email == "manager_mary@example.com")
        .unwrap();
    let json = "application/json";
    let form = "application/x-www-form-urlencoded";
    let mut failures = Vec::new();
    let mut replayed = 0;
    for e in index() {
        if e.method == "GET" {
            continue;
        }
        let body: Option<(&str, Vec<u8>)> = match e.file.as_str() {
            "api_v1_studies_ID_scope_requests_POST.json" => Some((json, br#"{"scope_code_id": 50006}"#.to_vec())),
            // Peter's 30001 consents are already in the data set; consent to the pending 30002.
            "api_v1_patients_ID_consents_POST_patient.json" => Some((json, br#"{"study_scope_consents": [{"study_id": 30002, "scope_consents": [{"coding_system": "https://w3id.org/openmhealth", "coding_code": "omh:blood-pressure:4.0", "consented": true}]}]}"#.to_vec())),
            "fhir_Observation_POST_patient.json" => Some((json, upload_body("single.json", true))),
            "fhir_bundle_batch_POST_patient.json" => Some((json, upload_body("bundle.json", true))),
            "fhir_Observation_POST_practitioner.json" => Some((json, upload_body("pract.json", true))),
            "err_fhir_Observation_POST_duplicate_identifier_409.json" => Some((json, upload_body("single.json", false))),
            "err_fhir_Observation_POST_not_consented_403.json" => Some((json, upload_body("err_not_consented.json", false))),
            "err_fhir_Observation_POST_bad_base64_400.json" => Some((json, upload_body("err_bad_base64.json", false))),
            "err_fhir_Observation_POST_omh_schema_invalid.json" => Some((json, upload_body("err_schema.json", false))),
            "err_fhir_Observation_POST_no_device_400.json" => Some((json, upload_body("err_no_device.json", false))),
            "err_fhir_Observation_POST_other_patient_403.json" => Some((json, upload_body("err_other_patient.json", false))),
            "err_fhir_Observation_POST_unknown_code_400.json" => Some((json, upload_body("err_unknown_code.json", false))),
            "err_fhir_bundle_batch_POST_replay_409s.json" => Some((json, upload_body("bundle.json", false))),
            "err_fhir_Observation_POST_no_token_401.json" => Some((json, upload_body("single.json", true))),
            "err_fhir_Observation_POST_fhir_json_content_type.json" => Some(("application/fhir+json", upload_body("single.json", true))),
            "o_token_client_credentials_basic.json" => None,
            "o_token_client_credentials_post.json" => Some((form, format!("grant_type=client_credentials&client_id={}&client_secret={}", mary.client_id, mary.client_secret).into_bytes())),
            "err_o_token_invalid_client_401.json" => Some((form, format!("grant_type=client_credentials&client_id={}&client_secret=wrong", mary.client_id).into_bytes())),
            "err_o_token_password_grant_unauthorized_client_400.json" => Some((form, format!("grant_type=password&username=manager_mary@example.com&password=Jhe1234!&client_id={}", ctx.admin_ui_client_id).into_bytes())),
            "err_o_token_password_grant_on_practitioner_client_400.json" => Some((form, format!("grant_type=password&username=manager_mary@example.com&password=Jhe1234!&client_id={}&client_secret={}", mary.client_id, mary.client_secret).into_bytes())),
            "fhir_Observation_search_POST__search_form_body_ignored.json" => Some((form, b"patient=40001&_count=2".to_vec())),
            "fhir_Observation_search_POST__search_query_string.json" => Some((form, Vec::new())),
            "err_fhir_Observation_put_405.json" => Some((json, b"{}".to_vec())),
            // Exercised end to end by tests/oauth.rs (they need a browser login first).
            "o_token_authorization_code_pkce.json" | "o_token_refresh_token.json" | "err_o_token_refresh_token_reused_400.json" | "o_introspect_own_token.json" | "o_revoke_token_public_client.json" => continue,
            other => panic!("no replay rule for captured write {other}"),
        };
        replayed += 1;
        let errs = if e.file == "o_token_client_credentials_basic.json" {
            let r = client_credentials(&ctx.http, ctx.sandbox.url(), &mary.api_key).await;
            let status = r.status().as_u16();
            let v: Value = r.json().await.unwrap();
            let mut errs = Vec::new();
            if status != 200 {
                errs.push(format!("status {status}"));
            }
            conforms(&v, &load(&e.file), "", "$", &mut errs);
            errs
        } else {
            replay(&ctx, &e, body).await
        };
        note_failure(&mut failures, &e, &errs);
    }
    assert!(replayed >= 20, "only {replayed} writes replayed");
    assert!(
        failures.is_empty(),
        "{} of {replayed} captured writes differ:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
