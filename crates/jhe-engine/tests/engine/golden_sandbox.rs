//! Every kind of data the exchange sandbox generates (jhe-sandbox's generator, with a large
//! share of deliberately dirty points) decodes without problems, with the generator's true
//! times, offsets and values, from both wire shapes.

use base64::Engine as _;
use jhe_engine::frame::{long_frame, view_frames};
use jhe_engine::omh::{decode, DataType, Envelope, OmhSource, RawObservation, Values};
use jhe_sandbox::generate::{
    generate_all, render, DirtyKind, DirtyReport, GenConfig, Kind, PatientPlan,
};

fn close(a: Option<f64>, b: f64, tol: f64) -> bool {
    a.is_some_and(|a| (a - b).abs() <= tol)
}

#[test]
fn sandbox_data_decodes_with_true_times_and_values() {
    let cfg = GenConfig {
        seed: 7,
        days: 5,
        dirty_share: 0.2,
        ..GenConfig::default()
    };
    let plans: Vec<PatientPlan> = (0..4)
        .map(|i| PatientPlan {
            patient_id: 46001 + i,
            kinds: Kind::ALL.to_vec(),
            extra_kinds: vec![],
            stopped_days_ago: 0,
        })
        .collect();
    let mut report = DirtyReport::default();
    let all = generate_all(&cfg, &plans, &mut report);
    assert!(all.len() > 1000, "{} observations", all.len());
    let mut decoded = Vec::new();
    let mut kinds = std::collections::BTreeSet::new();
    for (i, g) in all.iter().enumerate() {
        let omh = render(g);
        let code = g.kind.code();
        let mut raw = RawObservation {
            id: i as u64 + 1,
            patient_id: g.patient_id as u64,
            coding_system: "https://w3id.org/openmhealth".into(),
            coding_code: code.into(),
            last_updated: Some("2026-11-26T00:00:00Z".into()),
            omh: OmhSource::Json(omh.clone()),
            envelope: Envelope::default(),
        };
        let d = decode(&raw).unwrap_or_else(|p| panic!("{p}: {omh}"));
        raw.omh =
            OmhSource::Base64(base64::engine::general_purpose::STANDARD.encode(omh.to_string()));
        assert_eq!(decode(&raw).unwrap(), d, "text and JSON agree");
        assert_ne!(d.view, DataType::Other(code.into()), "{code} is modelled");
        kinds.insert(d.view.name());

        let p = &g.point;
        if !p.needs_reparse() {
            assert_eq!(Some(d.time.start_utc), g.effective_start_us, "{omh}");
            assert_eq!(d.time.end_utc, g.effective_end_us, "{omh}");
            let off = if p.renders_local() {
                p.utc_offset_s() / 60
            } else {
                0
            };
            assert_eq!(d.time.utc_offset_min, Some(off), "{omh}");
            assert_eq!(
                d.time.start_local,
                d.time.start_utc + off as i64 * 60_000_000
            );
        } else {
            // local wall time without an offset: read as UTC, the wall clock kept
            assert_eq!(d.time.utc_offset_min, None);
            assert_eq!(
                Some(d.time.start_local - p.utc_offset_s() as i64 * 1_000_000),
                g.effective_start_us
            );
        }
        let v = p.v1_tenths() as f64 / 10.0;
        let implausible = p.dirty() == Some(DirtyKind::ImplausibleValue);
        match &d.values {
            Values::BloodGlucose(q) => {
                let tol = if p.dirty() == Some(DirtyKind::UnitMmolL) {
                    0.06 * 18.016
                } else {
                    0.5
                };
                assert!(close(q.value, v, tol), "{q:?} vs {v}: {omh}");
            }
            Values::SleepDuration(q) => assert!(close(q.value, v, 0.5), "{q:?} vs {v}"),
            Values::StepCount(q) => assert!(close(q.value, v, 0.5), "{q:?} vs {v}"),
            Values::BodyWeight(q) => {
                let f = if q.original_unit.as_deref() == Some("lb") {
                    0.453_592_37
                } else {
                    1.0
                };
                // converted values are rounded to 0.1 g
                assert!(close(q.value, q.original_value.unwrap() * f, 5.1e-5));
                assert!(close(q.original_value, v, 0.05));
            }
            Values::BodyTemperature(q) => {
                let o = q.original_value.unwrap();
                let c = if q.original_unit.as_deref() == Some("F") {
                    (o - 32.0) * 5.0 / 9.0
                } else {
                    o
                };
                assert!(close(q.value, c, 1e-9));
                if !implausible {
                    assert!(close(q.value, 36.5, 3.0), "{q:?}");
                }
            }
            Values::HeartRate(q) | Values::OxygenSaturation(q) | Values::RespiratoryRate(q) => {
                assert!(close(q.value, v, 0.5), "{q:?} vs {v}")
            }
            Values::BloodPressure {
                systolic,
                diastolic,
            } => {
                assert!(close(systolic.value, v, 0.5));
                assert!(diastolic.value.is_some());
            }
            Values::PhysicalActivity {
                activity_name,
                kcal_burned,
                ..
            } => {
                assert!(activity_name.is_some());
                assert!(close(kcal_burned.value, v, 0.5));
                assert!(d.time.duration_min().is_some());
            }
            Values::Fields(f) => assert!(!f.is_empty(), "{code}: no fields"),
            Values::Other => panic!("{code} not modelled"),
        }
        decoded.push(d);
    }
    assert_eq!(kinds.len(), Kind::ALL.len(), "{kinds:?}");
    let views = view_frames(&decoded).unwrap();
    assert_eq!(
        views.values().map(|f| f.height()).sum::<usize>(),
        decoded.len()
    );
    let long = long_frame(&decoded).unwrap();
    assert!(long.height() >= decoded.len());
}
