import { createHash } from 'node:crypto';
import type { EntsoeRequest } from '../contracts/index.ts';
import type { EntsoeLimit } from '../connectors/entsoe/index.ts';
import { ENTSOE_LIMITS, planRequest, requestKey, requestPeriod } from '../connectors/entsoe/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { TimeZone } from '../time/index.ts';
import { fromLocal, parseUtc } from '../time/index.ts';
import type { FetchScope } from './entsoe-jobs.ts';
import { scopeRequests } from './entsoe-jobs.ts';
import { SchedulerError } from './errors.ts';

/** One request-sized piece of a backfill; its id is the request's key, so the same piece always has the same id. */
export interface BackfillChunk {
  readonly id: string;
  readonly request: EntsoeRequest;
}

export interface BackfillPlan {
  /** Identifies the backfill (range and scope) in the progress store. */
  readonly id: string;
  readonly from: number;
  readonly to: number;
  readonly scope: FetchScope;
  /** Oldest first, so an interrupted backfill has filled a contiguous past. */
  readonly chunks: readonly BackfillChunk[];
}

/**
 * Backfill chunks last a calendar month at most, for every document type: a year of PT15M generation for a large
 * zone is tens of MB of XML, more than one `raw.entsoe` record may hold (16 MiB), and monthly chunks resume at a
 * finer grain. Still far below the budget: 25 zones × 4 items × 12 months is 1 200 requests per year of data.
 */
const BACKFILL_LIMITS: Readonly<Record<string, Partial<EntsoeLimit>>> = Object.fromEntries(
  Object.keys(ENTSOE_LIMITS).map((type) => [type, { maxSpan: { unit: 'month', count: 1 } }]),
);

/** How a backfill splits a request: the service's limits, and at most a calendar month. */
export function backfillSplit(request: EntsoeRequest): EntsoeRequest[] {
  return planRequest(request, { limits: BACKFILL_LIMITS });
}

/**
 * Reads a backfill bound: a date (`2024-01-01`, midnight in `timeZone`, ENTSO-E market time by default, so that
 * chunks line up with the local calendar) or a UTC instant (`2024-01-01T00:00Z`).
 * @throws SchedulerError `invalid_config`
 */
export function parseBackfillDate(text: string, timeZone: TimeZone = 'Europe/Brussels'): number {
  const date = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  if (date !== null) {
    const local = Date.UTC(Number(date[1]), Number(date[2]) - 1, Number(date[3]));
    if (new Date(local).toISOString().slice(0, 10) === text.trim()) return fromLocal(local, timeZone);
  }
  const t = parseUtc(text);
  if (t === undefined) {
    throw new SchedulerError(
      'scheduler.invalid_config',
      `"${text}" is neither a date (2024-01-31) nor a UTC time (2024-01-31T22:00Z)`,
    );
  }
  return t;
}

/**
 * Plans a backfill: the scope's requests over `[from, to)`, each split by `split` (normally {@link backfillSplit}),
 * as chunks in time order.
 * @throws SchedulerError `invalid_config` for an empty range
 */
export function planBackfill(options: {
  readonly from: number;
  readonly to: number;
  readonly scope: FetchScope;
  readonly reference: ReferenceData;
  readonly split: (request: EntsoeRequest) => EntsoeRequest[];
}): BackfillPlan {
  const { from, to, scope } = options;
  if (!(to > from))
    throw new SchedulerError('scheduler.invalid_config', 'the backfill range is empty: --to must be after --from');
  const chunks = new Map<string, BackfillChunk>();
  for (const request of scopeRequests(scope, { start: from, end: to }, options.reference)) {
    for (const part of options.split(request)) {
      const id = requestKey(part);
      chunks.set(id, { id, request: part });
    }
  }
  const ordered = [...chunks.values()].sort(
    (a, b) =>
      requestPeriod(a.request).start - requestPeriod(b.request).start || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
  const id = createHash('sha256')
    .update(JSON.stringify([from, to, [...scope.zones].sort(), [...scope.documents].sort()]))
    .digest('hex')
    .slice(0, 16);
  return { id: `backfill-${id}`, from, to, scope, chunks: ordered };
}
