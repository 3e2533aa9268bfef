// Number and date formatting in the user's own locale and time zone (the OS's, inside Tauri).
// Dates and times of the study (last data, first data, the chart readout) are in this computer's
// time zone, with the same instant in UTC — as the exported files have it — for a tooltip
// (`utc()`). A reading's own time is shown at the participant's UTC offset (`readingTime()`).
const nf0 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const day = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
const dayTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZoneName: 'short',
});

export const int = (n: number): string => nf0.format(n);

/** One decimal, for means and SDs; whole numbers stay whole when the data are whole. */
export const num = (n: number): string => (Number.isInteger(n) ? nf0.format(n) : nf1.format(n));

const instant = (iso: string): Date | null => {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? null : d;
};

/** The day of an instant in this computer's time zone, e.g. "Jun 15, 2025"; `utc()` for its tooltip. */
export const date = (iso: string | undefined): string => {
  const d = iso ? instant(iso) : null;
  return d ? day.format(d) : iso || '—';
};

/** Date and time in this computer's time zone, named, e.g. "Jun 15, 2025, 05:00 AM PDT". */
export const dateTime = (iso: string): string => {
  const d = instant(iso);
  return d ? dayTime.format(d) : iso;
};

/** The instant in UTC to the second, as the exported files have it: "2025-06-15 12:00:00 UTC". */
export const utc = (iso: string | undefined): string => {
  const d = iso ? instant(iso) : null;
  return d ? `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC` : '';
};

export interface ReadingTime {
  /** `2026-11-20 08:05` (seconds when not zero). */
  time: string;
  /** `UTC−08:00`, or `UTC`. */
  zone: string;
  /** The reading carried a (non-zero) offset: `time` is the participant's wall clock. */
  local: boolean;
  /** The instant in UTC, `2026-11-20 16:05:00 UTC`. */
  utc: string;
}

/**
 * A reading's time as the data gives it (`2026-11-20T08:05:00-08:00`, or `…Z` when the reading
 * carried no UTC offset): the participant's wall clock with the offset, `2026-11-20 08:05`
 * and `UTC−08:00`, or the UTC time and `UTC` (never called local), and the instant in UTC.
 * Seconds only when not zero; fractions dropped, as on the rest of the screen.
 */
export function readingTime(iso: string): ReadingTime | null {
  const m = /^(\d{4}-\d\d-\d\d)[T ](\d\d:\d\d)(:\d\d)?(?:\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(iso);
  if (!m) return null;
  const seconds = m[3] && m[3] !== ':00' ? m[3] : '';
  const time = `${m[1]} ${m[2]}${seconds}`;
  const off = m[4]!;
  const local = off !== 'Z' && off.slice(1) !== '00:00';
  const zone = local ? `UTC${off[0] === '-' ? '\u2212' : '+'}${off.slice(1)}` : 'UTC';
  return { time, zone, local, utc: utc(iso) };
}

export function bytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ['KB', 'MB', 'GB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${units[u]}`;
}

export function daysAgo(days: number | undefined): string {
  if (days === undefined) return 'Never';
  if (days <= 0) return 'Today';
  if (days === 1) return 'Yesterday';
  return `${days} days ago`;
}

/** How long ago an instant was, in words: "just now", "3 minutes ago", "2 hours ago", "yesterday", "5 days ago". */
export function timeAgo(iso: string | undefined, now: Date): string {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return 'never';
  const min = Math.floor((now.getTime() - t) / 60_000);
  if (min < 1) return 'just now';
  if (min < 60) return `${min} minute${min === 1 ? '' : 's'} ago`;
  const h = Math.floor(min / 60);
  if (h < 24) return `${h} hour${h === 1 ? '' : 's'} ago`;
  const d = Math.floor(h / 24);
  return d === 1 ? 'yesterday' : `${d} days ago`;
}

export function plural(n: number, one: string, many: string): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}

export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

export function addDays(d: Date, n: number): Date {
  return new Date(d.getTime() + n * 86_400_000);
}
