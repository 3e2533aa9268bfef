// Saving data for the statistician: pick what, when, which format and where, then watch it
// download with real counts, with a way out (Cancel) and a way to the files at the end.
import { warnIcon } from '../lib/icons';
import { html, nothing, type TemplateResult } from 'lit-html';
import {
  toBackendError,
  type BackendError,
  type DeidentifyShift,
  type ExportFormat,
  type ExportProgress,
  type ExportRequest,
  type ExportResult,
} from '../backend/types';
import { bytes, int, plural } from '../lib/format';
import { errorNotice } from './ErrorNotice';
import type { ExportTarget, Host } from './host';
import { newJobId } from '../lib/job';

type Stage = 'form' | 'running' | 'done' | 'failed';

const PHASE_TEXT: Record<ExportProgress['phase'], string> = {
  counting: 'Counting observations on the server…',
  fetching: 'Downloading observations…',
  writing: 'Writing your files…',
  done: 'Finished.',
};

export class ExportDialog {
  stage: Stage = 'form';
  types: Set<string>;
  allDates = true;
  from = '';
  to = '';
  format: ExportFormat = 'csv';
  /** Identifier systems to list in participants.csv (all of the target's at first). */
  idSystems: Set<string>;
  layout: 'perType' | 'long' = 'perType';
  /** Leave out readings the data-quality check finds wrong (findings.csv lists them anyway). */
  leaveOutFlagged = false;
  /** Download again from the server although the study is kept on this computer. */
  fromServer = false;
  /** De-identify, and how to shift times (null: a plain export). */
  deidentify: DeidentifyShift | null = null;
  /** Encrypt into one passphrase-protected file (the passphrase is typed twice). */
  encrypt = false;
  passphrase = '';
  passphraseAgain = '';
  outDir = '';
  problem = '';
  jobId = '';
  cancelling = false;
  progress: ExportProgress | null = null;
  result: ExportResult | null = null;
  error: BackendError | null = null;
  /** After "Delete what was downloaded": what happened, in words. */
  discardNote = '';
  discarding = false;

  constructor(
    private readonly host: Host,
    readonly target: ExportTarget,
    private readonly onClose: () => void,
  ) {
    this.types = new Set(target.types.map((t) => t.code));
    this.idSystems = new Set((target.identifierSystems ?? []).map((s) => s.system));
  }

  /** All of the target's systems: absent (the backend then lists every one); else those ticked. */
  private identifierChoice(): { identifierSystems?: string[] } {
    const all = this.target.identifierSystems ?? [];
    if (all.every((s) => this.idSystems.has(s.system))) return {};
    return { identifierSystems: all.map((s) => s.system).filter((s) => this.idSystems.has(s)) };
  }

  private update(): void {
    this.host.requestUpdate();
  }

  close = (): void => {
    if (this.stage === 'running') return;
    this.onClose();
  };

  private onKey = (e: KeyboardEvent): void => {
    if (e.key === 'Escape') {
      e.preventDefault();
      this.close();
      return;
    }
    if (e.key !== 'Tab') return;
    // Keep keyboard focus inside the dialog while it is open.
    const box = e.currentTarget as HTMLElement;
    const items = Array.from(box.querySelectorAll<HTMLElement>('button, input, select, [tabindex="0"]')).filter(
      (el) => !(el as HTMLButtonElement).disabled,
    );
    if (!items.length) return;
    const first = items[0]!;
    const last = items[items.length - 1]!;
    const active = box.ownerDocument.activeElement;
    if (e.shiftKey && active === first) {
      e.preventDefault();
      last.focus();
    } else if (!e.shiftKey && active === last) {
      e.preventDefault();
      first.focus();
    }
  };

  private toggleType(code: string, on: boolean): void {
    if (on) this.types.add(code);
    else this.types.delete(code);
    this.problem = '';
    this.update();
  }

