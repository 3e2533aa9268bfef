//! Resume state of an unfinished export in `.jhe-partial`: the spec's fingerprint
//! (`state.json`), the journal of committed units (`units.jsonl`) and the part records.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::Write;

use polars::prelude::*;
use serde::{Deserialize, Serialize};

use super::{io_err, Export, ExportError, ExportSpec, Format, Layout, UnitReport};
use crate::omh;

/// Version of the part files and unit records; a change discards unfinished exports.
const PART_FORMAT: u32 = 2;
/// The journal of committed units (one JSON [`UnitRecord`] per line; a later line for the
/// same unit replaces the earlier one).
pub(super) const JOURNAL: &str = "units.jsonl";

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Fingerprint {
    part_format: u32,
    engine_version: String,
    format: Format,
    layout: Layout,
    server: String,
    study_id: Option<u64>,
    patient_ids: Vec<u64>,
    codes: Vec<String>,
    date_from: Option<String>,
    date_to: Option<String>,
    /// De-identified: the shift mode and a keyed check of the key (never the key), so a
    /// resumed export never mixes plain and de-identified units or two keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    deidentified: Option<(super::ShiftMode, String)>,
}

impl Fingerprint {
    pub(super) fn of(spec: &ExportSpec) -> Fingerprint {
        let mut patient_ids = spec.patient_ids.clone();
        patient_ids.sort_unstable();
        patient_ids.dedup();
        let mut codes = spec.codes.clone();
        codes.sort();
        codes.dedup();
        Fingerprint {
            part_format: PART_FORMAT,
            engine_version: env!("CARGO_PKG_VERSION").to_string(),
            format: spec.format,
            layout: spec.layout,
            server: spec.server.trim_end_matches('/').to_string(),
            study_id: spec.study_id,
            patient_ids,
            codes,
            date_from: spec.date_from.clone(),
            date_to: spec.date_to.clone(),
            deidentified: spec.deidentify.as_ref().map(|d| (d.shift, d.key_check())),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct StateFile {
    pub(super) fingerprint: Fingerprint,
    pub(super) created_at: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct PartRecord {
    pub(super) table: String,
    /// `DataType` of the table (`None` for the long table).
    pub(super) view: Option<omh::DataType>,
    pub(super) file: String,
    pub(super) rows: u64,
    pub(super) observations: u64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct UnitRecord {
    pub(super) unit: String,
    pub(super) generation: u64,
    pub(super) parts: Vec<PartRecord>,
    pub(super) report: UnitReport,
    #[serde(default)]
    pub(super) resumed: bool,
}

impl Export {
    /// Loads the unit records of an earlier run, drops unreadable ones and orphan parts, and
    /// rebuilds the set of observation ids already written.
    pub(super) fn load_units(&mut self) -> Result<(), ExportError> {
        let path = self.dir.join(JOURNAL);
        let text = fs::read(&path).map_err(io_err("read", &path))?;
        // A crash can leave a torn last line: end it, so the next record starts a line of its own.
        if let Some(journal) = self
            .journal
            .as_mut()
            .filter(|_| text.last().is_some_and(|&b| b != b'\n'))
        {
            journal.write_all(b"\n").map_err(io_err("write", &path))?;
        }
        for line in text.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            match serde_json::from_slice::<UnitRecord>(line) {
                Ok(mut r)
                    if r.parts
                        .iter()
                        .all(|p| self.parts_dir.join(&p.file).is_file()) =>
                {
                    r.resumed = true;
                    self.units.insert(r.unit.clone(), r);
                }
                Ok(r) => {
                    tracing::warn!("unit {} lost a part file; it will be fetched again", r.unit);
                    self.units.remove(&r.unit);
                }
                Err(_) => tracing::warn!("skipping an unreadable line of the export journal"),
            }
        }
        let referenced: HashSet<&str> = self
            .units
            .values()
            .flat_map(|r| r.parts.iter().map(|p| p.file.as_str()))
            .collect();
        if let Ok(rd) = fs::read_dir(&self.parts_dir) {
            for e in rd.flatten() {
                let name = e.file_name();
                if !referenced.contains(name.to_string_lossy().as_ref()) {
                    let _ = fs::remove_file(e.path());
                }
            }
        }
        let mut seen = HashMap::new();
        let units: Vec<(String, Vec<PartRecord>)> = self
            .units
            .values()
            .map(|r| (r.unit.clone(), r.parts.clone()))
            .collect();
        for (unit, parts) in units {
            let idx = self.intern(&unit);
            for p in &parts {
                let path = self.parts_dir.join(&p.file);
                let f = File::open(&path).map_err(io_err("open", &path))?;
                let df = ParquetReader::new(f)
                    .with_columns(Some(vec!["observation_id".to_string()]))
                    .finish()?;
                let ids = df.column("observation_id")?.i64()?;
                for id in ids.iter().flatten() {
                    seen.insert(id as u64, idx);
                }
            }
        }
        self.seen = seen;
        Ok(())
    }

    /// Appends `record` to the journal and syncs it: the commit point of a unit.
    pub(super) fn append_journal(&mut self, record: &UnitRecord) -> Result<(), ExportError> {
        let path = self.dir.join(JOURNAL);
        let mut line = serde_json::to_vec(record).map_err(|source| ExportError::Encode {
            path: path.clone(),
            source,
        })?;
        line.push(b'\n');
        let Some(journal) = self.journal.as_mut() else {
            // in memory: nothing to resume, so no journal
            return Ok(());
        };
        journal
            .write_all(&line)
            .and_then(|()| journal.sync_data())
            .map_err(io_err("write", &path))
    }
}
