//! When a Python with `jupyterhealth-client` is available (the repo's `.venv`, `$JHE_PYTHON`,
//! or `python3`), run the real `tidy_observation` on the committed inputs now and compare with
//! our compat rows. Without it the committed goldens (`golden_compat`) are the reference.

use std::path::PathBuf;
use std::process::Command;

use crate::golden_support::*;
use jhe_engine::omh::compat::compat_row;

fn python() -> Option<PathBuf> {
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(p) = std::env::var("JHE_PYTHON") {
        candidates.push(p.into());
    }
    candidates.push(repo.join(".venv/bin/python"));
    candidates.push("python3".into());
    candidates.into_iter().find(|p| {
        Command::new(p)
            .args(["-c", "import jupyterhealth_client, pandas"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn compat_rows_match_the_installed_python_client() {
    let Some(py) = python() else {
        eprintln!("skipping: no Python with jupyterhealth-client (set JHE_PYTHON)");
        return;
    };
    let dir = golden_dir();
    let out = Command::new(&py)
        .arg(dir.join("make_golden.py"))
        .arg("--records-for")
        .arg(dir.join("inputs_fhir.json"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "make_golden.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let live: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    eprintln!(
        "comparing with jupyterhealth-client {} at {}",
        live["jupyterhealth_client"],
        py.display()
    );
    let inputs = fhir_inputs();
    let records = live["records"].as_array().unwrap();
    assert_eq!(records.len(), inputs.len());
    let mut failures = Vec::new();
    for ((_, resource), rec) in inputs.iter().zip(records) {
        let diffs = diff_row(&compat_row(&decode_fhir(resource)), &rec["row"]);
        if !diffs.is_empty() {
            failures.push(format!("observation {}:\n{}", rec["id"], diffs.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
