import type { DbCallOptions, DbTransaction } from './db.ts';
import { StorageError } from './errors.ts';
import type { EnergyQuantity } from './meter-data.ts';

/**
 * Window results of the meter data, always recomputed from the stored intervals they cover (never added to), so
 * that emitting a window twice, or again after a correction, gives the same result as emitting it once.
 *
 * Restatement: a result that existed and changes keeps its old row as a revision (revision + 1) and is marked
 * `restated`, whatever the caller's `restate` flag says (a changed result after a first emission IS a restatement);
 * the flag also marks a first write as restated (the engine knows the window was emitted before, e.g. from another
 * worker's row that was since removed). A result equal to the stored one is a no-op.
 */

/**
 * The key of a meters-job window in stream_pending_windows: whose it is (a meter or a group) and its quantity. The
 * engine marks windows under it and the read side looks for a pending restatement of a meter's day under it.
 */
export function meterWindowKey(who: string, quantity: string): string {
  return JSON.stringify([who, quantity]);
}

/** One meter's local day to compact into a `meter_days` row. */
export interface MeterDayWindow {
  readonly meterId: string;
  readonly quantity: EnergyQuantity;
  /** The local calendar day, `YYYY-MM-DD`. */
  readonly localDay: string;
  readonly timeZone: string;
  /** The day's start and end as UTC instants (the caller's time zone arithmetic: 23, 24 or 25 hours). */
  readonly dayStart: string;
  readonly dayEnd: string;
  /** The meter's interval: the day has (dayEnd − dayStart) / intervalS slots. */
  readonly intervalS: number;
  readonly groupId: string | null;
  readonly restate: boolean;
}

/** What an emission did: rows written (new or changed), unchanged, and how many written rows are restatements. */
export interface EmitResult {
  readonly written: number;
  readonly unchanged: number;
  readonly restated: number;
}

const MAX_SLOTS = 1440;

/**
 * Writes the `meter_days` rows of the given days in one statement, and queues every day row written (new or
 * changed) for validation (meter_work, job `quality`) in the same statement: the day's slots (`generate_series` over its
 * UTC span at the meter's interval: 92, 96 or 100 quarters on DST days) joined to the stored intervals, NULL and
 * quality `missing` where none is stored; `sum` is the exact numeric sum, `count` the slots with a value,
 * `expected` the slots of the day.
 */
