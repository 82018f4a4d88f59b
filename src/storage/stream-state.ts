import { formatUtcText } from '../contracts/index.ts';
import type { DbCallOptions, DbTransaction, Queryable } from './db.ts';

/**
 * The event-time engine's state, per job, written in the same transaction as the job's outputs and input offsets:
 * a restart rebuilds it from here and the log. Times are UTC instants (canonical UTC text in and out).
 */

/** The greatest (clamped) event time a job has seen in one input partition. */
export interface PartitionWatermark {
  readonly topic: string;
  readonly partition: number;
  readonly maxEventTs: string;
}

/** A stored {@link PartitionWatermark} and when it last moved. */
export interface StoredPartitionWatermark extends PartitionWatermark {
  readonly updatedAt: string;
}

/** A window with input not emitted yet, or to emit again (`restate`: it was emitted before). */
export interface PendingWindow {
  /** What the window is of: `meter-day`, `group-day`… (the job decides). */
  readonly kind: string;
  /** Whose window it is: a meter and quantity, a group and quantity (the job's encoding). */
  readonly key: string;
  readonly windowStart: string;
  readonly windowEnd: string;
  readonly timeZone: string;
  readonly restate: boolean;
}

const iso = (d: Date): string => formatUtcText(d.getTime());

/**
 * Stores the partitions' greatest event times; they only move forward (a smaller one, from a rewound consumer or
 * a replay, leaves the stored one as it is).
 */
export async function saveWatermarks(
  tx: DbTransaction,
  job: string,
  rows: readonly PartitionWatermark[],
  options: DbCallOptions = {},
): Promise<void> {
  if (rows.length === 0) return;
  await tx.query(
    `INSERT INTO stream_watermarks AS w (job, topic, partition, max_event_ts)
     SELECT $1, t, p, max(e) FROM unnest($2::text[], $3::integer[], $4::timestamptz[]) AS u(t, p, e)
     GROUP BY t, p ORDER BY t, p
     ON CONFLICT (job, topic, partition) DO UPDATE SET max_event_ts = EXCLUDED.max_event_ts, updated_at = now()
     WHERE w.max_event_ts < EXCLUDED.max_event_ts`,
    [job, rows.map((r) => r.topic), rows.map((r) => r.partition), rows.map((r) => r.maxEventTs)],
    options,
  );
}

/** The job's stored partition watermarks, by topic and partition. */
export async function loadWatermarks(
  q: Queryable,
  job: string,
  options: DbCallOptions = {},
): Promise<StoredPartitionWatermark[]> {
  const { rows } = await q.query<{ topic: string; partition: number; max_event_ts: Date; updated_at: Date }>(
    `SELECT topic, partition, max_event_ts, updated_at FROM stream_watermarks WHERE job = $1 ORDER BY topic, partition`,
    [job],
    options,
  );
  return rows.map((r) => ({
    topic: r.topic,
    partition: r.partition,
    maxEventTs: iso(r.max_event_ts),
    updatedAt: iso(r.updated_at),
  }));
}

/**
 * Stores the job's combined watermark as of this batch or tick (the caller decides whether it may move back; the
 * meters role never moves it back).
 */
export async function saveJobWatermark(
  tx: DbTransaction,
  job: string,
  watermark: string | null,
  options: DbCallOptions = {},
): Promise<void> {
  await tx.query(
    `INSERT INTO stream_jobs (job, watermark) VALUES ($1, $2)
     ON CONFLICT (job) DO UPDATE SET watermark = EXCLUDED.watermark, updated_at = now()`,
    [job, watermark],
    options,
  );
}

/**
 * Locks the job's row until the caller's transaction ends and returns its watermark (`null`: none yet); creates
 * the row first when the job has none. Every transaction that moves the watermark or emits windows takes this
 * lock first: whoever holds it knows the watermark cannot pass it, and no window be emitted, before it commits.
 */
export async function lockJobWatermark(
  tx: DbTransaction,
  job: string,
  options: DbCallOptions = {},
): Promise<string | null> {
  await tx.query('INSERT INTO stream_jobs (job) VALUES ($1) ON CONFLICT (job) DO NOTHING', [job], options);
  return jobWatermark(tx, job, 'FOR UPDATE', options);
}

/** The job's stored combined watermark; `null` when it has none (or never stored one). */
export async function loadJobWatermark(q: Queryable, job: string, options: DbCallOptions = {}): Promise<string | null> {
  return jobWatermark(q, job, '', options);
}

