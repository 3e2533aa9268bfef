// The participants of one study, as a table that stays fast with thousands of rows: only the
// rows in view are in the DOM (ARIA row indexes tell screen readers where they are), and sort and
// filter work on plain arrays.
import { warnIcon } from '../lib/icons';
import { html, nothing, type TemplateResult } from 'lit-html';
import { styleMap } from 'lit-html/directives/style-map.js';
import type { ConsentState, PatientRow, StudyOverview } from '../backend/types';
import { date, daysAgo, int, utc } from '../lib/format';
import { virtualWindow } from '../lib/virtual';

export type SortKey = 'id' | 'name' | 'mrn' | 'first' | 'last' | 'days' | `type:${string}`;
export type ConsentFilter = 'all' | 'consented' | 'pending' | 'declined';

export const ROW_HEIGHT = 40;
/** Uploads older than this many days are flagged. */
export const STALE_DAYS = 3;

/** A column header short enough for a compact column (the full name is in its tooltip). */
const SHORT: Record<string, string> = {
  'blood-glucose': 'Glucose',
  'blood-pressure': 'Blood pressure',
  'heart-rate': 'Heart rate',
  'step-count': 'Steps',
  'body-weight': 'Weight',
  'oxygen-saturation': 'SpO2',
  'respiratory-rate': 'Resp. rate',
  'body-temperature': 'Temp.',
  'sleep-duration': 'Sleep',
  'sleep-episode': 'Sleep episodes',
  'sleep-stage-summary': 'Sleep stages',
  'physical-activity': 'Activity',
};

export function shortLabel(t: { code: string; label: string }): string {
  return SHORT[t.code.split(':')[1] ?? ''] ?? t.label;
}

/** The study summary's upload groups (each participant is in exactly one). */
export type UploadFilter = 'all' | 'recent' | 'stale' | 'never';

export function uploadGroup(p: PatientRow): Exclude<UploadFilter, 'all'> {
  const d = p.daysSinceLastUpload;
  return d === undefined ? 'never' : d > STALE_DAYS ? 'stale' : 'recent';
}

export const CONSENT_TEXT: Record<ConsentState | 'none', { icon: string; text: string }> = {
  consented: { icon: '✓', text: 'Consented' },
  pending: { icon: '◷', text: 'Pending' },
  declined: { icon: '✕', text: 'Declined' },
  notVisible: { icon: '?', text: 'Not visible to you' },
  notExported: { icon: '', text: 'Consent not in the files' },
  none: { icon: '–', text: 'Not asked' },
};

const collator = new Intl.Collator(undefined, { sensitivity: 'base', numeric: true });

export const displayName = (p: PatientRow): string => `${p.nameGiven} ${p.nameFamily}`.trim() || `Participant ${p.id}`;

