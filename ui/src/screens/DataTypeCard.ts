// One data type of one participant: the chart drawn by the Rust side, the numbers a coordinator
// quotes (n, mean, min, max, SD, with units), a readout for any point in time (pointer or arrow
// keys), and the raw readings on request.
import { html, nothing, type TemplateResult } from 'lit-html';
import { styleMap } from 'lit-html/directives/style-map.js';
import type { ConsentState, DateRange, Stats, Summary, TypeSeries } from '../backend/types';
import { dateTime, int, num, plural, utc } from '../lib/format';
import { sanitizeSvg } from '../lib/sanitize-svg';
import type { Host } from './host';
import { CONSENT_TEXT } from './ParticipantsTable';
import { ObservationsTable } from './ObservationsTable';

export class DataTypeCard {
  hover: number | null = null;
  readings: ObservationsTable | null = null;
  private times: number[];
  private chart: SVGSVGElement | null;
  /** The daily pattern (AGP) of the summary, when there is one. */
  private profile: SVGSVGElement | null;
  /** The user asked to count the implausible readings in the summary's numbers. */
  private countImplausible = false;
  private axis: { left: number; right: number; from: number; to: number };

  constructor(
    private readonly host: Host,
    private readonly patientId: number,
    readonly series: TypeSeries,
    private readonly range: DateRange,
    private readonly consent: ConsentState | undefined,
  ) {
    this.times = series.points.map((p) => Date.parse(p.t));
    // Parsed once per data set: re-renders reuse the same cleaned node.
    this.chart = series.rows > 0 && series.chartSvg ? sanitizeSvg(series.chartSvg) : null;
    this.profile = series.summary?.profile?.svg ? sanitizeSvg(series.summary.profile.svg) : null;
    const a = series.chartXAxis;
    this.axis = a
      ? { left: a.left, right: a.right, from: Date.parse(a.from), to: Date.parse(a.to) }
      : { left: 0, right: 1, from: this.times[0] ?? 0, to: this.times[this.times.length - 1] ?? 1 };
  }

  private nearest(t: number): number {
    const ts = this.times;
    let lo = 0;
    let hi = ts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (ts[mid]! < t) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && Math.abs(ts[lo - 1]! - t) <= Math.abs(ts[lo]! - t) ? lo - 1 : lo;
  }

  private fracOf(i: number): number {
    const { left, right, from, to } = this.axis;
    return left + ((this.times[i]! - from) / Math.max(1, to - from)) * (right - left);
  }

  private setHover(i: number | null): void {
    if (i === this.hover) return;
    this.hover = i;
    this.host.requestUpdate();
  }

  private onMove = (e: PointerEvent | MouseEvent): void => {
    if (!this.times.length) return;
    const box = (e.currentTarget as HTMLElement).getBoundingClientRect();
    if (box.width <= 0) return;
    const f = (e.clientX - box.left) / box.width;
    const { left, right, from, to } = this.axis;
    const t = from + ((f - left) / Math.max(1e-9, right - left)) * (to - from);
    this.setHover(this.nearest(t));
  };

  private onKey = (e: KeyboardEvent): void => {
    const n = this.times.length;
    if (!n) return;
    const cur = this.hover ?? n - 1;
    const big = Math.max(1, Math.round(n / 10));
    const next: Record<string, number> = {
      ArrowLeft: cur - 1,
      ArrowRight: cur + 1,
      PageUp: cur - big,
      PageDown: cur + big,
      Home: 0,
      End: n - 1,
    };
    if (!(e.key in next)) return;
    e.preventDefault();
    this.setHover(Math.min(n - 1, Math.max(0, next[e.key]!)));
  };

  private readout(): string {
    if (this.hover === null) return 'Point at the chart, or focus it and use the arrow keys, to read values.';
    const p = this.series.points[this.hover]!;
    const s = this.series;
    const value = s.valueLabels && p.v2 !== undefined ? `${s.valueLabels[0]} ${num(p.v)} / ${s.valueLabels[1]} ${num(p.v2)}` : num(p.v);
    return `${dateTime(p.t)}: ${value} ${s.unit}`;
  }

  private toggleReadings = (): void => {
    this.readings = this.readings ? null : new ObservationsTable(this.host, this.patientId, this.series.code, this.series.label, this.range, this.series.rows);
    this.host.requestUpdate();
  };

