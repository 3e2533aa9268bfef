// The activity log: every retrieval, sync, export, report and offline open this computer made
// (who, which server, which study, how many participants and readings, where it was written),
// from the tamper-evident audit log the app and `jhe` share. "Check the log" verifies its hash
// chain; "Save as CSV…" writes it for a monitor or an auditor. Ids and counts only, no names.
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type AuditCheck, type AuditRow, type BackendError } from '../backend/types';
import { dateTime, int, plural, utc } from '../lib/format';
import type { Host } from './host';
import { closeOnEscape } from '../lib/dialog';

/** What each action means, in a coordinator's words. */
const ACTION_TEXT: Record<string, string> = {
  retrieve: 'Viewed a participant',
  overview: 'Opened a study',
  check: 'Checked data quality',
  metrics: 'Computed metrics',
  sync: 'Synced the local copy',
  export: 'Exported',
  report: 'Wrote a report',
  offline_open: 'Opened offline',
  copy_removed: 'Removed the local copy',
};

export class ActivityLogDialog {
  rows: AuditRow[] | null = null;
  check: AuditCheck | null = null;
  saved: string | null = null;
  error: BackendError | null = null;
  checking = false;

  constructor(
    private readonly host: Host,
    private readonly onClose: () => void,
  ) {}

  async start(): Promise<void> {
    try {
      this.rows = await this.host.backend.auditLog(500);
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.host.requestUpdate();
  }

  close = (): void => this.onClose();

  private onKey = closeOnEscape(() => this.close());

  private verify = async (): Promise<void> => {
    this.checking = true;
    this.host.requestUpdate();
    try {
      this.check = await this.host.backend.verifyAudit();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.checking = false;
    this.host.requestUpdate();
  };

  private save = async (): Promise<void> => {
    try {
      this.saved = await this.host.backend.saveAuditCsv();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.host.requestUpdate();
  };

  private checked(): TemplateResult | typeof nothing {
    const c = this.check;
    if (!c) return nothing;
    if (c.ok) {
      return html`<p class="success" role="status" id="audit-ok">The log is intact: ${plural(c.entries, 'entry', 'entries')}, each
        linked to the one before; none was edited, removed or reordered.</p>`;
    }
    return html`<p role="alert" class="warn-text" id="audit-broken">The log was altered: ${c.problem} Entries from there on
      cannot be trusted; keep the file as it is and tell your data manager.</p>`;
  }

  private table(rows: AuditRow[]): TemplateResult {
    if (rows.length === 0) return html`<p class="muted">Nothing recorded yet.</p>`;
    return html`<div class="audit-scroll">
      <table class="audit" aria-label="Activity, newest first">
        <thead>
          <tr><th scope="col">When</th><th scope="col">Who</th><th scope="col">What</th><th scope="col">Study</th>
            <th scope="col" class="num">Participants</th><th scope="col" class="num">Readings</th><th scope="col">Written to</th></tr>
        </thead>
        <tbody>
          ${rows.map(
            (r) => html`<tr data-seq=${r.seq}>
              <td title=${utc(r.at)}>${dateTime(r.at)}</td>
              <td>${r.who || '—'}<span class="muted small">${r.server ? html`<br />${r.server.replace(/^https?:\/\//, '')}` : nothing}</span></td>
              <td>${ACTION_TEXT[r.action] ?? r.action}${r.from || r.to ? html`<br /><span class="muted small">${r.from ?? '…'} to ${r.to ?? '…'}</span>` : nothing}</td>
              <td>${r.study ?? '—'}</td>
              <td class="num">${r.participants.length ? int(r.participants.length) : '—'}</td>
              <td class="num">${int(r.rows)}</td>
              <td class="mono small">${r.writtenTo ?? ''}</td>
            </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  render(): TemplateResult {
    return html`<div class="backdrop">
      <div class="dialog activity" role="dialog" aria-modal="true" aria-labelledby="activity-title" @keydown=${this.onKey}>
        <h2 id="activity-title" tabindex="-1">Activity log</h2>
        <p class="muted">Every time data was read, synced, exported, reported on or opened offline on this computer —
          by this app or the <code>jhe</code> command line. Each entry carries the fingerprint of the one before, so a
          changed or deleted entry shows. Participant ids and counts only, no names or values.</p>
        ${this.error ? html`<p role="alert">${this.error.message}</p>` : nothing}
        ${this.rows ? this.table(this.rows) : this.error ? nothing : html`<p aria-live="polite">Loading…</p>`}
        ${this.checked()}
        ${this.saved ? html`<p class="success" role="status">Saved to <span class="mono">${this.saved}</span>.</p>` : nothing}
        <div class="dialog-actions">
          <button type="button" class="btn" id="audit-verify" ?disabled=${this.checking} @click=${this.verify}>Check the log</button>
          <button type="button" class="btn" id="audit-save" @click=${this.save}>Save as CSV…</button>
          <button type="button" class="btn primary" id="activity-close" @click=${this.close}>Close</button>
        </div>
      </div>
    </div>`;
  }
}
