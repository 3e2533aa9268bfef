// An in-memory Backend: what `npm run dev` shows in a plain browser and what every UI test runs
// against. It behaves like the Rust side where the UI can tell the difference: latency, plain
// `{kind, message}` errors (also on demand), streamed progress and cancellation.
import {
  ORGANIZATIONS,
  STUDIES,
  TYPES,
  buildPatients,
  deviceFor,
  isoAtOffset,
  isoDay,
  readingOffsetMin,
  renderChart,
  rowAt,
  rowColumns,
  rowWindow,
  stats,
  type PatientModel,
} from './fake-data';
import type {
  AboutInfo,
  Backend,
  BackendError,
  KnownError,
  DateRange,
  Discarded,
  ExportProgress,
  ExportRequest,
  ExportResult,
  OfflineReview,
  Organization,
  ReportRequest,
  ReportWritten,
  OverviewProgress,
  PatientData,
  RecentServer,
  RememberedSignIn,
  RowsPage,
  SeriesPoint,
  ServerCheck,
  Session,
  SignInMethod,
  Summary,
  Study,
  StudyOverview,
  StudyNews,
  AuditCheck,
  AuditRow,
  SyncProgress,
  SyncResult,
  LocalCopyInfo,
  TypeSeries,
  UpdateFound,
  UpdateSettings,
} from './types';

export interface FakeOptions {
  /** Added to every call, ms. */
  latencyMs?: number;
  /** Pause between export progress events, ms. */
  tickMs?: number;
  /** "Now" for the generated data (tests pin it). */
  now?: Date;
  /** A sign-in the fake keychain already holds ("Continue as …" at start). */
  remembered?: RememberedSignIn;
  /** False: no keychain, sign-ins are not kept (`Session.remembered` false). */
  keychain?: boolean;
  /** The remembered answer to "Check for new versions when it starts?" (default false: answered
   *  no, so screens are not covered by the question); null: not asked yet. */
  updateCheck?: boolean | null;
  /** Where update checks would go (default `github.com`); null: a build without updates. */
  updateHost?: string | null;
  /** What a check finds (default: nothing newer). */
  update?: UpdateFound | null;
}

type Method = Exclude<keyof Backend, 'label'>;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

const MESSAGES = {
  signInFailed:
    'Sign-in failed: the server did not accept this API key. It may have been mistyped, or replaced by a newer key.',
  cancelled: 'Cancelled. What was already downloaded is kept; run the same export again to resume.',
  passphraseNeeded: (path: string) => `${path} is encrypted: enter the passphrase it was exported with.`,
  passphraseWrong: (path: string) => `The passphrase does not open ${path}. Check it (capital letters count) and try again.`,
  passphraseShort: 'The passphrase is too short: use at least 8 characters (a few words are easiest to remember).',
};

/** The passphrase of an encrypted export the fake did not make itself (one picked with `pickNext`). */
export const FAKE_PASSPHRASE = 'correct horse battery staple';

export const DEMO_USER = { id: 10001, email: 'manager_mary@example.com', firstName: 'Mary', lastName: 'Manager' };
const DEMO_SERVER = 'http://127.0.0.1:8000';
const DEMO_OUT_DIR = '/Users/demo/Documents/JHE exports';

export class FakeBackend implements Backend {
  readonly label = 'fake' as const;
  readonly latencyMs: number;
  readonly tickMs: number;
  readonly now: number;
  /** Every call, for tests that check what the UI asked for. */
  readonly calls: { method: Method; args: unknown[] }[] = [];
  private failures = new Map<Method, BackendError[]>();
  private cancelled = new Set<string>();
  private signInWaiter: ((e: BackendError) => void) | null = null;
  private patients = new Map<number, PatientModel[]>();
  private byId = new Map<number, { model: PatientModel; studyId: number }>();
  /** The fake keychain: the one sign-in it keeps. */
  private kept: RememberedSignIn | null;
  private readonly keychain: boolean;
  private onDemo = false;
  /** Unfinished (cancelled) exports by folder: bytes kept for resuming. */
  private unfinished = new Map<string, number>();
  /** Encrypted exports made here: file → passphrase. */
  private sealed = new Map<string, string>();
  /** What the next "open an export" picker returns (else a demo export folder). */
  private nextOpen: string | null = null;
  /** The server signed in to (About), kinds of the failures `failNext` injected, updates. */
  private server: { host: string; demo: boolean; url?: string } | null = null;
  private readonly errorKinds: string[] = [];
  private updates: UpdateSettings;
  private readonly update: UpdateFound | null;
  /** The studies kept on this computer (by study id), the background check's news, its interval. */
  private copies = new Map<number, { server: string; syncedAt: string; bytes: number }>();
  private news = new Map<number, StudyNews>();
  private every = 15;
  /** The activity log: what the fake did, as the real app records it (ids and counts only). */
  private audit: AuditRow[] = [];
  /** Tests: the log was tampered with at this entry. */
  auditBrokenAt: number | null = null;

