// The IPC surface between the web front end and the Rust side of JHE Desktop.
//
// Everything the webview knows about JHE arrives through `Backend`: the webview never talks to a
// server itself (JHE sends no CORS headers, and tokens must stay in Rust). The Rust commands are
// expected to serialise to exactly these shapes: camelCase names, ids as numbers, times as ISO 8601
// strings. `tauri.ts` maps each method to one command; `fake.ts` implements it in memory.

// ----- errors -------------------------------------------------------------------------------------

/** Stable error names: generated from Rust (`jhe_engine::error::ErrorKind`), the one list. */
export type { ErrorKind } from './generated/ipc';
import type { ErrorKind } from './generated/ipc';

/**
 * What every failed command rejects with. `message` is already plain language for the user. The UI
 * also copes with a kind it does not know yet (a newer backend): it shows the generic help.
 */
export interface BackendError {
  kind: ErrorKind | (string & {});
  message: string;
}

/** An error as this version of Rust sends it (the fake backend throws only these). */
export interface KnownError extends BackendError {
  kind: ErrorKind;
}

// ----- servers and signing in -------------------------------------------------------------------

export interface ServerCheck {
  /** Normalised address, e.g. `https://jhe.example.org`. */
  url: string;
  /** JHE version the server reports, when it does. */
  version: string | null;
  /** The server runs on this computer (127.0.0.1, ::1, localhost). */
  loopback: boolean;
  https: boolean;
}

export type SignInMethod =
  | { kind: 'apiKey'; apiKey: string }
  | { kind: 'browser'; clientId?: string };

export interface User {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
}

export interface Session {
  server: string;
  user: User;
  /** True for the built-in demo exchange: the UI labels every screen "Demo data". */
  demo: boolean;
  /** The sign-in is kept in the computer's password store (false for the demo, or no keychain). */
  remembered: boolean;
}

export interface RecentServer {
  url: string;
  /** ISO time. */
  lastUsed: string;
  method: SignInMethod['kind'];
  /** Who signed in there last, e.g. "Mary Richmond". */
  user: string | null;
}

/** A sign-in kept in the keychain: "Continue as Mary Richmond" without typing the key again. */
export interface RememberedSignIn {
  server: string;
  name: string;
  method: SignInMethod['kind'];
}

// ----- organizations and studies ----------------------------------------------------------------

export type Role = 'manager' | 'member' | 'viewer';

export interface Organization {
  id: number;
  name: string;
  /** JHE's organization type code: `edu`, `team`, `laboratory`, `prov`, `dept`, … */
  type: string;
  /** The signed-in user's role; null when they only see it through a parent organization. */
  role: Role | null;
}

export interface Study {
  id: number;
  name: string;
  description: string;
  organizationId: number;
  organizationName: string;
  patientCount: number;
}

/** A data type a study asks for. */
export interface ScopeType {
  /** `omh:blood-glucose:4.0` */
  code: string;
  /** `Blood glucose` */
  label: string;
  /** `mg/dL`; empty when the type has no single unit. */
  unit: string;
}

// ----- study overview ---------------------------------------------------------------------------

export type ConsentState = 'consented' | 'pending' | 'declined' | 'notVisible' | 'notExported';

export interface Identifier {
  system: string;
  value: string;
}

export interface PatientRow {
  id: number;
  nameGiven: string;
  nameFamily: string;
  identifiers: Identifier[];
  /** The identifier the study uses as medical record number, when there is one. */
  mrn?: string;
  /** Per type code. A missing key means JHE has no consent record for that type. */
  consent: Record<string, ConsentState>;
  /** Observations per type code. */
  counts: Record<string, number>;
  /** ISO time of the earliest / latest observation. */
  firstDate?: string;
  lastDate?: string;
  /** Whole days since the participant's last upload; absent when they never uploaded. */
  daysSinceLastUpload?: number;
}

export interface StudyOverview {
  study: Study;
  types: ScopeType[];
  patients: PatientRow[];
  /** Set when this was read from the study's copy on this computer: when it was last synced (ISO). */
  syncedAt?: string;
}

