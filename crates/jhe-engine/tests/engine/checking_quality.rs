//! The data-quality check over real HTTP against the sandbox's planted defects (its ground truth:
//! `Sandbox::planted_defects`): every planted defect is found with its observation id, and no
//! clean observation is flagged by a defect kind.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::common::*;
use jhe_engine::analysis::quality::FindingKind;
use jhe_engine::cancel::CancelToken;
use jhe_engine::jobs::check_study;
use jhe_sandbox::generate::DirtyKind;
use jhe_sandbox::Config;

/// The finding each planted defect must produce.
fn expected(d: DirtyKind) -> Option<FindingKind> {
    Some(match d {
        DirtyKind::UnitMgdl => FindingKind::UnitVariant,
        DirtyKind::UnitMmolL => FindingKind::ConvertedUnit,
        DirtyKind::NoOffset => FindingKind::NoOffset,
        DirtyKind::FutureTimestamp => FindingKind::FutureTime,
        DirtyKind::DuplicateUuid => FindingKind::DuplicateUuid,
        DirtyKind::OutOfScopeCode => FindingKind::OutOfScope,
        DirtyKind::ImplausibleValue => FindingKind::Implausible,
        DirtyKind::UploadGap => return None,
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_planted_defect_is_found_with_its_id_and_nothing_clean_is_flagged() {
    let sb = sandbox_with(Config {
        patients: 8,
        days: 5,
        dirty_share: 0.05,
        ..Config::default()
    })
    .await;
    let s = session(&sb, MARY).await;
    let report = check_study(&s, DEMO_STUDY, None, 4, |_| {}, CancelToken::new())
        .await
        .expect("the check runs");
    let members: HashSet<u64> = s
        .study_patients(DEMO_STUDY)
        .await
        .expect("patients")
        .iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(report.participants, members.len());

    let mut flagged: HashMap<FindingKind, HashSet<u64>> = HashMap::new();
    for f in &report.findings {
        assert!(members.contains(&f.participant_id), "{f:?}");
        flagged
            .entry(f.kind)
            .or_default()
            .extend(f.observation_ids.iter().copied());
    }
    let planted: Vec<(u64, DirtyKind)> = sb
        .planted_defects()
        .into_iter()
        .filter(|(_, pid, _)| members.contains(&u64::from(*pid)))
        .map(|(id, _, d)| (u64::from(id), d))
        .collect();
    let mut per_kind: BTreeMap<&str, usize> = BTreeMap::new();
    for (id, d) in &planted {
        let Some(want) = expected(*d) else { continue };
        *per_kind.entry(d.name()).or_default() += 1;
        assert!(
            flagged.get(&want).is_some_and(|ids| ids.contains(id)),
            "planted {} (observation {id}: {:?}) is not reported as {}",
            d.name(),
            sb.state().store.read().get(*id as u32).map(|r| &r.payload),
            want.as_str()
        );
    }
    for d in [
        DirtyKind::UnitMgdl,
        DirtyKind::OutOfScopeCode,
        DirtyKind::UnitMmolL,
        DirtyKind::NoOffset,
        DirtyKind::FutureTimestamp,
        DirtyKind::DuplicateUuid,
        DirtyKind::ImplausibleValue,
    ] {
        assert!(
            per_kind.get(d.name()).is_some_and(|n| *n > 0),
            "the sandbox planted no {}: {per_kind:?}",
            d.name()
        );
    }
    // Nothing clean is flagged by a defect kind. Outliers are statistical, and converted units
    // informational: the sandbox's clean data also sends °F, lb and km, which are valid units
    // (only its mmol/L glucose is planted, and found above).
    let dirty: HashMap<u64, Option<FindingKind>> =
        planted.iter().map(|(id, d)| (*id, expected(*d))).collect();
    for (kind, ids) in &flagged {
        if matches!(kind, FindingKind::Outlier | FindingKind::ConvertedUnit) {
            continue;
        }
        for id in ids {
            assert_eq!(
                dirty.get(id).copied().flatten(),
                Some(*kind),
                "observation {id} is flagged {} ({:?}) but was planted as {:?}",
                kind.as_str(),
                report
                    .findings
                    .iter()
                    .find(|f| f.kind == *kind && f.observation_ids.contains(id))
                    .map(|f| &f.detail),
                dirty.get(id)
            );
        }
    }
    assert!(report.observations > 0);
}

/// `findings.csv` rows: (observation id, kind, left_out).
fn findings_csv(dir: &std::path::Path) -> Vec<(u64, String, bool)> {
    let text = std::fs::read_to_string(dir.join(jhe_engine::export::FINDINGS_FILE))
        .expect("the export has findings.csv");
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("participant_id,code,observation_id,kind,left_out,detail")
    );
    lines
        .map(|l| {
            let f: Vec<&str> = l.splitn(6, ',').collect();
            (
                f[2].parse().expect("observation id"),
                f[3].to_string(),
                f[4] == "true",
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_lists_every_planted_defect_in_findings_csv_and_can_leave_out_the_wrong_readings()
{
    use jhe_engine::export::{Flagged, Format};
    use jhe_engine::jobs::{export_study, ExportRequest};
    let sb = sandbox_with(Config {
        patients: 6,
        days: 4,
        dirty_share: 0.05,
        ..Config::default()
    })
    .await;
    let s = session(&sb, MARY).await;
    let export = |flagged: Flagged| {
        let s = s.clone();
        async move {
            let dir = tempfile::tempdir().expect("tmp");
            let mut req = ExportRequest::new(DEMO_STUDY, dir.path());
            req.format = Format::Csv;
            req.flagged = flagged;
            let out = export_study(&s, req, |_| {}, CancelToken::new())
                .await
                .expect("export");
            (dir, out)
        }
    };
    let (kept_dir, kept) = export(Flagged::Keep).await;
    let (left_dir, left) = export(Flagged::LeaveOut).await;

    // Every planted defect the export can see (it asks only for the study's types, so
    // out-of-scope codes never arrive) is in findings.csv with its id and kind.
    let rows = findings_csv(&kept.out_dir);
    let listed: HashSet<(u64, &str)> = rows.iter().map(|(id, k, _)| (*id, k.as_str())).collect();
    let mut wrong = HashSet::new();
    let mut planted_seen = 0;
    for (id, _, d) in sb.planted_defects() {
        let Some(want) = expected(d) else { continue };
        if want == FindingKind::OutOfScope {
            continue;
        }
        planted_seen += 1;
        assert!(
            listed.contains(&(u64::from(id), want.as_str())),
            "planted {} (observation {id}) is not in findings.csv as {}",
            d.name(),
            want.as_str()
        );
    }
    assert!(planted_seen > 0, "the sandbox planted defects");
    for (id, k, left_out) in &rows {
        assert!(!left_out, "nothing is left out when kept ({id} {k})");
        if ["implausible", "future_time", "duplicate_uuid"].contains(&k.as_str()) {
            wrong.insert(*id as i64);
        }
    }
    assert!(!wrong.is_empty(), "some readings are wrong");
    assert_eq!(kept.manifest.flagged, Flagged::Keep);
    assert_eq!(kept.manifest.flagged_left_out, 0);
    let role = |m: &jhe_engine::export::Manifest| {
        m.files
            .iter()
            .find(|f| f.name == "findings.csv")
            .map(|f| (f.role.clone(), f.rows))
    };
    assert_eq!(
        role(&kept.manifest),
        Some(("findings".into(), rows.len() as u64))
    );
    assert_eq!(
        kept.manifest.findings.values().sum::<u64>(),
        rows.len() as u64
    );

    // Left out: exactly the wrong readings are missing from the data files, the manifest says
    // so and counts them, and findings.csv still lists them, marked.
    let (_, kept_ids) = read_export(&kept.out_dir, &kept.manifest);
    let (_, left_ids) = read_export(&left.out_dir, &left.manifest);
    let missing: HashSet<i64> = kept_ids.difference(&left_ids).copied().collect();
    assert_eq!(missing, wrong, "the left-out readings are the wrong ones");
    assert!(left_ids.is_subset(&kept_ids));
    assert_eq!(left.manifest.flagged, Flagged::LeaveOut);
    assert_eq!(left.manifest.flagged_left_out, wrong.len() as u64);
    assert_eq!(
        left.manifest.total_observations + left.manifest.flagged_left_out,
        kept.manifest.total_observations
    );
    let left_rows = findings_csv(&left.out_dir);
    for (id, k, left_out) in &left_rows {
        let is_wrong = ["implausible", "future_time", "duplicate_uuid"].contains(&k.as_str());
        assert_eq!(*left_out, is_wrong, "{id} {k}");
    }
    assert!(left
        .warnings
        .iter()
        .any(|w| w.contains("left out") && w.contains("findings.csv")));
    // The dictionary documents findings.csv.
    let dict = std::fs::read_to_string(left.out_dir.join("data_dictionary.csv")).expect("dict");
    assert!(dict.contains("findings.csv,findings,left_out,"), "{dict}");
    drop((kept_dir, left_dir));
}
