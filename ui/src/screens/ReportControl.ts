// "Write report…": one button that asks where to save, shows progress while Rust gathers the data
// (live or from the files under review) and writes the HTML, then offers to open it. The same
// control serves the study overview (a study report) and a participant (their report, over the
// period the screen shows).
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type BackendError, type ReportRequest, type ReportWritten } from '../backend/types';
import { int, plural } from '../lib/format';
import { newJobId } from '../lib/job';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';

export class ReportControl {
  running = false;
  status = '';
  written: ReportWritten | null = null;
  error: BackendError | null = null;
  private jobId = '';

  constructor(
    private readonly host: Host,
    /** The request at the moment of the click (a participant's current period). */
    private readonly request: () => ReportRequest,
    /** e.g. "study" or "participant": the button says "Write study report…". */
    private readonly what: string,
  ) {}

  write = async (): Promise<void> => {
    this.running = true;
    this.error = null;
    this.written = null;
    this.status = 'Choose where to save the report…';
    this.jobId = newJobId();
    this.host.requestUpdate();
    try {
      const done = await this.host.backend.writeReport(this.jobId, this.request(), (p) => {
        this.status = `${p.message ?? 'Reading the data'}${p.fetched ? ` · ${int(p.fetched)} readings` : ''}…`;
        this.host.requestUpdate();
      });
      this.written = done;
      if (done) this.host.focusAfterRender('#report-open');
    } catch (e) {
      const err = toBackendError(e);
      if (err.kind !== 'cancelled') this.error = err;
    }
    this.running = false;
    this.host.requestUpdate();
  };

  private cancel = (): void => {
    void this.host.backend.cancelExport(this.jobId);
  };

  private open = async (): Promise<void> => {
    if (!this.written) return;
    try {
      await this.host.backend.openReport(this.written.path);
    } catch (e) {
      this.error = toBackendError(e);
      this.host.requestUpdate();
    }
  };

  private reveal = async (): Promise<void> => {
    if (!this.written) return;
    try {
      await this.host.backend.showInFolder(this.written.path);
    } catch (e) {
      this.error = toBackendError(e);
      this.host.requestUpdate();
    }
  };

  /** The button, for the page head. */
  button(): TemplateResult {
    return html`<button type="button" id="write-report" class="btn" ?disabled=${this.running} @click=${this.write}
      title="One web page with the numbers, charts, data quality and where the data came from; open it in any browser and print it to PDF."
      >Write ${this.what} report…</button>`;
  }

  /** Progress, the result or the error, below the page head. */
  notice(): TemplateResult | typeof nothing {
    if (this.running) {
      return html`<p role="status" class="report-status"><span class="spinner" aria-hidden="true"></span> ${this.status}
        <button type="button" class="btn small" id="report-cancel" @click=${this.cancel}>Cancel</button></p>`;
    }
    if (this.error) return errorNotice(this.error, { retry: this.write });
    const w = this.written;
    if (!w) return nothing;
    return html`<div class="notice report-done" role="status">
      <p><strong>Report saved</strong> — ${plural(w.participants, 'participant', 'participants')},
        ${plural(w.observations, 'reading', 'readings')}, ${plural(w.charts, 'chart', 'charts')},
        ${w.findings ? plural(w.findings, 'data-quality finding', 'data-quality findings') : 'no data-quality findings'}.
        <span class="mono report-path">${w.path}</span></p>
      <p><button type="button" id="report-open" class="btn small primary" @click=${this.open}>Open report</button>
        <button type="button" class="btn small" @click=${this.reveal}>Show in folder</button>
        <span class="muted">It opens in your web browser; print it from there to make a PDF.</span></p>
    </div>`;
  }
}
