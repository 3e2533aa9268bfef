//! The IPC payloads: what the operations take and return, exactly as `ui/src/backend/types.ts`
//! expects them (camelCase, ids as numbers, times as ISO 8601 strings, optional fields left
//! out rather than `null`). `ts-rs` generates `ui/src/backend/generated/ipc.ts` from these types
//! (see `src-tauri/src/bindings.rs`); the UI checks at compile time that its own types match.

use std::collections::BTreeMap;

pub use jhe_engine::error::ErrorKind;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

// ----- errors -------------------------------------------------------------------------------------

/// What every failed command rejects with. `message` is plain language for the user.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
pub struct BackendError {
    pub kind: ErrorKind,
    pub message: String,
}

// ----- servers and signing in -------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerCheck {
    /// Normalised address, e.g. `https://jhe.example.org`.
    pub url: String,
    /// JHE version the server reports, when it does.
    pub version: Option<String>,
    /// The server runs on this computer (127.0.0.1, ::1, localhost).
    pub loopback: bool,
    pub https: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum SignInMethod {
    #[serde(rename_all = "camelCase")]
    ApiKey { api_key: String },
    #[serde(rename_all = "camelCase")]
    Browser {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[ts(optional)]
        client_id: Option<String>,
    },
}

/// `SignInMethod['kind']`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum SignInKind {
    ApiKey,
    Browser,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct User {
    #[ts(type = "number")]
    pub id: u64,
    pub email: String,
    pub first_name: String,
    pub last_name: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub server: String,
    pub user: User,
    /// True for the built-in demo exchange.
    pub demo: bool,
    /// Whether the sign-in is kept in the computer's password store (the keychain), so the next
    /// launch can continue it. False for the demo, and when no keychain could be used.
    pub remembered: bool,
}

/// A sign-in kept in the keychain that can be continued without typing the key again.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RememberedSignIn {
    pub server: String,
    /// Who signed in ("Mary Richmond", or the e-mail address when the profile has no name).
    pub name: String,
    pub method: SignInKind,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RecentServer {
    pub url: String,
    /// ISO time.
    pub last_used: String,
    pub method: SignInKind,
    /// Who signed in there last (the user's own name, for "Continue as …"; never a secret).
    #[serde(default)]
    pub user: Option<String>,
}

// ----- organizations and studies ----------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    Manager,
    Member,
    Viewer,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Organization {
    #[ts(type = "number")]
    pub id: u64,
    pub name: String,
    /// JHE's organization type code: `edu`, `team`, `laboratory`, `prov`, `dept`, …
    #[serde(rename = "type")]
    pub kind: String,
    /// The signed-in user's role; null when they only see it through a parent organization.
    pub role: Option<Role>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Study {
    #[ts(type = "number")]
    pub id: u64,
    pub name: String,
    pub description: String,
    #[ts(type = "number")]
    pub organization_id: u64,
    pub organization_name: String,
    #[ts(type = "number")]
    pub patient_count: u64,
}

/// A data type a study asks for.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ScopeType {
    /// `omh:blood-glucose:4.0`
    pub code: String,
    /// `Blood glucose`
    pub label: String,
    /// `mg/dL`; empty when the type has no single unit.
    pub unit: String,
}

