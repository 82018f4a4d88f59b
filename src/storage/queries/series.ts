import type { DbCallOptions, Queryable } from '../db.ts';
import { startOfLocalDay } from '../../time/index.ts';
import { StorageError } from '../errors.ts';
import type { Instant, Resolution } from './params.ts';
import {
  BUCKET_VALUE_SQL,
  EXTENSIVE_UNITS,
  RESOLUTIONS,
  aggregationOf,
  isoInstant,
  isoRange,
  timeZone,
} from './params.ts';

/** Parameters of {@link querySeries}. */
export interface SeriesQuery {
  readonly zone: string;
  readonly metric: string;
  /** Production types to return (`['B16', 'B19']`); absent or empty: every series of the metric. */
  readonly productionTypes?: readonly string[];
  /** Only the series towards this zone (flows, exchanges); absent: all. */
  readonly counterpartZone?: string;
  /** Only series with this qualifier (`sequence=1`); absent: all. */
  readonly qualifier?: string;
  /** Range of slot starts, [from, to). */
  readonly from: Instant;
  readonly to: Instant;
  /** @default 'PT15M' */
  readonly resolution?: Resolution;
  /** IANA zone whose calendar days P1D buckets follow. @default 'UTC' */
  readonly timeZone?: string;
  /** Return the values as known at this moment (before later corrections), from the revision history. */
  readonly asOf?: Instant;
}

/** One bucket of a series. */
export interface SeriesPoint {
  /** Bucket start, UTC. */
  readonly ts: string;
  /** Average (intensive units) or sum (extensive: MWh) of the bucket's slots. */
  readonly value: number;
  /** Slots with a value in the bucket. */
  readonly slots: number;
  /** Slots the bucket has (4 per hour; 92, 96 or 100 per day across DST changes). */
  readonly expectedSlots: number;
  /** Quality flags of any slot of the bucket. */
  readonly flags: readonly string[];
}

/** One series (production type, counterpart, qualifier, unit) of a {@link querySeries} answer. */
export interface SeriesData {
  readonly productionType: string;
  readonly counterpartZone: string;
  readonly qualifier: string;
  readonly unit: string;
  readonly aggregation: 'sum' | 'avg';
  readonly points: SeriesPoint[];
}

// Params: $1 zone, $2 metric, $3 production types, $4 counterpart, $5 qualifier, $6 from, $7 to, $8 as-of, $9 tz.
// The series come from grid_series, then each is read by its full key prefix and slot range (an index range scan
// per series). As of a moment: rows first seen after it are left out, and a row changed after it takes the old
// value of its first revision after it.
const SOURCE = `
WITH s AS (
  SELECT zone, metric, production_type, counterpart_zone, qualifier FROM grid_series
  WHERE zone = $1 AND metric = $2 AND ($3::text[] IS NULL OR production_type = ANY($3::text[]))
    AND ($4::text IS NULL OR counterpart_zone = $4) AND ($5::text IS NULL OR qualifier = $5)
    AND first_slot < $7 AND last_slot >= $6 AND $9::text IS NOT NULL
), cur AS (
  SELECT o.production_type, o.counterpart_zone, o.qualifier, o.slot_start, o.value, o.unit, o.flags
  FROM s JOIN LATERAL (
    SELECT * FROM grid_observations o
    WHERE o.zone = s.zone AND o.metric = s.metric AND o.production_type = s.production_type
      AND o.counterpart_zone = s.counterpart_zone AND o.qualifier = s.qualifier
      AND o.slot_start >= $6 AND o.slot_start < $7 AND ($8::timestamptz IS NULL OR o.first_seen <= $8)
  ) o ON true
), rev AS (
  SELECT DISTINCT ON (v.production_type, v.counterpart_zone, v.qualifier, v.slot_start)
    v.production_type, v.counterpart_zone, v.qualifier, v.slot_start, v.old_value, v.old_unit, v.old_flags
  FROM s JOIN grid_observation_revisions v
    ON v.zone = s.zone AND v.metric = s.metric AND v.production_type = s.production_type
    AND v.counterpart_zone = s.counterpart_zone AND v.qualifier = s.qualifier
  WHERE $8::timestamptz IS NOT NULL AND v.slot_start >= $6 AND v.slot_start < $7 AND v.changed_at > $8
  ORDER BY v.production_type, v.counterpart_zone, v.qualifier, v.slot_start, v.changed_at
), o AS (
  SELECT c.production_type, c.counterpart_zone, c.qualifier, c.slot_start,
    CASE WHEN r.slot_start IS NULL THEN c.value ELSE r.old_value END AS value,
    CASE WHEN r.slot_start IS NULL THEN c.unit ELSE r.old_unit END AS unit,
    CASE WHEN r.slot_start IS NULL THEN c.flags ELSE r.old_flags END AS flags
  FROM cur c LEFT JOIN rev r USING (production_type, counterpart_zone, qualifier, slot_start)
)`;

