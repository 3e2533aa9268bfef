//! Signing in over real HTTP: API keys, the browser flow through the sandbox's login form,
//! token expiry, revocation, sign-out, and the keychain stand-in.

use std::sync::Arc;
use std::time::Duration;

use crate::common::*;
use jhe_engine::api::Session;
use jhe_engine::auth::{BrowserOptions, MemoryStore, SavedSignIn, SecretStore};
use jhe_engine::error::Error;

#[tokio::test]
async fn api_key_sign_in_reads_the_profile() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    assert_eq!(s.profile().email.as_deref(), Some(MARY));
    assert_eq!(s.profile().user_type, "practitioner");
    assert!(
        !format!("{s:?}").contains(&api_key(&sb, MARY)),
        "no secret in Debug"
    );
}

#[tokio::test]
async fn a_wrong_api_key_is_a_plain_sign_in_failure() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let bad = base64_of("nobody:wrong-secret");
    let e = Session::sign_in_with_api_key(&info, &bad, fast())
        .await
        .expect_err("refused");
    assert!(matches!(e, Error::SignInFailed { .. }), "{e:?}");
    assert!(e.to_string().contains("API key was not accepted"), "{e}");
    assert_eq!(e.exit_code(), 3);
    let e = Session::sign_in_with_api_key(&info, "not a key", fast())
        .await
        .expect_err("refused");
    assert!(
        e.to_string().contains("does not look like a JHE API key"),
        "{e}"
    );
}

fn base64_of(s: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(s)
}

#[tokio::test]
async fn browser_sign_in_with_pkce_then_refresh_rotation_is_stored() {
    let sb = sandbox().await;
    // Short-lived access tokens force refreshes.
    sb.set_token_lifetime(1);
    let s = browser_session(&sb, MARY).await.expect("browser sign-in");
    assert_eq!(s.profile().email.as_deref(), Some(MARY));
    let store = Arc::new(MemoryStore::new());
    s.remember(store.clone()).await.expect("saved");
    let account = s.server().url.key();
    let before = SavedSignIn::load(store.as_ref(), &account)
        .expect("load")
        .expect("saved");
    assert!(
        matches!(&before, SavedSignIn::Browser { client_id, .. } if client_id == "jhe-desktop")
    );
    for _ in 0..2 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let studies = s.studies(None).await.expect("works after a refresh");
        assert!(studies.iter().any(|st| st.id == DEMO_STUDY));
        let after = SavedSignIn::load(store.as_ref(), &account)
            .expect("load")
            .expect("saved");
        assert_ne!(
            before, after,
            "the rotated refresh token replaced the old one"
        );
        assert_eq!(s.saved_sign_in().await, after);
    }
}

/// (Before issue #9 a tampered answer aborted the sign-in; now it is refused and the real
/// answer is still awaited, so a page that guesses the port cannot break a sign-in.)
#[tokio::test]
async fn a_tampered_state_is_rejected_and_the_sign_in_keeps_waiting_until_its_time_out() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let opts = BrowserOptions {
        timeout: Duration::from_secs(3),
        ..Default::default()
    };
    let e = Session::sign_in_with_browser(&info, &opts, fast(), |url| {
        let url = url.to_string();
        tokio::spawn(async move {
            let _ = browser(url, MARY.to_string(), Callback::TamperState).await;
        });
    })
    .await
    .expect_err("only a tampered answer came");
    assert!(matches!(e, Error::SignInFailed { .. }), "{e:?}");
    assert!(e.to_string().contains("within 3 seconds"), "{e}");
}

#[tokio::test]
async fn forged_answers_are_ignored_and_the_real_one_signs_in() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let forged_ok = std::sync::Arc::new(std::sync::Mutex::new(None));
    let seen = forged_ok.clone();
    let s = Session::sign_in_with_browser(&info, &BrowserOptions::default(), fast(), move |url| {
        let url = url.to_string();
        let seen = seen.clone();
        tokio::spawn(async move {
            let r = browser(url, MARY.to_string(), Callback::ForgedThenReal).await;
            *seen.lock().expect("lock") = Some(r);
        });
    })
    .await
    .expect("the real answer signs in");
    assert_eq!(s.profile().email.as_deref(), Some(MARY));
    let browser_result = forged_ok.lock().expect("lock").clone();
    assert_eq!(
        browser_result,
        Some(Ok(())),
        "every forged answer got a 400"
    );
}

