//! The OAuth / OIDC discovery documents and the JSON Web Key Set, with JHE's CORS header.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use serde_json::json;

use crate::http::{base_url, json_response};

pub async fn openid_configuration(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let body = json!({
        "issuer": format!("{b}/o"),
        "authorization_endpoint": format!("{b}/o/authorize/"),
        "token_endpoint": format!("{b}/o/token/"),
        "userinfo_endpoint": format!("{b}/o/userinfo/"),
        "jwks_uri": format!("{b}/o/.well-known/jwks.json"),
        "scopes_supported": ["openid", "email"],
        "response_types_supported": ["code", "token", "id_token", "id_token token", "code token", "code id_token", "code id_token token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256", "HS256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "code_challenge_methods_supported": ["plain", "S256"],
        "claims_supported": ["sub"],
        "prompt_values_supported": ["none", "login"],
        "client_id_metadata_document_supported": false
    });
    cors(json_response(StatusCode::OK, &body))
}

pub async fn authorization_server(headers: HeaderMap) -> Response {
    let b = base_url(&headers);
    let body = json!({
        "issuer": format!("{b}/o"),
        "response_types_supported": ["code", "token"],
        "grant_types_supported": ["authorization_code", "implicit", "password", "client_credentials", "refresh_token", "urn:ietf:params:oauth:grant-type:device_code"],
        "scopes_supported": ["email", "openid"],
        "client_id_metadata_document_supported": false,
        "authorization_endpoint": format!("{b}/o/authorize/"),
        "token_endpoint": format!("{b}/o/token/"),
        "revocation_endpoint": format!("{b}/o/revoke_token/"),
        "introspection_endpoint": format!("{b}/o/introspect/"),
        "code_challenge_methods_supported": ["plain", "S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_post", "client_secret_basic"],
        "jwks_uri": format!("{b}/o/.well-known/jwks.json")
    });
    cors(json_response(StatusCode::OK, &body))
}

pub async fn jwks() -> Response {
    // The sandbox signs ID tokens with HS256 (key: the client id); this key set is published
    // only so that discovery documents resolve.
    let body = json!({"keys": [{
        "alg": "RS256", "use": "sig", "kid": "jhe-sandbox-demo-key", "e": "AQAB", "kty": "RSA",
        "n": "0x0v_XXmgR8GcumOHj2HcsD8TvWZeIHFJWsfg5c5dMz3B9fBD_Z10fekbL9pQukb9GCVcwg54jrneDHMgza1YOxBlb9DqvR4CsFv9UvioJgDr7hfhp78E3z2"
    }]});
    cors(json_response(StatusCode::OK, &body))
}

pub fn cors(mut r: Response) -> Response {
    r.headers_mut().insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    r
}