  private record(action: string, study: number | null, participants: number[], rows: number, writtenTo: string | null = null): void {
    const seq = this.audit.length + 1;
    this.audit.push({
      seq,
      at: new Date(this.now + seq * 1000).toISOString(),
      who: this.server?.demo ? DEMO_USER.email : DEMO_USER.email,
      server: this.server?.url ?? (this.server ? `http://${this.server.host}` : ''),
      action,
      study,
      participants,
      types: [],
      from: null,
      to: null,
      rows,
      writtenTo,
      client: 'JHE Desktop 0.1.0',
      hash: seq.toString(16).padStart(64, '0'),
    });
  }

  constructor(opts: FakeOptions = {}) {
    this.kept = opts.remembered ?? null;
    this.keychain = opts.keychain ?? true;
    this.latencyMs = opts.latencyMs ?? 250;
    this.tickMs = opts.tickMs ?? 60;
    this.now = (opts.now ?? new Date()).getTime();
    this.updates = { host: opts.updateHost === undefined ? 'github.com' : opts.updateHost, checkOnStart: opts.updateCheck === undefined ? false : opts.updateCheck };
    this.update = opts.update ?? null;
  }

  /** The next call of `method` rejects with `error` (queue several for several calls). */
  failNext(method: Method, error: BackendError): this {
    const q = this.failures.get(method) ?? [];
    q.push(error);
    this.failures.set(method, q);
    return this;
  }

  private async enter(method: Method, args: unknown[]): Promise<void> {
    this.calls.push({ method, args });
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    const err = this.failures.get(method)?.shift();
    if (err) {
      // Like AppState::noted: the kind only, and cancelling is not a failure.
      if (err.kind !== 'cancelled') this.errorKinds.push(err.kind);
      if (this.errorKinds.length > 10) this.errorKinds.shift();
      throw err;
    }
  }

  private studyPatients(studyId: number): PatientModel[] {
    let ps = this.patients.get(studyId);
    if (!ps) {
      const model = STUDIES.find((s) => s.study.id === studyId);
      if (!model) throw { kind: 'not_found', message: `Study ${studyId} was not found on the server.` } satisfies KnownError;
      ps = buildPatients(model, this.now);
      this.patients.set(studyId, ps);
      for (const p of ps) this.byId.set(p.row.id, { model: p, studyId });
    }
    return ps;
  }

  private patient(patientId: number): PatientModel {
    if (!this.byId.has(patientId)) for (const s of STUDIES) this.studyPatients(s.study.id);
    const hit = this.byId.get(patientId);
    if (!hit) throw { kind: 'not_found', message: `Participant ${patientId} was not found on the server.` } satisfies KnownError;
    return hit.model;
  }

  // ----- servers and signing in -----------------------------------------------------------------

  async recentServers(): Promise<RecentServer[]> {
    await this.enter('recentServers', []);
    return [
      { url: 'https://jhe.example.org', lastUsed: new Date(this.now - 2 * 86_400_000).toISOString(), method: 'apiKey', user: 'Mary Manager' },
      { url: 'https://exchange.lifespan-lab.example.edu', lastUsed: new Date(this.now - 20 * 86_400_000).toISOString(), method: 'browser', user: null },
    ];
  }

  async rememberedSignIn(): Promise<RememberedSignIn | null> {
    await this.enter('rememberedSignIn', []);
    return this.kept;
  }

  async continueSignIn(url: string): Promise<Session> {
    await this.enter('continueSignIn', [url]);
    this.onDemo = false;
    this.server = null;
    if (!this.kept || this.kept.server !== url) {
      throw { kind: 'not_signed_in', message: `You are not signed in to ${url}. Sign in first.` } satisfies KnownError;
    }
    this.server = { host: new URL(url).hostname, demo: false, url };
    return { server: url, user: DEMO_USER, demo: false, remembered: true };
  }