/** Emitted while a study overview is being read (one request per participant on a real server). */
export interface OverviewProgress {
  done: number;
  total: number;
}

// ----- one participant --------------------------------------------------------------------------

/** Inclusive days (`YYYY-MM-DD`); both absent = everything. */
export interface DateRange {
  from?: string;
  to?: string;
}

export interface Stats {
  n: number;
  mean: number;
  min: number;
  max: number;
  sd: number;
}

export interface SeriesPoint {
  /** ISO time. */
  t: string;
  v: number;
  /** Second value, e.g. diastolic blood pressure. */
  v2?: number;
}

export interface TypeSeries {
  code: string;
  label: string;
  unit: string;
  /** Statistics of `v` (for blood pressure: systolic). */
  stats: Stats;
  /** Statistics of `v2`, when the type has a second value. */
  stats2?: Stats;
  /** Names of `v` / `v2` when there are two, e.g. `["Systolic", "Diastolic"]`. */
  valueLabels?: [string, string];
  /** A complete `<svg>` document rendered by plotters in Rust. Sanitised again before display. */
  chartSvg: string;
  /**
   * Where the time axis sits inside `chartSvg`, so hovering can map the pointer to a time:
   * `left`/`right` are fractions (0–1) of the SVG's width; `from`/`to` the ISO times at those edges.
   * Absent: the whole width, from the first to the last point.
   */
  chartXAxis?: { left: number; right: number; from: string; to: string };
  /** Possibly downsampled points for the hover readout (not the raw rows). */
  points: SeriesPoint[];
  /** Total raw rows in the range (page through them with `getRows`). */
  rows: number;
  /** Plain sentences about what the server sent that is not shown (unreadable readings, rows not
   *  asked for, fewer readings than the server counts). */
  notes: string[];
  /** What the readings say by the field's standard definitions (CGM, blood pressure, steps, SpO2). */
  summary?: Summary;
}

/** A type card's clinical summary, computed in Rust (`jhe_app::summary`). */
export interface Summary {
  /** Shares of readings per band, lowest first (time in ranges, blood-pressure categories). */
  bands: Band[];
  metrics: Metric[];
  /** One sentence: how many readings, whose days, what was left out. */
  basis: string;
  /** Implausible readings left out of every number. */
  excluded: number;
  /** The readings by time of day (CGM: the ambulatory glucose profile), from two days on. */
  profile?: Profile;
  /** The same summary counting the implausible readings (only when there are some). */
  withImplausible?: Summary;
}

/** A chart of the readings by time of day, drawn in Rust, with what it shows in words. */
export interface Profile {
  title: string;
  caption: string;
  /** A complete `<svg>` document. */
  svg: string;
}

export interface Band {
  /** e.g. `in-range`, `stage-1` (the colour). */
  key: string;
  label: string;
  /** 0–100. */
  percent: number;
  /** e.g. "goal over 70 %"; empty when there is none. */
  goal: string;
}

export interface Metric {
  label: string;
  value: number | null;
  decimals: number;
  /** Shown instead of the number when set. */
  text: string | null;
  unit: string;
  /** What it means, one sentence. */
  help: string;
}

export interface PatientData {
  patient: PatientRow;
  /** The range actually applied (the backend fills in defaults). */
  range: DateRange;
  types: TypeSeries[];
}

export interface RowColumn {
  /** Column name in the exported files, e.g. `time_utc`. */
  name: string;
  /** What the user sees, e.g. `Time`. */
  label: string;
  unit?: string;
}

export type Cell = string | number | null;

export interface RowsPage {
  columns: RowColumn[];
  rows: Cell[][];
  offset: number;
  total: number;
}

// ----- export -----------------------------------------------------------------------------------

export type ExportScope = { kind: 'patient'; patientId: number; studyId: number } | { kind: 'study'; studyId: number };

