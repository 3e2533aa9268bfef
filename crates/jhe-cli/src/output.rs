//! Plain tables for people, JSON for scripts.

use jhe_engine::api::types::{ConsentState, Organization, Patient, Study};
use jhe_engine::error::Error;
use jhe_engine::jobs::StudySummary;
use serde::Serialize;

pub fn print_json<T: Serialize + ?Sized>(v: &T) {
    match serde_json::to_string_pretty(v) {
        Ok(s) => println!("{s}"),
        Err(e) => eprintln!("error: could not write JSON: {e}"),
    }
}

/// What to do next in the CLI's own terms, after the engine's (front-end neutral) message.
pub fn cli_hint(e: &Error) -> Option<&'static str> {
    match e {
        Error::NotSignedIn { .. } => {
            Some("Sign in with `jhe login`, or set JHE_API_KEY to your practitioner API key.")
        }
        Error::Keychain { .. } => Some(
            "Or pass the API key in JHE_API_KEY instead (nothing is read from the keychain then).",
        ),
        _ => None,
    }
}

/// `error: <message>` plus the CLI's hint, as printed on stderr.
pub fn error_text(e: &Error) -> String {
    match cli_hint(e) {
        Some(h) => format!("error: {e} {h}"),
        None => format!("error: {e}"),
    }
}

/// Prints rows as aligned columns.
fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in &rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let s = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths.get(i).copied().unwrap_or(0)))
            .collect::<Vec<_>>()
            .join("  ");
        println!("{}", s.trim_end());
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(r);
    }
}

fn opt(s: &Option<String>) -> String {
    s.clone().unwrap_or_else(|| "-".into())
}

pub fn orgs_table(orgs: &[Organization]) {
    if orgs.is_empty() {
        println!("You are not a member of any organization on this server.");
        return;
    }
    table(
        &["ID", "NAME", "TYPE", "YOUR ROLE"],
        orgs.iter()
            .map(|o| {
                vec![
                    o.id.to_string(),
                    o.name.clone(),
                    opt(&o.kind),
                    opt(&o.current_user_role),
                ]
            })
            .collect(),
    );
}

pub fn studies_table(studies: &[Study]) {
    if studies.is_empty() {
        println!("No studies: your organizations have none, or you are not a member of any organization.");
        return;
    }
    table(
        &["ID", "NAME", "ORGANIZATION"],
        studies
            .iter()
            .map(|s| {
                vec![
                    s.id.to_string(),
                    s.name.clone(),
                    s.organization
                        .name
                        .clone()
                        .unwrap_or_else(|| s.organization.id.to_string()),
                ]
            })
            .collect(),
    );
}

pub fn patients_table(patients: &[Patient]) {
    if patients.is_empty() {
        println!("This study has no participants you can see.");
        return;
    }
    table(
        &["ID", "NAME", "BIRTH DATE", "EMAIL", "IDENTIFIERS"],
        patients
            .iter()
            .map(|p| {
                vec![
                    p.id.to_string(),
                    p.display_name(),
                    opt(&p.birth_date),
                    opt(&p.telecom_email),
                    p.identifiers
                        .iter()
                        .filter_map(|i| i.value.clone())
                        .collect::<Vec<_>>()
                        .join(","),
                ]
            })
            .collect(),
    );
}

fn day(s: &Option<String>) -> String {
    s.as_deref()
        .map(|d| d.chars().take(10).collect())
        .unwrap_or_else(|| "-".into())
}

pub fn summary_table(sum: &StudySummary) {
    println!(
        "Study {} \"{}\": {} participants",
        sum.study.id,
        sum.study.name,
        sum.patients.len()
    );
    let names: Vec<String> = sum
        .scopes
        .iter()
        .map(|s| {
            s.coding_code
                .split(':')
                .nth(1)
                .unwrap_or(&s.coding_code)
                .to_string()
        })
        .collect();
    let mut header: Vec<&str> = vec!["ID", "NAME"];
    header.extend(names.iter().map(String::as_str));
    header.extend(["TOTAL", "FIRST", "LAST", "DAYS SINCE UPLOAD"]);
    let rows = sum
        .patients
        .iter()
        .map(|p| {
            let mut r = vec![p.patient.id.to_string(), p.patient.display_name()];
            for s in &sum.scopes {
                let n = p.counts.get(&s.coding_code).copied().unwrap_or(0);
                let mark = match p.consents.get(&s.coding_code) {
                    Some(ConsentState::Consented) => "",
                    Some(ConsentState::Declined) => " (declined)",
                    Some(ConsentState::Pending) => " (pending)",
                    Some(ConsentState::NotVisible) => " (consent not visible)",
                    Some(ConsentState::Unknown) | None => " (?)",
                };
                r.push(format!("{n}{mark}"));
            }
            r.push(p.total.to_string());
            r.push(day(&p.first_date));
            r.push(day(&p.last_date));
            r.push(
                p.days_since_last_upload
                    .map(|d| d.to_string())
                    .unwrap_or_else(|| "-".into()),
            );
            r
        })
        .collect();
    table(&header, rows);
    println!("Counts per type; consent shown when not given: (declined), (pending), (?) unknown.");
}

