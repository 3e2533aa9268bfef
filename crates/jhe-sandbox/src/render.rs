//! JSON shapes of JHE objects (camelCase, as djangorestframework-camel-case renders them).

use serde_json::{json, Value};

use crate::pyjson::jsonb_order;
use crate::store::Obs;
use crate::time::iso_z;
use crate::world::{App, DataSource, Org, Patient, Scope, Study, World};

pub fn org(world: &World, o: &Org, viewer: Option<u32>) -> Value {
    let role = viewer
        .and_then(|u| world.role(u, o.id))
        .map(|r| Value::String(r.as_str().into()))
        .unwrap_or(Value::Null);
    json!({
        "id": o.id, "name": o.name, "type": o.kind,
        "partOf": o.part_of, "currentUserRole": role, "children": []
    })
}

pub fn org_tree(world: &World, o: &Org, viewer: Option<u32>) -> Value {
    let mut v = org(world, o, viewer);
    let children: Vec<Value> = world
        .orgs
        .iter()
        .filter(|c| c.part_of == Some(o.id) && c.id != o.id)
        .map(|c| org_tree(world, c, viewer))
        .collect();
    v["children"] = Value::Array(children);
    v
}

pub fn org_brief(o: &Org) -> Value {
    json!({"id": o.id, "name": o.name, "type": o.kind})
}

pub fn scope(s: &Scope) -> Value {
    json!({"id": s.id, "codingSystem": s.system, "codingCode": s.code, "text": s.text})
}

pub fn study(world: &World, s: &Study) -> Value {
    let org = world.org(s.org).map(org_brief).unwrap_or(Value::Null);
    json!({"id": s.id, "name": s.name, "description": s.description, "organization": org, "iconUrl": null})
}

pub fn study_flat(s: &Study) -> Value {
    json!({"id": s.id, "name": s.name, "description": s.description, "organization": s.org, "iconUrl": null})
}

/// The study as nested in scope requests, data sources and clients.
pub fn study_nested(s: &Study) -> Value {
    let patients: Vec<u32> = s.patients.iter().map(|(_, p)| *p).collect();
    json!({
        "id": s.id, "name": s.name, "description": s.description, "iconUrl": null,
        "lastUpdated": s.last_updated, "organization": s.org, "patients": patients
    })
}

pub fn patient(world: &World, p: &Patient) -> Value {
    let identifiers: Vec<Value> = p
        .identifiers
        .iter()
        .map(|i| json!({"id": i.id, "system": i.system, "value": i.value}))
        .collect();
    let orgs: Vec<Value> = p
        .orgs
        .iter()
        .filter_map(|o| world.org(*o))
        .map(|o| org(world, o, None))
        .collect();
    json!({
        "id": p.id, "jheUserId": p.jhe_user_id, "identifiers": identifiers,
        "nameFamily": p.name_family, "nameGiven": p.name_given, "birthDate": p.birth_date,
        "telecomPhone": p.phone, "telecomEmail": p.email, "organizations": orgs
    })
}

pub fn data_source(world: &World, d: &DataSource, with_scopes: bool) -> Value {
    let scopes: Vec<Value> = if with_scopes {
        d.scopes
            .iter()
            .filter_map(|(_, s)| world.scope(*s))
            .map(scope)
            .collect()
    } else {
        Vec::new()
    };
    json!({"id": d.id, "name": d.name, "type": d.kind, "supportedScopes": scopes})
}

pub fn data_source_brief(d: &DataSource) -> Value {
    json!({"id": d.id, "name": d.name, "type": d.kind, "lastUpdated": d.last_updated})
}

/// The raw OAuth Application row, as `/studies/{id}/clients` leaks it.
pub fn app_row(a: &App, base: &str) -> Value {
    json!({
        "id": a.pk, "client_id": a.client_id,
        "redirectUris": a.redirect_uris.iter().map(|u| u.replace("{SITE}", base)).collect::<Vec<_>>().join(" "),
        "postLogoutRedirectUris": "",
        "clientType": if a.public { "public" } else { "confidential" },
        "authorizationGrantType": match a.grant { crate::world::Grant::AuthorizationCode => "authorization-code", crate::world::Grant::ClientCredentials => "client-credentials" },
        "clientSecret": "pbkdf2_sha256$870000$sandbox$hashed-secret-not-shown",
        "hashClientSecret": true, "name": a.name, "skipAuthorization": true,
        "created": a.created, "updated": a.created, "algorithm": "RS256", "allowedOrigins": "",
        "registrationSource": "manual", "cimdExpiresAt": null, "user": a.user_id
    })
}

pub fn practitioner_client(a: &App) -> Value {
    json!({
        "id": a.practitioner_client_id, "label": a.label, "created": a.created,
        "name": a.name, "key": a.api_key()
    })
}

/// An observation in the Admin API's shape, `omhData` decoded (keys in `jsonb` order).
pub fn observation(world: &World, o: &Obs) -> Value {
    let p = world.patient(o.patient_id);
    let s = world.scope(o.scope_id);
    json!({
        "id": o.id,
        "subjectPatientId": o.patient_id,
        "patientNameFamily": p.map(|p| p.name_family.as_str()),
        "patientNameGiven": p.map(|p| p.name_given.as_str()),
        "jheUserId": p.map(|p| p.jhe_user_id),
        "codeableConceptId": o.scope_id,
        "codingSystem": s.map(|s| s.system),
        "codingCode": s.map(|s| s.code),
        "codingText": s.map(|s| s.text),
        "lastUpdated": iso_z(o.last_updated_us),
        "omhData": jsonb_order(o.omh()),
    })
}
