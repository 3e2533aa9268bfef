// De-identified exports from the dialog, and the activity (audit) log: what it lists, its check,
// and saving it as CSV.
import { describe, expect, it } from 'vitest';
import type { ExportRequest } from '../src/backend/types';
import { FAKE_PASSPHRASE } from '../src/backend/fake';
import { $, $$, button, fake, mount, openStudy, settle, text, type, waitFor } from './helpers';

describe('De-identified export', () => {
  it('asks for pseudonyms and a date shift, and leaves the identifier choice out', async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '#export-study').click();
    await settle();
    const dialog = $(m.root, '[role="dialog"]');
    expect(dialog.querySelector('input[name="deid-shift"]')).toBeNull();
    const deid = $(dialog, 'input[name="deidentify"]') as HTMLInputElement;
    deid.checked = true;
    deid.dispatchEvent(new Event('change'));
    await settle();
    const shifts = $$(m.root, '.dialog input[name="deid-shift"]') as HTMLInputElement[];
    expect(shifts.map((s) => s.value)).toEqual(['days', 'weeks', 'none']);
    expect(shifts[0]!.checked).toBe(true);
    expect(text($(m.root, '#export-deid'))).toContain('back by the same random 0–364 days');
    shifts[1]!.checked = true;
    shifts[1]!.dispatchEvent(new Event('change'));
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-show'), 'export finished');
    const req = m.backend.calls.find((c) => c.method === 'exportData')!.args[1] as ExportRequest;
    expect(req.deidentify).toBe('weeks');
    expect(req.identifierSystems).toBeUndefined();
    expect(text($(m.root, '.export-done'))).toContain('De-identified');
  });
});

describe('Encrypted export', () => {
  it('asks for the passphrase twice, refuses a short or mistyped one, and says where the one file is', async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '#export-study').click();
    await settle();
    const dialog = $(m.root, '[role="dialog"]');
    expect(dialog.querySelector('input[name="passphrase"]')).toBeNull();
    const enc = $(dialog, 'input[name="encrypt"]') as HTMLInputElement;
    enc.checked = true;
    enc.dispatchEvent(new Event('change'));
    await settle();
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    const pass = $(m.root, 'input[name="passphrase"]');
    const again = $(m.root, 'input[name="passphrase-again"]');
    expect(pass.getAttribute('type')).toBe('password');
    type(pass, 'short');
    type(again, 'short');
    $(m.root, '#export-start').click();
    await settle();
    expect(text($(m.root, '.inline-error'))).toContain('at least 8 characters');
    type(pass, 'a long passphrase');
    type(again, 'a long passphrase!');
    $(m.root, '#export-start').click();
    await settle();
    expect(text($(m.root, '.inline-error'))).toContain('The two passphrases differ');
    expect(m.backend.calls.some((c) => c.method === 'exportData')).toBe(false);
    type(again, 'a long passphrase');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-show'), 'export finished');
    const req = m.backend.calls.find((c) => c.method === 'exportData')!.args[1] as ExportRequest;
    expect(req.encryptPassphrase).toBe('a long passphrase');
    const done = text($(m.root, '.export-done'));
    expect(done).toMatch(/Export finished and encrypted: .* all in one file .*\.tar\.age/);
    expect(text($(m.root, '#export-sealed-note'))).toContain('Only the passphrase opens it');
  });

  it('opens an encrypted export only after its passphrase, saying when one does not open it', async () => {
    const backend = fake();
    backend.pickNext('/Users/demo/Documents/JHE exports/study-30006_2026-12-01_0915.tar.age');
    const m = mount(backend);
    button(m.root, 'Open an exported file or folder').click();
    await waitFor(() => m.root.querySelector('#open-passphrase'), 'the passphrase form');
    expect(text($(m.root, '#unlock'))).toContain('study-30006_2026-12-01_0915.tar.age is encrypted');
    expect(document.activeElement).toBe($(m.root, '#open-passphrase'));
    expect(m.root.querySelector('#unlock-wrong')).toBeNull();
    type($(m.root, '#open-passphrase'), 'not it at all');
    $(m.root, '#open-passphrase-go').click();
    await waitFor(() => m.root.querySelector('#unlock-wrong'), 'refused');
    expect(text($(m.root, '#unlock-wrong'))).toContain('does not open it');
    expect(m.root.querySelector('[role="table"]')).toBeNull();
    type($(m.root, '#open-passphrase'), FAKE_PASSPHRASE);
    $(m.root, '#open-passphrase-go').click();
    await waitFor(() => m.root.querySelector('[role="table"]'), 'the study from the encrypted file');
    const opens = backend.calls.filter((c) => c.method === 'openExport');
    expect(opens).toHaveLength(3);
    expect(text($(m.root, '.banner.offline'))).toContain('.tar.age');
  });

  it('Cancel (or Escape) puts the passphrase form away', async () => {
    const backend = fake();
    backend.pickNext('/x/study-1.tar.age');
    const m = mount(backend);
    button(m.root, 'Open an exported file or folder').click();
    await waitFor(() => m.root.querySelector('#open-passphrase'), 'the passphrase form');
    $(m.root, '#open-passphrase').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await settle();
    expect(m.root.querySelector('#unlock')).toBeNull();
    expect(m.root.querySelector('#server-url')).not.toBeNull();
  });
});

describe('Activity log', () => {
  it('lists what was done, checks the chain, names an altered entry and saves a CSV', async () => {
    const backend = fake();
    const m = mount(backend);
    await openStudy(m);
    $(m.root, '#open-activity').click();
    await waitFor(() => m.root.querySelector('table.audit tbody tr'), 'the entries');
    const dialog = $(m.root, '.dialog.activity');
    expect(document.activeElement).toBe($(dialog, '#activity-title'));
    const first = text($(dialog, 'table.audit tbody tr'));
    expect(first).toContain('Opened a study');
    expect(first).toContain('30006');
    expect(first).toContain('1,200');
    // Ids and counts only: no participant's name anywhere in the log.
    const names = (await backend.getStudyOverview(30006)).patients.slice(0, 50).map((p) => p.nameFamily).filter((n) => n.length > 3);
    for (const n of names) expect(text(dialog)).not.toContain(n);

    $(dialog, '#audit-verify').click();
    await waitFor(() => m.root.querySelector('#audit-ok'), 'the check');
    expect(text($(m.root, '#audit-ok'))).toMatch(/The log is intact: \d+ entr(y|ies), each linked to the one before/);

    backend.auditBrokenAt = 1;
    $(m.root, '#audit-verify').click();
    await waitFor(() => m.root.querySelector('#audit-broken'), 'the broken chain');
    expect(text($(m.root, '#audit-broken'))).toContain('line 1 (entry 1) was edited');

    $(m.root, '#audit-save').click();
    await waitFor(() => /Saved to/.test(text(dialog)), 'saved');
    expect(text(dialog)).toContain('jhe-activity-log.csv');
    $(m.root, '#activity-close').click();
    await settle();
    expect(m.root.querySelector('.dialog.activity')).toBeNull();
    expect(document.activeElement).toBe($(m.root, '#open-activity'));
  });
});
