//! The caller's profile and organizations: `users/profile`, `users/organizations`,
//! `organizations` (list, types, detail, tree, studies, users).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{no_match, Req, S};
use crate::caller::{caller, Api};
use crate::http::{json_response, not_found_page};
use crate::render;
use crate::world::UserType;

pub async fn profile(State(st): S, headers: HeaderMap) -> Response {
    let c = or_reply!(caller(&st, &headers, Api::Admin));
    let world = st.world.read();
    let Some(u) = world.user(c.user_id) else {
        return no_match("JheUser");
    };
    let body = match u.user_type {
        UserType::Practitioner => {
            let mut settings = serde_json::Map::new();
            if let Some(s) = u.current_study {
                settings.insert("currentStudyId".into(), json!(s));
            }
            if let Some(o) = u.current_org {
                settings.insert("currentOrganizationId".into(), json!(o));
            }
            json!({
                "id": u.id, "email": u.email, "firstName": u.first_name, "lastName": u.last_name,
                "patient": null, "userType": "practitioner", "isSuperuser": u.is_superuser,
                "settings": settings
            })
        }
        UserType::Patient => {
            let p = u.patient_id.and_then(|p| world.patient(p)).map(|p| {
                let full = render::patient(&world, p);
                json!({"id": full["id"], "jheUserId": full["jheUserId"], "identifiers": full["identifiers"], "organizations": full["organizations"]})
            });
            json!({"id": u.id, "patient": p, "userType": "patient", "isSuperuser": false})
        }
    };
    json_response(StatusCode::OK, &body)
}

pub async fn user_orgs(State(st): S, headers: HeaderMap) -> Response {
    let c = or_reply!(caller(&st, &headers, Api::Admin));
    let world = st.world.read();
    let mut ids = world.member_orgs(c.user_id);
    ids.sort_unstable();
    let list: Vec<Value> = ids
        .iter()
        .filter_map(|id| world.org(*id))
        .map(|o| render::org(&world, o, None))
        .collect();
    json_response(StatusCode::OK, &Value::Array(list))
}

pub async fn orgs(State(st): S, req: Req) -> Response {
    let c = or_reply!(req.caller(&st));
    let part_of = or_reply!(req.int("part_of"));
    let world = st.world.read();
    let mut list: Vec<&crate::world::Org> = world
        .orgs
        .iter()
        .filter(|o| part_of.is_none_or(|p| o.part_of == Some(p)))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    req.list(&list, |o| render::org(&world, o, Some(c.user_id)))
}

pub async fn org_types(State(st): S, headers: HeaderMap) -> Response {
    or_reply!(caller(&st, &headers, Api::Admin));
    let types = [
        ("root", "ROOT"),
        ("prov", "Healthcare Provider"),
        ("dept", "Hospital Department"),
        ("team", "Organizational team"),
        ("govt", "Government"),
        ("ins", "Insurance Company"),
        ("pay", "Payer"),
        ("edu", "Educational Institute"),
        ("reli", "Religious Institution"),
        ("crs", "Clinical Research Sponsor"),
        ("cg", "Community Group"),
        ("bus", "Non-Healthcare Business or Corporation"),
        ("other", "Other"),
        ("laboratory", "Laboratory"),
        ("imaging", "Imaging Center"),
        ("pharmacy", "Pharmacy"),
        ("health-information-network", "Health Information Network"),
        ("health-data-aggregator", "Health Data Aggregator"),
    ];
    let mut m = serde_json::Map::new();
    for (k, v) in types {
        m.insert(k.into(), json!(v));
    }
    json_response(StatusCode::OK, &Value::Object(m))
}

pub async fn org_detail(State(st): S, req: Req) -> Response {
    let (c, id) = or_reply!(req.caller_and_id(&st));
    let world = st.world.read();
    let Some(o) = world.org(id) else {
        return no_match("Organization");
    };
    let body = match req.sub() {
        "" => render::org(&world, o, Some(c.user_id)),
        "tree" => render::org_tree(&world, o, Some(c.user_id)),
        "studies" => Value::Array(
            world
                .studies
                .iter()
                .filter(|s| s.org == id)
                .map(render::study_flat)
                .collect(),
        ),
        "users" => {
            let mut users: Vec<Value> = world
                .memberships
                .iter()
                .filter(|m| m.1 == id)
                .filter_map(|m| world.user(m.0).map(|u| (u, m.2)))
                .map(|(u, role)| json!({"id": u.id, "email": u.email, "firstName": u.first_name, "lastName": u.last_name, "role": role.as_str()}))
                .collect();
            users.sort_by_key(|u| u["lastName"].as_str().unwrap_or("").to_string());
            Value::Array(users)
        }
        _ => return not_found_page(&req.path),
    };
    json_response(StatusCode::OK, &body)
}