// ----- study overview ---------------------------------------------------------------------------

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ConsentState {
    Consented,
    Pending,
    Declined,
    /// The server does not let this user see the participant's consents (403).
    NotVisible,
    /// Offline review: exports do not carry consent, so none is claimed.
    NotExported,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Identifier {
    pub system: String,
    pub value: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PatientRow {
    #[ts(type = "number")]
    pub id: u64,
    pub name_given: String,
    pub name_family: String,
    pub identifiers: Vec<Identifier>,
    /// The identifier the study uses as medical record number, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub mrn: Option<String>,
    /// Per type code. A missing key means JHE has no consent record for that type.
    #[ts(type = "Record<string, ConsentState>")]
    pub consent: BTreeMap<String, ConsentState>,
    /// Observations per type code.
    #[ts(type = "Record<string, number>")]
    pub counts: BTreeMap<String, u64>,
    /// ISO time of the earliest / latest observation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub first_date: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub last_date: Option<String>,
    /// Whole days since the participant's last upload; absent when they never uploaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub days_since_last_upload: Option<i64>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StudyOverview {
    pub study: Study,
    pub types: Vec<ScopeType>,
    pub patients: Vec<PatientRow>,
    /// Set when this was read from the study's local copy: when that copy was last synced (RFC
    /// 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub synced_at: Option<String>,
}

/// Emitted while a study overview is being read.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OverviewProgress {
    #[ts(type = "number")]
    pub done: u64,
    #[ts(type = "number")]
    pub total: u64,
}

// ----- one participant --------------------------------------------------------------------------

/// Inclusive days (`YYYY-MM-DD`); both absent = everything.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct DateRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub to: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Stats {
    #[ts(type = "number")]
    pub n: u64,
    pub mean: f64,
    pub min: f64,
    pub max: f64,
    pub sd: f64,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SeriesPoint {
    /// ISO time.
    pub t: String,
    pub v: f64,
    /// Second value, e.g. diastolic blood pressure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub v2: Option<f64>,
}

/// Where the time axis sits inside the chart SVG (fractions of its width; ISO times).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ChartXAxis {
    pub left: f64,
    pub right: f64,
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct TypeSeries {
    pub code: String,
    pub label: String,
    pub unit: String,
    /// Statistics of `v` (for blood pressure: systolic).
    pub stats: Stats,
    /// Statistics of `v2`, when the type has a second value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub stats2: Option<Stats>,
    /// Names of `v` / `v2` when there are two, e.g. `["Systolic", "Diastolic"]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub value_labels: Option<(String, String)>,
    /// A complete `<svg>` document rendered by plotters in Rust.
    pub chart_svg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub chart_x_axis: Option<ChartXAxis>,
    /// Possibly downsampled points for the hover readout (not the raw rows).
    pub points: Vec<SeriesPoint>,
    /// Total raw rows in the range.
    #[ts(type = "number")]
    pub rows: u64,
    /// Plain sentences about what the server sent that is not shown: readings that could not be
    /// read, rows that were not asked for, or fewer readings than the server counts.
    pub notes: Vec<String>,
    /// What the readings say by the field's standard definitions (CGM, blood pressure, steps,
    /// SpO2); absent for other types.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub summary: Option<Summary>,
}

/// A type card's clinical summary, its bands, metrics and daily pattern: the engine's, shared with
/// the report.
pub use jhe_engine::analysis::summary::{Band, Metric, Profile, Summary};

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct PatientData {
    pub patient: PatientRow,
    /// The range actually applied.
    pub range: DateRange,
    pub types: Vec<TypeSeries>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RowColumn {
    /// Column name in the exported files, e.g. `time_utc`.
    pub name: String,
    /// What the user sees, e.g. `Time`.
    pub label: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub unit: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, TS)]
#[serde(untagged)]
pub enum Cell {
    Text(String),
    Number(f64),
    Null,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct RowsPage {
    pub columns: Vec<RowColumn>,
    pub rows: Vec<Vec<Cell>>,
    #[ts(type = "number")]
    pub offset: u64,
    #[ts(type = "number")]
    pub total: u64,
}

// ----- export -----------------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum ExportScope {
    #[serde(rename_all = "camelCase")]
    Patient {
        #[ts(type = "number")]
        patient_id: u64,
        #[ts(type = "number")]
        study_id: u64,
    },
    #[serde(rename_all = "camelCase")]
    Study {
        #[ts(type = "number")]
        study_id: u64,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportFormat {
    /// CSV with ISO 8601 times, for R, pandas, SPSS, Stata.
    Csv,
    /// CSV for spreadsheets: `YYYY-MM-DD HH:MM:SS` times, UTF-8 with a byte-order mark.
    ExcelCsv,
    Parquet,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportLayout {
    PerType,
    Long,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportRequest {
    pub scope: ExportScope,
    /// Type codes.
    pub types: Vec<String>,
    /// Inclusive days `YYYY-MM-DD`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub to: Option<String>,
    pub format: ExportFormat,
    pub layout: ExportLayout,
    pub out_dir: String,
    /// The identifier systems `participants.csv` lists; absent: all of them; empty: none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub identifier_systems: Option<Vec<String>>,
    /// Leave out the observations the data-quality check finds wrong (implausible, dated in the
    /// future, sent twice); absent or false: keep them. `findings.csv` lists them either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub leave_out_flagged: Option<bool>,
    /// Download everything again even though the study is kept on this computer; absent or
    /// false: a study with a local copy is exported from the copy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub from_server: Option<bool>,
    /// De-identify the export (pseudonyms for the participant ids, identifiers and free text
    /// dropped, times shifted per participant as chosen; the key is the study's, kept in the
    /// keychain); absent: a plain export.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub deidentify: Option<DeidentifyShift>,
    /// Encrypt the export to this passphrase (at least 8 characters): one `.tar.age` file in
    /// the folder, made in memory, that this app's offline review and the `age` tool open;
    /// absent: a folder of files. Never logged or kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "string")]
    pub encrypt_passphrase: Option<SecretText>,
}

/// Text that is never shown in logs or debug output (a passphrase on its way to the engine).
#[derive(Clone, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SecretText(pub String);

impl std::fmt::Debug for SecretText {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretText(…)")
    }
}

/// How a de-identified export shifts each participant's times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum DeidentifyShift {
    /// Back by 0–364 whole days (intervals and time of day kept).
    Days,
    /// Back by 0–52 whole weeks (weekday kept too).
    Weeks,
    /// Not shifted: only the ids replaced.
    None,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub enum ExportPhase {
    Counting,
    Fetching,
    Writing,
    Done,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportProgress {
    pub phase: ExportPhase,
    /// Observations downloaded so far.
    #[ts(type = "number")]
    pub fetched: u64,
    /// Observations expected in total; 0 while still counting.
    #[ts(type = "number")]
    pub expected: u64,
    /// Display name of the participant being downloaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub current_patient: Option<String>,
    /// A plain sentence worth showing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub message: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportedFile {
    pub name: String,
    #[ts(type = "number")]
    pub rows: u64,
    #[ts(type = "number")]
    pub bytes: u64,
}

/// "Write report…": a study's report, or one participant's.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportRequest {
    #[ts(type = "number")]
    pub study_id: u64,
    /// A participant report; absent: the study's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional, type = "number")]
    pub patient_id: Option<u64>,
    /// The days (UTC, inclusive) to report on; open ends: all of the data.
    #[serde(default)]
    pub range: DateRange,
}

/// A report that was written.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ReportWritten {
    pub path: String,
    #[ts(type = "number")]
    pub participants: u64,
    #[ts(type = "number")]
    pub observations: u64,
    #[ts(type = "number")]
    pub charts: u64,
    /// Data-quality findings listed (0 when none were found or the data was not checked).
    #[ts(type = "number")]
    pub findings: u64,
}

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ExportResult {
    pub out_dir: String,
    pub files: Vec<ExportedFile>,
    /// Plain sentences (incomplete participants, skipped malformed observations, …).
    pub warnings: Vec<String>,
}

/// What "Delete what was downloaded" removed.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct Discarded {
    /// Unfinished exports deleted.
    pub exports: u32,
    #[ts(type = "number")]
    pub bytes: u64,
}

// ----- local copies and new-data checks ---------------------------------------------------------

/// A study kept on this computer (its encrypted local copy).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct LocalCopyInfo {
    /// The server's address (`demo` for the demo exchange).
    pub server: String,
    #[ts(type = "number")]
    pub study_id: u64,
    pub study_name: String,
    pub organization_name: String,
    #[ts(type = "number")]
    pub participants: u64,
    /// When it was last synced (RFC 3339, UTC).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[ts(optional)]
    pub synced_at: Option<String>,
    /// Its size on disk.
    #[ts(type = "number")]
    pub bytes: u64,
}

/// Emitted while a study is synced: readings received so far.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncProgress {
    #[ts(type = "number")]
    pub readings: u64,
}

