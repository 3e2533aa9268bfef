//! Observations through the Admin API: the four id filters (organization, study, patient,
//! observation) narrowed to what the caller may see, and one observation.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use super::{no_match, remember, Req, S};
use crate::http::json_response;
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

pub async fn observations(State(st): S, req: Req) -> Response {
    let c = or_reply!(req.practitioner(&st));
    let [org, study, patient, oid] = or_reply!(req.ints([
        "organization_id",
        "study_id",
        "patient_id",
        "observation_id"
    ]));
    remember(&st, c.user_id, org, study, true);
    let world = st.world.read();
    let query = admin_observation_query(&world, c.user_id, org, study, patient, oid);
    let store = st.store.read();
    let hits = store.search(&query);
    req.list(&hits, |i| render::observation(&world, store.row(*i)))
}

pub async fn observation_detail(State(st): S, req: Req) -> Response {
    let c = or_reply!(req.practitioner(&st));
    let id = or_reply!(req.id());
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
        _ => no_match("Observation"),
    }
}
