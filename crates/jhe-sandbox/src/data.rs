//! Builds the data set: the reference world, its seed observations, the participants' generated
//! data and the sample uploads of patient 40001, ordered by write time and numbered from 60001
//! as JHE's sequences do.

use std::sync::Arc;
use std::time::Instant;

use serde::Serialize;
use serde_json::{json, Value};

use crate::fhir::effective_of;
use crate::generate::{self, DirtyReport, GenConfig, Kind, PatientPlan};
use crate::store::{Obs, Payload, RawObs, Store, NO_TIME};
use crate::time::iso_z;
use crate::world::{scope_id_for_kind, World};
use crate::Config;

/// What was generated, for the info file, the README and the tests.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DataSummary {
    pub seed: u64,
    pub patients: u32,
    pub days: u32,
    pub data_end: String,
    pub observations: usize,
    pub per_type: Vec<(String, usize)>,
    /// Deliberately dirty observations, by kind of dirt.
    pub dirty: Vec<(String, usize)>,
    pub build_ms: u128,
}

const HOUR_US: i64 = 3_600_000_000;
const DAY_US: i64 = 24 * HOUR_US;
pub const SAMPLE_SYSTEM: &str = "https://example.org/jhe-desktop-samples";

/// A deterministic name-based-looking UUID for hand-made samples.
fn sample_uuid(seed: u64, n: u64) -> String {
    let mut x = seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut next = || {
        x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = x;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let (a, b) = (next(), next());
    format!(
        "{:08x}-{:04x}-5{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

/// One OMH data point in the shape of the reference server's seed and sample uploads.
fn sample_omh(kind: Kind, t_us: i64, n: u64, seed: u64, source: &str) -> Value {
    let t = iso_z(t_us);
    let (name, version) = match kind.code().splitn(3, ':').collect::<Vec<_>>().as_slice() {
        [_, name, version] => (name.to_string(), version.to_string()),
        _ => (String::new(), String::new()),
    };
    let v = |lo: i64, span: i64| lo + ((n as i64 * 7919 + seed as i64) % span);
    let body = match kind {
        Kind::BloodGlucose => {
            json!({"blood_glucose": {"unit": "mg/dL", "value": v(95, 60)}, "temporal_relationship_to_meal": "after meal", "effective_time_frame": {"date_time": t}})
        }
        Kind::BloodPressure => {
            json!({"systolic_blood_pressure": {"unit": "mmHg", "value": v(112, 20)}, "diastolic_blood_pressure": {"unit": "mmHg", "value": v(72, 12)}, "effective_time_frame": {"date_time": t}})
        }
        Kind::HeartRate => {
            json!({"heart_rate": {"unit": "beats/min", "value": v(58, 20)}, "effective_time_frame": {"date_time": t}})
        }
        Kind::OxygenSaturation => {
            json!({"oxygen_saturation": {"unit": "%", "value": v(95, 4)}, "measurement_method": "pulse oximetry", "system": "peripheral capillary", "effective_time_frame": {"date_time": t}})
        }
        Kind::BodyWeight => {
            json!({"body_weight": {"unit": "kg", "value": 72.4 + (n % 5) as f64 / 10.0}, "effective_time_frame": {"date_time": t}})
        }
        Kind::StepCount => {
            json!({"step_count": {"unit": "steps", "value": v(4000, 6000)}, "effective_time_frame": {"time_interval": {"start_date_time": t, "end_date_time": iso_z(t_us + DAY_US)}}})
        }
        Kind::BodyTemperature => {
            json!({"body_temperature": {"unit": "F", "value": 98}, "measurement_location": "forehead", "effective_time_frame": {"date_time": t}})
        }
        Kind::RespiratoryRate => {
            json!({"respiratory_rate": {"unit": "breaths/min", "value": v(12, 6)}, "effective_time_frame": {"date_time": t}})
        }
        _ => json!({"effective_time_frame": {"date_time": t}}),
    };
    json!({
        "header": {
            "uuid": sample_uuid(seed, n),
            "schema_id": {"namespace": "omh", "name": name, "version": version},
            "source_creation_date_time": iso_z(t_us + 60_000_000),
            "modality": "sensed",
            "external_datasheets": [{"datasheet_type": "manufacturer", "datasheet_reference": source}]
        },
        "body": body
    })
}

fn raw_row(
    patient: u32,
    kind: Kind,
    omh: Value,
    last_updated_us: i64,
    identifiers: Vec<(String, String)>,
) -> Obs {
    let (s, e) = effective_of(&omh);
    Obs {
        id: 0,
        patient_id: patient,
        scope_id: scope_id_for_kind(kind),
        last_updated_us,
        eff_start_us: s,
        eff_end_us: e,
        payload: Payload::Raw(Arc::new(RawObs { omh, identifiers })),
    }
}

pub fn build(config: &Config) -> Result<(World, Store, DataSummary), String> {
    let t0 = Instant::now();
    let end_us = config
        .end_us
        .unwrap_or_else(|| crate::time::now_us().div_euclid(HOUR_US) * HOUR_US);
    let start_us = end_us - config.days as i64 * DAY_US;
    let (world, demo) = World::reference(config.seed, config.patients);

    // The base seed's one data point per consented scope, written when the server was seeded.
    let mut rows: Vec<Obs> = Vec::new();
    let seed_time = start_us - DAY_US;
    let base = [
        (40002, Kind::BloodPressure, "CareX"),
        (40002, Kind::HeartRate, "CareX"),
        (40001, Kind::BloodPressure, "CareX"),
        (40002, Kind::BloodPressure, "CareX"),
        (40001, Kind::HeartRate, "CareX"),
        (40004, Kind::OxygenSaturation, "iHealth"),
        (40003, Kind::BodyTemperature, "iHealth"),
        (40005, Kind::OxygenSaturation, "iHealth"),
        (40005, Kind::BloodGlucose, "Dexcom"),
    ];
    for (i, (p, kind, src)) in base.iter().enumerate() {
        let t = seed_time + i as i64 * 1000;
        rows.push(raw_row(
            *p,
            *kind,
            sample_omh(*kind, seed_time + HOUR_US, i as u64, config.seed, src),
            t,
            vec![],
        ));
    }

    // The participants' device data.
    let cfg = GenConfig {
        seed: config.seed,
        days: config.days,
        end_us,
        dirty_share: config.dirty_share,
    };
    let plans: Vec<PatientPlan> = demo
        .iter()
        .map(|d| PatientPlan {
            patient_id: d.patient_id,
            kinds: d.kinds.clone(),
            extra_kinds: d.extra_kinds.clone(),
            stopped_days_ago: d.stopped_days_ago,
        })
        .collect();
    // Each participant's upload window (earlier for one who stopped uploading).
    let windows: std::collections::HashMap<u32, (i64, i64)> = plans
        .iter()
        .map(|p| {
            let stopped = i64::from(p.stopped_days_ago) * DAY_US;
            (p.patient_id, (start_us - stopped, end_us - stopped))
        })
        .collect();
    let mut report = DirtyReport::default();
    let generated = generate::generate_all(&cfg, &plans, &mut report);
    rows.reserve(generated.len() + 64);
    for g in generated {
        let (mut s, mut e) = (
            g.effective_start_us.unwrap_or(NO_TIME),
            g.effective_end_us.unwrap_or(NO_TIME),
        );
        if g.point.needs_reparse() {
            // Dirty time stamps (no offset): the server reads the local clock as UTC.
            let eff = effective_of(&generate::render_point(g.kind, &g.point));
            s = eff.0;
            e = eff.1;
        }
        rows.push(Obs {
            id: 0,
            patient_id: g.patient_id,
            scope_id: scope_id_for_kind(g.kind),
            // Nothing was written after the data set's end (future-dated points included), nor
            // after a participant stopped uploading.
            last_updated_us: {
                let (from, to) = windows
                    .get(&g.patient_id)
                    .copied()
                    .unwrap_or((start_us, end_us));
                g.uploaded_us.min(to).max(from)
            },
            eff_start_us: s,
            eff_end_us: e,
            payload: Payload::Gen(g.kind, g.point),
        });
    }

    // Patient 40001's sample uploads (the reference capture's 28, with identifiers), written last.
    let day0 = end_us.div_euclid(DAY_US) * DAY_US - 3 * DAY_US;
    let mut n = 100u64;
    let mut write_t = end_us + 1_000_000;
    for d in 0..3i64 {
        let day = day0 + d * DAY_US;
        let mut items: Vec<(Kind, i64, &str)> = vec![
            (Kind::StepCount, day, "jhe-desktop sample"),
            (Kind::BloodGlucose, day + 7 * HOUR_US, "jhe-desktop sample"),
            (
                Kind::BodyWeight,
                day + 7 * HOUR_US + 30 * 60_000_000,
                "jhe-desktop sample",
            ),
            (Kind::BloodPressure, day + 8 * HOUR_US, "jhe-desktop sample"),
            (
                Kind::HeartRate,
                day + 8 * HOUR_US + 5 * 60_000_000,
                "jhe-desktop sample",
            ),
            (Kind::BloodGlucose, day + 13 * HOUR_US, "jhe-desktop sample"),
            (Kind::BloodGlucose, day + 19 * HOUR_US, "jhe-desktop sample"),
            (
                Kind::HeartRate,
                day + 20 * HOUR_US + 5 * 60_000_000,
                "jhe-desktop sample",
            ),
            (
                Kind::OxygenSaturation,
                day + 23 * HOUR_US,
                "jhe-desktop sample",
            ),
        ];
        if d == 2 {
            // The practitioner's upload of the reference capture.
            items.push((Kind::HeartRate, day + 21 * HOUR_US, "jhe-desktop sample"));
        }
        for (kind, t, src) in items {
            n += 1;
            let omh = sample_omh(kind, t, n, config.seed, src);
            let name = kind.code().trim_start_matches("omh:").replacen(':', "-", 1);
            let ident = (SAMPLE_SYSTEM.to_string(), format!("{name}-{}", iso_z(t)));
            rows.push(raw_row(40001, kind, omh, write_t, vec![ident]));
            write_t += 20_000;
        }
    }

    let store = Store::from_rows(rows, 60001);
    let mut per_type: std::collections::BTreeMap<String, usize> = Default::default();
    for r in store.rows() {
        if let Some(s) = world.scope(r.scope_id) {
            *per_type.entry(s.code.to_string()).or_default() += 1;
        }
    }
    let summary = DataSummary {
        seed: config.seed,
        patients: config.patients,
        days: config.days,
        data_end: iso_z(end_us),
        observations: store.len(),
        per_type: per_type.into_iter().collect(),
        dirty: report.summary(),
        build_ms: t0.elapsed().as_millis(),
    };
    Ok((world, store, summary))
}
