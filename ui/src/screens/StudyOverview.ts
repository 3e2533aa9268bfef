// "How is my study going?": who is enrolled, who consented to what, who has stopped uploading,
// and a way into each participant and out to a file for the statistician.
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type BackendError, type OverviewProgress, type Study, type StudyOverview, type SyncResult } from '../backend/types';
import { bytes, int, plural, timeAgo } from '../lib/format';
import { newJobId } from '../lib/job';
import { loadRules, reasons, saveRules, type AttentionRules } from '../lib/attention';
import { errorNotice } from './ErrorNotice';
import { ReportControl } from './ReportControl';
import type { Host } from './host';
import { CONSENT_TEXT, identifierSystems, ParticipantsTable, STALE_DAYS, uploadGroup, type ConsentFilter, type UploadFilter } from './ParticipantsTable';

/** How many flagged participants the attention card lists before "Show all". */
const ATTENTION_SHOWN = 4;

export class StudyOverviewScreen {
  overview: StudyOverview | null = null;
  table: ParticipantsTable | null = null;
  /** "Who needs a nudge": the coordinator's rules (remembered), the rules form, the whole list. */
  rules: AttentionRules = loadRules();
  showRules = false;
  showAllFlagged = false;
  loading = false;
  progress: OverviewProgress | null = null;
  error: BackendError | null = null;
  readonly report: ReportControl;
  /** The study's copy on this computer: being synced (readings so far), the last sync, a failure. */
  syncing: { readings: number } | null = null;
  synced: SyncResult | null = null;
  syncError: BackendError | null = null;
  /** The copy was removed ("Remove local copy"). */
  copyRemoved = false;
  private syncJob = '';

  constructor(
    private readonly host: Host,
    private readonly study: Study,
    preloaded?: StudyOverview,
  ) {
    this.report = new ReportControl(host, () => ({ studyId: this.study.id, range: {} }), 'study');
    if (preloaded) this.setOverview(preloaded);
    else void this.load();
  }

  get crumb(): string {
    return this.study.name;
  }

  private setOverview(o: StudyOverview): void {
    this.overview = o;
    this.table = new ParticipantsTable(o, () => this.host.requestUpdate(), (row) => this.host.openParticipant(o, row));
  }

  private jobId = '';

  load = async (): Promise<void> => {
    this.loading = true;
    this.error = null;
    this.progress = null;
    this.jobId = newJobId();
    this.host.requestUpdate();
    try {
      const o = await this.host.backend.getStudyOverview(
        this.study.id,
        (p) => {
          this.progress = p;
          this.host.requestUpdate();
        },
        this.jobId,
      );
      this.setOverview(o);
      if (!this.host.offline) {
        this.host.seenNews(this.study.id);
        void this.sync();
      }
    } catch (e) {
      const err = toBackendError(e);
      this.loading = false;
      // Cancelled on purpose: back to where the user came from.
      if (err.kind === 'cancelled') {
        this.host.back();
        return;
      }
      this.error = err;
    }
    this.loading = false;
    this.host.requestUpdate();
  };

  /** Brings the study's copy on this computer up to date (making it the first time), in the
   * background: the table stays usable; a sync that changed something refreshes it. */
  sync = async (): Promise<void> => {
    if (this.syncing || this.host.offline) return;
    this.syncing = { readings: 0 };
    this.syncError = null;
    this.copyRemoved = false;
    this.syncJob = newJobId();
    this.host.requestUpdate();
    try {
      const r = await this.host.backend.syncStudy(
        this.study.id,
        (p) => {
          this.syncing = { readings: p.readings };
          this.host.requestUpdate();
        },
        this.syncJob,
      );
      this.synced = r;
      // Shown from an older copy, or changed since: the table shows the copy as it is now.
      if (this.overview?.syncedAt && (r.added || r.changed || r.removed)) this.setOverview(r.overview);
      else if (this.overview) this.overview = { ...this.overview, syncedAt: r.syncedAt };
    } catch (e) {
      const err = toBackendError(e);
      if (err.kind !== 'cancelled') this.syncError = err;
    }
    this.syncing = null;
    this.host.requestUpdate();
  };

