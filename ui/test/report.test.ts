// "Write report…" on the study overview and on a participant, against the fake backend: what the
// UI asks Rust for, progress, "Report saved" with "Open report", a closed dialog, an error.
import { describe, expect, it } from 'vitest';
import { $, button, fake, mount, openStudy, settle, text, waitFor } from './helpers';

const lastCall = (m: { backend: { calls: { method: string; args: unknown[] }[] } }, method: string) =>
  [...m.backend.calls].reverse().find((c) => c.method === method);

describe('Write report', () => {
  it('writes the study report, says what is in it and opens it', async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '#write-report').click();
    const done = await waitFor(() => m.root.querySelector('.report-done'), 'report saved');
    expect(lastCall(m, 'writeReport')!.args[1]).toEqual({ studyId: 30006, range: {} });
    expect(text(done).trim()).toMatch(/^Report saved — [\d,]+ participants, [\d,]+ readings, 5 charts, 12 data-quality findings\./);
    expect(text($(done, '.report-path'))).toBe('/Users/demo/Documents/JHE exports/report-study-30006.html');
    await settle();
    expect(document.activeElement).toBe($(m.root, '#report-open'));
    $(m.root, '#report-open').click();
    await settle();
    expect(lastCall(m, 'openReport')!.args).toEqual(['/Users/demo/Documents/JHE exports/report-study-30006.html']);
    button(m.root, 'Show in folder').click();
    await settle();
    expect(lastCall(m, 'showInFolder')!.args).toEqual(['/Users/demo/Documents/JHE exports/report-study-30006.html']);
  });

  it("writes a participant's report over the period the screen shows", async () => {
    const m = mount(fake());
    await openStudy(m);
    $(m.root, '.tbody [role="row"] [data-open]').click();
    await waitFor(() => m.root.querySelector('.type-card .chart svg'), 'charts');
    const shown = lastCall(m, 'getPatientData')!.args;
    expect(text($(m.root, '#write-report'))).toBe('Write participant report…');
    $(m.root, '#write-report').click();
    await waitFor(() => m.root.querySelector('.report-done'), 'report saved');
    expect(lastCall(m, 'writeReport')!.args[1]).toEqual({ studyId: shown[0], patientId: shown[1], range: shown[2] });
    expect(text($(m.root, '.report-done'))).toContain('1 participant,');
  });

  it('does nothing when the save dialog is closed, and shows a plain error with a retry', async () => {
    const backend = fake();
    const m = mount(backend);
    await openStudy(m);
    const real = backend.writeReport.bind(backend);
    backend.writeReport = async () => null;
    $(m.root, '#write-report').click();
    await settle();
    expect(m.root.querySelector('.report-done')).toBeNull();
    expect(m.root.querySelector('.report-status')).toBeNull();
    backend.writeReport = real;
    backend.failNext('writeReport', { kind: 'io', message: 'Could not write the report to /x: disk full.' });
    $(m.root, '#write-report').click();
    await waitFor(() => text(m.root).includes('disk full'), 'the error');
    button(m.root, 'Try again').click();
    await waitFor(() => m.root.querySelector('.report-done'), 'report saved after retrying');
  });

  it('can be cancelled while the data is read', async () => {
    const backend = fake({ tickMs: 20 });
    const m = mount(backend);
    await openStudy(m);
    $(m.root, '#write-report').click();
    await waitFor(() => m.root.querySelector('#report-cancel'), 'progress');
    expect(text($(m.root, '.report-status'))).toMatch(/Reading participants|Choose where/);
    $(m.root, '#report-cancel').click();
    await waitFor(() => !m.root.querySelector('.report-status'), 'stopped');
    expect(m.root.querySelector('.report-done')).toBeNull();
    expect(text(m.root)).not.toContain('Something went wrong');
  });
});
