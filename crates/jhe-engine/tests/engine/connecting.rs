//! Connecting: the HTTPS rule, discovery, and plain messages for addresses that are not JHE.

use crate::common::*;
use axum::http::StatusCode;
use jhe_engine::error::Error;
use jhe_engine::server_check::check_server;

#[tokio::test]
async fn plain_http_is_refused_except_on_loopback() {
    for url in ["http://jhe.example.org", "http://192.168.1.20:8000/"] {
        let e = check_server(url).await.expect_err("refused");
        assert!(matches!(e, Error::InsecureUrl { .. }), "{url}: {e:?}");
        assert!(e.to_string().contains("https://"), "{e}");
        assert_eq!(e.kind(), "insecure_url");
    }
    let e = check_server("ftp://x.org").await.expect_err("refused");
    assert!(matches!(e, Error::InvalidUrl { .. }), "{e:?}");
}

/// A local server typed without `http://` (it speaks plain http) is found at once over http,
/// instead of failing on https and blaming the network.
#[tokio::test]
async fn a_local_server_typed_without_a_scheme_is_found_over_plain_http() {
    let sb = sandbox().await;
    let bare = sb.url().trim_start_matches("http://").to_string();
    let t0 = std::time::Instant::now();
    let info = check_server(&bare).await.expect("found over http");
    assert_eq!(info.url.as_str(), sb.url());
    assert!(
        t0.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        t0.elapsed()
    );
    // Typed with https:// on purpose, it stays an https error.
    let e = check_server(&format!("https://{bare}"))
        .await
        .expect_err("no TLS there");
    assert!(
        matches!(e, Error::Network { .. } | Error::Unreachable { .. }),
        "{e:?}"
    );
}

#[tokio::test]
async fn the_sandbox_is_discovered_as_a_jhe_server() {
    let sb = sandbox().await;
    let info = check_server(&format!("{}/", sb.url())).await.expect("JHE");
    assert_eq!(info.version.as_deref(), Some("v0.0.13"));
    assert_eq!(info.url.as_str(), sb.url());
    assert_eq!(info.token_endpoint, format!("{}/o/token/", sb.url()));
    assert!(info.authorization_endpoint.ends_with("/o/authorize/"));
    assert!(info.revocation_endpoint.ends_with("/o/revoke_token/"));
    assert!(info.pkce_s256);
    // Addresses copied from the browser are reduced to the base.
    let info = check_server(&format!("{}/api/v1", sb.url()))
        .await
        .expect("JHE");
    assert_eq!(info.url.as_str(), sb.url());
}

#[tokio::test]
async fn an_html_login_page_is_not_a_jhe_server() {
    let url = fixed_server(
        StatusCode::OK,
        "text/html; charset=utf-8",
        "<!DOCTYPE html><html><head><title>Sign in · Example University SSO</title></head><body><form>…</form></body></html>",
    )
    .await;
    let e = check_server(&url).await.expect_err("not JHE");
    assert!(matches!(e, Error::NotJhe { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("does not look like a JupyterHealth Exchange"),
        "{msg}"
    );
    assert!(
        msg.contains("Sign in · Example University SSO"),
        "the page title is named: {msg}"
    );
    assert!(!msg.contains("<form>"), "no HTML dumped: {msg}");
    assert_eq!(e.exit_code(), 5);
}

#[tokio::test]
async fn a_json_api_without_jhe_health_is_not_a_jhe_server() {
    let url = fixed_server(
        StatusCode::NOT_FOUND,
        "application/json",
        r#"{"detail":"Not found."}"#,
    )
    .await;
    let e = check_server(&url).await.expect_err("not JHE");
    assert!(matches!(e, Error::NotJhe { .. }), "{e:?}");
    assert!(e.to_string().contains("404"), "{e}");
}

#[tokio::test]
async fn health_without_oauth_discovery_is_not_a_jhe_server() {
    // Answers {"status":"ok"} everywhere, but has no OpenID configuration.
    let url = fixed_server(StatusCode::OK, "application/json", r#"{"status":"ok"}"#).await;
    let e = check_server(&url).await.expect_err("not JHE");
    assert!(e.to_string().contains("discovery"), "{e}");
}

#[tokio::test]
async fn nothing_listening_is_unreachable_with_a_plain_message() {
    let e = check_server("http://127.0.0.1:1")
        .await
        .expect_err("unreachable");
    assert!(matches!(e, Error::Unreachable { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("Could not reach") && msg.contains("Check the address"),
        "{msg}"
    );
}

#[tokio::test]
async fn announced_endpoints_behind_a_proxy_stay_on_the_configured_address() {
    let sb = sandbox().await;
    // The server believes it is reached as 127.0.0.1:1, so its discovery names that host.
    let p = proxy(sb.url(), Some("127.0.0.1:1"), false).await;
    let info = check_server(&p.url).await.expect("JHE behind a proxy");
    assert_eq!(info.token_endpoint, format!("{}/o/token/", p.url));
    assert_eq!(
        info.authorization_endpoint,
        format!("{}/o/authorize/", p.url)
    );
}