  private removeCopy = async (): Promise<void> => {
    try {
      if (this.syncing) await this.host.backend.cancelExport(this.syncJob);
      await this.host.backend.removeLocalCopy(null, this.study.id);
      this.copyRemoved = true;
      this.synced = null;
      if (this.overview) this.overview = { ...this.overview, syncedAt: undefined };
    } catch (e) {
      this.syncError = toBackendError(e);
    }
    this.host.requestUpdate();
  };

  /** One line under the heading: is this study kept on this computer, how fresh, how big. */
  private copyStatus(): TemplateResult | typeof nothing {
    if (this.host.offline || !this.overview) return nothing;
    const now = this.host.now();
    const at = this.synced?.syncedAt ?? this.overview.syncedAt;
    const size = this.synced ? ` · ${bytes(this.synced.bytes)}` : '';
    let text: TemplateResult;
    if (this.syncing) {
      text = html`<span class="spinner" aria-hidden="true"></span>
        ${at ? `Shown from the copy on this computer (synced ${timeAgo(at, now)}); checking the server for new data…` : 'Saving this study on this computer for offline use…'}
        ${this.syncing.readings ? ` ${int(this.syncing.readings)} readings so far.` : ''}`;
    } else if (this.copyRemoved) {
      text = html`The copy on this computer was removed. <button type="button" class="btn small link" id="sync-now" @click=${this.sync}>Save it again</button>`;
    } else if (at) {
      text = html`Saved on this computer for offline use · last synced ${timeAgo(at, now)}${size}${this.synced ? html` · <span id="sync-sentence">${this.synced.sentence}</span>` : nothing}
        <button type="button" class="btn small link" id="sync-now" @click=${this.sync}>Sync now</button>
        <button type="button" class="btn small link" id="remove-copy" @click=${this.removeCopy}>Remove local copy</button>`;
    } else {
      text = html`Not saved on this computer. <button type="button" class="btn small link" id="sync-now" @click=${this.sync}>Save for offline use</button>`;
    }
    return html`<p class="copy-status muted" role="status" aria-live="polite" data-synced=${at ?? ''}>${text}
      ${this.syncError ? html`<span class="warn-text"> The copy could not be updated: ${this.syncError.message}</span>` : nothing}</p>`;
  }

  private cancelLoad = (): void => {
    void this.host.backend.cancelExport(this.jobId);
  };

  private exportStudy = (): void => {
    const o = this.overview!;
    this.host.openExport(
      {
        scope: { kind: 'study', studyId: o.study.id },
        title: `Export study: ${o.study.name}`,
        subtitle: plural(o.patients.length, 'participant', 'participants'),
        types: o.types,
        identifierSystems: identifierSystems(o.patients),
        saved: !this.copyRemoved && Boolean(this.synced?.syncedAt ?? o.syncedAt),
      },
      '#export-study',
    );
  };

  private setRules(patch: Partial<AttentionRules>): void {
    this.rules = { ...this.rules, ...patch };
    saveRules(this.rules);
    this.host.requestUpdate();
  }