/// `jhe metrics`: a CGM table and a blood-pressure table, one row per participant.
pub fn metrics_tables(m: &jhe_engine::jobs::StudyMetrics) {
    let period = match (m.from, m.to) {
        (None, None) => "all of each participant's data".to_string(),
        (f, t) => format!(
            "{} to {} (UTC days)",
            f.map_or("the start".into(), |d| d.to_string()),
            t.map_or("today".into(), |d| d.to_string())
        ),
    };
    println!(
        "Study {}: {} participants, {period}",
        m.study_id,
        m.participants.len()
    );
    let f = |v: Option<f64>, d: usize| v.map_or("-".to_string(), |v| format!("{v:.d$}"));
    let cgm: Vec<Vec<String>> = m
        .participants
        .iter()
        .filter_map(|p| {
            let c = p.cgm.as_ref()?;
            Some(vec![
                c.participant_id.clone(),
                c.n_readings.to_string(),
                f(c.mean_mg_dl, 0),
                f(c.gmi_percent, 1),
                f(c.cv_percent, 1),
                f(c.very_low_percent, 1),
                f(c.low_percent, 1),
                f(c.in_range_percent, 1),
                f(c.high_percent, 1),
                f(c.very_high_percent, 1),
                c.gri
                    .zip(c.gri_zone)
                    .map_or("-".into(), |(g, z)| format!("{g:.0} {}", z.as_str())),
                f(c.active_percent, 0),
                f(c.mage_mg_dl, 1),
                f(c.modd_mg_dl, 1),
            ])
        })
        .collect();
    if !cgm.is_empty() {
        println!("\nCGM (mg/dL; % of readings: very low < 54, low 54–69, in range 70–180, high 181–250, very high > 250)");
        table(
            &[
                "ID", "N", "MEAN", "GMI %", "CV %", "V.LOW", "LOW", "IN RANGE", "HIGH", "V.HIGH",
                "GRI", "ACTIVE %", "MAGE", "MODD",
            ],
            cgm,
        );
    }
    let bp: Vec<Vec<String>> = m
        .participants
        .iter()
        .filter_map(|p| {
            let b = p.blood_pressure.as_ref()?;
            Some(vec![
                b.participant_id.clone(),
                b.n_readings.to_string(),
                b.mean_systolic
                    .zip(b.mean_diastolic)
                    .map_or("-".into(), |(s, d)| format!("{s:.0}/{d:.0}")),
                b.category_of_mean.map_or("-", |c| c.as_str()).to_string(),
                f(b.at_goal_percent, 0),
            ])
        })
        .collect();
    if !bp.is_empty() {
        println!("\nBlood pressure (mmHg; AHA 2017 category of the mean; at goal: below 130/80)");
        table(&["ID", "N", "MEAN", "CATEGORY", "AT GOAL %"], bp);
    }
    let left_out: u64 = m
        .participants
        .iter()
        .flat_map(|p| p.implausible.values())
        .sum();
    if left_out > 0 {
        println!("\n{left_out} implausible reading(s) left out (jhe check lists them).");
    }
    println!("All metrics and their definitions: jhe metrics … --json, and the data dictionary.");
}

/// `jhe check`: one line per finding (participant, type, kind, how many, what).
pub fn quality_table(r: &jhe_engine::jobs::QualityReport) {
    println!(
        "Study {}: {} participants, {} observations checked, {} finding(s){}",
        r.study_id,
        r.participants,
        r.observations,
        r.findings.len(),
        if r.unreadable > 0 {
            format!(", {} observation(s) unreadable", r.unreadable)
        } else {
            String::new()
        }
    );
    if r.findings.is_empty() {
        return;
    }
    let rows = r
        .findings
        .iter()
        .map(|f| {
            vec![
                f.participant_id.to_string(),
                f.code.clone(),
                f.kind.as_str().to_string(),
                f.observation_ids.len().to_string(),
                f.detail.clone(),
            ]
        })
        .collect();
    table(&["PARTICIPANT", "TYPE", "KIND", "N", "WHAT"], rows);
    println!("Observation ids: jhe check … --json (findings[].observation_ids).");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_adds_its_own_sign_in_hints_to_the_engines_messages() {
        let e = Error::NotSignedIn {
            server: "https://jhe.example.org".into(),
        };
        assert!(!e.to_string().contains("jhe login"), "{e}");
        let text = error_text(&e);
        assert!(text.starts_with("error: You are not signed in"), "{text}");
        assert!(
            text.contains("`jhe login`") && text.contains("JHE_API_KEY"),
            "{text}"
        );
        let e = Error::Keychain {
            detail: "locked".into(),
        };
        assert!(!e.to_string().contains("JHE_API_KEY"), "{e}");
        assert!(error_text(&e).contains("JHE_API_KEY"));
        assert_eq!(
            error_text(&Error::Cancelled),
            format!("error: {}", Error::Cancelled)
        );
    }
}