async function jobWatermark(
  q: Queryable,
  job: string,
  lock: '' | 'FOR UPDATE',
  options: DbCallOptions,
): Promise<string | null> {
  const { rows } = await q.query<{ watermark: Date | null }>(
    `SELECT watermark FROM stream_jobs WHERE job = $1 ${lock}`,
    [job],
    options,
  );
  const w = rows[0]?.watermark;
  return w === undefined || w === null ? null : iso(w);
}

/**
 * Marks windows pending (to emit once the watermark passes their end). Marking one again keeps its `since` and
 * ORs `restate`; several marks of one window in the call are merged.
 *
 * Most marks find their window pending already (every batch of a day touches the same meter days): those without
 * `restate` are inserted with `ON CONFLICT DO NOTHING`, which neither locks nor rewrites the pending row. It is as
 * safe as an update against a concurrent emission: a conflicting row that an uncommitted emission deleted makes
 * the insert wait for it and then insert the window again. Such a mark keeps the pending row's end and time zone
 * (one meter day's start with another end or zone would take a registry change within the day).
 */
export async function markPending(
  tx: DbTransaction,
  job: string,
  windows: readonly PendingWindow[],
  options: DbCallOptions = {},
): Promise<void> {
  const plain = windows.filter((w) => !w.restate);
  const restate = windows.filter((w) => w.restate);
  if (plain.length > 0)
    await tx.query(
      `INSERT INTO stream_pending_windows (job, kind, key, window_start, window_end, time_zone)
       SELECT $1, k, key, s, e, z FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[])
         AS u(k, key, s, e, z)
       ORDER BY k, key, s
       ON CONFLICT (job, kind, key, window_start) DO NOTHING`,
      [job, ...pendingColumns(plain)],
      options,
    );
  if (restate.length > 0)
    await tx.query(
      `INSERT INTO stream_pending_windows AS p (job, kind, key, window_start, window_end, time_zone, restate)
       SELECT $1, k, key, s, max(e), max(z), true
       FROM unnest($2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[]) AS u(k, key, s, e, z)
       GROUP BY k, key, s ORDER BY k, key, s
       ON CONFLICT (job, kind, key, window_start) DO UPDATE SET
         restate = true, window_end = EXCLUDED.window_end, time_zone = EXCLUDED.time_zone
       WHERE NOT p.restate OR p.window_end <> EXCLUDED.window_end OR p.time_zone <> EXCLUDED.time_zone`,
      [job, ...pendingColumns(restate)],
      options,
    );
}

function pendingColumns(windows: readonly PendingWindow[]): [string[], string[], string[], string[], string[]] {
  return [
    windows.map((w) => w.kind),
    windows.map((w) => w.key),
    windows.map((w) => w.windowStart),
    windows.map((w) => w.windowEnd),
    windows.map((w) => w.timeZone),
  ];
}

/**
 * Takes up to `limit` due windows of the job (end at or before `watermark`), oldest end first, and deletes them in
 * the caller's transaction: emit them in the same transaction. Rows another transaction holds are skipped
 * (`FOR UPDATE SKIP LOCKED`), so two workers never emit the same window at once; a rollback puts them back.
 */
export async function takeDuePending(
  tx: DbTransaction,
  job: string,
  watermark: string,
  limit: number,
  options: DbCallOptions = {},
): Promise<PendingWindow[]> {
  const { rows } = await tx.query<{
    kind: string;
    key: string;
    window_start: Date;
    window_end: Date;
    time_zone: string;
    restate: boolean;
  }>(
    `WITH due AS (
       SELECT job, kind, key, window_start FROM stream_pending_windows
       WHERE job = $1 AND window_end <= $2
       ORDER BY window_end, kind, key, window_start
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     )
     DELETE FROM stream_pending_windows p USING due
     WHERE p.job = due.job AND p.kind = due.kind AND p.key = due.key AND p.window_start = due.window_start
     RETURNING p.kind, p.key, p.window_start, p.window_end, p.time_zone, p.restate`,
    [job, watermark, limit],
    options,
  );
  return rows
    .map((r) => ({
      kind: r.kind,
      key: r.key,
      windowStart: iso(r.window_start),
      windowEnd: iso(r.window_end),
      timeZone: r.time_zone,
      restate: r.restate,
    }))
    .sort(
      (a, b) => a.windowEnd.localeCompare(b.windowEnd) || a.kind.localeCompare(b.kind) || a.key.localeCompare(b.key),
    );
}

/** How many windows the job has pending (a gauge for the engine's backlog). */
export async function countPending(q: Queryable, job: string, options: DbCallOptions = {}): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    'SELECT count(*)::int8 AS n FROM stream_pending_windows WHERE job = $1',
    [job],
    options,
  );
  return rows[0]?.n ?? 0;
}
