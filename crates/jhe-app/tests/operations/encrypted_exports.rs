//! An encrypted export from the app: one `.tar.age` file in the chosen folder and nothing else;
//! opening it asks for its passphrase (kind `passphrase`, nothing changes), refuses a wrong one
//! the same way, and with the right one shows the same study as the plain export of it.

use super::*;
use jhe_engine::error::ErrorKind;

#[tokio::test]
async fn an_encrypted_export_opens_offline_only_with_its_passphrase_and_shows_the_same_study(
) -> TestResult {
    let tmp = tempfile::tempdir()?;
    let state = demo_app(FolderPicker::at(tmp.path().join("export"))).await?;
    let dir = export::pick_folder(&state).await?.ok_or("no folder")?;

    let short = ExportRequest {
        encrypt_passphrase: Some(SecretText("short".into())),
        ..request(&dir)
    };
    let e = export::export_data(&state, "job-s", short, |_| {})
        .await
        .err()
        .ok_or("a short passphrase was taken")?;
    assert_eq!(e.kind(), ErrorKind::InvalidInput);
    assert!(e.to_string().contains("at least 8 characters"), "{e}");

    let pass = "a long enough passphrase";
    let sealed_req = ExportRequest {
        encrypt_passphrase: Some(SecretText(pass.into())),
        ..request(&dir)
    };
    let sealed = export::export_data(&state, "job-e", sealed_req, |_| {}).await?;
    assert!(sealed.out_dir.ends_with(".tar.age"), "{}", sealed.out_dir);
    let in_folder: Vec<_> = std::fs::read_dir(&dir)?
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(
        in_folder,
        vec![PathBuf::from(&sealed.out_dir)],
        "one file, nothing else"
    );
    assert!(
        sealed.files.iter().any(|f| f.rows > 0),
        "the files inside are listed"
    );
    let plain_dir = tmp.path().join("plain");
    std::fs::create_dir_all(&plain_dir)?;
    state.grants.lock().grant(&plain_dir);
    let plain = export::export_data(
        &state,
        "job-p",
        request(&plain_dir.display().to_string()),
        |_| {},
    )
    .await?;

    // Without its passphrase, or with another one: asked for it, nothing opened.
    for given in [None, Some("not the passphrase".to_string())] {
        let e = offline::open_export(&state, &sealed.out_dir, given)
            .await
            .err()
            .ok_or("opened without its passphrase")?;
        assert_eq!(e.kind(), ErrorKind::Passphrase, "{e}");
    }
    assert!(state.online().is_ok(), "still signed in");

    let reference = offline::open_export(&state, &plain.out_dir, None).await?;
    let opened = offline::open_export(&state, &sealed.out_dir, Some(pass.into())).await?;
    assert!(opened.warnings.is_empty(), "{:?}", opened.warnings);
    assert_eq!(opened.overview.study.id, STUDY);
    assert_eq!(
        opened.overview.patients.len(),
        reference.overview.patients.len()
    );
    for (a, b) in opened
        .overview
        .patients
        .iter()
        .zip(&reference.overview.patients)
    {
        assert_eq!((a.id, &a.counts), (b.id, &b.counts));
    }
    let p = &opened.overview.patients[0];
    let data = participant::patient_data(&state, STUDY, p.id, DateRange::default()).await?;
    assert!(
        data.types.iter().any(|t| t.stats.n > 0),
        "readings from memory"
    );
    Ok(())
}
