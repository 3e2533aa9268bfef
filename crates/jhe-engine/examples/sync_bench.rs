//! Local-copy benchmark (not a test): prints a Markdown table.
//!
//!     cargo run --release -p jhe-engine --example sync_bench -- [PATIENTS] [DAYS] [NEW]
//!
//! An in-process sandbox whose demo study 30006 has PATIENTS × DAYS of data (default 40 × 90,
//! about a million observations). Measures, on that study: the first sync (the whole study into
//! a new encrypted copy), the copy's size per million observations, the "second open" (decrypting
//! the copy's description and index and summing up every participant and type, what the app
//! does to show the study board at once; median of 5), an incremental sync of NEW (default
//! 1,000) new uploads (median of 3, new uploads each round), a sync that finds nothing new, and
//! an export of the copy to Parquet, plain and encrypted (one `.tar.age` made in memory).

use std::time::Instant;

use jhe_engine::api::{Session, SessionOptions};
use jhe_engine::cancel::CancelToken;
use jhe_engine::copy::{CopyKey, LocalCopy};
use jhe_engine::export::Passphrase;
use jhe_engine::jobs::{export_from_copy, sync_study, ExportRequest, SyncOptions};
use jhe_engine::server_check::check_server;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let patients: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(40);
    let days: u32 = args.next().and_then(|s| s.parse().ok()).unwrap_or(90);
    let new: usize = args.next().and_then(|s| s.parse().ok()).unwrap_or(1_000);
    let sb = jhe_sandbox::Sandbox::start(jhe_sandbox::Config {
        patients,
        days,
        ..jhe_sandbox::Config::default()
    })
    .await?;
    let key = sb
        .info()
        .api_key(jhe_sandbox::demo::MARY)
        .ok_or("no demo user")?
        .to_string();
    let info = check_server(sb.url()).await?;
    let session = Session::sign_in_with_api_key(&info, &key, SessionOptions::default()).await?;
    let study = jhe_sandbox::demo::DEMO_STUDY;
    let dir = tempfile::tempdir()?;
    let copy_dir = dir.path().join("copy");
    let ck = CopyKey::generate();
    let server = sb.url().to_string();
    let cancel = CancelToken::new();
    let opts = SyncOptions::default();

    let t = Instant::now();
    let mut copy = LocalCopy::open_or_new(&copy_dir, ck.clone(), &server, study)?;
    let first = sync_study(&session, &mut copy, &opts, &cancel, &|_| {}).await?;
    let first_s = t.elapsed().as_secs_f64();
    let held = first.held;
    let bytes = copy.size_bytes();
    drop(copy);

    let mut opens = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let c = LocalCopy::open(&copy_dir, ck.clone())?.ok_or("no copy")?;
        let s = c.summary();
        std::hint::black_box(s.len());
        opens.push(t.elapsed().as_secs_f64());
    }

    let members: std::collections::HashSet<u32> = sb
        .state()
        .world
        .read()
        .study(study as u32)
        .map(|s| s.patients.iter().map(|(_, p)| *p).collect())
        .unwrap_or_default();
    let mut incs = Vec::new();
    let mut added = 0;
    for _ in 0..3 {
        sb.state()
            .store
            .write()
            .upload_copies(new, |p| members.contains(&p));
        let t = Instant::now();
        let mut c = LocalCopy::open(&copy_dir, ck.clone())?.ok_or("no copy")?;
        let r = sync_study(&session, &mut c, &opts, &cancel, &|_| {}).await?;
        incs.push(t.elapsed().as_secs_f64());
        added = r.change.added;
    }
    let t = Instant::now();
    let mut c = LocalCopy::open(&copy_dir, ck.clone())?.ok_or("no copy")?;
    let none = sync_study(&session, &mut c, &opts, &cancel, &|_| {}).await?;
    let none_s = t.elapsed().as_secs_f64();

    // The synced study exported from its copy, as a folder and as one encrypted file.
    let shared = std::sync::Arc::new(LocalCopy::open(&copy_dir, ck.clone())?.ok_or("no copy")?);
    let mut exports = Vec::new();
    for encrypt in [false, true] {
        let out = tempfile::tempdir()?;
        let mut req = ExportRequest::new(study, out.path());
        if encrypt {
            req.encrypt = Some(Passphrase::new("a benchmark passphrase")?);
        }
        let t = Instant::now();
        let o = export_from_copy(shared.clone(), req, |_| {}, CancelToken::new()).await?;
        let secs = t.elapsed().as_secs_f64();
        let size = if encrypt {
            std::fs::metadata(&o.out_dir)?.len()
        } else {
            o.manifest.files.iter().map(|f| f.bytes).sum()
        };
        exports.push((secs, size, o.manifest.total_observations));
    }

    println!(
        "| local copy of study {study} ({patients} participants × {days} days) | value | target |"
    );
    println!("| --- | --- | --- |");
    println!("| observations held | {held} | |");
    println!(
        "| first sync (whole study, new copy) | {first_s:.1} s ({:.0} observations/s) | |",
        held as f64 / first_s
    );
    println!(
        "| size on disk | {:.1} MB ({:.1} MB per million observations) | |",
        bytes as f64 / 1e6,
        bytes as f64 / 1e6 / (held as f64 / 1e6)
    );
    println!(
        "| second open: decrypt + index + per-participant summary (median of 5) | {:.3} s | < 1 s |",
        median(opens)
    );
    println!(
        "| incremental sync of {new} new uploads (median of 3; last added {added}) | {:.3} s | < 2 s |",
        median(incs)
    );
    println!(
        "| sync with nothing new (+{} readings) | {none_s:.3} s | |",
        none.change.added
    );
    for ((secs, size, n), what) in exports.iter().zip(["a folder", "one encrypted .tar.age"]) {
        println!(
            "| export of the copy to Parquet, {what} ({n} observations) | {secs:.1} s, {:.1} MB | |",
            *size as f64 / 1e6
        );
    }
    sb.stop().await;
    Ok(())
}