  /** The participants the rules flag, with why, at the top of the study (the first
   * [`ATTENTION_SHOWN`], one line each at 1280 px, so the table keeps the screen). */
  private attention(o: StudyOverview): TemplateResult {
    const flagged = o.patients
      .map((p) => ({ p, why: reasons(p, o.types, this.rules) }))
      .filter((x) => x.why.length > 0);
    const shown = this.showAllFlagged ? flagged : flagged.slice(0, ATTENTION_SHOWN);
    const r = this.rules;
    const check = (key: 'neverUploaded' | 'consentedNoData' | 'consentPending', label: string) =>
      html`<label class="check"><input type="checkbox" .checked=${r[key]}
        @change=${(e: Event) => this.setRules({ [key]: (e.target as HTMLInputElement).checked })} /> ${label}</label>`;
    return html`<section class="attention card" aria-labelledby="attention-title">
      <div class="attention-head">
        <h2 id="attention-title">${flagged.length ? `${plural(flagged.length, 'participant needs', 'participants need')} attention` : 'Nobody needs attention'}</h2>
        <button type="button" class="btn small" id="attention-rules" aria-expanded=${this.showRules ? 'true' : 'false'}
          @click=${() => ((this.showRules = !this.showRules), this.host.requestUpdate())}>Rules…</button>
      </div>
      ${this.showRules
        ? html`<div class="attention-rules" role="group" aria-label="Who needs attention">
            <label class="field inline">No upload for more than
              <input id="rule-days" type="number" min="1" max="365" .value=${String(r.noUploadDays)}
                @change=${(e: Event) => {
                  const n = Math.round(Number((e.target as HTMLInputElement).value));
                  if (n >= 1 && n <= 365) this.setRules({ noUploadDays: n });
                }} /> days</label>
            ${check('neverUploaded', 'Never uploaded')} ${check('consentedNoData', 'Consented to a type but no data of it')}
            ${this.host.offline && !this.host.offline.syncedAt ? nothing : check('consentPending', 'Consent still pending')}
            <span class="muted">Remembered on this computer.</span>
          </div>`
        : nothing}
      ${flagged.length
        ? html`<ul class="attention-list">
              ${shown.map(
                (x) => html`<li data-attention=${x.p.id}>
                  <button type="button" class="btn link" @click=${() => this.host.openParticipant(o, x.p)}>
                    ${`${x.p.nameGiven} ${x.p.nameFamily}`.trim() || `Participant ${x.p.id}`}</button>
                  <span class="muted">(${x.p.id})</span> —
                  ${x.why.map(
                    (w, i) => html`${i ? '; ' : ''}${w.detail
                        ? html`<span title=${w.detail}><span aria-hidden="true">${w.text}</span><span class="sr-only">${w.detail}</span></span>`
                        : w.text}`,
                  )}
                </li>`,
              )}
            </ul>
            ${flagged.length > shown.length
              ? html`<button type="button" class="btn small" @click=${() => ((this.showAllFlagged = true), this.host.requestUpdate())}>
                  Show all ${int(flagged.length)}</button>`
              : nothing}`
        : nothing}
    </section>`;
  }

  /** The study at a glance; each box shows the participants it counts when clicked. */
  private summary(o: StudyOverview, t: ParticipantsTable): TemplateResult {
    const codes = o.types.map((c) => c.code);
    const groups = { recent: 0, stale: 0, never: 0 };
    let pending = 0;
    for (const p of o.patients) {
      groups[uploadGroup(p)]++;
      if (codes.some((c) => p.consent[c] === 'pending')) pending++;
    }
    const everyone = t.upload === 'all' && t.consent === 'all' && !t.staleOnly && !t.query;
    const box = (key: string, n: number, text: string, pressed: boolean, onClick: () => void, cls = '') =>
      html`<li class=${cls}>
        <button type="button" class="tile" data-box=${key} aria-pressed=${pressed ? 'true' : 'false'} @click=${onClick}>
          <strong>${int(n)}</strong> ${text}
        </button>
      </li>`;
    const upload = (g: UploadFilter) => () => {
      const on = t.upload === g;
      t.clearFilters();
      if (!on) t.setUpload(g);
    };
    return html`<ul class="summary" aria-label="Study at a glance (choose one to show those participants)">
      ${box('all', o.patients.length, o.patients.length === 1 ? 'participant' : 'participants', everyone, () => t.clearFilters())}
      ${box('recent', groups.recent, `uploaded in the last ${STALE_DAYS} days`, t.upload === 'recent', upload('recent'))}
      ${box('stale', groups.stale, `no upload for more than ${STALE_DAYS} days`, t.upload === 'stale', upload('stale'), groups.stale ? 'warn' : '')}
      ${box('never', groups.never, 'never uploaded', t.upload === 'never', upload('never'), groups.never ? 'warn' : '')}
      ${this.host.offline && !this.host.offline.syncedAt
        ? nothing
        : box('pending', pending, 'with consent pending', t.consent === 'pending' && t.upload === 'all', () => {
            const on = t.consent === 'pending' && t.upload === 'all';
            t.clearFilters();
            if (!on) t.setConsent('pending');
          })}
    </ul>`;
  }