#[tokio::test]
async fn an_unregistered_client_id_is_explained() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let opts = BrowserOptions {
        client_id: "not-registered".into(),
        timeout: Duration::from_secs(5),
        ..Default::default()
    };
    let e = Session::sign_in_with_browser(&info, &opts, fast(), |url| {
        let url = url.to_string();
        tokio::spawn(async move {
            // JHE answers an unknown client with an HTML error page, never redirecting back.
            let _ = reqwest::get(url).await;
        });
    })
    .await
    .expect_err("no answer");
    assert!(matches!(e, Error::SignInFailed { .. }), "{e:?}");
}

#[tokio::test]
async fn patient_accounts_are_turned_away() {
    let sb = sandbox().await;
    let e = browser_session(&sb, PETER)
        .await
        .expect_err("patients may not use the research UI");
    assert!(matches!(e, Error::PatientAccount), "{e:?}");
    assert!(e.to_string().contains("practitioner account"), "{e}");
}

#[tokio::test]
async fn expired_tokens_are_renewed_silently() {
    let sb = sandbox().await;
    sb.set_token_lifetime(1);
    let s = session(&sb, MARY).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let orgs = s.organizations().await.expect("still works");
        assert!(!orgs.is_empty());
    }
}

#[tokio::test]
async fn revoked_api_key_tokens_reauthenticate_once_silently() {
    let sb = sandbox().await;
    let s = session(&sb, MARY).await;
    s.studies(None).await.expect("works");
    sb.revoke_all_tokens();
    let studies = s.studies(None).await.expect("one silent re-authentication");
    assert!(studies.iter().any(|st| st.id == DEMO_STUDY));
    assert_eq!(s.stats().reauthentications, 1);
}

#[tokio::test]
async fn a_revoked_browser_sign_in_asks_to_sign_in_again() {
    let sb = sandbox().await;
    let s = browser_session(&sb, MARY).await.expect("browser sign-in");
    sb.revoke_all_tokens();
    let e = s
        .studies(None)
        .await
        .expect_err("refresh token revoked too");
    assert!(matches!(e, Error::SignInAgain { .. }), "{e:?}");
    assert!(e.to_string().starts_with("Please sign in again"), "{e}");
    assert_eq!(e.exit_code(), 3);
    let v = serde_json::to_value(&e).expect("serialises");
    assert_eq!(v["kind"], "sign_in_again");
}

#[tokio::test]
async fn resume_uses_the_saved_sign_in_and_sign_out_revokes_and_forgets_it() {
    let sb = sandbox().await;
    let info = server(&sb).await;
    let store: Arc<dyn SecretStore> = Arc::new(MemoryStore::new());
    let e = Session::resume(&info, store.clone(), fast())
        .await
        .expect_err("nothing saved");
    assert!(matches!(e, Error::NotSignedIn { .. }), "{e:?}");

    let s = browser_session(&sb, MARY).await.expect("browser sign-in");
    s.remember(store.clone()).await.expect("saved");
    // A new run of the app: the refresh token is used (and rotated) to sign in.
    let resumed = Session::resume(&info, store.clone(), fast())
        .await
        .expect("resumed");
    assert_eq!(resumed.profile().email.as_deref(), Some(MARY));
    resumed
        .sign_out(Some(store.as_ref()))
        .await
        .expect("signed out");
    assert!(
        store.get(&info.url.key()).expect("store").is_none(),
        "secret deleted"
    );
    let e = resumed.studies(None).await.expect_err("revoked");
    assert!(matches!(e, Error::SignInAgain { .. }), "{e:?}");

    // API keys: sign-out revokes the token; the key itself stays valid on the server.
    let k = session(&sb, MARY).await;
    k.remember(store.clone()).await.expect("saved");
    k.sign_out(Some(store.as_ref())).await.expect("signed out");
    assert!(store.get(&info.url.key()).expect("store").is_none());
}
