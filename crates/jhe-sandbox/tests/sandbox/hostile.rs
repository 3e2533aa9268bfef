//! The hostile-server modes do what they say, over real HTTP: foreign rows, lying `next` links,
//! endless pages, a gzip bomb and an endless body, redirects on the token endpoint and the API,
//! spreadsheet formulas in names, identifiers and OMH text, and an absurd `expires_in`.

use std::collections::HashSet;
use std::io::Read;
use std::sync::atomic::Ordering;

use jhe_sandbox::{
    Config, EndlessPages, ForeignRows, Hostile, HostileBody, Redirect, RedirectTo, Sandbox,
};
use serde_json::{json, Value};

use crate::common::{api_key, bearer_get, next_link, no_redirects, Client};

/// 2026-11-26T02:00:00Z, so the data's days are known.
const END_US: i64 = 1_795_658_400_000_000;
const HR: &str = "https://w3id.org/openmhealth%7Comh:heart-rate:2.0";

/// A small sandbox and Mary signed in, with a client that shows redirects.
struct Api {
    sb: Sandbox,
    c: Client,
}

impl Api {
    async fn start() -> Api {
        let sb = Sandbox::start(Config {
            patients: 3,
            days: 2,
            end_us: Some(END_US),
            ..Config::default()
        })
        .await
        .unwrap();
        let c = Client::new(&sb, "manager_mary@example.com", no_redirects()).await;
        Api { sb, c }
    }
    /// `GET` that must answer 200 with JSON.
    async fn get(&self, path_or_url: &str) -> Value {
        let r = self
            .c
            .request(reqwest::Method::GET, path_or_url)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        r.json().await.unwrap()
    }
    fn hostile(&self, h: Hostile) {
        self.sb.set_hostile(h);
    }
}

fn resources(bundle: &Value) -> Vec<&Value> {
    bundle["entry"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["resource"])
        .collect()
}