/// What a sync of a study's local copy changed, and the overview from the copy afterwards.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct SyncResult {
    #[ts(type = "number")]
    pub study_id: u64,
    /// The copy was made by this sync.
    pub first: bool,
    /// "+1,204 readings from 12 participants, 0 removed".
    pub sentence: String,
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub changed: u64,
    #[ts(type = "number")]
    pub removed: u64,
    /// Participants with added, changed or removed readings.
    #[ts(type = "number")]
    pub participants: u64,
    /// Participants who had uploaded in the last 3 days before this sync and have not since.
    #[ts(type = "number")]
    pub stopped_uploading: u64,
    pub synced_at: String,
    #[ts(type = "number")]
    pub bytes: u64,
    pub overview: StudyOverview,
}

/// A study with news from the background check (the study list's badge, the notification).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct StudyNews {
    #[ts(type = "number")]
    pub study_id: u64,
    pub study_name: String,
    #[ts(type = "number")]
    pub added: u64,
    #[ts(type = "number")]
    pub participants: u64,
    #[ts(type = "number")]
    pub stopped_uploading: u64,
    /// "12 new readings from 3 participants; 2 participants stopped uploading".
    pub text: String,
}

// ----- offline review ---------------------------------------------------------------------------

#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct OfflineReview {
    /// The folder (or file) that was opened.
    pub path: String,
    pub overview: StudyOverview,
    /// Plain sentences: files changed ("changed since export") or missing since the export.
    pub warnings: Vec<String>,
}

