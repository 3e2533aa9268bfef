import { describe, expect, it } from 'vitest';
import type { ExportProgress } from '../src/backend/types';
import { fake } from './helpers';

describe('Fake backend (the shape the UI relies on)', () => {
  it('holds 3 organizations, 3 studies, one with 1,200 participants', async () => {
    const b = fake();
    expect(await b.listOrganizations()).toHaveLength(3);
    const studies = await b.listStudies();
    expect(studies.map((s) => s.patientCount)).toEqual([1200, 36, 18]);
    const o = await b.getStudyOverview(30006);
    expect(o.patients).toHaveLength(1200);
    expect(new Set(o.patients.map((p) => p.id)).size).toBe(1200);
    const states = new Set(o.patients.flatMap((p) => Object.values(p.consent)));
    expect(states).toEqual(new Set(['consented', 'pending', 'declined']));
    expect(o.patients.some((p) => (p.daysSinceLastUpload ?? 0) > 3)).toBe(true);
    expect(o.patients.some((p) => p.daysSinceLastUpload === undefined)).toBe(true);
  });

  it('agrees with itself: counts, rows and stats', async () => {
    const b = fake();
    const o = await b.getStudyOverview(30006);
    const p = o.patients.find((x) => x.consent['omh:heart-rate:2.0'] === 'consented' && (x.counts['omh:heart-rate:2.0'] ?? 0) > 0)!;
    const all = await b.getPatientData(30006, p.id, {});
    const hr = all.types.find((t) => t.code === 'omh:heart-rate:2.0')!;
    expect(hr.rows).toBe(p.counts['omh:heart-rate:2.0']);
    expect(hr.stats.n).toBe(hr.rows);
    const page = await b.getRows(p.id, hr.code, 0, 10_000);
    expect(page.total).toBe(hr.rows);
    expect(page.rows).toHaveLength(hr.rows);
    const values = page.rows.map((r) => r[1] as number);
    expect(Math.min(...values)).toBe(hr.stats.min);
    expect(Math.max(...values)).toBe(hr.stats.max);
    expect(hr.chartSvg.startsWith('<svg')).toBe(true);
  });

  it('streams export progress that only goes up, and can be cancelled', async () => {
    const b = fake({ tickMs: 1 });
    const seen: ExportProgress[] = [];
    const r = await b.exportData('a', { scope: { kind: 'study', studyId: 30002 }, types: ['omh:body-weight:3.0'], format: 'csv', layout: 'perType', outDir: '/o' }, (p) => seen.push(p));
    expect(seen[0]!.phase).toBe('counting');
    expect(seen[seen.length - 1]!.phase).toBe('done');
    for (let i = 1; i < seen.length; i++) expect(seen[i]!.fetched).toBeGreaterThanOrEqual(seen[i - 1]!.fetched);
    expect(r.files[0]!.name).toBe('body_weight.csv');
    expect(r.files[0]!.rows).toBe(seen[seen.length - 1]!.expected);

    const run = b.exportData('b', { scope: { kind: 'study', studyId: 30006 }, types: ['omh:heart-rate:2.0'], format: 'csv', layout: 'perType', outDir: '/o' }, () => undefined);
    await b.cancelExport('b');
    await expect(run).rejects.toMatchObject({ kind: 'cancelled' });
  });
});
