// The window: a header that always says where you are and whose data this is (real server, demo,
// or files on disk), the current screen, and the export dialog on top when open. Screens are kept
// on a stack so "back" returns to the same sort, filter and scroll position.
import { html, nothing, render, type TemplateResult } from 'lit-html';
import type { Backend, OfflineReview, PatientRow, Session, Study, StudyNews, StudyOverview } from '../backend/types';
import { timeAgo } from '../lib/format';
import { demoIcon, folderIcon } from '../lib/icons';
import { AboutDialog, Updates } from './About';
import { ActivityLogDialog } from './ActivityLog';
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
  offline: { path: string; warnings: string[]; syncedAt?: string } | null = null;
  /** What the background check found, by study id (polled while signed in). */
  news = new Map<number, StudyNews>();
  /** Sign-out asked "also delete the local copies?": how many the server has. */
  signOutAsk: number | null = null;
  private newsTimer: ReturnType<typeof setInterval> | null = null;
  stack: Screen[] = [];
  dialog: ExportDialog | null = null;
  /** The About dialog, when open (reached from the header on every screen). */
  about: AboutDialog | null = null;
  /** The activity (audit) log, when open (from the header). */
  activity: ActivityLogDialog | null = null;
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

  /** Polls the background check's news while signed in (the check itself runs in Rust). */
  private watchNews(on: boolean): void {
    if (this.newsTimer) clearInterval(this.newsTimer);
    this.newsTimer = null;
    this.news = new Map();
    if (!on) return;
    const poll = async () => {
      try {
        const list = await this.backend.studyNews();
        const next = new Map(list.map((n) => [n.studyId, n]));
        const same = next.size === this.news.size && list.every((n) => this.news.get(n.studyId)?.added === n.added && this.news.get(n.studyId)?.text === n.text);
        if (!same) {
          this.news = next;
          this.requestUpdate();
        }
      } catch {
        // no news is not worth an error
      }
    };
    void poll();
    this.newsTimer = setInterval(() => void poll(), 5000);
  }

  /** The user opened this study: its badge goes. */
  seenNews(studyId: number): void {
    if (!this.news.has(studyId)) return;
    this.news.delete(studyId);
    void this.backend.clearStudyNews(studyId).catch(() => undefined);
    this.requestUpdate();
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
    this.watchNews(true);
    this.go([new StudiesScreen(this)]);
  }

  openedFiles(review: OfflineReview): void {
    this.session = null;
    this.watchNews(false);
    this.offline = { path: review.path, warnings: review.warnings, syncedAt: review.overview.syncedAt };
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
    const back = this.stack[index];
    if (back instanceof StudiesScreen) void back.loadSaved();
  }

  /** Sign out; when the server's studies are kept on this computer, first ask whether to delete
   * them too (`deleteCopies` is the answer). */
  signOut = async (deleteCopies?: boolean): Promise<void> => {
    const s = this.session;
    if (s && deleteCopies === undefined) {
      const server = s.demo ? 'demo' : s.server.replace(/\/+$/, '');
      const mine = await this.backend.localCopies().then(
        (l) => l.filter((c) => c.server.replace(/\/+$/, '') === server).length,
        () => 0,
      );
      if (mine > 0 && !s.demo) {
        this.signOutAsk = mine;
        this.focusAfterRender('#signout-keep');
        return;
      }
    }
    this.signOutAsk = null;
    if (deleteCopies) {
      try {
        await this.backend.removeServerCopies();
      } catch {
        // Sign out anyway; the copies stay (the sign-in screen still lists them).
      }
    }
    try {
      await this.backend.signOut();
    } catch {
      // Leaving is always allowed; the Rust side forgets the session either way.
    }
    this.session = null;
    this.offline = null;
    this.watchNews(false);
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

  openActivity = (): void => {
    this.activity = new ActivityLogDialog(this, () => {
      this.activity = null;
      this.focusAfterRender('#open-activity');
    });
    void this.activity.start();
    this.focusAfterRender('#activity-title');
  };

  // ----- rendering ------------------------------------------------------------------------------

  private banner(): TemplateResult | typeof nothing {
    if (this.signOutAsk !== null) {
      const n = this.signOutAsk;
      return html`<div class="banner warn" role="alertdialog" aria-labelledby="signout-q">
        <strong id="signout-q">Also delete the local ${n === 1 ? 'copy' : 'copies'} of ${n === 1 ? 'this study' : `${n} studies`} from this computer?</strong>
        Kept, ${n === 1 ? 'it opens' : 'they open'} without network from the sign-in screen (encrypted; the key is in this computer’s password store).
        <button type="button" class="btn small" id="signout-keep" @click=${() => void this.signOut(false)}>Sign out, keep them</button>
        <button type="button" class="btn small danger" id="signout-delete" @click=${() => void this.signOut(true)}>Sign out and delete them</button>
        <button type="button" class="btn small link" @click=${() => ((this.signOutAsk = null), this.requestUpdate())}>Cancel</button>
      </div>`;
    }
    if (this.offline?.syncedAt) {
      return html`<div class="banner offline" role="note" aria-label="Offline">
        ${folderIcon()} <strong>Offline — last synced ${timeAgo(this.offline.syncedAt, this.now())}.</strong>
        Showing ${this.offline.path} as kept on this computer; nothing is downloaded. Sign in to bring it up
        to date.
      </div>`;
    }
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
        <button type="button" class="btn small link" id="open-activity" @click=${this.openActivity}>Activity log</button>
        <button type="button" class="btn small link" id="open-about" @click=${this.openAbout}>About</button>
        ${s
          ? html`<span class="muted" title=${s.server}>${s.user.firstName} ${s.user.lastName} · ${s.server.replace(/^https?:\/\//, '')}</span>
              <button type="button" class="btn small" id="sign-out" @click=${() => void this.signOut()}>Sign out</button>`
          : nothing}
        ${this.offline ? html`<button type="button" class="btn small" @click=${() => void this.signOut(false)}>${this.offline.syncedAt ? 'Close' : 'Close files'}</button>` : nothing}
      </div>
    </header>`;
  }

  private template(): TemplateResult {
    const covered = this.dialog !== null || this.about !== null || this.activity !== null;
    return html`${this.header()} ${this.updates.render()} ${this.notKeptNote()} ${this.banner()}
      <div class="screen" ?inert=${covered} aria-hidden=${covered ? 'true' : 'false'}>${this.screen.render()}</div>
      ${this.dialog ? this.dialog.render() : nothing} ${this.about ? this.about.render() : nothing}
      ${this.activity ? this.activity.render() : nothing}`;
  }
}
