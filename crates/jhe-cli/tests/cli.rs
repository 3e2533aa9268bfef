//! The `jhe` binary against an in-process sandbox: unattended use with JHE_URL + JHE_API_KEY,
//! JSON output, and exit codes that mean something.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::Duration;

use jhe_sandbox::demo::{MARY, TOM};
use jhe_sandbox::{Config, Faults, Sandbox};

async fn sandbox() -> Sandbox {
    Sandbox::start(Config::small()).await.expect("sandbox")
}

fn key(sb: &Sandbox, email: &str) -> String {
    sb.info().api_key(email).expect("key").to_string()
}

fn jhe(url: Option<&str>, api_key: Option<&str>, config: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_jhe"));
    c.env_remove("JHE_URL")
        .env_remove("JHE_API_KEY")
        .env("JHE_CONFIG_DIR", config)
        // The audit log (and local copies) of a test stay in its temporary folder.
        .env("JHE_DATA_DIR", config.join("data"))
        .stdin(Stdio::null());
    if let Some(u) = url {
        c.env("JHE_URL", u);
    }
    if let Some(k) = api_key {
        c.env("JHE_API_KEY", k);
    }
    c
}

/// Runs the command off the async runtime (the sandbox keeps serving meanwhile).
async fn run(mut c: Command, args: &[&str]) -> Output {
    c.args(args);
    tokio::task::spawn_blocking(move || c.output().expect("jhe runs"))
        .await
        .expect("join")
}

/// Runs the command and checks that it exited 0.
async fn run_ok(c: Command, args: &[&str]) -> Output {
    let out = run(c, args).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    out
}

/// A small sandbox with this share of planted defects.
async fn dirty_sandbox(dirty_share: f64) -> Sandbox {
    let config = Config {
        dirty_share,
        ..Config::small()
    };
    Sandbox::start(config).await.expect("sandbox")
}

/// Output (or a file) that must be JSON.
fn json(b: &[u8]) -> serde_json::Value {
    serde_json::from_slice(b).expect("JSON")
}

