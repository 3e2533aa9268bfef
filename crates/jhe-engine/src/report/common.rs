//! Parts both reports share: the provenance block, the data-quality section, the definitions
//! and number formatting.

use std::collections::BTreeSet;

use super::html::Page;
use super::{findings_by_kind, ReportInput};
use crate::analysis::dictionary::{plausible_rule, GENERAL_RULES};
use crate::analysis::quality::Finding;
use crate::omh::DataType;

/// Findings listed one by one at most (the rest are counted; `findings.csv` or `jhe check
/// --json` has them all).
pub const FINDINGS_LISTED: usize = 300;
/// Observation ids quoted per finding.
const IDS_QUOTED: usize = 8;

/// `v` with `decimals`, or "–" when it cannot be computed.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(v) if v.is_finite() => format!("{v:.decimals$}"),
        _ => "–".into(),
    }
}

/// Thousands separated by a thin space: 12 345.
pub fn count(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// Where the data came from and how it was chosen.
pub fn provenance(
    page: &mut Page,
    input: &ReportInput,
    span: Option<(chrono::NaiveDate, chrono::NaiveDate)>,
) {
    let pv = &input.provenance;
    let asked = match (pv.from, pv.to) {
        (None, None) => "all of each participant's data".to_string(),
        (Some(f), None) => format!("from {f} (UTC days)"),
        (None, Some(t)) => format!("up to {t} (UTC days)"),
        (Some(f), Some(t)) => format!("{f} to {t} (UTC days, inclusive)"),
    };
    let data = match span {
        Some((a, b)) => format!("{a} to {b} (the participants' local dates)"),
        None => "no readings".into(),
    };
    let mut rows = vec![
        ("Study", format!("{} (id {})", pv.study_name, pv.study_id)),
        ("Organization", pv.organization.clone()),
        ("Period asked for", asked),
        ("Data from", data),
        ("Source", pv.source.clone()),
        ("Data fetched", pv.fetched_at.clone()),
    ];
    if let Some(a) = &pv.account {
        rows.push(("Account", a.clone()));
    }
    rows.push((
        "Report made",
        format!("{} by {}", pv.generated_at, pv.generated_by),
    ));
    rows.retain(|(_, v)| !v.trim().is_empty());
    page.facts(&rows);
    for w in &pv.warnings {
        page.warn(w);
    }
}

/// The data-quality section: findings per kind, then one row per finding.
pub fn quality(page: &mut Page, findings: Option<&[Finding]>, only: Option<u64>, study: bool) {
    page.section_start("quality");
    page.h2("Data quality");
    let Some(findings) = findings else {
        page.muted("The data was not checked for quality problems in this report.");
        page.section_end();
        return;
    };
    let mine: Vec<&Finding> = findings
        .iter()
        .filter(|f| only.is_none_or(|id| f.participant_id == id))
        .collect();
    if mine.is_empty() {
        page.p("No problems found: no future or duplicate readings, no implausible values, units and time zones as expected.");
        page.section_end();
        return;
    }
    let kinds = findings_by_kind(findings, only);
    let rows: Vec<Vec<String>> = kinds
        .iter()
        .map(|(k, (n, ids))| {
            let who: BTreeSet<u64> = mine
                .iter()
                .filter(|f| f.kind == *k)
                .map(|f| f.participant_id)
                .collect();
            let mut r = vec![k.describe().to_string(), count(*ids as u64)];
            if study {
                r.push(who.len().to_string());
            }
            r.push(n.to_string());
            r
        })
        .collect();
    let mut head = vec!["What was found", "Observations"];
    if study {
        head.push("Participants");
    }
    head.push("Findings");
    let numeric: Vec<usize> = (1..head.len()).collect();
    page.table(
        "A finding is one kind of problem in one participant's data of one type. Implausible values are left out of every number in this report; the others are counted.",
        &head,
        &rows,
        &numeric,
    );
    let listed: Vec<Vec<String>> = mine
        .iter()
        .take(FINDINGS_LISTED)
        .map(|f| {
            let mut ids: Vec<String> = f
                .observation_ids
                .iter()
                .take(IDS_QUOTED)
                .map(u64::to_string)
                .collect();
            if f.observation_ids.len() > IDS_QUOTED {
                ids.push(format!("… {} in all", f.observation_ids.len()));
            }
            let mut r = Vec::new();
            if study {
                r.push(f.participant_id.to_string());
            }
            r.extend([
                DataType::from_code(&f.code).title(),
                f.kind.as_str().replace('_', " "),
                f.detail.clone(),
                ids.join(", "),
            ]);
            r
        })
        .collect();
    let mut head = Vec::new();
    if study {
        head.push("Participant");
    }
    head.extend(["Type", "Kind", "Detail", "Observation ids"]);
    page.h3("Each finding");
    let caption = if mine.len() > FINDINGS_LISTED {
        format!(
            "The first {FINDINGS_LISTED} of {} findings. All of them are in an export's findings.csv and in `jhe check --json`.",
            mine.len()
        )
    } else {
        String::new()
    };
    page.table(&caption, &head, &listed, &[]);
    page.section_end();
}

/// How the numbers are computed, in the data dictionary's words.
pub fn definitions(page: &mut Page) {
    page.section_start("definitions");
    page.h2("How these numbers are computed");
    page.p(GENERAL_RULES);
    page.p(&plausible_rule());
    page.p("Glucose ranges (international consensus 2019): very low below 54 mg/dL; low 54 to below 70; in range 70 to 180 inclusive; high above 180 to 250; very high above 250. Tight range: 70 to 140. GMI = 3.31 + 0.02392 × mean glucose (mg/dL). GRI (Klonoff 2023) = 3.0 × very low % + 2.4 × low % + 1.6 × very high % + 0.8 × high %, capped at 100; zones A (0–20) to E (above 80). MAGE and MODD as the R package iglu computes them. mmol/L values are converted with 18.0182 mg/dL per mmol/L.");
    page.p("Blood pressure (AHA 2017): normal below 120 and below 80 mmHg; elevated 120–129 and below 80; stage 1 130–139 or 80–89; stage 2 140 or more or 90 or more; crisis above 180 or above 120. The higher of the two values' categories wins. Morning is 04:00–12:00 and evening 18:00–24:00 on the participant's clock.");
    page.section_end();
}
