import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { sqlStateOf } from '../storage/index.ts';

/**
 * Where a gap stands: `pending` (found, not asked for yet), `backfilling` (asked for; waiting for its data to be
 * stored or for its next try), `filled` (every slot is stored now), `source_has_none` (asked for the configured
 * number of times and never published: not asked for again).
 */
export const GAP_STATES = ['pending', 'backfilling', 'filled', 'source_has_none'] as const;
export type GapState = (typeof GAP_STATES)[number];

/** What a targeted request of a gap came back with. */
export const GAP_OUTCOMES = ['data', 'no-data', 'failed'] as const;
export type GapOutcome = (typeof GAP_OUTCOMES)[number];

/** A series the gaps are about: one source, metric and zone of the expected-publication model. */
export interface GapSeries {
  readonly source: string;
  readonly metric: string;
  readonly zone: string;
}

/** One stored gap: a range `[start, end)` of expected slots of a series that were missing when last looked at. */
export interface Gap extends GapSeries {
  readonly id: number;
  readonly resolution: 'PT15M' | 'PT60M';
  readonly start: number;
  readonly end: number;
  readonly state: GapState;
  /**
   * Requests the source answered while the gap stayed open (a gap continuing a `source_has_none` range starts at
   * `maxTries - 1`: asked once more).
   */
  readonly tries: number;
  /** Requests that failed (not counted towards "source has none"). */
  readonly failures: number;
  readonly nextAttemptAt: number;
  readonly lastAttemptAt: number | null;
  readonly lastOutcome: string | null;
  readonly detectedAt: number;
  readonly updatedAt: number;
  /** When it became `filled` or `source_has_none`. */
  readonly closedAt: number | null;
}

interface GapRow {
  id: string | number;
  source: string;
  metric: string;
  zone: string;
  resolution: 'PT15M' | 'PT60M';
  gap_start: Date;
  gap_end: Date;
  state: GapState;
  tries: number;
  failures: number;
  next_attempt_at: Date;
  last_attempt_at: Date | null;
  last_outcome: string | null;
  detected_at: Date;
  updated_at: Date;
  closed_at: Date | null;
}

const COLUMNS = `id, source, metric, zone, resolution, gap_start, gap_end, state, tries, failures, next_attempt_at,
  last_attempt_at, last_outcome, detected_at, updated_at, closed_at`;

function gapOf(r: GapRow): Gap {
  return {
    id: Number(r.id),
    source: r.source,
    metric: r.metric,
    zone: r.zone,
    resolution: r.resolution,
    start: r.gap_start.getTime(),
    end: r.gap_end.getTime(),
    state: r.state,
    tries: r.tries,
    failures: r.failures,
    nextAttemptAt: r.next_attempt_at.getTime(),
    lastAttemptAt: r.last_attempt_at?.getTime() ?? null,
    lastOutcome: r.last_outcome,
    detectedAt: r.detected_at.getTime(),
    updatedAt: r.updated_at.getTime(),
    closedAt: r.closed_at?.getTime() ?? null,
  };
}

/** The gaps of one series that are still open (`pending`, `backfilling`, `source_has_none`), oldest first. */
export async function openGaps(q: Queryable, s: GapSeries, options: DbCallOptions = {}): Promise<Gap[]> {
  const { rows } = await q.query<GapRow>(
    `SELECT ${COLUMNS} FROM completeness_gaps
     WHERE source = $1 AND metric = $2 AND zone = $3 AND state <> 'filled' ORDER BY gap_start, id`,
    [s.source, s.metric, s.zone],
    options,
  );
  return rows.map(gapOf);
}

/**
 * Records a newly found gap as `pending`, due at once (or at `start.dueAt`, with `start.tries` already counted: a
 * gap that continues one the source had none for). A gap of the series already open at the same start (another
 * replica's healer found it first) is kept as it is: one row per open range start (a unique index).
 */
