//! `manifest.json`, the data dictionary (`data_dictionary.csv`, `data_dictionary.md`) and
//! `problems.csv` of a finished export.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::merge::TableParts;
use super::state::UnitRecord;
use super::{io_err, Export, ExportError, Flagged, Format, Layout};
use crate::frame::DictEntry;
use crate::omh::Problem;

/// Version of `manifest.json`'s layout.
pub const MANIFEST_VERSION: u32 = 1;
const MANIFEST_PROBLEMS_MAX: usize = 1000;

/// One file of the export, as listed in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFile {
    /// File name inside the export folder.
    pub name: String,
    /// `data`, `dictionary`, `problems`, `findings`, `metrics` or `participants`.
    pub role: String,
    /// The table a data file holds.
    pub table: Option<String>,
    pub format: String,
    /// Data rows (without the CSV header).
    pub rows: u64,
    /// Distinct observations in a data file.
    pub observations: u64,
    pub bytes: u64,
    /// SHA-256 of the file, lowercase hex.
    pub sha256: String,
}

/// Per-unit counts in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestUnit {
    pub unit: String,
    pub server_total: Option<u64>,
    pub fetched: u64,
    pub written: u64,
    pub duplicates_dropped: u64,
    /// Rows the server sent that the search did not ask for, left out (listed in
    /// `problems.csv`); a unit with any is suspect.
    #[serde(default)]
    pub foreign_dropped: u64,
    #[serde(default)]
    pub suspect: bool,
    pub problems: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestFilters {
    pub patient_ids: Vec<u64>,
    pub codes: Vec<String>,
    pub date_from: Option<String>,
    pub date_to: Option<String>,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub manifest_version: u32,
    pub generator: String,
    pub app_version: String,
    pub engine_version: String,
    /// When `finish` ran, UTC, RFC 3339.
    pub exported_at: String,
    pub server: String,
    pub study_id: Option<u64>,
    pub filters: ManifestFilters,
    pub format: Format,
    pub layout: Layout,
    /// Every file written (except this manifest), with its SHA-256.
    pub files: Vec<ManifestFile>,
    /// Rows per table.
    pub table_rows: BTreeMap<String, u64>,
    /// Data rows over all tables.
    pub total_rows: u64,
    /// Observations written.
    pub total_observations: u64,
    /// Observations fetched (before de-duplication).
    pub total_fetched: u64,
    pub duplicates_dropped: u64,
    /// Rows the server sent that were not asked for (another participant, type, or dated
    /// outside the filters), left out of every file.
    #[serde(default)]
    pub foreign_rows_dropped: u64,
    pub problems_count: u64,
    /// The first problems (all are in `problems.csv`).
    pub problems: Vec<Problem>,
    pub problems_truncated: bool,
    /// Sum of the server's per-unit totals, over the units that had one.
    pub server_total: Option<u64>,
    /// Units whose server total differs from the number of distinct observations fetched.
    pub server_total_mismatches: Vec<ManifestUnit>,
    pub units: Vec<ManifestUnit>,
    /// Units that came from an interrupted earlier run.
    pub resumed_units: u64,
    /// Whether observations the data-quality check finds wrong were kept or left out.
    #[serde(default)]
    pub flagged: Flagged,
    /// Observations left out for that (0 when kept); `findings.csv` lists them.
    #[serde(default)]
    pub flagged_left_out: u64,
    /// Flagged observations per finding kind (`findings.csv` has one row each).
    #[serde(default)]
    pub findings: BTreeMap<String, u64>,
    /// What de-identification did, for a de-identified export ([`super::Deidentify`]): how
    /// the pseudonyms are made, how the dates were shifted, what was dropped; never the key or
    /// a shift.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deidentified: Option<super::Deidentified>,
}

