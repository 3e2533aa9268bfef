//! `participants.csv`: one row per participant of a study export, to join the data files
//! against — the participant's id, the identifiers the user chose to include, the consent per
//! requested type, when they first consented, and how many observations of each type the export
//! holds with the first and last time of data. The data columns are counted from the export's
//! own data files as read back ([`super::read`]), so the file agrees with the files beside it.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use super::manifest::csv_row;
use super::{Export, ExportError, Format, StagedWithDict};
use crate::chart::Obs;
use crate::frame::names::PATIENT_ID;
use crate::frame::DictEntry;
use crate::omh::DataType;

/// What the export knows of a participant besides their data.
#[derive(Clone, Debug, PartialEq)]
pub struct Participant {
    pub patient_id: u64,
    /// `(system, value)` of the identifiers chosen for the file.
    pub identifiers: Vec<(String, String)>,
    /// `(coding code, state)` per requested type; the state as the file writes it:
    /// `consented`, `declined`, `pending`, `not_visible` or `unknown`.
    pub consents: Vec<(String, String)>,
    /// The earliest `consentedTime` of the participant's answers for this study (RFC 3339).
    pub first_consent_utc: Option<String>,
}

impl Export {
    /// Sets who `participants.csv` lists (the study's participants in the export, in order)
    /// and the requested types (`codes`, in column order); without it, `finish` writes no
    /// `participants.csv`.
    pub fn set_participants(&mut self, people: Vec<Participant>, codes: Vec<String>) {
        self.participants = Some((people, codes));
    }

    /// Writes `participants.csv` into `final_tmp` (its data columns from `obs`, the export's
    /// data as read back); returns it with its dictionary entries.
    pub(super) fn stage_participants(
        &mut self,
        final_tmp: &Path,
        obs: &[Obs],
    ) -> Result<Option<StagedWithDict>, ExportError> {
        let Some((people, codes)) = self.participants.take() else {
            return Ok(None);
        };
        let people = match &self.spec.deidentify {
            Some(d) => d.participants(people),
            None => people,
        };
        let spans = spans(obs, chrono::Utc::now().timestamp_micros());
        let (rows, dict) = table(&people, &codes, &spans, self.spec.format);
        let mut csv = String::new();
        for r in &rows {
            csv_row(&mut csv, &r.iter().map(String::as_str).collect::<Vec<_>>());
        }
        let staged = self.stage_text(
            final_tmp,
            "participants.csv",
            "participants",
            &csv,
            people.len() as u64,
        )?;
        Ok(Some((staged, dict)))
    }
}

/// Per participant: observations per table, first and last time of data (UTC µs).
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct DataSpan {
    pub per_table: BTreeMap<String, u64>,
    pub first_us: Option<i64>,
    pub last_us: Option<i64>,
}

/// Counts each participant's observations per table and their first and last time of data
/// in `obs` (the export's data files as read back), leaving out times after `now_us` (a wrong
/// device clock) from the last.
pub(super) fn spans(obs: &[Obs], now_us: i64) -> HashMap<u64, DataSpan> {
    let mut out: HashMap<u64, DataSpan> = HashMap::new();
    for o in obs {
        let span = out.entry(o.patient_id).or_default();
        *span
            .per_table
            .entry(DataType::from_code(&o.code).name())
            .or_default() += 1;
        let t = o.t_us;
        span.first_us = Some(span.first_us.map_or(t, |f| f.min(t)));
        if t <= now_us {
            span.last_us = Some(span.last_us.map_or(t, |l| l.max(t)));
        }
    }
    out
}

/// A column-name part from an identifier system: `mrn`, `email`, or the system's last path
/// segment in lower case with anything but letters and digits as `_`.
fn system_slug(system: &str) -> String {
    let s = system.to_ascii_lowercase();
    if s.contains("mrn") {
        return "mrn".into();
    }
    if s.contains("mail") {
        return "email".into();
    }
    let last = s
        .trim_end_matches(['/', '#'])
        .rsplit(['/', '#', ':'])
        .next()
        .unwrap_or("");
    let slug: String = last
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    let slug = slug.trim_matches('_').to_string();
    if slug.is_empty() || slug.len() > 32 {
        "id".into()
    } else {
        slug
    }
}

/// The identifier columns: (column name, system), one per system in first-seen order, names
/// made unique with `_2`, `_3`, …
fn identifier_columns(people: &[Participant]) -> Vec<(String, String)> {
    let mut cols: Vec<(String, String)> = Vec::new();
    for p in people {
        for (system, _) in &p.identifiers {
            if cols.iter().any(|(_, s)| s == system) {
                continue;
            }
            let base = format!("identifier_{}", system_slug(system));
            let mut name = base.clone();
            let mut k = 2;
            while cols.iter().any(|(n, _)| *n == name) {
                name = format!("{base}_{k}");
                k += 1;
            }
            cols.push((name, system.clone()));
        }
    }
    cols
}

