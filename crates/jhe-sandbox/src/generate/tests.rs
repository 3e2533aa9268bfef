//! The generator's unit tests: compact points, determinism, volumes and times, physiology,
//! dirt, rendered shapes, and the nightly sleep types agreeing with each other.

use std::collections::{HashMap, HashSet};

use super::*;

fn plans(n: u32, extra: bool) -> Vec<PatientPlan> {
    (0..n)
        .map(|i| PatientPlan::every_kind(40006 + i, extra))
        .collect()
}

fn cfg(seed: u64, days: u32, dirty: f64) -> GenConfig {
    GenConfig {
        seed,
        days,
        dirty_share: dirty,
        ..GenConfig::default()
    }
}

#[test]
fn sizes_are_compact() {
    assert!(std::mem::size_of::<GenPoint>() <= 32);
    assert_eq!(std::mem::size_of::<GenPoint>(), 16);
    assert!(
        std::mem::size_of::<GenObs>() <= 64,
        "GenObs is {} bytes",
        std::mem::size_of::<GenObs>()
    );
}

#[test]
fn kind_codes_round_trip() {
    for k in Kind::ALL {
        assert_eq!(Kind::from_code(k.code()), Some(k));
        assert_eq!(
            format!(
                "{}:{}:{}",
                k.namespace(),
                k.schema_name(),
                k.schema_version()
            ),
            k.code()
        );
        assert_eq!(Kind::ALL[k.index()], k, "ALL is in index order");
    }
    assert_eq!(Kind::from_code("omh:rr-interval:1.0"), None);
    assert_eq!(Kind::ALL.len(), 12);
    assert_eq!(
        Kind::SleepStageSummary.code(),
        "ieee:sleep-stage-summary:1.0"
    );
    assert_eq!(Kind::SleepStageSummary.namespace(), "ieee");
    assert_eq!(Kind::SleepStageSummary.system(), IEEE_SYSTEM);
    assert_eq!(Kind::SleepEpisode.code(), "omh:sleep-episode:1.1");
    assert_eq!(Kind::SleepEpisode.system(), crate::world::OMH_SYSTEM);
}

/// Minutes of an OMH duration (`min`, or `h` as some participants' sleep duration sends it).
fn minutes(v: &serde_json::Value) -> f64 {
    let x = v["value"].as_f64().unwrap();
    match v["unit"].as_str().unwrap() {
        "min" => x,
        "h" => x * 60.0,
        u => panic!("unit {u}"),
    }
}

