import type { EntsoeRequest } from '../../contracts/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { TimeZone } from '../../time/index.ts';
import { addLocalDays, fromLocal, startOfLocalDay, toLocal } from '../../time/index.ts';
import type { Period } from './requests.ts';
import { requestPeriod, withPeriod } from './requests.ts';

/** A calendar span in the area's local time. Spans of months and years are aligned to calendar boundaries. */
export interface Span {
  readonly unit: 'year' | 'month' | 'day';
  readonly count: number;
}

/** What the service accepts per request for one document type. */
export interface EntsoeLimit {
  /** Longest period of one request. */
  readonly maxSpan: Span;
  /** Documents (TimeSeries) per page when the service pages with `offset`; `null` when it does not page. */
  readonly pageSize: number | null;
  /** The service answers whole local days (day-based items): requests are widened to local midnights. */
  readonly wholeLocalDays: boolean;
}

const ONE_YEAR: EntsoeLimit = { maxSpan: { unit: 'year', count: 1 }, pageSize: null, wholeLocalDays: false };

/**
 * Request limits per document type (docs/upstream-apis.md §3). Chunks are aligned to calendar boundaries so that
 * the same range always splits into the same chunks (backfill chunk ids stay stable between runs).
 */
export const ENTSOE_LIMITS: Readonly<Record<string, EntsoeLimit>> = {
  A75: ONE_YEAR,
  A71: ONE_YEAR,
  A69: ONE_YEAR,
  // No documented limit; answers are year-based anyway.
  A68: ONE_YEAR,
  // Documented as one year, but the service has answered "larger than maximum allowed period 'P1M'" for actual
  // total load since 2026 (entsoe-py#546): a month is safe for both.
  A65: { maxSpan: { unit: 'month', count: 1 }, pageSize: null, wholeLocalDays: false },
  // At most 100 "instances" (one day per zone) per request, 100 documents per page: a calendar quarter (≤ 92
  // days) stays under both, and offset paging covers zones with several price sequences per day.
  A44: { maxSpan: { unit: 'month', count: 3 }, pageSize: 100, wholeLocalDays: true },
  A11: ONE_YEAR,
  A09: ONE_YEAR,
  A61: ONE_YEAR,
};

/** Highest `offset` the service accepts (offset ∈ [0, 4800]). */
export const MAX_OFFSET = 4800;

/** The limit of a document type, with overrides (tests, a service that changed its limits). */
export function limitFor(
  documentType: string,
  overrides: Readonly<Record<string, Partial<EntsoeLimit>>> = {},
): EntsoeLimit {
  return { ...(ENTSOE_LIMITS[documentType] ?? ONE_YEAR), ...overrides[documentType] };
}

/** Widens a period to whole local days: from the local midnight at or before `start` to the one at or after `end`. */
export function wholeLocalDays(period: Period, timeZone: TimeZone): Period {
  const start = startOfLocalDay(period.start, timeZone);
  const endDay = startOfLocalDay(period.end, timeZone);
  const end = endDay === period.end ? endDay : addLocalDays(endDay, timeZone, 1);
  return { start, end: Math.max(end, addLocalDays(start, timeZone, 1)) };
}

/** The first chunk boundary after `t`: the next calendar boundary of the span, in local time. */
export function nextBoundary(t: number, span: Span, timeZone: TimeZone): number {
  const local = new Date(toLocal(t, timeZone));
  const y = local.getUTCFullYear();
  switch (span.unit) {
    case 'year': {
      const next = y + span.count - (((y % span.count) + span.count) % span.count);
      return fromLocal(Date.UTC(next, 0, 1), timeZone);
    }
    case 'month': {
      const m = local.getUTCMonth();
      const next = m + span.count - (m % span.count);
      return fromLocal(Date.UTC(y, next, 1), timeZone);
    }
    case 'day':
      return addLocalDays(startOfLocalDay(t, timeZone), timeZone, span.count);
    default:
      return span.unit satisfies never;
  }
}

/**
 * Splits `period` into chunks no longer than `span`, cut at calendar boundaries in `timeZone`.
 * @example splitPeriod({ start: 2024-01-15, end: 2024-03-10 }, { unit: 'month', count: 1 }, 'Europe/Paris')
 *   // → [01-15, 02-01), [02-01, 03-01), [03-01, 03-10) in Paris time
 */
export function splitPeriod(period: Period, span: Span, timeZone: TimeZone): Period[] {
  const chunks: Period[] = [];
  let start = period.start;
  while (start < period.end) {
    const end = Math.min(period.end, nextBoundary(start, span, timeZone));
    if (end <= start) throw new RangeError(`cannot split at ${new Date(start).toISOString()} (${timeZone})`);
    chunks.push({ start, end });
    start = end;
  }
  return chunks;
}

/**
 * Splits a request to the service's limits: widened to whole local days where the item is day-based, then cut
 * into calendar chunks no longer than the item's span.
 */
export function splitRequest(request: EntsoeRequest, limit: EntsoeLimit, timeZone: TimeZone): EntsoeRequest[] {
  let period = requestPeriod(request);
  if (limit.wholeLocalDays) period = wholeLocalDays(period, timeZone);
  const chunks = splitPeriod(period, limit.maxSpan, timeZone);
  if (
    chunks.length === 1 &&
    chunks[0]?.start === requestPeriod(request).start &&
    chunks[0].end === requestPeriod(request).end
  ) {
    return [request];
  }
  return chunks.map((p) => withPeriod(request, p));
}

/** Halves a request's period on a local-day boundary, for a service that found it too large; `null` for a day. */
export function halveRequest(request: EntsoeRequest, timeZone: TimeZone): [EntsoeRequest, EntsoeRequest] | null {
  const { start, end } = requestPeriod(request);
  const middle = startOfLocalDay(start + (end - start) / 2, timeZone);
  if (middle <= start || middle >= end) return null;
  return [withPeriod(request, { start, end: middle }), withPeriod(request, { start: middle, end })];
}

/** The reference data's time zone of an area. */
export function referenceTimeZone(eic: string): TimeZone | undefined {
  const reference = loadReference();
  return reference.hasEic(eic) ? reference.area(eic).timeZone : undefined;
}

/** The time zone of a request's calendar arithmetic: its first domain's, else ENTSO-E market time (CET). */
export function requestTimeZone(
  request: EntsoeRequest,
  timeZoneOf: (eic: string) => TimeZone | undefined = referenceTimeZone,
): TimeZone {
  const eic = Object.values(request.domains)[0];
  return (eic === undefined ? undefined : timeZoneOf(eic)) ?? 'Europe/Brussels';
}

/**
 * The parts a request is sent as: split to its document type's limit, widened to whole local days where needed.
 * Needs no client (and no token): backfills are planned with it.
 */
export function planRequest(
  request: EntsoeRequest,
  options: {
    readonly limits?: Readonly<Record<string, Partial<EntsoeLimit>>>;
    readonly timeZoneOf?: (eic: string) => TimeZone | undefined;
  } = {},
): EntsoeRequest[] {
  return splitRequest(
    request,
    limitFor(request.documentType, options.limits),
    requestTimeZone(request, options.timeZoneOf),
  );
}
