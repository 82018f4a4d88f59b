import type { DbCallOptions, DbTransaction, Queryable } from './db.ts';

/**
 * The queue of meter days the `quality` and `settle` roles (re)compute (table meter_work). Items are queued in the
 * transaction of whatever made them necessary (a day row written, a day validated, an edit, a price that arrived)
 * and taken, recomputed and deleted in the worker's transaction: at least once, and a repetition is a no-op because
 * every result is recomputed from stored inputs.
 */
export const METER_WORK_JOBS = ['quality', 'settle'] as const;
export type MeterWorkJob = (typeof METER_WORK_JOBS)[number];

/** One meter's local day to (re)compute. */
export interface MeterWorkItem {
  readonly meterId: string;
  readonly quantity: 'energy_import' | 'energy_export';
  /** `YYYY-MM-DD` */
  readonly localDay: string;
  readonly timeZone: string;
  readonly dayStart: string;
  readonly dayEnd: string;
  /** When the item was first queued (taken items only). */
  readonly since?: string;
}

/** Queues days for a job; a day already queued is due at the earlier of both times and keeps its `since`. */
export async function enqueueMeterWork(
  q: Queryable,
  job: MeterWorkJob,
  items: readonly MeterWorkItem[],
  options: DbCallOptions = {},
): Promise<void> {
  if (items.length === 0) return;
  await q.query(
    `INSERT INTO meter_work (job, meter_id, quantity, local_day, time_zone, day_start, day_end)
     SELECT $1, * FROM unnest($2::text[], $3::text[], $4::date[], $5::text[], $6::timestamptz[], $7::timestamptz[])
     ORDER BY 1, 2, 3
     ON CONFLICT (job, meter_id, quantity, local_day) DO UPDATE SET due_at = least(meter_work.due_at, now())`,
    [
      job,
      items.map((i) => i.meterId),
      items.map((i) => i.quantity),
      items.map((i) => i.localDay),
      items.map((i) => i.timeZone),
      items.map((i) => i.dayStart),
      items.map((i) => i.dayEnd),
    ],
    options,
  );
}

/**
 * Takes (locks) at most `limit` due items of a job, oldest due first, skipping items another worker holds. The
 * caller deletes them ({@link finishMeterWork}) or defers them ({@link deferMeterWork}) in the same transaction.
 */
export async function takeMeterWork(
  tx: DbTransaction,
  job: MeterWorkJob,
  limit: number,
  options: DbCallOptions = {},
): Promise<MeterWorkItem[]> {
  const { rows } = await tx.query<{
    meter_id: string;
    quantity: 'energy_import' | 'energy_export';
    local_day: string;
    time_zone: string;
    day_start: Date;
    day_end: Date;
    since: Date;
  }>(
    `SELECT meter_id, quantity, to_char(local_day, 'YYYY-MM-DD') AS local_day, time_zone, day_start, day_end, since
     FROM meter_work WHERE job = $1 AND due_at <= now()
     ORDER BY due_at LIMIT $2
     FOR UPDATE SKIP LOCKED`,
    [job, limit],
    options,
  );
  return rows.map((r) => ({
    meterId: r.meter_id,
    quantity: r.quantity,
    localDay: r.local_day,
    timeZone: r.time_zone,
    dayStart: new Date(r.day_start).toISOString(),
    dayEnd: new Date(r.day_end).toISOString(),
    since: new Date(r.since).toISOString(),
  }));
}

const keyArrays = (items: readonly MeterWorkItem[]): unknown[] => [
  items.map((i) => i.meterId),
  items.map((i) => i.quantity),
  items.map((i) => i.localDay),
];

/** Deletes taken items: their results are written in this transaction. */
export async function finishMeterWork(
  tx: DbTransaction,
  job: MeterWorkJob,
  items: readonly MeterWorkItem[],
  options: DbCallOptions = {},
): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `DELETE FROM meter_work w USING unnest($2::text[], $3::text[], $4::date[]) AS k(meter_id, quantity, local_day)
     WHERE w.job = $1 AND w.meter_id = k.meter_id AND w.quantity = k.quantity AND w.local_day = k.local_day`,
    [job, ...keyArrays(items)],
    options,
  );
}

