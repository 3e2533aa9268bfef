//! Helpers every sandbox test module uses: an HTTP client that does not follow redirects, the
//! first cookie a response sets, a client-credentials token for a practitioner's API key, a
//! client signed in with one (and FHIR paging through it), the login form filled in as a
//! browser would, and the OMH payload of a FHIR resource.

use jhe_sandbox::Sandbox;
use reqwest::redirect::Policy;
use serde_json::Value;

/// The OMH payload of a FHIR Observation resource (its base64 `valueAttachment`).
pub fn omh_of(resource: &Value) -> Value {
    use base64::Engine as _;
    let data = resource["valueAttachment"]["data"].as_str().unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(data)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

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

/// `GET url` with the bearer token.
pub async fn bearer_get(http: &reqwest::Client, url: &str, token: &str) -> reqwest::Response {
    http.get(url).bearer_auth(token).send().await.unwrap()
}

/// An HTTP client signed in with a practitioner's API key, against one sandbox.
pub struct Client {
    pub http: reqwest::Client,
    pub url: String,
    pub token: String,
}

impl Client {
    /// Signs `http` in with the API key of the practitioner with this e-mail.
    pub async fn new(sb: &Sandbox, email: &str, http: reqwest::Client) -> Client {
        let token = token_for(&http, sb.url(), &api_key(sb, email)).await;
        Client {
            http,
            url: sb.url().to_string(),
            token,
        }
    }
    /// A request with the bearer token to a path on the sandbox, or to a whole URL (a `next`
    /// link).
    pub fn request(&self, method: reqwest::Method, path_or_url: &str) -> reqwest::RequestBuilder {
        let url = if path_or_url.starts_with("http") {
            path_or_url.to_string()
        } else {
            format!("{}{path_or_url}", self.url)
        };
        self.http.request(method, url).bearer_auth(&self.token)
    }
    /// `GET` a path or URL: the status and the JSON body (null when it is not JSON).
    pub async fn get(&self, path_or_url: &str) -> (u16, Value) {
        let r = self
            .request(reqwest::Method::GET, path_or_url)
            .send()
            .await
            .unwrap();
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }
    /// Follows FHIR `next` links; returns (total, ids in order).
    pub async fn fhir_all(&self, query: &str) -> (u64, Vec<String>) {
        let (s, mut page) = self.get(&format!("/FHIR/R5/Observation?{query}")).await;
        assert_eq!(s, 200, "{page}");
        let total = page["total"].as_u64().unwrap();
        let mut ids = Vec::new();
        loop {
            for e in page["entry"].as_array().unwrap() {
                ids.push(e["resource"]["id"].as_str().unwrap().to_string());
            }
            match next_link(&page) {
                Some(n) => page = self.get(&n).await.1,
                None => break,
            }
        }
        (total, ids)
    }
}

/// The `next` link of a FHIR bundle.
pub fn next_link(bundle: &Value) -> Option<String> {
    bundle["link"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["relation"] == "next")
        .map(|l| l["url"].as_str().unwrap().to_string())
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
