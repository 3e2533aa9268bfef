//! Who is calling: the bearer token resolved to a user through the token store, or the 401 each
//! API answers without one. The one module that joins [`crate::auth`] and [`crate::http`]
//! (neither of which knows the other's caller).

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;

use crate::auth::TokenInfo;
use crate::http::{detail, outcome};
use crate::world::UserType;
use crate::AppState;

#[derive(Clone, Copy, Debug)]
pub enum Api {
    Admin,
    Fhir,
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub user_id: u32,
    pub user_type: UserType,
    pub patient_id: Option<u32>,
    pub token: String,
}

impl Caller {
    pub fn is_practitioner(&self) -> bool {
        self.user_type == UserType::Practitioner
    }
}

/// Resolves the bearer token, or answers 401 the way each API does.
pub fn caller(state: &AppState, headers: &HeaderMap, api: Api) -> Result<Caller, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let Some(token) = token else {
        return Err(unauthorized(api, false));
    };
    let info: Option<TokenInfo> = state.auth.lock().check_access(token);
    let Some(info) = info else {
        return Err(unauthorized(api, true));
    };
    let world = state.world.read();
    let Some(user) = world.user(info.user_id) else {
        return Err(unauthorized(api, true));
    };
    Ok(Caller {
        user_id: user.id,
        user_type: user.user_type,
        patient_id: user.patient_id,
        token: token.to_string(),
    })
}

pub fn unauthorized(api: Api, bad_token: bool) -> Response {
    const MSG: &str = "Authentication credentials were not provided.";
    match api {
        Api::Admin => {
            let mut r = detail(StatusCode::UNAUTHORIZED, MSG);
            let value = if bad_token {
                "Bearer realm=\"api\",error=\"invalid_token\",error_description=\"The access token is invalid.\""
            } else {
                "Bearer realm=\"api\""
            };
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static(value));
            r
        }
        Api::Fhir => outcome(StatusCode::UNAUTHORIZED, MSG),
    }
}
