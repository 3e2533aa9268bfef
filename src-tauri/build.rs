//! tauri-build reads the app's configuration (`tauri.conf.json` beside this file, icons in the
//! top-level `icons/`), and only the commands listed here get permissions: the ones
//! `capabilities/default.json` grants to the main window (read from it, so the list is kept once).
//!
//! It also stamps the build for the About dialog: `JHE_GIT_COMMIT` (the short commit: the
//! `JHE_GIT_COMMIT` or `GITHUB_SHA` environment variable, else `git rev-parse`, else `unknown`) and
//! `JHE_BUILD_DATE` (`YYYY-MM-DD`, UTC: from `SOURCE_DATE_EPOCH` when set, else the day this script
//! last ran — it reruns when the commit changes, not on every build).

/// The capability file that grants the main window its commands.
const CAPABILITIES: &str = "capabilities/default.json";

/// The app's commands, read from the capability file's `allow-<command>` grants (the file lists
/// each command once; `src/commands.rs` declares them, and its test keeps the two equal). Leaked:
/// tauri-build wants `'static` names, and this script runs once.
fn commands() -> &'static [&'static str] {
    println!("cargo:rerun-if-changed={CAPABILITIES}");
    let text = std::fs::read_to_string(CAPABILITIES)
        .unwrap_or_else(|e| panic!("cannot read {CAPABILITIES}: {e}"));
    // The file's strings are the odd pieces between quotes (it has no escaped quotes).
    let names: Vec<&'static str> = text
        .split('"')
        .skip(1)
        .step_by(2)
        .filter_map(|s| s.strip_prefix("allow-"))
        .map(|s| &*s.replace('-', "_").leak())
        .collect();
    let bad = |n: &&str| !n.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    if names.is_empty() || names.iter().any(bad) || text.contains("\\\"") {
        panic!("{CAPABILITIES}: expected a list of \"allow-<command>\" permissions");
    }
    names.leak()
}

fn git_commit() -> String {
    for var in ["JHE_GIT_COMMIT", "GITHUB_SHA"] {
        println!("cargo:rerun-if-env-changed={var}");
        if let Ok(v) = std::env::var(var) {
            let v = v.trim();
            if !v.is_empty() {
                return v.chars().take(12).collect();
            }
        }
    }
    // Rerun when HEAD moves: HEAD itself, the branch it names, packed refs (only existing paths:
    // a missing one would rerun this script on every build).
    let git = std::path::Path::new("../.git");
    let mut watch = vec![git.join("HEAD"), git.join("packed-refs")];
    if let Ok(head) = std::fs::read_to_string(git.join("HEAD")) {
        if let Some(r) = head.trim().strip_prefix("ref: ") {
            watch.push(git.join(r));
        }
    }
    for p in watch.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    std::process::Command::new("git")
        .args(["rev-parse", "--short=12", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// `YYYY-MM-DD` of a Unix time (UTC), by the days-to-civil algorithm.
fn utc_day(secs: i64) -> String {
    let z = secs.div_euclid(86_400) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

fn build_date() -> String {
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.trim().parse::<i64>().ok())
        .or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
        });
    secs.map_or_else(|| "unknown".into(), utc_day)
}

fn main() {
    println!("cargo:rustc-env=JHE_GIT_COMMIT={}", git_commit());
    println!("cargo:rustc-env=JHE_BUILD_DATE={}", build_date());
    let attrs = tauri_build::Attributes::new()
        .config_path("tauri.conf.json")
        .app_manifest(tauri_build::AppManifest::new().commands(commands()));
    if let Err(e) = tauri_build::try_build(attrs) {
        panic!("tauri-build failed: {e:#}");
    }
}
