import { normaliseDecimal } from '../../common/index.ts';
import type { DbCallOptions, Queryable } from '../db.ts';

/** One stored device value (SCADA, PMU, or a smart meter's instant value), exact. */
export interface DeviceReadingPoint {
  /** The instant, UTC (milliseconds when there are any). */
  readonly ts: string;
  /** Exact decimal text. */
  readonly value: string;
  readonly recorded_at: string | null;
}

/** A device as stored: its kind and the quantities it reported. */
export interface StoredDevice {
  readonly device_id: string;
  readonly kind: string;
  readonly quantities: readonly string[];
}

const ISO_MS = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const canonical = (text: string): string => text.replace('.000Z', 'Z');

/** The kind and quantities of a device with stored readings (undefined: none stored). */
export async function storedDevice(
  q: Queryable,
  deviceId: string,
  options: DbCallOptions = {},
): Promise<StoredDevice | undefined> {
  const { rows } = await q.query<{ kind: string; quantities: string[] }>(
    `SELECT min(kind) AS kind, array_agg(DISTINCT quantity ORDER BY quantity) AS quantities
     FROM device_readings WHERE device_id = $1 HAVING count(*) > 0`,
    [deviceId],
    options,
  );
  const row = rows[0];
  return row === undefined ? undefined : { device_id: deviceId, kind: row.kind, quantities: row.quantities };
}

/**
 * One device's values of one quantity in [from, to), oldest first, as stored (no windows: SCADA and PMU values
 * are instants), at most `limit` of them.
 */
export async function deviceReadings(
  q: Queryable,
  args: {
    readonly deviceId: string;
    readonly quantity: string;
    readonly from: Date;
    readonly to: Date;
    readonly limit: number;
  },
  options: DbCallOptions = {},
): Promise<DeviceReadingPoint[]> {
  const { rows } = await q.query<{ ts: string; value: string; recorded_at: string | null }>(
    `SELECT ${ISO_MS('ts')} AS ts, value::text AS value,
            CASE WHEN recorded_at IS NULL THEN NULL ELSE ${ISO_MS('recorded_at')} END AS recorded_at
     FROM device_readings WHERE device_id = $1 AND quantity = $2 AND ts >= $3 AND ts < $4
     ORDER BY ts LIMIT $5`,
    [args.deviceId, args.quantity, args.from.toISOString(), args.to.toISOString(), args.limit],
    options,
  );
  return rows.map((r) => ({
    ts: canonical(r.ts),
    value: normaliseDecimal(r.value) ?? r.value,
    recorded_at: r.recorded_at === null ? null : canonical(r.recorded_at),
  }));
}