/// Every unit's problems, with the unit they came in, in unit order.
pub(super) fn all_problems(units: &[UnitRecord]) -> Vec<(String, Problem)> {
    units
        .iter()
        .flat_map(|r| {
            r.report
                .problems
                .iter()
                .chain(&r.report.foreign)
                .map(|p| (r.unit.clone(), p.clone()))
        })
        .collect()
}

impl Export {
    /// Writes `problems.csv` into `final_tmp`.
    pub(super) fn stage_problems(
        &mut self,
        final_tmp: &Path,
        problems: &[(String, Problem)],
    ) -> Result<(PathBuf, ManifestFile), ExportError> {
        let mut csv = String::from("unit,observation_id,patient_id,code,message\n");
        for (u, p) in problems {
            csv_row(
                &mut csv,
                &[
                    u,
                    &p.observation_id.to_string(),
                    &p.patient_id.to_string(),
                    &p.code,
                    &p.message,
                ],
            );
        }
        self.stage_text(
            final_tmp,
            "problems.csv",
            "problems",
            &csv,
            problems.len() as u64,
        )
    }

    /// Writes `data_dictionary.csv` and `data_dictionary.md` into `final_tmp`: `dict` is (file,
    /// entry) per column of the data files; `with_problems` adds the columns of `problems.csv`.
    pub(super) fn stage_dictionary(
        &mut self,
        final_tmp: &Path,
        dict: &[(String, DictEntry)],
        tables: &BTreeMap<String, TableParts>,
        with_problems: bool,
    ) -> Result<[(PathBuf, ManifestFile); 2], ExportError> {
        let mut csv = String::from("file,table,column,dtype,unit,description\n");
        for (file, e) in dict {
            csv_row(
                &mut csv,
                &[file, &e.table, &e.column, &e.dtype, &e.unit, &e.description],
            );
        }
        if with_problems {
            for (c, d) in PROBLEM_COLUMNS {
                csv_row(&mut csv, &["problems.csv", "problems", c, "string", "", d]);
            }
        }
        let rows = dict.len() as u64;
        let csv = self.stage_text(final_tmp, "data_dictionary.csv", "dictionary", &csv, rows)?;
        let mut md = dictionary_markdown(dict, tables, self.spec.format, self.spec.layout);
        if let Some(d) = &self.spec.deidentify {
            md = md.replacen(
                "\n",
                &format!("\n\n{}\n", super::deidentify::markdown(d)),
                1,
            );
        }
        let md = self.stage_text(final_tmp, "data_dictionary.md", "dictionary", &md, rows)?;
        Ok([csv, md])
    }

    /// Writes a text file into `final_tmp` (atomically) and returns its manifest entry.
    pub(super) fn stage_text(
        &mut self,
        final_tmp: &Path,
        name: &str,
        role: &str,
        text: &str,
        rows: u64,
    ) -> Result<(PathBuf, ManifestFile), ExportError> {
        let path = final_tmp.join(name);
        let tmp = self.next_tmp("text");
        let bom = self.spec.format.with_bom() && name.ends_with(".csv");
        let w = self.store.write_atomic(&self.tmp_dir, &tmp, &path, |w| {
            if bom {
                w.write_all(super::UTF8_BOM)
                    .map_err(io_err("write", &path))?;
            }
            w.write_all(text.as_bytes()).map_err(io_err("write", &path))
        })?;
        let format = name.rsplit('.').next().unwrap_or("").to_string();
        Ok((
            path.clone(),
            ManifestFile {
                name: name.into(),
                role: role.into(),
                table: None,
                format,
                rows,
                observations: 0,
                bytes: w.bytes,
                sha256: w.sha256,
            },
        ))
    }

