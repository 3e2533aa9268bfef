// The first screen. A coordinator arrives here with, at most, a server address from an e-mail:
// every path forward (API key, browser, demo, files on disk) is one visible button, and every
// failure says what to do next right where they were typing. Coming back, a sign-in the keychain
// still holds is one button ("Continue as …"), and the last server's address is already filled in.
import { html, nothing, type TemplateResult } from 'lit-html';
import { live } from 'lit-html/directives/live.js';
import { toBackendError, type BackendError, type LocalCopyInfo, type RecentServer, type RememberedSignIn } from '../backend/types';
import { ADDRESS_KINDS, KEY_KINDS } from '../lib/errors';
import { bytes, daysAgo, plural, timeAgo } from '../lib/format';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';
import { unlockForm, type Locked } from './Unlock';

type Busy = null | 'checking' | 'signing' | 'browser' | 'demo' | 'opening' | 'continuing';

export class SignInScreen {
  readonly crumb = 'Sign in';
  url = '';
  method: 'none' | 'apiKey' = 'none';
  apiKey = '';
  busy: Busy = null;
  error: BackendError | null = null;
  recent: RecentServer[] = [];
  /** A sign-in the keychain holds; while set (and not declined), the screen offers to continue it. */
  kept: RememberedSignIn | null = null;
  /** The studies kept on this computer: they open without network. */
  saved: LocalCopyInfo[] = [];
  /** An encrypted export waiting for its passphrase. */
  locked: Locked | null = null;
  /** Said when the address used is not what was typed (a portal page pasted from the browser). */
  trimmed = '';
  private touched = false;

  constructor(private readonly host: Host) {
    host.focusAfterRender('#server-url');
    void host.backend.recentServers().then(
      (r) => {
        this.recent = r;
        // Coming back: the last server's address is filled in (unless the user already typed).
        if (!this.touched && !this.url && r[0]) this.url = r[0].url;
        host.requestUpdate();
      },
      () => undefined, // no history is not worth an error on the first screen
    );
    void host.backend.localCopies().then(
      (c) => {
        this.saved = c;
        host.requestUpdate();
      },
      () => undefined, // the list is a convenience; signing in still works
    );
    void host.backend.rememberedSignIn().then(
      (k) => {
        if (!k || this.touched || this.busy) return;
        this.kept = k;
        host.focusAfterRender('#continue-sign-in');
      },
      () => undefined, // an unreadable keychain means: sign in as usual
    );
  }

  private continueKept = async (): Promise<void> => {
    const kept = this.kept;
    if (!kept || this.busy) return;
    this.set({ busy: 'continuing', error: null });
    try {
      const session = await this.host.backend.continueSignIn(kept.server);
      this.busy = null;
      this.host.signedIn(session);
    } catch (e) {
      // The kept sign-in no longer works (or the server is away): the form, with the address
      // filled in and the reason shown where the user will act on it.
      const err = toBackendError(e);
      this.kept = null;
      this.url = kept.server;
      this.set({ busy: null, error: err, method: kept.method === 'apiKey' ? 'apiKey' : this.method });
      this.host.focusAfterRender(ADDRESS_KINDS.has(err.kind) ? '#server-url' : kept.method === 'apiKey' ? '#api-key' : '#server-url');
    }
  };

  private someoneElse = (): void => {
    if (this.busy) return;
    this.url = this.kept?.server ?? this.url;
    this.kept = null;
    this.touched = true;
    this.set({ error: null });
    this.host.focusAfterRender('#server-url');
  };

  private set(patch: Partial<Pick<SignInScreen, 'busy' | 'error' | 'method'>>): void {
    Object.assign(this, patch);
    this.host.requestUpdate();
  }

  private requireUrl(): boolean {
    if (this.url.trim()) return true;
    this.set({
      error: { kind: 'invalid_url', message: 'Type the address of your JupyterHealth Exchange server first.' },
    });
    this.host.focusAfterRender('#server-url');
    return false;
  }