export async function emitMeterDays(
  tx: DbTransaction,
  days: readonly MeterDayWindow[],
  options: DbCallOptions = {},
): Promise<EmitResult> {
  const unique = [...new Map(days.map((d) => [`${d.meterId}\u0000${d.quantity}\u0000${d.localDay}`, d])).values()];
  if (unique.length === 0) return { written: 0, unchanged: 0, restated: 0 };
  for (const d of unique) {
    const span = (Date.parse(d.dayEnd) - Date.parse(d.dayStart)) / 1000;
    if (!(span > 0) || !Number.isInteger(d.intervalS) || d.intervalS <= 0 || span / d.intervalS > MAX_SLOTS)
      throw new StorageError('db.invalid_query', `day ${d.localDay} of ${d.meterId}: invalid span or interval`);
  }
  const { rows } = await tx.query<{ written: number; restated: number }>(
    `WITH d AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::timestamptz[], $6::timestamptz[],
         $7::integer[], $8::text[], $9::boolean[]) AS d(meter_id, quantity, local_day, time_zone, day_start, day_end,
         interval_s, group_id, restate)
     ), calc AS (
       SELECT d.*, a.vals, a.quality, a.sum, a.count, a.expected
       FROM d CROSS JOIN LATERAL (
         SELECT array_agg(iv.value ORDER BY g.slot) AS vals,
                array_agg(coalesce(iv.quality, 'missing') ORDER BY g.slot) AS quality,
                coalesce(sum(iv.value), 0) AS sum, count(iv.value)::integer AS count, count(*)::integer AS expected
         FROM generate_series(d.day_start, d.day_end - make_interval(secs => d.interval_s),
                              make_interval(secs => d.interval_s)) AS g(slot)
         LEFT JOIN (SELECT i.ts, i.value, i.quality FROM meter_intervals i
                    WHERE i.meter_id = d.meter_id AND i.quantity = d.quantity
                      AND i.ts >= d.day_start AND i.ts < d.day_end) iv ON iv.ts = g.slot
       ) a
     ), old AS (
       SELECT m.meter_id, m.quantity, m.local_day, m."values", m.quality, m.sum, m.count, m.revision, m.computed_at,
         (m."values" IS NOT DISTINCT FROM c.vals AND m.quality IS NOT DISTINCT FROM c.quality
           AND m.group_id IS NOT DISTINCT FROM c.group_id AND m.day_start = c.day_start AND m.day_end = c.day_end
           AND m.time_zone = c.time_zone) AS same
       FROM calc c JOIN meter_days m USING (meter_id, quantity, local_day)
       ORDER BY m.meter_id, m.quantity, m.local_day
       FOR UPDATE OF m
     ), rev AS (
       INSERT INTO meter_day_revisions (meter_id, quantity, local_day, "values", quality, sum, count, revision, computed_at)
       SELECT meter_id, quantity, local_day, "values", quality, sum, count, revision, computed_at FROM old WHERE NOT same
     ), up AS (
       INSERT INTO meter_days AS m (meter_id, quantity, local_day, time_zone, day_start, day_end, interval_s, "values",
         quality, sum, count, expected, group_id, restated)
       SELECT c.meter_id, c.quantity, c.local_day, c.time_zone, c.day_start, c.day_end, c.interval_s, c.vals,
         c.quality, c.sum, c.count, c.expected, c.group_id, c.restate OR o.meter_id IS NOT NULL
       FROM calc c LEFT JOIN old o USING (meter_id, quantity, local_day)
       WHERE o.meter_id IS NULL OR NOT o.same
       ORDER BY c.meter_id, c.quantity, c.local_day
       ON CONFLICT (meter_id, quantity, local_day) DO UPDATE SET
         time_zone = EXCLUDED.time_zone, day_start = EXCLUDED.day_start, day_end = EXCLUDED.day_end,
         interval_s = EXCLUDED.interval_s, "values" = EXCLUDED."values", quality = EXCLUDED.quality,
         sum = EXCLUDED.sum, count = EXCLUDED.count, expected = EXCLUDED.expected, group_id = EXCLUDED.group_id,
         restated = EXCLUDED.restated, revision = m.revision + 1, computed_at = now()
       RETURNING m.meter_id, m.quantity, m.local_day, m.time_zone, m.day_start, m.day_end, m.restated
     ), quality AS (
       INSERT INTO meter_work AS w (job, meter_id, quantity, local_day, time_zone, day_start, day_end)
       SELECT 'quality', meter_id, quantity, local_day, time_zone, day_start, day_end FROM up
       ORDER BY meter_id, quantity, local_day
       ON CONFLICT (job, meter_id, quantity, local_day) DO UPDATE SET due_at = least(w.due_at, now())
     )
     SELECT count(*)::integer AS written, (count(*) FILTER (WHERE restated))::integer AS restated FROM up`,
    [
      unique.map((d) => d.meterId),
      unique.map((d) => d.quantity),
      unique.map((d) => d.localDay),
      unique.map((d) => d.timeZone),
      unique.map((d) => d.dayStart),
      unique.map((d) => d.dayEnd),
      unique.map((d) => d.intervalS),
      unique.map((d) => d.groupId),
      unique.map((d) => d.restate),
    ],
    options,
  );
  const written = rows[0]?.written ?? 0;
  return { written, unchanged: unique.length - written, restated: rows[0]?.restated ?? 0 };
}

/** A group window to emit: a local day (with its quarters and hours) or a local month. */
export interface GroupWindow {
  readonly groupId: string;
  readonly quantity: EnergyQuantity;
  readonly resolution: 'P1D' | 'P1M';
  /** The window's start and end as UTC instants (local midnights of the group's time zone). */
  readonly start: string;
  readonly end: string;
  readonly timeZone: string;
  readonly restate: boolean;
}

type Resolution = 'PT15M' | 'PT1H' | 'P1D' | 'P1M';

/**
 * Writes the group aggregates of the given windows, recomputed from `meter_intervals`: for a P1D window its PT15M
 * and PT1H windows (UTC-aligned, inside the day) and the day itself; for a P1M window the month. Each window's
 * `count` is the number of stored intervals inside it (an interval counts where it lies whole), `sum` their exact
 * sum, and `min`/`max` the smallest and largest per-meter energy in the window (a meter's intervals in it summed):
 * at PT15M that is the smallest and largest interval value, at PT1H, P1D and P1M the lightest and heaviest meter of
 * the group for that hour, day or month — what settlement and load-profile checks compare (a minimum over quarter
 * values of different meters would mix them). No interval: count 0, sum 0, min and max NULL.
 */