    /// The manifest of the finished export.
    pub(super) fn manifest(
        &self,
        units: &[UnitRecord],
        files: Vec<ManifestFile>,
        table_rows: BTreeMap<String, u64>,
        problems: Vec<(String, Problem)>,
    ) -> Manifest {
        let mu: Vec<ManifestUnit> = units
            .iter()
            .map(|r| ManifestUnit {
                unit: r.unit.clone(),
                server_total: r.report.server_total,
                fetched: r.report.fetched,
                written: r.report.written,
                duplicates_dropped: r.report.duplicates_dropped,
                foreign_dropped: r.report.foreign.len() as u64,
                suspect: !r.report.foreign.is_empty(),
                problems: r.report.problems.len() as u64,
            })
            .collect();
        let mismatches = mu
            .iter()
            .filter(|u| {
                u.server_total
                    .is_some_and(|t| t != u.fetched - u.duplicates_dropped)
            })
            .cloned()
            .collect();
        let with_total: Vec<u64> = mu.iter().filter_map(|u| u.server_total).collect();
        let spec = &self.spec;
        let problems_count = mu.iter().map(|u| u.problems).sum();
        Manifest {
            manifest_version: MANIFEST_VERSION,
            generator: "JHE Desktop".into(),
            app_version: spec.app_version.clone(),
            engine_version: env!("CARGO_PKG_VERSION").into(),
            exported_at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            server: spec.server.clone(),
            study_id: spec.study_id,
            filters: self.manifest_filters(),
            format: spec.format,
            layout: spec.layout,
            total_rows: table_rows.values().sum(),
            table_rows,
            files,
            total_observations: mu.iter().map(|u| u.written).sum(),
            total_fetched: mu.iter().map(|u| u.fetched).sum(),
            duplicates_dropped: mu.iter().map(|u| u.duplicates_dropped).sum(),
            foreign_rows_dropped: mu.iter().map(|u| u.foreign_dropped).sum(),
            problems_count,
            problems_truncated: problems.len() > MANIFEST_PROBLEMS_MAX,
            problems: problems
                .into_iter()
                .take(MANIFEST_PROBLEMS_MAX)
                .map(|(_, p)| p)
                .collect(),
            server_total: (!with_total.is_empty()).then(|| with_total.iter().sum()),
            server_total_mismatches: mismatches,
            units: mu,
            resumed_units: units.iter().filter(|r| r.resumed).count() as u64,
            flagged: spec.flagged,
            flagged_left_out: units.iter().map(|r| r.report.flagged_left_out).sum(),
            findings: super::findings::count_by_kind(&super::findings::all_findings(units))
                .into_iter()
                .map(|(k, n)| (k.as_str().to_string(), n))
                .collect(),
            deidentified: spec.deidentify.as_ref().map(super::Deidentify::describe),
        }
    }

    /// The filters as the manifest records them: a de-identified export names the chosen
    /// participants by pseudonym, and leaves out its dates when the data was shifted (with
    /// the shifted data beside them, they would tell the shifts).
    fn manifest_filters(&self) -> ManifestFilters {
        let spec = &self.spec;
        let Some(d) = &spec.deidentify else {
            return ManifestFilters {
                patient_ids: spec.patient_ids.clone(),
                codes: spec.codes.clone(),
                date_from: spec.date_from.clone(),
                date_to: spec.date_to.clone(),
            };
        };
        let mut patient_ids: Vec<u64> = spec.patient_ids.iter().map(|p| d.pseudonym(*p)).collect();
        patient_ids.sort_unstable();
        let keep_dates = d.shift == super::ShiftMode::None;
        ManifestFilters {
            patient_ids,
            codes: spec.codes.clone(),
            date_from: spec.date_from.clone().filter(|_| keep_dates),
            date_to: spec.date_to.clone().filter(|_| keep_dates),
        }
    }
}

