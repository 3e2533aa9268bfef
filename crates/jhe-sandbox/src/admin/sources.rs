//! Data sources and their scopes, the invitation clients, and practitioner API keys
//! (`practitioner_clients`: list, create, read, delete).

use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use super::{body_json, field, no_match, Req, S};
use crate::caller::{caller, Api};
use crate::http::{detail, json_response, not_found_page};
use crate::render;

pub async fn data_sources(State(st): S, req: Req) -> Response {
    or_reply!(req.caller(&st));
    let world = st.world.read();
    let mut list: Vec<&crate::world::DataSource> = world.data_sources.iter().collect();
    list.sort_by(|a, b| a.name.cmp(b.name));
    req.list(&list, |d| render::data_source(&world, d, true))
}

pub async fn all_scopes(State(st): S, headers: HeaderMap) -> Response {
    or_reply!(caller(&st, &headers, Api::Admin));
    let world = st.world.read();
    let mut list: Vec<&crate::world::Scope> = world.scopes.iter().collect();
    list.sort_by(|a, b| a.text.cmp(b.text));
    json_response(
        StatusCode::OK,
        &Value::Array(list.into_iter().map(render::scope).collect()),
    )
}

pub async fn data_source_detail(State(st): S, req: Req) -> Response {
    let (_, id) = or_reply!(req.caller_and_id(&st));
    let world = st.world.read();
    let Some(d) = world.data_source(id) else {
        return no_match("DataSource");
    };
    match req.sub() {
        // JHE's detail serializer leaves supportedScopes empty; the sub-endpoint lists them.
        "" => json_response(StatusCode::OK, &render::data_source(&world, d, false)),
        "supported_scopes" => {
            let list: Vec<Value> = d
                .scopes
                .iter()
                .filter_map(|(lid, s)| world.scope(*s).map(|s| (lid, s)))
                .map(|(lid, s)| json!({"id": lid, "dataSource": render::data_source_brief(d), "scopeCode": render::scope(s)}))
                .collect();
            json_response(StatusCode::OK, &Value::Array(list))
        }
        _ => not_found_page(&req.path),
    }
}

pub async fn clients(State(st): S, headers: HeaderMap) -> Response {
    or_reply!(caller(&st, &headers, Api::Admin));
    let world = st.world.read();
    let mut list: Vec<Value> = world
        .apps
        .iter()
        .filter(|a| a.invitation_url.is_some())
        .map(|a| json!({"id": a.pk, "name": a.name, "clientId": a.client_id, "invitationUrl": a.invitation_url}))
        .collect();
    list.reverse();
    one_page(list)
}

pub async fn practitioner_clients(
    State(st): S,
    headers: HeaderMap,
    method: Method,
    body: axum::body::Bytes,
) -> Response {
    let c = or_reply!(caller(&st, &headers, Api::Admin));
    if !c.is_practitioner() {
        return detail(
            StatusCode::FORBIDDEN,
            "You do not have permission to perform this action.",
        );
    }
    if method == Method::POST {
        let v = body_json(&body);
        let label = field(&v, "label")
            .and_then(Value::as_str)
            .unwrap_or("API key")
            .to_string();
        let mut world = st.world.write();
        let Some(pk) = crate::auth::new_practitioner_client(&mut world, c.user_id, &label) else {
            return detail(
                StatusCode::FORBIDDEN,
                "Only practitioners may create API keys.",
            );
        };
        let Some(app) = world.app(pk) else {
            return detail(StatusCode::NOT_FOUND, "Not found.");
        };
        return json_response(StatusCode::CREATED, &render::practitioner_client(app));
    }
    let world = st.world.read();
    let list: Vec<Value> = world
        .apps
        .iter()
        .filter(|a| a.practitioner_client_id.is_some() && a.user_id == Some(c.user_id))
        .map(render::practitioner_client)
        .collect();
    one_page(list)
}

/// JHE's paginated envelope around a list it never pages.
fn one_page(list: Vec<Value>) -> Response {
    let n = list.len();
    json_response(
        StatusCode::OK,
        &json!({"count": n, "next": null, "previous": null, "results": list}),
    )
}

pub async fn practitioner_client_detail(State(st): S, req: Req, method: Method) -> Response {
    let (c, id) = or_reply!(req.caller_and_id(&st));
    let mut world = st.world.write();
    let Some(pos) = world
        .apps
        .iter()
        .position(|a| a.practitioner_client_id == Some(id) && a.user_id == Some(c.user_id))
    else {
        return no_match("PractitionerClient");
    };
    if method == Method::DELETE {
        world.apps.remove(pos);
        return (StatusCode::NO_CONTENT, "").into_response();
    }
    json_response(
        StatusCode::OK,
        &render::practitioner_client(&world.apps[pos]),
    )
}
