import type { DbCallOptions, Queryable } from '../db.ts';
import { listOrNull, utc } from './params.ts';

/** One zone of {@link latestSlots}. */
export interface LatestSlot {
  readonly zone: string;
  /** Start of the newest slot stored for the zone (among the metrics asked for). */
  readonly slot: string;
}

/**
 * The newest slot per zone, for some metrics (e.g. `['generation_actual']`; forecasts reach into the future, so
 * leave them out for "how fresh is the data") and optionally some zones. Read from `grid_series`: one row per
 * series, so the answer does not depend on the size of the observation table.
 */
export async function latestSlots(
  db: Queryable,
  filter: {
    readonly metrics?: readonly string[];
    readonly zones?: readonly string[];
    /** Only series with one of these qualifiers (`factors=lifecycle`); absent: all. */
    readonly qualifiers?: readonly string[];
  } = {},
  options: DbCallOptions = {},
): Promise<LatestSlot[]> {
  const { rows } = await db.query<{ zone: string; slot: Date }>(
    `SELECT zone, max(last_slot) AS slot FROM grid_series
     WHERE ($1::text[] IS NULL OR metric = ANY($1::text[])) AND ($2::text[] IS NULL OR zone = ANY($2::text[]))
       AND ($3::text[] IS NULL OR qualifier = ANY($3::text[]))
     GROUP BY zone ORDER BY zone`,
    [listOrNull(filter.metrics), listOrNull(filter.zones), listOrNull(filter.qualifiers)],
    options,
  );
  return rows.map((r) => ({ zone: r.zone, slot: utc(r.slot) }));
}

/** One zone of {@link zoneCoverage}. */
export interface ZoneCoverage {
  readonly zone: string;
  readonly firstSlot: string;
  readonly lastSlot: string;
  readonly metrics: readonly string[];
}

/** Every zone with data: its first and last slot and its metrics (the API's zone list). */
export async function zoneCoverage(db: Queryable, options: DbCallOptions = {}): Promise<ZoneCoverage[]> {
  const { rows } = await db.query<{ zone: string; first_slot: Date; last_slot: Date; metrics: string[] }>(
    `SELECT zone, min(first_slot) AS first_slot, max(last_slot) AS last_slot,
       array_agg(DISTINCT metric ORDER BY metric) AS metrics
     FROM grid_series GROUP BY zone ORDER BY zone`,
    [],
    options,
  );
  return rows.map((r) => ({
    zone: r.zone,
    firstSlot: utc(r.first_slot),
    lastSlot: utc(r.last_slot),
    metrics: r.metrics,
  }));
}