  /** Two values per reading (blood pressure): one table row each, so the numbers line up. */
  private pairStats(a: Stats, b: Stats, labels: [string, string], unit: string): TemplateResult {
    // Units once per column, so the numbers stay on one line.
    const col = (label: string, withUnit = true) =>
      html`<th scope="col">${label}${withUnit && unit ? html`<span class="unit">${unit}</span>` : nothing}</th>`;
    const row = (label: string, st: Stats) => html`<tr>
      <th scope="row">${label}</th><td>${int(st.n)}</td><td>${num(st.mean)}</td><td>${num(st.min)}</td>
      <td>${num(st.max)}</td><td>${num(st.sd)}</td>
    </tr>`;
    return html`<table class="stats-table">
      <caption class="sr-only">${this.series.label} statistics</caption>
      <thead><tr><td></td>${col('Count (n)', false)}${col('Mean')}${col('Min')}${col('Max')}${col('SD')}</tr></thead>
      <tbody>${row(labels[0], a)}${row(labels[1], b)}</tbody>
    </table>`;
  }

  private stats(st: Stats, unit: string, caption?: string): TemplateResult {
    const box = (label: string, value: string, u = unit) => html`<div class="stat">
      <dt>${label}</dt>
      <dd>${value}${u ? html` <span class="unit">${u}</span>` : nothing}</dd>
    </div>`;
    return html`<dl class="stats" aria-label=${caption ? `${caption} statistics` : 'Statistics'}>
      ${caption ? html`<div class="stat caption">${caption}</div>` : nothing}
      ${box('Count (n)', int(st.n), '')} ${box('Mean', num(st.mean))} ${box('Min', num(st.min))} ${box('Max', num(st.max))}
      ${box('SD', num(st.sd))}
    </dl>`;
  }

  /** Time in ranges (or BP categories) as one stacked bar with a legend, and the headline numbers. */
  private summary(sum: Summary, id: string): TemplateResult {
    const pct = (p: number) => `${p < 1 && p > 0 ? p.toFixed(1) : Math.round(p)} %`;
    const value = (m: Summary['metrics'][number]) =>
      m.text ?? (m.value === null ? 'not enough data' : `${m.value.toLocaleString('en-US', { minimumFractionDigits: m.decimals, maximumFractionDigits: m.decimals })}${m.unit ? ` ${m.unit}` : ''}`);
    return html`<section class="type-summary" aria-labelledby=${`${id}-sum`}>
      <h3 id=${`${id}-sum`} class="sr-only">${this.series.label}: summary</h3>
      ${sum.bands.length
        ? html`<div class="bands" role="img" aria-label=${sum.bands.map((b) => `${b.label}: ${pct(b.percent)}`).join('; ')}>
              ${sum.bands.map((b) =>
                b.percent > 0
                  ? html`<span class=${`band band-${b.key}`} style=${styleMap({ width: `${b.percent}%` })} title=${`${b.label}: ${pct(b.percent)}`}></span>`
                  : nothing,
              )}
            </div>
            <ul class="band-legend">
              ${sum.bands.map(
                (b) => html`<li><span class=${`swatch band-${b.key}`} aria-hidden="true"></span>${b.label}
                  <strong>${pct(b.percent)}</strong>${b.goal ? html` <span class="muted">(${b.goal})</span>` : nothing}</li>`,
              )}
            </ul>`
        : nothing}
      <dl class="metrics">
        ${sum.metrics.map(
          (m) => html`<div class="metric" title=${m.help}>
            <dt>${m.label}</dt>
            <dd>${value(m)}</dd>
            <dd class="sr-only">${m.help}</dd>
          </div>`,
        )}
      </dl>
      <p class="muted basis">${sum.basis}</p>
      ${this.implausibleSwitch(id)}
    </section>`;
  }

  /** "Count the implausible readings": shown when there are some; off by default (the field's
   *  standard is to leave them out); the daily pattern and the chart stay without them. */
  private implausibleSwitch(id: string): TemplateResult | typeof nothing {
    const s = this.series.summary;
    if (!s?.withImplausible || s.excluded === 0) return nothing;
    return html`<label class="check implausible-switch">
      <input type="checkbox" id=${`${id}-count-implausible`} .checked=${this.countImplausible}
        @change=${(e: Event) => {
          this.countImplausible = (e.target as HTMLInputElement).checked;
          this.host.requestUpdate();
        }} />
      Count the ${plural(s.excluded, 'implausible reading', 'implausible readings')} in these numbers</label>`;
  }