export interface ExportRequest {
  scope: ExportScope;
  /** Type codes. */
  types: string[];
  /** Inclusive days `YYYY-MM-DD`. */
  from?: string;
  to?: string;
  format: ExportFormat;
  layout: 'perType' | 'long';
  outDir: string;
  /** The identifier systems participants.csv lists; absent: all; empty: none. */
  identifierSystems?: string[];
  /** Leave out readings the data-quality check finds wrong; absent: keep them. */
  leaveOutFlagged?: boolean;
  /** Download everything again although the study is kept on this computer (default: export from the copy). */
  fromServer?: boolean;
  /** De-identify (pseudonyms, identifiers and free text dropped, times shifted per participant); absent: plain. */
  deidentify?: DeidentifyShift;
  /** Encrypt into one .tar.age file for this passphrase (at least 8 characters); absent: a folder of files. */
  encryptPassphrase?: string;
}

/** How a de-identified export shifts each participant's times: whole days (0–364, time of day
 *  kept), whole weeks (weekday kept too), or not at all (only the ids replaced). */
export type DeidentifyShift = 'days' | 'weeks' | 'none';

/** `csv`: ISO 8601 times (R, pandas); `excelCsv`: spreadsheet dates, UTF-8 with a BOM. */
export type ExportFormat = 'csv' | 'excelCsv' | 'parquet';

export type ExportPhase = 'counting' | 'fetching' | 'writing' | 'done';

export interface ExportProgress {
  phase: ExportPhase;
  /** Observations downloaded so far. */
  fetched: number;
  /** Observations expected in total; 0 while still counting. */
  expected: number;
  /** Display name of the participant being downloaded. */
  currentPatient?: string;
  /** A plain sentence worth showing (e.g. "Retrying after a network hiccup"). */
  message?: string;
}

export interface ExportedFile {
  name: string;
  rows: number;
  bytes: number;
}

export interface ExportResult {
  outDir: string;
  files: ExportedFile[];
  /** Plain sentences (incomplete participants, skipped malformed observations, …). */
  warnings: string[];
}

/** What "Delete what was downloaded" removed. */
export interface Discarded {
  /** Unfinished exports deleted. */
  exports: number;
  bytes: number;
}

// ----- local copies and new-data checks ---------------------------------------------------------

/** A study kept on this computer (its encrypted local copy). */
export interface LocalCopyInfo {
  /** The server's address (`demo` for the demo exchange). */
  server: string;
  studyId: number;
  studyName: string;
  organizationName: string;
  participants: number;
  /** When it was last synced (ISO). */
  syncedAt?: string;
  /** Its size on disk. */
  bytes: number;
}

/** Emitted while a study is synced: readings received so far. */
export interface SyncProgress {
  readings: number;
}

/** What a sync of a study's local copy changed, and the overview from the copy afterwards. */
export interface SyncResult {
  studyId: number;
  /** The copy was made by this sync. */
  first: boolean;
  /** "+1,204 readings from 12 participants, 0 removed". */
  sentence: string;
  added: number;
  changed: number;
  removed: number;
  participants: number;
  stoppedUploading: number;
  syncedAt: string;
  bytes: number;
  overview: StudyOverview;
}

/** A study with news from the background check (the study list's badge, the notification). */
export interface StudyNews {
  studyId: number;
  studyName: string;
  added: number;
  participants: number;
  stoppedUploading: number;
  /** "12 new readings from 3 participants; 2 participants stopped uploading". */
  text: string;
}

// ----- the activity (audit) log -----------------------------------------------------------------

/** One entry of the audit log (ids, codes and counts only; no names or values). */
export interface AuditRow {
  seq: number;
  /** ISO time, UTC. */
  at: string;
  who: string;
  server: string;
  /** `retrieve`, `overview`, `check`, `metrics`, `sync`, `export`, `report`, `offline_open`, `copy_removed`. */
  action: string;
  study: number | null;
  participants: Array<number>;
  types: string[];
  from: string | null;
  to: string | null;
  rows: number;
  writtenTo: string | null;
  client: string;
  hash: string;
}

/** What checking the audit log's chain found. */
export interface AuditCheck {
  path: string | null;
  entries: number;
  ok: boolean;
  /** The first altered entry in plain words. */
  problem: string | null;
  brokenLine: number | null;
  brokenSeq: number | null;
  lastHash: string | null;
}

