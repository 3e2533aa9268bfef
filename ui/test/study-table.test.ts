import { describe, expect, it } from 'vitest';
import type { StudyOverview } from '../src/backend/types';
import { ParticipantsTable, ROW_HEIGHT } from '../src/screens/ParticipantsTable';
import { $, $$, button, choose, fake, mount, openStudy, settle, text, type, waitFor } from './helpers';

const bodyRows = (root: HTMLElement) => $$(root, '.tbody [role="row"]');
const names = (root: HTMLElement) => bodyRows(root).map((r) => $(r, '[data-open]').textContent!.trim());
const header = (root: HTMLElement, key: string) => $(root, `[data-sort="${key}"]`).closest('[role="columnheader"]') as HTMLElement;

describe('Study overview', () => {
  it('the summary boxes show the participants they count when clicked, and say which one is on', async () => {
    const m = mount(fake());
    await openStudy(m);
    const tiles = () => $$(m.root, '.summary .tile');
    const count = (t: HTMLElement) => Number(text($(t, 'strong')).replace(/,/g, ''));
    const [all, recent, stale, never, pending] = tiles();
    expect(all!.getAttribute('aria-pressed')).toBe('true');
    const showing = () => Number(/Showing ([\d,]+) of/.exec(text(m.root))![1]!.replace(/,/g, ''));
    for (const [i, tile] of [recent!, stale!, never!, pending!].entries()) {
      const n = count(tile);
      tile.click();
      await settle();
      const now = tiles()[i + 1]!;
      expect(now.getAttribute('aria-pressed')).toBe('true');
      expect(tiles()[0]!.getAttribute('aria-pressed')).toBe('false');
      expect(showing()).toBe(n);
      // Clicking it again shows everyone again.
      now.click();
      await settle();
      expect(showing()).toBe(1200);
      expect(tiles()[0]!.getAttribute('aria-pressed')).toBe('true');
    }
    // The stale box lists exactly the participants whose last upload is older than 3 days.
    tiles()[2]!.click();
    await settle();
    expect(bodyRows(m.root).every((r) => r.classList.contains('stale'))).toBe(true);
    // "participants" clears every filter, the search too.
    type($(m.root, '#participant-search'), 'zzz-nobody');
    await settle();
    tiles()[0]!.click();
    await settle();
    expect(showing()).toBe(1200);
    expect(($(m.root, '#participant-search') as HTMLInputElement).value).toBe('');
  });

  it('renders 1,200 participants virtually: only a window of rows is in the DOM', async () => {
    const m = mount(fake());
    await openStudy(m);
    const table = $(m.root, '[role="table"]');
    expect(table.getAttribute('aria-rowcount')).toBe('1201');
    const rows = bodyRows(m.root);
    expect(rows.length).toBeGreaterThan(10);
    expect(rows.length).toBeLessThan(60);
    expect($(m.root, '.tbody').style.height).toBe(`${1200 * ROW_HEIGHT}px`);
    expect(text(m.root)).toContain('Showing 1,200 of 1,200 participants');

    // Scrolling swaps the rows in the DOM for the ones now in view.
    const scroller = $(m.root, '.vscroll.participants');
    scroller.scrollTop = 600 * ROW_HEIGHT;
    scroller.dispatchEvent(new Event('scroll'));
    await settle();
    const indexes = bodyRows(m.root).map((r) => Number(r.getAttribute('aria-rowindex')));
    expect(Math.min(...indexes)).toBeGreaterThan(500);
    expect(Math.max(...indexes)).toBeLessThan(700);
    expect(bodyRows(m.root).length).toBeLessThan(60);
  });

  it('sorts by clicking a column header, and says so with aria-sort', async () => {
    const m = mount(fake());
    await openStudy(m);
    expect(header(m.root, 'name').getAttribute('aria-sort')).toBe('ascending');
    expect(header(m.root, 'id').getAttribute('aria-sort')).toBe('none');
    const sortedAsc = names(m.root);
    expect([...sortedAsc].sort((a, b) => a.localeCompare(b))).toEqual(sortedAsc);

    // Header controls are real buttons: Enter and Space work, and they are in the tab order.
    const nameButton = $(m.root, '[data-sort="name"]');
    expect(nameButton.tagName).toBe('BUTTON');
    nameButton.click();
    await settle();
    expect(header(m.root, 'name').getAttribute('aria-sort')).toBe('descending');
    const sortedDesc = names(m.root);
    expect([...sortedDesc].sort((a, b) => b.localeCompare(a))).toEqual(sortedDesc);

    $(m.root, '[data-sort="id"]').click();
    await settle();
    expect(header(m.root, 'id').getAttribute('aria-sort')).toBe('ascending');
    expect(header(m.root, 'name').getAttribute('aria-sort')).toBe('none');
    const ids = bodyRows(m.root).map((r) => Number(r.dataset.pid));
    expect(ids[0]).toBe(40006);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);

    // Counts and "last upload" sort biggest first.
    $(m.root, '[data-sort="days"]').click();
    await settle();
    expect(header(m.root, 'days').getAttribute('aria-sort')).toBe('descending');
    const first = bodyRows(m.root)[0]!;
    expect(first.classList.contains('stale')).toBe(true);
    expect(text(first)).toMatch(/Warning: \d+ days ago/);
  });

  it('finds participants by name and by MRN', async () => {
    const m = mount(fake());
    await openStudy(m);
    const search = $(m.root, '#participant-search');
    type(search, 'zhang');
    await settle();
    const found = names(m.root);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((n) => /zhang/i.test(n))).toBe(true);
    const shown = Number(/Showing ([\d,]+) of/.exec(text(m.root))![1]!.replace(/,/g, ''));
    expect(shown).toBeLessThan(1200);
    expect($(m.root, '[role="table"]').getAttribute('aria-rowcount')).toBe(String(shown + 1));

    const overview = await m.backend.getStudyOverview(30006);
    const target = overview.patients[777]!;
    type(search, target.mrn!);
    await settle();
    expect(bodyRows(m.root).map((r) => Number(r.dataset.pid))).toEqual([target.id]);
    expect(text(m.root)).toContain('Showing 1 of 1,200 participants');

    type(search, 'nobody-by-this-name');
    await settle();
    expect(bodyRows(m.root)).toHaveLength(0);
    expect(text(m.root)).toContain('No participants match');
  });

  it('filters by consent', async () => {
    const m = mount(fake());
    await openStudy(m);
    const overview = await m.backend.getStudyOverview(30006);
    const codes = overview.types.map((t) => t.code);
    const expected = overview.patients.filter((p) => codes.some((c) => p.consent[c] === 'declined')).length;
    choose($(m.root, '#consent-filter'), 'declined');
    await settle();
    expect(text(m.root)).toContain(`Showing ${expected.toLocaleString('en-US')} of 1,200 participants`);
    for (const row of bodyRows(m.root)) expect(row.querySelector('.consent-declined')).not.toBeNull();
    // Consent is told in words and icons, not colour alone.
    expect(text(bodyRows(m.root)[0]!)).toContain('Declined');

    choose($(m.root, '#consent-filter'), 'consented');
    await settle();
    for (const row of bodyRows(m.root)) {
      expect(row.querySelector('.consent-declined, .consent-pending')).toBeNull();
    }
  });

  it('filters to participants who stopped uploading', async () => {
    const m = mount(fake());
    await openStudy(m);
    const box = $(m.root, '#stale-only') as HTMLInputElement;
    box.checked = true;
    box.dispatchEvent(new Event('change'));
    await settle();
    const rows = bodyRows(m.root);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.classList.contains('stale'))).toBe(true);
  });

  it('stays interactive: search, filter and sort of 1,200 participants, re-rendered', async () => {
    const m = mount(fake());
    await openStudy(m);
    // A generous bound: this guards against losing virtualisation (rendering all 1,200 rows).
    const t0 = performance.now();
    for (const q of ['a', 'an', 'ana', '']) {
      type($(m.root, '#participant-search'), q);
      await settle(1);
    }
    for (const key of ['id', 'name', 'mrn', 'first', 'last', 'days', 'type:omh:blood-glucose:4.0']) {
      $(m.root, `[data-sort="${key}"]`).click();
      await settle(1);
    }
    choose($(m.root, '#consent-filter'), 'pending');
    await settle(1);
    const elapsed = performance.now() - t0;
    expect(bodyRows(m.root).length).toBeLessThan(60);
    expect(elapsed).toBeLessThan(2000);
  });

  it('opens a participant and comes back to the same table', async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '[data-sort="id"]').click();
    await settle();
    const first = bodyRows(m.root)[0]!;
    $(first, '[data-open]').click();
    await waitFor(() => m.root.querySelector('.type-card'), 'participant view');
    button(m.root, 'All participants in').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'table again');
    expect(header(m.root, 'id').getAttribute('aria-sort')).toBe('ascending');
    expect(document.activeElement?.getAttribute('data-open')).toBe(first.dataset.pid);
  });
});