  async checkServer(url: string): Promise<ServerCheck> {
    await this.enter('checkServer', [url]);
    const input = url.trim();
    let u: URL;
    try {
      u = new URL(/^[a-z][a-z0-9+.-]*:\/\//i.test(input) ? input : `https://${input}`);
      if (!u.hostname || !/^https?:$/.test(u.protocol) || /\s/.test(input)) throw new Error('bad');
    } catch {
      throw {
        kind: 'invalid_url',
        message: `"${input}" is not a server address JHE Desktop can use.`,
      } satisfies KnownError;
    }
    const loopback = ['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname);
    if (u.protocol === 'http:' && !loopback) {
      throw {
        kind: 'insecure_url',
        message: `${u.origin} uses plain http://, which would send your sign-in and the study data unencrypted over the network.`,
      } satisfies KnownError;
    }
    // Demo conventions so the browser preview can show each failure.
    if (u.hostname.endsWith('.invalid') || u.hostname.startsWith('offline')) {
      throw { kind: 'network', message: `Could not reach ${u.origin}: no server answered.` } satisfies KnownError;
    }
    if (u.hostname.startsWith('not-jhe') || u.hostname.startsWith('www.')) {
      throw {
        kind: 'not_jhe',
        message: `${u.origin} answered, but it does not look like a JupyterHealth Exchange server.`,
      } satisfies KnownError;
    }
    return { url: u.origin, version: '0.0.13', loopback, https: u.protocol === 'https:' };
  }

  async signIn(url: string, method: SignInMethod): Promise<Session> {
    // From the first moment, cancelSignIn() can give up waiting for the browser.
    let cancelled: BackendError | null = null;
    this.signInWaiter = (e) => (cancelled = e);
    try {
      await this.enter('signIn', [url, method]);
      if (method.kind === 'apiKey' && method.apiKey.trim().length < 8) {
        throw { kind: 'sign_in_failed', message: MESSAGES.signInFailed } satisfies KnownError;
      }
      if (method.kind === 'browser' && this.latencyMs > 0 && !cancelled) {
        // The user finishes in their browser.
        await new Promise<void>((resolve, reject) => {
          const timer = setTimeout(resolve, this.latencyMs * 6);
          this.signInWaiter = (e) => {
            clearTimeout(timer);
            reject(e);
          };
        });
      }
      if (cancelled) throw cancelled;
      this.onDemo = false;
      this.server = { host: new URL(url).hostname, demo: false, url };
      if (this.keychain) this.kept = { server: url, name: `${DEMO_USER.firstName} ${DEMO_USER.lastName}`, method: method.kind };
      return { server: url, user: DEMO_USER, demo: false, remembered: this.keychain };
    } finally {
      this.signInWaiter = null;
    }
  }

  async cancelSignIn(): Promise<void> {
    this.calls.push({ method: 'cancelSignIn', args: [] });
    this.signInWaiter?.({ kind: 'cancelled', message: 'Sign-in was cancelled.' });
  }

  async startDemo(): Promise<Session> {
    await this.enter('startDemo', []);
    this.onDemo = true;
    this.server = { host: new URL(DEMO_SERVER).hostname, demo: true };
    return { server: DEMO_SERVER, user: DEMO_USER, demo: true, remembered: false };
  }

  async signOut(): Promise<void> {
    await this.enter('signOut', []);
    // Like the app: signing out of the demo leaves the keychain alone.
    if (!this.onDemo) this.kept = null;
    this.server = null;
  }

  // ----- browsing -------------------------------------------------------------------------------

  async listOrganizations(): Promise<Organization[]> {
    await this.enter('listOrganizations', []);
    return ORGANIZATIONS.map((o) => ({ ...o }));
  }

  async listStudies(): Promise<Study[]> {
    await this.enter('listStudies', []);
    return STUDIES.map((s) => ({ ...s.study }));
  }

  async getStudyOverview(studyId: number, onProgress?: (p: OverviewProgress) => void, jobId?: string): Promise<StudyOverview> {
    await this.enter('getStudyOverview', [studyId]);
    if (jobId && this.cancelled.has(jobId)) {
      throw { kind: 'cancelled', message: 'Cancelled.' } satisfies KnownError;
    }
    const model = STUDIES.find((s) => s.study.id === studyId);
    const ps = this.studyPatients(studyId);
    onProgress?.({ done: ps.length, total: ps.length });
    const copy = this.copies.get(studyId);
    this.record('overview', studyId, ps.map((p) => p.row.id), ps.reduce((n, p) => n + Object.values(p.row.counts).reduce((a, b) => a + b, 0), 0));
    return {
      study: { ...model!.study },
      types: model!.types.map((c) => ({ code: c, label: TYPES[c]!.label, unit: TYPES[c]!.unit })),
      patients: ps.map((p) => p.row),
      ...(copy ? { syncedAt: copy.syncedAt } : {}),
    };
  }

  async getPatientData(studyId: number, patientId: number, range: DateRange): Promise<PatientData> {
    await this.enter('getPatientData', [studyId, patientId, range]);
    const p = this.patient(patientId);
    const lo = range.from ? Date.parse(`${range.from}T00:00:00Z`) : p.start;
    const hi = range.to ? Date.parse(`${range.to}T00:00:00Z`) + 86_400_000 : Math.max(p.end, p.start + 86_400_000);
    const types: TypeSeries[] = p.types.map((code) => {
      const t = TYPES[code]!;
      const w = rowWindow(p, code, range);
      const v: number[] = [];
      const v2: number[] = [];
      const all: SeriesPoint[] = [];
      for (let i = w.first; i < w.first + w.count; i++) {
        const pt = rowAt(p, code, i, w);
        v.push(pt.v);
        if (pt.v2 !== undefined) v2.push(pt.v2);
        all.push(pt);
      }
      // Bucket means: enough points for a smooth line and a useful hover readout.
      const maxPoints = 400;
      const points =
        all.length <= maxPoints
          ? all
          : Array.from({ length: maxPoints }, (_, b) => {
              const s = Math.floor((b * all.length) / maxPoints);
              const e = Math.floor(((b + 1) * all.length) / maxPoints);
              const slice = all.slice(s, e);
              const m = (f: (q: (typeof all)[number]) => number | undefined) => {
                const xs = slice.map(f).filter((x): x is number => x !== undefined);
                return xs.length ? Math.round((xs.reduce((a, c) => a + c, 0) / xs.length) * 10) / 10 : undefined;
              };
              const v2m = m((q) => q.v2);
              return { t: slice[Math.floor(slice.length / 2)]!.t, v: m((q) => q.v)!, ...(v2m === undefined ? {} : { v2: v2m }) };
            });
      const chart = renderChart(points, t.unit, lo, hi, t.valueLabels);
      return {
        code,
        label: t.label,
        unit: t.unit,
        stats: stats(v),
        ...(t.valueLabels ? { stats2: stats(v2), valueLabels: t.valueLabels } : {}),
        chartSvg: chart.svg,
        chartXAxis: { left: chart.left, right: chart.right, from: new Date(lo).toISOString(), to: new Date(hi).toISOString() },
        points,
        rows: w.count,
        notes: [],
        ...(code === 'omh:blood-glucose:4.0' && v.length ? { summary: glucoseSummary(v) } : {}),
      };
    });
    return {
      patient: p.row,
      range: { from: range.from ?? isoDay(lo), to: range.to ?? isoDay(hi - 1) },
      types,
    };
  }

  async getRows(patientId: number, code: string, offset: number, limit: number, range: DateRange = {}): Promise<RowsPage> {
    await this.enter('getRows', [patientId, code, offset, limit, range]);
    const p = this.patient(patientId);
    const w = rowWindow(p, code, range);
    const rows = [];
    const device = deviceFor(code);
    const off = readingOffsetMin(code);
    for (let i = offset; i < Math.min(w.count, offset + limit); i++) {
      const pt = rowAt(p, code, w.first + i, w);
      const t = isoAtOffset(Date.parse(pt.t), off);
      rows.push(pt.v2 === undefined ? [t, pt.v, device] : [t, pt.v, pt.v2, device]);
    }
    return { columns: rowColumns(code), rows, offset, total: w.count };
  }

  // ----- export ---------------------------------------------------------------------------------

  async exportData(jobId: string, req: ExportRequest, onProgress: (p: ExportProgress) => void): Promise<ExportResult> {
    await this.enter('exportData', [jobId, req]);
    const pass = req.encryptPassphrase;
    if (pass !== undefined && [...pass].length < 8) throw { kind: 'invalid_input', message: MESSAGES.passphraseShort } satisfies KnownError;
    let fetched = 0;
    const check = () => {
      if (this.cancelled.has(jobId)) {
        this.unfinished.set(req.outDir, (this.unfinished.get(req.outDir) ?? 0) + 4096 + fetched * 14);
        throw { kind: 'cancelled', message: MESSAGES.cancelled } satisfies KnownError;
      }
    };
    const scopePatients =
      req.scope.kind === 'patient' ? [this.patient(req.scope.patientId)] : this.studyPatients(req.scope.studyId);
    const range: DateRange = { ...(req.from ? { from: req.from } : {}), ...(req.to ? { to: req.to } : {}) };
    onProgress({ phase: 'counting', fetched: 0, expected: 0 });
    await sleep(this.tickMs);
    check();
    const perPatient = scopePatients.map((p) => {
      const byType: Record<string, number> = {};
      for (const code of req.types) byType[code] = p.types.includes(code) ? rowWindow(p, code, range).count : 0;
      return { p, byType, total: Object.values(byType).reduce((a, b) => a + b, 0) };
    });
    const expected = perPatient.reduce((a, x) => a + x.total, 0);
    // A handful of events however big the study is, like the Rust side's throttled stream.
    const steps = Math.min(perPatient.length, 40);
    for (let s = 0; s < steps; s++) {
      const a = Math.floor((s * perPatient.length) / steps);
      const b = Math.floor(((s + 1) * perPatient.length) / steps);
      for (let k = a; k < b; k++) fetched += perPatient[k]!.total;
      const cur = perPatient[b - 1]!.p.row;
      onProgress({ phase: 'fetching', fetched, expected, currentPatient: `${cur.nameGiven} ${cur.nameFamily}` });
      await sleep(this.tickMs);
      check();
    }
    onProgress({ phase: 'writing', fetched, expected });
    await sleep(this.tickMs);
    check();
    const ext = req.format === 'parquet' ? 'parquet' : 'csv';
    const bytesPerRow = ext === 'csv' ? 96 : 14;
    const files =
      req.layout === 'long'
        ? [{ name: `observations_long.${ext}`, rows: expected, bytes: expected * bytesPerRow + 2048 }]
        : req.types.map((code) => {
            const rows = perPatient.reduce((a, x) => a + (x.byType[code] ?? 0), 0);
            const base = (TYPES[code]?.label ?? code).toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/_+$/, '');
            return { name: `${base}.${ext}`, rows, bytes: rows * bytesPerRow + 1024 };
          });
    files.push({ name: 'manifest.json', rows: 0, bytes: 3_412 });
    const warnings: string[] = [];
    const noConsent = perPatient.filter((x) => req.types.some((c) => x.p.row.consent[c] && x.p.row.consent[c] !== 'consented')).length;
    if (noConsent > 0) {
      warnings.push(
        `${noConsent.toLocaleString('en-US')} ${noConsent === 1 ? 'participant has' : 'participants have'} not consented to every chosen data type; their files hold only what they agreed to share.`,
      );
    }
    if (req.scope.kind === 'study' && req.types.includes('omh:blood-glucose:4.0')) {
      warnings.push('3 glucose readings were sent in mmol/L; they were converted to mg/dL (listed in problems.csv).');
    }
    if (req.deidentify) warnings.push('De-identified: participant ids replaced by pseudonyms, identifiers and free text left out; see manifest.json.');
    onProgress({ phase: 'done', fetched, expected });
    this.unfinished.delete(req.outDir);
    // Encrypted: one file in the folder, named like the Rust side names it.
    const outDir = pass === undefined ? req.outDir : `${req.outDir}/study-${req.scope.studyId}_${isoDay(this.now)}_0915.tar.age`;
    if (pass !== undefined) this.sealed.set(outDir, pass);
    this.record('export', req.scope.studyId, perPatient.map((x) => x.p.row.id), expected, outDir);
    return { outDir, files, warnings };
  }

  async cancelExport(jobId: string): Promise<void> {
    this.calls.push({ method: 'cancelExport', args: [jobId] });
    this.cancelled.add(jobId);
  }

  async discardUnfinished(outDir: string): Promise<Discarded> {
    await this.enter('discardUnfinished', [outDir]);
    const bytes = this.unfinished.get(outDir);
    this.unfinished.delete(outDir);
    return bytes === undefined ? { exports: 0, bytes: 0 } : { exports: 1, bytes };
  }

  async pickFolder(): Promise<string | null> {
    await this.enter('pickFolder', []);
    return DEMO_OUT_DIR;
  }

  async pickExportToOpen(): Promise<string | null> {
    await this.enter('pickExportToOpen', []);
    const next = this.nextOpen;
    this.nextOpen = null;
    return next ?? `${DEMO_OUT_DIR}/CGM & Wearables Demo ${isoDay(this.now - 3 * 86_400_000)}`;
  }

  /** Tests: the next "open an export" picker returns `path` (e.g. an encrypted `.tar.age`). */
  pickNext(path: string): void {
    this.nextOpen = path;
  }

  async showInFolder(path: string): Promise<void> {
    await this.enter('showInFolder', [path]);
  }

  // ----- reports --------------------------------------------------------------------------------

  async writeReport(jobId: string, req: ReportRequest, onProgress: (p: ExportProgress) => void): Promise<ReportWritten | null> {
    await this.enter('writeReport', [jobId, req]);
    const ps = req.patientId !== undefined ? [this.patient(req.patientId)] : this.studyPatients(req.studyId);
    let fetched = 0;
    const steps = Math.min(ps.length, 10);
    for (let s = 0; s < steps; s++) {
      const a = Math.floor((s * ps.length) / steps);
      const b = Math.floor(((s + 1) * ps.length) / steps);
      for (let k = a; k < b; k++) {
        const p = ps[k]!;
        for (const code of p.types) fetched += rowWindow(p, code, req.range).count;
      }
      onProgress({ phase: 'fetching', fetched, expected: 0, message: `Reading participants: ${b} of ${ps.length}` });
      await sleep(this.tickMs);
      if (this.cancelled.has(jobId)) throw { kind: 'cancelled', message: MESSAGES.cancelled } satisfies KnownError;
    }
    const name =
      req.patientId !== undefined ? `report-study-${req.studyId}-participant-${req.patientId}.html` : `report-study-${req.studyId}.html`;
    return {
      path: `${DEMO_OUT_DIR}/${name}`,
      participants: ps.length,
      observations: fetched,
      charts: req.patientId !== undefined ? 8 : 5,
      findings: req.patientId !== undefined ? 1 : 12,
    };
  }

  async openReport(path: string): Promise<void> {
    await this.enter('openReport', [path]);
  }

  // ----- offline review -------------------------------------------------------------------------

  async openExport(path: string, passphrase?: string): Promise<OfflineReview> {
    await this.enter('openExport', [path]);
    if (path.endsWith('.age')) {
      if (!passphrase) throw { kind: 'passphrase', message: MESSAGES.passphraseNeeded(path) } satisfies KnownError;
      if (passphrase !== (this.sealed.get(path) ?? FAKE_PASSPHRASE))
        throw { kind: 'passphrase', message: MESSAGES.passphraseWrong(path) } satisfies KnownError;
    }
    this.server = null;
    const model = STUDIES[0]!;
    const ps = this.studyPatients(model.study.id).slice(0, 240);
    return {
      path,
      overview: {
        study: { ...model.study, patientCount: ps.length },
        types: model.types.map((c) => ({ code: c, label: TYPES[c]!.label, unit: TYPES[c]!.unit })),
        // Exports carry no consent: the real backend claims none either.
        patients: ps.map((p) => ({
          ...p.row,
          consent: Object.fromEntries(model.types.map((c) => [c, 'notExported' as const])),
        })),
      },
      warnings: [],
    };
  }

  // ----- local copies and new-data checks -------------------------------------------------------

  /** Tests: the background check found this (the study list shows its badge). */
  addNews(n: StudyNews): this {
    this.news.set(n.studyId, n);
    return this;
  }

  async localCopies(): Promise<LocalCopyInfo[]> {
    await this.enter('localCopies', []);
    return [...this.copies.entries()].map(([id, c]) => {
      const model = STUDIES.find((s) => s.study.id === id)!;
      return {
        server: c.server,
        studyId: id,
        studyName: model.study.name,
        organizationName: model.study.organizationName,
        participants: model.study.patientCount,
        syncedAt: c.syncedAt,
        bytes: c.bytes,
      };
    });
  }

  async openLocalCopy(server: string, studyId: number): Promise<OfflineReview> {
    await this.enter('openLocalCopy', [server, studyId]);
    const copy = this.copies.get(studyId);
    if (!copy) throw { kind: 'not_found', message: `There is no local copy of study ${studyId} from ${server} on this computer.` } satisfies KnownError;
    this.server = null;
    const model = STUDIES.find((s) => s.study.id === studyId)!;
    const ps = this.studyPatients(studyId);
    return {
      path: `${model.study.name} from ${server.replace(/^https?:\/\//, '')}`,
      overview: {
        study: { ...model.study },
        types: model.types.map((c) => ({ code: c, label: TYPES[c]!.label, unit: TYPES[c]!.unit })),
        patients: ps.map((p) => p.row),
        syncedAt: copy.syncedAt,
      },
      warnings: [],
    };
  }

  async syncStudy(studyId: number, onProgress?: (p: SyncProgress) => void, jobId?: string): Promise<SyncResult> {
    await this.enter('syncStudy', [studyId]);
    if (!this.server) throw { kind: 'not_signed_in', message: 'You are not signed in. Sign in (or open the demo exchange) first.' } satisfies KnownError;
    if (jobId && this.cancelled.has(jobId)) throw { kind: 'cancelled', message: 'Cancelled.' } satisfies KnownError;
    const ps = this.studyPatients(studyId);
    const first = !this.copies.has(studyId);
    const readings = first ? ps.reduce((n, p) => n + Object.values(p.row.counts).reduce((a, b) => a + b, 0), 0) : 0;
    onProgress?.({ readings });
    const syncedAt = new Date(this.now).toISOString();
    const bytes = Math.max(4096, readings * 48);
    this.copies.set(studyId, { server: this.server.demo ? 'demo' : (this.server.url ?? this.server.host), syncedAt, bytes });
    const overview = await this.getStudyOverview(studyId);
    return {
      studyId,
      first,
      sentence: `+${readings.toLocaleString('en-US')} readings from ${(first ? ps.length : 0).toLocaleString('en-US')} participants, 0 removed`,
      added: readings,
      changed: 0,
      removed: 0,
      participants: first ? ps.length : 0,
      stoppedUploading: 0,
      syncedAt,
      bytes,
      overview,
    };
  }

  async removeLocalCopy(server: string | null, studyId: number): Promise<void> {
    await this.enter('removeLocalCopy', [server, studyId]);
    this.copies.delete(studyId);
  }

  async removeServerCopies(): Promise<number> {
    await this.enter('removeServerCopies', []);
    const n = this.copies.size;
    this.copies.clear();
    return n;
  }

  async studyNews(): Promise<StudyNews[]> {
    this.calls.push({ method: 'studyNews', args: [] });
    return [...this.news.values()];
  }

  async clearStudyNews(studyId: number): Promise<void> {
    this.calls.push({ method: 'clearStudyNews', args: [studyId] });
    this.news.delete(studyId);
  }

  async syncEvery(): Promise<number> {
    await this.enter('syncEvery', []);
    return this.every;
  }

  async setSyncEvery(minutes: number): Promise<number> {
    await this.enter('setSyncEvery', [minutes]);
    this.every = Math.max(0, Math.min(1440, Math.round(minutes)));
    return this.every;
  }

  // ----- the activity (audit) log -------------------------------------------------------------

  async auditLog(limit?: number): Promise<AuditRow[]> {
    await this.enter('auditLog', [limit]);
    return [...this.audit].reverse().slice(0, limit ?? 500);
  }

  async verifyAudit(): Promise<AuditCheck> {
    await this.enter('verifyAudit', []);
    const broken = this.auditBrokenAt;
    return {
      path: '/home/demo/.local/share/jhe-desktop/audit.jsonl',
      entries: this.audit.length,
      ok: broken === null,
      problem: broken === null ? null : `line ${broken} (entry ${broken}) was edited: its hash does not match its content.`,
      brokenLine: broken,
      brokenSeq: broken,
      lastHash: this.audit.length ? this.audit[this.audit.length - 1]!.hash : null,
    };
  }

  async saveAuditCsv(): Promise<string | null> {
    await this.enter('saveAuditCsv', []);
    return `${DEMO_OUT_DIR}/jhe-activity-log.csv`;
  }

  // ----- about and updates ----------------------------------------------------------------------

  async aboutInfo(): Promise<AboutInfo> {
    await this.enter('aboutInfo', []);
    const info: AboutInfo = {
      version: '0.1.0',
      commit: 'preview',
      buildDate: new Date(this.now).toISOString().slice(0, 10),
      os: 'Browser preview',
      arch: 'any',
      webview: null,
      // The demo reports its JHE version; a real server in the preview reports none.
      server: this.server ? { ...this.server, version: this.server.demo ? 'v0.0.13' : null } : null,
      recentErrors: [...this.errorKinds] as AboutInfo['recentErrors'],
      diagnostics: '',
    };
    return { ...info, diagnostics: diagnosticsText(info) };
  }

  async updateSettings(): Promise<UpdateSettings> {
    await this.enter('updateSettings', []);
    return { ...this.updates };
  }

  async setUpdateCheck(on: boolean): Promise<UpdateSettings> {
    await this.enter('setUpdateCheck', [on]);
    this.updates = { ...this.updates, checkOnStart: on };
    return { ...this.updates };
  }

  async checkForUpdate(): Promise<UpdateFound | null> {
    await this.enter('checkForUpdate', []);
    // Like the Rust side: nothing is asked unless the user opted in.
    return this.updates.checkOnStart === true && this.updates.host ? this.update : null;
  }

  async installUpdate(): Promise<void> {
    await this.enter('installUpdate', []);
  }
}

/** The same text as `jhe_app::about::diagnostics_text`. */
export function diagnosticsText(i: AboutInfo): string {
  const server = i.server
    ? `${i.server.host}${i.server.demo ? ' (demo exchange)' : ''}, JHE version ${i.server.version ?? 'not reported'}`
    : 'not signed in';
  return [
    `JHE Desktop ${i.version}`,
    `Commit: ${i.commit}`,
    `Built: ${i.buildDate}`,
    `System: ${i.os} ${i.arch}`,
    `Web view: ${i.webview ?? 'not reported'}`,
    `Server: ${server}`,
    `Recent error kinds (oldest first): ${i.recentErrors.length ? i.recentErrors.join(', ') : 'none'}`,
    '',
  ].join('\n');
}

/** A glucose summary like the Rust side's (consensus bands, plausible 20–600 mg/dL), for the preview. */
function glucoseSummary(all: number[]): Summary {
  const v = all.filter((x) => x >= 20 && x <= 600);
  const share = (f: (x: number) => boolean) => (v.length ? (v.filter(f).length / v.length) * 100 : 0);
  const mean = v.length ? v.reduce((a, b) => a + b, 0) / v.length : null;
  const sd = v.length > 1 && mean !== null ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : null;
  const excluded = all.length - v.length;
  return {
    bands: [
      { key: 'very-low', label: 'Very low: below 54', percent: share((x) => x < 54), goal: 'goal under 1 %' },
      { key: 'low', label: 'Low: 54–69', percent: share((x) => x >= 54 && x < 70), goal: 'goal under 4 %' },
      { key: 'in-range', label: 'In range: 70–180', percent: share((x) => x >= 70 && x <= 180), goal: 'goal over 70 %' },
      { key: 'high', label: 'High: 181–250', percent: share((x) => x > 180 && x <= 250), goal: 'goal under 25 %' },
      { key: 'very-high', label: 'Very high: above 250', percent: share((x) => x > 250), goal: 'goal under 5 %' },
    ],
    metrics: [
      { label: 'Average glucose', value: mean, decimals: 0, text: null, unit: 'mg/dL', help: 'Mean of the readings.' },
      { label: 'GMI', value: mean === null ? null : 3.31 + 0.02392 * mean, decimals: 1, text: null, unit: '%', help: 'Glucose management indicator.' },
      { label: 'Variability (CV)', value: mean && sd !== null ? (sd / mean) * 100 : null, decimals: 1, text: null, unit: '%', help: 'SD ÷ mean.' },
    ],
    basis: `From ${v.length} reading(s) in this period; days are the participant's local dates.${excluded ? ` ${excluded} implausible reading(s) (outside glucose 20–600 mg/dL) are not counted.` : ''}`,
    excluded,
    // Like the Rust side: a daily pattern from two days of 5-minute readings on.
    ...(v.length >= 2 * 288
      ? {
          profile: {
            title: 'Daily pattern (AGP)',
            caption: `All ${Math.floor(v.length / 288)} days laid over one day, by the participant's clock: the line is the median reading at each time of day.`,
            svg: '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 760 260"><polygon points="70,200 690,180 690,60 70,90" fill="var(--chart-agp-outer, #3B82F6)" opacity="0.16"/><polyline points="70,150 380,120 690,140" fill="none" stroke="var(--chart-agp-median, #1E293B)"/><text x="70" y="250">00:00</text></svg>',
          },
        }
      : {}),
  };
}
