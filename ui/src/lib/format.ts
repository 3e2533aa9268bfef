// Number and date formatting in the user's own locale (the OS locale inside Tauri).
const nf0 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 0 });
const nf1 = new Intl.NumberFormat(undefined, { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const day = new Intl.DateTimeFormat(undefined, { year: 'numeric', month: 'short', day: 'numeric', timeZone: 'UTC' });
const dayTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  timeZone: 'UTC',
});

export const int = (n: number): string => nf0.format(n);

/** One decimal, for means and SDs; whole numbers stay whole when the data are whole. */
export const num = (n: number): string => (Number.isInteger(n) ? nf0.format(n) : nf1.format(n));

/** Dates are shown in UTC, as exported, so the screen and the files agree. */
export const date = (iso: string | undefined): string => (iso ? day.format(new Date(iso)) : '—');

export const dateTime = (iso: string): string => `${dayTime.format(new Date(iso))} UTC`;

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

export function plural(n: number, one: string, many: string): string {
  return `${int(n)} ${n === 1 ? one : many}`;
}

export const isoDay = (d: Date): string => d.toISOString().slice(0, 10);

export function addDays(d: Date, n: number): Date {
  return new Date(d.getTime() + n * 86_400_000);
}