describe('Keyboard and layout', () => {
  it('offers a skip to the participants table before the summary boxes and sort headers', async () => {
    const m = mount(fake());
    await openStudy(m);
    const focusables = $$(m.root, 'main button, main input, main select, main [tabindex="0"]');
    const skip = button(m.root, 'Skip to the participants table');
    expect(focusables.indexOf(skip)).toBeLessThan(focusables.indexOf($(m.root, '.summary .tile')));
    skip.click();
    await settle();
    expect(document.activeElement).toBe($(m.root, '.vscroll.participants'));
  });

  it('puts the upload columns right after the name, and the types after them, compact', async () => {
    const m = mount(fake());
    await openStudy(m);
    const heads = $$(m.root, '.thead [role="columnheader"] [data-sort]').map((b) => b.dataset.sort);
    expect(heads.slice(0, 6)).toEqual(['id', 'name', 'days', 'last', 'first', 'mrn']);
    expect(heads.slice(6).every((k) => k!.startsWith('type:'))).toBe(true);
    // A type cell: icon and count; the consent in words for screen readers and the tooltip.
    const cell = $(bodyRows(m.root)[0]!, '[role="cell"][class*="consent-"]');
    expect(cell.getAttribute('title')).toMatch(/^(Consented|Pending|Declined|No consent record).* · [\d,]+ observations$/);
    expect(text($(cell, '.sr-only'))).toMatch(/^\w/);
  });
});