#[test]
fn sleep_episodes_and_stage_summaries_agree_with_the_nights_sleep_duration() {
    let c = cfg(42, 14, 0.0);
    let mut rep = DirtyReport::default();
    let all = generate_all(&c, &plans(8, false), &mut rep);
    // (patient, start, end) → the sleep duration's JSON body
    let mut nights: HashMap<(u32, i64, Option<i64>), serde_json::Value> = HashMap::new();
    for o in all.iter().filter(|o| o.kind == Kind::SleepDuration) {
        let key = (
            o.patient_id,
            o.effective_start_us.unwrap(),
            o.effective_end_us,
        );
        nights.insert(key, render(o)["body"].clone());
    }
    assert!(nights.len() >= 8 * 12, "{} nights", nights.len());
    let mut seen: HashMap<Kind, usize> = HashMap::new();
    let mut in_hours = 0;
    let mut onsets = HashSet::new();
    for o in all
        .iter()
        .filter(|o| matches!(o.kind, Kind::SleepEpisode | Kind::SleepStageSummary))
    {
        *seen.entry(o.kind).or_default() += 1;
        let key = (
            o.patient_id,
            o.effective_start_us.unwrap(),
            o.effective_end_us,
        );
        let sd = nights
            .get(&key)
            .unwrap_or_else(|| panic!("no sleep duration for the night of {o:?}"));
        let v = render(o);
        let b = &v["body"];
        // The same night: the same interval (in bed) as the sleep duration.
        assert_eq!(b["effective_time_frame"], sd["effective_time_frame"]);
        assert_eq!(v["header"]["schema_id"]["namespace"], o.kind.namespace());
        assert_eq!(b["is_main_sleep"], true);
        let in_bed = o.point.duration_s() as f64 / 60.0;
        let asleep = minutes(&sd["sleep_duration"]);
        let (tst, onset, arising, waso, awakenings, eff) = if o.kind == Kind::SleepEpisode {
            // Sent exactly as the sleep duration is (unit and value).
            assert_eq!(b["total_sleep_time"], sd["sleep_duration"]);
            in_hours += usize::from(b["total_sleep_time"]["unit"] == "h");
            (
                minutes(&b["total_sleep_time"]),
                minutes(&b["latency_to_sleep_onset"]),
                minutes(&b["latency_to_arising"]),
                minutes(&b["wake_after_sleep_onset"]),
                b["number_of_awakenings"].as_i64().unwrap(),
                b["sleep_maintenance_efficiency_percentage"]["value"]
                    .as_f64()
                    .unwrap(),
            )
        } else {
            let s = &b["sleep_stage_summary"];
            let m = |k: &str| minutes(&s[k]);
            let tst = m("total_sleep_time");
            // The nearest whole minutes (exact for a sleep duration sent in minutes).
            assert!((tst - asleep).abs() <= 0.5, "{tst} vs {asleep}");
            if sd["sleep_duration"]["unit"] == "min" {
                assert_eq!(tst, asleep);
            }
            assert_eq!(
                m("light_sleep_duration") + m("deep_sleep_duration") + m("rem_sleep_duration"),
                tst,
                "{s}"
            );
            let pct: f64 = ["light", "deep", "rem"]
                .iter()
                .map(|st| {
                    s[format!("{st}_sleep_percentage")]["value"]
                        .as_f64()
                        .unwrap()
                })
                .sum();
            assert!((pct - 100.0).abs() <= 0.2, "{pct}");
            let deep = m("deep_sleep_duration") / tst;
            let rem = m("rem_sleep_duration") / tst;
            assert!(
                (0.09..0.23).contains(&deep) && (0.15..0.27).contains(&rem),
                "{s}"
            );
            for st in ["light", "deep", "rem"] {
                assert!(s[format!("{st}_sleep_episode_count")].as_i64().unwrap() >= 1);
            }
            (
                tst,
                m("latency_to_sleep_onset"),
                m("latency_to_arising"),
                m("awake_duration"),
                s["number_of_awakenings"].as_i64().unwrap(),
                s["sleep_efficiency_percentage"]["value"].as_f64().unwrap(),
            )
        };
        // The night adds up: asleep + awake before, during and after sleep = in bed.
        assert!(
            (tst + onset + arising + waso - in_bed).abs() <= 1.0,
            "{tst} + {onset} + {arising} + {waso} vs {in_bed}: {b}"
        );
        assert!(onset >= 0.0 && arising >= 0.0 && waso >= 0.0);
        assert_eq!(awakenings == 0, waso == 0.0, "{b}");
        assert!((eff - tst / in_bed * 100.0).abs() <= 0.1, "{eff}: {b}");
        assert!((65.0..=100.0).contains(&eff), "{eff}");
        assert!((120.0..=700.0).contains(&tst), "{tst}");
        onsets.insert(onset as i64);
    }
    // One of each per night, and both agree on the night (checked above for each).
    assert_eq!(seen[&Kind::SleepEpisode], nights.len());
    assert_eq!(seen[&Kind::SleepStageSummary], nights.len());
    assert!(in_hours > 0 || nights.len() < 50, "some send hours");
    assert!(onsets.len() > 5, "latencies vary: {onsets:?}");
    // The two kinds of a night report the same latencies and awakenings.
    let night = |k: Kind| -> HashMap<(u32, u32), render::Night> {
        all.iter()
            .filter(|o| o.kind == k)
            .map(|o| {
                (
                    (o.patient_id, o.point.start_s()),
                    render::Night::of(&o.point),
                )
            })
            .collect()
    };
    assert_eq!(night(Kind::SleepEpisode), night(Kind::SleepStageSummary));
}

#[test]
fn implausible_sleep_stays_renderable() {
    let c = cfg(9, 14, 0.3);
    let mut rep = DirtyReport::default();
    let all = generate_all(&c, &plans(4, false), &mut rep);
    let mut n = 0;
    for o in all.iter().filter(|o| {
        matches!(o.kind, Kind::SleepEpisode | Kind::SleepStageSummary)
            && o.point.dirty() == Some(DirtyKind::ImplausibleValue)
    }) {
        n += 1;
        let text = render(o).to_string();
        assert!(!text.contains("null"), "{text}");
    }
    assert!(n > 0);
}

