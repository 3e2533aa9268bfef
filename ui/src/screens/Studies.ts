// Where a signed-in coordinator lands: their organizations (with what they may do there) and the
// studies in each, so the next click is always "open my study".
import { html, nothing, type TemplateResult } from 'lit-html';
import { toBackendError, type BackendError, type LocalCopyInfo, type Organization, type Role, type Study } from '../backend/types';
import { bytes, plural, timeAgo } from '../lib/format';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';

const ROLE_TEXT: Record<Role, { label: string; help: string }> = {
  manager: { label: 'Manager', help: 'You can see and manage this organization’s studies.' },
  member: { label: 'Member', help: 'You can see this organization’s studies and their data.' },
  viewer: { label: 'Viewer', help: 'You can look at this organization’s studies but not change them.' },
};

const ORG_TYPE: Record<string, string> = {
  edu: 'University or school',
  laboratory: 'Laboratory',
  team: 'Team',
  prov: 'Healthcare provider',
  dept: 'Department',
  root: 'Exchange',
};

export class StudiesScreen {
  readonly crumb = 'Studies';
  orgs: Organization[] = [];
  studies: Study[] = [];
  loading = true;
  error: BackendError | null = null;
  /** The studies of this server kept on this computer, by id. */
  saved = new Map<number, LocalCopyInfo>();
  /** Minutes between background checks for new data (0: off); null until known. */
  every: number | null = null;

  constructor(private readonly host: Host) {
    void this.load();
  }

  load = async (): Promise<void> => {
    this.loading = true;
    this.error = null;
    this.host.requestUpdate();
    try {
      const [orgs, studies] = await Promise.all([this.host.backend.listOrganizations(), this.host.backend.listStudies()]);
      this.orgs = orgs;
      this.studies = studies;
      void this.loadSaved();
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.loading = false;
    this.host.requestUpdate();
  };

  /** Which of this server's studies are saved on this computer (again when the user comes back). */
  loadSaved = async (): Promise<void> => {
    const s = this.host.session;
    const server = s?.demo ? 'demo' : (s?.server ?? '').replace(/\/+$/, '');
    try {
      const [copies, every] = await Promise.all([this.host.backend.localCopies(), this.host.backend.syncEvery()]);
      this.saved = new Map(copies.filter((c) => c.server.replace(/\/+$/, '') === server).map((c) => [c.studyId, c]));
      this.every = every;
    } catch {
      // Without the list the cards just do not say "saved".
    }
    this.host.requestUpdate();
  };

  private setEvery = async (minutes: number): Promise<void> => {
    try {
      this.every = await this.host.backend.setSyncEvery(minutes);
    } catch (e) {
      this.error = toBackendError(e);
    }
    this.host.requestUpdate();
  };

  /** "Check for new data every 15 minutes" (the studies kept on this computer, in the background). */
  private everyControl(): TemplateResult | typeof nothing {
    if (this.every === null || this.saved.size === 0) return nothing;
    const choices = [5, 15, 30, 60, 240, 0];
    if (!choices.includes(this.every)) choices.unshift(this.every);
    return html`<p class="sync-every field inline">
      <label for="sync-every">Check the studies saved on this computer for new data</label>
      <select id="sync-every" @change=${(e: Event) => void this.setEvery(Number((e.target as HTMLSelectElement).value))}>
        ${choices.map((m) => html`<option value=${m} ?selected=${m === this.every}>${m === 0 ? 'never (off)' : m < 60 ? `every ${m} minutes` : m === 60 ? 'every hour' : `every ${m / 60} hours`}</option>`)}
      </select>
      <span class="hint">You get a desktop notification when there is new data.</span>
    </p>`;
  }

  private org(o: Organization, studies: Study[]): TemplateResult {
    const role = o.role ? ROLE_TEXT[o.role] : null;
    return html`<section class="org" aria-labelledby=${`org-${o.id}`}>
      <header class="org-head">
        <h2 id=${`org-${o.id}`}>${o.name}</h2>
        ${role
          ? html`<span class=${`badge role-${o.role}`} title=${role.help}>
              <span class="sr-only">Your role: </span>${role.label}
            </span>`
          : nothing}
        <span class="muted">${ORG_TYPE[o.type] ?? o.type}</span>
      </header>
      ${studies.length
        ? html`<ul class="study-list">
            ${studies.map(
              (s) => html`<li>
                <button type="button" class="study-card" data-study=${s.id} @click=${() => this.host.openStudy(s)}>
                  <span class="study-name">${s.name}</span>
                  <span class="study-desc">${s.description}</span>
                  ${this.host.news.get(s.id)
                    ? html`<span class="badge news" data-news=${s.id}>${this.host.news.get(s.id)!.text}</span>`
                    : nothing}
                  <span class="study-count">${plural(s.patientCount, 'participant', 'participants')}</span>
                  ${this.saved.get(s.id)
                    ? html`<span class="study-saved" data-saved=${s.id}>Saved on this computer · ${bytes(this.saved.get(s.id)!.bytes)} · synced
                        ${timeAgo(this.saved.get(s.id)!.syncedAt, this.host.now())}</span>`
                    : nothing}
                </button>
              </li>`,
            )}
          </ul>`
        : html`<p class="muted">No studies in this organization yet.</p>`}
    </section>`;
  }

  render(): TemplateResult {
    const u = this.host.session?.user;
    const byOrg = new Map<number, Study[]>();
    for (const s of this.studies) byOrg.set(s.organizationId, [...(byOrg.get(s.organizationId) ?? []), s]);
    // Studies whose organization is not in the list (seen through a parent) still need a home.
    const orphans = this.studies.filter((s) => !this.orgs.some((o) => o.id === s.organizationId));
    return html`<main class="page" aria-labelledby="screen-title" aria-busy=${this.loading ? 'true' : 'false'}>
      <h1 id="screen-title" tabindex="-1">Your studies</h1>
      ${u ? html`<p class="lead">Signed in as ${u.firstName} ${u.lastName} (${u.email}). Choose a study to see its participants.</p>` : nothing}
      ${this.loading ? html`<p role="status"><span class="spinner" aria-hidden="true"></span> Loading your studies…</p>` : nothing}
      ${this.error ? errorNotice(this.error, { retry: this.load }) : nothing} ${this.everyControl()}
      ${!this.loading && !this.error && this.orgs.length === 0 && this.studies.length === 0
        ? html`<p>Your account is not part of any organization yet. Ask your study’s manager to add you in JHE.</p>`
        : nothing}
      ${this.orgs.map((o) => this.org(o, byOrg.get(o.id) ?? []))}
      ${orphans.length
        ? this.org({ id: 0, name: 'Other studies you can see', type: '', role: null }, orphans)
        : nothing}
    </main>`;
  }
}
