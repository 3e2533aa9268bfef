//! Offline review reads back what the engine's export wrote (CSV and Parquet, per-type and long
//! layout), and the participant view built from the files matches the export's counts.

use jhe_app::{offline, views};
use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::cancel::CancelToken;
use jhe_engine::export::{Format, Layout};
use jhe_engine::jobs::{self, ExportRequest};
use jhe_engine::server_check;

type TestResult = Result<(), Box<dyn std::error::Error>>;

async fn demo_session() -> Result<(jhe_sandbox::Sandbox, Session), Box<dyn std::error::Error>> {
    let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config {
        patients: 3,
        days: 3,
        ..jhe_sandbox::Config::default()
    })
    .await?;
    let key = sb
        .info()
        .api_key(jhe_sandbox::demo::MARY)
        .ok_or("no demo user")?
        .to_string();
    let info = server_check::check_server(sb.url()).await?;
    let s = Session::sign_in_with_api_key(&info, &key, SessionOptions::default()).await?;
    Ok((sb, s))
}

#[tokio::test]
async fn exports_read_back_with_the_manifests_counts() -> TestResult {
    let (_sb, session) = demo_session().await?;
    let tmp = tempfile::tempdir()?;
    for (format, layout, name) in [
        (Format::Csv, Layout::PerType, "csv-per-type"),
        (Format::Parquet, Layout::PerType, "parquet-per-type"),
        (Format::Parquet, Layout::Long, "parquet-long"),
        (Format::Csv, Layout::Long, "csv-long"),
    ] {
        let dir = tmp.path().join(name);
        let mut req = ExportRequest::new(30006, &dir);
        req.format = format;
        req.layout = layout;
        let out = jobs::export_study(&session, req, |_| {}, CancelToken::new()).await?;
        let data = offline::load(&dir, None)?;
        let ov = &data.overview;
        assert_eq!(ov.study.id, 30006, "{name}");
        assert_eq!(ov.patients.len(), 3, "{name}");
        let counted: u64 = ov.patients.iter().flat_map(|p| p.counts.values()).sum();
        assert_eq!(
            counted, out.manifest.total_observations,
            "{name}: observations read back"
        );
        assert_eq!(data.skipped, 0, "{name}");
        // A participant's view from the files: one chart per type with data.
        let p = &ov.patients[0];
        for t in &ov.types {
            let obs = data.of(p.id, &t.code);
            let s = views::type_series(&t.code, obs, None, None);
            assert_eq!(s.rows as usize, obs.len(), "{name} {}", t.code);
            if !obs.is_empty() && t.code.contains("glucose") {
                assert!(
                    s.chart_svg.starts_with("<svg"),
                    "{name}: glucose chart drawn"
                );
                assert!(s.stats.n > 0);
            }
        }
        // manifest.json stands for its folder; a single data file opens alone.
        let again = offline::load(&dir.join("manifest.json"), None)?;
        assert_eq!(again.overview.patients.len(), 3);
        let one = out
            .manifest
            .files
            .iter()
            .find(|f| f.role == "data")
            .ok_or("no data file")?;
        let single = offline::load(&dir.join(&one.name), None)?;
        assert!(
            !single.overview.patients.is_empty(),
            "{name}: {} alone",
            one.name
        );
    }
    Ok(())
}

#[test]
fn a_folder_without_data_is_explained() -> TestResult {
    let tmp = tempfile::tempdir()?;
    match offline::load(tmp.path(), None) {
        Err(e) => assert!(e.to_string().contains("no exported data files"), "{e}"),
        Ok(_) => return Err("an empty folder opened".into()),
    }
    match offline::load(&tmp.path().join("missing"), None) {
        Err(e) => assert_eq!(e.kind(), "not_found"),
        Ok(_) => return Err("a missing folder opened".into()),
    }
    Ok(())
}

/// Exports carry no consent, so offline review claims none: before issue #9 a type without data
/// read "Not asked" (a declined type too) and one with data "Consented".
#[tokio::test]
async fn offline_review_claims_no_consent_the_export_does_not_carry() -> TestResult {
    let (_sb, session) = demo_session().await?;
    let tmp = tempfile::tempdir()?;
    let dir = tmp.path().join("export");
    jobs::export_study(
        &session,
        ExportRequest::new(30006, &dir),
        |_| {},
        CancelToken::new(),
    )
    .await?;
    let data = offline::load(&dir, None)?;
    let ov = &data.overview;
    assert!(!ov.patients.is_empty());
    for p in &ov.patients {
        assert_eq!(p.consent.len(), ov.types.len(), "one state per type");
        assert!(
            p.consent
                .values()
                .all(|c| *c == jhe_app::ipc::ConsentState::NotExported),
            "{:?}",
            p.consent
        );
    }
    Ok(())
}
