//! Offline review: an export folder (`manifest.json` + the per-type or long data files the
//! engine wrote), an encrypted export (one `.tar.age` file, opened into memory with its
//! passphrase) or a single CSV / Parquet file, read back into the same shapes the live
//! session serves, without any network ([`open_export`] makes it the state's source).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jhe_engine::audit::{Action, Draft};
use jhe_engine::chart::Obs;
use jhe_engine::export::read::{open_folder, open_sealed_folder, ReadError};
use jhe_engine::export::sealed::is_sealed;
use jhe_engine::export::Passphrase;
use jhe_engine::omh::time::{iso_z, US_PER_DAY};
use jhe_engine::omh::DataType;

use crate::error::{Error, Result};
use crate::ipc::{ConsentState, OfflineReview, PatientRow, Study, StudyOverview};
use crate::session::stop_demo;
use crate::state::{AppState, Source};
use crate::views;

/// Everything read from the files.
#[derive(Debug, Default)]
pub struct OfflineData {
    /// What was opened, as the user would recognise it.
    pub path: String,
    pub overview: StudyOverview,
    /// Patient id → type code → observations.
    pub obs: BTreeMap<u64, BTreeMap<String, Vec<Obs>>>,
    /// Rows that could not be read, over all files.
    pub skipped: u64,
    /// Files changed or missing since the export, in plain sentences.
    pub warnings: Vec<String>,
    /// When the export was made (its manifest's `exported_at`), if it says.
    pub exported_at: Option<String>,
    /// The export's data-quality findings (`findings.csv`), when it has them.
    pub findings: Option<Vec<jhe_engine::analysis::quality::Finding>>,
    /// Set when this is a study's local copy: its server and study (exports are made from it).
    pub copy: Option<(String, u64)>,
}

impl Default for StudyOverview {
    fn default() -> Self {
        StudyOverview {
            study: Study {
                id: 0,
                name: String::new(),
                description: String::new(),
                organization_id: 0,
                organization_name: String::new(),
                patient_count: 0,
            },
            types: Vec::new(),
            patients: Vec::new(),
            synced_at: None,
        }
    }
}

/// The app's error for an export folder that cannot be opened.
fn read_error(e: ReadError) -> Error {
    match e {
        ReadError::NotFound(_) | ReadError::NoData(_) => Error::NotFound(e.to_string()),
        ReadError::NotData(_) | ReadError::OutsideFolder { .. } | ReadError::Sealed { .. } => {
            Error::InvalidInput(e.to_string())
        }
        ReadError::Passphrase(_) => Error::Passphrase(e.to_string()),
        _ => Error::Io(e.to_string()),
    }
}

/// Reads an export folder, an encrypted export (with its passphrase) or a single data file.
pub fn load(path: &Path, passphrase: Option<&str>) -> Result<OfflineData> {
    // manifest.json stands for its folder.
    let path = match path.file_name().and_then(|n| n.to_str()) {
        Some("manifest.json") if path.is_file() => path.parent().unwrap_or(path),
        _ => path,
    };
    let folder = if is_sealed(path) {
        let Some(pass) = passphrase.filter(|p| !p.is_empty()) else {
            return Err(Error::Passphrase(format!(
                "{} is encrypted: enter the passphrase it was exported with.",
                path.display()
            )));
        };
        open_sealed_folder(path, &Passphrase::to_open(pass)).map_err(read_error)?
    } else {
        open_folder(path).map_err(read_error)?
    };
    let mut data = OfflineData {
        path: path.display().to_string(),
        warnings: folder.warnings(),
        ..OfflineData::default()
    };
    for f in &folder.files {
        let read = folder.read(f).map_err(read_error)?;
        data.skipped += read.skipped;
        for o in read.obs {
            data.add(o);
        }
    }
    data.sort();

    // The types present, in the engine's order of views.
    let codes: BTreeSet<(DataType, String)> = data
        .obs
        .values()
        .flat_map(|m| m.keys())
        .map(|c| (DataType::from_code(c), c.clone()))
        .collect();
    let types = codes.iter().map(|(_, c)| views::scope_type(c)).collect();

    // "Days since the last upload" as of the export (or now, for files without a manifest).
    let manifest = &folder.manifest;
    let as_of_us = manifest
        .as_ref()
        .and_then(|m| chrono::DateTime::parse_from_rfc3339(&m.exported_at).ok())
        .map(|t| t.timestamp_micros())
        .unwrap_or_else(|| chrono::Utc::now().timestamp_micros());
    let patients: Vec<PatientRow> = data
        .obs
        .iter()
        .map(|(id, by_code)| {
            let counts = by_code
                .iter()
                .map(|(c, l)| (c.clone(), l.len() as u64))
                .collect();
            let first = by_code
                .values()
                .filter_map(|l| l.first())
                .map(|o| o.t_us)
                .min();
            let last = by_code
                .values()
                .filter_map(|l| l.last())
                .map(|o| o.t_us)
                .max();
            PatientRow {
                id: *id,
                name_given: String::new(),
                name_family: String::new(),
                identifiers: Vec::new(),
                mrn: None,
                // Exports do not carry consent: claim none (neither "consented" nor "not asked").
                consent: codes
                    .iter()
                    .map(|(_, c)| (c.clone(), ConsentState::NotExported))
                    .collect(),
                counts,
                first_date: first.map(iso_z),
                last_date: last.map(iso_z),
                days_since_last_upload: last.map(|l| ((as_of_us - l) / US_PER_DAY).max(0)),
            }
        })
        .collect();

    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| data.path.clone());
    let (study_id, name, description, org) = match manifest {
        Some(m) => {
            let day = m
                .exported_at
                .get(..10)
                .unwrap_or(&m.exported_at)
                .to_string();
            (
                m.study_id.unwrap_or_default(),
                match m.study_id {
                    Some(id) => format!("Study {id} (exported {day})"),
                    None => format!("Export of {day}"),
                },
                format!(
                    "Exported on {day}: {} data file(s), {} observations",
                    folder.files.len(),
                    m.total_observations
                ),
                m.server.clone(),
            )
        }
        None => (
            0,
            file_name.clone(),
            format!("Data read from {}.", data.path),
            String::from("Files on this computer"),
        ),
    };
    data.exported_at = manifest.as_ref().map(|m| m.exported_at.clone());
    // The export's quality findings, for a report made offline (a broken findings.csv is only
    // a missing section, not a failure to open the data).
    data.findings = folder
        .findings()
        .map_err(|e| tracing::warn!("findings.csv: {e}"))
        .ok()
        .flatten();
    data.overview = StudyOverview {
        study: Study {
            id: study_id,
            name,
            description,
            organization_id: 0,
            organization_name: org,
            patient_count: patients.len() as u64,
        },
        types,
        patients,
        synced_at: None,
    };
    Ok(data)
}

