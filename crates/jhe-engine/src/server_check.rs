//! Checking a server address before anything else: the HTTPS rule, `/health`, and OAuth discovery.

use std::net::IpAddr;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Error, Result};
use crate::http;

/// A validated server address: `scheme://host[:port][/prefix]`, without a trailing slash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ServerUrl(Url);

impl Serialize for ServerUrl {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ServerUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ServerUrl::parse(&s).map_err(serde::de::Error::custom)
    }
}

impl ServerUrl {
    /// Parses what a person typed. A missing scheme means `https://`. Plain `http://` is only
    /// accepted for this computer (127.0.0.0/8, ::1, localhost).
    pub fn parse(input: &str) -> Result<ServerUrl> {
        let trimmed = input.trim();
        let invalid = |reason: &str| Error::InvalidUrl {
            input: trimmed.to_string(),
            reason: reason.to_string(),
        };
        if trimmed.is_empty() {
            return Err(invalid("it is empty"));
        }
        let with_scheme = if trimmed.contains("://") {
            trimmed.to_string()
        } else {
            format!("https://{trimmed}")
        };
        let mut url = Url::parse(&with_scheme).map_err(|e| invalid(&e.to_string()))?;
        match url.scheme() {
            "https" | "http" => {}
            other => {
                return Err(invalid(&format!(
                    "\"{other}://\" is not http:// or https://"
                )))
            }
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err(invalid("it has no host name"));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(invalid(
                "it contains a user name or password; sign in separately instead",
            ));
        }
        if url.scheme() == "http" && !is_loopback(&url) {
            let mut shown = url.clone();
            shown.set_query(None);
            shown.set_fragment(None);
            return Err(Error::InsecureUrl {
                url: shown.as_str().trim_end_matches('/').to_string(),
            });
        }
        url.set_query(None);
        url.set_fragment(None);
        // Addresses copied from the browser often end in a known path: keep only the base.
        let mut path = url.path().trim_end_matches('/').to_string();
        for suffix in [
            "/o/.well-known/openid-configuration",
            "/health",
            "/api/v1",
            "/FHIR/R5",
            "/o",
        ] {
            if let Some(p) = path.strip_suffix(suffix) {
                path = p.to_string();
                break;
            }
        }
        // …and pages of the web portal or the API deeper down (`/portal/studies`,
        // `/api/v1/studies/30006`, `/admin/`): the server is what comes before them.
        for segment in ["/portal", "/admin", "/api", "/FHIR", "/o"] {
            let cut = path.match_indices(segment).find(|(i, _)| {
                let rest = &path[i + segment.len()..];
                rest.is_empty() || rest.starts_with('/')
            });
            if let Some((i, _)) = cut {
                path.truncate(i);
            }
        }
        url.set_path(&path);
        Ok(ServerUrl(url))
    }

    /// The base address without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// `base + path`, where `path` starts with `/`.
    pub fn join(&self, path_and_query: &str) -> String {
        format!("{}{}", self.as_str(), path_and_query)
    }

    /// A stable key for this server (keychain account names, config).
    pub fn key(&self) -> String {
        self.as_str().to_ascii_lowercase()
    }

    pub fn is_loopback(&self) -> bool {
        is_loopback(&self.0)
    }
}

impl std::fmt::Display for ServerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for ServerUrl {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ServerUrl::parse(s)
    }
}

/// A plain-http `localhost` / `*.localhost` address is accepted as loopback only when the name
/// really resolves to loopback addresses (a hosts file or DNS may send `*.localhost` anywhere,
/// and plain http there would carry the key over the network).
async fn check_loopback_resolves(url: &ServerUrl) -> Result<()> {
    let u = url.url();
    let Some(url::Host::Domain(d)) = u.host() else {
        return Ok(());
    };
    if u.scheme() != "http" {
        return Ok(());
    }
    let port = u.port_or_known_default().unwrap_or(80);
    // A name that does not resolve fails later with a plain "could not reach" message.
    let Ok(addrs) = tokio::net::lookup_host((d, port)).await else {
        return Ok(());
    };
    if all_loopback(addrs.map(|a| a.ip())) {
        return Ok(());
    }
    Err(Error::InsecureUrl {
        url: url.to_string(),
    })
}

/// True when every address is a loopback address (and there is at least one).
fn all_loopback(addrs: impl IntoIterator<Item = IpAddr>) -> bool {
    let mut any = false;
    for a in addrs {
        if !a.is_loopback() {
            return false;
        }
        any = true;
    }
    any
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost")
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

/// What discovery found out about a server.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ServerInfo {
    pub url: ServerUrl,
    /// JHE version from `/health`, e.g. `v0.0.13`.
    pub version: Option<String>,
    pub issuer: Option<String>,
    pub authorization_endpoint: String,
    pub token_endpoint: String,
    pub revocation_endpoint: String,
    pub pkce_s256: bool,
}

