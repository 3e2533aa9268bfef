import { describe, expect, it } from 'vitest';
import type { ExportProgress, ExportRequest, ExportResult } from '../src/backend/types';
import { $, $$, button, fake, mount, openStudy, settle, text, waitFor } from './helpers';

async function openDialog(backend = fake()) {
  const m = mount(backend);
  await openStudy(m);
  $(m.root, '#export-study').click();
  await settle();
  return m;
}

describe('Export dialog', () => {
  it('exports a study: choices, progress, files with row counts, warnings, "Show in folder"', async () => {
    const m = await openDialog(fake({ tickMs: 2 }));
    const dialog = $(m.root, '[role="dialog"]');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(text($(dialog, '#export-title'))).toBe('Export study: CGM & Wearables Demo');
    expect(document.activeElement).toBe($(dialog, '#export-title'));
    // The page behind is out of reach while the dialog is open.
    expect($(m.root, '.screen').hasAttribute('inert')).toBe(true);
    const boxes = $$(dialog, 'input[name="type"]') as HTMLInputElement[];
    expect(boxes).toHaveLength(5);
    expect(boxes.every((b) => b.checked)).toBe(true);

    // Without a folder, it says what is missing instead of failing.
    $(dialog, '#export-start').click();
    await settle();
    expect(text($(m.root, '.dialog [role="alert"]'))).toContain('Choose the folder to save the files in.');
    expect(m.backend.calls.some((c) => c.method === 'exportData')).toBe(false);

    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    // Untick sleep, choose Parquet and the long layout.
    boxes[4]!.checked = false;
    boxes[4]!.dispatchEvent(new Event('change'));
    for (const v of ['parquet', 'long']) {
      const r = $(m.root, `.dialog input[value="${v}"]`) as HTMLInputElement;
      r.checked = true;
      r.dispatchEvent(new Event('change'));
    }
    await settle();
    const progress: string[] = [];
    $(m.root, '#export-start').click();
    await waitFor(() => {
      const c = m.root.querySelector('.counts');
      if (c) progress.push(text(c));
      return m.root.querySelector('#export-show');
    }, 'export finished');
    const req = m.backend.calls.find((c) => c.method === 'exportData')!.args[1] as ExportRequest;
    expect(req).toEqual({
      scope: { kind: 'study', studyId: 30006 },
      types: ['omh:blood-glucose:4.0', 'omh:blood-pressure:4.0', 'omh:heart-rate:2.0', 'omh:step-count:3.0'],
      format: 'parquet',
      layout: 'long',
      outDir: '/Users/demo/Documents/JHE exports',
    });
    expect(progress.some((p) => /^[\d,]+ of [\d,]+ observations \(\d+%\)$/.test(p.trim()))).toBe(true);
    const done = text($(m.root, '.export-done'));
    expect(done).toContain('Export finished');
    expect($$(m.root, 'table.files tbody tr').map((r) => text($(r, 'td')).trim())).toEqual(['observations_long.parquet', 'manifest.json']);
    const cells = $$(m.root, 'table.files tbody tr:first-child td').map((td) => text(td).trim());
    expect(cells[1]).toMatch(/^\d{1,3}(,\d{3})+$/);
    expect(cells[2]).toMatch(/^[\d.]+ (KB|MB|GB)$/);
    expect(text($(m.root, '.warnings'))).toContain('converted to mg/dL');
    expect(document.activeElement).toBe($(m.root, '#export-show'));

    $(m.root, '#export-show').click();
    await settle();
    expect(m.backend.calls.find((c) => c.method === 'showInFolder')!.args).toEqual(['/Users/demo/Documents/JHE exports']);

    button($(m.root, '.dialog'), 'Close').click();
    await settle();
    expect(m.root.querySelector('[role="dialog"]')).toBeNull();
    expect(document.activeElement).toBe($(m.root, '#export-study'));
  });

  it('shows counts as the backend streams them: "12,400 of 80,640 observations"', async () => {
    const backend = fake();
    let emit: (p: ExportProgress) => void = () => undefined;
    let finish: (r: ExportResult) => void = () => undefined;
    backend.exportData = (_job, _req, onProgress) => {
      emit = onProgress;
      return new Promise((r) => (finish = r));
    };
    const m = await openDialog(backend);
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await settle();
    expect(text($(m.root, '.export-progress'))).toContain('Counting');
    emit({ phase: 'fetching', fetched: 12_400, expected: 80_640, currentPatient: 'Hana Ito' });
    await settle();
    expect(text($(m.root, '.counts')).trim()).toBe('12,400 of 80,640 observations (15%)');
    expect(text($(m.root, '.export-progress'))).toContain('Now: Hana Ito');
    const bar = $(m.root, 'progress') as HTMLProgressElement;
    expect(bar.value).toBe(12_400);
    expect(bar.max).toBe(80_640);
    expect(text($(m.root, '.export-progress [aria-live]'))).toContain('About 10% done.');
    // Escape does not abandon a running export.
    $(m.root, '[role="dialog"]').dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true }));
    await settle();
    expect(m.root.querySelector('[role="dialog"]')).not.toBeNull();
    finish({ outDir: '/tmp/out', files: [{ name: 'blood_glucose.csv', rows: 80_640, bytes: 7_741_440 }], warnings: [] });
    await waitFor(() => m.root.querySelector('#export-show'), 'done');
    expect(text($(m.root, 'table.files'))).toContain('80,640');
    expect(text($(m.root, 'table.files'))).toContain('7.4 MB');
    expect(m.root.querySelector('.warnings')).toBeNull();
  });

  it('cancels a running export', async () => {
    const m = await openDialog(fake({ tickMs: 15 }));
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-cancel'), 'progress');
    expect(document.activeElement).toBe($(m.root, '#export-cancel'));
    $(m.root, '#export-cancel').click();
    await waitFor(() => m.root.querySelector('[data-kind="cancelled"]'), 'cancelled');
    const job = m.backend.calls.find((c) => c.method === 'exportData')!.args[0];
    expect(m.backend.calls.find((c) => c.method === 'cancelExport')!.args).toEqual([job]);
    expect(text(m.root)).toContain('run the same export again to resume');
    expect(button(m.root, 'Start again')).toBeTruthy();
  });

  it('after a cancel, deletes what was downloaded when the user is not going on', async () => {
    const m = await openDialog(fake({ tickMs: 15 }));
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-cancel'), 'progress');
    $(m.root, '#export-cancel').click();
    await waitFor(() => m.root.querySelector('[data-kind="cancelled"]'), 'cancelled');
    expect(text(m.root)).toContain('continues where it stopped');
    button(m.root, 'Delete what was downloaded').click();
    const note = await waitFor(() => m.root.querySelector<HTMLElement>('#export-discard-note'), 'the note');
    expect(text(note)).toMatch(/^Deleted what was downloaded \(\d/);
    expect(document.activeElement).toBe(note);
    expect(m.backend.calls.find((c) => c.method === 'discardUnfinished')!.args).toEqual(['/Users/demo/Documents/JHE exports']);
    // A second time there is nothing left.
    button(m.root, 'Delete what was downloaded').click();
    await waitFor(() => text($(m.root, '#export-discard-note')).includes('Nothing was left'), 'nothing left');
  });

  it('explains a failed export and offers to try again', async () => {
    const backend = fake().failNext('exportData', {
      kind: 'io',
      message: 'Writing the export failed: the disk is full.',
    });
    const m = await openDialog(backend);
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('[data-kind="io"]'), 'error');
    expect(text(m.root)).toContain('Writing the export failed: the disk is full.');
    expect(text(m.root)).toContain('What to do: Choose another folder, or free up disk space');
    button(m.root, 'Try again').click();
    await waitFor(() => m.root.querySelector('#export-show'), 'second try finished');
  });

  it('exports one participant from their page', async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '.tbody [role="row"] [data-open]').click();
    await waitFor(() => m.root.querySelector('#export-participant'), 'participant');
    $(m.root, '#export-participant').click();
    await settle();
    expect(text($(m.root, '#export-title'))).toMatch(/^Export participant: /);
    // The participant's own identifier systems are offered for participants.csv, as for a study.
    const ids = $$(m.root, '#export-identifiers input[type="checkbox"]') as HTMLInputElement[];
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.every((b) => b.checked)).toBe(true);
    const allDates = $$(m.root, '.dialog input[name="dates"]')[1] as HTMLInputElement;
    allDates.checked = true;
    allDates.dispatchEvent(new Event('change'));
    await settle();
    const [from, to] = [$(m.root, '.dialog input[name="from"]'), $(m.root, '.dialog input[name="to"]')] as HTMLInputElement[];
    from!.value = '2025-06-01';
    from!.dispatchEvent(new Event('input'));
    to!.value = '2025-06-14';
    to!.dispatchEvent(new Event('input'));
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-show'), 'done');
    const req = m.backend.calls.find((c) => c.method === 'exportData')!.args[1] as ExportRequest;
    expect(req.scope).toMatchObject({ kind: 'patient', studyId: 30006 });
    expect(req.from).toBe('2025-06-01');
    expect(req.to).toBe('2025-06-14');
    expect(req.format).toBe('csv');
    expect(req.layout).toBe('perType');
    expect(req.identifierSystems).toBeUndefined(); // all of them, the default
    expect($$(m.root, 'table.files tbody tr').length).toBe(6); // five types + manifest
  });

  it('offers CSV for Excel, and chooses which identifiers the participant list carries', async () => {
    const m = await openDialog();
    const dialog = $(m.root, '[role="dialog"]');
    // Both identifier systems of the study are offered, ticked, with what they are.
    const ids = $(dialog, '#export-identifiers');
    expect(text(ids)).toContain('participants.csv');
    const boxes = $$(ids, 'input[type="checkbox"]') as HTMLInputElement[];
    expect(boxes.map((b) => b.checked)).toEqual([true, true]);
    expect(text(ids)).toContain('MRN');
    expect(text(ids)).toContain('E-mail');
    // Leave out the e-mail addresses; choose CSV for Excel.
    boxes[1]!.checked = false;
    boxes[1]!.dispatchEvent(new Event('change'));
    const excel = $(dialog, 'input[value="excelCsv"]') as HTMLInputElement;
    expect(excel.parentElement?.textContent).toContain('Excel');
    excel.checked = true;
    excel.dispatchEvent(new Event('change'));
    // Leave out the readings the quality check finds wrong (off by default).
    expect(text($(dialog, '#export-quality'))).toContain('findings.csv');
    const wrong = $(dialog, 'input[name="leave-out-flagged"]') as HTMLInputElement;
    expect(wrong.checked).toBe(false);
    wrong.checked = true;
    wrong.dispatchEvent(new Event('change'));
    button(m.root, 'Choose folder…').click();
    await waitFor(() => text($(m.root, '#export-folder')).includes('JHE exports'), 'folder');
    $(m.root, '#export-start').click();
    await waitFor(() => m.root.querySelector('#export-show'), 'done');
    const req = m.backend.calls.find((c) => c.method === 'exportData')!.args[1] as ExportRequest;
    expect(req.format).toBe('excelCsv');
    expect(req.identifierSystems).toEqual(['http://hospital.example.org/mrn']);
    expect(req.leaveOutFlagged).toBe(true);
  });
});
