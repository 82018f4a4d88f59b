import type { Db, DbCallOptions } from './db.ts';

/** Which rollup table serves a resolution. */
export const ROLLUP_TABLES = { PT1H: 'grid_rollup_hourly', P1D: 'grid_rollup_daily' } as const;

export interface RefreshResult {
  /** Series whose rollups were recomputed. */
  readonly series: number;
  /** Rollup rows written (hourly + daily). */
  readonly buckets: number;
  /** Series still dirty after this pass (written to meanwhile, or beyond `limit`). */
  readonly remaining: boolean;
}

interface DirtySeries {
  zone: string;
  metric: string;
  production_type: string;
  counterpart_zone: string;
  qualifier: string;
  dirty_from: Date;
  dirty_to: Date;
  /** `updated_at` as exact text: a JS Date would drop its microseconds and never compare equal. */
  version: string;
}

const KEY = 'zone = $1 AND metric = $2 AND production_type = $3 AND counterpart_zone = $4 AND qualifier = $5';

// Flags of the bucket: the distinct union of its rows' flags (rows without flags add nothing).
const FLAGS = `(SELECT array_agg(DISTINCT x ORDER BY x)
   FROM unnest(string_to_array(string_agg(array_to_string(flags, ','), ','), ',')) AS x WHERE x <> '')`;

// $6 first bucket (inclusive), $7 last bucket end (exclusive). Recomputed from the base rows of those buckets.
const DELETE_HOURLY = `DELETE FROM grid_rollup_hourly WHERE ${KEY} AND bucket >= $6 AND bucket < $7`;
const INSERT_HOURLY = `
INSERT INTO grid_rollup_hourly (zone, metric, production_type, counterpart_zone, qualifier, bucket, unit, value_sum, slots, flags)
SELECT $1, $2, $3, $4, $5, date_trunc('hour', slot_start, 'UTC'), max(unit), sum(value), count(*)::integer, ${FLAGS}
FROM grid_observations WHERE ${KEY} AND slot_start >= $6 AND slot_start < $7
GROUP BY 6`;

// $8 the zone's time zone. Local days: a DST day holds 92 or 100 slots.
const DELETE_DAILY = `DELETE FROM grid_rollup_daily WHERE ${KEY} AND bucket >= $6 AND bucket < $7`;
const INSERT_DAILY = `
INSERT INTO grid_rollup_daily (zone, metric, production_type, counterpart_zone, qualifier, bucket, time_zone, expected_slots, unit, value_sum, slots, flags)
SELECT $1, $2, $3, $4, $5, d.day, $8,
  (extract(epoch FROM ((d.day AT TIME ZONE $8 + interval '1 day') AT TIME ZONE $8) - d.day) / 900)::integer,
  d.unit, d.value_sum, d.slots, d.flags
FROM (
  SELECT date_trunc('day', slot_start, $8) AS day, max(unit) AS unit, sum(value) AS value_sum, count(*)::integer AS slots, ${FLAGS} AS flags
  FROM grid_observations WHERE ${KEY} AND slot_start >= $6 AND slot_start < $7
  GROUP BY 1
) d`;

/**
 * Recomputes the hourly and daily rollups of series with a dirty range (set by the writer), oldest changes first,
 * at most `limit` series per call, each in its own transaction. The dirty range is cleared only if the series did
 * not change meanwhile (compare-and-set on `updated_at`), so a concurrent write is never lost: the series stays
 * dirty and is recomputed on the next pass.
 */
export async function refreshRollups(
  db: Db,
  timeZoneOf: (zone: string) => string,
  options: DbCallOptions & { readonly limit?: number } = {},
): Promise<RefreshResult> {
  const limit = options.limit ?? 50;
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const { rows } = await db.query<DirtySeries>(
    `SELECT zone, metric, production_type, counterpart_zone, qualifier, dirty_from, dirty_to, updated_at::text AS version
     FROM grid_series WHERE dirty_from IS NOT NULL ORDER BY updated_at LIMIT $1`,
    [limit + 1],
    o,
  );
  let buckets = 0;
  let still = rows.length > limit;
  for (const s of rows.slice(0, limit)) {
    const key = [s.zone, s.metric, s.production_type, s.counterpart_zone, s.qualifier];
    const tz = timeZoneOf(s.zone);
    const cleared = await db.transaction(async (tx) => {
      const hourRange = [...key, hourStart(s.dirty_from), hourStart(new Date(s.dirty_to.getTime() + 3_600_000))];
      await tx.query(DELETE_HOURLY, hourRange, o);
      const hours = await tx.query(INSERT_HOURLY, hourRange, o);
      const { rows: days } = await tx.query<{ from: Date; to: Date }>(
        `SELECT date_trunc('day', $1::timestamptz, $3) AS from,
                (date_trunc('day', $2::timestamptz, $3) AT TIME ZONE $3 + interval '1 day') AT TIME ZONE $3 AS to`,
        [s.dirty_from, s.dirty_to, tz],
        o,
      );
      const range = days[0];
      let daily = { rowCount: 0 };
      if (range !== undefined) {
        await tx.query(DELETE_DAILY, [...key, range.from, range.to], o);
        daily = await tx.query(INSERT_DAILY, [...key, range.from, range.to, tz], o);
      }
      buckets += hours.rowCount + daily.rowCount;
      const done = await tx.query(
        `UPDATE grid_series SET dirty_from = NULL, dirty_to = NULL WHERE ${KEY} AND updated_at::text = $6`,
        [...key, s.version],
        o,
      );
      return done.rowCount > 0;
    }, o);
    if (!cleared) still = true;
  }
  return { series: Math.min(rows.length, limit), buckets, remaining: still };
}

function hourStart(d: Date): string {
  const t = Math.floor(d.getTime() / 3_600_000) * 3_600_000;
  return new Date(t).toISOString();
}
