import { z } from 'zod';
import { METRICS } from '../contracts/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { DAY_MS, fromLocal, isValidTimeZone } from '../time/index.ts';
import { ApiError } from './errors.ts';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** The earliest and (exclusive) latest moments a date parameter may name: grid data is recent, and PostgreSQL has no year 0. */
const EARLIEST = Date.UTC(1900, 0, 1);
const LATEST = Date.UTC(10_000, 0, 1);

/** A `from`/`to`/`at` value before it is placed in a time zone: a bare date, or an instant with its offset. */
export type DateParam =
  | { readonly kind: 'date'; readonly text: string; readonly localMidnight: number }
  | { readonly kind: 'instant'; readonly text: string; readonly at: Date };

/**
 * A moment: `2025-10-21` (a bare date: 00:00 in the time zone of the zone asked for, or of `tz=`) or an ISO 8601
 * timestamp with an offset (`2025-10-21T06:00:00Z`, `…+02:00`). Resolve it with {@link placeDate}.
 */
export const dateOrInstant = z
  .string()
  .refine(
    (s) => DATE.test(s) || INSTANT.test(s),
    'expected a date (YYYY-MM-DD) or an ISO 8601 timestamp with an offset (…Z or …+02:00)',
  )
  .refine((s) => !Number.isNaN(Date.parse(DATE.test(s) ? `${s}T00:00:00Z` : s)), 'is not a real date')
  .refine((s) => {
    const t = Date.parse(DATE.test(s) ? `${s}T00:00:00Z` : s);
    return Number.isNaN(t) || (t >= EARLIEST && t < LATEST);
  }, 'is out of range: dates go from 1900-01-01 to 9999-12-31 (the year 0000 does not exist)')
  .transform((s): DateParam =>
    DATE.test(s)
      ? { kind: 'date', text: s, localMidnight: Date.parse(`${s}T00:00:00Z`) }
      : { kind: 'instant', text: s, at: new Date(s) },
  );

/** Examples of {@link dateOrInstant} for the OpenAPI document. */
export const DATE_EXAMPLES = ['2025-10-21', '2025-10-21T06:00:00Z', '2025-10-21T08:00:00+02:00'];

/** The instant a {@link DateParam} means in `timeZone` (a bare date is local midnight there). */
export function placeDate(param: DateParam, timeZone: string): Date {
  return param.kind === 'instant' ? param.at : new Date(fromLocal(param.localMidnight, timeZone));
}

/** `tz=`: an IANA time zone for bare dates (default: the zone's own). */
export const timeZoneParam = z
  .string()
  .max(64)
  .refine((s) => isValidTimeZone(s), 'expected an IANA time zone such as Europe/Paris or UTC')
  .meta({
    description: 'Time zone of bare dates in from/to (IANA name). Default: the time zone of the zone asked for.',
    examples: ['Europe/Berlin', 'UTC'],
  });

export const zoneCode = z
  .string()
  .regex(/^[A-Z][A-Z0-9_]{0,39}$/, 'expected a zone code such as DE_LU or FR')
  .meta({ description: 'Zone code (an ENTSO-E bidding zone or control area)', examples: ['DE_LU', 'FR', 'IT_NORD'] });

export const zoneList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(zoneCode).min(1, 'expected at least one zone').max(100))
  .meta({ description: 'Comma-separated zone codes', examples: ['DE_LU,FR'] });

export const metric = z
  .enum(METRICS, { message: `expected one of ${METRICS.join(', ')}` })
  .meta({ description: 'Metric', examples: ['generation_actual'] });

export const productionTypes = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(z.string().min(1).max(60)).min(1).max(40))
  .meta({
    description:
      'Comma-separated production types: ENTSO-E PSR codes or their names, in any case (`nuclear`, `wind onshore`, `wind_onshore`)',
    examples: ['B14', 'nuclear,solar', 'B16,B19'],
  });

export const resolution = z
  .enum(['PT15M', 'PT1H', 'P1D'], { message: 'expected PT15M, PT1H or P1D' })
  .meta({ description: 'Bucket size: averages for intensive units (MW, prices, intensities, shares), sums for MWh' });

export const positiveInt = (max: number) =>
  z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0).max(max);

/** Refuses a range whose end is not after its start, or longer than `maxDays`. */
export function checkRange(from: Date, to: Date, maxDays: number): void {
  if (to <= from) throw new ApiError('api.bad_request', 'parameter "to" must be after "from"', { param: 'to' });
  if (to.getTime() - from.getTime() > maxDays * DAY_MS) {
    throw new ApiError(
      'api.bad_request',
      `parameter "to": the range may span at most ${maxDays} days at this resolution`,
      {
        param: 'to',
      },
    );
  }
}

/**
 * A zone the API answers for: a bidding zone of the reference data, or any zone with stored data. Anything else is
 * a 404 that names the closest valid codes (`DE` → `DE_LU`, `DE_AT_LU`…): an unknown zone is never an empty
 * success. `DE` is Germany the country, not a market zone: its data lives under `DE_LU`.
 */
export async function knownZone(
  reference: ReferenceData,
  code: string,
  zonesWithData: () => Promise<readonly string[]>,
  param = 'zone',
): Promise<string> {
  if (reference.hasZone(code) && reference.zone(code).primaryType === 'BZN') return code;
  const withData = await zonesWithData();
  if (withData.includes(code)) return code;
  const candidates = new Set([
    ...reference
      .areas()
      .filter((a) => a.primaryType === 'BZN')
      .map((a) => a.code),
    ...withData,
  ]);
  const suggestions = closestCodes(code, [...candidates]);
  throw new ApiError(
    'api.not_found',
    `unknown zone "${code}"${suggestions.length === 0 ? '' : `; did you mean ${suggestions.join(', ')}?`} (GET /api/v1/zones lists the zones with data)`,
    { param },
  );
}

/** Up to five codes: those starting with `wanted` first, then the nearest by edit distance. */
export function closestCodes(wanted: string, codes: readonly string[]): string[] {
  const w = wanted.toUpperCase();
  const prefixed = codes.filter((c) => c.startsWith(w) || c.startsWith(`${w}_`)).sort((a, b) => a.length - b.length);
  const near = codes
    .filter((c) => !prefixed.includes(c))
    .map((c) => ({ c, d: editDistance(w, c) }))
    .filter((x) => x.d <= Math.max(2, Math.floor(w.length / 2)))
    .sort((a, b) => a.d - b.d || a.c.localeCompare(b.c))
    .map((x) => x.c);
  return [...prefixed, ...near].slice(0, 5);
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        (previous[j] ?? 0) + 1,
        (current[j - 1] ?? 0) + 1,
        (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * PSR codes for production types given as codes or readable names (`nuclear`, `Wind Onshore`, `wind_onshore`); an
 * unknown one is a 400 that lists the valid values.
 */
export function productionTypeCodes(
  reference: ReferenceData,
  given: readonly string[],
  param = 'production_type',
): string[] {
  const byName = new Map<string, string>();
  for (const t of reference.productionTypes()) {
    byName.set(t.code.toLowerCase(), t.code);
    byName.set(normaliseName(t.name), t.code);
  }
  return given.map((g) => {
    const code = byName.get(g.toLowerCase()) ?? byName.get(normaliseName(g));
    if (code !== undefined) return code;
    const valid = reference.productionTypes().map((t) => `${t.code} (${normaliseName(t.name)})`);
    throw new ApiError(
      'api.bad_request',
      `parameter "${param}": unknown production type "${g}"; valid values: ${valid.join(', ')}`,
      {
        param,
      },
    );
  });
}

function normaliseName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
}