#[test]
fn deterministic_and_seed_dependent() {
    let ps = plans(3, true);
    let (mut r1, mut r2, mut r3) = Default::default();
    let a = generate_all(&cfg(7, 10, 0.02), &ps, &mut r1);
    let b = generate_all(&cfg(7, 10, 0.02), &ps, &mut r2);
    let c = generate_all(&cfg(8, 10, 0.02), &ps, &mut r3);
    assert_eq!(a.len(), b.len());
    assert_eq!(r1, r2);
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.point, y.point);
        assert_eq!(x.uploaded_us, y.uploaded_us);
    }
    let sample = |v: &[GenObs]| -> Vec<String> {
        v.iter()
            .step_by(97)
            .map(|o| render(o).to_string())
            .collect()
    };
    assert_eq!(sample(&a), sample(&b));
    assert_ne!(sample(&a), sample(&c));

    // The parallel result equals the sequential one, patient by patient.
    let mut seq = Vec::new();
    let mut rs = DirtyReport::default();
    for p in &ps {
        generate_patient(&cfg(7, 10, 0.02), p, &mut seq, &mut rs);
    }
    assert_eq!(seq.len(), a.len());
    assert!(seq.iter().zip(&a).all(|(x, y)| x.point == y.point));
    assert_eq!(rs.counts, r1.counts);
}

#[test]
fn volumes_times_and_order_are_sane() {
    let c = cfg(42, 14, 0.0);
    let mut rep = DirtyReport::default();
    let all = generate_all(&c, &plans(4, false), &mut rep);
    assert_eq!(rep.dirty_observations(), 0);
    assert_eq!(rep.observations as usize, all.len());
    let start_us = c.end_us - 14 * 86_400_000_000;
    let mut per_kind: HashMap<Kind, usize> = HashMap::new();
    let mut uuids = HashSet::new();
    for (i, o) in all.iter().enumerate() {
        *per_kind.entry(o.kind).or_default() += 1;
        let s = o.effective_start_us.unwrap();
        assert!(s >= start_us && s <= c.end_us, "{o:?}");
        if let Some(e) = o.effective_end_us {
            assert!(e > s && e <= c.end_us);
        }
        let end = o.effective_end_us.unwrap_or(s);
        assert!(o.uploaded_us >= end && o.uploaded_us <= c.end_us, "{o:?}");
        assert!(o.point.created_us() >= end);
        assert_eq!(o.point.kind(), o.kind);
        assert!(uuids.insert(o.point.uuid()), "duplicate uuid {o:?}");
        if i > 0 && all[i - 1].patient_id == o.patient_id {
            assert!(all[i - 1].uploaded_us <= o.uploaded_us);
        }
    }
    let cgm = per_kind[&Kind::BloodGlucose];
    // 4 patients × 14 days × 288, minus sensor warm-ups and signal losses.
    assert!(
        cgm > 4 * 14 * 288 * 85 / 100 && cgm <= 4 * 14 * 288,
        "{cgm}"
    );
    for k in Kind::ALL {
        assert!(per_kind.get(&k).copied().unwrap_or(0) > 0, "{k:?} missing");
    }
    // Complete local days only: 13 or 14 per patient depending on the UTC offset.
    assert!((4 * 13..=4 * 14).contains(&per_kind[&Kind::StepCount]));
}

#[test]
fn glucose_looks_physiological() {
    let mut rep = DirtyReport::default();
    let all = generate_all(&cfg(3, 14, 0.0), &plans(6, false), &mut rep);
    let mut by_patient: HashMap<u32, Vec<f64>> = HashMap::new();
    for o in all.iter().filter(|o| o.kind == Kind::BloodGlucose) {
        by_patient
            .entry(o.patient_id)
            .or_default()
            .push(o.point.v1_tenths() as f64 / 10.0);
    }
    for (p, v) in by_patient {
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        let min = v.iter().cloned().fold(f64::MAX, f64::min);
        let max = v.iter().cloned().fold(f64::MIN, f64::max);
        assert!((80.0..260.0).contains(&mean), "patient {p} mean {mean}");
        assert!(
            min >= 40.0 && max <= 400.0 && max - min > 30.0,
            "{p}: {min}..{max}"
        );
    }
}