/// The file's text (without a byte-order mark) and its dictionary entries. `codes` are the
/// requested types in column order.
pub(super) fn table(
    people: &[Participant],
    codes: &[String],
    spans: &HashMap<u64, DataSpan>,
    format: Format,
) -> (Vec<Vec<String>>, Vec<DictEntry>) {
    let id_cols = identifier_columns(people);
    let type_tables: Vec<(String, String)> = codes
        .iter()
        .map(|c| (c.clone(), DataType::from_code(c).name()))
        .collect();
    let time_text = |us: Option<i64>| -> String {
        let Some(t) = us.and_then(chrono::DateTime::from_timestamp_micros) else {
            return String::new();
        };
        match format {
            Format::ExcelCsv => t.format("%Y-%m-%d %H:%M:%S").to_string(),
            _ => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        }
    };
    let entry = |column: &str, dtype: &str, unit: &str, description: String| DictEntry {
        table: "participants".into(),
        column: column.into(),
        dtype: dtype.into(),
        unit: unit.into(),
        description,
    };
    let mut dict = vec![entry(
        PATIENT_ID,
        "int64",
        "",
        "JHE patient id, as patient_id in the data files.".into(),
    )];
    for (name, system) in &id_cols {
        dict.push(entry(
            name,
            "string",
            "",
            format!("The participant's identifier of system {system}, if they have one."),
        ));
    }
    dict.push(entry(
        "first_consent_utc",
        "datetime (UTC)",
        "UTC",
        "When the participant first answered a consent request of this study (the earliest \
         consentedTime; JHE records no enrolment date). Empty when none is on record or the \
         consents are not visible to the exporting account."
            .into(),
    ));
    for (code, t) in &type_tables {
        dict.push(entry(
            &format!("consent_{t}"),
            "string",
            "",
            format!(
                "Consent to share {code} with the study when exported: consented, declined, \
                 pending (asked, not answered), not_visible (the exporting account may not see \
                 this participant's consents) or unknown (no record)."
            ),
        ));
    }
    for (code, t) in &type_tables {
        dict.push(entry(
            &format!("observations_{t}"),
            "int64",
            "",
            format!("Observations of {code} in this export (after its filters)."),
        ));
    }
    dict.push(entry(
        "observations_total",
        "int64",
        "",
        "Observations of every type in this export, including types the study did not request."
            .into(),
    ));
    dict.push(entry(
        "first_data_utc",
        "datetime (UTC)",
        "UTC",
        "The earliest time of data (time_utc or start_utc) in this export.".into(),
    ));
    dict.push(entry(
        "last_data_utc",
        "datetime (UTC)",
        "UTC",
        "The latest time of data in this export that is not after the export's time (readings \
         dated in the future, from a wrong device clock, are not counted here)."
            .into(),
    ));

    let header: Vec<String> = dict.iter().map(|e| e.column.clone()).collect();
    let mut rows = vec![header];
    for p in people {
        let span = spans.get(&p.patient_id).cloned().unwrap_or_default();
        let mut r = vec![p.patient_id.to_string()];
        for (_, system) in &id_cols {
            r.push(
                p.identifiers
                    .iter()
                    .find(|(s, _)| s == system)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default(),
            );
        }
        let first_consent = p
            .first_consent_utc
            .as_deref()
            .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok())
            .map(|t| t.timestamp_micros());
        r.push(time_text(first_consent));
        for (code, _) in &type_tables {
            r.push(
                p.consents
                    .iter()
                    .find(|(c, _)| c == code)
                    .map_or("unknown".to_string(), |(_, s)| s.clone()),
            );
        }
        for (_, t) in &type_tables {
            r.push(span.per_table.get(t).copied().unwrap_or(0).to_string());
        }
        r.push(span.per_table.values().sum::<u64>().to_string());
        r.push(time_text(span.first_us));
        r.push(time_text(span.last_us));
        rows.push(r);
    }
    (rows, dict)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: u64, ids: &[(&str, &str)]) -> Participant {
        Participant {
            patient_id: id,
            identifiers: ids
                .iter()
                .map(|(s, v)| (s.to_string(), v.to_string()))
                .collect(),
            consents: vec![("omh:blood-glucose:4.0".into(), "consented".into())],
            first_consent_utc: Some("2026-11-01T09:30:00+00:00".into()),
        }
    }

    #[test]
    fn identifier_systems_get_a_column_each_named_by_what_they_are() {
        let people = [
            person(1, &[("http://hospital.example.org/mrn", "M-1")]),
            person(
                2,
                &[
                    ("urn:study:email", "a@example.org"),
                    ("https://example.org/ids/Study-ID", "S-2"),
                    ("https://other.example.org/study-id", "S-9"),
                ],
            ),
        ];
        let cols: Vec<String> = identifier_columns(&people)
            .into_iter()
            .map(|(n, _)| n)
            .collect();
        assert_eq!(
            cols,
            [
                "identifier_mrn",
                "identifier_email",
                "identifier_study_id",
                "identifier_study_id_2"
            ]
        );
    }

    #[test]
    fn a_participant_without_data_has_zero_counts_and_empty_times() {
        let people = [person(7, &[("http://hospital.example.org/mrn", "M-7")])];
        let mut spans = HashMap::new();
        spans.insert(
            8,
            DataSpan {
                per_table: [("blood_glucose".to_string(), 3)].into(),
                first_us: Some(0),
                last_us: Some(60_000_000),
            },
        );
        let codes = ["omh:blood-glucose:4.0".to_string()];
        let (rows, dict) = table(&people, &codes, &spans, Format::ExcelCsv);
        assert_eq!(rows[0].len(), dict.len());
        assert_eq!(
            rows[0],
            [
                "patient_id",
                "identifier_mrn",
                "first_consent_utc",
                "consent_blood_glucose",
                "observations_blood_glucose",
                "observations_total",
                "first_data_utc",
                "last_data_utc"
            ]
        );
        assert_eq!(
            rows[1],
            [
                "7",
                "M-7",
                "2026-11-01 09:30:00",
                "consented",
                "0",
                "0",
                "",
                ""
            ]
        );
    }
}
