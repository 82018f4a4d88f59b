import type { UtcMs } from './instant.ts';
import { MINUTE_MS } from './instant.ts';
import type { TimeZone } from './zone.ts';
import { addLocalDays, addLocalMonths } from './zone.ts';

/**
 * An ISO 8601 duration used as a time-series resolution. Fixed resolutions (PT15M, PT60M…) are exact numbers of
 * milliseconds on the UTC line; calendar resolutions (P1D, P7D, P1M, P1Y) are taken on the local calendar of the
 * series' area, so a P1D step across a DST change lasts 23 or 25 hours.
 */
export type Resolution =
  | { readonly kind: 'fixed'; readonly text: string; readonly ms: number }
  | { readonly kind: 'calendar'; readonly text: string; readonly months: number; readonly days: number };

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const cache = new Map<string, Resolution | undefined>();

/** Parses `PT15M`, `PT1H`, `P1D`, `P7D`, `P1W`, `P1M`, `P1Y`…; `undefined` for zero, mixed or malformed durations. */
export function parseResolution(text: string): Resolution | undefined {
  if (cache.has(text)) return cache.get(text);
  const result = parseUncached(text);
  cache.set(text, result);
  return result;
}

function parseUncached(text: string): Resolution | undefined {
  const m = DURATION.exec(text);
  if (m === null || text === 'P' || text.endsWith('T')) return undefined;
  const n = (i: number): number => (m[i] === undefined ? 0 : Number(m[i]));
  const months = n(1) * 12 + n(2);
  const days = n(3) * 7 + n(4);
  const ms = (n(5) * 60 + n(6)) * MINUTE_MS + n(7) * 1000;
  const calendar = months > 0 || days > 0;
  if (calendar && ms > 0) return undefined; // P1DT1H: no ENTSO-E series uses it, and it has no clean meaning
  if (calendar) return { kind: 'calendar', text, months, days };
  if (ms <= 0) return undefined;
  return { kind: 'fixed', text, ms };
}

/** The instant `steps` resolution steps after `start` (negative steps go back). */
export function addSteps(start: number, resolution: Resolution, steps: number, tz: TimeZone): UtcMs {
  if (resolution.kind === 'fixed') return (start + steps * resolution.ms) as UtcMs;
  let t = start as UtcMs;
  if (resolution.months > 0) t = addLocalMonths(t, tz, resolution.months * steps);
  if (resolution.days > 0) t = addLocalDays(t, tz, resolution.days * steps);
  return t;
}

/** Approximate length in milliseconds (calendar months count as 30 days); for ordering resolutions only. */
export function nominalMs(resolution: Resolution): number {
  return resolution.kind === 'fixed' ? resolution.ms : (resolution.months * 30 + resolution.days) * 86_400_000;
}