  render(): TemplateResult {
    const o = this.overview;
    const t = this.table;
    const offline = this.host.offline;
    // Exports carry no consent; a study's local copy does.
    const filesOnly = offline && !offline.syncedAt;
    return html`<main class="page study" aria-labelledby="screen-title" aria-busy=${this.loading ? 'true' : 'false'}>
      <div class="page-head">
        <div>
          <h1 id="screen-title" tabindex="-1">${this.study.name}</h1>
          <p class="muted">${this.study.organizationName}${this.study.description ? ` · ${this.study.description}` : ''}</p>
        </div>
        ${o
          ? html`<div class="head-actions">
              ${this.report.button()}
              ${filesOnly ? nothing : html`<button type="button" id="export-study" class="btn primary" @click=${this.exportStudy}>Export study…</button>`}
            </div>`
          : nothing}
      </div>
      ${this.copyStatus()} ${this.report.notice()}
      ${this.loading
        ? html`<p role="status"><span class="spinner" aria-hidden="true"></span>
            ${this.progress && this.progress.total
              ? `Reading participants: ${int(this.progress.done)} of ${int(this.progress.total)}…`
              : `Reading ${plural(this.study.patientCount, 'participant', 'participants')}…`}
            <button type="button" class="btn small" id="overview-cancel" @click=${this.cancelLoad}>Cancel</button></p>`
        : nothing}
      ${this.error ? errorNotice(this.error, { retry: this.load }) : nothing}
      ${o && t
        ? html`<button type="button" class="skip-link" @click=${() => this.host.focusAfterRender('.vscroll.participants')}>
              Skip to the participants table</button>
            ${this.summary(o, t)} ${this.attention(o)}
            <div class="toolbar" role="search" aria-label="Find participants">
              <div class="field inline">
                <label for="participant-search">Search</label>
                <input id="participant-search" type="search" placeholder="Name, MRN or ID" .value=${t.query}
                  @input=${(e: Event) => t.setQuery((e.target as HTMLInputElement).value)} />
              </div>
              ${filesOnly
                ? nothing
                : html`<div class="field inline">
                <label for="consent-filter">Consent</label>
                <select id="consent-filter" @change=${(e: Event) => t.setConsent((e.target as HTMLSelectElement).value as ConsentFilter)}>
                  <option value="all" ?selected=${t.consent === 'all'}>Everyone</option>
                  <option value="consented" ?selected=${t.consent === 'consented'}>Consented to all types</option>
                  <option value="pending" ?selected=${t.consent === 'pending'}>Consent pending</option>
                  <option value="declined" ?selected=${t.consent === 'declined'}>Declined a type</option>
                </select>
              </div>`}
              <label class="check">
                <input id="stale-only" type="checkbox" .checked=${t.staleOnly}
                  @change=${(e: Event) => t.setStaleOnly((e.target as HTMLInputElement).checked)} />
                No upload for more than ${STALE_DAYS} days
              </label>
              <p class="count" role="status" aria-live="polite">
                Showing ${int(t.rows().length)} of ${plural(o.patients.length, 'participant', 'participants')}
              </p>
            </div>
            <p class="legend" aria-label="How to read the table">
              ${filesOnly
                ? html`Data type columns show the number of observations in the files (exports do not record
                    consent).`
                : html`Data type columns show consent and the number of observations:
                    ${(['consented', 'pending', 'declined'] as const).map(
                      (s) => html`<span class=${`consent-${s}`}><span aria-hidden="true">${CONSENT_TEXT[s].icon}</span> ${CONSENT_TEXT[s].text}</span>`,
                    )}`}
              · Dates are in this computer's time zone; point at one to see it in UTC.
            </p>
            ${t.render()}`
        : nothing}
      ${o && o.patients.length === 0 ? html`<p>No participants are enrolled in this study yet.</p>` : nothing}
    </main>`;
  }
}
