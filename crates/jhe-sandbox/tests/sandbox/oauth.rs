//! Sign-in scenarios over real HTTP: the browser flow (login form, authorization code with PKCE on
//! a loopback redirect), refresh-token rotation, revocation, introspection and token expiry.

use base64::Engine;
use jhe_sandbox::{Config, Sandbox};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::common::{
    bearer_get, client_credentials, cookie_of, no_redirects as client, submit_login,
};

/// Drives the login form like a person in a browser; returns the session cookie and where the
/// form sends the browser next.
async fn browser_login(
    http: &reqwest::Client,
    url: &str,
    authorize: &str,
    email: &str,
    password: &str,
) -> Result<(String, String), String> {
    let r = http.get(authorize).send().await.unwrap();
    assert_eq!(r.status(), 302, "not logged in: to the login page");
    let login_path = r.headers()["location"].to_str().unwrap().to_string();
    assert!(login_path.starts_with("/accounts/login/?next=/o/authorize/"));
    let r = submit_login(http, url, &login_path, email, password).await;
    if r.status() != 302 {
        let body = r.text().await.unwrap();
        return Err(body);
    }
    let session = cookie_of(&r);
    let next = r.headers()["location"].to_str().unwrap().to_string();
    Ok((session, next))
}

fn pkce() -> (String, String) {
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy".to_string();
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

#[tokio::test]
async fn browser_sign_in_with_pkce_on_a_loopback_port_then_refresh_rotates() {
    let sb = Sandbox::start(Config::default()).await.unwrap();
    let url = sb.url().to_string();
    let http = client();
    let (verifier, challenge) = pkce();
    let redirect = "http://127.0.0.1:53123/callback";
    let authorize = format!(
        "{url}/o/authorize/?response_type=code&client_id=jhe-desktop&redirect_uri={}&scope=openid%20email&state=xyz&code_challenge={challenge}&code_challenge_method=S256",
        urlencode(redirect)
    );
    let wrong = browser_login(&http, &url, &authorize, "manager_mary@example.com", "nope").await;
    assert!(
        wrong.unwrap_err().contains("not correct"),
        "a wrong password shows the form again with an error"
    );
    let (session, next) = browser_login(
        &http,
        &url,
        &authorize,
        "manager_mary@example.com",
        "Jhe1234!",
    )
    .await
    .unwrap();
    let r = http
        .get(format!("{url}{next}"))
        .header("Cookie", &session)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    assert!(
        loc.starts_with("http://127.0.0.1:53123/callback?code="),
        "{loc}"
    );
    assert!(loc.ends_with("&state=xyz"));
    let code = loc
        .split("code=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();

    // A wrong verifier is refused and burns nothing else; the right one works once.
    let exchange = |code: String, verifier: String| {
        let http = http.clone();
        let url = url.clone();
        async move {
            http.post(format!("{url}/o/token/"))
                .form(&[
                    ("grant_type", "authorization_code"),
                    ("code", &code),
                    ("client_id", "jhe-desktop"),
                    ("redirect_uri", redirect),
                    ("code_verifier", &verifier),
                ])
                .send()
                .await
                .unwrap()
        }
    };
    let r = exchange(code.clone(), verifier.clone()).await;
    assert_eq!(r.status(), 200);
    let tok: Value = r.json().await.unwrap();
    assert_eq!(tok["expires_in"], 1_209_600);
    assert_eq!(tok["scope"], "openid email");
    assert!(tok["id_token"].as_str().unwrap().split('.').count() == 3);
    let again = exchange(code, verifier).await;
    assert_eq!(again.status(), 400, "a code works once");
    assert_eq!(
        again.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );

    let access = tok["access_token"].as_str().unwrap().to_string();
    let refresh = tok["refresh_token"].as_str().unwrap().to_string();
    let profile = |t: String| {
        let http = http.clone();
        let url = url.clone();
        async move { bearer_get(&http, &format!("{url}/api/v1/users/profile"), &t).await }
    };
    let me: Value = profile(access.clone()).await.json().await.unwrap();
    assert_eq!(me["email"], "manager_mary@example.com");

    let refresh_grant = || {
        http.post(format!("{url}/o/token/"))
            .form(&[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh.as_str()),
                ("client_id", "jhe-desktop"),
            ])
            .send()
    };
    let r = refresh_grant().await.unwrap();
    assert_eq!(r.status(), 200);
    let rotated: Value = r.json().await.unwrap();
    assert_ne!(rotated["refresh_token"], tok["refresh_token"]);
    assert_eq!(
        profile(access).await.status(),
        401,
        "the old access token dies at once"
    );
    let reuse = refresh_grant().await.unwrap();
    assert_eq!(reuse.status(), 400);
    assert_eq!(
        reuse.json::<Value>().await.unwrap()["error"],
        "invalid_grant"
    );
    let new_access = rotated["access_token"].as_str().unwrap().to_string();
    assert_eq!(profile(new_access.clone()).await.status(), 200);

    // Sign-out: revoking makes the token fail with the "invalid token" header.
    let r = http
        .post(format!("{url}/o/revoke_token/"))
        .form(&[("token", new_access.as_str()), ("client_id", "jhe-desktop")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = profile(new_access).await;
    assert_eq!(r.status(), 401);
    assert!(r.headers()["www-authenticate"]
        .to_str()
        .unwrap()
        .contains("invalid_token"));
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn redirects_are_matched_exactly_as_jhe_does() {
    let sb = Sandbox::start(Config::default()).await.unwrap();
    let url = sb.url().to_string();
    let http = client();
    let (_, challenge) = pkce();
    let base = |redirect: &str, pkce: bool| {
        let mut u = format!(
            "{url}/o/authorize/?response_type=code&client_id=jhe-desktop&redirect_uri={}&state=s1",
            urlencode(redirect)
        );
        if pkce {
            u.push_str(&format!(
                "&code_challenge={challenge}&code_challenge_method=S256"
            ));
        }
        u
    };
    let (session, _) = browser_login(
        &http,
        &url,
        &base("http://127.0.0.1:1/callback", true),
        "member_megan@example.com",
        "Jhe1234!",
    )
    .await
    .unwrap();
    let go = |u: String| {
        let http = http.clone();
        let session = session.clone();
        async move { http.get(u).header("Cookie", session).send().await.unwrap() }
    };
    assert_eq!(
        go(base("http://127.0.0.1:40001/callback", true))
            .await
            .status(),
        302
    );
    assert_eq!(
        go(base("http://[::1]:40001/callback", true)).await.status(),
        302
    );
    assert_eq!(
        go(base("http://localhost:40001/callback", true))
            .await
            .status(),
        400,
        "localhost is not 127.0.0.1"
    );
    assert_eq!(
        go(base("http://127.0.0.1:40001/auth/callback", true))
            .await
            .status(),
        400,
        "the path must match"
    );
    let no_pkce = go(base("http://127.0.0.1:40001/callback", false)).await;
    assert_eq!(no_pkce.status(), 302);
    let loc = no_pkce.headers()["location"].to_str().unwrap();
    assert!(
        loc.contains("error=invalid_request&error_description=Code+challenge+required."),
        "{loc}"
    );
    let unknown = go(format!(
        "{url}/o/authorize/?response_type=code&client_id=nope&redirect_uri=x"
    ))
    .await;
    assert_eq!(unknown.status(), 400);
}

#[tokio::test]
async fn api_keys_short_token_lifetimes_revocation_and_introspection() {
    let sb = Sandbox::start(Config {
        token_lifetime_s: 1,
        ..Config::default()
    })
    .await
    .unwrap();
    let url = sb.url().to_string();
    let http = client();
    let info = sb.info();
    let tom = info
        .practitioners
        .iter()
        .find(|p| p.email == "three_org_tom@example.com")
        .unwrap();
    let get_token = || {
        let http = http.clone();
        let url = url.clone();
        let key = tom.api_key.clone();
        async move {
            let r = client_credentials(&http, &url, &key).await;
            assert_eq!(r.status(), 200);
            r.json::<Value>().await.unwrap()
        }
    };
    let tok = get_token().await;
    assert_eq!(tok["expires_in"], 1);
    assert!(
        tok.get("refresh_token").is_none(),
        "client credentials get no refresh token"
    );
    let t = tok["access_token"].as_str().unwrap().to_string();
    let intro: Value = http
        .post(format!("{url}/o/introspect/"))
        .basic_auth(&tom.client_id, Some(&tom.client_secret))
        .form(&[("token", t.as_str())])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(intro["active"], true);
    assert_eq!(intro["client_id"], tom.client_id.as_str());
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let r = bearer_get(&http, &format!("{url}/api/v1/users/profile"), &t).await;
    assert_eq!(r.status(), 401, "expired");

    sb.set_token_lifetime(3600);
    let t = get_token().await["access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let orgs: Value = bearer_get(&http, &format!("{url}/api/v1/users/organizations"), &t)
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<u64> = orgs
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["id"].as_u64().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![20003, 20007, 20008],
        "three_org_tom is in three organizations"
    );
    assert!(sb.revoke_all_tokens() >= 1);
    let r = bearer_get(&http, &format!("{url}/api/v1/users/organizations"), &t).await;
    assert_eq!(r.status(), 401, "revoked tokens die at once");

    let wrong = http
        .post(format!("{url}/o/token/"))
        .basic_auth(&tom.client_id, Some("wrong-secret"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    assert_eq!(
        wrong.headers()["www-authenticate"],
        "Bearer error=\"invalid_client\""
    );
    let json_body = http
        .post(format!("{url}/o/token/"))
        .basic_auth(&tom.client_id, Some(&tom.client_secret))
        .json(&serde_json::json!({"grant_type": "client_credentials"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        json_body.json::<Value>().await.unwrap()["error"],
        "unsupported_grant_type"
    );
    let bad_scope = http
        .post(format!("{url}/o/token/"))
        .basic_auth(&tom.client_id, Some(&tom.client_secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read write"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        bad_scope.json::<Value>().await.unwrap()["error"],
        "invalid_scope"
    );
}

#[tokio::test]
async fn api_keys_are_deterministic_for_a_seed() {
    let a = jhe_sandbox::build_state(&Config {
        patients: 2,
        days: 1,
        ..Config::default()
    })
    .unwrap();
    let b = jhe_sandbox::build_state(&Config {
        patients: 2,
        days: 1,
        ..Config::default()
    })
    .unwrap();
    let c = jhe_sandbox::build_state(&Config {
        seed: 7,
        patients: 2,
        days: 1,
        ..Config::default()
    })
    .unwrap();
    let keys = |s: &jhe_sandbox::AppState| {
        jhe_sandbox::info_of(s, "x", 0)
            .practitioners
            .iter()
            .map(|p| p.api_key.clone())
            .collect::<Vec<_>>()
    };
    assert_eq!(keys(&a), keys(&b));
    assert_ne!(keys(&a), keys(&c));
    assert_eq!(keys(&a).len(), 5);
}