export async function emitGroupWindows(
  tx: DbTransaction,
  windows: readonly GroupWindow[],
  options: DbCallOptions = {},
): Promise<EmitResult> {
  const rows: {
    groupId: string;
    quantity: string;
    resolution: Resolution;
    start: string;
    end: string;
    tz: string;
    restate: boolean;
  }[] = [];
  for (const w of windows) {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    if (!(end > start) || end - start > 32 * 86_400_000)
      throw new StorageError('db.invalid_query', `group window ${w.start}…${w.end} is not a day or a month`);
    const add = (resolution: Resolution, s: number, e: number) =>
      rows.push({
        groupId: w.groupId,
        quantity: w.quantity,
        resolution,
        start: new Date(s).toISOString(),
        end: new Date(e).toISOString(),
        tz: w.timeZone,
        restate: w.restate,
      });
    if (w.resolution === 'P1D') {
      for (const [resolution, step] of [
        ['PT15M', 900_000],
        ['PT1H', 3_600_000],
      ] as const) {
        // UTC-aligned windows that lie inside the local day (a day of a half-hour-offset zone has no first hour).
        for (let s = Math.ceil(start / step) * step; s + step <= end; s += step) add(resolution, s, s + step);
      }
    }
    add(w.resolution, start, end);
  }
  const unique = [
    ...new Map(rows.map((r) => [`${r.groupId}\u0000${r.quantity}\u0000${r.resolution}\u0000${r.start}`, r])).values(),
  ];
  if (unique.length === 0) return { written: 0, unchanged: 0, restated: 0 };
  const { rows: result } = await tx.query<{ written: number; restated: number }>(
    `WITH w AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::text[],
         $7::boolean[]) AS w(group_id, quantity, resolution, window_start, window_end, time_zone, restate)
     ), calc AS (
       SELECT w.*, a.count, a.sum, a.min, a.max
       FROM w CROSS JOIN LATERAL (
         SELECT coalesce(sum(pm.n), 0)::bigint AS count, coalesce(sum(pm.s), 0) AS sum, min(pm.s) AS min,
           max(pm.s) AS max
         FROM (SELECT i.meter_id, count(*) AS n, sum(i.value) AS s FROM meter_intervals i
               WHERE i.group_id = w.group_id AND i.quantity = w.quantity
                 AND i.ts >= w.window_start AND i.ts < w.window_end
                 AND i.ts + make_interval(secs => i.interval_s) <= w.window_end
               GROUP BY i.meter_id) pm
       ) a
     ), old AS (
       SELECT g.group_id, g.quantity, g.resolution, g.window_start, g.count, g.sum, g.min, g.max, g.revision,
         g.computed_at,
         (g.count = c.count AND g.sum = c.sum AND g.min IS NOT DISTINCT FROM c.min AND g.max IS NOT DISTINCT FROM c.max
           AND g.window_end = c.window_end AND g.time_zone = c.time_zone) AS same
       FROM calc c JOIN group_aggregates g USING (group_id, quantity, resolution, window_start)
       ORDER BY g.group_id, g.quantity, g.resolution, g.window_start
       FOR UPDATE OF g
     ), rev AS (
       INSERT INTO group_aggregate_revisions (group_id, quantity, resolution, window_start, count, sum, min, max,
         revision, computed_at)
       SELECT group_id, quantity, resolution, window_start, count, sum, min, max, revision, computed_at
       FROM old WHERE NOT same
     ), up AS (
       INSERT INTO group_aggregates AS g (group_id, quantity, resolution, window_start, window_end, time_zone, count,
         sum, min, max, restated)
       SELECT c.group_id, c.quantity, c.resolution, c.window_start, c.window_end, c.time_zone, c.count, c.sum, c.min,
         c.max, c.restate OR o.group_id IS NOT NULL
       FROM calc c LEFT JOIN old o USING (group_id, quantity, resolution, window_start)
       WHERE o.group_id IS NULL OR NOT o.same
       ORDER BY c.group_id, c.quantity, c.resolution, c.window_start
       ON CONFLICT (group_id, quantity, resolution, window_start) DO UPDATE SET
         window_end = EXCLUDED.window_end, time_zone = EXCLUDED.time_zone, count = EXCLUDED.count, sum = EXCLUDED.sum,
         min = EXCLUDED.min, max = EXCLUDED.max, restated = EXCLUDED.restated, revision = g.revision + 1,
         computed_at = now()
       RETURNING g.restated
     )
     SELECT count(*)::integer AS written, (count(*) FILTER (WHERE restated))::integer AS restated FROM up`,
    [
      unique.map((r) => r.groupId),
      unique.map((r) => r.quantity),
      unique.map((r) => r.resolution),
      unique.map((r) => r.start),
      unique.map((r) => r.end),
      unique.map((r) => r.tz),
      unique.map((r) => r.restate),
    ],
    options,
  );
  const written = result[0]?.written ?? 0;
  return { written, unchanged: unique.length - written, restated: result[0]?.restated ?? 0 };
}
