//! Observations through the Admin API: the four id filters (organization, study, patient,
//! observation) narrowed to what the caller may see, and one observation.

use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;

use super::{parse_id, practitioner, remember, Req, S};
use crate::http::{detail, json_response};
use crate::render;
use crate::world::World;

use crate::store::Query;

/// Observations the caller may see, narrowed by the Admin API's four filters.
pub fn admin_observation_query(
    world: &World,
    user: u32,
    org: Option<u32>,
    study: Option<u32>,
    patient: Option<u32>,
    obs_id: Option<u32>,
) -> Query {
    let member = world.member_orgs(user);
    let mut patients: Vec<u32> = world
        .patients
        .iter()
        .filter(|p| p.orgs.iter().any(|o| member.contains(o)))
        .filter(|p| org.is_none_or(|o| p.orgs.contains(&o) && member.contains(&o)))
        .filter(|p| patient.is_none_or(|i| p.id == i))
        .map(|p| p.id)
        .collect();
    let mut scopes = None;
    if let Some(sid) = study {
        match world.study(sid) {
            Some(s) if member.contains(&s.org) => {
                patients.retain(|p| s.patients.iter().any(|(_, sp)| sp == p));
                scopes = Some(world.study_scope_ids(s));
            }
            _ => patients.clear(),
        }
    }
    Query {
        patients,
        scopes,
        id: obs_id,
        ..Default::default()
    }
}

pub async fn observations(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    RawQuery(q): RawQuery,
) -> Response {
    let c = or_reply!(practitioner(&st, &headers));
    let req = Req::new(&headers, &uri, q);
    let ids = (
        req.int("organization_id"),
        req.int("study_id"),
        req.int("patient_id"),
        req.int("observation_id"),
    );
    let (org, study, patient, oid) = match ids {
        (Ok(a), Ok(b), Ok(c), Ok(d)) => (a, b, c, d),
        (Err(r), ..) | (_, Err(r), ..) | (_, _, Err(r), _) | (.., Err(r)) => return r,
    };
    remember(&st, c.user_id, org, study, true);
    let world = st.world.read();
    let query = admin_observation_query(&world, c.user_id, org, study, patient, oid);
    let store = st.store.read();
    let hits = store.search(&query);
    req.paginate(hits.len(), 1000, |r| {
        hits[r]
            .iter()
            .map(|i| render::observation(&world, store.row(*i)))
            .collect()
    })
}

pub async fn observation_detail(
    State(st): S,
    headers: HeaderMap,
    uri: Uri,
    Path(id): Path<String>,
) -> Response {
    let c = or_reply!(practitioner(&st, &headers));
    let id = or_reply!(parse_id(uri.path(), &id));
    let world = st.world.read();
    let store = st.store.read();
    match store.get(id) {
        Some(o)
            if world
                .patient(o.patient_id)
                .is_some_and(|p| world.can_see_patient(c.user_id, p)) =>
        {
            json_response(StatusCode::OK, &render::observation(&world, o))
        }
        _ => detail(
            StatusCode::NOT_FOUND,
            "No Observation matches the given query.",
        ),
    }
}