fn ids(bundle: &Value) -> Vec<String> {
    resources(bundle)
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn foreign_rows_of_another_patient_code_or_time() {
    let api = Api::start().await;
    let other_patient = Hostile {
        foreign_rows: Some(ForeignRows::OtherPatient),
        ..Default::default()
    };
    api.hostile(other_patient);
    let page = api.get("/FHIR/R5/Observation?patient=40006&_count=5").await;
    assert!(
        resources(&page)
            .iter()
            .any(|r| r["subject"]["reference"] != "Patient/40006"),
        "{page}"
    );

    api.hostile(Hostile {
        foreign_rows: Some(ForeignRows::OtherCode),
        ..Default::default()
    });
    let page = api
        .get(&format!(
            "/FHIR/R5/Observation?patient=40006&code={HR}&_count=5"
        ))
        .await;
    let codes: HashSet<String> = resources(&page)
        .iter()
        .map(|r| r["code"]["coding"][0]["code"].as_str().unwrap().to_string())
        .collect();
    assert!(
        codes.len() > 1 && codes.contains("omh:heart-rate:2.0"),
        "{codes:?}"
    );

    api.hostile(Hostile {
        foreign_rows: Some(ForeignRows::OutsideWindow),
        ..Default::default()
    });
    let (lo, hi) = ("2026-11-25T00:00:00", "2026-11-25T12:00:00");
    let page = api
        .get(&format!(
            "/FHIR/R5/Observation?patient=40006&code={HR}&date=ge{lo}Z&date=lt{hi}Z&_count=100"
        ))
        .await;
    let outside = resources(&page)
        .iter()
        .filter_map(|r| r["effectiveDateTime"].as_str())
        .filter(|t| *t < lo || *t >= hi)
        .count();
    assert!(outside >= 1, "{page}");

    api.hostile(Hostile::default());
    let honest = api
        .get(&format!(
            "/FHIR/R5/Observation?patient=40006&code={HR}&date=ge{lo}Z&date=lt{hi}Z&_count=100"
        ))
        .await;
    assert_eq!(ids(&honest).len() + 1, ids(&page).len(), "one row too many");
}

#[tokio::test]
async fn next_links_drop_or_change_filters() {
    let api = Api::start().await;
    let query = "/FHIR/R5/Observation?patient=40006&_sort=date&_count=2";
    let honest_total = api.get(query).await["total"].as_u64().unwrap();
    api.hostile(Hostile {
        next_drop: vec!["patient".into(), "_sort".into()],
        next_set: [("_count".to_string(), "3".to_string())].into(),
        ..Default::default()
    });
    let page = api.get(query).await;
    let next = next_link(&page).unwrap();
    assert!(
        !next.contains("patient=") && !next.contains("_sort="),
        "{next}"
    );
    assert!(
        next.contains("_count=3") && next.contains("_page=2"),
        "{next}"
    );
    let widened = api.get(&next).await;
    assert!(
        widened["total"].as_u64().unwrap() > honest_total,
        "following the lying link widens the search"
    );

    api.hostile(Hostile {
        next_drop: vec!["study_id".into()],
        ..Default::default()
    });
    let admin = api
        .get("/api/v1/observations?organization_id=20001&study_id=30006&page_size=2")
        .await;
    let next = admin["next"].as_str().unwrap();
    assert!(
        !next.contains("study_id") && next.contains("page=2"),
        "{next}"
    );
}

#[tokio::test]
async fn endless_pages_repeat_or_bring_nothing() {
    let api = Api::start().await;
    let query = format!("/FHIR/R5/Observation?patient=40006&code={HR}&_count=1000");
    let honest = api.get(&query).await;
    assert!(next_link(&honest).is_none(), "one page when honest");

    api.hostile(Hostile {
        endless_pages: Some(EndlessPages::Repeat),
        ..Default::default()
    });
    let mut page = api.get(&query).await;
    let first = ids(&page);
    assert!(!first.is_empty());
    for n in 2..=6 {
        let next = next_link(&page).expect("always a next link");
        assert!(next.contains(&format!("_page={n}")), "{next}");
        page = api.get(&next).await;
        assert_eq!(ids(&page), first, "page {n} repeats the rows");
    }

    api.hostile(Hostile {
        endless_pages: Some(EndlessPages::Empty),
        ..Default::default()
    });
    let mut page = api.get(&query).await;
    assert_eq!(ids(&page), first);
    for _ in 2..=6 {
        page = api
            .get(&next_link(&page).expect("always a next link"))
            .await;
        assert!(ids(&page).is_empty(), "nothing new");
    }

    let admin = api
        .get("/api/v1/observations?organization_id=20001&study_id=30006&page_size=1000&page=9")
        .await;
    assert!(admin["next"].as_str().unwrap().contains("page=10"));
}

#[tokio::test]
async fn a_gzip_bomb_and_an_endless_body() {
    let api = Api::start().await;
    let raw = reqwest::Client::builder().no_gzip().build().unwrap();
    let fetch = || {
        raw.get(format!("{}/api/v1/users/profile", api.sb.url()))
            .bearer_auth(&api.c.token)
            .send()
    };
    api.hostile(Hostile {
        body: Some(HostileBody::GzipBomb),
        bomb_mib: 2,
        ..Default::default()
    });
    let r = fetch().await.unwrap();
    assert_eq!(r.headers()["content-encoding"], "gzip");
    let small = r.bytes().await.unwrap();
    let mut whole = Vec::new();
    flate2::read::GzDecoder::new(&small[..])
        .read_to_end(&mut whole)
        .expect("a valid gzip stream, CRC included");
    assert_eq!(whole.len(), 2 << 20);

    api.hostile(Hostile {
        body: Some(HostileBody::GzipBomb),
        ..Default::default()
    });
    let bomb = fetch().await.unwrap().bytes().await.unwrap();
    assert!(bomb.len() < 4 << 20, "{} bytes on the wire", bomb.len());
    let mut inflated = flate2::read::GzDecoder::new(&bomb[..]).take(100 << 20);
    let n = std::io::copy(&mut inflated, &mut std::io::sink()).unwrap();
    assert_eq!(n, 100 << 20, "far more than any page cap once decompressed");

    api.hostile(Hostile {
        body: Some(HostileBody::Endless),
        ..Default::default()
    });
    let mut r = fetch().await.unwrap();
    assert!(r.headers().get("content-length").is_none());
    let mut got = 0usize;
    while got < 8 << 20 {
        got += r.chunk().await.unwrap().expect("the body never ends").len();
    }
}

#[tokio::test]
async fn redirects_on_the_token_endpoint_and_the_api() {
    let api = Api::start().await;
    let url = api.sb.url().to_string();
    let mary = api
        .sb
        .info()
        .practitioners
        .into_iter()
        .find(|p| p.email == "manager_mary@example.com")
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", mary.client_id.as_str()),
        ("client_secret", mary.client_secret.as_str()),
    ];
    for status in [302, 307] {
        api.hostile(Hostile {
            token_redirect: Some(Redirect {
                status,
                to: RedirectTo::OtherOrigin,
            }),
            ..Default::default()
        });
        let r = api
            .c
            .http
            .post(format!("{url}/o/token/"))
            .form(&form)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), status);
        let loc = r.headers()["location"].to_str().unwrap();
        let port = api.sb.addr().port();
        assert_eq!(loc, format!("http://localhost:{port}/_sandbox/trap"));
    }
    // A client that follows a 307 re-posts the secret to the other origin.
    let follows = reqwest::Client::new();
    let r = follows
        .post(format!("{url}/o/token/"))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["trapped"], true);
    let stats = api.sb.hostile_stats();
    assert!(stats.trapped_with_credentials.load(Ordering::Relaxed) >= 1);

    api.hostile(Hostile {
        api_redirect: Some(Redirect {
            status: 302,
            to: RedirectTo::Http,
        }),
        ..Default::default()
    });
    let r = api
        .c
        .request(
            reqwest::Method::GET,
            "/api/v1/studies?organization_id=20001",
        )
        .header("X-Forwarded-Proto", "https")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 302);
    let host = url.trim_start_matches("http://");
    assert_eq!(
        r.headers()["location"],
        format!("http://{host}/api/v1/studies?organization_id=20001").as_str(),
        "https to http"
    );
    api.hostile(Hostile {
        api_redirect: Some(Redirect {
            status: 307,
            to: RedirectTo::OtherOrigin,
        }),
        ..Default::default()
    });
    let r = bearer_get(
        &api.c.http,
        &format!("{url}/FHIR/R5/Observation?patient=40006"),
        &api.c.token,
    )
    .await;
    assert_eq!(r.status(), 307);
    assert!(r.headers()["location"]
        .to_str()
        .unwrap()
        .starts_with("http://localhost:"));
}