/// A JSON file (an export's manifest).
fn read_json(path: &Path) -> serde_json::Value {
    json(&std::fs::read(path).expect("read"))
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test]
async fn help_documents_commands_environment_and_exit_codes() {
    let cfg = tempfile::tempdir().expect("tmp");
    let out = run(jhe(None, None, cfg.path()), &["--help"]).await;
    assert!(out.status.success());
    let help = text(&out.stdout);
    for needle in [
        "login",
        "logout",
        "orgs",
        "studies",
        "patients",
        "export",
        "summary",
        "JHE_API_KEY",
        "JHE_URL",
        "Exit codes",
        "130",
        "incomplete",
    ] {
        assert!(help.contains(needle), "--help mentions {needle}:\n{help}");
    }
    let out = run(jhe(None, None, cfg.path()), &["export", "--help"]).await;
    let help = text(&out.stdout);
    assert!(
        help.contains("--allow-incomplete") && help.contains("per-type"),
        "{help}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unattended_export_writes_data_dictionary_and_manifest_and_exits_0() {
    let sb = sandbox().await;
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let out = run_ok(
        jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path()),
        &[
            "export", "--study", "30006", "--format", "parquet", "--out", &dir,
        ],
    )
    .await;
    assert!(text(&out.stdout).contains("Exported"));
    let files: Vec<String> = std::fs::read_dir(out_dir.path())
        .expect("dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect();
    assert!(files.contains(&"manifest.json".to_string()), "{files:?}");
    assert!(
        files.contains(&"data_dictionary.csv".to_string()),
        "{files:?}"
    );
    assert!(files.iter().any(|f| f.ends_with(".parquet")), "{files:?}");
    assert!(!files.contains(&".jhe-partial".to_string()));
    let manifest = read_json(&out_dir.path().join("manifest.json"));
    let total = sb
        .info()
        .studies
        .iter()
        .find(|s| s.id == 30006)
        .map(|s| s.observations as u64);
    assert_eq!(manifest["server_total"].as_u64(), total);
    // No progress bar when stderr is not a terminal.
    assert!(
        !text(&out.stderr).contains("observations ("),
        "{}",
        text(&out.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_output_is_machine_readable() {
    let sb = sandbox().await;
    let cfg = tempfile::tempdir().expect("tmp");
    let k = key(&sb, MARY);
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["studies", "--json"],
    )
    .await;
    let v = json(&out.stdout);
    assert!(v
        .as_array()
        .expect("array")
        .iter()
        .any(|s| s["id"] == 30006));
    let out = run(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["orgs", "--json"],
    )
    .await;
    let v = json(&out.stdout);
    assert_eq!(v[0]["currentUserRole"], "manager");
    let out = run(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["patients", "--study", "30006", "--json"],
    )
    .await;
    let v = json(&out.stdout);
    assert_eq!(v.as_array().map(Vec::len), Some(3));
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["summary", "--study", "30006", "--json"],
    )
    .await;
    let v = json(&out.stdout);
    assert_eq!(v["patients"].as_array().map(Vec::len), Some(3));
    let out = run(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["summary", "--study", "30006"],
    )
    .await;
    assert!(
        text(&out.stdout).contains("blood-glucose"),
        "{}",
        text(&out.stdout)
    );
    // Errors in JSON mode: {"error": {"kind", "message"}} on stdout as well.
    let out = run(
        jhe(Some(sb.url()), Some(&key(&sb, TOM)), cfg.path()),
        &["patients", "--study", "30006", "--json"],
    )
    .await;
    assert_eq!(out.status.code(), Some(4));
    let v = json(&out.stdout);
    assert_eq!(v["error"]["kind"], "forbidden");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exit_codes_mean_something() {
    let sb = sandbox().await;
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let export = |extra: &[&str]| {
        let mut a = vec![
            "export", "--study", "30006", "--format", "csv", "--out", &dir,
        ];
        a.extend_from_slice(extra);
        a.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    };
    type Case = (
        Option<String>,
        Option<String>,
        Vec<String>,
        i32,
        &'static str,
    );
    let cases: Vec<Case> = vec![
        // 2: usage
        (
            Some(sb.url().into()),
            Some(key(&sb, MARY)),
            export(&["--from", "2026-13-01"]),
            2,
            "not a date",
        ),
        (
            Some(sb.url().into()),
            Some(key(&sb, MARY)),
            export(&["--type", "no-such-type"]),
            2,
            "does not collect",
        ),
        (
            None,
            Some(key(&sb, MARY)),
            vec!["studies".into()],
            2,
            "No server given",
        ),
        // 3: sign-in
        (
            Some(sb.url().into()),
            Some("d3Jvbmc6c2VjcmV0".into()),
            vec!["studies".into()],
            3,
            "API key was not accepted",
        ),
        // 4: not allowed
        (
            Some(sb.url().into()),
            Some(key(&sb, TOM)),
            export(&[]),
            4,
            "ask its manager",
        ),
        // 5: network / not JHE / insecure
        (
            Some("http://jhe.example.org".into()),
            Some(key(&sb, MARY)),
            vec!["studies".into()],
            5,
            "https://",
        ),
        (
            Some("http://127.0.0.1:1".into()),
            Some(key(&sb, MARY)),
            vec!["studies".into()],
            5,
            "Could not reach",
        ),
    ];
    for (url, k, args, code, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(jhe(url.as_deref(), k.as_deref(), cfg.path()), &args).await;
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

/// A proxy that drops the last entry of every heart-rate page: the rows no longer add up to
/// the server's `total`.
async fn short_proxy(upstream: &str) -> jhe_sandbox::proxy::Proxy {
    let rewrite: jhe_sandbox::proxy::Rewrite = Arc::new(|path, v| {
        if !path.contains("heart-rate") || path.contains("_summary") {
            return false;
        }
        if let Some(e) = v.get_mut("entry").and_then(|e| e.as_array_mut()) {
            e.pop();
        }
        true
    });
    jhe_sandbox::proxy::start(upstream, None, Some(rewrite))
        .await
        .expect("proxy")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_incomplete_export_exits_6_unless_allowed() {
    let sb = sandbox().await;
    let proxy = short_proxy(sb.url()).await;
    let url = proxy.url.clone();
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let args = [
        "export", "--study", "30006", "--format", "csv", "--out", &dir,
    ];
    let out = run(jhe(Some(&url), Some(&key(&sb, MARY)), cfg.path()), &args).await;
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(6), "{err}");
    assert!(
        err.contains("incomplete") && err.contains("heart-rate"),
        "{err}"
    );
    let mut allowed = args.to_vec();
    allowed.push("--allow-incomplete");
    let out = run_ok(jhe(Some(&url), Some(&key(&sb, MARY)), cfg.path()), &allowed).await;
    assert!(text(&out.stderr).contains("warning: The export is incomplete"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_cancels_with_130_and_the_same_command_resumes() {
    let sb = sandbox().await;
    sb.set_faults(Faults {
        latency_ms: 60,
        ..Default::default()
    });
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let args = [
        "export",
        "--study",
        "30006",
        "--format",
        "parquet",
        "--out",
        &dir,
        "--parallel",
        "2",
    ];
    let mut c = jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path());
    c.args(args).stdout(Stdio::piped()).stderr(Stdio::piped());
    let child = c.spawn().expect("spawn");
    // committed units: lines of the export's journal
    let journal = out_dir.path().join(".jhe-partial").join("units.jsonl");
    let committed = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .map(|t| t.lines().filter(|l| !l.is_empty()).count())
            .unwrap_or(0)
    };
    let journal2 = journal.clone();
    let out = tokio::task::spawn_blocking(move || {
        for _ in 0..600 {
            let n = committed(&journal2);
            if n >= 3 {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status();
        child.wait_with_output().expect("wait")
    })
    .await
    .expect("join");
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{err}");
    assert!(err.contains("Cancelled"), "{err}");
    let kept = committed(&journal);
    assert!(kept >= 3, "finished parts kept: {kept}");
    assert!(!out_dir.path().join("manifest.json").exists());

    sb.set_faults(Faults::default());
    let out = run_ok(
        jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path()),
        &args,
    )
    .await;
    assert!(
        text(&out.stdout).contains("taken over from an earlier, interrupted run"),
        "{}",
        text(&out.stdout)
    );
}

/// `jhe check --json`: findings as objects with `kind`, `participant_id` and `observation_ids`
/// (the planted defects of the demo data among them); the table names them in words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_lists_findings_with_their_observation_ids() {
    let sb = dirty_sandbox(0.2).await;
    let cfg = tempfile::tempdir().expect("tmp");
    let k = key(&sb, MARY);
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["check", "--study", "30006", "--json"],
    )
    .await;
    let v = json(&out.stdout);
    let findings = v["findings"].as_array().expect("findings");
    assert!(!findings.is_empty(), "{v}");
    let planted: std::collections::HashSet<u64> = sb
        .planted_defects()
        .into_iter()
        .map(|(id, _, _)| u64::from(id))
        .collect();
    for f in findings {
        assert!(f["kind"].is_string() && f["participant_id"].is_u64(), "{f}");
        assert!(
            !f["observation_ids"].as_array().expect("ids").is_empty(),
            "{f}"
        );
    }
    assert!(
        findings.iter().any(|f| f["kind"] == "implausible"
            && f["observation_ids"].as_array().is_some_and(|ids| ids
                .iter()
                .all(|i| i.as_u64().is_some_and(|i| planted.contains(&i))))),
        "{v}"
    );
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["check", "--study", "30006", "--patient", "40006"],
    )
    .await;
    let t = text(&out.stdout);
    assert!(t.starts_with("Study 30006: 1 participants"), "{t}");
}

/// `jhe discard DIR` deletes what a cancelled export downloaded, and says so.
#[tokio::test]
async fn discard_deletes_what_an_unfinished_export_downloaded() {
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let partial = out_dir.path().join(".jhe-partial");
    std::fs::create_dir_all(partial.join("parts")).expect("mkdir");
    std::fs::write(partial.join("parts/u1.parquet"), [1u8; 2048]).expect("write");
    std::fs::write(
        partial.join("state.json"),
        r#"{"fingerprint":{"part_format":2,"engine_version":"0","format":"csv","layout":"per_type","server":"http://x","study_id":30006,"patient_ids":[],"codes":[],"date_from":null,"date_to":null},"created_at":"2026-12-01T00:00:00Z"}"#,
    )
    .expect("write");
    let dir = out_dir.path().to_string_lossy().to_string();
    let out = run_ok(jhe(None, None, cfg.path()), &["discard", &dir]).await;
    assert!(
        text(&out.stdout).starts_with("Deleted 1 unfinished export(s)"),
        "{}",
        text(&out.stdout)
    );
    assert!(!partial.exists());
    let out = run(jhe(None, None, cfg.path()), &["discard", &dir]).await;
    assert!(
        text(&out.stdout).starts_with("No unfinished export"),
        "{}",
        text(&out.stdout)
    );
}

/// `jhe metrics --json`: per participant CGM and blood-pressure metrics over all their data; the
/// five glucose bands add up to the whole, and every glucose reading the server counts is either
/// in `n_readings` or left out as implausible. The table names the bands.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_cover_every_reading_and_name_the_bands() {
    let sb = dirty_sandbox(0.1).await;
    let cfg = tempfile::tempdir().expect("tmp");
    let k = key(&sb, MARY);
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["metrics", "--study", "30006", "--json"],
    )
    .await;
    let m = json(&out.stdout);
    let out = run(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["summary", "--study", "30006", "--json"],
    )
    .await;
    let sum = json(&out.stdout);
    let code = "omh:blood-glucose:4.0";
    let parts = m["participants"].as_array().expect("participants");
    assert_eq!(parts.len(), 3);
    let mut with_cgm = 0;
    for p in parts {
        let id = p["participant_id"].as_u64().expect("id");
        let counted = sum["patients"]
            .as_array()
            .and_then(|ps| ps.iter().find(|s| s["patient"]["id"] == id))
            .and_then(|s| s["counts"][code].as_u64())
            .unwrap_or(0);
        let Some(c) = p["cgm"].as_object() else {
            assert_eq!(
                counted, 0,
                "participant {id} has glucose but no CGM metrics"
            );
            continue;
        };
        with_cgm += 1;
        let left_out = p["implausible"][code].as_u64().unwrap_or(0);
        assert_eq!(
            c["n_readings"].as_u64().unwrap_or(0) + left_out,
            counted,
            "participant {id}"
        );
        let bands: f64 = [
            "very_low_percent",
            "low_percent",
            "in_range_percent",
            "high_percent",
            "very_high_percent",
        ]
        .iter()
        .filter_map(|b| c[*b].as_f64())
        .sum();
        assert!((bands - 100.0).abs() < 1e-9, "participant {id}: {bands}");
    }
    assert!(with_cgm > 0);
    // One day with data: the last full day before the data's end.
    let end = chrono::NaiveDate::parse_from_str(&sb.info().data.data_end[..10], "%Y-%m-%d")
        .expect("a date");
    let day = end.pred_opt().expect("a day before").to_string();
    let out = run_ok(
        jhe(Some(sb.url()), Some(&k), cfg.path()),
        &["metrics", "--study", "30006", "--from", &day, "--to", &day],
    )
    .await;
    let t = text(&out.stdout);
    assert!(t.contains(&format!("{day} to {day} (UTC days)")), "{t}");
    assert!(t.contains("in range 70–180"), "{t}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_synced_study_exports_from_its_copy_with_the_server_gone_as_a_download_would() {
    let sb = sandbox().await;
    let (cfg, data, out) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let url = sb.url().to_string();
    let k = key(&sb, MARY);
    let new_key = run(jhe(None, None, cfg.path()), &["copies", "--new-key"]).await;
    assert!(new_key.status.success());
    let copy_key = text(&new_key.stdout).trim().to_string();
    assert!(copy_key.starts_with("AGE-SECRET-KEY-"), "{copy_key}");
    let with_copy = |url: Option<&str>, api: Option<&str>| {
        let mut c = jhe(url, api, cfg.path());
        c.env("JHE_DATA_DIR", data.path())
            .env("JHE_COPY_KEY", &copy_key);
        c
    };
    let study = jhe_sandbox::demo::DEMO_STUDY.to_string();
    let synced = run(
        with_copy(Some(&url), Some(&k)),
        &["sync", "--study", &study],
    )
    .await;
    assert!(synced.status.success(), "{}", text(&synced.stderr));
    assert!(
        text(&synced.stdout).contains("readings from"),
        "{}",
        text(&synced.stdout)
    );
    let a = out.path().join("download");
    let down = run(
        with_copy(Some(&url), Some(&k)),
        &[
            "export",
            "--study",
            &study,
            "--format",
            "csv",
            "--out",
            a.to_str().expect("path"),
        ],
    )
    .await;
    assert!(down.status.success(), "{}", text(&down.stderr));

    // The network is gone: the export from the copy needs none, and says where it came from.
    sb.stop().await;
    let b = out.path().join("from-copy");
    let offline = run(
        with_copy(Some(&url), None),
        &[
            "export",
            "--study",
            &study,
            "--format",
            "csv",
            "--from-copy",
            "--out",
            b.to_str().expect("path"),
        ],
    )
    .await;
    assert!(offline.status.success(), "{}", text(&offline.stderr));
    let (ma, mb) = (
        read_json(&a.join("manifest.json")),
        read_json(&b.join("manifest.json")),
    );
    for k in [
        "server_total",
        "total_observations",
        "total_rows",
        "problems_count",
    ] {
        assert_eq!(ma[k], mb[k], "manifest {k}");
    }
    let data_files = |m: &serde_json::Value| -> Vec<(String, u64)> {
        let mut f: Vec<(String, u64)> = m["files"]
            .as_array()
            .expect("files")
            .iter()
            .filter(|f| f["role"] == "data")
            .map(|f| {
                (
                    f["name"].as_str().unwrap_or("").to_string(),
                    f["rows"].as_u64().unwrap_or(0),
                )
            })
            .collect();
        f.sort();
        f
    };
    assert_eq!(data_files(&ma), data_files(&mb));
    assert!(!data_files(&mb).is_empty());
    // The same rows, byte for byte, in every data file (times, values, ids).
    for (name, _) in data_files(&mb) {
        assert_eq!(
            std::fs::read(a.join(&name)).expect("a"),
            std::fs::read(b.join(&name)).expect("b"),
            "{name}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn encrypt_writes_one_age_file_and_refuses_a_short_passphrase() {
    let sb = sandbox().await;
    let (cfg, out_dir) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let dir = out_dir.path().to_string_lossy().to_string();
    let args = [
        "export",
        "--study",
        "30006",
        "--format",
        "parquet",
        "--out",
        &dir,
        "--encrypt",
    ];
    let mut short = jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path());
    short.env("JHE_EXPORT_PASSPHRASE", "short");
    let refused = run(short, &args).await;
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused.stderr));
    assert!(
        text(&refused.stderr).contains("at least 8 characters"),
        "{}",
        text(&refused.stderr)
    );

    let mut c = jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path());
    c.env("JHE_EXPORT_PASSPHRASE", "correct horse battery staple");
    let out = run_ok(c, &args).await;
    let files: Vec<_> = std::fs::read_dir(out_dir.path())
        .expect("read")
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(files.len(), 1, "one file and nothing else: {files:?}");
    let name = files[0]
        .file_name()
        .expect("name")
        .to_string_lossy()
        .to_string();
    assert!(
        name.starts_with("study-30006_") && name.ends_with(".tar.age"),
        "{name}"
    );
    assert!(std::fs::read(&files[0])
        .expect("read")
        .starts_with(b"age-encryption.org/v1"));
    assert!(text(&out.stdout).contains(&name), "{}", text(&out.stdout));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deidentify_writes_pseudonyms_and_a_manifest_that_says_so() {
    let sb = sandbox().await;
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let hex_key = "ab".repeat(32);
    let mut c = jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path());
    c.env("JHE_DEID_KEY", &hex_key);
    let args = [
        "export",
        "--study",
        "30006",
        "--format",
        "csv",
        "--out",
        &dir,
        "--deidentify",
        "--shift",
        "weeks",
    ];
    run_ok(c, &args).await;
    let manifest = read_json(&out_dir.path().join("manifest.json"));
    assert_eq!(manifest["deidentified"]["shift"], "keep_weekday");
    let participants =
        std::fs::read_to_string(out_dir.path().join("participants.csv")).expect("participants");
    let ids: Vec<&str> = participants
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter()
            .all(|id| id.len() == 15 && id.parse::<u64>().is_ok()),
        "{ids:?}"
    );
    assert!(!participants.contains("identifier_"), "{participants}");
    for entry in std::fs::read_dir(out_dir.path()).expect("dir").flatten() {
        let bytes = std::fs::read(entry.path()).expect("read");
        assert!(!bytes.windows(64).any(|w| w == hex_key.as_bytes()));
    }
    // --shift needs --deidentify
    let c = jhe(Some(sb.url()), Some(&key(&sb, MARY)), cfg.path());
    let out = run(
        c,
        &[
            "export", "--study", "30006", "--format", "csv", "--out", &dir, "--shift", "days",
        ],
    )
    .await;
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// The audit chain test: `jhe patients`, `jhe export` and `jhe summary` each add an entry (the
/// export's with its rows and folder); `jhe audit verify` passes; after one entry's row count is
/// edited it fails (exit 8) and names that entry; `list` and `export --csv` show the entries;
/// the log holds none of the participants' names, MRNs, birth dates or contacts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_audit_log_records_an_export_and_verify_names_an_edited_entry() {
    let sb = sandbox().await;
    let cfg = tempfile::tempdir().expect("tmp");
    let out_dir = tempfile::tempdir().expect("tmp");
    let dir = out_dir.path().to_string_lossy().to_string();
    let k = key(&sb, MARY);
    let c = || jhe(Some(sb.url()), Some(&k), cfg.path());

    let out = run_ok(c(), &["patients", "--study", "30006", "--json"]).await;
    let people = json(&out.stdout);
    let mut phi: Vec<String> = Vec::new();
    for p in people.as_array().expect("array") {
        for f in [
            "nameGiven",
            "nameFamily",
            "birthDate",
            "telecomEmail",
            "telecomPhone",
        ] {
            phi.extend(p[f].as_str().map(str::to_string));
        }
        for i in p["identifiers"].as_array().into_iter().flatten() {
            phi.extend(i["value"].as_str().map(str::to_string));
        }
    }
    phi.retain(|s| s.len() >= 3);
    assert!(phi.iter().any(|s| s.starts_with("MRN-")), "{phi:?}");

    run_ok(
        c(),
        &[
            "export", "--study", "30006", "--format", "csv", "--out", &dir,
        ],
    )
    .await;
    run_ok(c(), &["summary", "--study", "30006"]).await;

    let log = cfg.path().join("data").join("audit.jsonl");
    let body = std::fs::read_to_string(&log).expect("the audit log");
    let entries: Vec<serde_json::Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).expect("an entry"))
        .collect();
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["retrieve", "export", "overview"]);
    let manifest = read_json(&out_dir.path().join("manifest.json"));
    let export = &entries[1];
    assert_eq!(export["rows"], manifest["total_observations"]);
    assert!(export["rows"].as_u64().unwrap_or(0) > 0);
    assert_eq!(export["written_to"].as_str(), Some(dir.as_str()));
    assert_eq!(export["study"], 30006);
    assert_eq!(export["who"], MARY);
    assert_eq!(
        export["server"].as_str(),
        Some(sb.url().trim_end_matches('/'))
    );
    assert!(!export["participants"].as_array().expect("ids").is_empty());
    for needle in &phi {
        assert!(
            !body.contains(needle.as_str()),
            "the audit log holds {needle}"
        );
    }

    let out = run_ok(c(), &["audit", "verify"]).await;
    assert!(
        text(&out.stdout).contains("intact: 3 entries"),
        "{}",
        text(&out.stdout)
    );
    let out = run(c(), &["audit", "list", "--last", "2", "--json"]).await;
    let listed = json(&out.stdout);
    assert_eq!(listed.as_array().map(Vec::len), Some(2));
    assert_eq!(listed[0]["seq"], 2);
    let csv = cfg.path().join("audit.csv");
    run_ok(c(), &["audit", "export", "--csv", &csv.to_string_lossy()]).await;
    assert_eq!(
        std::fs::read_to_string(&csv).expect("csv").lines().count(),
        4
    );

    // Edit the export's row count.
    let rows = export["rows"].as_u64().unwrap_or(0);
    let edited = body.replacen(
        &format!("\"rows\":{rows},"),
        &format!("\"rows\":{},", rows + 1),
        1,
    );
    assert_ne!(edited, body);
    std::fs::write(&log, edited).expect("write");
    let out = run(c(), &["audit", "verify"]).await;
    assert_eq!(out.status.code(), Some(8), "{}", text(&out.stdout));
    let err = text(&out.stderr);
    assert!(err.contains("line 2 (entry 2) was edited"), "{err}");
    let out = run(c(), &["audit", "verify", "--json"]).await;
    assert_eq!(out.status.code(), Some(8));
    let v = json(&out.stdout);
    assert_eq!(v["report"]["ok"], false);
    assert_eq!(v["report"]["first_break"]["seq"], 2);
    assert_eq!(v["report"]["first_break"]["reason"]["kind"], "edited");
}
