//! Exports the golden sample observations (tests/golden/inputs_*.json: captured JHE responses
//! plus synthetic edge cases) to a folder, to look at the files an export produces.
//!
//!     cargo run -p jhe-engine --example export_sample -- OUT_DIR [csv|parquet] [per-type|long]

use std::collections::BTreeMap;
use std::path::PathBuf;

use jhe_engine::export::{Export, ExportSpec, Format, Layout};
use jhe_engine::omh::{from_admin_result, from_fhir_resource, Problem, RawObservation};
use serde_json::Value;

fn load(name: &str) -> Result<Vec<Value>, Box<dyn std::error::Error>> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    let v: Value = serde_json::from_str(&std::fs::read_to_string(p)?)?;
    Ok(v.as_array().cloned().unwrap_or_default())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(
        args.next()
            .ok_or("usage: export_sample OUT_DIR [csv|parquet] [per-type|long]")?,
    );
    let format = match args.next().as_deref() {
        Some("parquet") => Format::Parquet,
        _ => Format::Csv,
    };
    let layout = match args.next().as_deref() {
        Some("long") => Layout::Long,
        _ => Layout::PerType,
    };
    let mut units: BTreeMap<String, (Vec<RawObservation>, Vec<Problem>)> = BTreeMap::new();
    let mut seen = std::collections::HashSet::new();
    let items = load("inputs_fhir.json")?
        .into_iter()
        .map(|i| (true, i["resource"].clone()))
        .chain(
            load("inputs_admin.json")?
                .into_iter()
                .map(|i| (false, i["result"].clone())),
        )
        .chain(
            load("inputs_malformed.json")?
                .into_iter()
                .map(|i| (true, i["fhir"].clone())),
        );
    for (fhir, item) in items {
        let raw = if fhir {
            from_fhir_resource(&item)
        } else {
            from_admin_result(&item)
        };
        match raw {
            Ok(r) if seen.insert(r.id) => {
                let key = format!("{}/{}", r.patient_id, r.coding_code);
                units.entry(key).or_default().0.push(r);
            }
            Ok(_) => {}
            Err(e) => {
                let p = e.to_problem(&item);
                let key = format!("{}/{}", p.patient_id, p.code);
                units.entry(key).or_default().1.push(p);
            }
        }
    }
    let mut ex = Export::open(ExportSpec {
        out_dir: out.clone(),
        format,
        layout,
        server: "http://127.0.0.1:8000".into(),
        study_id: None,
        patient_ids: vec![],
        codes: vec![],
        date_from: None,
        date_to: None,
        flagged: Default::default(),
        deidentify: None,
        encrypt: None,
        app_version: "example".into(),
    })?;
    for (unit, (records, problems)) in units {
        let n = (records.len() + problems.len()) as u64;
        ex.write_unit_with_problems(&unit, records, problems, Some(n))?;
    }
    let m = ex.finish()?;
    for f in &m.files {
        println!("{:<45} {:>6} rows  {}", f.name, f.rows, &f.sha256[..16]);
    }
    println!(
        "{} observations, {} problems → {}",
        m.total_observations,
        m.problems_count,
        out.display()
    );
    Ok(())
}
