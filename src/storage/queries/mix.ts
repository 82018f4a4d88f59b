import type { DbCallOptions, Queryable } from '../db.ts';
import type { Instant } from './params.ts';
import { isoInstant, utc } from './params.ts';

/** One production type of a {@link GenerationMix}. */
export interface MixEntry {
  readonly productionType: string;
  readonly value: number;
  /** value ÷ total generation of the slot (negative values count as 0), 0…1. */
  readonly share: number;
}

/** The generation of a zone at one slot, by production type. */
export interface GenerationMix {
  readonly zone: string;
  readonly slot: string;
  readonly unit: string;
  /** Sum of the positive values. */
  readonly total: number;
  /** Production types with a value at the slot, largest first. */
  readonly entries: readonly MixEntry[];
  /** Production types the zone reports that have no value at this slot (not yet published). */
  readonly missing: readonly string[];
}

// The zone's generation series (production type set, no counterpart or qualifier) and, for each, the row of the
// slot: one index lookup per type.
const MIX = `
SELECT s.production_type, o.value, o.unit
FROM grid_series s
LEFT JOIN grid_observations o
  ON o.zone = s.zone AND o.metric = s.metric AND o.production_type = s.production_type
  AND o.counterpart_zone = s.counterpart_zone AND o.qualifier = s.qualifier AND o.slot_start = $2
WHERE s.zone = $1 AND s.metric = 'generation_actual' AND s.production_type <> ''
  AND s.counterpart_zone = '' AND s.qualifier = '' AND s.first_slot <= $2
ORDER BY s.production_type`;

// The latest slot every active generation series of the zone has reached: the smallest last slot among the series
// whose last slot is within a day of the newest (a type that stopped reporting long ago is not waited for).
const LATEST_COMPLETE = `
WITH s AS (
  SELECT last_slot FROM grid_series
  WHERE zone = $1 AND metric = 'generation_actual' AND production_type <> '' AND counterpart_zone = '' AND qualifier = ''
)
SELECT min(last_slot) AS slot FROM s WHERE last_slot >= (SELECT max(last_slot) FROM s) - interval '1 day'`;

/**
 * The generation mix of a zone at a slot (default: the latest slot all its active production types have
 * reached), with each type's share of the total. `null` when the zone has no generation data.
 */
export async function generationMix(
  db: Queryable,
  zone: string,
  at?: Instant,
  options: DbCallOptions = {},
): Promise<GenerationMix | null> {
  let slot: string;
  if (at === undefined) {
    const { rows } = await db.query<{ slot: Date | null }>(LATEST_COMPLETE, [zone], options);
    const latest = rows[0]?.slot ?? null;
    if (latest === null) return null;
    slot = latest.toISOString();
  } else slot = isoInstant(at, 'at');
  const { rows } = await db.query<{ production_type: string; value: number | null; unit: string | null }>(
    MIX,
    [zone, slot],
    options,
  );
  if (rows.length === 0) return null;
  const present = rows.filter((r): r is { production_type: string; value: number; unit: string } => r.value !== null);
  const total = present.reduce((sum, r) => sum + Math.max(0, r.value), 0);
  return {
    zone,
    slot: utc(new Date(slot)),
    unit: present[0]?.unit ?? 'MW',
    total,
    entries: present
      .map((r) => ({
        productionType: r.production_type,
        value: r.value,
        share: total > 0 ? Math.max(0, r.value) / total : 0,
      }))
      .sort((a, b) => b.value - a.value || a.productionType.localeCompare(b.productionType)),
    missing: rows.filter((r) => r.value === null).map((r) => r.production_type),
  };
}