  private chooseApiKey = (): void => {
    if (!this.requireUrl()) return;
    this.set({ method: 'apiKey', error: null });
    this.host.focusAfterRender('#api-key');
  };

  private submit = (e: Event): void => {
    e.preventDefault();
    if (this.busy) return;
    if (this.method !== 'apiKey') return this.chooseApiKey();
    if (!this.requireUrl()) return;
    if (!this.apiKey.trim()) {
      this.set({ error: { kind: 'sign_in_failed', message: 'Paste your API key first.' } });
      this.host.focusAfterRender('#api-key');
      return;
    }
    void this.signIn({ kind: 'apiKey', apiKey: this.apiKey.trim() });
  };

  private browser = (): void => {
    if (this.busy || !this.requireUrl()) return;
    void this.signIn({ kind: 'browser' });
  };

  private async signIn(method: { kind: 'apiKey'; apiKey: string } | { kind: 'browser' }): Promise<void> {
    const { backend } = this.host;
    this.set({ busy: 'checking', error: null });
    try {
      const typed = this.url.trim();
      const check = await backend.checkServer(typed);
      const bare = (u: string) => u.replace(/^https?:\/\//i, '').replace(/\/+$/, '').toLowerCase();
      this.trimmed =
        bare(typed) !== bare(check.url) ? `Using ${check.url}, the server's own address (what you pasted was a page on it).` : '';
      this.url = check.url;
      this.set({ busy: method.kind === 'browser' ? 'browser' : 'signing' });
      const session = await backend.signIn(check.url, method);
      this.busy = null;
      this.host.signedIn(session);
    } catch (e) {
      const err = toBackendError(e);
      this.set({ busy: null, error: err });
      if (ADDRESS_KINDS.has(err.kind)) this.host.focusAfterRender('#server-url');
      else if (KEY_KINDS.has(err.kind) && this.method === 'apiKey') this.host.focusAfterRender('#api-key');
    }
  }

  private cancelBrowser = (): void => {
    void this.host.backend.cancelSignIn();
  };

  private demo = async (): Promise<void> => {
    if (this.busy) return;
    this.set({ busy: 'demo', error: null });
    try {
      const session = await this.host.backend.startDemo();
      this.busy = null;
      this.host.signedIn(session);
    } catch (e) {
      this.set({ busy: null, error: toBackendError(e) });
    }
  };

  private openFiles = async (): Promise<void> => {
    if (this.busy) return;
    this.locked = null;
    this.set({ busy: 'opening', error: null });
    try {
      const path = await this.host.backend.pickExportToOpen();
      if (!path) return this.set({ busy: null });
      await this.openPath(path);
    } catch (e) {
      this.set({ busy: null, error: toBackendError(e) });
    }
  };

  /** Opens `path` for review; an encrypted export first asks for its passphrase. */
  private async openPath(path: string, passphrase?: string): Promise<void> {
    this.set({ busy: 'opening', error: null });
    try {
      const review = await this.host.backend.openExport(path, passphrase);
      this.busy = null;
      this.locked = null;
      this.host.openedFiles(review);
    } catch (e) {
      const err = toBackendError(e);
      if (err.kind === 'passphrase') {
        this.locked = { path, wrong: passphrase !== undefined };
        this.host.focusAfterRender('#open-passphrase');
        return this.set({ busy: null });
      }
      this.set({ busy: null, error: err });
    }
  }

  private cancelUnlock = (): void => {
    this.locked = null;
    this.host.focusAfterRender('#open-files');
    this.set({});
  };

  private pickRecent(r: RecentServer): void {
    this.url = r.url;
    this.touched = true;
    this.set({ error: null, method: r.method === 'apiKey' ? 'apiKey' : this.method });
    this.host.focusAfterRender(r.method === 'apiKey' ? '#api-key' : '#server-url');
  }

  render(): TemplateResult {
    const err = this.error;
    const addressErr = err && ADDRESS_KINDS.has(err.kind) ? err : null;
    const keyErr = err && KEY_KINDS.has(err.kind) && this.method === 'apiKey' ? err : null;
    const otherErr = err && !addressErr && !keyErr ? err : null;
    const busy = this.busy !== null;
    const status: Record<Exclude<Busy, null>, string> = {
      checking: 'Checking the server…',
      signing: 'Signing in…',
      browser: 'Finish signing in in the browser window that just opened. This window continues by itself.',
      demo: 'Starting the demo exchange…',
      opening: 'Opening your files…',
      continuing: `Signing in as ${this.kept?.name ?? 'you'}…`,
    };
    return html`<main class="signin" aria-labelledby="screen-title">
      ${this.kept ? this.renderKept(this.kept, status, otherErr) : this.renderForm(status, { addressErr, keyErr, otherErr })}
      ${this.renderAlt(busy)}
    </main>`;
  }

  private renderKept(kept: RememberedSignIn, status: Record<Exclude<Busy, null>, string>, err: BackendError | null): TemplateResult {
    const busy = this.busy !== null;
    const host = kept.server.replace(/^https?:\/\//, '');
    return html`<section class="card signin-card">
      <h1 id="screen-title" tabindex="-1">Welcome back</h1>
      <p class="lead">Your sign-in to <strong>${host}</strong> is kept in this computer’s password store.</p>
      <div class="actions">
        <button type="button" id="continue-sign-in" class="btn primary" ?disabled=${busy} @click=${this.continueKept}>
          Continue as ${kept.name}
        </button>
        <button type="button" id="sign-in-other" class="btn" ?disabled=${busy} @click=${this.someoneElse}>Sign in as someone else</button>
      </div>
      <div class="status" role="status" aria-live="polite">
        ${this.busy ? html`<span class="spinner" aria-hidden="true"></span> ${status[this.busy]}` : nothing}
      </div>
      ${err ? errorNotice(err) : nothing}
    </section>`;
  }

  private renderForm(
    status: Record<Exclude<Busy, null>, string>,
    errs: { addressErr: BackendError | null; keyErr: BackendError | null; otherErr: BackendError | null },
  ): TemplateResult {
    const { addressErr, keyErr, otherErr } = errs;
    const busy = this.busy !== null;
    return html`
      <section class="card signin-card">
        <h1 id="screen-title" tabindex="-1">Sign in to JupyterHealth Exchange</h1>
        <p class="lead">See how your studies are going, look at a participant’s data, and save it for your statistician.</p>
        <form @submit=${this.submit} novalidate>
          <div class="field">
            <label for="server-url">Server address</label>
            <input
              id="server-url"
              type="url"
              inputmode="url"
              autocomplete="url"
              spellcheck="false"
              placeholder="https://jhe.your-institution.org"
              aria-describedby=${addressErr ? 'server-url-hint server-url-error' : 'server-url-hint'}
              aria-invalid=${addressErr ? 'true' : 'false'}
              .value=${live(this.url)}
              @input=${(e: Event) => {
                this.url = (e.target as HTMLInputElement).value;
                this.touched = true;
              }}
              ?disabled=${busy}
            />
            <p class="hint" id="server-url-hint">The address of your JHE web portal — the one you open in your web browser.</p>
            ${this.trimmed ? html`<p class="hint note" id="server-url-trimmed" role="status">${this.trimmed}</p>` : nothing}
            ${addressErr ? errorNotice(addressErr, { id: 'server-url-error' }) : nothing}
            ${this.recent.length
              ? html`<div class="recent" role="group" aria-labelledby="recent-label">
                  <span id="recent-label" class="hint">Recently used:</span>
                  ${this.recent.map(
                    (r) => html`<button type="button" class="chip" ?disabled=${busy} @click=${() => this.pickRecent(r)}
                      aria-label=${`Use ${r.url}, last used ${daysAgo(Math.round((this.host.now().getTime() - Date.parse(r.lastUsed)) / 86_400_000)).toLowerCase()}`}>
                      ${r.url.replace(/^https?:\/\//, '')}
                    </button>`,
                  )}
                </div>`
              : nothing}
          </div>

          ${this.method === 'apiKey'
            ? html`<div class="field">
                <label for="api-key">API key</label>
                <input
                  id="api-key"
                  type="password"
                  autocomplete="off"
                  spellcheck="false"
                  aria-describedby=${keyErr ? 'api-key-hint api-key-error' : 'api-key-hint'}
                  aria-invalid=${keyErr ? 'true' : 'false'}
                  .value=${live(this.apiKey)}
                  @input=${(e: Event) => (this.apiKey = (e.target as HTMLInputElement).value)}
                  ?disabled=${busy}
                />
                <p class="hint" id="api-key-hint">
                  Where to find it: <strong>In JHE: Profile → API Key</strong>. Copy it there and paste it here. It is
                  kept in your computer’s password store, not in a file.
                </p>
                ${keyErr ? errorNotice(keyErr, { id: 'api-key-error' }) : nothing}
              </div>`
            : nothing}

          <div class="actions">
            ${this.method === 'apiKey'
              ? html`<button type="submit" class="btn primary" ?disabled=${busy}>Sign in</button>`
              : html`<button type="button" class="btn primary" ?disabled=${busy} @click=${this.chooseApiKey}>Use an API key</button>`}
            <button type="button" class="btn" ?disabled=${busy} @click=${this.browser}>Sign in with your browser</button>
          </div>
        </form>

        <div class="status" role="status" aria-live="polite">
          ${this.busy ? html`<span class="spinner" aria-hidden="true"></span> ${status[this.busy]}` : nothing}
          ${this.busy === 'browser' ? html`<button type="button" class="btn small" @click=${this.cancelBrowser}>Cancel</button>` : nothing}
        </div>
        ${otherErr ? errorNotice(otherErr) : nothing}
      </section>`;
  }

  private openSaved = async (c: LocalCopyInfo): Promise<void> => {
    if (this.busy) return;
    this.set({ busy: 'opening', error: null });
    try {
      const review = await this.host.backend.openLocalCopy(c.server, c.studyId);
      this.busy = null;
      this.host.openedFiles(review);
    } catch (e) {
      this.set({ busy: null, error: toBackendError(e) });
    }
  };

  /** "On this computer": each study kept here, one click to open it without network. */
  private renderSaved(busy: boolean): TemplateResult | typeof nothing {
    if (!this.saved.length) return nothing;
    const now = this.host.now();
    return html`<hr />
      <h2 class="hint-title" id="saved-title">Studies on this computer</h2>
      <p class="hint">Open one without network — as it was when last synced.</p>
      <ul class="saved-copies" aria-labelledby="saved-title">
        ${this.saved.map(
          (c) => html`<li>
            <button type="button" class="btn" data-copy=${c.studyId} ?disabled=${busy} @click=${() => void this.openSaved(c)}>${c.studyName}</button>
            <span class="hint">${c.server === 'demo' ? 'demo exchange' : c.server.replace(/^https?:\/\//, '')} · ${plural(c.participants, 'participant', 'participants')} ·
              synced ${timeAgo(c.syncedAt, now)} · ${bytes(c.bytes)}</span>
          </li>`,
        )}
      </ul>`;
  }

  private renderAlt(busy: boolean): TemplateResult {
    return html`<section class="card signin-alt" aria-label="Other ways in">
        <button type="button" class="btn demo" ?disabled=${busy} @click=${this.demo} aria-describedby="demo-hint">
          Explore the demo exchange
        </button>
        <p class="hint" id="demo-hint">No account needed — uses built-in demo data with made-up participants.</p>
        <hr />
        <button type="button" class="btn link" id="open-files" ?disabled=${busy} @click=${this.openFiles} aria-describedby="open-hint">
          Open an exported file or folder…
        </button>
        <p class="hint" id="open-hint">Review data you saved earlier, without signing in.</p>
        ${this.locked
          ? unlockForm(this.locked, busy, (p) => void this.openPath(this.locked!.path, p), this.cancelUnlock)
          : nothing}
        ${this.renderSaved(busy)}
      </section>`;
  }
}