#[test]
fn dirt_is_counted_and_marked() {
    let c = cfg(11, 14, 0.05);
    let mut rep = DirtyReport::default();
    let all = generate_all(&c, &plans(6, true), &mut rep);
    let mut counted = [0u64; 8];
    for o in &all {
        if let Some(d) = o.point.dirty() {
            counted[d as usize] += 1;
            if d == DirtyKind::FutureTimestamp {
                assert!(o.effective_start_us.unwrap() > c.end_us);
            }
            if d == DirtyKind::OutOfScopeCode {
                assert_eq!(o.kind, Kind::BodyTemperature);
            }
        } else {
            assert_ne!(o.kind, Kind::BodyTemperature);
        }
    }
    for d in DirtyKind::ALL {
        if d != DirtyKind::UploadGap {
            assert_eq!(counted[d as usize], rep.count(d), "{d:?}");
        }
    }
    let share = rep.dirty_observations() as f64 / all.len() as f64;
    assert!((0.025..0.1).contains(&share), "dirty share {share}");
    for d in DirtyKind::ALL {
        let n = rep.examples.iter().filter(|e| e.dirty == d).count();
        assert!(n as u64 == rep.count(d).min(DirtyReport::EXAMPLES_PER_KIND as u64));
    }
    assert_eq!(rep.summary().len(), 8);

    // A duplicate is a re-sent copy: same uuid and body as another row, uploaded later.
    let by_uuid: HashMap<String, Vec<&GenObs>> = all.iter().fold(HashMap::new(), |mut m, o| {
        m.entry(o.point.uuid()).or_default().push(o);
        m
    });
    let dup = all
        .iter()
        .find(|o| o.point.dirty() == Some(DirtyKind::DuplicateUuid))
        .expect("a duplicate at 5% dirt");
    let same = &by_uuid[&dup.point.uuid()];
    assert_eq!(same.len(), 2);
    let orig = same.iter().find(|o| o.point.dirty().is_none()).unwrap();
    assert_eq!(render(orig), render(dup));
    assert!(orig.uploaded_us <= dup.uploaded_us);
    // Every other uuid is unique.
    assert!(by_uuid.values().all(|v| v.len() == 1
        || v.iter()
            .any(|o| o.point.dirty() == Some(DirtyKind::DuplicateUuid))));
}

#[test]
fn rendered_shapes() {
    let mut rep = DirtyReport::default();
    let all = generate_all(&cfg(5, 10, 0.05), &plans(4, false), &mut rep);
    let mut seen_offset = false;
    let mut seen_z = false;
    for o in &all {
        let v = render(o);
        let h = &v["header"];
        assert_eq!(h["schema_id"]["name"], o.kind.schema_name());
        assert!(h["acquisition_provenance"]["source_name"].is_string());
        let frame = &v["body"]["effective_time_frame"];
        let t = frame["date_time"]
            .as_str()
            .or_else(|| frame["time_interval"]["start_date_time"].as_str())
            .unwrap()
            .to_string();
        assert_eq!(
            frame.get("time_interval").is_some(),
            o.effective_end_us.is_some()
        );
        match o.point.dirty() {
            Some(DirtyKind::NoOffset) => {
                assert_eq!(t.len(), 19, "{t}");
                assert!(o.point.needs_reparse());
            }
            _ => {
                assert!(t.ends_with('Z') || t.len() == 25, "{t}");
                seen_z |= t.ends_with('Z');
                seen_offset |= !t.ends_with('Z');
                let parsed = chrono::DateTime::parse_from_rfc3339(&t).unwrap();
                assert_eq!(
                    parsed.timestamp() * 1_000_000,
                    o.effective_start_us.unwrap()
                );
            }
        }
        if o.kind == Kind::BloodGlucose {
            let unit = v["body"]["blood_glucose"]["unit"].as_str().unwrap();
            match o.point.dirty() {
                Some(DirtyKind::UnitMgdl) => assert_eq!(unit, "MGDL"),
                Some(DirtyKind::UnitMmolL) => assert_eq!(unit, "mmol/L"),
                _ => assert_eq!(unit, "mg/dL"),
            }
        }
    }
    assert!(seen_offset && seen_z);
}
