import { describe, expect, it } from 'vitest';
import { $, $$, button, fake, mount, openStudy, settle, text, type, waitFor } from './helpers';

async function openParticipant(backend = fake()) {
  const m = mount(backend);
  await openStudy(m);
  $(m.root, '[data-sort="id"]').click();
  await settle();
  $(m.root, '.tbody [role="row"] [data-open]').click(); // participant 40006
  await waitFor(() => m.root.querySelector('.type-card .chart svg'), 'charts');
  return m;
}

const lastCall = (m: { backend: { calls: { method: string; args: unknown[] }[] } }, method: string) =>
  [...m.backend.calls].reverse().find((c) => c.method === method)!;

describe('Participant view', () => {
  it("opens a participant whose data ended long ago on their own last 14 days of data, and says so", async () => {
    const backend = fake();
    const m = mount(backend);
    await openStudy(m);
    const o = await backend.getStudyOverview(30006);
    const oldOne = o.patients.find((p) => p.lastDate && Date.parse(p.lastDate) < Date.parse('2025-06-01T00:00:00Z'));
    expect(oldOne, 'the fake study has a participant who stopped more than 14 days ago').toBeTruthy();
    type($(m.root, '#participant-search'), String(oldOne!.id));
    await settle();
    $(m.root, `[data-open="${oldOne!.id}"]`).click();
    await waitFor(() => m.root.querySelector('.type-card'), 'cards');
    const call = lastCall(m, 'getPatientData');
    const lastDay = oldOne!.lastDate!.slice(0, 10);
    expect(call.args[2]).toEqual({ from: new Date(Date.parse(lastDay) - 13 * 86_400_000).toISOString().slice(0, 10), to: lastDay });
    expect(text(m.root)).toContain('up to the last data,');
  });

  it('says plainly when a type is not summarised, instead of zeros and a missing chart', async () => {
    const backend = fake();
    const real = backend.getPatientData.bind(backend);
    backend.getPatientData = async (...args) => {
      const d = await real(...args);
      const t = d.types[0]!;
      d.types[0] = { ...t, stats: { n: 0, mean: 0, min: 0, max: 0, sd: 0 }, chartSvg: '', points: [], rows: 13 };
      delete d.types[0].summary;
      return d;
    };
    const m = mount(backend);
    await openStudy(m);
    $(m.root, '.tbody [role="row"] [data-open]').click();
    await waitFor(() => m.root.querySelector('.type-card .not-summarised'), 'the note');
    const card = $$(m.root, '.type-card')[0]!;
    expect(text($(card, '.not-summarised'))).toContain('Not summarised — 13 readings');
    expect(card.querySelector('.stats')).toBeNull();
    expect(text(card)).not.toContain('could not be drawn');
    expect(button(card, 'Show all 13 observations')).toBeTruthy();
  });

  it('sums up glucose as time in ranges with the consensus goals and the headline numbers', async () => {
    const m = await openParticipant();
    const glucose = $$(m.root, '.type-card')[0]!;
    const legend = $$(glucose, '.band-legend li').map((li) => text(li));
    expect(legend.map((l) => l.replace(/\s+\d[\d.]* %.*$/, ''))).toEqual([
      'Very low: below 54',
      'Low: 54–69',
      'In range: 70–180',
      'High: 181–250',
      'Very high: above 250',
    ]);
    expect(legend[2]).toContain('(goal over 70 %)');
    // The bar's shares add up to the whole, and the bar says them for screen readers.
    const widths = $$(glucose, '.bands .band').map((b) => parseFloat(b.style.width));
    expect(widths.reduce((a, b) => a + b, 0)).toBeCloseTo(100, 6);
    expect($(glucose, '.bands').getAttribute('aria-label')).toMatch(/^Very low: below 54: [\d.]+ %; Low/);
    const metrics = $$(glucose, '.metric dt').map((d) => d.textContent);
    expect(metrics).toEqual(['Average glucose', 'GMI', 'Variability (CV)']);
    expect(text($(glucose, '.metric dd'))).toMatch(/^\d+ mg\/dL$/);
    expect($(glucose, '.metric').getAttribute('title')).toBe('Mean of the readings.');
    expect(text($(glucose, '.basis'))).toMatch(/^From \d+ reading\(s\) in this period; days are the participant's local dates\.$/);
    // Blood pressure in the fake has no summary: no empty box is drawn.
    expect($$(m.root, '.type-card')[1]!.querySelector('.type-summary')).toBeNull();
  });

  it('leaves implausible readings out of the numbers, and counts them when asked', async () => {
    const backend = fake();
    const get = backend.getPatientData.bind(backend);
    // The server sent two implausible glucose readings: the summary comes both ways.
    backend.getPatientData = async (...args: Parameters<typeof get>) => {
      const d = await get(...args);
      const g = d.types.find((x) => x.code === 'omh:blood-glucose:4.0')!;
      const base = g.summary!;
      const counted = { ...base, metrics: base.metrics.map((m, i) => (i === 0 ? { ...m, value: 171 } : m)), basis: 'From 102 reading(s) in this period; days are the participant\'s local dates. 2 of them implausible (outside glucose 20–600 mg/dL), counted as you asked.', excluded: 2 };
      g.summary = { ...base, excluded: 2, basis: `${base.basis} 2 implausible reading(s) (outside glucose 20–600 mg/dL) are not counted.`, withImplausible: counted };
      return d;
    };
    const m = await openParticipant(backend);
    const glucose = $$(m.root, '.type-card')[0]!;
    const box = $(glucose, '.implausible-switch input') as HTMLInputElement;
    expect(text($(glucose, '.implausible-switch')).trim()).toBe('Count the 2 implausible readings in these numbers');
    expect(box.checked).toBe(false);
    expect(text($(glucose, '.basis'))).toContain('are not counted');
    const before = text($(glucose, '.metric dd'));
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    await settle();
    expect(text($(glucose, '.basis'))).toContain('counted as you asked');
    expect(text($(glucose, '.metric dd'))).toBe('171 mg/dL');
    expect(text($(glucose, '.metric dd'))).not.toBe(before);
    // Off again: the standard numbers.
    ($(glucose, '.implausible-switch input') as HTMLInputElement).click();
    await settle();
    expect(text($(glucose, '.metric dd'))).toBe(before);
    // A card without implausible readings has no switch.
    expect($$(m.root, '.type-card')[1]!.querySelector('.implausible-switch')).toBeNull();
  });

  it('shows the daily pattern (AGP) under the glucose chart, with what it shows in words', async () => {
    const m = await openParticipant();
    const glucose = $$(m.root, '.type-card')[0]!;
    const fig = $(glucose, 'figure.profile');
    expect(text($(fig, 'h3'))).toBe('Daily pattern (AGP)');
    expect($(fig, '.profile-chart svg polygon')).toBeTruthy();
    expect(text($(fig, 'figcaption'))).toMatch(/^All \d+ days laid over one day, by the participant's clock/);
    // One image for screen readers, named by its title and caption.
    expect($(fig, '.profile-chart').getAttribute('role')).toBe('img');
    expect($(fig, '.profile-chart').getAttribute('aria-label')).toMatch(/^Daily pattern \(AGP\)\. All/);
    // Other types have none.
    expect($$(m.root, '.type-card')[1]!.querySelector('figure.profile')).toBeNull();
  });

  it('shows one card per data type with its chart and statistics', async () => {
    const m = await openParticipant();
    const cards = $$(m.root, '.type-card');
    expect(cards.map((c) => c.dataset.code)).toEqual([
      'omh:blood-glucose:4.0',
      'omh:blood-pressure:4.0',
      'omh:heart-rate:2.0',
      'omh:step-count:3.0',
      'omh:sleep-duration:2.0',
    ]);
    const glucose = cards[0]!;
    expect(text($(glucose, 'h2'))).toContain('Blood glucose (mg/dL)');
    expect($(glucose, '.chart svg')).toBeTruthy();
    const stats = $$(glucose, '.stat dt').map((d) => d.textContent);
    expect(stats).toEqual(['Count (n)', 'Mean', 'Min', 'Max', 'SD']);
    // Units next to the numbers.
    expect($$(glucose, '.stat dd .unit').map((u) => u.textContent)).toEqual(['mg/dL', 'mg/dL', 'mg/dL', 'mg/dL']);
    // Blood pressure: both values, side by side.
    const bp = cards[1]!;
    expect($$(bp, '.stats-table tbody th').map((t) => t.textContent)).toEqual(['Systolic', 'Diastolic']);
    // The first call asked for the default 14 days up to today.
    expect(lastCall(m, 'getPatientData').args).toEqual([30006, 40006, { from: '2025-06-02', to: '2025-06-15' }]);
  });

  it('re-requests data when the period changes', async () => {
    const m = await openParticipant();
    const before = text($(m.root, '.type-card[data-code="omh:blood-glucose:4.0"] .type-head'));
    const radio = $$(m.root, '.range-picker input[type="radio"]').find((r) => (r as HTMLInputElement).value === '7')!;
    (radio as HTMLInputElement).checked = true;
    radio.dispatchEvent(new Event('change'));
    await waitFor(() => lastCall(m, 'getPatientData').args[2] && (lastCall(m, 'getPatientData').args[2] as { from: string }).from === '2025-06-09', '7-day request');
    await settle();
    expect(lastCall(m, 'getPatientData').args[2]).toEqual({ from: '2025-06-09', to: '2025-06-15' });
    const after = text($(m.root, '.type-card[data-code="omh:blood-glucose:4.0"] .type-head'));
    expect(after).not.toBe(before);
    const n = (s: string) => Number(/([\d,]+) observations?/.exec(s)![1]!.replace(/,/g, ''));
    expect(n(after)).toBeLessThan(n(before));
  });

  it('takes a custom period and refuses an upside-down one', async () => {
    const m = await openParticipant();
    const custom = $$(m.root, '.range-picker input[type="radio"]').find((r) => (r as HTMLInputElement).value === 'custom')!;
    custom.dispatchEvent(new Event('change'));
    await settle();
    const from = $(m.root, '.range-picker input[name="from"]');
    const to = $(m.root, '.range-picker input[name="to"]');
    type(from, '2025-06-10');
    type(to, '2025-06-01');
    button(m.root, /^\s*Show\s*$/).click();
    await settle();
    expect(text($(m.root, '.range-picker [role="alert"]'))).toContain('The first day must be on or before the last day.');
    const calls = m.backend.calls.filter((c) => c.method === 'getPatientData').length;
    type(to, '2025-06-12');
    button(m.root, /^\s*Show\s*$/).click();
    await settle();
    expect(m.backend.calls.filter((c) => c.method === 'getPatientData').length).toBe(calls + 1);
    expect(lastCall(m, 'getPatientData').args[2]).toEqual({ from: '2025-06-10', to: '2025-06-12' });
  });

  it('reads out the value under the pointer and with the arrow keys', async () => {
    const m = await openParticipant();
    const card = $(m.root, '.type-card[data-code="omh:heart-rate:2.0"]');
    const chart = $(card, '.chart');
    const readout = $(card, '.readout');
    expect(readout.getAttribute('aria-live')).toBe('polite');
    expect(text(readout)).toContain('Point at the chart');
    chart.getBoundingClientRect = () => ({ left: 0, top: 0, width: 1000, height: 300, right: 1000, bottom: 300, x: 0, y: 0, toJSON: () => ({}) });
    chart.dispatchEvent(new MouseEvent('mousemove', { clientX: 500, clientY: 100, bubbles: true }));
    await settle();
    expect(text($(card, '.readout'))).toMatch(/2025.*: \d+ beats\/min/);
    expect(card.querySelector('.cursor')).not.toBeNull();

    chart.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    await settle();
    const atEnd = text($(card, '.readout'));
    chart.dispatchEvent(new KeyboardEvent('keydown', { key: 'ArrowLeft', bubbles: true }));
    await settle();
    expect(text($(card, '.readout'))).not.toBe(atEnd);
    expect(chart.getAttribute('tabindex')).toBe('0');
  });

  it('shows the raw readings in a virtual table, fetched page by page', async () => {
    const m = await openParticipant();
    const card = $(m.root, '.type-card[data-code="omh:blood-glucose:4.0"]');
    const total = Number(/([\d,]+) observations/.exec(text($(card, '.type-head')))![1]!.replace(/,/g, ''));
    expect(total).toBeGreaterThan(1000);
    button(card, 'Show all').click();
    await waitFor(() => card.querySelector('.readings [role="cell"]:not(.muted)'), 'rows');
    const table = $(card, '.readings [role="table"]');
    expect(table.getAttribute('aria-rowcount')).toBe(String(total + 1));
    const rows = $$(card, '.readings .tbody [role="row"]');
    expect(rows.length).toBeLessThan(60);
    expect($$(card, '.readings [role="columnheader"]').map((h) => text(h).trim())).toEqual(["Time (participant's local)", 'Value (mg/dL)', 'Device']);
    expect(lastCall(m, 'getRows').args).toEqual([40006, 'omh:blood-glucose:4.0', 0, 200, { from: '2025-06-02', to: '2025-06-15' }]);

    // Scrolling far fetches the page that is now in view.
    const scroller = $(card, '.vscroll.readings');
    scroller.scrollTop = 1000 * 32;
    scroller.dispatchEvent(new Event('scroll'));
    await waitFor(() => lastCall(m, 'getRows').args[2] === 1000, 'page at 1000');
    await settle();
    expect($$(card, '.readings .tbody [role="row"]')[0]!.getAttribute('aria-rowindex')).not.toBe('2');
  });

  it('draws only safe SVG', async () => {
    const backend = fake();
    const original = backend.getPatientData.bind(backend);
    backend.getPatientData = async (...args) => {
      const d = await original(...args);
      d.types[0]!.chartSvg = d.types[0]!.chartSvg.replace('</svg>', '<script>window.pwned=1</script><rect onclick="x()" width="1" height="1"/></svg>');
      return d;
    };
    const m = await openParticipant(backend);
    const svg = $(m.root, '.type-card .chart svg');
    expect(svg.querySelector('script')).toBeNull();
    expect(svg.querySelector('[onclick]')).toBeNull();
    expect((window as unknown as { pwned?: number }).pwned).toBeUndefined();
  });

  it('says when readings could not be shown instead of dropping them silently', async () => {
    const backend = fake();
    const get = backend.getPatientData.bind(backend);
    backend.getPatientData = async (...args: Parameters<typeof get>) => {
      const d = await get(...args);
      d.types[0]!.notes = ['3 reading(s) could not be read (malformed on the server) and are not shown.'];
      return d;
    };
    const m = await openParticipant(backend);
    const note = $($$(m.root, '.type-card')[0]!, '[role="note"]');
    expect(text(note)).toContain('3 reading(s) could not be read');
    expect($$(m.root, '.type-card [role="note"]')).toHaveLength(1);
  });
});