/// The JSON `/health` of JHE answers.
#[derive(Deserialize)]
struct Health {
    status: String,
    version: Option<String>,
}

#[derive(Deserialize)]
struct Discovery {
    issuer: Option<String>,
    authorization_endpoint: Option<String>,
    token_endpoint: Option<String>,
    revocation_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
}

/// Checks that `input` is a reachable JupyterHealth Exchange: address rules first, then
/// `GET /health` (JSON `{"status":"ok"}`), then `GET /o/.well-known/openid-configuration`.
///
/// An address of this computer typed without a scheme (`localhost:8000`) is tried with
/// `https://` first and, when nothing answers there in TLS, with `http://` (a local server
/// usually speaks plain http); the answer says which one worked.
pub async fn check_server(input: &str) -> Result<ServerInfo> {
    let url = ServerUrl::parse(input)?;
    check_loopback_resolves(&url).await?;
    let client = http::plain_client(Duration::from_secs(20))?;
    let bare = !input.trim().contains("://");
    match check_server_with(&client, url.clone()).await {
        Err(Error::Network { .. } | Error::Unreachable { .. }) if bare && url.is_loopback() => {
            let mut plain = url.url().clone();
            if plain.set_scheme("http").is_err() {
                return check_server_with(&client, url).await;
            }
            check_server_with(&client, ServerUrl::parse(plain.as_str())?).await
        }
        other => other,
    }
}

pub(crate) async fn check_server_with(
    client: &reqwest::Client,
    url: ServerUrl,
) -> Result<ServerInfo> {
    let not_jhe = |detail: String| Error::NotJhe {
        url: url.to_string(),
        detail,
    };
    let health = probe(client, &url, "/health").await?;
    let health: Health = match health {
        Probe::Json(v) => serde_json::from_value(v).map_err(|_| {
            not_jhe("its /health address answered with JSON, but not JHE's health report".into())
        })?,
        Probe::Html(title) => {
            return Err(not_jhe(format!(
                "it answered with a web page{} instead of JHE's health report",
                title
                    .map(|t| format!(" titled \"{t}\""))
                    .unwrap_or_default()
            )))
        }
        Probe::Other(status, what) => {
            return Err(not_jhe(format!(
                "its /health address answered {status} with {what}"
            )))
        }
    };
    if health.status != "ok" {
        return Err(not_jhe(format!(
            "it reports its health as \"{}\"",
            health.status
        )));
    }
    let disco = match probe(client, &url, "/o/.well-known/openid-configuration").await? {
        Probe::Json(v) => serde_json::from_value::<Discovery>(v).map_err(|_| {
            not_jhe("its sign-in discovery document is not valid OpenID configuration".into())
        })?,
        Probe::Html(title) => {
            return Err(not_jhe(format!(
                "it has no sign-in discovery document (a web page{} came back instead)",
                title
                    .map(|t| format!(" titled \"{t}\""))
                    .unwrap_or_default()
            )))
        }
        Probe::Other(status, what) => {
            return Err(not_jhe(format!(
                "it has no sign-in discovery document ({status} with {what})"
            )))
        }
    };
    let token_endpoint = disco
        .token_endpoint
        .ok_or_else(|| not_jhe("its discovery document names no token endpoint".into()))?;
    let authorization_endpoint = disco.authorization_endpoint.unwrap_or_default();
    Ok(ServerInfo {
        version: health.version,
        issuer: disco.issuer,
        authorization_endpoint: rebase(&url, &authorization_endpoint, "/o/authorize/"),
        token_endpoint: rebase(&url, &token_endpoint, "/o/token/"),
        revocation_endpoint: rebase(
            &url,
            disco.revocation_endpoint.as_deref().unwrap_or_default(),
            "/o/revoke_token/",
        ),
        pkce_s256: disco
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256"),
        url,
    })
}

/// Endpoints announced by the server are built from the Host it saw; behind a proxy that may
/// be an internal name. Keep an announced URL only when it is on the configured origin, and
/// never its query string or fragment (the client adds its own parameters; a server-supplied
/// `?…&…` must not reach a browser launcher or a token request).
fn rebase(base: &ServerUrl, announced: &str, default_path: &str) -> String {
    if let Ok(mut a) = Url::parse(announced) {
        a.set_query(None);
        a.set_fragment(None);
        let b = base.url();
        if a.scheme() == b.scheme()
            && a.host_str() == b.host_str()
            && a.port_or_known_default() == b.port_or_known_default()
        {
            return a.to_string();
        }
    }
    base.join(default_path)
}

enum Probe {
    Json(serde_json::Value),
    /// An HTML page, with its title.
    Html(Option<String>),
    Other(u16, String),
}

