import type { TimeZone, UtcMs } from '../time/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS, fromLocal, isValidTimeZone, toLocal } from '../time/index.ts';
import { StreamsError, requireFinite } from './errors.ts';

/**
 * The window sizes of stream jobs. `PT15M` and `PT1H` are tumbling windows aligned on the UTC line (epoch
 * multiples of their length); `P1D` and `P1M` are the local calendar day and month of a time zone, so a
 * Europe/Berlin day lasts 23, 24 or 25 hours.
 *
 * Every zone in use today has an offset that is a multiple of 15 minutes (+05:30 Kolkata, −03:30 St John's,
 * +05:45 Kathmandu), so a UTC-aligned quarter is also a local quarter everywhere. A UTC-aligned hour is not: in
 * +05:30 it runs from :30 to :30 on the local clock. `PT1H` is deliberately the UTC hour (the market's hour);
 * a local clock hour in such a zone would need a resolution of its own.
 */
export type WindowResolution = 'PT15M' | 'PT1H' | 'P1D' | 'P1M';

/** Every {@link WindowResolution}, finest first. */
export const WINDOW_RESOLUTIONS = ['PT15M', 'PT1H', 'P1D', 'P1M'] as const satisfies readonly WindowResolution[];

/** A window `[start, end)` in UTC epoch milliseconds. */
export interface Window {
  readonly start: UtcMs;
  readonly end: UtcMs;
}

/** Default cap of {@link windowsBetween}: a bit over 2.8 years of quarters. */
export const MAX_WINDOWS = 100_000;

const FIXED_MS = { PT15M: SLOT_MS, PT1H: HOUR_MS } as const;

/** True for a {@link WindowResolution}. */
export function isWindowResolution(value: string): value is WindowResolution {
  return (WINDOW_RESOLUTIONS as readonly string[]).includes(value);
}

function requireZone(timeZone: TimeZone): void {
  if (!isValidTimeZone(timeZone)) {
    throw new StreamsError('streams.invalid_time_zone', `unknown time zone ${JSON.stringify(timeZone)}`, {
      details: { timeZone },
    });
  }
}

function requireResolution(resolution: string): asserts resolution is WindowResolution {
  if (!isWindowResolution(resolution)) {
    throw new StreamsError('streams.invalid_argument', `unknown window resolution ${JSON.stringify(resolution)}`);
  }
}

/** Local-as-UTC midnight that starts the local day (offset 0) or month of `local`, moved by `steps` of them. */
function localBoundary(local: number, resolution: 'P1D' | 'P1M', steps: number): number {
  if (resolution === 'P1D') return Math.floor(local / DAY_MS) * DAY_MS + steps * DAY_MS;
  const d = new Date(local);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + steps, 1);
}

/**
 * The last calendar window computed per resolution and zone: local days and months tile the UTC line, so an
 * instant inside it has that window. A batch of readings mostly falls in one day, and the zone arithmetic of a
 * new window costs microseconds, so this spares most of it. Bounded by the zones in use (× 2 resolutions).
 */
const lastWindow = new Map<string, Window>();

function calendarWindow(tsMs: number, resolution: 'P1D' | 'P1M', timeZone: TimeZone): Window {
  const id = `${resolution} ${timeZone}`;
  const last = lastWindow.get(id);
  if (last !== undefined && tsMs >= last.start && tsMs < last.end) return last;
  const window = computeCalendarWindow(tsMs, resolution, timeZone);
  lastWindow.set(id, window);
  return window;
}

function computeCalendarWindow(tsMs: number, resolution: 'P1D' | 'P1M', timeZone: TimeZone): Window {
  const local = toLocal(tsMs, timeZone);
  // Both ends come from local midnights, never from start + 1 day: where midnight is skipped by a DST change
  // (America/Santiago) the day starts at 01:00 but still ends at the next midnight.
  let start = fromLocal(localBoundary(local, resolution, 0), timeZone);
  let end = fromLocal(localBoundary(local, resolution, 1), timeZone);
  // A fall-back across midnight would give instants whose local date precedes their window; windows must tile
  // the UTC line, so such an instant belongs to the window whose [start, end) holds it.
  while (tsMs >= end) {
    start = end;
    end = fromLocal(localBoundary(toLocal(start, timeZone), resolution, 1), timeZone);
  }
  return { start, end };
}

