// The About dialog (version, commit, build date, this computer, the server's JHE version, the
// licences of the bundled software, "Copy diagnostics") and the opt-in check for new versions:
// the one-sentence question on first launch, and the note when a newer version is out.
// Diagnostics come from Rust (`jhe_app::about`): kinds of errors only, never names, ids or keys.
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type AboutInfo, type BackendError, type UpdateFound, type UpdateSettings } from '../backend/types';
import type { Host } from './host';
import { closeOnEscape } from '../lib/dialog';

/** `ui/public/licenses.json`, written by `scripts/licenses.py`. */
export interface LicenseList {
  about: string;
  packages: { ecosystem: 'crate' | 'npm'; name: string; version: string; license: string; repository: string; texts: number[] }[];
  texts: string[];
}

/** Fetches the licence list the build bundles (beside index.html). */
export async function loadLicenses(): Promise<LicenseList> {
  const r = await fetch('licenses.json');
  if (!r.ok) throw new Error(`the licence list could not be read (${r.status})`);
  return (await r.json()) as LicenseList;
}

/** Puts `text` on the clipboard: the Clipboard API, else the older copy command. */
export async function copyText(text: string): Promise<void> {
  if (navigator.clipboard?.writeText) {
    try {
      await navigator.clipboard.writeText(text);
      return;
    } catch {
      // Fall back to the copy command below.
    }
  }
  const area = document.createElement('textarea');
  area.value = text;
  area.setAttribute('readonly', '');
  area.style.position = 'fixed';
  area.style.opacity = '0';
  document.body.append(area);
  area.select();
  const ok = typeof document.execCommand === 'function' && document.execCommand('copy');
  area.remove();
  if (!ok) throw new Error('the clipboard is not available');
}

// ----- updates ------------------------------------------------------------------------------------

/** The update check: asks once (when this build has an update address), checks only after yes. */
export class Updates {
  settings: UpdateSettings | null = null;
  found: UpdateFound | null = null;
  installing = false;
  error: BackendError | null = null;
  /** "Not now" on the new-version note. */
  private later = false;

  constructor(private readonly host: Host) {}

  async start(): Promise<void> {
    try {
      this.settings = await this.host.backend.updateSettings();
      if (this.settings.host && this.settings.checkOnStart === true) await this.check();
    } catch {
      // No update settings: nothing to ask, nothing checked.
    }
    this.host.requestUpdate();
  }

  private async check(): Promise<void> {
    try {
      this.found = await this.host.backend.checkForUpdate();
    } catch {
      // An unreachable update address is not worth interrupting anyone for (its kind is in the
      // diagnostics).
      this.found = null;
    }
  }