impl OfflineData {
    /// Files `o` under its participant and type (sorted later, by [`OfflineData::sort`]).
    pub(crate) fn add(&mut self, o: Obs) {
        self.obs
            .entry(o.patient_id)
            .or_default()
            .entry(o.code.clone())
            .or_default()
            .push(o);
    }

    /// Puts each participant's observations of a type in time order.
    pub(crate) fn sort(&mut self) {
        for by_code in self.obs.values_mut() {
            for list in by_code.values_mut() {
                list.sort_by_key(|o| (o.t_us, o.observation_id));
            }
        }
    }

    /// The observations of one patient and type (empty when there are none).
    pub fn of(&self, patient_id: u64, code: &str) -> &[Obs] {
        self.obs
            .get(&patient_id)
            .and_then(|m| m.get(code))
            .map(Vec::as_slice)
            .unwrap_or(&[])
    }
}

/// Opens an export folder or file for review: later overview, participant and rows calls read
/// the files; the session (and the demo exchange) ends. An encrypted export needs
/// `passphrase`: without it (or with a wrong one) the error's kind is `passphrase`, and
/// nothing changes.
pub async fn open_export(
    state: &AppState,
    path: &str,
    passphrase: Option<String>,
) -> Result<OfflineReview> {
    let p = PathBuf::from(path.trim());
    state.check_granted(&p)?;
    let data = tokio::task::spawn_blocking(move || load(&p, passphrase.as_deref())).await??;
    let mut entry = open_entry(state, &data).written_to(Path::new(&data.path));
    entry.study = (data.overview.study.id != 0).then_some(data.overview.study.id);
    Ok(start_review(state, data, entry).await)
}

/// The audit entry of opening `data` offline: its participants, types and observations.
pub(crate) fn open_entry(state: &AppState, data: &OfflineData) -> Draft {
    Draft::new(Action::OfflineOpen, crate::audit::client(state))
        .participants(data.obs.keys().copied())
        .types(data.overview.types.iter().map(|t| t.code.clone()))
        .rows(
            data.obs
                .values()
                .flat_map(|by_code| by_code.values())
                .map(|l| l.len() as u64)
                .sum(),
        )
}

/// Makes `data` the state's source (the session and the demo exchange end), recording `entry`.
pub(crate) async fn start_review(
    state: &AppState,
    data: OfflineData,
    entry: Draft,
) -> OfflineReview {
    let review = OfflineReview {
        path: data.path.clone(),
        overview: data.overview.clone(),
        warnings: data.warnings.clone(),
    };
    crate::audit::record(state, entry);
    state.clear();
    stop_demo(state).await;
    *state.source.lock() = Some(Source::Offline(Arc::new(data)));
    review
}