describe('Identifiers', () => {
  it('labels the identifier column by what it holds, never "MRN" for an e-mail address', async () => {
    const backend = fake();
    const real = backend.getStudyOverview.bind(backend);
    backend.getStudyOverview = async (...args) => {
      const o = await real(...args);
      return {
        ...o,
        patients: o.patients.map((p) => {
          const { mrn: _mrn, ...rest } = p;
          return { ...rest, identifiers: [{ system: 'email', value: `p${p.id}@example.org` }] };
        }),
      };
    };
    const m = mount(backend);
    await openStudy(m);
    expect(text($(m.root, '[data-sort="mrn"]'))).toContain('Identifier');
    const cell = $(bodyRows(m.root)[0]!, '.td.mono');
    expect(text(cell).trim()).toMatch(/^E-mail p\d+@example\.org$/);
  });
});

describe('Who needs attention', () => {
  it('lists the participants the rules flag, with why; the rules can be changed and are remembered', async () => {
    localStorage.clear();
    const backend = fake();
    const m = mount(backend);
    await openStudy(m);
    const o = await backend.getStudyOverview(30006);
    const expected = (days: number) =>
      o.patients.filter((p) => {
        const d = p.daysSinceLastUpload;
        const types = o.types.map((t) => t.code);
        return (
          d === undefined ||
          d > days ||
          types.some((c) => p.consent[c] === 'consented' && (p.counts[c] ?? 0) === 0) ||
          types.some((c) => p.consent[c] === 'pending')
        );
      }).length;
    const title = () => text($(m.root, '#attention-title'));
    const n = expected(3);
    expect(n).toBeGreaterThan(0);
    expect(title()).toBe(`${n.toLocaleString('en-US')} participants need attention`);
    const items = $$(m.root, '.attention-list li');
    expect(items.length).toBe(Math.min(4, n));
    expect(text(items[0]!)).toMatch(/— (never uploaded|no upload for \d+ days|consented but no|consent pending)/);
    // Show all, then open one.
    button(m.root, `Show all ${n.toLocaleString('en-US')}`).click();
    await settle();
    expect($$(m.root, '.attention-list li').length).toBe(n);

    // A longer grace period and no consent rule: fewer participants.
    $(m.root, '#attention-rules').click();
    await settle();
    const days = $(m.root, '#rule-days') as HTMLInputElement;
    days.value = '30';
    days.dispatchEvent(new Event('change'));
    await settle();
    const pendingBox = $$(m.root, '.attention-rules input[type="checkbox"]')[2] as HTMLInputElement;
    pendingBox.checked = false;
    pendingBox.dispatchEvent(new Event('change'));
    await settle();
    const fewer = o.patients.filter((p) => {
      const d = p.daysSinceLastUpload;
      return d === undefined || d > 30 || o.types.some((t) => p.consent[t.code] === 'consented' && (p.counts[t.code] ?? 0) === 0);
    }).length;
    expect(title()).toContain(fewer.toLocaleString('en-US'));
    expect(fewer).toBeLessThan(n);

    // Remembered: a new window uses the same rules.
    const m2 = mount(backend);
    await openStudy(m2);
    expect(text($(m2.root, '#attention-title'))).toContain(fewer.toLocaleString('en-US'));
    localStorage.clear();
  });
});

describe('Column widths', () => {
  // The app's root font size (styles.css: `font-size: 15px`), the page's side padding and a scrollbar.
  const REM = 15;
  const AVAILABLE = 1280 - 2 * 23 - 16;
  const overview = (types: number, names: string[]) =>
    ({
      study: { id: 1, name: 'S' },
      types: Array.from({ length: types }, (_, i) => ({ code: `omh:t${i}:1.0`, label: `Type ${i}`, unit: '' })),
      patients: names.map((n, i) => ({ id: i + 1, nameGiven: n, nameFamily: '', identifiers: [], consent: {}, counts: {} })),
    }) as unknown as StudyOverview;

  it('fits six types into 1280 px without scrolling sideways', () => {
    const t = new ParticipantsTable(overview(6, ['Maximiliana Okafor-Adeyemi']), () => {}, () => {});
    expect(t.gridColumns().minRem * REM).toBeLessThanOrEqual(AVAILABLE);
  });

  it('with more types (the table scrolls anyway) the name column is as wide as the longest name', () => {
    const short = new ParticipantsTable(overview(11, ['Ann Lee']), () => {}, () => {}).gridColumns();
    const long = new ParticipantsTable(overview(11, ['Ann Lee', 'Chinelo Okafor']), () => {}, () => {}).gridColumns();
    expect(short.template).toMatch(/^4\.5rem minmax\(9rem, 1\.3fr\)/);
    // 14 characters of bold text need about 10.3 rem.
    expect(long.template).toMatch(/^4\.5rem minmax\(11rem, 1\.3fr\)/);
    expect(long.minRem - short.minRem).toBe(2);
  });
});