  answer = async (on: boolean): Promise<void> => {
    try {
      this.settings = await this.host.backend.setUpdateCheck(on);
      this.found = null;
      if (on) await this.check();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.host.requestUpdate();
  };

  private install = async (): Promise<void> => {
    this.installing = true;
    this.error = null;
    this.host.requestUpdate();
    try {
      await this.host.backend.installUpdate();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.installing = false;
    this.host.requestUpdate();
  };

  /** The question (first launch) or the new-version note, under the header. */
  render(): TemplateResult | typeof nothing {
    const s = this.settings;
    if (!s?.host) return nothing;
    if (s.checkOnStart === null) {
      return html`<div class="banner update-ask" role="note" aria-label="Checking for new versions">
        Check for new versions of JHE Desktop when it starts? It only asks ${s.host} for the latest
        version number; nothing about you or your studies is sent.
        <button type="button" class="btn small" id="update-yes" @click=${() => this.answer(true)}>Yes</button>
        <button type="button" class="btn small" id="update-no" @click=${() => this.answer(false)}>No</button>
      </div>`;
    }
    if (this.found && !this.later) {
      return html`<div class="banner update-found" role="note" aria-label="New version">
        <strong>JHE Desktop ${this.found.version} is available.</strong>
        ${this.error ? html`<span role="alert">${this.error.message}</span>` : nothing}
        <button type="button" class="btn small" id="update-install" ?disabled=${this.installing} @click=${this.install}>
          ${this.installing ? 'Installing…' : 'Install and restart'}
        </button>
        <button type="button" class="btn small" @click=${() => {
          this.later = true;
          this.host.requestUpdate();
        }}>Not now</button>
      </div>`;
    }
    return nothing;
  }
}

// ----- the dialog ---------------------------------------------------------------------------------

export class AboutDialog {
  info: AboutInfo | null = null;
  error: BackendError | null = null;
  copied: 'no' | 'yes' | 'failed' = 'no';
  licenses: LicenseList | null = null;
  licensesError = '';
  showLicenses = false;
  /** Packages whose licence texts are unfolded (rendered only then). */
  private open = new Set<number>();

  constructor(
    private readonly host: Host,
    private readonly updates: Updates,
    private readonly onClose: () => void,
    private readonly load: () => Promise<LicenseList> = loadLicenses,
  ) {}

  async start(): Promise<void> {
    try {
      this.info = await this.host.backend.aboutInfo();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.host.requestUpdate();
  }

  close = (): void => this.onClose();

  private onKey = closeOnEscape(() => this.close());

  private copy = async (): Promise<void> => {
    // Straight from the click (WebKit allows the clipboard only while handling the user's click,
    // not after an await); the text is what the dialog loaded when it opened.
    if (!this.info) return;
    try {
      await copyText(this.info.diagnostics);
      this.copied = 'yes';
    } catch {
      this.copied = 'failed';
    }
    this.host.requestUpdate();
  };

  private toggleLicenses = async (): Promise<void> => {
    this.showLicenses = !this.showLicenses;
    this.host.requestUpdate();
    if (this.showLicenses && !this.licenses) {
      try {
        this.licenses = await this.load();
        this.licensesError = '';
      } catch (e) {
        this.licensesError = e instanceof Error ? e.message : String(e);
      }
      this.host.requestUpdate();
    }
  };

  private server(i: AboutInfo): TemplateResult {
    if (!i.server) return html`Not signed in.`;
    const what = i.server.demo ? html`the built-in demo exchange (${i.server.host})` : html`${i.server.host}`;
    return html`Signed in to ${what}. Its JupyterHealth Exchange version:
      <span class="server-version">${i.server.version ?? 'not reported'}</span>.`;
  }

  private updateChoice(): TemplateResult {
    const s = this.updates.settings;
    if (!s?.host) return html`<p class="muted">This copy of JHE Desktop does not check for new versions.</p>`;
    return html`<label class="check">
      <input type="checkbox" id="about-update-check" .checked=${s.checkOnStart === true}
        @change=${(e: Event) => this.updates.answer((e.target as HTMLInputElement).checked)} />
      Check for new versions when JHE Desktop starts (it only asks ${s.host} for the latest version number)
    </label>`;
  }

  private licenseList(): TemplateResult {
    if (this.licensesError) return html`<p role="alert">Sorry, ${this.licensesError}.</p>`;
    const l = this.licenses;
    if (!l) return html`<p aria-live="polite">Loading the licences…</p>`;
    return html`<div class="licenses" id="licenses">
      <p class="muted">
        JHE Desktop is free software under the BSD 3-Clause licence. It includes these
        ${l.packages.length} packages by others, each under its own licence. Open one to read its licence text.
      </p>
      <ul>
        ${l.packages.map(
          (p, i) => html`<li>
            <details @toggle=${(e: Event) => {
              if ((e.target as HTMLDetailsElement).open) this.open.add(i);
              else this.open.delete(i);
              this.host.requestUpdate();
            }}>
              <summary><span class="pkg">${p.name} ${p.version}</span> <span class="muted">${p.license}</span></summary>
              ${this.open.has(i)
                ? html`${p.repository ? html`<p class="muted">${p.repository}</p>` : nothing}
                  ${p.texts.length
                    ? p.texts.map((t) => html`<pre>${l.texts[t]}</pre>`)
                    : html`<p class="muted">This package ships no licence file; its licence is ${p.license}.</p>`}`
                : nothing}
            </details>
          </li>`,
        )}
      </ul>
    </div>`;
  }

  render(): TemplateResult {
    const i = this.info;
    return html`<div class="backdrop">
      <div class="dialog about" role="dialog" aria-modal="true" aria-labelledby="about-title" @keydown=${this.onKey}>
        <h2 id="about-title" tabindex="-1">About JHE Desktop</h2>
        ${this.error ? html`<p role="alert">${this.error.message}</p>` : nothing}
        ${i
          ? html`<dl class="about-facts">
              <dt>Version</dt>
              <dd class="about-version">${i.version}</dd>
              <dt>Built</dt>
              <dd>${i.buildDate}, from commit <code>${i.commit}</code></dd>
              <dt>This computer</dt>
              <dd>${i.os} (${i.arch}), web view ${i.webview ?? 'version not reported'}</dd>
              <dt>Server</dt>
              <dd class="about-server">${this.server(i)}</dd>
            </dl>`
          : html`<p aria-live="polite">Loading…</p>`}
        ${this.updateChoice()}
        <p class="muted">
          If you need help, “Copy diagnostics” copies the facts above and the kinds of the latest
          errors, to paste into a message to your support contact. It copies no names, participant
          details, addresses or keys.
        </p>
        ${this.copied === 'yes' ? html`<p class="success" role="status">Copied to the clipboard.</p>` : nothing}
        ${this.copied === 'failed'
          ? html`<div role="alert">
              <p>The clipboard could not be used. Select the text below and copy it:</p>
              <textarea readonly rows="7" class="diagnostics" .value=${i?.diagnostics ?? ''}></textarea>
            </div>`
          : nothing}
        ${this.showLicenses ? this.licenseList() : nothing}
        <div class="dialog-actions">
          <button type="button" class="btn" id="copy-diagnostics" ?disabled=${!i} @click=${this.copy}>Copy diagnostics</button>
          <button type="button" class="btn" id="show-licenses" aria-expanded=${this.showLicenses ? 'true' : 'false'}
            @click=${this.toggleLicenses}>${this.showLicenses ? 'Hide licences' : 'Licences of bundled software'}</button>
          <button type="button" class="btn primary" id="about-close" @click=${this.close}>Close</button>
        </div>
      </div>
    </div>`;
  }
}