const BUCKET: Record<Resolution, string> = {
  PT15M: 'o.slot_start',
  PT1H: `date_trunc('hour', o.slot_start, 'UTC')`,
  P1D: `date_trunc('day', o.slot_start, $9)`,
};

const EXPECTED: Record<Resolution, string> = {
  PT15M: '1',
  PT1H: '4',
  // Local days last 23, 24 or 25 hours.
  P1D: `(extract(epoch FROM (((b.bucket AT TIME ZONE $9) + interval '1 day') AT TIME ZONE $9) - b.bucket) / 900)::integer`,
};

// Both paths answer one row per series, its buckets as comma-separated text in bucket order (epoch seconds,
// values, slot counts, expected slots, and flags joined by ';' within a bucket), like the sink's stored-value read:
// a year of daily values of 12 series is 12 rows to receive instead of 4 380, each without a timestamp to parse.
// float8 text output is the shortest text that reads back as the same double, so `Number()` recovers it exactly.
const PER_SERIES = `
SELECT b.production_type, b.counterpart_zone, b.qualifier, b.unit,
  string_agg(extract(epoch FROM b.bucket)::bigint::text, ',' ORDER BY b.bucket) AS buckets,
  string_agg(b.value::text, ',' ORDER BY b.bucket) AS vals,
  string_agg(b.slots::text, ',' ORDER BY b.bucket) AS slots,
  string_agg(b.expected::text, ',' ORDER BY b.bucket) AS expected,
  string_agg(coalesce(b.flags, ''), ',' ORDER BY b.bucket) AS flags
FROM per_bucket b GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4`;

function seriesSql(resolution: Resolution): string {
  return `${SOURCE}, per_bucket AS (
  SELECT b.*, ${EXPECTED[resolution]} AS expected FROM (
    SELECT o.production_type, o.counterpart_zone, o.qualifier, o.unit, ${BUCKET[resolution]} AS bucket,
      ${BUCKET_VALUE_SQL} AS value, count(*)::integer AS slots,
      string_agg(array_to_string(o.flags, ';'), ';') AS flags
    FROM o GROUP BY 1, 2, 3, 4, 5
  ) b
)${PER_SERIES}`;
}

// The same buckets from the rollups: one row per bucket already, so a year of daily values is a few hundred rows
// per series. $6/$7 are bucket-aligned; $9 the time zone the daily rollup was computed in.
function rollupSql(resolution: 'PT1H' | 'P1D'): string {
  const table = resolution === 'PT1H' ? 'grid_rollup_hourly' : 'grid_rollup_daily';
  return `
WITH s AS (
  SELECT zone, metric, production_type, counterpart_zone, qualifier FROM grid_series
  WHERE zone = $1 AND metric = $2 AND ($3::text[] IS NULL OR production_type = ANY($3::text[]))
    AND ($4::text IS NULL OR counterpart_zone = $4) AND ($5::text IS NULL OR qualifier = $5)
    AND first_slot < $7 AND last_slot >= $6 AND $8::timestamptz IS NULL
), per_bucket AS (
  SELECT s.production_type, s.counterpart_zone, s.qualifier, r.unit, r.bucket,
    CASE WHEN r.unit IN (${EXTENSIVE_UNITS.map((u) => `'${u}'`).join(', ')}) THEN r.value_sum ELSE r.value_sum / r.slots END AS value,
    r.slots, array_to_string(r.flags, ';') AS flags, ${resolution === 'PT1H' ? '4' : 'r.expected_slots'} AS expected
  FROM s JOIN LATERAL (
    SELECT * FROM ${table} r
    WHERE r.zone = s.zone AND r.metric = s.metric AND r.production_type = s.production_type
      AND r.counterpart_zone = s.counterpart_zone AND r.qualifier = s.qualifier
      AND r.bucket >= $6 AND r.bucket < $7${resolution === 'P1D' ? ' AND r.time_zone = $9' : ' AND $9::text IS NOT NULL'}
  ) r ON true
)${PER_SERIES}`;
}

