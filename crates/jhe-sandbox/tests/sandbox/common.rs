//! Helpers every sandbox test module uses: an HTTP client that does not follow redirects, the
//! first cookie a response sets, a client-credentials token for a practitioner's API key, and
//! the login form filled in as a browser would.

use jhe_sandbox::Sandbox;
use reqwest::redirect::Policy;
use serde_json::Value;

/// A client that shows redirects instead of following them.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap()
}

/// `name=value` of the response's `Set-Cookie`.
pub fn cookie_of(r: &reqwest::Response) -> String {
    r.headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_string()
}

/// The API key of the practitioner with this e-mail.
pub fn api_key(sb: &Sandbox, email: &str) -> String {
    sb.info()
        .practitioners
        .iter()
        .find(|p| p.email == email)
        .unwrap()
        .api_key
        .clone()
}

/// `POST /o/token/` with the key in HTTP Basic and `grant_type=client_credentials`.
pub async fn client_credentials(http: &reqwest::Client, url: &str, key: &str) -> reqwest::Response {
    http.post(format!("{url}/o/token/"))
        .header("Authorization", format!("Basic {key}"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
}

/// An access token for the API key.
pub async fn token_for(http: &reqwest::Client, url: &str, key: &str) -> String {
    let r: Value = client_credentials(http, url, key)
        .await
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// Fills in and submits the login form at `form_path` as a browser would (the CSRF cookie and
/// the hidden fields); returns the answer to the POST.
pub async fn submit_login(
    http: &reqwest::Client,
    url: &str,
    form_path: &str,
    email: &str,
    password: &str,
) -> reqwest::Response {
    let form = http.get(format!("{url}{form_path}")).send().await.unwrap();
    let csrf_cookie = cookie_of(&form);
    let html = form.text().await.unwrap();
    let field = |name: &str| {
        html.split(&format!("name=\"{name}\" value=\""))
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap()
            .replace("&amp;", "&")
    };
    let (csrf, next) = (field("csrfmiddlewaretoken"), field("next"));
    http.post(format!("{url}/accounts/login/"))
        .header("Cookie", &csrf_cookie)
        .form(&[
            ("csrfmiddlewaretoken", csrf.as_str()),
            ("login", email),
            ("password", password),
            ("next", next.as_str()),
        ])
        .send()
        .await
        .unwrap()
}
