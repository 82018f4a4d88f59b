import { StorageError } from '../errors.ts';

/** An instant: a Date, or an ISO 8601 string with a zone designator. */
export type Instant = Date | string;

/** Output resolutions of range queries. */
export const RESOLUTIONS = ['PT15M', 'PT1H', 'P1D'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/**
 * Units whose values add up over time (energy). Every other unit is intensive (power, prices, intensities,
 * shares): it is averaged when slots are combined. ARCHITECTURE.md: MW is intensive, MWh extensive.
 */
export const EXTENSIVE_UNITS: readonly string[] = ['MWh'];

/** How values of `unit` combine into a coarser bucket. */
export function aggregationOf(unit: string): 'sum' | 'avg' {
  return EXTENSIVE_UNITS.includes(unit) ? 'sum' : 'avg';
}

/** SQL: the bucket value of `value` rows of one unit, summed or averaged by the unit. */
export const BUCKET_VALUE_SQL = `CASE WHEN o.unit IN (${EXTENSIVE_UNITS.map((u) => `'${u}'`).join(', ')}) THEN sum(o.value) ELSE avg(o.value) END`;

function invalid(message: string): StorageError {
  return new StorageError('db.invalid_query', message, { retryable: false });
}

/** The instant as an ISO string; throws `invalid_query` for an unparseable one. */
export function isoInstant(value: Instant, name: string): string {
  const ms = value instanceof Date ? value.getTime() : Date.parse(value);
  if (!Number.isFinite(ms)) throw invalid(`${name} is not a valid instant: ${String(value)}`);
  return new Date(ms).toISOString();
}

/** A [from, to) range as ISO strings, checked to be non-empty and at most `maxDays` long. */
export function isoRange(from: Instant, to: Instant, maxDays = 3700): [string, string] {
  const a = isoInstant(from, 'from');
  const b = isoInstant(to, 'to');
  if (Date.parse(b) <= Date.parse(a)) throw invalid('to must be after from');
  if (Date.parse(b) - Date.parse(a) > maxDays * 86_400_000) throw invalid(`the range is longer than ${maxDays} days`);
  return [a, b];
}

/** An IANA time zone name, checked with the platform's tz database. */
export function timeZone(name: string | undefined): string {
  if (name === undefined || name === '' || name === 'UTC') return 'UTC';
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
  } catch {
    throw invalid(`unknown time zone ${JSON.stringify(name)}`);
  }
  return name;
}

/** `2024-05-21T10:15:00Z`: the contracts' way of writing a UTC instant (no milliseconds when there are none). */
export function utc(date: Date): string {
  return date.toISOString().replace('.000Z', 'Z');
}

/** A non-empty list or `null` (SQL: no filter). */
export function listOrNull(values: readonly string[] | undefined): string[] | null {
  return values === undefined || values.length === 0 ? null : [...values];
}
