import { describe, expect, it } from 'vitest';
import { $, button, fake, mount, text, waitFor } from './helpers';

describe('Offline review', () => {
  it('opens an exported folder with a clear banner and no server actions', async () => {
    const m = mount(fake());
    button(m.root, 'Open an exported file or folder').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'table from files');
    const banner = $(m.root, '.banner.offline');
    expect(text(banner)).toMatch(/Offline: reviewing files from .*JHE exports\/CGM & Wearables Demo/);
    // Only one banner: the offline one says where the data comes from.
    expect(m.root.querySelector('.banner.demo')).toBeNull();
    expect(m.root.querySelector('#export-study')).toBeNull();
    expect(text(m.root)).toContain('Showing 240 of 240 participants');
    expect(m.backend.calls.find((c) => c.method === 'openExport')!.args[0]).toContain('JHE exports');

    // The same participant view works from the files.
    $(m.root, '.tbody [role="row"] [data-open]').click();
    await waitFor(() => m.root.querySelector('.type-card .chart svg'), 'charts');
    expect(m.root.querySelector('#export-participant')).toBeNull();
    expect(text($(m.root, '.range-picker'))).toContain('up to the last day in the files');

    button(m.root, 'Close files').click();
    await waitFor(() => m.root.querySelector('#server-url'), 'sign in');
    expect(m.root.querySelector('.banner.offline')).toBeNull();
  });

  it('stays on the sign-in screen when the picker is closed', async () => {
    const backend = fake();
    backend.pickExportToOpen = async () => null;
    const m = mount(backend);
    button(m.root, 'Open an exported file or folder').click();
    await new Promise((r) => setTimeout(r, 10));
    expect(m.root.querySelector('#server-url')).not.toBeNull();
    expect(m.root.querySelector('[role="alert"]')).toBeNull();
  });

  it('says which files changed since the export', async () => {
    const backend = fake();
    const open = backend.openExport.bind(backend);
    backend.openExport = async (path: string) => ({
      ...(await open(path)),
      warnings: ['Changed since export: blood_glucose.csv. Their contents differ from what JHE Desktop wrote.'],
    });
    const m = mount(backend);
    button(m.root, 'Open an exported file or folder').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'table from files');
    const alert = $(m.root, '.banner.offline [role="alert"]');
    expect(text(alert)).toContain('Changed since export: blood_glucose.csv');
  });

  it('claims no consent the files do not carry, and shows the counts', async () => {
    const m = mount(fake());
    button(m.root, 'Open an exported file or folder').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'table from files');
    expect(m.root.querySelector('#consent-filter')).toBeNull();
    expect(text($(m.root, '.legend'))).toContain('exports do not record consent');
    expect(text($(m.root, '.summary'))).not.toContain('consent pending');
    const cells = [...m.root.querySelectorAll('.tbody [role="cell"].consent-notExported')];
    expect(cells.length).toBeGreaterThan(0);
    expect(text(m.root.querySelector('.tbody')!)).not.toContain('Not asked');
    expect(cells.some((c) => /\d/.test(text(c)))).toBe(true);
  });
});
