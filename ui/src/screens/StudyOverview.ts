// "How is my study going?": who is enrolled, who consented to what, who has stopped uploading,
// and a way into each participant and out to a file for the statistician.
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type BackendError, type OverviewProgress, type Study, type StudyOverview } from '../backend/types';
import { int, plural } from '../lib/format';
import { newJobId } from '../lib/job';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';
import { CONSENT_TEXT, ParticipantsTable, STALE_DAYS, uploadGroup, type ConsentFilter, type UploadFilter } from './ParticipantsTable';

export class StudyOverviewScreen {
  overview: StudyOverview | null = null;
  table: ParticipantsTable | null = null;
  loading = false;
  progress: OverviewProgress | null = null;
  error: BackendError | null = null;

  constructor(
    private readonly host: Host,
    private readonly study: Study,
    preloaded?: StudyOverview,
  ) {
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
      },
      '#export-study',
    );
  };

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
    const box = (n: number, text: string, pressed: boolean, onClick: () => void, cls = '') =>
      html`<li class=${cls}>
        <button type="button" class="tile" aria-pressed=${pressed ? 'true' : 'false'} @click=${onClick}>
          <strong>${int(n)}</strong> ${text}
        </button>
      </li>`;
    const upload = (g: UploadFilter) => () => {
      const on = t.upload === g;
      t.clearFilters();
      if (!on) t.setUpload(g);
    };
    return html`<ul class="summary" aria-label="Study at a glance (choose one to show those participants)">
      ${box(o.patients.length, o.patients.length === 1 ? 'participant' : 'participants', everyone, () => t.clearFilters())}
      ${box(groups.recent, `uploaded in the last ${STALE_DAYS} days`, t.upload === 'recent', upload('recent'))}
      ${box(groups.stale, `no upload for more than ${STALE_DAYS} days`, t.upload === 'stale', upload('stale'), groups.stale ? 'warn' : '')}
      ${box(groups.never, 'never uploaded', t.upload === 'never', upload('never'), groups.never ? 'warn' : '')}
      ${this.host.offline
        ? nothing
        : box(pending, 'with consent pending', t.consent === 'pending' && t.upload === 'all', () => {
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
    return html`<main class="page study" aria-labelledby="screen-title" aria-busy=${this.loading ? 'true' : 'false'}>
      <div class="page-head">
        <div>
          <h1 id="screen-title" tabindex="-1">${this.study.name}</h1>
          <p class="muted">${this.study.organizationName}${this.study.description ? ` · ${this.study.description}` : ''}</p>
        </div>
        ${o && !offline
          ? html`<button type="button" id="export-study" class="btn primary" @click=${this.exportStudy}>Export study…</button>`
          : nothing}
      </div>
      ${this.loading
        ? html`<p role="status"><span class="spinner" aria-hidden="true"></span>
            ${this.progress && this.progress.total
              ? `Reading participants: ${int(this.progress.done)} of ${int(this.progress.total)}…`
              : `Reading ${plural(this.study.patientCount, 'participant', 'participants')}…`}
            <button type="button" class="btn small" id="overview-cancel" @click=${this.cancelLoad}>Cancel</button></p>`
        : nothing}
      ${this.error ? errorNotice(this.error, { retry: this.load }) : nothing}
      ${o && t
        ? html`${this.summary(o, t)}
            <div class="toolbar" role="search" aria-label="Find participants">
              <div class="field inline">
                <label for="participant-search">Search</label>
                <input id="participant-search" type="search" placeholder="Name, MRN or ID" .value=${t.query}
                  @input=${(e: Event) => t.setQuery((e.target as HTMLInputElement).value)} />
              </div>
              ${offline
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
              ${offline
                ? html`Data type columns show the number of observations in the files (exports do not record
                    consent).`
                : html`Data type columns show consent and the number of observations:
                    ${(['consented', 'pending', 'declined'] as const).map(
                      (s) => html`<span class=${`consent-${s}`}><span aria-hidden="true">${CONSENT_TEXT[s].icon}</span> ${CONSENT_TEXT[s].text}</span>`,
                    )}`}
              · Dates are in UTC.
            </p>
            ${t.render()}`
        : nothing}
      ${o && o.patients.length === 0 ? html`<p>No participants are enrolled in this study yet.</p>` : nothing}
    </main>`;
  }
}
