import type { DbCallOptions, Queryable } from '../db.ts';

/** One stored value of a zone's plain series (no counterpart, no qualifier), epoch milliseconds. */
export interface StoredValue {
  readonly metric: string;
  readonly productionType: string;
  readonly slot: number;
  readonly value: number;
  /** When the source issued the value (the document's `createdDateTime`), `null` when unknown. */
  readonly issuedAt: number | null;
}

/** The metrics a production-based carbon-intensity forecast reads. */
export const FORECAST_INPUT_METRICS = {
  actual: 'generation_actual',
  windSolarIntraday: 'wind_solar_forecast_intraday',
  windSolarDayAhead: 'wind_solar_forecast_day_ahead',
  loadDayAhead: 'load_forecast_day_ahead',
} as const;

// One metric of one zone over a slot range: an index range scan of the primary key per production type.
const VALUES = `
SELECT production_type, (extract(epoch FROM slot_start) * 1000)::float8 AS slot, value,
  (extract(epoch FROM issued_at) * 1000)::float8 AS issued
FROM grid_observations
WHERE zone = $1 AND metric = $2 AND counterpart_zone = '' AND qualifier = '' AND slot_start >= $3 AND slot_start < $4
ORDER BY production_type, slot_start`;

/**
 * The stored values of `metrics` for one zone, slots in `[from, to)` (plain series only: no counterpart, no
 * qualifier), in metric, production type and slot order.
 */
export async function zoneValues(
  db: Queryable,
  query: { readonly zone: string; readonly metrics: readonly string[]; readonly from: number; readonly to: number },
  options: DbCallOptions = {},
): Promise<StoredValue[]> {
  const out: StoredValue[] = [];
  if (query.to <= query.from) return out;
  const from = new Date(query.from).toISOString();
  const to = new Date(query.to).toISOString();
  for (const metric of query.metrics) {
    const { rows } = await db.query<{ production_type: string; slot: number; value: number; issued: number | null }>(
      VALUES,
      [query.zone, metric, from, to],
      options,
    );
    for (const r of rows) {
      out.push({
        metric,
        productionType: r.production_type,
        slot: r.slot,
        value: r.value,
        issuedAt: r.issued,
      });
    }
  }
  return out;
}

/**
 * The stored production-based carbon intensity of a zone (gridstream's computation, lifecycle factors: what
 * `GET /api/v1/carbon-intensity` answers by default) for slots in `[from, to)`: slot start → gCO2eq/kWh.
 */
export async function storedProductionIntensity(
  db: Queryable,
  query: { readonly zone: string; readonly from: number; readonly to: number },
  options: DbCallOptions = {},
): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  if (query.to <= query.from) return out;
  const { rows } = await db.query<{ slot: number; value: number }>(
    `SELECT (extract(epoch FROM slot_start) * 1000)::float8 AS slot, value FROM grid_observations
     WHERE zone = $1 AND metric = 'carbon_intensity_production' AND production_type = '' AND counterpart_zone = ''
       AND qualifier = 'factors=lifecycle' AND slot_start >= $2 AND slot_start < $3 ORDER BY slot_start`,
    [query.zone, new Date(query.from).toISOString(), new Date(query.to).toISOString()],
    options,
  );
  for (const r of rows) out.set(r.slot, r.value);
  return out;
}

// The data clock of the offline replay: the newest stored slot of actual generation, the zones with actual
// generation in the 24 hours before it, and for each of them the newest slot all its active production types
// have reached (a type whose last slot is more than a day older than the zone's newest has stopped reporting
// and is not waited for). The clock's slot is the earliest of those: every such zone is complete up to it.
const LATEST_COMPLETE = `
WITH g AS (
  SELECT zone, last_slot FROM grid_series
  WHERE metric = 'generation_actual' AND production_type <> '' AND counterpart_zone = '' AND qualifier = ''
), zones AS (
  SELECT zone, max(last_slot) AS newest FROM g GROUP BY zone
  HAVING max(last_slot) > (SELECT max(last_slot) FROM g) - interval '1 day'
), complete AS (
  SELECT g.zone, min(g.last_slot) AS slot FROM g JOIN zones z USING (zone)
  WHERE g.last_slot >= z.newest - interval '1 day' GROUP BY g.zone
)
SELECT (extract(epoch FROM min(slot)) * 1000)::float8 AS slot, count(*)::integer AS zones FROM complete`;

/**
 * The newest complete slot of actual generation (see the SQL above for "complete"): its start (epoch ms) and the
 * zones it was judged on; `null` when nothing is stored.
 */
export async function latestCompleteGenerationSlot(
  db: Queryable,
  options: DbCallOptions = {},
): Promise<{ readonly slot: number; readonly zones: number } | null> {
  const { rows } = await db.query<{ slot: number | null; zones: number }>(LATEST_COMPLETE, [], options);
  const row = rows[0];
  if (row === undefined || row.slot === null) return null;
  return { slot: row.slot, zones: row.zones };
}
