//! The report's contents: the numbers are the analysis layer's, texts from the data are
//! escaped, the file needs nothing from the network, and a study and a participant report
//! each hold their sections.

use super::*;
use crate::analysis::quality::{Finding, FindingKind};
use crate::analysis::{cgm_metrics, input};

const DAY_US: i64 = 86_400_000_000;
const T0: i64 = 1_700_000_000_000_000;

fn glucose(pid: u64, days: i64, base: f64) -> Vec<Obs> {
    (0..days * 288)
        .map(|i| {
            let t = T0 + i * 300_000_000;
            let v = base + 80.0 * ((i as f64) / 40.0).sin();
            Obs {
                observation_id: pid * 1_000_000 + i as u64,
                patient_id: pid,
                code: "omh:blood-glucose:4.0".into(),
                t_us: t,
                end_us: None,
                local_us: Some(t - 5 * 3_600_000_000),
                v: Some(if i == 7 { 1200.0 } else { v }),
                v2: None,
                device: None,
            }
        })
        .collect()
}

fn bp(pid: u64) -> Vec<Obs> {
    (0..20)
        .map(|i| {
            let t = T0 + i * DAY_US / 2;
            Obs {
                observation_id: pid * 1_000_000 + 900_000 + i as u64,
                patient_id: pid,
                code: "omh:blood-pressure:4.0".into(),
                t_us: t,
                end_us: None,
                local_us: Some(t - 5 * 3_600_000_000),
                v: Some(118.0 + i as f64),
                v2: Some(76.0 + (i % 5) as f64),
                device: None,
            }
        })
        .collect()
}

fn input(single: bool) -> ReportInput {
    let mut participants = Vec::new();
    for (pid, name, base) in [
        (40001, "<img src=x onerror=alert(1)>", 140.0),
        (40002, "Ana Lima", 170.0),
    ] {
        let mut obs = BTreeMap::new();
        obs.insert("omh:blood-glucose:4.0".to_string(), glucose(pid, 15, base));
        obs.insert("omh:blood-pressure:4.0".to_string(), bp(pid));
        participants.push(ParticipantInput {
            id: pid,
            name: name.into(),
            obs,
        });
    }
    if single {
        participants.truncate(1);
    }
    ReportInput {
        provenance: Provenance {
            generated_by: "jhe test".into(),
            generated_at: "2026-12-02T10:00:00Z".into(),
            source: "http://127.0.0.1:8000 (live)".into(),
            fetched_at: "2026-12-02T10:00:00Z".into(),
            account: Some("mary@example.org".into()),
            study_id: 30001,
            study_name: "CGM & <Wearables>".into(),
            organization: "Research Institute".into(),
            from: None,
            to: None,
            warnings: vec![],
        },
        participants,
        findings: Some(vec![Finding {
            kind: FindingKind::Implausible,
            participant_id: 40001,
            code: "omh:blood-glucose:4.0".into(),
            observation_ids: vec![40_001_000_007],
            detail: "glucose 1200 mg/dL <script>".into(),
        }]),
        single,
    }
}

/// No scripts, no external resources: everything the page shows is in the file.
fn assert_self_contained(doc: &str) {
    assert!(doc.starts_with("<!DOCTYPE html>"));
    assert!(doc.trim_end().ends_with("</html>"));
    let lower = doc.to_ascii_lowercase();
    for bad in [
        "<script",
        "<img",
        "<iframe",
        "<link",
        "src=\"http",
        "href=\"http",
        "url(http",
        "@import",
    ] {
        assert!(!lower.contains(bad), "the report contains {bad}");
    }
    assert!(doc.contains("Content-Security-Policy"));
}

#[test]
fn a_study_report_holds_every_participants_cgm_metrics_as_the_analysis_computes_them() {
    let inp = input(false);
    let (doc, stats) = render(&inp);
    assert_self_contained(&doc);
    assert_eq!(stats.participants, 2);
    assert_eq!(stats.findings, 1);
    for p in &inp.participants {
        let r = input::glucose(&p.obs["omh:blood-glucose:4.0"]);
        assert_eq!(r.implausible, 1, "the 1,200 mg/dL reading is left out");
        let m = cgm_metrics(&p.id.to_string(), &r.readings, Period::ALL);
        for (v, d) in [
            (m.mean_mg_dl, 0),
            (m.gmi_percent, 1),
            (m.in_range_percent, 1),
            (m.cv_percent, 1),
        ] {
            let cell = format!("<td class=\"num\">{}</td>", common::num(v, d));
            assert!(doc.contains(&cell), "missing {cell} for {}", p.id);
        }
    }
    assert!(doc.contains("&lt;img src=x onerror=alert(1)&gt;"));
    assert!(doc.contains("CGM &amp; &lt;Wearables&gt;"));
    assert!(doc.contains("glucose 1200 mg/dL &lt;script&gt;"));
    assert!(doc.contains("40001000007"), "the finding's observation id");
    assert!(doc.contains("How these numbers are computed"));
    assert!(doc.contains("mary@example.org"));
}

#[test]
fn a_participant_report_has_the_cards_summary_the_daily_pattern_and_their_findings() {
    let inp = input(true);
    let (doc, stats) = render(&inp);
    assert_self_contained(&doc);
    let p = &inp.participants[0];
    let s =
        crate::analysis::summary::summary(&DataType::BloodGlucose, &p.obs["omh:blood-glucose:4.0"])
            .expect("a glucose summary");
    for m in &s.metrics {
        assert!(
            doc.contains(&html::esc(&m.shown())),
            "{} {}",
            m.label,
            m.shown()
        );
    }
    assert!(doc.contains("Daily pattern (AGP)"));
    assert!(doc.contains("Readings over time"));
    assert!(
        stats.charts >= 3,
        "two time series and the AGP: {}",
        stats.charts
    );
    assert!(doc.contains("physiologically implausible values"));
    assert!(!doc.contains("Ana Lima"), "only this participant");
}

#[test]
fn a_report_without_a_quality_check_says_so_and_one_without_findings_says_none_were_found() {
    let mut inp = input(true);
    inp.findings = None;
    assert!(render(&inp).0.contains("was not checked"));
    inp.findings = Some(vec![]);
    assert!(render(&inp).0.contains("No problems found"));
}

#[test]
fn a_study_without_readings_still_makes_a_report() {
    let mut inp = input(false);
    for p in &mut inp.participants {
        p.obs.clear();
    }
    inp.findings = Some(vec![]);
    let (doc, stats) = render(&inp);
    assert_self_contained(&doc);
    assert_eq!(stats.observations, 0);
    assert!(doc.contains("0 of them with readings"));
}

#[test]
fn a_long_participant_report_draws_only_the_last_four_weeks_day_by_day_and_says_so() {
    let mut inp = input(true);
    inp.participants[0]
        .obs
        .insert("omh:blood-glucose:4.0".into(), glucose(40001, 35, 140.0));
    let (doc, _) = render(&inp);
    assert!(doc.contains("The last 28 days with readings are drawn."));
    let (short, _) = render(&input(true));
    assert!(!short.contains("days with readings are drawn"));
}