export async function insertGap(
  q: Queryable,
  gap: GapSeries & { readonly resolution: 'PT15M' | 'PT60M'; readonly start: number; readonly end: number },
  now: number,
  options: DbCallOptions = {},
  start: { readonly tries: number; readonly dueAt: number } = { tries: 0, dueAt: now },
): Promise<void> {
  await q.query(
    `INSERT INTO completeness_gaps (source, metric, zone, resolution, gap_start, gap_end, state, tries, next_attempt_at,
       detected_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $8, $9, $7, $7)
     ON CONFLICT (source, metric, zone, gap_start) WHERE state <> 'filled' DO NOTHING`,
    [
      gap.source,
      gap.metric,
      gap.zone,
      gap.resolution,
      new Date(gap.start),
      new Date(gap.end),
      new Date(now),
      start.tries,
      new Date(start.dueAt),
    ],
    options,
  );
}

/** Moves a gap's range (part of it was filled, or it grew at its end); its state and tries stay. */
export async function moveGap(
  q: Queryable,
  id: number,
  range: { readonly start: number; readonly end: number },
  now: number,
  options: DbCallOptions = {},
): Promise<void> {
  try {
    await q.query(
      `UPDATE completeness_gaps SET gap_start = $2, gap_end = $3, updated_at = $4
       WHERE id = $1 AND (gap_start <> $2 OR gap_end <> $3)`,
      [id, new Date(range.start), new Date(range.end), new Date(now)],
      options,
    );
  } catch (error) {
    // Another open gap of the series starts there already (another replica's healer moved or added it): the next
    // pass reconciles the two.
    if (sqlStateOf(error) !== '23505') throw error;
  }
}

/**
 * Claims a due gap for one request: moves its next try to `leaseUntil` if it is still open and due at `now`, and
 * returns it as stored then; `undefined` when another healer claimed it first (or it was closed meanwhile). The
 * attempt's record sets the real next try; a healer that dies mid-request leaves the gap due again at `leaseUntil`.
 */
export async function claimGap(
  q: Queryable,
  id: number,
  now: number,
  leaseUntil: number,
  options: DbCallOptions = {},
): Promise<Gap | undefined> {
  const { rows } = await q.query<GapRow>(
    `UPDATE completeness_gaps SET next_attempt_at = $3
     WHERE id = $1 AND state IN ('pending', 'backfilling') AND next_attempt_at <= $2
     RETURNING ${COLUMNS}`,
    [id, new Date(now), new Date(leaseUntil)],
    options,
  );
  const row = rows[0];
  return row === undefined ? undefined : gapOf(row);
}

/**
 * Open gaps (any state but `filled`) of the series not in `seen` (keys `source|metric|zone`): series that left the
 * model or whose window is empty now, whose gaps are checked against their own range.
 */
export async function openGapsOutside(
  q: Queryable,
  seen: ReadonlySet<string>,
  options: DbCallOptions = {},
): Promise<Gap[]> {
  const { rows } = await q.query<GapRow>(
    `SELECT ${COLUMNS} FROM completeness_gaps
     WHERE state <> 'filled' AND NOT (source || '|' || metric || '|' || zone = ANY($1::text[]))
     ORDER BY source, metric, zone, gap_start, id`,
    [[...seen]],
    options,
  );
  return rows.map(gapOf);
}

/** Closes a gap: `filled` or `source_has_none`. */
export async function closeGap(
  q: Queryable,
  id: number,
  state: 'filled' | 'source_has_none',
  now: number,
  options: DbCallOptions = {},
): Promise<void> {
  await q.query(
    `UPDATE completeness_gaps SET state = $2, updated_at = $3, closed_at = $3 WHERE id = $1`,
    [id, state, new Date(now)],
    options,
  );
}