// ----- offline review ---------------------------------------------------------------------------

export interface OfflineReview {
  /** The folder (or file) that was opened, as the user would recognise it. */
  path: string;
  overview: StudyOverview;
  /** Plain sentences: files changed ("Changed since export") or missing since the export. */
  warnings: string[];
}

// ----- reports --------------------------------------------------------------------------------

/** "Write report…": a study's report, or one participant's (with `patientId`). */
export interface ReportRequest {
  studyId: number;
  patientId?: number;
  /** The days to report on (UTC, inclusive); open ends: all of the data. */
  range: DateRange;
}

/** A report that was written: one HTML file. */
export interface ReportWritten {
  path: string;
  participants: number;
  observations: number;
  charts: number;
  /** Data-quality findings listed (0 when none were found or the data was not checked). */
  findings: number;
}

// ----- about, diagnostics and updates ----------------------------------------------------------

/** The server the app is signed in to, as the About dialog shows it. */
export interface ServerAbout {
  /** The host name only, e.g. `jhe.example.org`. */
  host: string;
  /** The JHE version the server reports; null when it reports none. */
  version: string | null;
  demo: boolean;
}

export interface AboutInfo {
  version: string;
  /** Short git commit, or `unknown`. */
  commit: string;
  /** `YYYY-MM-DD`, or `unknown`. */
  buildDate: string;
  os: string;
  arch: string;
  /** WebKitGTK / WebView2 / WKWebView version, when the platform tells. */
  webview: string | null;
  /** Null when not signed in (or reviewing files offline). */
  server: ServerAbout | null;
  /** Kinds of the latest failed operations, oldest first (never their messages). */
  recentErrors: ErrorKind[];
  /** What "Copy diagnostics" puts on the clipboard: no names, ids, paths or keys. */
  diagnostics: string;
}

export interface UpdateSettings {
  /** Where update checks go; null when this build has no update address (nothing to ask). */
  host: string | null;
  /** The user's answer; null while not asked yet. */
  checkOnStart: boolean | null;
}

export interface UpdateFound {
  version: string;
  notes: string | null;
}

// ----- the interface ----------------------------------------------------------------------------

export interface Backend {
  /** Shown in the UI: the browser preview says "Demo data (offline preview)". */
  readonly label: 'tauri' | 'fake';

  // servers and signing in
  recentServers(): Promise<RecentServer[]>;
  /** The latest sign-in the keychain still holds, or null. */
  rememberedSignIn(): Promise<RememberedSignIn | null>;
  /** Continues that sign-in; rejects with sign_in_again when the server no longer accepts it. */
  continueSignIn(url: string): Promise<Session>;
  /** Validates the address and asks the server what it is. Rejects with invalid_url, insecure_url, not_jhe, network, … */
  checkServer(url: string): Promise<ServerCheck>;
  /** API key, or the system browser (authorization code + PKCE, loopback redirect). */
  signIn(url: string, method: SignInMethod): Promise<Session>;
  /** Gives up waiting for the browser; the pending `signIn` rejects with `cancelled`. */
  cancelSignIn(): Promise<void>;
  /** Starts the built-in demo exchange in-process and signs in to it. */
  startDemo(): Promise<Session>;
  signOut(): Promise<void>;

  // browsing
  listOrganizations(): Promise<Organization[]>;
  listStudies(): Promise<Study[]>;
  /** With a `jobId`, `cancelExport(jobId)` stops it (it then rejects with `cancelled`). */
  getStudyOverview(studyId: number, onProgress?: (p: OverviewProgress) => void, jobId?: string): Promise<StudyOverview>;
  getPatientData(studyId: number, patientId: number, range: DateRange): Promise<PatientData>;
  getRows(patientId: number, code: string, offset: number, limit: number, range?: DateRange): Promise<RowsPage>;

