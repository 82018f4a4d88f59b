import type { Queryable } from '../db.ts';
import { normaliseDecimal } from '../../common/index.ts';

/** The meter registry as the read side (API, ingest's group checks) queries it. */

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;

/** A meter's registry row as the read API answers it (the latest validity unless a range asks for more). */
export interface MeterRegistryRow {
  readonly meter_id: string;
  readonly zone: string;
  readonly group: string;
  readonly time_zone: string;
  readonly register_type: string;
  readonly interval: string;
  readonly annual_consumption_kwh: string;
  readonly profile: string;
  readonly lat: number | null;
  readonly lon: number | null;
  /** Register meters: the largest value the counter shows (null: unknown). */
  readonly register_capacity_kwh: string | null;
  /** A meter of the simulated demo fleet. */
  readonly simulated: boolean;
  readonly valid_from: string | null;
  readonly valid_to: string | null;
}

const REGISTRY_COLUMNS = `meter_id, zone, group_id AS "group", time_zone, register_type, interval,
  annual_consumption_kwh::text AS annual_consumption_kwh, profile, lat, lon,
  register_capacity_kwh::text AS register_capacity_kwh, simulated,
  ${ISO('valid_from')} AS valid_from, ${ISO('valid_to')} AS valid_to`;

function registryRow(r: MeterRegistryRow): MeterRegistryRow {
  const capacity = r.register_capacity_kwh;
  return {
    ...r,
    annual_consumption_kwh: normaliseDecimal(r.annual_consumption_kwh) ?? r.annual_consumption_kwh,
    register_capacity_kwh: capacity === null ? null : (normaliseDecimal(capacity) ?? capacity),
  };
}

/** Filters of {@link listReadableMeters}: what the caller asks, and what its key is limited to (`null`: all). */
export interface ReadableMeterFilter {
  readonly group?: string;
  readonly zone?: string;
  readonly zones: readonly string[] | null;
  readonly groups: readonly string[] | null;
  /** Only meters after this id (the next page). */
  readonly after?: string;
  readonly limit: number;
}

/**
 * The latest validity of each meter whose latest validity matches the filter, by meter id: the meters a key of
 * those zones and groups may read.
 */
export async function listReadableMeters(q: Queryable, filter: ReadableMeterFilter): Promise<MeterRegistryRow[]> {
  const { rows } = await q.query<MeterRegistryRow>(
    `WITH latest AS (
       SELECT DISTINCT ON (meter_id) * FROM meters
       WHERE ($5::text IS NULL OR meter_id > $5)
       ORDER BY meter_id, valid_from DESC NULLS LAST
     )
     SELECT ${REGISTRY_COLUMNS} FROM latest
     WHERE ($1::text IS NULL OR group_id = $1) AND ($2::text IS NULL OR zone = $2)
       AND ($3::text[] IS NULL OR zone = ANY($3::text[])) AND ($4::text[] IS NULL OR group_id = ANY($4::text[]))
     ORDER BY meter_id LIMIT $6`,
    [
      filter.group ?? null,
      filter.zone ?? null,
      filter.zones === null ? null : [...filter.zones],
      filter.groups === null ? null : [...filter.groups],
      filter.after ?? null,
      filter.limit,
    ],
  );
  return rows.map(registryRow);
}

/** Every validity of `meterId`, oldest first (empty: no such meter). */
export async function meterValidities(q: Queryable, meterId: string): Promise<MeterRegistryRow[]> {
  const { rows } = await q.query<MeterRegistryRow>(
    `SELECT ${REGISTRY_COLUMNS} FROM meters WHERE meter_id = $1 ORDER BY valid_from NULLS FIRST`,
    [meterId],
  );
  return rows.map(registryRow);
}

/** The zones and the time zone of a group's meters (their latest validities); `undefined`: no meter has it. */
export async function meterGroupInfo(
  q: Queryable,
  group: string,
): Promise<{ readonly zones: string[]; readonly timeZone: string } | undefined> {
  const { rows } = await q.query<{ zone: string; time_zone: string; n: number }>(
    `WITH latest AS (
       SELECT DISTINCT ON (meter_id) zone, time_zone, group_id FROM meters
       WHERE meter_id IN (SELECT meter_id FROM meters WHERE group_id = $1)
       ORDER BY meter_id, valid_from DESC NULLS LAST
     )
     SELECT zone, time_zone, count(*)::int AS n FROM latest WHERE group_id = $1 GROUP BY zone, time_zone
     ORDER BY n DESC, time_zone, zone`,
    [group],
  );
  const first = rows[0];
  if (first === undefined) return undefined;
  // Meters of one group share a calendar in practice; when they do not, the most common time zone is the group's.
  return { zones: [...new Set(rows.map((r) => r.zone))].sort(), timeZone: first.time_zone };
}

/** One validity of a meter's group: [from, to) in ms, `null` = open. */
export interface MeterGroupValidity {
  readonly group: string;
  readonly from: number | null;
  readonly to: number | null;
}

/** Every validity's group of each of `meterIds` (a meter absent from the map is not in the registry). */
export async function meterGroupValidities(
  q: Queryable,
  meterIds: readonly string[],
): Promise<Map<string, MeterGroupValidity[]>> {
  const out = new Map<string, MeterGroupValidity[]>();
  if (meterIds.length === 0) return out;
  const { rows } = await q.query<{
    meter_id: string;
    group_id: string;
    valid_from: Date | null;
    valid_to: Date | null;
  }>(
    `SELECT meter_id, group_id, valid_from, valid_to FROM meters WHERE meter_id = ANY($1::text[])
     ORDER BY meter_id, valid_from NULLS FIRST`,
    [[...meterIds]],
  );
  for (const r of rows) {
    const list = out.get(r.meter_id) ?? [];
    list.push({ group: r.group_id, from: r.valid_from?.getTime() ?? null, to: r.valid_to?.getTime() ?? null });
    out.set(r.meter_id, list);
  }
  return out;
}
