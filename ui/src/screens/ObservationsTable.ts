// Every reading of one data type, as it will appear in the exported file. A CGM sends 288 a day,
// so rows are fetched a page at a time as they scroll into view and only visible rows are drawn.
// Times are the participant's local wall clock with the UTC offset the reading carried (or UTC,
// said so, when it carried none); the UTC time, as in the exported `time_utc`, is in the cell's
// tooltip and read out after it. One time column, not a second UTC one: a 5-column table
// (blood pressure, intervals) already fills a card.
import { html, nothing, type TemplateResult } from 'lit-html';
import { styleMap } from 'lit-html/directives/style-map.js';
import { toBackendError, type BackendError, type Cell, type DateRange, type RowColumn } from '../backend/types';
import { num, readingTime, type ReadingTime } from '../lib/format';
import { virtualWindow } from '../lib/virtual';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';

export const OBSERVATION_ROW_HEIGHT = 32;

const isTime = (c: RowColumn): boolean => c.name.endsWith('_utc') || c.name === 'time';
export const PAGE = 200;

export class ObservationsTable {
  columns: RowColumn[] = [];
  pages = new Map<number, Cell[][]>();
  private inFlight = new Set<number>();
  error: BackendError | null = null;
  scrollTop = 0;
  viewport = 0;

  constructor(
    private readonly host: Host,
    private readonly patientId: number,
    private readonly code: string,
    private readonly label: string,
    private readonly range: DateRange,
    public total: number,
  ) {
    this.fetch(0);
  }

  private fetch(page: number): void {
    if (this.pages.has(page) || this.inFlight.has(page)) return;
    this.inFlight.add(page);
    this.host.backend.getRows(this.patientId, this.code, page * PAGE, PAGE, this.range).then(
      (r) => {
        this.inFlight.delete(page);
        this.columns = r.columns;
        this.total = r.total;
        this.pages.set(page, r.rows);
        this.host.requestUpdate();
      },
      (e) => {
        this.inFlight.delete(page);
        this.error = toBackendError(e);
        this.host.requestUpdate();
      },
    );
  }

  private onScroll = (e: Event): void => {
    const el = e.currentTarget as HTMLElement;
    this.scrollTop = el.scrollTop;
    this.viewport = el.clientHeight;
    this.host.requestUpdate();
  };

  /** `start`: the row's start, when this is an interval's end (written at the start's offset). */
  private cell(v: Cell, col: RowColumn, start: ReadingTime | null): TemplateResult {
    if (v === null || v === undefined) return html`<div role="cell" class="td">—</div>`;
    if (typeof v === 'number') return html`<div role="cell" class="td num">${num(v)}</div>`;
    const t = isTime(col) ? readingTime(v) : null;
    if (!t) return html`<div role="cell" class="td">${v}</div>`;
    // An end says only what its start does not: its time, the date if another day, no zone.
    const sameZone = start !== null && start.zone === t.zone;
    const shown = sameZone && start.time.slice(0, 10) === t.time.slice(0, 10) ? t.time.slice(11) : t.time;
    const zone = sameZone ? nothing : html` <span class="tz">${t.local ? `(${t.zone})` : t.zone}</span>`;
    return html`<div role="cell" class=${t.local ? 'td time local' : 'td time'} title=${t.utc}>
      ${shown}${zone}${t.local ? html`<span class="sr-only">, ${t.utc}</span>` : nothing}
    </div>`;
  }

  render(): TemplateResult {
    if (this.error) return errorNotice(this.error, { retry: () => ((this.error = null), this.fetch(0), this.host.requestUpdate()) });
    const w = virtualWindow(this.total, OBSERVATION_ROW_HEIGHT, this.scrollTop, this.viewport, 10);
    const rows: TemplateResult[] = [];
    for (let i = w.start; i < w.end; i++) {
      const page = Math.floor(i / PAGE);
      const data = this.pages.get(page)?.[i - page * PAGE];
      if (!data) this.fetch(page);
      rows.push(html`<div role="row" class="tr" aria-rowindex=${i + 2} style=${styleMap({ transform: `translateY(${i * OBSERVATION_ROW_HEIGHT}px)` })}>
        ${data
          ? this.columns.map((c, k) => {
              const start = c.name === 'end_utc' && typeof data[0] === 'string' ? readingTime(data[0]) : null;
              return this.cell(data[k] ?? null, c, start);
            })
          : html`<div role="cell" class="td muted">Loading…</div>`}
      </div>`);
    }
    // A time fits "2026-11-20 08:05:30 (UTC−08:00)", an end "2026-11-21 06:30:15"; the others
    // share the rest.
    const widths = this.columns.map((c) => (c.name === 'end_utc' ? 10.5 : isTime(c) ? 15.5 : 7));
    const cols = styleMap({
      '--cols': this.columns.length ? this.columns.map((c, k) => (isTime(c) ? `${widths[k]}rem` : 'minmax(7rem, 1fr)')).join(' ') : '1fr',
      '--min-width': `${widths.reduce((a, b) => a + b, 0)}rem`,
    });
    const first = this.pages.get(0)?.[0];
    return html`<div class="vscroll readings" tabindex="0" style=${cols} @scroll=${this.onScroll}
      aria-label=${`All ${this.label} observations. Use the arrow keys to scroll.`}>
      <div role="table" aria-label=${`${this.label} observations`} aria-rowcount=${this.total + 1}>
        <div role="rowgroup" class="thead">
          <div role="row" class="tr head" aria-rowindex="1">
            ${this.columns.map((c, k) => html`<div role="columnheader" class=${typeof first?.[k] === 'number' ? 'th num' : 'th'}>${c.label}${c.unit ? html` <span class="th-unit">(${c.unit})</span>` : ''}</div>`)}
          </div>
        </div>
        <div role="rowgroup" class="tbody" style=${styleMap({ height: `${w.height}px` })}>${rows}</div>
      </div>
    </div>`;
  }
}
