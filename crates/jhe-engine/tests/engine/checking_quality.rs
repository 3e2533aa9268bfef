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
