// Deterministic, JHE-shaped demo data for the fake backend: three organizations, three studies
// (one with 1,200 participants), per-participant enrolment windows, consent gaps and people who
// stopped uploading, as a coordinator sees in a real study. Raw rows are computed from their index,
// so a 30,000-row glucose history costs nothing until it is looked at.
import type {
  ConsentState,
  DateRange,
  Organization,
  PatientRow,
  RowColumn,
  ScopeType,
  SeriesPoint,
  Stats,
  Study,
} from './types';

const DAY = 86_400_000;
const MIN = 60_000;

/** A small integer hash → [0, 1). Same inputs, same value, on every machine. */
export function rand(...xs: number[]): number {
  let h = 0x9e3779b9;
  for (const x of xs) {
    h = Math.imul(h ^ (x | 0), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return (h >>> 0) / 4_294_967_296;
}

/** Roughly normal noise (sum of uniforms), mean 0, sd ≈ 1. */
function noise(...xs: number[]): number {
  return (rand(...xs, 1) + rand(...xs, 2) + rand(...xs, 3) + rand(...xs, 4) - 2) * 1.73;
}

interface TypeModel extends ScopeType {
  /** Minutes between readings. */
  every: number;
  /** Offset of the first reading of a day, minutes after midnight UTC. */
  at: number;
  valueLabels?: [string, string];
  value(pid: number, t: number, i: number): [number, number?];
}

const round1 = (x: number) => Math.round(x * 10) / 10;

export const TYPES: Record<string, TypeModel> = {
  'omh:blood-glucose:4.0': {
    code: 'omh:blood-glucose:4.0',
    label: 'Blood glucose',
    unit: 'mg/dL',
    every: 5,
    at: 0,
    value(pid, t, i) {
      const base = 95 + rand(pid, 11) * 45;
      const hour = (t / 3_600_000) % 24;
      const meals = [7.5, 12.5, 19].reduce((s, m) => {
        const d = hour - m;
        return s + (d > 0 && d < 3 ? 55 * rand(pid, Math.floor(t / DAY), m) * Math.sin((d / 3) * Math.PI) : 0);
      }, 0);
      const dawn = hour > 4 && hour < 8 ? 12 : 0;
      return [Math.round(Math.max(45, base + meals + dawn + noise(pid, i) * 8))];
    },
  },
  'omh:blood-pressure:4.0': {
    code: 'omh:blood-pressure:4.0',
    label: 'Blood pressure',
    unit: 'mmHg',
    every: 12 * 60,
    at: 7 * 60,
    valueLabels: ['Systolic', 'Diastolic'],
    value(pid, _t, i) {
      const s = 112 + rand(pid, 21) * 30 + noise(pid, i, 1) * 7;
      const d = 70 + rand(pid, 22) * 15 + noise(pid, i, 2) * 5;
      return [Math.round(s), Math.round(d)];
    },
  },
  'omh:heart-rate:2.0': {
    code: 'omh:heart-rate:2.0',
    label: 'Heart rate',
    unit: 'beats/min',
    every: 4 * 60,
    at: 60,
    value(pid, _t, i) {
      return [Math.round(58 + rand(pid, 31) * 20 + noise(pid, i) * 6)];
    },
  },
  'omh:step-count:3.0': {
    code: 'omh:step-count:3.0',
    label: 'Step count',
    unit: 'steps/day',
    every: 24 * 60,
    at: 0,
    value(pid, _t, i) {
      return [Math.max(300, Math.round(3000 + rand(pid, 41) * 8000 + noise(pid, i) * 1800))];
    },
  },
  'omh:sleep-duration:2.0': {
    code: 'omh:sleep-duration:2.0',
    label: 'Sleep duration',
    unit: 'h',
    every: 24 * 60,
    at: 6 * 60,
    value(pid, _t, i) {
      return [round1(Math.min(11, Math.max(3, 6.2 + rand(pid, 51) * 2 + noise(pid, i) * 0.8)))];
    },
  },
  'omh:body-weight:3.0': {
    code: 'omh:body-weight:3.0',
    label: 'Body weight',
    unit: 'kg',
    every: 24 * 60,
    at: 6 * 60 + 30,
    value(pid, _t, i) {
      return [round1(58 + rand(pid, 61) * 40 - i * 0.01 + noise(pid, i) * 0.4)];
    },
  },
  'omh:oxygen-saturation:2.0': {
    code: 'omh:oxygen-saturation:2.0',
    label: 'Oxygen saturation (SpO2)',
    unit: '%',
    every: 24 * 60,
    at: 5 * 60,
    value(pid, _t, i) {
      return [Math.min(100, Math.round(95 + rand(pid, 71) * 3 + noise(pid, i)))];
    },
  },
};

export const ORGANIZATIONS: Organization[] = [
  { id: 20001, name: 'Planetary Research Institute', type: 'edu', role: 'manager' },
  { id: 20002, name: 'Saturn School of Data Science', type: 'edu', role: 'member' },
  { id: 20003, name: 'Lifespan Lab', type: 'laboratory', role: 'viewer' },
];

interface StudyModel {
  study: Study;
  types: string[];
  firstPatientId: number;
}

export const STUDIES: StudyModel[] = [
  {
    study: {
      id: 30006,
      name: 'CGM & Wearables Demo',
      description: 'Continuous glucose monitors plus wrist-worn wearables, 12 weeks of home data.',
      organizationId: 20001,
      organizationName: 'Planetary Research Institute',
      patientCount: 1200,
    },
    types: ['omh:blood-glucose:4.0', 'omh:blood-pressure:4.0', 'omh:heart-rate:2.0', 'omh:step-count:3.0', 'omh:sleep-duration:2.0'],
    firstPatientId: 40006,
  },
  {
    study: {
      id: 30002,
      name: 'Home Blood Pressure Pilot',
      description: 'Morning and evening blood pressure with weekly weigh-ins.',
      organizationId: 20002,
      organizationName: 'Saturn School of Data Science',
      patientCount: 36,
    },
    types: ['omh:blood-pressure:4.0', 'omh:heart-rate:2.0', 'omh:body-weight:3.0'],
    firstPatientId: 41300,
  },
  {
    study: {
      id: 30003,
      name: 'Healthy Ageing Sleep Study',
      description: 'Nightly sleep, oxygen saturation and daily steps in adults over 65.',
      organizationId: 20003,
      organizationName: 'Lifespan Lab',
      patientCount: 18,
    },
    types: ['omh:sleep-duration:2.0', 'omh:oxygen-saturation:2.0', 'omh:step-count:3.0'],
    firstPatientId: 41400,
  },
];

const GIVEN = [
  'Aarav', 'Beatriz', 'Chen', 'Dalia', 'Emeka', 'Fatima', 'Gustavo', 'Hana', 'Ibrahim', 'Jana', 'Kofi', 'Leila',
  'Mateo', 'Nadia', 'Oskar', 'Priya', 'Quentin', 'Rosa', 'Sven', 'Tamar', 'Uma', 'Viktor', 'Wen', 'Ximena',
  'Yusuf', 'Zoe', 'Amara', 'Bruno', 'Carmen', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hugo', 'Isla', 'Jonas',
];
const FAMILY = [
  'Adeyemi', 'Berg', 'Castillo', 'Dubois', 'Eriksen', 'Fernandes', 'Gupta', 'Haddad', 'Ito', 'Jovanovic',
  'Kowalski', 'Lindqvist', 'Moreau', 'Nakamura', 'Okafor', 'Petrov', 'Quispe', 'Rossi', 'Schmidt', 'Tanaka',
  'Ueda', 'Vargas', 'Wojcik', 'Xu', 'Yilmaz', 'Zhang', 'Almeida', 'Brennan', 'Costa', 'Dlamini', 'Haugen',
];

/** Everything the generator decides about one participant. */
export interface PatientModel {
  row: PatientRow;
  /** Enrolment start and last upload, ms since epoch (start of the first / last data day). */
  start: number;
  end: number;
  types: string[];
}

export function startOfDayUtc(t: number): number {
  return Math.floor(t / DAY) * DAY;
}

export function isoDay(t: number): string {
  return new Date(t).toISOString().slice(0, 10);
}

export function buildPatients(model: StudyModel, now: number): PatientModel[] {
  const out: PatientModel[] = [];
  const today = startOfDayUtc(now);
  for (let k = 0; k < model.study.patientCount; k++) {
    const id = model.firstPatientId + k;
    const enrolledDaysAgo = 14 + Math.floor(rand(id, 1) * 76); // 2–12 weeks of data
    const r = rand(id, 2);
    // Most upload daily; some lag a few days; a few stopped; a few never started.
    const silent = r < 0.82 ? Math.floor(rand(id, 3) * 2) : r < 0.93 ? 2 + Math.floor(rand(id, 3) * 4) : r < 0.98 ? 6 + Math.floor(rand(id, 3) * 20) : -1;
    const consent: Record<string, ConsentState> = {};
    for (const [j, code] of model.types.entries()) {
      const c = rand(id, 4, j);
      consent[code] = c < 0.9 ? 'consented' : c < 0.96 ? 'pending' : 'declined';
    }
    const start = today - enrolledDaysAgo * DAY;
    const end = silent < 0 ? start : Math.max(start + DAY, now - silent * DAY);
    const counts: Record<string, number> = {};
    for (const code of model.types) {
      counts[code] = silent < 0 || consent[code] !== 'consented' ? 0 : countRows(TYPES[code]!, start, end);
    }
    const mrn = `MRN-${String(100_000 + ((id * 7919) % 900_000)).padStart(7, '0')}`;
    const nameGiven = GIVEN[Math.floor(rand(id, 5) * GIVEN.length)]!;
    const nameFamily = FAMILY[Math.floor(rand(id, 6) * FAMILY.length)]!;
    const anyData = Object.values(counts).some((n) => n > 0);
    out.push({
      start,
      end,
      types: model.types,
      row: {
        id,
        nameGiven,
        nameFamily,
        identifiers: [
          { system: 'http://hospital.example.org/mrn', value: mrn },
          { system: 'email', value: `${nameGiven}.${nameFamily}.${id}@example.com`.toLowerCase() },
        ],
        mrn,
        consent,
        counts,
        ...(anyData
          ? {
              firstDate: new Date(start + TYPES[model.types[0]!]!.at * MIN).toISOString(),
              lastDate: new Date(end).toISOString(),
              daysSinceLastUpload: Math.floor((now - end) / DAY),
            }
          : {}),
      },
    });
  }
  return out;
}

/** Readings of a type between two instants (first reading at `start + at`). */
function countRows(t: TypeModel, start: number, end: number): number {
  const first = start + t.at * MIN;
  if (end <= first) return 0;
  return Math.floor((end - first) / (t.every * MIN)) + 1;
}

/** The index window of a type's rows that falls inside a participant's data and a date range. */
export function rowWindow(p: PatientModel, code: string, range: DateRange): { first: number; count: number; t0: number; step: number } {
  const t = TYPES[code]!;
  const step = t.every * MIN;
  const t0 = p.start + t.at * MIN;
  const total = p.row.counts[code] ?? 0;
  const lo = range.from ? Date.parse(`${range.from}T00:00:00Z`) : -Infinity;
  const hi = range.to ? Date.parse(`${range.to}T00:00:00Z`) + DAY : Infinity;
  const first = Math.max(0, Math.ceil((lo - t0) / step));
  const last = Math.min(total, Math.ceil((hi - t0) / step)); // exclusive
  return { first, count: Math.max(0, last - first), t0, step };
}

export function rowAt(p: PatientModel, code: string, i: number, w: { t0: number; step: number }): SeriesPoint {
  const t = w.t0 + i * w.step;
  const [v, v2] = TYPES[code]!.value(p.row.id, t, i);
  return v2 === undefined ? { t: new Date(t).toISOString(), v } : { t: new Date(t).toISOString(), v, v2 };
}

export function stats(values: number[]): Stats {
  const n = values.length;
  if (n === 0) return { n: 0, mean: 0, min: 0, max: 0, sd: 0 };
  let sum = 0;
  let min = Infinity;
  let max = -Infinity;
  for (const v of values) {
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const mean = sum / n;
  let ss = 0;
  for (const v of values) ss += (v - mean) ** 2;
  return { n, mean, min, max, sd: n > 1 ? Math.sqrt(ss / (n - 1)) : 0 };
}

/**
 * The UTC offset a reading's time carries, minutes: the demo participants' phones write US Pacific
 * daylight time (UTC−07:00), but the blood pressure cuff's app sends UTC times without an offset
 * (`null`), as some apps do.
 */
export function readingOffsetMin(code: string): number | null {
  return code.includes('pressure') ? null : -7 * 60;
}

/** An instant as the readings table gets it: the wall clock at `offsetMin` and the offset, or UTC (`Z`). */
export function isoAtOffset(t: number, offsetMin: number | null): string {
  if (offsetMin === null) return new Date(t).toISOString().replace('.000Z', 'Z');
  const wall = new Date(t + offsetMin * MIN).toISOString().slice(0, 19);
  const m = Math.abs(offsetMin);
  return `${wall}${offsetMin < 0 ? '-' : '+'}${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
}

export function rowColumns(code: string): RowColumn[] {
  const t = TYPES[code]!;
  const cols: RowColumn[] = [{ name: 'time_utc', label: "Time (participant's local)" }];
  if (t.valueLabels) {
    cols.push({ name: 'systolic', label: t.valueLabels[0], unit: t.unit }, { name: 'diastolic', label: t.valueLabels[1], unit: t.unit });
  } else {
    cols.push({ name: 'value', label: 'Value', unit: t.unit });
  }
  cols.push({ name: 'source', label: 'Device' });
  return cols;
}

export function deviceFor(code: string): string {
  if (code.includes('glucose')) return 'Dexcom G7';
  if (code.includes('pressure')) return 'Omron Evolv';
  if (code.includes('weight')) return 'Withings Body+';
  return 'Fitbit Charge 6';
}

/**
 * A plotters-like chart: axes, grid, a line of bucket means. Uses currentColor so it follows the
 * light/dark theme; the real one comes from Rust.
 */
export function renderChart(points: SeriesPoint[], unit: string, from: number, to: number, labels?: [string, string]): { svg: string; left: number; right: number } {
  const twoValues = !!labels;
  const W = 640;
  const H = 220;
  const L = 56;
  const R = 12;
  const T = 22;
  const B = 30;
  const vals = points.flatMap((p) => (p.v2 === undefined ? [p.v] : [p.v, p.v2]));
  let lo = vals.length ? Math.min(...vals) : 0;
  let hi = vals.length ? Math.max(...vals) : 1;
  if (hi === lo) {
    hi += 1;
    lo -= 1;
  }
  const pad = (hi - lo) * 0.08;
  lo -= pad;
  hi += pad;
  const x = (t: number) => L + ((t - from) / Math.max(1, to - from)) * (W - L - R);
  const y = (v: number) => T + (1 - (v - lo) / (hi - lo)) * (H - T - B);
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img">`);
  for (let k = 0; k <= 4; k++) {
    const v = lo + ((hi - lo) * k) / 4;
    const yy = y(v).toFixed(1);
    parts.push(`<line x1="${L}" x2="${W - R}" y1="${yy}" y2="${yy}" stroke="currentColor" stroke-opacity="0.15"/>`);
    parts.push(`<text x="${L - 6}" y="${yy}" font-size="12" text-anchor="end" dominant-baseline="middle" fill="currentColor">${Math.round(v)}</text>`);
  }
  const days = Math.max(1, Math.round((to - from) / DAY));
  const ticks = Math.min(6, days);
  for (let k = 0; k <= ticks; k++) {
    const t = from + ((to - from) * k) / ticks;
    const d = new Date(t);
    const lab = d.toLocaleDateString('en-US', { month: 'short', day: 'numeric', timeZone: 'UTC' });
    const anchor = k === 0 ? 'start' : k === ticks ? 'end' : 'middle';
    parts.push(`<text x="${x(t).toFixed(1)}" y="${H - 10}" font-size="12" text-anchor="${anchor}" fill="currentColor">${lab}</text>`);
  }
  parts.push(`<line x1="${L}" x2="${L}" y1="${T}" y2="${H - B}" stroke="currentColor" stroke-opacity="0.5"/>`);
  parts.push(`<line x1="${L}" x2="${W - R}" y1="${H - B}" y2="${H - B}" stroke="currentColor" stroke-opacity="0.5"/>`);
  const line = (pick: (p: SeriesPoint) => number | undefined, colour: string, dash = '') => {
    const d = points
      .map((p) => [x(Date.parse(p.t)), pick(p)] as const)
      .filter((q): q is readonly [number, number] => q[1] !== undefined)
      .map(([xx, v], k) => `${k ? 'L' : 'M'}${xx.toFixed(1)} ${y(v).toFixed(1)}`)
      .join('');
    if (d) parts.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.6"${dash ? ` stroke-dasharray="${dash}"` : ''}/>`);
  };
  // The real chart's themed colours (crates/jhe-engine/src/chart/paint.rs, ui/src/styles.css).
  const first = twoValues ? 'var(--chart-systolic, #C0262D)' : 'var(--chart-line, #2563EB)';
  const second = 'var(--chart-diastolic, #2563EC)';
  line((p) => p.v, first);
  if (twoValues) {
    // Two lines: told apart by dash and by a legend, not by colour alone.
    line((p) => p.v2, second, '6 3');
    parts.push(`<line x1="${W - 250}" x2="${W - 226}" y1="10" y2="10" stroke="${first}" stroke-width="2"/>`);
    parts.push(`<text x="${W - 220}" y="14" font-size="12" fill="currentColor">${labels[0]}</text>`);
    parts.push(`<line x1="${W - 140}" x2="${W - 116}" y1="10" y2="10" stroke="${second}" stroke-width="2" stroke-dasharray="6 3"/>`);
    parts.push(`<text x="${W - 110}" y="14" font-size="12" fill="currentColor">${labels[1]}</text>`);
  }
  parts.push(`<text x="${L - 6}" y="12" font-size="12" text-anchor="end" fill="currentColor">${unit}</text>`);
  parts.push('</svg>');
  return { svg: parts.join(''), left: L / W, right: (W - R) / W };
}