// Whether any series of the query has a dirty range (values changed since its rollups were computed) in the range.
const DIRTY = `
SELECT count(*)::integer AS n FROM grid_series
WHERE zone = $1 AND metric = $2 AND ($3::text[] IS NULL OR production_type = ANY($3::text[]))
  AND ($4::text IS NULL OR counterpart_zone = $4) AND ($5::text IS NULL OR qualifier = $5)
  AND dirty_from IS NOT NULL AND dirty_from < $7 AND dirty_to >= $6`;

interface Row {
  production_type: string;
  counterpart_zone: string;
  qualifier: string;
  unit: string;
  buckets: string;
  vals: string;
  slots: string;
  expected: string;
  flags: string;
}

/**
 * One zone and metric over a range, per series (production type, counterpart, qualifier), at 15 minutes, hourly
 * or daily: averages for intensive units, sums for extensive ones, with how many slots each bucket holds.
 *
 * @example
 * await querySeries(db, { zone: 'FI', metric: 'generation_actual', productionTypes: ['B16'],
 *   from: '2025-10-21T00:00:00Z', to: '2025-10-22T00:00:00Z', resolution: 'PT1H' });
 */
export async function querySeries(db: Queryable, q: SeriesQuery, options: DbCallOptions = {}): Promise<SeriesData[]> {
  const resolution = q.resolution ?? 'PT15M';
  if (!RESOLUTIONS.includes(resolution)) {
    throw new StorageError('db.invalid_query', `resolution must be one of ${RESOLUTIONS.join(', ')}`, {
      retryable: false,
    });
  }
  const [from, to] = isoRange(q.from, q.to);
  const params = [
    q.zone,
    q.metric,
    q.productionTypes === undefined || q.productionTypes.length === 0 ? null : [...q.productionTypes],
    q.counterpartZone ?? null,
    q.qualifier ?? null,
    from,
    to,
    q.asOf === undefined ? null : isoInstant(q.asOf, 'asOf'),
    timeZone(q.timeZone),
  ];
  const useRollup =
    resolution !== 'PT15M' && q.asOf === undefined && (await rollupServes(db, resolution, params, options));
  const { rows } = await db.query<Row>(useRollup ? rollupSql(resolution) : seriesSql(resolution), params, options);
  return rows.map((r) => {
    const buckets = r.buckets.split(',');
    const values = r.vals.split(',');
    const slots = r.slots.split(',');
    const expected = r.expected.split(',');
    const flags = r.flags.split(',');
    return {
      productionType: r.production_type,
      counterpartZone: r.counterpart_zone,
      qualifier: r.qualifier,
      unit: r.unit,
      aggregation: aggregationOf(r.unit),
      points: buckets.map((bucket, i) => {
        const f = flags[i];
        return {
          ts: new Date(Number(bucket) * 1000).toISOString().replace('.000Z', 'Z'),
          value: Number(values[i]),
          slots: Number(slots[i]),
          expectedSlots: Number(expected[i]),
          flags: f === undefined || f === '' ? [] : [...new Set(f.split(';'))].filter((x) => x !== '').sort(),
        };
      }),
    };
  });
}

/**
 * The rollups answer a downsampled query when its range starts and ends on bucket boundaries (whole UTC hours, or
 * local midnights of the requested time zone) and no series of the query changed since its rollups were computed
 * within the range; otherwise the base table answers (never stale, only slower).
 */
async function rollupServes(
  db: Queryable,
  resolution: Resolution,
  params: unknown[],
  options: DbCallOptions,
): Promise<boolean> {
  const from = Date.parse(String(params[5]));
  const to = Date.parse(String(params[6]));
  const tz = String(params[8]);
  const aligned =
    resolution === 'PT1H'
      ? from % 3_600_000 === 0 && to % 3_600_000 === 0
      : startOfLocalDay(from, tz) === from && startOfLocalDay(to, tz) === to;
  if (!aligned) return false;
  const { rows } = await db.query<{ n: number }>(DIRTY, params.slice(0, 7), options);
  return (rows[0]?.n ?? 1) === 0;
}
