//! Studies: the list, one study and its sub-lists (patients, scope requests, data sources,
//! clients), and adding a scope request.

use axum::extract::State;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{json, Value};

use super::{body_json, can_manage, no_match, remember, required, Req, S};
use crate::caller::Caller;
use crate::http::{detail, json_response, not_found_page};
use crate::render;

use crate::AppState;

pub async fn studies(State(st): S, req: Req) -> Response {
    let c = or_reply!(req.practitioner(&st));
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
    req.list(&list, |s| render::study(&world, s))
}

pub async fn study_detail(
    State(st): S,
    req: Req,
    method: Method,
    body: axum::body::Bytes,
) -> Response {
    let (c, id) = or_reply!(req.caller_and_id(&st));
    let sub = req.sub();
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
    match sub {
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
        _ => not_found_page(&req.path),
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
    let scope_id = or_reply!(required(&v, "scope_code_id", Value::as_u64));
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
        return no_match("Study");
    };
    s.scope_requests.push((rid, scope_id));
    let nested = render::study_nested(s);
    json_response(
        StatusCode::CREATED,
        &json!({"id": rid, "study": nested, "scopeCode": render::scope(&scope)}),
    )
}
