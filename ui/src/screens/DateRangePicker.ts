// Which days of data to show: the usual windows in one click, any other window by typing two dates.
import { html, nothing, type TemplateResult } from 'lit-html';
import type { DateRange } from '../backend/types';
import { addDays, isoDay } from '../lib/format';

export type Preset = '7' | '14' | '30' | '90' | 'all' | 'custom';

const PRESETS: { value: Preset; label: string }[] = [
  { value: '7', label: 'Last 7 days' },
  { value: '14', label: '14 days' },
  { value: '30', label: '30 days' },
  { value: '90', label: '90 days' },
  { value: 'all', label: 'All data' },
  { value: 'custom', label: 'Choose dates…' },
];

let seq = 0;

export class DateRangePicker {
  preset: Preset;
  customFrom = '';
  customTo = '';
  problem = '';
  private readonly id = `range-${++seq}`;

  constructor(
    /** The last day the presets count back from (today, or the last day of an exported file). */
    private readonly anchor: () => Date,
    private readonly requestUpdate: () => void,
    private readonly onChange: (range: DateRange) => void,
    initial: Preset = '14',
    private readonly anchorLabel = 'today',
  ) {
    this.preset = initial;
  }

  /** The range the current choice stands for. */
  range(): DateRange {
    if (this.preset === 'all') return {};
    if (this.preset === 'custom') return { ...(this.customFrom ? { from: this.customFrom } : {}), ...(this.customTo ? { to: this.customTo } : {}) };
    const end = this.anchor();
    return { from: isoDay(addDays(end, -(Number(this.preset) - 1))), to: isoDay(end) };
  }

  private choose(p: Preset): void {
    this.preset = p;
    this.problem = '';
    if (p === 'custom') {
      // Start the custom fields from what was on screen, so "custom" means "adjust this".
      const end = this.anchor();
      this.customTo ||= isoDay(end);
      this.customFrom ||= isoDay(addDays(end, -29));
      this.requestUpdate();
      return;
    }
    this.requestUpdate();
    this.onChange(this.range());
  }

  private apply = (e: Event): void => {
    e.preventDefault();
    if (this.customFrom && this.customTo && this.customFrom > this.customTo) {
      this.problem = 'The first day must be on or before the last day.';
      this.requestUpdate();
      return;
    }
    this.problem = '';
    this.requestUpdate();
    this.onChange(this.range());
  };

  render(): TemplateResult {
    return html`<fieldset class="range-picker">
      <legend>Period</legend>
      <div class="segmented">
        ${PRESETS.map(
          (p) => html`<label class=${this.preset === p.value ? 'on' : ''}>
            <input type="radio" name=${this.id} value=${p.value} .checked=${this.preset === p.value}
              @change=${() => this.choose(p.value)} />
            ${p.label}
          </label>`,
        )}
      </div>
      ${this.preset !== 'custom' && this.preset !== 'all'
        ? html`<span class="muted small">up to ${this.anchorLabel}</span>`
        : nothing}
      ${this.preset === 'custom'
        ? html`<form class="custom-range" @submit=${this.apply}>
            <label>From <input type="date" name="from" .value=${this.customFrom}
              @input=${(e: Event) => (this.customFrom = (e.target as HTMLInputElement).value)} /></label>
            <label>To <input type="date" name="to" .value=${this.customTo}
              @input=${(e: Event) => (this.customTo = (e.target as HTMLInputElement).value)} /></label>
            <button type="submit" class="btn small">Show</button>
            ${this.problem ? html`<span class="inline-error" role="alert">${this.problem}</span>` : nothing}
          </form>`
        : nothing}
    </fieldset>`;
  }
}