const PROBLEM_COLUMNS: [(&str, &str); 5] = [
    (
        "unit",
        "The fetch unit (patient/code) the observation came in.",
    ),
    (
        "observation_id",
        "JHE observation id of the malformed or not-asked-for observation (0 if unreadable).",
    ),
    ("patient_id", "JHE patient id (0 if unreadable)."),
    ("code", "The observation's coding code."),
    (
        "message",
        "What is wrong with it; the observation was skipped. \"not asked for: …\" marks a row the server sent that the search did not ask for (another participant or type, an effective time outside the export's dates, UTC days, or an OMH header schema_id naming another type than the row's code); its unit is marked suspect in manifest.json. Also listed: rows with bytes that are not text (invalid UTF-8), and effective times outside 1900-01-01 to 2199-12-31 UTC or durations outside 0 to 100 years.",
    ),
];

pub(super) fn csv_row(out: &mut String, fields: &[&str]) {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let f = &*super::files::formula_safe(f);
        if f.contains([',', '"', '\n', '\r']) {
            out.push('"');
            out.push_str(&f.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(f);
        }
    }
    out.push('\n');
}

fn dictionary_markdown(
    dict: &[(String, DictEntry)],
    tables: &BTreeMap<String, TableParts>,
    format: Format,
    layout: Layout,
) -> String {
    let times = match format {
        Format::ExcelCsv => {
            "The CSV files are written for spreadsheets: every time as `YYYY-MM-DD HH:MM:SS` \
             (whole seconds, no `T` or `Z`; Excel and LibreOffice read it as a date cell), \
             UTF-8 with a byte-order mark."
        }
        Format::Csv => "In CSV files times are ISO 8601 (`2026-11-17T18:51:02.292010Z`).",
        Format::Parquet => "In Parquet files times are timestamps in microseconds.",
    };
    let mut md = String::from(
        "# Data dictionary\n\nTimes ending in `_utc` are UTC instants; times ending in `_local` are the \
         participant's local wall-clock time (from the UTC offset written in the data), without a \
         time zone. ",
    );
    md.push_str(times);
    md.push_str(
        " Converted values are rounded as each column says (no binary float noise); values \
         already in the column's unit are as sent. In every CSV file a text cell (or column name) \
         that would start a spreadsheet formula (`=`, `+`, `-`, `@`, TAB or CR) is written with a \
         leading `'` (OWASP's advice against formula injection); numbers are never changed. A unit in parentheses, e.g. `(original_unit)`, \
         means the unit is given per row in that column.\n",
    );
    if layout == Layout::Partitioned {
        md.push_str(
            "\nEach type's table is a folder of Parquet files, one per participant, in hive-style \
             partitions: `<table>/study_id=<id>/patient_id=<id>/part-0.parquet` (a file named \
             `<table>/` below). `study_id` and `patient_id` are also columns of every file, with \
             the folders' values, so a scan with or without hive partitioning reads the same.\n",
        );
    }
    let mut current = "";
    for (file, e) in dict {
        if file != current {
            current = file;
            let metrics_of = crate::analysis::tables::METRIC_TYPES
                .iter()
                .find(|v| crate::analysis::tables::table_name(v) == Some(e.table.as_str()));
            let title = match tables.get(&e.table) {
                _ if e.table == "participants" => "The participants, one row each".to_string(),
                _ if e.table == "findings" => {
                    "What the data-quality check found, one row per flagged observation and kind"
                        .to_string()
                }
                _ if metrics_of.is_some() => format!(
                    "{} metrics, one row per participant over the export's days",
                    metrics_of.map(|v| v.title()).unwrap_or_default()
                ),
                Some((Some(v), _)) => v.title(),
                _ => "All observations, one row per measure".into(),
            };
            md.push_str(&format!(
                "\n## `{file}`: {title}\n\n| column | dtype | unit | description |\n| --- | --- | --- | --- |\n"
            ));
        }
        let esc = |s: &str| s.replace('|', "\\|").replace('\n', " ");
        md.push_str(&format!(
            "| `{}` | {} | {} | {} |\n",
            e.column,
            esc(&e.dtype),
            esc(&e.unit),
            esc(&e.description)
        ));
    }
    md
}
