// The real backend: one Tauri command per Backend method. Command names are snake_case (Tauri's
// convention for Rust functions); arguments are camelCase, as Tauri v2 maps them to snake_case
// Rust parameters by default. Progress streams use a Channel so events belong to one call only.
import { Channel, invoke } from '@tauri-apps/api/core';
import {
  toBackendError,
  type AboutInfo,
  type AuditCheck,
  type AuditRow,
  type Backend,
  type DateRange,
  type Discarded,
  type ExportProgress,
  type ExportRequest,
  type ExportResult,
  type LocalCopyInfo,
  type StudyNews,
  type SyncProgress,
  type SyncResult,
  type OfflineReview,
  type ReportRequest,
  type ReportWritten,
  type Organization,
  type OverviewProgress,
  type PatientData,
  type RecentServer,
  type RememberedSignIn,
  type RowsPage,
  type ServerCheck,
  type Session,
  type SignInMethod,
  type Study,
  type StudyOverview,
  type UpdateFound,
  type UpdateSettings,
} from './types';

type InvokeFn = <T>(cmd: string, args?: Record<string, unknown>) => Promise<T>;

/** Rejections from Rust are `{kind, message}` already; anything else is wrapped so the UI can show it. */
async function call<T>(inv: InvokeFn, cmd: string, args?: Record<string, unknown>): Promise<T> {
  try {
    return await inv<T>(cmd, args);
  } catch (e) {
    throw toBackendError(e);
  }
}

export class TauriBackend implements Backend {
  readonly label = 'tauri' as const;

  // `inv` and `channel` are injectable so the mapping can be tested without a window.
  constructor(
    private readonly inv: InvokeFn = invoke,
    private readonly channel: <T>(onMessage: (m: T) => void) => Channel<T> = (onMessage) => {
      const c = new Channel<never>();
      c.onmessage = onMessage as (m: never) => void;
      return c as never;
    },
  ) {}

  recentServers(): Promise<RecentServer[]> {
    return call(this.inv, 'recent_servers');
  }
  rememberedSignIn(): Promise<RememberedSignIn | null> {
    return call(this.inv, 'remembered_sign_in');
  }
  continueSignIn(url: string): Promise<Session> {
    return call(this.inv, 'continue_sign_in', { url });
  }
  checkServer(url: string): Promise<ServerCheck> {
    return call(this.inv, 'check_server', { url });
  }
  signIn(url: string, method: SignInMethod): Promise<Session> {
    return call(this.inv, 'sign_in', { url, method });
  }
  cancelSignIn(): Promise<void> {
    return call(this.inv, 'cancel_sign_in');
  }
  startDemo(): Promise<Session> {
    return call(this.inv, 'start_demo');
  }
  signOut(): Promise<void> {
    return call(this.inv, 'sign_out');
  }
  listOrganizations(): Promise<Organization[]> {
    return call(this.inv, 'list_organizations');
  }
  listStudies(): Promise<Study[]> {
    return call(this.inv, 'list_studies');
  }
  getStudyOverview(studyId: number, onProgress?: (p: OverviewProgress) => void, jobId?: string): Promise<StudyOverview> {
    const onEvent = this.channel<OverviewProgress>((p) => onProgress?.(p));
    return call(this.inv, 'get_study_overview', { studyId, jobId: jobId ?? null, onEvent });
  }
  getPatientData(studyId: number, patientId: number, range: DateRange): Promise<PatientData> {
    return call(this.inv, 'get_patient_data', { studyId, patientId, range });
  }
  getRows(patientId: number, code: string, offset: number, limit: number, range?: DateRange): Promise<RowsPage> {
    return call(this.inv, 'get_rows', { patientId, code, offset, limit, range: range ?? {} });
  }
  exportData(jobId: string, request: ExportRequest, onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    const onEvent = this.channel<ExportProgress>(onProgress);
    return call(this.inv, 'export_data', { jobId, request, onEvent });
  }
  discardUnfinished(outDir: string): Promise<Discarded> {
    return call(this.inv, 'discard_unfinished', { outDir });
  }
  cancelExport(jobId: string): Promise<void> {
    return call(this.inv, 'cancel_export', { jobId });
  }
  pickFolder(): Promise<string | null> {
    return call(this.inv, 'pick_folder');
  }
  pickExportToOpen(): Promise<string | null> {
    return call(this.inv, 'pick_export_to_open');
  }
  showInFolder(path: string): Promise<void> {
    return call(this.inv, 'show_in_folder', { path });
  }
  openExport(path: string, passphrase?: string): Promise<OfflineReview> {
    return call(this.inv, 'open_export', { path, passphrase: passphrase ?? null });
  }
  localCopies(): Promise<LocalCopyInfo[]> {
    return call(this.inv, 'local_copies');
  }
  openLocalCopy(server: string, studyId: number): Promise<OfflineReview> {
    return call(this.inv, 'open_local_copy', { server, studyId });
  }
  syncStudy(studyId: number, onProgress?: (p: SyncProgress) => void, jobId?: string): Promise<SyncResult> {
    const onEvent = this.channel<SyncProgress>((p) => onProgress?.(p));
    return call(this.inv, 'sync_study', { studyId, jobId: jobId ?? null, onEvent });
  }
  removeLocalCopy(server: string | null, studyId: number): Promise<void> {
    return call(this.inv, 'remove_local_copy', { server, studyId });
  }
  removeServerCopies(): Promise<number> {
    return call(this.inv, 'remove_server_copies');
  }
  studyNews(): Promise<StudyNews[]> {
    return call(this.inv, 'study_news');
  }
  clearStudyNews(studyId: number): Promise<void> {
    return call(this.inv, 'clear_study_news', { studyId });
  }
  syncEvery(): Promise<number> {
    return call(this.inv, 'sync_every');
  }
  setSyncEvery(minutes: number): Promise<number> {
    return call(this.inv, 'set_sync_every', { minutes });
  }
  auditLog(limit?: number): Promise<AuditRow[]> {
    return call(this.inv, 'audit_log', { limit: limit ?? null });
  }
  verifyAudit(): Promise<AuditCheck> {
    return call(this.inv, 'verify_audit');
  }
  saveAuditCsv(): Promise<string | null> {
    return call(this.inv, 'save_audit_csv');
  }
  writeReport(jobId: string, request: ReportRequest, onProgress: (p: ExportProgress) => void): Promise<ReportWritten | null> {
    const onEvent = this.channel<ExportProgress>(onProgress);
    return call(this.inv, 'write_report', { jobId, request, onEvent });
  }
  openReport(path: string): Promise<void> {
    return call(this.inv, 'open_report', { path });
  }
  aboutInfo(): Promise<AboutInfo> {
    return call(this.inv, 'about_info');
  }
  updateSettings(): Promise<UpdateSettings> {
    return call(this.inv, 'update_settings');
  }
  setUpdateCheck(on: boolean): Promise<UpdateSettings> {
    return call(this.inv, 'set_update_check', { on });
  }
  checkForUpdate(): Promise<UpdateFound | null> {
    return call(this.inv, 'check_for_update');
  }
  installUpdate(): Promise<void> {
    return call(this.inv, 'install_update');
  }
}
