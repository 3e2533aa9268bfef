// The attention list's reasons: short enough for one line, the full wording kept for the tooltip
// and screen readers.
import { describe, expect, it } from 'vitest';
import type { PatientRow, ScopeType } from '../src/backend/types';
import { DEFAULT_RULES, reasons } from '../src/lib/attention';

const types: ScopeType[] = ['Glucose', 'Sleep duration', 'Sleep episode', 'Steps'].map((label, i) => ({
  code: `omh:t${i}:1.0`,
  label,
  unit: '',
}));

function row(consent: PatientRow['consent'], counts: PatientRow['counts'], daysSinceLastUpload?: number): PatientRow {
  return { id: 1, nameGiven: 'A', nameFamily: 'B', identifiers: [], consent, counts, daysSinceLastUpload };
}

describe('attention reasons', () => {
  it('lists one or two types by name, more as a count with the names in the detail', () => {
    const two = row({ 'omh:t1:1.0': 'pending', 'omh:t2:1.0': 'pending' }, {}, 0);
    expect(reasons(two, types, DEFAULT_RULES)).toEqual([{ text: 'consent pending for sleep duration, sleep episode' }]);
    const three = row({ 'omh:t1:1.0': 'pending', 'omh:t2:1.0': 'pending', 'omh:t3:1.0': 'pending' }, {}, 0);
    expect(reasons(three, types, DEFAULT_RULES)).toEqual([
      { text: 'consent pending for 3 types', detail: 'consent pending for sleep duration, sleep episode, steps' },
    ]);
  });

  it('says who stopped, who never uploaded, and who consented but sent nothing of a type', () => {
    expect(reasons(row({}, {}, undefined), types, DEFAULT_RULES)).toEqual([{ text: 'never uploaded' }]);
    const stale = row({ 'omh:t0:1.0': 'consented', 'omh:t3:1.0': 'consented' }, { 'omh:t0:1.0': 12 }, 5);
    expect(reasons(stale, types, DEFAULT_RULES)).toEqual([{ text: 'no upload for 5 days' }, { text: 'consented but no data of steps' }]);
    // Within the grace period and nothing else: nobody to nudge.
    expect(reasons(row({ 'omh:t0:1.0': 'consented' }, { 'omh:t0:1.0': 3 }, 3), types, DEFAULT_RULES)).toEqual([]);
  });
});
