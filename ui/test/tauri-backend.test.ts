import { describe, expect, it, vi } from 'vitest';
import { inTauri, pickBackend } from '../src/backend/select';
import { TauriBackend } from '../src/backend/tauri';
import type { Backend, ExportProgress } from '../src/backend/types';

/** A stand-in for Tauri's Channel: the test pushes messages through `send`. */
function fakeChannel() {
  const made: { send: (m: unknown) => void }[] = [];
  const channel = <T>(onMessage: (m: T) => void) => {
    const c = { send: (m: unknown) => onMessage(m as T) };
    made.push(c);
    return c as never;
  };
  return { channel, made };
}

describe('Tauri backend', () => {
  it('maps every method to one snake_case command with camelCase arguments', async () => {
    const inv = vi.fn(async () => null as never);
    const { channel } = fakeChannel();
    const b = new TauriBackend(inv, channel);
    await b.recentServers();
    await b.checkServer('https://jhe.example.org');
    await b.signIn('https://jhe.example.org', { kind: 'apiKey', apiKey: 'k' });
    await b.cancelSignIn();
    await b.startDemo();
    await b.signOut();
    await b.listOrganizations();
    await b.listStudies();
    await b.getStudyOverview(30006);
    await b.getPatientData(30006, 40006, { from: '2025-06-01', to: '2025-06-14' });
    await b.getRows(40006, 'omh:heart-rate:2.0', 200, 200);
    await b.exportData('job-1', { scope: { kind: 'study', studyId: 1 }, types: [], format: 'csv', layout: 'long', outDir: '/x' }, () => undefined);
    await b.cancelExport('job-1');
    await b.pickFolder();
    await b.pickExportToOpen();
    await b.showInFolder('/x');
    await b.openExport('/x');
    const calls = inv.mock.calls as unknown as [string, Record<string, unknown> | undefined][];
    expect(calls.map((c) => c[0])).toEqual([
      'recent_servers', 'check_server', 'sign_in', 'cancel_sign_in', 'start_demo', 'sign_out', 'list_organizations',
      'list_studies', 'get_study_overview', 'get_patient_data', 'get_rows', 'export_data', 'cancel_export', 'pick_folder',
      'pick_export_to_open', 'show_in_folder', 'open_export',
    ]);
    expect(calls[2]![1]).toEqual({ url: 'https://jhe.example.org', method: { kind: 'apiKey', apiKey: 'k' } });
    expect(calls[9]![1]).toEqual({ studyId: 30006, patientId: 40006, range: { from: '2025-06-01', to: '2025-06-14' } });
    expect(calls[10]![1]).toEqual({ patientId: 40006, code: 'omh:heart-rate:2.0', offset: 200, limit: 200, range: {} });
    expect(Object.keys(calls[11]![1]!)).toEqual(['jobId', 'request', 'onEvent']);
    expect(calls[12]![1]).toEqual({ jobId: 'job-1' });
  });

  it('streams export progress through a channel', async () => {
    const { channel, made } = fakeChannel();
    let resolve: (v: unknown) => void = () => undefined;
    const inv = vi.fn(() => new Promise((r) => (resolve = r)));
    const b = new TauriBackend(inv as never, channel);
    const seen: ExportProgress[] = [];
    const done = b.exportData('j', { scope: { kind: 'study', studyId: 1 }, types: [], format: 'csv', layout: 'long', outDir: '/x' }, (p) => seen.push(p));
    made[0]!.send({ phase: 'fetching', fetched: 10, expected: 20 });
    resolve({ outDir: '/x', files: [], warnings: [] });
    await done;
    expect(seen).toEqual([{ phase: 'fetching', fetched: 10, expected: 20 }]);
  });

  it('passes {kind, message} errors through and wraps anything else', async () => {
    const err = { kind: 'forbidden', message: 'Your account cannot see study 30003.' };
    const b1 = new TauriBackend(vi.fn(async () => Promise.reject(err)) as never);
    await expect(b1.listStudies()).rejects.toEqual(err);
    const b2 = new TauriBackend(vi.fn(async () => Promise.reject('command list_studies not found')) as never);
    await expect(b2.listStudies()).rejects.toMatchObject({ kind: 'internal', message: 'command list_studies not found' });
  });
});

describe('Choosing the backend', () => {
  it('uses Tauri inside the app window and the fake elsewhere', async () => {
    expect(inTauri({ __TAURI_INTERNALS__: {} })).toBe(true);
    expect(inTauri({})).toBe(false);
    const real: Backend = await pickBackend({ __TAURI_INTERNALS__: {} });
    expect(real.label).toBe('tauri');
    const demo: Backend = await pickBackend({});
    expect(demo.label).toBe('fake');
  });
});
