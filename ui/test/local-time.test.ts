// Times on screen: a reading at the participant's own UTC offset (or plainly UTC when it carried
// none), the study's dates in this computer's time zone, and UTC in the tooltips. Run in a fixed
// zone, US Pacific, where midnight UTC is still the day before, so local and UTC dates differ.
import { describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  // Node applies a new TZ at once; this runs before the imports below create their formatters.
  (globalThis as unknown as { process: { env: Record<string, string> } }).process.env.TZ = 'America/Los_Angeles';
});

import { date, dateTime, readingTime, utc } from '../src/lib/format';
import { $, $$, button, fake, mount, openStudy, settle, text, waitFor } from './helpers';

const DAY_IN_LA = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'America/Los_Angeles' });
const DAY_IN_UTC = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });

async function openParticipant() {
  const m = mount(fake());
  await openStudy(m);
  $(m.root, '[data-sort="id"]').click();
  await settle();
  $(m.root, '.tbody [role="row"] [data-open]').click(); // participant 40006
  await waitFor(() => m.root.querySelector('.type-card .chart svg'), 'charts');
  return m;
}

async function firstReading(m: { root: HTMLElement }, code: string): Promise<{ card: HTMLElement; cell: HTMLElement }> {
  const card = $(m.root, `.type-card[data-code="${code}"]`);
  button(card, 'Show all').click();
  const cell = await waitFor(() => card.querySelector<HTMLElement>('.readings .tbody [role="row"] [role="cell"]:not(.muted)'), 'rows');
  return { card, cell };
}