fn formula(s: &str) -> bool {
    s.starts_with(['=', '+', '-', '@', '\t', '\r'])
}

#[tokio::test]
async fn spreadsheet_formulas_in_names_identifiers_and_omh_text() {
    let api = Api::start().await;
    api.hostile(Hostile {
        formulas: true,
        ..Default::default()
    });
    let patients = api.get("/api/v1/patients?organization_id=20001").await;
    let mut starts = HashSet::new();
    for p in patients["results"].as_array().unwrap() {
        for k in ["nameFamily", "nameGiven"] {
            let s = p[k].as_str().unwrap();
            assert!(formula(s), "{k} {s:?}");
            starts.insert(s.chars().next());
        }
        for i in p["identifiers"].as_array().unwrap() {
            assert!(formula(i["value"].as_str().unwrap()), "{i}");
        }
    }
    assert!(starts.len() >= 4, "several payload kinds: {starts:?}");
    let fhir = api.get("/FHIR/R5/Patient?_count=50").await;
    for r in resources(&fhir) {
        assert!(formula(r["name"][0]["family"].as_str().unwrap()), "{r}");
        assert!(formula(r["name"][0]["given"][0].as_str().unwrap()), "{r}");
    }
    let obs = api
        .get("/FHIR/R5/Observation?patient=40006&_count=200")
        .await;
    for r in resources(&obs) {
        let omh = crate::common::omh_of(r);
        let source = omh["header"]["acquisition_provenance"]["source_name"].as_str();
        assert!(source.is_some_and(formula), "{omh}");
        if let Some(a) = omh["body"]["activity_name"].as_str() {
            assert!(formula(a), "{a:?}");
        }
        // Structure intact: `omh`, or `ieee` for the IEEE-coded sleep stage summary.
        let code = r["code"]["coding"][0]["code"].as_str().unwrap();
        assert_eq!(
            omh["header"]["schema_id"]["namespace"].as_str(),
            code.split(':').next(),
            "structure intact"
        );
    }
    let admin = api
        .get("/api/v1/observations?organization_id=20001&patient_id=40006&page_size=5")
        .await;
    for r in admin["results"].as_array().unwrap() {
        let s = r["omhData"]["header"]["acquisition_provenance"]["source_name"].as_str();
        assert!(s.is_some_and(formula), "{r}");
    }
}

#[tokio::test]
async fn an_absurd_expires_in() {
    let api = Api::start().await;
    let key = api_key(&api.sb, "manager_mary@example.com");
    for absurd in [json!(i64::MAX), json!(1e300), json!(-1)] {
        api.hostile(Hostile {
            expires_in: Some(absurd.clone()),
            ..Default::default()
        });
        let r: Value = crate::common::client_credentials(&api.c.http, api.sb.url(), &key)
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(r["expires_in"], absurd);
        let token = r["access_token"].as_str().unwrap();
        let me = bearer_get(
            &api.c.http,
            &format!("{}/api/v1/users/profile", api.sb.url()),
            token,
        )
        .await;
        assert_eq!(me.status(), 200, "the token itself is fine");
    }
}
