// The window: a header that always says where you are and whose data this is (real server, demo,
// or files on disk), the current screen, and the export dialog on top when open. Screens are kept
// on a stack so "back" returns to the same sort, filter and scroll position.
import { html, nothing, render, type TemplateResult } from 'lit-html';
import type { Backend, OfflineReview, PatientRow, Session, Study, StudyOverview } from '../backend/types';
import { demoIcon, folderIcon } from '../lib/icons';
import { AboutDialog, Updates } from './About';
import { ExportDialog } from './ExportDialog';
import type { ExportTarget, Host } from './host';
import { ParticipantScreen } from './ParticipantView';
import { SignInScreen } from './SignIn';
import { StudiesScreen } from './Studies';
import { StudyOverviewScreen } from './StudyOverview';

type Screen = SignInScreen | StudiesScreen | StudyOverviewScreen | ParticipantScreen;

export interface AppOptions {
  now?: () => Date;
}

export class App implements Host {
  session: Session | null = null;
  offline: { path: string; warnings: string[] } | null = null;
  stack: Screen[] = [];
  dialog: ExportDialog | null = null;
  /** The About dialog, when open (reached from the header on every screen). */
  about: AboutDialog | null = null;
  readonly updates = new Updates(this);
  private dialogOpener = '';
  /** The user closed the "sign-in not kept" note for this session. */
  private notKeptSeen = false;
  private scheduled = false;
  private focusTarget: string | null = null;
  private readonly clock: () => Date;

  constructor(
    private readonly root: HTMLElement,
    readonly backend: Backend,
    opts: AppOptions = {},
  ) {
    this.clock = opts.now ?? (() => new Date());
  }

  start(): this {
    this.stack = [new SignInScreen(this)];
    this.renderNow();
    void this.updates.start();
    return this;
  }

  now(): Date {
    return this.clock();
  }

  get screen(): Screen {
    return this.stack[this.stack.length - 1]!;
  }

