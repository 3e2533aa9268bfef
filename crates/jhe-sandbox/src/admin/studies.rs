//! Studies: the list, one study and its sub-lists (patients, scope requests, data sources,
//! clients), and adding a scope request.

use std::collections::HashMap;

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use super::{body_json, can_manage, field, id_and_sub, parse_id, practitioner, remember, Req, S};
use crate::caller::{caller, Api, Caller};
use crate::http::{detail, json_response, not_found_page};
use crate::render;

use crate::AppState;

pub async fn studies(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let c = or_reply!(practitioner(&st, &headers));
    let req = Req::new(&headers, &uri, q);
    let org = or_reply!(req.int("organization_id"));
    remember(&st, c.user_id, org, None, false);
    let world = st.world.read();
    let member = world.member_orgs(c.user_id);
    let mut list: Vec<&crate::world::Study> = world
        .studies
        .iter()
        .filter(|s| member.contains(&s.org) && org.is_none_or(|o| s.org == o))
        .collect();
    list.sort_by(|a, b| a.name.cmp(&b.name));
    req.paginate(list.len(), 1000, |r| {
        list[r].iter().map(|s| render::study(&world, s)).collect()
    })
}

pub async fn study_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    method: Method,
    RawQuery(q): RawQuery,
    Path(p): Path<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let (id, sub) = id_and_sub(&p);
    let c = or_reply!(caller(&st, &headers, Api::Admin));
    let id = or_reply!(parse_id(uri.path(), &id));
    let req = Req::new(&headers, &uri, q);
    if method == Method::POST && sub == "scope_requests" {
        return add_scope_request(&st, &c, id, &body);
    }
    let world = st.world.read();
    let study = world.study(id);
    let forbidden = || {
        detail(
            StatusCode::FORBIDDEN,
            "Current User does not have authorization to access this Study.",
        )
    };
    match sub.as_str() {
        "" => match study {
            Some(s) if world.can_see_study(c.user_id, s) => {
                json_response(StatusCode::OK, &render::study(&world, s))
            }
            _ => forbidden(),
        },
        "patients" => {
            let ids: Vec<u32> = match study {
                Some(s) if world.can_see_study(c.user_id, s) => {
                    let mut v: Vec<u32> = s.patients.iter().map(|(_, p)| *p).collect();
                    v.sort_unstable();
                    v
                }
                _ => Vec::new(),
            };
            req.paginate(ids.len(), 1000, |r| {
                ids[r]
                    .iter()
                    .filter_map(|p| world.patient(*p))
                    .map(|p| render::patient(&world, p))
                    .collect()
            })
        }
        // No membership check on these three, as in JHE: any study id is readable.
        "scope_requests" => study_links(study, |s| {
            s.scope_requests
                .iter()
                .filter_map(|(rid, sc)| world.scope(*sc).map(|sc| json!({"id": rid, "study": render::study_nested(s), "scopeCode": render::scope(sc)})))
                .collect()
        }),
        "data_sources" => study_links(study, |s| {
            s.data_sources
                .iter()
                .filter_map(|(lid, d)| world.data_source(*d).map(|d| json!({"id": lid, "study": render::study_nested(s), "dataSource": render::data_source_brief(d)})))
                .collect()
        }),
        "clients" => study_links(study, |s| {
            s.clients
                .iter()
                .filter_map(|(lid, a)| world.app(*a).map(|a| json!({"id": lid, "study": render::study_nested(s), "client": render::app_row(a, &req.base)})))
                .collect()
        }),
        _ => not_found_page(uri.path()),
    }
}

/// A study's plain-array sub-list (empty for an unknown study).
fn study_links(
    study: Option<&crate::world::Study>,
    items: impl FnOnce(&crate::world::Study) -> Vec<Value>,
) -> Response {
    json_response(
        StatusCode::OK,
        &Value::Array(study.map(items).unwrap_or_default()),
    )
}

fn add_scope_request(st: &AppState, c: &Caller, study_id: u32, body: &[u8]) -> Response {
    let v = body_json(body);
    let Some(scope_id) = field(&v, "scope_code_id").and_then(Value::as_u64) else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"scopeCodeId": ["This field is required."]}),
        );
    };
    let mut world = st.world.write();
    let Some(org) = world.study(study_id).map(|s| s.org) else {
        return detail(
            StatusCode::FORBIDDEN,
            "Current User does not have authorization to access this Study.",
        );
    };
    if !c.is_practitioner() || !can_manage(&world, c.user_id, org) {
        return detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        );
    }
    let scope_id = scope_id as u32;
    let Some(scope) = world.scope(scope_id).cloned() else {
        return json_response(
            StatusCode::BAD_REQUEST,
            &json!({"scopeCodeId": [format!("Invalid pk \"{scope_id}\" - object does not exist.")]}),
        );
    };
    let rid = world.next_ids.scope_request;
    world.next_ids.scope_request += 1;
    let Some(s) = world.studies.iter_mut().find(|s| s.id == study_id) else {
        return detail(StatusCode::NOT_FOUND, "No Study matches the given query.");
    };
    s.scope_requests.push((rid, scope_id));
    let nested = render::study_nested(s);
    json_response(
        StatusCode::CREATED,
        &json!({"id": rid, "study": nested, "scopeCode": render::scope(&scope)}),
    )
}
