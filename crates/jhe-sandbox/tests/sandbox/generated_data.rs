//! Generated OMH data validates against the schemas JHE uses, except the deliberately
//! schema-invalid dirt, which must fail.

use std::collections::BTreeMap;

use jhe_sandbox::generate::{
    generate_all, render, DirtyKind, DirtyReport, GenConfig, Kind, PatientPlan,
};
use jhe_sandbox::schema::SchemaSet;

fn plans(n: u32) -> Vec<PatientPlan> {
    // Every kind in scope for most; the last patient has temperature out of scope.
    (0..n)
        .map(|i| PatientPlan::every_kind(40006 + i, i + 1 == n))
        .collect()
}

struct Outcome {
    total: usize,
    schema_failures: usize,
    report: DirtyReport,
}

fn check(dirty_share: f64) -> Outcome {
    let schemas = SchemaSet::embedded().expect("embedded schemas");
    let cfg = GenConfig {
        seed: 2026,
        days: 14,
        dirty_share,
        ..GenConfig::default()
    };
    let mut report = DirtyReport::default();
    let all = generate_all(&cfg, &plans(6), &mut report);
    let mut failures = 0;
    let mut invalid_by_kind: BTreeMap<&str, usize> = BTreeMap::new();
    let mut validated: BTreeMap<&str, usize> = BTreeMap::new();
    for o in &all {
        let omh = render(o);
        *validated.entry(o.kind.code()).or_default() += 1;
        // Validated as JHE validates: header (IEEE 1752) and body against the schema the code
        // names, `omh:` or `ieee:` (the sleep stage summary).
        assert_eq!(
            format!(
                "{}:{}:{}",
                omh["header"]["schema_id"]["namespace"]
                    .as_str()
                    .unwrap_or_default(),
                omh["header"]["schema_id"]["name"]
                    .as_str()
                    .unwrap_or_default(),
                omh["header"]["schema_id"]["version"]
                    .as_str()
                    .unwrap_or_default()
            ),
            o.kind.code()
        );
        let result = schemas.validate(o.kind.code(), &omh);
        let must_fail = o.point.dirty().is_some_and(DirtyKind::schema_invalid);
        match (&result, must_fail) {
            (Ok(()), false) => {}
            (Err(errs), true) => {
                failures += 1;
                *invalid_by_kind.entry(o.kind.code()).or_default() += 1;
                if o.point.dirty() == Some(DirtyKind::UnitMgdl) {
                    assert_eq!(errs[0], "'MGDL' is not one of ['mg/dL', 'mmol/L']");
                }
            }
            (Err(errs), false) => {
                panic!("{:?} should validate: {errs:?}\n{omh:#}", o.point.dirty())
            }
            (Ok(()), true) => panic!("{:?} should fail validation\n{omh:#}", o.point.dirty()),
        }
    }
    // Every kind was generated and checked, the sleep episode and stage summary included.
    for k in Kind::ALL {
        assert!(
            validated.get(k.code()).is_some_and(|n| *n > 0),
            "{k:?}: {validated:?}"
        );
    }
    println!(
        "dirty_share {dirty_share}: {} observations, {} schema failures {invalid_by_kind:?}",
        all.len(),
        failures
    );
    for (name, n) in report.summary() {
        println!("  {name:>18}: {n}");
    }
    Outcome {
        total: all.len(),
        schema_failures: failures,
        report,
    }
}

#[test]
fn generated_data_validates_except_schema_invalid_dirt() {
    let o = check(0.01);
    assert_eq!(o.report.observations as usize, o.total);
    assert_eq!(
        o.schema_failures as u64,
        o.report.schema_invalid_observations()
    );
    let share = o.report.dirty_observations() as f64 / o.total as f64;
    assert!((0.005..0.02).contains(&share), "dirty share {share}");

    let o = check(0.1);
    assert!(o.schema_failures > 0);
    assert_eq!(
        o.schema_failures as u64,
        o.report.schema_invalid_observations()
    );
    let share = o.report.dirty_observations() as f64 / o.total as f64;
    assert!((0.06..0.14).contains(&share), "dirty share {share}");
    for d in DirtyKind::ALL {
        assert!(o.report.count(d) > 0, "no {d:?} at 10% dirt");
    }
}

#[test]
fn clean_data_has_no_schema_failures() {
    let o = check(0.0);
    assert_eq!(o.schema_failures, 0);
    assert_eq!(o.report.dirty_observations(), 0);
    assert_eq!(o.report.count(DirtyKind::UploadGap), 0);
}