  private chooseFolder = async (): Promise<void> => {
    try {
      const dir = await this.host.backend.pickFolder();
      if (dir) {
        this.outDir = dir;
        this.problem = '';
      }
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.update();
  };

  /** "De-identify for sharing": pseudonyms, no identifiers or free text, shifted dates; and
   * "Encrypt with a passphrase": one file only that passphrase opens. */
  private privacyFieldset(): TemplateResult {
    const on = this.deidentify !== null;
    const shift = (v: DeidentifyShift, label: string, hint: string) =>
      html`<label class="check"><input type="radio" name="deid-shift" value=${v} .checked=${this.deidentify === v}
          @change=${() => ((this.deidentify = v), this.update())} /> ${label} <span class="muted">— ${hint}</span></label>`;
    return html`<fieldset id="export-deid">
      <legend>Privacy</legend>
      <label class="check"><input type="checkbox" name="deidentify" .checked=${on}
          @change=${(e: Event) => ((this.deidentify = (e.target as HTMLInputElement).checked ? 'days' : null), this.update())} />
        De-identify for sharing <span class="muted">— participant ids become pseudonyms (the same in every export of
        this study), identifiers and free text are left out</span></label>
      ${on
        ? html`<div class="deid-shift" role="group" aria-label="Dates">
            ${shift('days', 'Shift each participant’s dates', 'back by the same random 0–364 days for all their readings; time of day and intervals kept')}
            ${shift('weeks', 'Shift by whole weeks', 'weekdays kept too')}
            ${shift('none', 'Keep the real dates', 'only the ids are replaced')}
          </div>`
        : nothing}
      <label class="check"><input type="checkbox" name="encrypt" .checked=${this.encrypt}
          @change=${(e: Event) => ((this.encrypt = (e.target as HTMLInputElement).checked), (this.problem = ''), this.update())} />
        Encrypt with a passphrase <span class="muted">— the export becomes one file (.tar.age) that only this passphrase
        opens, here with “Open an exported file or folder…” or with the free age tool; nothing unencrypted is saved</span></label>
      ${this.encrypt
        ? html`<div class="passphrase" role="group" aria-label="Passphrase">
            <label>Passphrase <input type="password" name="passphrase" autocomplete="new-password" minlength="8"
              .value=${this.passphrase} @input=${(e: Event) => (this.passphrase = (e.target as HTMLInputElement).value)} /></label>
            <label>The same again <input type="password" name="passphrase-again" autocomplete="new-password"
              .value=${this.passphraseAgain} @input=${(e: Event) => (this.passphraseAgain = (e.target as HTMLInputElement).value)} /></label>
            <p class="muted small">At least 8 characters; a few words are easiest to remember. Keep it safe: a forgotten
              passphrase cannot be recovered, and without it nobody can open the file.</p>
          </div>`
        : nothing}
    </fieldset>`;
  }

  /** Where the data comes from: the study's copy on this computer (offline, or signed in and
   * saved), or the server. */
  private sourceNote(): TemplateResult | typeof nothing {
    if (this.host.offline?.syncedAt) {
      return html`<p class="muted small" id="export-source">Made from the copy on this computer (offline, as last synced).</p>`;
    }
    if (!this.target.saved) return nothing;
    return html`<fieldset id="export-source">
      <legend>Source</legend>
      <p class="muted small">This study is saved on this computer: the export is made from that copy, without downloading it again.</p>
      <label class="check"><input type="checkbox" name="from-server" .checked=${this.fromServer}
          @change=${(e: Event) => ((this.fromServer = (e.target as HTMLInputElement).checked), this.update())} />
        Download everything again from the server instead</label>
    </fieldset>`;
  }

  private identifierFieldset(): TemplateResult | typeof nothing {
    const systems = this.target.identifierSystems ?? [];
    if (systems.length === 0) return nothing;
    const toggle = (system: string, on: boolean): void => {
      if (on) this.idSystems.add(system);
      else this.idSystems.delete(system);
      this.update();
    };
    return html`<fieldset id="export-identifiers">
      <legend>Participant list</legend>
      <p class="muted small">The export includes participants.csv: each participant’s id, consent per data type, first and last data. Tick the identifiers it should also list.</p>
      ${systems.map(
        (s) => html`<label class="check"><input type="checkbox" .checked=${this.idSystems.has(s.system)} @change=${(e: Event) => toggle(s.system, (e.target as HTMLInputElement).checked)} />
          ${s.label} <span class="muted small">(${s.system})</span></label>`,
      )}
    </fieldset>`;
  }

  private request(): ExportRequest | string {
    if (this.types.size === 0) return 'Choose at least one data type.';
    if (!this.allDates && this.from && this.to && this.from > this.to) return 'The first day must be on or before the last day.';
    if (!this.outDir) return 'Choose the folder to save the files in.';
    if (this.encrypt && [...this.passphrase].length < 8) return 'Choose a passphrase of at least 8 characters.';
    if (this.encrypt && this.passphrase !== this.passphraseAgain) return 'The two passphrases differ: type the same one twice.';
    return {
      scope: this.target.scope,
      // In the study's order, not the order they were ticked.
      types: this.target.types.map((t) => t.code).filter((c) => this.types.has(c)),
      ...(!this.allDates && this.from ? { from: this.from } : {}),
      ...(!this.allDates && this.to ? { to: this.to } : {}),
      format: this.format,
      layout: this.layout,
      outDir: this.outDir,
      ...this.identifierChoice(),
      ...(this.leaveOutFlagged ? { leaveOutFlagged: true } : {}),
      ...(this.fromServer ? { fromServer: true } : {}),
      ...(this.deidentify ? { deidentify: this.deidentify } : {}),
      ...(this.encrypt ? { encryptPassphrase: this.passphrase } : {}),
    };
  }

  start = async (e?: Event): Promise<void> => {
    e?.preventDefault();
    const req = this.request();
    if (typeof req === 'string') {
      this.problem = req;
      this.update();
      return;
    }
    this.problem = '';
    this.error = null;
    this.discardNote = '';
    this.result = null;
    this.progress = { phase: 'counting', fetched: 0, expected: 0 };
    this.stage = 'running';
    this.cancelling = false;
    this.jobId = newJobId();
    this.host.focusAfterRender('#export-cancel');
    this.update();
    try {
      this.result = await this.host.backend.exportData(this.jobId, req, (p) => {
        this.progress = p;
        this.update();
      });
      this.stage = 'done';
      // Not kept once it has done its job.
      this.passphrase = this.passphraseAgain = '';
      this.host.focusAfterRender('#export-show');
    } catch (err) {
      this.error = toBackendError(err);
      this.stage = 'failed';
      this.host.focusAfterRender('#export-retry');
    }
    this.update();
  };

  cancel = (): void => {
    if (this.stage !== 'running' || this.cancelling) return;
    this.cancelling = true;
    this.update();
    void this.host.backend.cancelExport(this.jobId);
  };

  private showInFolder = (): void => {
    if (!this.result) return;
    this.host.backend.showInFolder(this.result.outDir).catch((e: unknown) => {
      this.error = toBackendError(e);
      this.update();
    });
  };

  private form(): TemplateResult {
    const t = this.target;
    return html`<form class="export-form" @submit=${this.start} novalidate>
      <fieldset>
        <legend>Data types</legend>
        <div class="check-grid">
          ${t.types.map(
            (ty) => html`<label class="check">
              <input type="checkbox" name="type" value=${ty.code} .checked=${this.types.has(ty.code)}
                @change=${(e: Event) => this.toggleType(ty.code, (e.target as HTMLInputElement).checked)} />
              ${ty.label}${ty.unit ? html` <span class="muted">(${ty.unit})</span>` : nothing}
            </label>`,
          )}
        </div>
        <div class="row-actions">
          <button type="button" class="btn link small" @click=${() => ((this.types = new Set(t.types.map((x) => x.code))), this.update())}>Select all</button>
          <button type="button" class="btn link small" @click=${() => ((this.types = new Set()), this.update())}>Select none</button>
        </div>
      </fieldset>

      <fieldset>
        <legend>Dates</legend>
        <label class="check"><input type="radio" name="dates" .checked=${this.allDates} @change=${() => ((this.allDates = true), this.update())} /> All dates</label>
        <label class="check"><input type="radio" name="dates" .checked=${!this.allDates} @change=${() => ((this.allDates = false), this.update())} /> Only these days:</label>
        ${this.allDates
          ? nothing
          : html`<div class="custom-range">
              <label>From <input type="date" name="from" .value=${this.from} @input=${(e: Event) => (this.from = (e.target as HTMLInputElement).value)} /></label>
              <label>To <input type="date" name="to" .value=${this.to} @input=${(e: Event) => (this.to = (e.target as HTMLInputElement).value)} /></label>
              <span class="muted small">Days are in UTC and include both ends.</span>
            </div>`}
      </fieldset>

      <fieldset>
        <legend>File format</legend>
        <label class="check"><input type="radio" name="format" value="csv" .checked=${this.format === 'csv'} @change=${() => ((this.format = 'csv'), this.update())} />
          CSV <span class="muted">— for R, Python, SPSS, Stata (times as 2026-11-17T18:51:02Z)</span></label>
        <label class="check"><input type="radio" name="format" value="excelCsv" .checked=${this.format === 'excelCsv'} @change=${() => ((this.format = 'excelCsv'), this.update())} />
          <span class="nowrap">CSV for Excel</span> <span class="muted">— times as 2026-11-17 18:51:02, which Excel and LibreOffice read as dates</span></label>
        <label class="check"><input type="radio" name="format" value="parquet" .checked=${this.format === 'parquet'} @change=${() => ((this.format = 'parquet'), this.update())} />
          Parquet <span class="muted">— smaller and faster, for R (arrow) and Python (pandas)</span></label>
      </fieldset>

      <fieldset>
        <legend>Files</legend>
        <label class="check"><input type="radio" name="layout" value="perType" .checked=${this.layout === 'perType'} @change=${() => ((this.layout = 'perType'), this.update())} />
          One file per data type <span class="muted">— e.g. blood_glucose.csv, heart_rate.csv</span></label>
        <label class="check"><input type="radio" name="layout" value="long" .checked=${this.layout === 'long'} @change=${() => ((this.layout = 'long'), this.update())} />
          One file with every data type <span class="muted">— one row per measurement (“long” format)</span></label>
      </fieldset>

      ${this.deidentify ? nothing : this.identifierFieldset()}
      ${this.privacyFieldset()} ${this.sourceNote()}

      <fieldset id="export-quality">
        <legend>Data quality</legend>
        <p class="muted small">The export includes findings.csv: every reading the quality check flags, and why.</p>
        <label class="check"><input type="checkbox" name="leave-out-flagged" .checked=${this.leaveOutFlagged}
            @change=${(e: Event) => ((this.leaveOutFlagged = (e.target as HTMLInputElement).checked), this.update())} />
          Leave out readings that are wrong <span class="muted">— impossible values (a glucose of 1,200 mg/dL), dated in the future, or the same reading sent twice</span></label>
      </fieldset>

      <fieldset>
        <legend>Save in</legend>
        <div class="folder">
          <span class=${this.outDir ? 'path' : 'muted'} id="export-folder">${this.outDir || 'No folder chosen yet'}</span>
          <button type="button" class="btn" @click=${this.chooseFolder} aria-describedby="export-folder">Choose folder…</button>
        </div>
      </fieldset>

      ${this.problem ? html`<p class="inline-error" role="alert">${this.problem}</p>` : nothing}
      ${this.error ? errorNotice(this.error) : nothing}
      <div class="dialog-actions">
        <button type="button" class="btn" @click=${this.close}>Close</button>
        <button type="submit" class="btn primary" id="export-start">Export</button>
      </div>
    </form>`;
  }

  private running(): TemplateResult {
    const p = this.progress ?? { phase: 'counting', fetched: 0, expected: 0 };
    const pct = p.expected > 0 ? Math.min(100, Math.floor((p.fetched / p.expected) * 100)) : 0;
    // Screen readers hear the phase and every tenth percent, not every event.
    const spoken = `${PHASE_TEXT[p.phase]}${p.expected > 0 ? ` About ${Math.floor(pct / 10) * 10}% done.` : ''}`;
    return html`<div class="export-progress">
      <p class="phase">${this.cancelling ? 'Cancelling…' : PHASE_TEXT[p.phase]}</p>
      <progress id="export-bar" max=${p.expected || 1} .value=${p.expected ? p.fetched : 0} aria-label="Export progress"
        aria-valuetext=${p.expected ? `${int(p.fetched)} of ${int(p.expected)} observations` : 'Counting'}></progress>
      <p class="counts">
        ${p.expected > 0 ? html`<strong>${int(p.fetched)}</strong> of <strong>${int(p.expected)}</strong> observations (${pct}%)` : 'Counting…'}
      </p>
      ${p.currentPatient ? html`<p class="muted">Now: ${p.currentPatient}</p>` : nothing}
      ${p.message ? html`<p>${p.message}</p>` : nothing}
      <p class="sr-only" aria-live="polite">${spoken}</p>
      <div class="dialog-actions">
        <button type="button" class="btn" id="export-cancel" @click=${this.cancel} ?disabled=${this.cancelling}>Cancel</button>
      </div>
    </div>`;
  }

  private done(): TemplateResult {
    const r = this.result!;
    const total = r.files.reduce((a, f) => a + f.rows, 0);
    const sealed = r.outDir.endsWith('.age');
    return html`<div class="export-done">
      ${sealed
        ? html`<p class="success" role="status"><span aria-hidden="true">✓</span> Export finished and encrypted:
              ${plural(r.files.length, 'file', 'files')}, ${plural(total, 'row', 'rows')}, all in one file
              <span class="path">${r.outDir}</span></p>
            <p class="muted small" id="export-sealed-note">Only the passphrase opens it: in JHE Desktop with “Open an exported file or
              folder…”, or with the free age tool (<span class="mono">age -d FILE | tar x</span>). Nothing unencrypted was saved.</p>`
        : html`<p class="success" role="status"><span aria-hidden="true">✓</span> Export finished: ${plural(r.files.length, 'file', 'files')},
              ${plural(total, 'row', 'rows')} saved in <span class="path">${r.outDir}</span></p>`}
      <table class="files">
        <caption class="sr-only">${sealed ? 'Files inside the encrypted file' : 'Files saved'}</caption>
        <thead><tr><th scope="col">File</th><th scope="col" class="num">Rows</th><th scope="col" class="num">Size</th></tr></thead>
        <tbody>
          ${r.files.map((f) => html`<tr><td class="mono">${f.name}</td><td class="num">${f.rows ? int(f.rows) : '—'}</td><td class="num">${bytes(f.bytes)}</td></tr>`)}
        </tbody>
      </table>
      ${r.warnings.length
        ? html`<section class="warnings" aria-labelledby="export-warnings">
            <h3 id="export-warnings">${warnIcon()} Please note</h3>
            <ul>${r.warnings.map((w) => html`<li>${w}</li>`)}</ul>
          </section>`
        : nothing}
      ${this.error ? errorNotice(this.error) : nothing}
      <div class="dialog-actions">
        <button type="button" class="btn" @click=${this.close}>Close</button>
        <button type="button" class="btn primary" id="export-show" @click=${this.showInFolder}>Show in folder</button>
      </div>
    </div>`;
  }

  /** Deletes what the unfinished export downloaded (kept to resume it). */
  private discard = async (): Promise<void> => {
    if (this.discarding) return;
    this.discarding = true;
    this.update();
    try {
      const d = await this.host.backend.discardUnfinished(this.outDir);
      this.discardNote =
        d.exports === 0
          ? 'Nothing was left to delete.'
          : `Deleted what was downloaded (${bytes(d.bytes)}). "Start again" now starts from the beginning.`;
    } catch (e) {
      this.discardNote = toBackendError(e).message;
    }
    this.discarding = false;
    this.host.focusAfterRender('#export-discard-note');
    this.update();
  };

  private failed(): TemplateResult {
    const err = this.error!;
    if (this.encrypt) {
      // Made in memory: nothing of it was saved, so nothing is left to resume or delete.
      return html`<div class="export-failed">
        ${errorNotice(err)}
        <p class="hint">An encrypted export is made in memory, so nothing of it was saved and nothing is left behind.
          “Try again” starts from the beginning.</p>
        <div class="dialog-actions">
          <button type="button" class="btn" @click=${this.close}>Close</button>
          <button type="button" class="btn" @click=${() => ((this.stage = 'form'), (this.error = null), this.update())}>Change the choices</button>
          <button type="button" class="btn primary" id="export-retry" @click=${() => void this.start()}>Try again</button>
        </div>
      </div>`;
    }
    return html`<div class="export-failed">
      ${errorNotice(err)}
      <p class="hint">
        What was already downloaded is kept (hidden) in the folder you chose, so “${err.kind === 'cancelled' ? 'Start again' : 'Try again'}”
        continues where it stopped. Not going on with this export? Delete it, so no participant data stays behind.
      </p>
      <p>
        <button type="button" class="btn small" id="export-discard" ?disabled=${this.discarding} @click=${this.discard}>
          Delete what was downloaded
        </button>
      </p>
      ${this.discardNote ? html`<p class="note" id="export-discard-note" role="status" tabindex="-1">${this.discardNote}</p>` : nothing}
      <div class="dialog-actions">
        <button type="button" class="btn" @click=${this.close}>Close</button>
        <button type="button" class="btn" @click=${() => ((this.stage = 'form'), (this.error = null), this.update())}>Change the choices</button>
        <button type="button" class="btn primary" id="export-retry" @click=${() => void this.start()}>
          ${err.kind === 'cancelled' ? 'Start again' : 'Try again'}
        </button>
      </div>
    </div>`;
  }

  render(): TemplateResult {
    const body = { form: () => this.form(), running: () => this.running(), done: () => this.done(), failed: () => this.failed() }[this.stage]();
    return html`<div class="backdrop">
      <div class="dialog" role="dialog" aria-modal="true" aria-labelledby="export-title" aria-describedby="export-sub"
        @keydown=${this.onKey}>
        <h2 id="export-title" tabindex="-1">${this.target.title}</h2>
        <p class="muted" id="export-sub">${this.target.subtitle}</p>
        ${body}
      </div>
    </div>`;
  }
}