/**
 * The window of `resolution` holding the instant `tsMs`: `[start, end)` with `start <= tsMs < end`.
 *
 * @example windowOf(Date.parse('2026-10-25T12:00Z'), 'P1D', 'Europe/Berlin')
 *   // { start: 2026-10-24T22:00Z, end: 2026-10-25T23:00Z } (25 hours)
 * @throws StreamsError `streams.invalid_time_zone`, `streams.invalid_argument` (a time that is not finite)
 */
export function windowOf(tsMs: number, resolution: WindowResolution, timeZone: TimeZone): Window {
  requireFinite('tsMs', tsMs);
  requireResolution(resolution);
  requireZone(timeZone);
  switch (resolution) {
    case 'PT15M':
    case 'PT1H': {
      const size = FIXED_MS[resolution];
      const start = Math.floor(tsMs / size) * size;
      return { start: start as UtcMs, end: (start + size) as UtcMs };
    }
    case 'P1D':
    case 'P1M':
      return calendarWindow(tsMs, resolution, timeZone);
    default:
      return resolution satisfies never;
  }
}

/**
 * The windows that cover `[fromMs, toMs)`, in order and without gaps: the first holds `fromMs`, the last holds
 * `toMs - 1`. An empty range gives none.
 *
 * @param limit most windows listed (default {@link MAX_WINDOWS}), so a wrong range cannot exhaust memory
 * @throws StreamsError `streams.too_many_windows`, `streams.invalid_argument` (to before from),
 *   `streams.invalid_time_zone`
 */
export function windowsBetween(
  fromMs: number,
  toMs: number,
  resolution: WindowResolution,
  timeZone: TimeZone,
  limit: number = MAX_WINDOWS,
): Window[] {
  requireFinite('fromMs', fromMs);
  requireFinite('toMs', toMs);
  if (toMs < fromMs) throw new StreamsError('streams.invalid_argument', 'the range ends before it starts');
  if (toMs === fromMs) return [];
  let window = windowOf(fromMs, resolution, timeZone);
  const tooMany = (): StreamsError =>
    new StreamsError('streams.too_many_windows', `the range holds more than ${limit} ${resolution} windows`, {
      details: { fromMs, toMs, resolution, limit },
    });
  if (resolution === 'PT15M' || resolution === 'PT1H') {
    // Counted before anything is allocated.
    if (Math.ceil((toMs - window.start) / FIXED_MS[resolution]) > limit) throw tooMany();
  }
  const out: Window[] = [];
  while (window.start < toMs) {
    if (out.length >= limit) throw tooMany();
    out.push(window);
    window = windowOf(window.end, resolution, timeZone);
  }
  return out;
}

/**
 * The local calendar date (`YYYY-MM-DD`) of the instant `tsMs` in `timeZone`. Label a `P1D` window by the date of
 * its start: where a fall-back crossed midnight (St John's before 2011) the repeated evening belongs to the next
 * day's window although its own date reads the day before.
 */
export function localDayOf(tsMs: number, timeZone: TimeZone): string {
  requireFinite('tsMs', tsMs);
  requireZone(timeZone);
  return new Date(toLocal(tsMs, timeZone)).toISOString().slice(0, 10);
}

/**
 * How many intervals of `intervalMs` a window holds: 96 quarters in a 24-hour day, 92 on the spring-forward day,
 * 100 on the fall-back day in Europe/Berlin.
 *
 * @throws StreamsError `streams.invalid_argument` when `intervalMs` is not a positive whole number of ms or does
 *   not divide the window
 */
export function slotsInWindow(window: Window, intervalMs: number): number {
  if (!Number.isSafeInteger(intervalMs) || intervalMs <= 0) {
    throw new StreamsError('streams.invalid_argument', 'intervalMs must be a positive whole number of milliseconds');
  }
  const length = window.end - window.start;
  if (length <= 0 || length % intervalMs !== 0) {
    throw new StreamsError('streams.invalid_argument', `a window of ${length} ms is not a whole number of intervals`, {
      details: { length, intervalMs },
    });
  }
  return length / intervalMs;
}