  requestUpdate(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      this.renderNow();
    });
  }

  focusAfterRender(selector: string): void {
    this.focusTarget = selector;
    this.requestUpdate();
  }

  renderNow(): void {
    render(this.template(), this.root);
    if (this.focusTarget) {
      // A target that is not on screen (e.g. a table row scrolled away) falls back to the heading.
      const el = this.root.querySelector<HTMLElement>(this.focusTarget) ?? this.root.querySelector<HTMLElement>('#screen-title');
      this.focusTarget = null;
      el?.focus();
    }
  }

  // ----- navigation -----------------------------------------------------------------------------

  private go(stack: Screen[], focus = '#screen-title'): void {
    this.stack = stack;
    this.dialog = null;
    this.focusAfterRender(focus);
  }

  signedIn(session: Session): void {
    this.session = session;
    this.notKeptSeen = false;
    this.offline = null;
    this.go([new StudiesScreen(this)]);
  }

  openedFiles(review: OfflineReview): void {
    this.session = null;
    this.offline = { path: review.path, warnings: review.warnings };
    this.go([new StudyOverviewScreen(this, review.overview.study, review.overview)]);
  }

  openStudy(study: Study): void {
    this.go([...this.stack, new StudyOverviewScreen(this, study)]);
  }

  openParticipant(overview: StudyOverview, row: PatientRow): void {
    this.go([...this.stack, new ParticipantScreen(this, overview, row)]);
  }

  back(): void {
    this.popTo(this.stack.length - 2);
  }

  private popTo(index: number): void {
    if (index < 0 || index >= this.stack.length - 1) return;
    const leaving = this.stack[index + 1];
    // Back on the table, put focus on the participant we came from when it is still on screen.
    const focus = leaving instanceof ParticipantScreen ? `[data-open="${leaving.row.id}"]` : '#screen-title';
    this.go(this.stack.slice(0, index + 1), focus);
  }

  signOut = async (): Promise<void> => {
    try {
      await this.backend.signOut();
    } catch {
      // Leaving is always allowed; the Rust side forgets the session either way.
    }
    this.session = null;
    this.offline = null;
    this.go([new SignInScreen(this)]);
  };

  openExport(target: ExportTarget, opener: string): void {
    this.dialogOpener = opener;
    this.dialog = new ExportDialog(this, target, () => {
      this.dialog = null;
      this.focusAfterRender(this.dialogOpener);
    });
    this.focusAfterRender('#export-title');
  }

  openAbout = (): void => {
    this.about = new AboutDialog(this, this.updates, () => {
      this.about = null;
      this.focusAfterRender('#open-about');
    });
    void this.about.start();
    this.focusAfterRender('#about-title');
  };

  // ----- rendering ------------------------------------------------------------------------------

  private banner(): TemplateResult | typeof nothing {
    if (this.offline) {
      return html`<div class="banner offline" role="note" aria-label="Offline review">
        ${folderIcon()} <strong>Offline:</strong> reviewing files from
        <span class="path">${this.offline.path}</span>. Nothing is downloaded or changed.
        ${this.offline.warnings.length
          ? html`<div class="warnings" role="alert">
              <ul>${this.offline.warnings.map((w) => html`<li>${w}</li>`)}</ul>
            </div>`
          : nothing}
      </div>`;
    }
    if (this.backend.label === 'fake') {
      return html`<div class="banner demo" role="note" aria-label="Demo data">
        ${demoIcon()} <strong>Demo data (offline preview)</strong> — made-up participants; this
        preview is not connected to any server.
      </div>`;
    }
    if (this.session?.demo) {
      return html`<div class="banner demo" role="note" aria-label="Demo data">
        ${demoIcon()} <strong>Demo data</strong> — you are exploring the built-in demo exchange
        with made-up participants.
      </div>`;
    }
    return nothing;
  }

  /** When the keychain could not keep a real sign-in: say so once, the user closes it. */
  private notKeptNote(): TemplateResult | typeof nothing {
    if (this.session && !this.session.demo && !this.session.remembered && !this.notKeptSeen) {
      return html`<div class="banner warn" role="note" aria-label="Sign-in not kept">
        <strong>Your sign-in could not be kept</strong> in this computer’s password store, so you will need your
        key again next time. (On Linux, a password store such as GNOME Keyring must be running.)
        <button type="button" class="btn small" id="dismiss-not-kept" @click=${() => {
          this.notKeptSeen = true;
          this.requestUpdate();
        }}>OK</button>
      </div>`;
    }
    return nothing;
  }

  private header(): TemplateResult {
    const crumbs = this.stack.length > 1 || !(this.screen instanceof SignInScreen) ? this.stack : [];
    const s = this.session;
    return html`<header class="app-header">
      <div class="brand"><span class="logo" aria-hidden="true">◆</span> JHE Desktop</div>
      ${crumbs.length
        ? html`<nav aria-label="You are here" class="crumbs">
            <ol>
              ${crumbs.map((sc, i) =>
                i === crumbs.length - 1
                  ? html`<li aria-current="page">${sc.crumb}</li>`
                  : html`<li><button type="button" class="btn link" @click=${() => this.popTo(i)}>${sc.crumb}</button></li>`,
              )}
            </ol>
          </nav>`
        : html`<span></span>`}
      <div class="who">
        <button type="button" class="btn small link" id="open-about" @click=${this.openAbout}>About</button>
        ${s
          ? html`<span class="muted" title=${s.server}>${s.user.firstName} ${s.user.lastName} · ${s.server.replace(/^https?:\/\//, '')}</span>
              <button type="button" class="btn small" @click=${this.signOut}>Sign out</button>`
          : nothing}
        ${this.offline ? html`<button type="button" class="btn small" @click=${this.signOut}>Close files</button>` : nothing}
      </div>
    </header>`;
  }

  private template(): TemplateResult {
    const covered = this.dialog !== null || this.about !== null;
    return html`${this.header()} ${this.updates.render()} ${this.notKeptNote()} ${this.banner()}
      <div class="screen" ?inert=${covered} aria-hidden=${covered ? 'true' : 'false'}>${this.screen.render()}</div>
      ${this.dialog ? this.dialog.render() : nothing} ${this.about ? this.about.render() : nothing}`;
  }
}