// ----- about, diagnostics and updates -----------------------------------------------------------

/// The server the app is signed in to, as the About dialog shows it.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct ServerAbout {
    /// The host name only (no path, no port), e.g. `jhe.example.org`.
    pub host: String,
    /// The JHE version the server reports on `/health`; null when it reports none.
    pub version: Option<String>,
    /// The built-in demo exchange.
    pub demo: bool,
}

/// What the About dialog shows, and the text "Copy diagnostics" puts on the clipboard.
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AboutInfo {
    /// e.g. `0.1.0`.
    pub version: String,
    /// The git commit the app was built from (short), or `unknown`.
    pub commit: String,
    /// `YYYY-MM-DD` (UTC), or `unknown`.
    pub build_date: String,
    /// `Linux`, `macOS`, `Windows`, …
    pub os: String,
    /// The processor type, e.g. `x86_64`, `aarch64`.
    pub arch: String,
    /// The system web view's version (WebKitGTK, WebView2 or WKWebView), when it tells.
    pub webview: Option<String>,
    /// The server signed in to; null when not signed in (or reviewing files offline).
    pub server: Option<ServerAbout>,
    /// The kinds of the latest failed operations, oldest first (kinds only, never messages).
    pub recent_errors: Vec<ErrorKind>,
    /// Plain text for a support request: the fields above, no names, ids, paths or keys.
    pub diagnostics: String,
}

/// Checking for new versions when the app starts (opt-in).
#[derive(Clone, Debug, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSettings {
    /// The host update checks go to; null when this build has no update address (then there is
    /// nothing to ask).
    pub host: Option<String>,
    /// The user's answer; null while not asked yet.
    pub check_on_start: Option<bool>,
}

/// A newer version is available.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct UpdateFound {
    /// e.g. `0.2.0`.
    pub version: String,
    /// The release notes, when the release has any.
    pub notes: Option<String>,
}

// ----- the audit log ------------------------------------------------------------------------------

/// One entry of the audit log (ids, codes and counts only; no names or values).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditRow {
    #[ts(type = "number")]
    pub seq: u64,
    /// When (RFC 3339, UTC).
    pub at: String,
    /// The account: an e-mail address, or `practitioner <id>`.
    pub who: String,
    /// The server's address; empty for what touched none (opening an export offline).
    pub server: String,
    /// `retrieve`, `overview`, `check`, `metrics`, `sync`, `export`, `report`, `offline_open`,
    /// `copy_removed`.
    pub action: String,
    #[ts(type = "number | null")]
    pub study: Option<u64>,
    #[ts(type = "Array<number>")]
    pub participants: Vec<u64>,
    pub types: Vec<String>,
    /// The requested days (`YYYY-MM-DD`), when limited.
    pub from: Option<String>,
    pub to: Option<String>,
    /// Observations read, written or changed.
    #[ts(type = "number")]
    pub rows: u64,
    /// The folder or file written, if any.
    pub written_to: Option<String>,
    /// `jhe …` or `JHE Desktop …`.
    pub client: String,
    pub hash: String,
}

/// What checking the audit log's chain found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
pub struct AuditCheck {
    /// The log's file; null when this app keeps no audit log.
    pub path: Option<String>,
    #[ts(type = "number")]
    pub entries: u64,
    /// True when no entry was altered, removed or reordered.
    pub ok: bool,
    /// The first altered entry in plain words ("line 12 (entry 12) was edited: …").
    pub problem: Option<String>,
    /// The line and entry number of that first break.
    #[ts(type = "number | null")]
    pub broken_line: Option<u64>,
    #[ts(type = "number | null")]
    pub broken_seq: Option<u64>,
    /// The hash of the last intact entry (to note elsewhere as an anchor).
    pub last_hash: Option<String>,
}
