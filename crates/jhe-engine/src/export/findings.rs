//! `findings.csv`: what the data-quality check ([`crate::analysis::quality`]) found in the
//! exported units, one row per flagged observation and finding, and whether the export left
//! the observation out ([`super::Flagged`]).

use std::path::{Path, PathBuf};

use super::manifest::{csv_row, ManifestFile};
use super::state::UnitRecord;
use super::{Export, ExportError, Flagged, StagedWithDict};
use crate::analysis::quality::{Finding, FindingKind, WRONG_KINDS};
use crate::frame::DictEntry;

/// The file name.
pub const FINDINGS_FILE: &str = "findings.csv";
const TABLE: &str = "findings";

/// Every unit's findings, in unit order.
pub(super) fn all_findings(units: &[UnitRecord]) -> Vec<&Finding> {
    units.iter().flat_map(|r| &r.report.findings).collect()
}

/// Flagged observations per kind (an observation with two kinds counts under both).
pub(super) fn count_by_kind(findings: &[&Finding]) -> std::collections::BTreeMap<FindingKind, u64> {
    let mut out = std::collections::BTreeMap::new();
    for f in findings {
        *out.entry(f.kind).or_default() += f.observation_ids.len() as u64;
    }
    out
}

const COLUMNS: [(&str, &str, &str); 6] = [
    ("participant_id", "int64", "JHE patient id."),
    ("code", "string", "The observation's coding code (its data type)."),
    (
        "observation_id",
        "int64",
        "JHE observation id of the flagged observation (0 if it could not be read); join on observation_id of the data files.",
    ),
    (
        "kind",
        "string",
        "What the check found (one row per observation and kind): future_time (effective time more than 5 minutes after the server received it or after the export, 14 h more for a time without an offset), no_offset (date-time without a UTC offset, read as UTC), duplicate_uuid (the same OMH header.uuid as an earlier observation of the participant and type, lower id: the same reading sent again; the first is not flagged), duplicate_id (the same id sent twice), unit_variant (a unit spelt unlike the OMH schemas, e.g. MGDL; converted anyway), converted_unit (another valid unit, converted; informational), unknown_unit (a unit that cannot be converted; value left empty), not_asked_for (sent although not asked for; never written, see problems.csv), implausible (outside the type's plausible range, see the metric columns' descriptions), outlier (more than 3 sample SDs from the participant's mean for the type, at least 10 plausible readings; statistical, not necessarily wrong).",
    ),
    (
        "left_out",
        "bool",
        "true if this observation is not in the data files because the export was asked to leave out observations the check finds wrong (kinds implausible, future_time and duplicate_uuid; manifest.json's flagged says which was chosen). Observations the export found unreadable or not asked for are never in the data files and are listed in problems.csv.",
    ),
    (
        "detail",
        "string",
        "The finding in words, for the participant and type (the same for each of its observations): how many, and the values, units or times where that helps.",
    ),
];

impl Export {
    /// Writes `findings.csv` into `final_tmp`: one row per (finding, observation), in unit
    /// order; with its dictionary entries.
    pub(super) fn stage_findings(
        &mut self,
        final_tmp: &Path,
        findings: &[&Finding],
    ) -> Result<StagedWithDict, ExportError> {
        let leave_out = self.spec.flagged == Flagged::LeaveOut;
        let mut csv = COLUMNS.map(|c| c.0).join(",");
        csv.push('\n');
        let mut rows = 0u64;
        for f in findings {
            let left_out = leave_out && WRONG_KINDS.contains(&f.kind);
            let (pid, kind) = (f.participant_id.to_string(), f.kind.as_str());
            for id in &f.observation_ids {
                let id = id.to_string();
                let out = if left_out { "true" } else { "false" };
                csv_row(&mut csv, &[&pid, &f.code, &id, kind, out, &f.detail]);
                rows += 1;
            }
        }
        let staged: (PathBuf, ManifestFile) =
            self.stage_text(final_tmp, FINDINGS_FILE, TABLE, &csv, rows)?;
        let dict = COLUMNS
            .iter()
            .map(|(column, dtype, description)| DictEntry {
                table: TABLE.into(),
                column: (*column).into(),
                dtype: (*dtype).into(),
                unit: String::new(),
                description: (*description).into(),
            })
            .collect();
        Ok((staged, dict))
    }
}
