import type { UtcMs } from './instant.ts';
import { DAY_MS, HOUR_MS } from './instant.ts';

/** An IANA time zone name such as `Europe/Berlin`. */
export type TimeZone = string;

const formatters = new Map<TimeZone, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function formatter(tz: TimeZone): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (f === undefined) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when the runtime knows `tz`. */
export function isValidTimeZone(tz: string): boolean {
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/**
 * UTC offset of `tz` at instant `t`, in milliseconds (CEST → +7 200 000). Offsets are cached per zone and
 * 15-minute bucket when the offset is the same at both ends of the bucket, which is the case for every bucket but
 * those holding a change off the quarter hour (America/St_Johns changed at 00:01 until 2011): there the offset is
 * computed at `t`'s second, not cached.
 */
export function offsetAt(t: number, tz: TimeZone): number {
  const bucket = Math.floor(t / 900_000);
  const key = `${tz}|${bucket}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const at = bucket * 900_000;
  const offset = exactOffset(at, tz);
  if (exactOffset(at + 899_000, tz) !== offset) return exactOffset(Math.floor(t / 1000) * 1000, tz);
  if (offsetCache.size > 200_000) offsetCache.clear();
  offsetCache.set(key, offset);
  return offset;
}

/** The offset at the whole second `at`, from the runtime's time zone data. */
function exactOffset(at: number, tz: TimeZone): number {
  let y = 0,
    mo = 0,
    d = 0,
    h = 0,
    mi = 0,
    s = 0;
  for (const p of formatter(tz).formatToParts(at)) {
    switch (p.type) {
      case 'year':
        y = Number(p.value);
        break;
      case 'month':
        mo = Number(p.value);
        break;
      case 'day':
        d = Number(p.value);
        break;
      case 'hour':
        h = Number(p.value);
        break;
      case 'minute':
        mi = Number(p.value);
        break;
      case 'second':
        s = Number(p.value);
        break;
      default:
        break;
    }
  }
  return Date.UTC(y, mo - 1, d, h, mi, s) - at;
}

/** Wall-clock time of `t` in `tz`, expressed as milliseconds of a fictitious UTC clock ("local-as-UTC"). */
export function toLocal(t: number, tz: TimeZone): number {
  return t + offsetAt(t, tz);
}

/**
 * The instant at which the wall clock in `tz` shows `local` (local-as-UTC milliseconds). Resolves like
 * Temporal's `disambiguation: 'compatible'`: a time repeated by a fall-back change takes the earlier instant;
 * a time skipped by a spring-forward change is moved forward by the gap.
 */
export function fromLocal(local: number, tz: TimeZone): UtcMs {
  const before = offsetAt(local - DAY_MS / 2, tz);
  const after = offsetAt(local + DAY_MS / 2, tz);
  const a = local - before;
  const b = local - after;
  const aValid = offsetAt(a, tz) === before;
  const bValid = offsetAt(b, tz) === after;
  if (aValid && bValid) return Math.min(a, b) as UtcMs;
  if (aValid) return a as UtcMs;
  if (bValid) return b as UtcMs;
  return a as UtcMs; // in a gap: interpret with the offset in force before the change
}

/** Adds `days` calendar days in `tz` (a day across a DST change lasts 23 or 25 hours). */
export function addLocalDays(t: number, tz: TimeZone, days: number): UtcMs {
  return fromLocal(toLocal(t, tz) + days * DAY_MS, tz);
}

/** Adds `months` calendar months in `tz`, clamping the day of month (31 Jan + 1 month → 28/29 Feb). */
export function addLocalMonths(t: number, tz: TimeZone, months: number): UtcMs {
  const local = new Date(toLocal(t, tz));
  const y = local.getUTCFullYear();
  const m = local.getUTCMonth() + months;
  const targetYear = y + Math.floor(m / 12);
  const targetMonth = ((m % 12) + 12) % 12;
  const lastDay = new Date(Date.UTC(targetYear, targetMonth + 1, 0)).getUTCDate();
  const day = Math.min(local.getUTCDate(), lastDay);
  const timeOfDay = local.getTime() - Date.UTC(y, local.getUTCMonth(), local.getUTCDate());
  return fromLocal(Date.UTC(targetYear, targetMonth, day) + timeOfDay, tz);
}

/** Start (local midnight) of the local calendar day containing `t`. */
export function startOfLocalDay(t: number, tz: TimeZone): UtcMs {
  const local = toLocal(t, tz);
  return fromLocal(local - (((local % DAY_MS) + DAY_MS) % DAY_MS), tz);
}

/** Length in hours of the local day containing `t` (23, 24 or 25 in European zones). */
export function localDayHours(t: number, tz: TimeZone): number {
  const start = startOfLocalDay(t, tz);
  return (addLocalDays(start, tz, 1) - start) / HOUR_MS;
}
