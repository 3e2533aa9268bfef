// Every reading of one data type, as it will appear in the exported file. A CGM sends 288 a day,
// so rows are fetched a page at a time as they scroll into view and only visible rows are drawn.
import { html, type TemplateResult } from 'lit-html';
import { styleMap } from 'lit-html/directives/style-map.js';
import { toBackendError, type BackendError, type Cell, type DateRange, type RowColumn } from '../backend/types';
import { num } from '../lib/format';
import { virtualWindow } from '../lib/virtual';
import { errorNotice } from './ErrorNotice';
import type { Host } from './host';

export const OBSERVATION_ROW_HEIGHT = 32;
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

  private cell(v: Cell, col: RowColumn): string {
    if (v === null || v === undefined) return '—';
    if (typeof v === 'number') return num(v);
    // Times as in the exported file (UTC, sortable), so what is seen here can be found there.
    if (col.name.endsWith('_utc') || col.name === 'time') return v.replace('T', ' ').replace(/(:\d\d)(\.\d+)?(Z|[+-]00:?00)$/, '$1');
    return v;
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
          ? this.columns.map((c, k) => html`<div role="cell" class=${typeof data[k] === 'number' ? 'td num' : 'td'}>${this.cell(data[k] ?? null, c)}</div>`)
          : html`<div role="cell" class="td muted">Loading…</div>`}
      </div>`);
    }
    const cols = styleMap({ '--cols': this.columns.length ? `12rem repeat(${this.columns.length - 1}, minmax(7rem, 1fr))` : '1fr' });
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
