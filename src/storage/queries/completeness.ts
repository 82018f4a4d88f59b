import type { DbCallOptions, Queryable } from '../db.ts';
import type { Instant } from './params.ts';
import { isoRange, listOrNull, timeZone } from './params.ts';

/** Parameters of {@link completeness}. */
export interface CompletenessQuery {
  /** Zones to report; absent: every zone with data in the range. */
  readonly zones?: readonly string[];
  /** Metrics to report; absent: every metric with data in the range. */
  readonly metrics?: readonly string[];
  readonly from: Instant;
  readonly to: Instant;
  /** Calendar of the days. @default 'UTC' */
  readonly timeZone?: string;
}

/** One zone, metric and day of {@link completeness}. */
export interface CompletenessRow {
  readonly zone: string;
  readonly metric: string;
  /** Local calendar day, `YYYY-MM-DD`. */
  readonly day: string;
  /** Quarter hours of the day inside the range (96; 92 or 100 on DST days; fewer for a partial first/last day). */
  readonly expectedSlots: number;
  /** Quarter hours with at least one value. */
  readonly presentSlots: number;
  /** Series of the zone and metric in the range (production types, counterparts, qualifiers). */
  readonly series: number;
  /** expectedSlots × series. */
  readonly expectedValues: number;
  readonly presentValues: number;
}

// $1 zones, $2 metrics, $3 from, $4 to, $5 time zone. Days are generated in local time (so that DST days have
// 23 or 25 hours) and clipped to the range.
const COMPLETENESS = `
WITH d AS (
  SELECT l::date AS day,
    greatest(l AT TIME ZONE $5, $3::timestamptz) AS day_start,
    least((l + interval '1 day') AT TIME ZONE $5, $4::timestamptz) AS day_end
  FROM generate_series(date_trunc('day', $3::timestamptz, $5) AT TIME ZONE $5,
                       $4::timestamptz AT TIME ZONE $5 - interval '1 microsecond', interval '1 day') AS l
), s AS (
  SELECT zone, metric, production_type, counterpart_zone, qualifier FROM grid_series
  WHERE ($1::text[] IS NULL OR zone = ANY($1::text[])) AND ($2::text[] IS NULL OR metric = ANY($2::text[]))
    AND first_slot < $4 AND last_slot >= $3
), p AS (
  SELECT zone, metric, count(*)::integer AS series FROM s GROUP BY zone, metric
), c AS (
  SELECT s.zone, s.metric, (o.slot_start AT TIME ZONE $5)::date AS day,
    count(DISTINCT o.slot_start)::integer AS present_slots, count(*)::integer AS present_values
  FROM s JOIN LATERAL (
    SELECT o.slot_start FROM grid_observations o
    WHERE o.zone = s.zone AND o.metric = s.metric AND o.production_type = s.production_type
      AND o.counterpart_zone = s.counterpart_zone AND o.qualifier = s.qualifier
      AND o.slot_start >= $3 AND o.slot_start < $4
  ) o ON true
  GROUP BY 1, 2, 3
)
SELECT p.zone, p.metric, d.day::text AS day,
  (extract(epoch FROM d.day_end - d.day_start) / 900)::integer AS expected_slots,
  coalesce(c.present_slots, 0) AS present_slots, p.series, coalesce(c.present_values, 0) AS present_values
FROM p CROSS JOIN d LEFT JOIN c ON c.zone = p.zone AND c.metric = p.metric AND c.day = d.day
WHERE d.day_end > d.day_start
ORDER BY p.zone, p.metric, d.day`;

/**
 * Expected against present quarter hours per zone, metric and calendar day: what the completeness page and the
 * backfill checks read. Zones and metrics without any series in the range are not listed.
 */
export async function completeness(
  db: Queryable,
  q: CompletenessQuery,
  options: DbCallOptions = {},
): Promise<CompletenessRow[]> {
  const [from, to] = isoRange(q.from, q.to, 400);
  const { rows } = await db.query<{
    zone: string;
    metric: string;
    day: string;
    expected_slots: number;
    present_slots: number;
    series: number;
    present_values: number;
  }>(COMPLETENESS, [listOrNull(q.zones), listOrNull(q.metrics), from, to, timeZone(q.timeZone)], options);
  return rows.map((r) => ({
    zone: r.zone,
    metric: r.metric,
    day: r.day,
    expectedSlots: r.expected_slots,
    presentSlots: r.present_slots,
    series: r.series,
    expectedValues: r.expected_slots * r.series,
    presentValues: r.present_values,
  }));
}