  // export
  /** Resolves when the export ends; rejects with `cancelled` after `cancelExport(jobId)`. */
  exportData(jobId: string, request: ExportRequest, onProgress: (p: ExportProgress) => void): Promise<ExportResult>;
  cancelExport(jobId: string): Promise<void>;
  /** Deletes the parts kept to resume unfinished exports in `outDir` (a folder the user chose). */
  discardUnfinished(outDir: string): Promise<Discarded>;
  /** Native folder picker; null when the user closes it. */
  pickFolder(): Promise<string | null>;
  /** Native picker for an export folder, an encrypted export (.tar.age) or a single .csv /
   * .parquet file; null when closed. */
  pickExportToOpen(): Promise<string | null>;
  /** Opens the system file manager at `path`. */
  showInFolder(path: string): Promise<void>;

  // offline review
  /** Reads an export from disk; later getPatientData/getRows calls read the same files. An
   * encrypted export (.tar.age) needs its `passphrase`: without it, or with another one, the
   * call fails with kind `passphrase` and nothing changes. */
  openExport(path: string, passphrase?: string): Promise<OfflineReview>;

  // local copies and new-data checks
  /** The studies kept on this computer (works without network). */
  localCopies(): Promise<LocalCopyInfo[]>;
  /** Opens a study's local copy with no network (like `openExport`: later calls read the copy). */
  openLocalCopy(server: string, studyId: number): Promise<OfflineReview>;
  /** Brings the study's copy up to date (making it the first time); `cancelExport(jobId)` stops it. */
  syncStudy(studyId: number, onProgress?: (p: SyncProgress) => void, jobId?: string): Promise<SyncResult>;
  /** Deletes a study's local copy (`server` null: the signed-in server's). */
  removeLocalCopy(server: string | null, studyId: number): Promise<void>;
  /** Deletes every local copy of the signed-in server's studies; resolves to how many. */
  removeServerCopies(): Promise<number>;
  /** What the background check found since each study was last opened. */
  studyNews(): Promise<StudyNews[]>;
  clearStudyNews(studyId: number): Promise<void>;
  /** Minutes between background checks for new data (0: off). */
  syncEvery(): Promise<number>;
  setSyncEvery(minutes: number): Promise<number>;

  // the activity (audit) log
  /** The latest entries (default 500), newest first. */
  auditLog(limit?: number): Promise<AuditRow[]>;
  /** Checks the chain: is any entry edited, removed or reordered? */
  verifyAudit(): Promise<AuditCheck>;
  /** Asks where to save (null when closed) and writes every entry there as CSV. */
  saveAuditCsv(): Promise<string | null>;

  // reports
  /** Asks where to save (null when the dialog is closed), gathers the data (live, or the files
   *  under review) and writes the HTML report; `cancelExport(jobId)` stops it. */
  writeReport(jobId: string, request: ReportRequest, onProgress: (p: ExportProgress) => void): Promise<ReportWritten | null>;
  /** Opens a written report in the system's browser. */
  openReport(path: string): Promise<void>;

  // about and updates
  /** Version, commit, build date, system, server version, recent error kinds, diagnostics text. */
  aboutInfo(): Promise<AboutInfo>;
  updateSettings(): Promise<UpdateSettings>;
  /** Remembers whether to check for new versions when the app starts. */
  setUpdateCheck(on: boolean): Promise<UpdateSettings>;
  /** Null when there is no newer version, or the user did not opt in (then nothing is asked). */
  checkForUpdate(): Promise<UpdateFound | null>;
  /** Installs what `checkForUpdate` found and restarts the app. */
  installUpdate(): Promise<void>;
}

/** Narrowing helper: anything thrown by a backend call becomes a BackendError. */
export function toBackendError(e: unknown): BackendError {
  if (e && typeof e === 'object' && 'kind' in e && 'message' in e) {
    const { kind, message } = e as { kind: unknown; message: unknown };
    if (typeof kind === 'string' && typeof message === 'string') return { kind, message };
  }
  // Not a `{kind, message}` from Rust: a bug in the app (e.g. a command the Rust side lacks).
  if (typeof e === 'string') return { kind: 'internal', message: e };
  const message = e instanceof Error ? e.message : String(e);
  return { kind: 'internal', message: `Something went wrong inside JHE Desktop: ${message}` };
}