  /** The readings by time of day (CGM: the AGP), drawn in Rust, with what it shows in words. */
  private profileSection(id: string): TemplateResult | typeof nothing {
    const p = this.series.summary?.profile;
    if (!p || !this.profile) return nothing;
    return html`<figure class="profile" aria-labelledby=${`${id}-profile`}>
      <h3 id=${`${id}-profile`} class="profile-title">${p.title}</h3>
      <div class="chart profile-chart" role="img" aria-label=${`${p.title}. ${p.caption}`}>${this.profile}</div>
      <figcaption class="muted">${p.caption}</figcaption>
    </figure>`;
  }

  render(): TemplateResult {
    const s = this.series;
    const id = `type-${s.code.replace(/[^a-z0-9]+/gi, '-')}`;
    const notConsented = this.consent && this.consent !== 'consented' && this.consent !== 'notExported';
    return html`<article class="card type-card" aria-labelledby=${`${id}-title`} data-code=${s.code}>
      <header class="type-head">
        <h2 id=${`${id}-title`}>${s.label} ${s.unit ? html`<span class="unit">(${s.unit})</span>` : nothing}</h2>
        <span class="muted">${plural(s.rows, 'observation', 'observations')} in this period</span>
      </header>
      ${s.notes.length
        ? html`<div class="warnings" role="note" aria-label="Not shown">
            <ul>${s.notes.map((n) => html`<li>${n}</li>`)}</ul>
          </div>`
        : nothing}
      ${s.rows === 0
        ? html`<p class="empty">
            ${notConsented
              ? html`<span aria-hidden="true">${CONSENT_TEXT[this.consent!].icon}</span>
                  Consent: ${CONSENT_TEXT[this.consent!].text.toLowerCase()}. No ${s.label.toLowerCase()} data is shared for this participant.`
              : html`No ${s.label.toLowerCase()} observations in this period. Choose a longer period to look further back.`}
          </p>`
        : s.stats.n === 0 && !this.chart
          ? html`<p class="empty not-summarised">
                Not summarised — ${plural(s.rows, 'reading', 'readings')} of a kind without a single value to chart; see them in the table.
              </p>
              <button type="button" class="btn small" aria-expanded=${this.readings ? 'true' : 'false'} @click=${this.toggleReadings}>
                ${this.readings ? 'Hide observations' : `Show all ${plural(s.rows, 'observation', 'observations')}`}
              </button>
              ${this.readings ? this.readings.render() : nothing}`
          : html`${s.summary ? this.summary(this.countImplausible && s.summary.withImplausible ? s.summary.withImplausible : s.summary, id) : nothing}
            ${s.stats2 && s.valueLabels ? this.pairStats(s.stats, s.stats2, s.valueLabels, s.unit) : this.stats(s.stats, s.unit)}
            <div class="chart" tabindex="0" role="group"
              aria-label=${`${s.label} chart. Use the left and right arrow keys to read values.`}
              aria-describedby=${`${id}-readout`}
              @pointermove=${this.onMove} @mousemove=${this.onMove} @pointerleave=${() => this.setHover(null)}
              @keydown=${this.onKey} @blur=${() => this.setHover(null)}>
              ${this.chart ?? html`<p class="muted">The chart could not be drawn.</p>`}
              ${this.hover !== null
                ? html`<div class="cursor" aria-hidden="true" style=${styleMap({ left: `${(this.fracOf(this.hover) * 100).toFixed(2)}%` })}></div>`
                : nothing}
            </div>
            <p class="readout" id=${`${id}-readout`} aria-live="polite"
              title=${this.hover !== null ? utc(s.points[this.hover]?.t) || nothing : nothing}>${this.readout()}</p>
            ${this.profileSection(id)}
            <button type="button" class="btn small" aria-expanded=${this.readings ? 'true' : 'false'} @click=${this.toggleReadings}>
              ${this.readings ? 'Hide observations' : `Show all ${plural(s.rows, 'observation', 'observations')}`}
            </button>
            ${this.readings ? this.readings.render() : nothing}`}
    </article>`;
  }
}