/** Records a targeted request of a gap and what it came back with; the gap waits until `nextAttemptAt`. */
export async function recordAttempt(
  q: Queryable,
  gap: Gap,
  attempt: {
    readonly outcome: GapOutcome;
    readonly points: number;
    readonly message: string;
    readonly at: number;
    readonly nextAttemptAt: number;
  },
  options: DbCallOptions = {},
): Promise<void> {
  const failed = attempt.outcome === 'failed';
  await q.query(
    `UPDATE completeness_gaps SET state = $2, tries = tries + $3, failures = failures + $4, last_attempt_at = $5,
       next_attempt_at = $6, last_outcome = $7, updated_at = $5
     WHERE id = $1`,
    [
      gap.id,
      // A failed first request leaves the gap pending: nothing has been asked of the source yet.
      failed && gap.tries === 0 ? 'pending' : 'backfilling',
      failed ? 0 : 1,
      failed ? 1 : 0,
      new Date(attempt.at),
      new Date(attempt.nextAttemptAt),
      attempt.message.slice(0, 500),
    ],
    options,
  );
  await q.query(
    `INSERT INTO completeness_gap_requests (gap_id, requested_at, range_start, range_end, outcome, points)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [gap.id, new Date(attempt.at), new Date(gap.start), new Date(gap.end), attempt.outcome, attempt.points],
    options,
  );
}

/** Open gaps whose next try is due, oldest first. */
export async function dueGaps(q: Queryable, now: number, limit: number, options: DbCallOptions = {}): Promise<Gap[]> {
  if (limit <= 0) return [];
  const { rows } = await q.query<GapRow>(
    `SELECT ${COLUMNS} FROM completeness_gaps
     WHERE state IN ('pending', 'backfilling') AND next_attempt_at <= $1
     ORDER BY next_attempt_at, gap_start, id LIMIT $2`,
    [new Date(now), limit],
    options,
  );
  return rows.map(gapOf);
}

/** Targeted requests made since `since` (the hourly budget). */
export async function requestsSince(q: Queryable, since: number, options: DbCallOptions = {}): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    'SELECT count(*)::integer AS n FROM completeness_gap_requests WHERE requested_at > $1',
    [new Date(since)],
    options,
  );
  return rows[0]?.n ?? 0;
}

/**
 * Forgets what is older than `before`: gaps that ended before it (whatever their state: they are outside the
 * window looked at) and request records.
 */
export async function forgetBefore(q: Queryable, before: number, options: DbCallOptions = {}): Promise<void> {
  await q.query('DELETE FROM completeness_gaps WHERE gap_end <= $1', [new Date(before)], options);
  await q.query('DELETE FROM completeness_gap_requests WHERE requested_at <= $1', [new Date(before)], options);
}

/** What {@link listGaps} selects. */
export interface GapFilter {
  readonly zones?: readonly string[];
  readonly metrics?: readonly string[];
  /** Gaps overlapping `[from, to)`. */
  readonly from?: number;
  readonly to?: number;
  readonly states?: readonly GapState[];
  /** @default 500 */
  readonly limit?: number;
}

/** Stored gaps, newest range first. */
export async function listGaps(q: Queryable, f: GapFilter = {}, options: DbCallOptions = {}): Promise<Gap[]> {
  const { rows } = await q.query<GapRow>(
    `SELECT ${COLUMNS} FROM completeness_gaps
     WHERE ($1::text[] IS NULL OR zone = ANY($1::text[])) AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
       AND ($3::timestamptz IS NULL OR gap_end > $3) AND ($4::timestamptz IS NULL OR gap_start < $4)
       AND ($5::text[] IS NULL OR state = ANY($5::text[]))
     ORDER BY gap_start DESC, id DESC LIMIT $6`,
    [
      f.zones === undefined ? null : [...f.zones],
      f.metrics === undefined ? null : [...f.metrics],
      f.from === undefined ? null : new Date(f.from),
      f.to === undefined ? null : new Date(f.to),
      f.states === undefined ? null : [...f.states],
      f.limit ?? 500,
    ],
    options,
  );
  return rows.map(gapOf);
}

/** Gaps per state, and the targeted requests of the last hour: the connectors page's summary. */
export async function gapSummary(
  q: Queryable,
  now: number,
  options: DbCallOptions = {},
): Promise<{ readonly states: Record<GapState, number>; readonly requestsLastHour: number }> {
  const { rows } = await q.query<{ state: GapState; n: number }>(
    'SELECT state, count(*)::integer AS n FROM completeness_gaps GROUP BY state',
    [],
    options,
  );
  const states = Object.fromEntries(GAP_STATES.map((s) => [s, 0])) as Record<GapState, number>;
  for (const r of rows) states[r.state] = r.n;
  return { states, requestsLastHour: await requestsSince(q, now - 3_600_000, options) };
}
