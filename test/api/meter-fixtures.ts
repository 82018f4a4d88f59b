import type { Db } from '../../src/storage/index.ts';

/** Registers a meter directly in the registry table. */
export async function insertRegistryMeter(
  db: Db,
  m: { id: string; group: string; tz?: string; interval?: string; from?: string; to?: string },
): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh, profile,
       valid_from, valid_to)
     VALUES ($1, 'DE_LU', $2, $3, 'import', $4, 3500, 'H0', $5::timestamptz, $6::timestamptz)`,
    [m.id, m.group, m.tz ?? 'Europe/Berlin', m.interval ?? 'PT15M', m.from ?? null, m.to ?? null],
  );
}