/** Leaves taken items queued, due again at `dueAt`. */
export async function deferMeterWork(
  tx: DbTransaction,
  job: MeterWorkJob,
  items: readonly MeterWorkItem[],
  dueAt: string,
  options: DbCallOptions = {},
): Promise<void> {
  if (items.length === 0) return;
  await tx.query(
    `UPDATE meter_work w SET due_at = $5
     FROM unnest($2::text[], $3::text[], $4::date[]) AS k(meter_id, quantity, local_day)
     WHERE w.job = $1 AND w.meter_id = k.meter_id AND w.quantity = k.quantity AND w.local_day = k.local_day`,
    [job, ...keyArrays(items), dueAt],
    options,
  );
}

/** Items queued per job (metrics, tests: a pipeline is done when nothing is queued). */
export async function countMeterWork(q: Queryable, options: DbCallOptions = {}): Promise<Record<MeterWorkJob, number>> {
  const { rows } = await q.query<{ job: MeterWorkJob; n: number }>(
    `SELECT job, count(*)::integer AS n FROM meter_work GROUP BY job`,
    [],
    options,
  );
  const out: Record<MeterWorkJob, number> = { quality: 0, settle: 0 };
  for (const r of rows) out[r.job] = r.n;
  return out;
}

/**
 * Queues for validation the local days of the last `days` days that the watermark has passed and for which a
 * meter sent nothing at all (no day row, nothing validated), provided it sent something on an earlier day: a
 * meter gone silent gets estimated days rather than none. Import and net registers, quantity energy_import.
 * Returns how many days it queued.
 */
export async function queueSilentDays(
  q: Queryable,
  watermark: string,
  days: number,
  options: DbCallOptions = {},
): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `WITH d AS (
       SELECT m.meter_id, m.time_zone, ld::date AS local_day,
         ld::timestamp AT TIME ZONE m.time_zone AS day_start,
         (ld + interval '1 day')::timestamp AT TIME ZONE m.time_zone AS day_end
       FROM meters m
       CROSS JOIN LATERAL generate_series(($1::timestamptz AT TIME ZONE m.time_zone)::date - $2::integer,
         ($1::timestamptz AT TIME ZONE m.time_zone)::date - 1, interval '1 day') AS ld
       WHERE m.register_type IN ('import', 'net')
     ), silent AS (
       SELECT d.* FROM d
       JOIN meters m ON m.meter_id = d.meter_id AND (m.valid_from IS NULL OR m.valid_from <= d.day_start)
         AND (m.valid_to IS NULL OR m.valid_to >= d.day_end)
       WHERE d.day_end <= $1::timestamptz
         AND NOT EXISTS (SELECT 1 FROM meter_days x WHERE x.meter_id = d.meter_id AND x.quantity = 'energy_import'
                         AND x.local_day = d.local_day)
         AND NOT EXISTS (SELECT 1 FROM meter_validated v WHERE v.meter_id = d.meter_id
                         AND v.quantity = 'energy_import' AND v.ts >= d.day_start AND v.ts < d.day_end)
         AND EXISTS (SELECT 1 FROM meter_days x WHERE x.meter_id = d.meter_id AND x.quantity = 'energy_import'
                     AND x.local_day < d.local_day)
     ), queued AS (
       INSERT INTO meter_work (job, meter_id, quantity, local_day, time_zone, day_start, day_end)
       SELECT DISTINCT 'quality', meter_id, 'energy_import', local_day, time_zone, day_start, day_end FROM silent
       ON CONFLICT (job, meter_id, quantity, local_day) DO NOTHING
       RETURNING 1
     )
     SELECT count(*)::integer AS n FROM queued`,
    [watermark, days],
    options,
  );
  return rows[0]?.n ?? 0;
}