async fn probe(client: &reqwest::Client, url: &ServerUrl, path: &str) -> Result<Probe> {
    let full = url.join(path);
    let resp = client
        .get(&full)
        .header(reqwest::header::ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| Error::Unreachable {
            url: url.to_string(),
            detail: http::describe_transport_error(&e),
        })?;
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let body = http::read_capped(resp, http::MAX_DOCUMENT_BYTES)
        .await
        .map_err(|e| Error::Unreachable {
            url: url.to_string(),
            detail: e.describe(),
        })?;
    if ctype.contains("html") || http::looks_like_html(&body) {
        return Ok(Probe::Html(http::html_title(&body)));
    }
    if status != 200 {
        let what = if body.is_empty() {
            "an empty answer".to_string()
        } else if ctype.is_empty() {
            "an answer of unknown type".to_string()
        } else {
            format!("{ctype} content")
        };
        return Ok(Probe::Other(status, what));
    }
    match serde_json::from_slice(&body) {
        Ok(v) => Ok(Probe::Json(v)),
        Err(_) => Ok(Probe::Other(status, "content that is not JSON".to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(s: &str) -> String {
        match ServerUrl::parse(s) {
            Ok(u) => u.to_string(),
            Err(e) => panic!("{s}: {e}"),
        }
    }

    #[test]
    fn https_required_except_on_loopback() {
        assert_eq!(ok("https://jhe.example.org/"), "https://jhe.example.org");
        assert_eq!(ok("jhe.example.org"), "https://jhe.example.org");
        assert_eq!(ok("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
        assert_eq!(ok("http://127.5.6.7:8000/"), "http://127.5.6.7:8000");
        assert_eq!(ok("http://localhost:8000"), "http://localhost:8000");
        assert_eq!(ok("http://[::1]:8000"), "http://[::1]:8000");
        assert_eq!(ok("https://h.org/jhe/api/v1/"), "https://h.org/jhe");
        // Addresses pasted from the browser bar: the portal's pages, the API, the admin.
        assert_eq!(
            ok("https://jhe.example.org/portal/studies"),
            "https://jhe.example.org"
        );
        assert_eq!(
            ok("https://h.org/jhe/portal/studies/30006?tab=1"),
            "https://h.org/jhe"
        );
        assert_eq!(
            ok("https://jhe.example.org/api/v1/studies/30006"),
            "https://jhe.example.org"
        );
        assert_eq!(
            ok("https://jhe.example.org/admin/"),
            "https://jhe.example.org"
        );
        assert_eq!(
            ok("https://jhe.example.org/o/authorize/?x=1"),
            "https://jhe.example.org"
        );
        assert_eq!(
            ok("https://jhe.example.org/portals"),
            "https://jhe.example.org/portals"
        );
        for bad in [
            "http://jhe.example.org",
            "http://10.0.0.5:8000",
            "http://[::2]:80",
        ] {
            let e = ServerUrl::parse(bad).err();
            assert!(matches!(e, Some(Error::InsecureUrl { .. })), "{bad}: {e:?}");
        }
        for bad in ["", "ftp://x.org", "https://", "https://u:p@x.org"] {
            let e = ServerUrl::parse(bad).err();
            assert!(matches!(e, Some(Error::InvalidUrl { .. })), "{bad}: {e:?}");
        }
    }

    #[test]
    fn announced_endpoints_on_another_host_are_rebased() {
        let base =
            ServerUrl::parse("https://jhe.example.org/prefix").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rebase(&base, "http://internal:8000/o/token/", "/o/token/"),
            "https://jhe.example.org/prefix/o/token/"
        );
        assert_eq!(
            rebase(&base, "https://jhe.example.org/o/token/", "/o/token/"),
            "https://jhe.example.org/o/token/"
        );
    }

    #[test]
    fn a_localhost_name_is_loopback_only_if_it_resolves_there() {
        let ip = |s: &str| s.parse::<IpAddr>().unwrap_or_else(|e| panic!("{e}"));
        assert!(all_loopback([ip("127.0.0.1"), ip("::1")]));
        assert!(all_loopback([ip("127.0.1.1")]));
        assert!(!all_loopback([ip("127.0.0.1"), ip("192.168.1.20")]));
        assert!(!all_loopback([ip("10.0.0.5")]));
        assert!(!all_loopback(std::iter::empty()));
    }

    #[tokio::test]
    async fn localhost_itself_resolves_to_loopback_and_is_accepted() {
        let url = ServerUrl::parse("http://localhost:9").unwrap_or_else(|e| panic!("{e}"));
        assert!(check_loopback_resolves(&url).await.is_ok());
    }

    #[test]
    fn announced_endpoints_lose_their_query_string() {
        let base = ServerUrl::parse("https://jhe.example.org").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            rebase(
                &base,
                "https://jhe.example.org/o/authorize/?x=1&calc.exe#frag",
                "/o/authorize/"
            ),
            "https://jhe.example.org/o/authorize/"
        );
    }
}