// ----- the Rust contract ------------------------------------------------------------------------
// src-tauri generates ./generated/ipc.ts from its Rust payload types (ts-rs; a Rust test fails when
// that file is stale). Each pair below must be assignable both ways, so `npm run check` fails as
// soon as the Rust side and these types drift apart.
import type * as Rust from './generated/ipc';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Extends<A, B> = [A] extends [B] ? true : false;
type Assert<T extends true> = T;
export type RustContract = [
  // Every error Rust sends is a BackendError (the UI's also admits kinds a newer backend may add).
  Assert<Extends<Rust.BackendError, BackendError>>,
  Assert<Same<Rust.BackendError, KnownError>>,
  Assert<Same<Rust.ServerCheck, ServerCheck>>,
  Assert<Same<Rust.SignInMethod, SignInMethod>>,
  Assert<Same<Rust.User, User>>,
  Assert<Same<Rust.Session, Session>>,
  Assert<Same<Rust.RecentServer, RecentServer>>,
  Assert<Same<Rust.RememberedSignIn, RememberedSignIn>>,
  Assert<Same<Rust.Role, Role>>,
  Assert<Same<Rust.Organization, Organization>>,
  Assert<Same<Rust.Study, Study>>,
  Assert<Same<Rust.ScopeType, ScopeType>>,
  Assert<Same<Rust.ConsentState, ConsentState>>,
  Assert<Same<Rust.Identifier, Identifier>>,
  Assert<Same<Rust.PatientRow, PatientRow>>,
  Assert<Same<Rust.StudyOverview, StudyOverview>>,
  Assert<Same<Rust.OverviewProgress, OverviewProgress>>,
  Assert<Same<Rust.DateRange, DateRange>>,
  Assert<Same<Rust.Stats, Stats>>,
  Assert<Same<Rust.SeriesPoint, SeriesPoint>>,
  Assert<Same<Rust.Band, Band>>,
  Assert<Same<Rust.Metric, Metric>>,
  Assert<Same<Rust.Summary, Summary>>,
  Assert<Same<Rust.TypeSeries, TypeSeries>>,
  Assert<Same<Rust.PatientData, PatientData>>,
  Assert<Same<Rust.RowColumn, RowColumn>>,
  Assert<Same<Rust.Cell, Cell>>,
  Assert<Same<Rust.RowsPage, RowsPage>>,
  Assert<Same<Rust.ExportScope, ExportScope>>,
  Assert<Same<Rust.ExportRequest, ExportRequest>>,
  Assert<Same<Rust.ExportPhase, ExportPhase>>,
  Assert<Same<Rust.ExportProgress, ExportProgress>>,
  Assert<Same<Rust.ExportedFile, ExportedFile>>,
  Assert<Same<Rust.ExportResult, ExportResult>>,
  Assert<Same<Rust.Discarded, Discarded>>,
  Assert<Same<Rust.OfflineReview, OfflineReview>>,
  Assert<Same<Rust.LocalCopyInfo, LocalCopyInfo>>,
  Assert<Same<Rust.SyncProgress, SyncProgress>>,
  Assert<Same<Rust.SyncResult, SyncResult>>,
  Assert<Same<Rust.StudyNews, StudyNews>>,
  Assert<Same<Rust.DeidentifyShift, DeidentifyShift>>,
  Assert<Same<Rust.AuditRow, AuditRow>>,
  Assert<Same<Rust.AuditCheck, AuditCheck>>,
  Assert<Same<Rust.ReportRequest, ReportRequest>>,
  Assert<Same<Rust.ReportWritten, ReportWritten>>,
  Assert<Same<Rust.ServerAbout, ServerAbout>>,
  Assert<Same<Rust.AboutInfo, AboutInfo>>,
  Assert<Same<Rust.UpdateSettings, UpdateSettings>>,
  Assert<Same<Rust.UpdateFound, UpdateFound>>,
];