/** What an identifier system is, in words: "MRN", "E-mail", or the system's last part. */
export function systemLabel(system: string): string {
  const s = system.toLowerCase();
  if (s.includes('mrn')) return 'MRN';
  if (s.includes('mail')) return 'E-mail';
  const last = system.replace(/[/#]+$/, '').split(/[/#:]/).pop() ?? '';
  return last && last.length <= 24 ? last : 'ID';
}

/** Every identifier system among `patients`, in first-seen order, labelled by what it is. */
export function identifierSystems(patients: PatientRow[]): { system: string; label: string }[] {
  const out: { system: string; label: string }[] = [];
  for (const p of patients) {
    for (const i of p.identifiers) {
      if (i.value && !out.some((o) => o.system === i.system)) out.push({ system: i.system, label: systemLabel(i.system) });
    }
  }
  return out;
}

/** The identifier shown for a participant (the MRN when there is one), labelled by what it is. */
export function identifierOf(p: PatientRow): { label: string; value: string } | null {
  if (p.mrn) return { label: 'MRN', value: p.mrn };
  const i = p.identifiers.find((x) => x.value);
  return i ? { label: systemLabel(i.system), value: i.value } : null;
}

function mrnOf(p: PatientRow): string {
  return identifierOf(p)?.value ?? '';
}

export class ParticipantsTable {
  sortKey: SortKey = 'name';
  sortDir: 'ascending' | 'descending' = 'ascending';
  query = '';
  consent: ConsentFilter = 'all';
  staleOnly = false;
  /** The identifier column's name: "MRN" when every participant has one, else "Identifier". */
  readonly idLabel: string;
  /** Set by the study's summary boxes: who uploaded recently, stopped, or never uploaded. */
  upload: UploadFilter = 'all';
  scrollTop = 0;
  viewport = 0;
  private search: string[];
  private cacheKey = '';
  private cache: PatientRow[] = [];
  private scroller: HTMLElement | null = null;

  constructor(
    private readonly overview: StudyOverview,
    private readonly requestUpdate: () => void,
    private readonly onOpen: (row: PatientRow) => void,
  ) {
    this.idLabel = overview.patients.every((p) => p.mrn) ? 'MRN' : 'Identifier';
    // One lowercase haystack per participant, built once: search stays instant at 1,200 rows.
    this.search = overview.patients.map((p) =>
      [p.id, p.nameGiven, p.nameFamily, `${p.nameFamily} ${p.nameGiven}`, mrnOf(p), ...p.identifiers.map((i) => i.value)]
        .join(' ')
        .toLowerCase(),
    );
  }

  /** The rows after filtering and sorting (cached until an input changes). */
  rows(): PatientRow[] {
    const key = [this.sortKey, this.sortDir, this.query, this.consent, this.staleOnly, this.upload].join('\u0000');
    if (key === this.cacheKey) return this.cache;
    const q = this.query.trim().toLowerCase().split(/\s+/).filter(Boolean);
    const codes = this.overview.types.map((t) => t.code);
    const out: PatientRow[] = [];
    this.overview.patients.forEach((p, i) => {
      if (q.length && !q.every((w) => this.search[i]!.includes(w))) return;
      if (this.consent === 'consented' && !codes.every((c) => p.consent[c] === 'consented')) return;
      if (this.consent === 'pending' && !codes.some((c) => p.consent[c] === 'pending')) return;
      if (this.consent === 'declined' && !codes.some((c) => p.consent[c] === 'declined')) return;
      if (this.staleOnly && !((p.daysSinceLastUpload ?? Infinity) > STALE_DAYS)) return;
      if (this.upload !== 'all' && uploadGroup(p) !== this.upload) return;
      out.push(p);
    });
    const dir = this.sortDir === 'ascending' ? 1 : -1;
    const value = this.sortValue(this.sortKey);
    out.sort((a, b) => {
      const va = value(a);
      const vb = value(b);
      // Participants without a value (no data yet) go last in both directions.
      if (va === undefined || vb === undefined) return va === vb ? a.id - b.id : va === undefined ? 1 : -1;
      const c = typeof va === 'number' && typeof vb === 'number' ? va - vb : collator.compare(String(va), String(vb));
      return c * dir || a.id - b.id;
    });
    this.cacheKey = key;
    this.cache = out;
    return out;
  }

  private sortValue(key: SortKey): (p: PatientRow) => string | number | undefined {
    switch (key) {
      case 'id':
        return (p) => p.id;
      case 'name':
        return (p) => displayName(p);
      case 'mrn':
        return (p) => mrnOf(p) || undefined;
      case 'first':
        return (p) => p.firstDate;
      case 'last':
        return (p) => p.lastDate;
      case 'days':
        return (p) => p.daysSinceLastUpload;
      default: {
        const code = key.slice(5);
        return (p) => p.counts[code] ?? 0;
      }
    }
  }

  sortBy(key: SortKey): void {
    if (this.sortKey === key) this.sortDir = this.sortDir === 'ascending' ? 'descending' : 'ascending';
    else {
      this.sortKey = key;
      // Counts and "days since" are most useful biggest-first.
      this.sortDir = key.startsWith('type:') || key === 'days' ? 'descending' : 'ascending';
    }
    this.scrollToTop();
    this.requestUpdate();
  }

  setQuery(q: string): void {
    this.query = q;
    this.scrollToTop();
    this.requestUpdate();
  }

  setConsent(c: ConsentFilter): void {
    this.consent = c;
    this.scrollToTop();
    this.requestUpdate();
  }

  setUpload(u: UploadFilter): void {
    this.upload = u;
    this.scrollToTop();
    this.requestUpdate();
  }

  /** Everyone: no search, no filter. */
  clearFilters(): void {
    this.query = '';
    this.consent = 'all';
    this.staleOnly = false;
    this.upload = 'all';
    this.scrollToTop();
    this.requestUpdate();
  }

  setStaleOnly(v: boolean): void {
    this.staleOnly = v;
    this.scrollToTop();
    this.requestUpdate();
  }

  private scrollToTop(): void {
    this.scrollTop = 0;
    if (this.scroller) this.scroller.scrollTop = 0;
  }

  private onScroll = (e: Event): void => {
    const el = e.currentTarget as HTMLElement;
    this.scroller = el;
    this.viewport = el.clientHeight;
    const before = virtualWindow(this.rows().length, ROW_HEIGHT, this.scrollTop, this.viewport);
    this.scrollTop = el.scrollTop;
    const after = virtualWindow(this.rows().length, ROW_HEIGHT, this.scrollTop, this.viewport);
    if (before.start !== after.start || before.end !== after.end) this.requestUpdate();
  };

  private header(key: SortKey, label: TemplateResult | string, cls = ''): TemplateResult {
    const sort = this.sortKey === key ? this.sortDir : 'none';
    const arrow = sort === 'ascending' ? '▲' : sort === 'descending' ? '▼' : '↕';
    return html`<div role="columnheader" class=${`th ${cls}`} aria-sort=${sort}>
      <button type="button" class="sort" data-sort=${key} @click=${() => this.sortBy(key)}>
        <span>${label}</span><span class="sort-arrow" aria-hidden="true">${arrow}</span>
      </button>
    </div>`;
  }

  private consentCell(p: PatientRow, code: string): TemplateResult {
    const state = p.consent[code] ?? 'none';
    const c = CONSENT_TEXT[state];
    const n = p.counts[code] ?? 0;
    // Compact: the consent icon and the count; the consent in words in the tooltip and for screen
    // readers (the legend above the table explains the icons).
    return html`<div role="cell" class=${`td num consent-${state}`} title=${`${c.text} · ${int(n)} observations`}>
      <span class="consent-icon" aria-hidden="true">${c.icon}</span><span class="sr-only">${c.text}, </span>${int(n)}
    </div>`;
  }

  private row(p: PatientRow, index: number, top: number): TemplateResult {
    const days = p.daysSinceLastUpload;
    // Never having uploaded needs the same follow-up as having stopped.
    const stale = days === undefined || days > STALE_DAYS;
    return html`<div
      role="row"
      class=${`tr${stale ? ' stale' : ''}`}
      aria-rowindex=${index + 2}
      data-pid=${p.id}
      style=${styleMap({ transform: `translateY(${top}px)` })}
      @click=${(e: Event) => {
        if (!(e.target as HTMLElement).closest('button')) this.onOpen(p);
      }}
    >
      <div role="cell" class="td num">${p.id}</div>
      <div role="rowheader" class="td name">
        <button type="button" class="linklike" data-open=${p.id} title=${displayName(p)} @click=${() => this.onOpen(p)}>${displayName(p)}</button>
      </div>
      <div role="cell" class=${`td ${stale ? 'warn' : ''}`}>
        ${stale ? html`<span class="warn-icon">${warnIcon()}</span><span class="sr-only">Warning: </span>` : nothing}${daysAgo(days)}
      </div>
      <div role="cell" class="td" title=${utc(p.lastDate) || nothing}>${date(p.lastDate)}</div>
      <div role="cell" class="td" title=${utc(p.firstDate) || nothing}>${date(p.firstDate)}</div>
      ${(() => {
        const id = identifierOf(p);
        return html`<div role="cell" class="td mono" title=${id ? `${id.label}: ${id.value}` : 'No identifier'}>
          ${id && id.label !== this.idLabel ? html`<span class="id-kind">${id.label}</span> ` : nothing}${id?.value || '—'}
        </div>`;
      })()}
      ${this.overview.types.map((t) => this.consentCell(p, t.code))}
    </div>`;
  }

  /** ID and name (pinned while scrolling sideways), then who stopped uploading (last upload,
   *  last and first data), the identifier, and one compact column per data type: at 1280 px wide,
   *  six types fit without scrolling sideways. */
  gridColumns(): { template: string; minRem: number } {
    const n = this.overview.types.length;
    // Up to six types, the name shares what is left of 1280 px; with more, the table scrolls
    // sideways anyway and the name column is as wide as the study's longest name (bold text is
    // about 0.62 rem a character), so no name is cut off.
    const longest = Math.max(0, ...this.overview.patients.map((p) => displayName(p).length));
    const name = n <= 6 ? 9 : Math.min(15, Math.max(9, Math.ceil(0.62 * longest + 1.6)));
    return {
      template: `4.5rem minmax(${name}rem, 1.3fr) 7.6rem 7.6rem 7.6rem 7rem repeat(${n}, minmax(5.6rem, 1fr))`,
      minRem: 4.5 + name + 7.6 * 3 + 7 + 5.6 * n,
    };
  }

  render(): TemplateResult {
    const rows = this.rows();
    const w = virtualWindow(rows.length, ROW_HEIGHT, this.scrollTop, this.viewport);
    const g = this.gridColumns();
    const cols = styleMap({ '--cols': g.template, '--min-width': `${g.minRem}rem` });
    return html`<div
      class="vscroll participants"
      tabindex="0"
      aria-label="Participants table. Use the arrow keys to scroll."
      @scroll=${this.onScroll}
      style=${cols}
    >
      <div role="table" aria-label="Participants" aria-rowcount=${rows.length + 1} aria-colcount=${this.overview.types.length + 6}>
        <div role="rowgroup" class="thead">
          <div role="row" class="tr head" aria-rowindex="1">
            ${this.header('id', 'ID', 'num')} ${this.header('name', 'Name')}
            ${this.header('days', 'Last upload')} ${this.header('last', 'Last data')} ${this.header('first', 'First data')}
            ${this.header('mrn', this.idLabel)}
            ${this.overview.types.map((t) =>
              this.header(
                `type:${t.code}`,
                html`<span title=${`${t.label}: consent and observations`} aria-hidden="true">${shortLabel(t)}</span><span class="sr-only">${t.label}, observations</span>`,
                'num',
              ),
            )}
          </div>
        </div>
        <div role="rowgroup" class="tbody" style=${styleMap({ height: `${w.height}px` })}>
          ${rows.slice(w.start, w.end).map((p, k) => this.row(p, w.start + k, (w.start + k) * ROW_HEIGHT))}
        </div>
      </div>
      ${rows.length === 0 ? html`<p class="empty">No participants match. Clear the search or the filters to see everyone.</p>` : nothing}
    </div>`;
  }
}