describe('Times', () => {
  it('runs in the fixed time zone it says', () => {
    expect(Intl.DateTimeFormat().resolvedOptions().timeZone).toBe('America/Los_Angeles');
  });

  it("format a reading's time at its own offset, or as UTC without one", () => {
    expect(readingTime('2026-11-20T08:05:00-08:00')).toEqual({ time: '2026-11-20 08:05', zone: 'UTC\u221208:00', local: true, utc: '2026-11-20 16:05:00 UTC' });
    expect(readingTime('2026-11-20T21:50:30.5+05:45')).toEqual({ time: '2026-11-20 21:50:30', zone: 'UTC+05:45', local: true, utc: '2026-11-20 16:05:30 UTC' });
    expect(readingTime('2026-11-20T16:05:00Z')).toEqual({ time: '2026-11-20 16:05', zone: 'UTC', local: false, utc: '2026-11-20 16:05:00 UTC' });
    expect(readingTime('2026-11-20T16:05:00+00:00')?.local).toBe(false);
    expect(readingTime('not a time')).toBeNull();
  });

  it("format the study's dates in this computer's time zone, UTC in the tooltip text", () => {
    // Midnight UTC on 1 April is still 31 March in California.
    expect(date('2025-04-01T00:00:00Z')).toBe(DAY_IN_LA.format(new Date('2025-03-31T12:00:00Z')));
    expect(date('2025-04-01T00:00:00Z')).not.toBe(DAY_IN_UTC.format(new Date('2025-04-01T00:00:00Z')));
    expect(utc('2025-04-01T00:00:00.000Z')).toBe('2025-04-01 00:00:00 UTC');
    expect(dateTime('2025-06-15T12:00:00Z')).toMatch(/05:00\sAM.*PDT|PDT.*05:00|GMT-7/);
    expect(dateTime('2025-06-15T12:00:00Z')).not.toContain('UTC');
    expect(date(undefined)).toBe('—');
  });

  it("shows a reading with an offset at the participant's local time, the offset beside it and UTC in its tooltip", async () => {
    const m = await openParticipant();
    const { card, cell } = await firstReading(m, 'omh:blood-glucose:4.0');
    expect($$(card, '.readings [role="columnheader"]').map((h) => text(h).trim())).toEqual(["Time (participant's local)", 'Value (mg/dL)', 'Device']);
    // The first reading of the period (from 2 June, UTC days) is 00:00 UTC, 17:00 the day before
    // in the participant's UTC−07:00.
    expect(text($(cell, ':scope > :not(.sr-only)')).trim()).toBe('(UTC\u221207:00)');
    expect(text(cell).trim()).toBe('2025-06-01 17:00 (UTC\u221207:00), 2025-06-02 00:00:00 UTC');
    expect(cell.getAttribute('title')).toBe('2025-06-02 00:00:00 UTC');
    expect(text($(cell, '.sr-only'))).toBe(', 2025-06-02 00:00:00 UTC');
  });

  it('says UTC for a reading that carried no offset, and does not call it local', async () => {
    const m = await openParticipant();
    const { cell } = await firstReading(m, 'omh:blood-pressure:4.0');
    // The fake cuff app sends UTC times without an offset; the first in the period is 07:00 UTC.
    expect(text(cell).trim()).toBe('2025-06-02 07:00 UTC');
    expect(cell.getAttribute('title')).toBe('2025-06-02 07:00:00 UTC');
    expect(cell.classList.contains('local')).toBe(false);
    expect(text(cell)).not.toMatch(/UTC[+\u2212-]/);
  });

  it("shows an interval's end at its start's offset without repeating the zone, or the date on the same day", async () => {
    const backend = fake();
    backend.getRows = async () => ({
      columns: [
        { name: 'start_utc', label: "Start (participant's local)" },
        { name: 'end_utc', label: "End (participant's local)" },
        { name: 'value', label: 'Value', unit: 'steps' },
      ],
      rows: [
        ['2026-11-20T01:00:00-05:00', '2026-11-20T02:00:00-05:00', 100],
        ['2026-11-20T23:10:00-05:00', '2026-11-21T06:40:00-05:00', 200],
        ['2026-11-21T04:10:00Z', '2026-11-21T11:40:00Z', 300],
      ],
      offset: 0,
      total: 3,
    });
    const m = mount(backend);
    await openStudy(m);
    $(m.root, '[data-sort="id"]').click();
    await settle();
    $(m.root, '.tbody [role="row"] [data-open]').click();
    await waitFor(() => m.root.querySelector('.type-card .chart svg'), 'charts');
    const { card } = await firstReading(m, 'omh:step-count:3.0');
    const rows = $$(card, '.readings .tbody [role="row"]').map((r) => $$(r, '[role="cell"]'));
    const shown = (c: HTMLElement) => text(c).replace(/,\s*\d{4}-.*UTC\s*$/, '').trim();
    expect(rows.map((r) => [shown(r[0]!), shown(r[1]!)])).toEqual([
      ['2026-11-20 01:00 (UTC\u221205:00)', '02:00'],
      ['2026-11-20 23:10 (UTC\u221205:00)', '2026-11-21 06:40'],
      ['2026-11-21 04:10 UTC', '11:40'],
    ]);
    expect(rows[0]![1]!.getAttribute('title')).toBe('2026-11-20 07:00:00 UTC');
    expect(rows[1]![1]!.getAttribute('title')).toBe('2026-11-21 11:40:00 UTC');
  });

  it("shows the study table's dates in this computer's time zone with UTC in a tooltip", async () => {
    const backend = fake();
    const m = mount(backend);
    await openStudy(m);
    $(m.root, '[data-sort="id"]').click();
    await settle();
    const o = await backend.getStudyOverview(30006);
    const row = $$(m.root, '.tbody [role="row"]').find((r) => o.patients.some((p) => String(p.id) === r.dataset.pid && p.firstDate))!;
    const p = o.patients.find((x) => String(x.id) === row.dataset.pid)!;
    const [, , lastData, firstData] = $$(row, '[role="cell"]');
    // The fake's first data is at midnight UTC: the day before, here.
    expect(p.firstDate).toMatch(/T00:00:00\.000Z$/);
    expect(text(firstData!).trim()).toBe(DAY_IN_LA.format(new Date(p.firstDate!)));
    expect(text(firstData!).trim()).not.toBe(DAY_IN_UTC.format(new Date(p.firstDate!)));
    expect(firstData!.getAttribute('title')).toBe(`${p.firstDate!.slice(0, 10)} 00:00:00 UTC`);
    expect(lastData!.getAttribute('title')).toBe(`${p.lastDate!.slice(0, 19).replace('T', ' ')} UTC`);
    expect(text(lastData!).trim()).toBe(DAY_IN_LA.format(new Date(p.lastDate!)));
    expect(text(m.root)).toContain("Dates are in this computer's time zone; point at one to see it in UTC.");
    expect(text(m.root)).not.toContain('Dates are in UTC');
  });

  it("shows the participant's first and last data dates locally with UTC tooltips, and the readout's time with UTC", async () => {
    const m = await openParticipant();
    const head = $(m.root, '.page-head p.muted');
    const spans = $$(head, 'span[title]').filter((s) => / UTC$/.test(s.title));
    expect(spans).toHaveLength(2);
    for (const s of spans) expect(text(s)).toBe(DAY_IN_LA.format(new Date(s.title.replace(' ', 'T').replace(' UTC', 'Z'))));

    const card = $(m.root, '.type-card[data-code="omh:heart-rate:2.0"]');
    const chart = $(card, '.chart');
    chart.dispatchEvent(new KeyboardEvent('keydown', { key: 'End', bubbles: true }));
    await settle();
    const readout = $(card, '.readout');
    expect(readout.getAttribute('title')).toMatch(/^2025-06-\d\d \d\d:\d\d:\d\d UTC$/);
    expect(text(readout)).toMatch(/2025.*(PDT|GMT-7).*: \d+ beats\/min/);
  });
});
