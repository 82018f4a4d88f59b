import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Db } from '../../src/storage/index.ts';
import { ensurePartitions, exportMeterIntervals } from '../../src/storage/index.ts';
import { DB_KINDS, openTestDb } from './helpers.ts';

const START = Date.parse('2026-03-01T00:00:00Z');

/**
 * m-a: feeder-a until 2026-03-01T12:00Z, then feeder-b; m-b and m-c: feeder-a throughout. Each meter has 5
 * import and 2 export quarters from 00:00Z.
 */
async function seed(db: Db): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, annual_consumption_kwh, profile,
       valid_from, valid_to)
     VALUES ('m-a', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 1, 'H0', NULL, '2026-03-01T12:00:00Z'),
            ('m-a', 'DE_LU', 'feeder-b', 'Europe/Berlin', 'import', 1, 'H0', '2026-03-01T12:00:00Z', NULL),
            ('m-b', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 1, 'H0', NULL, NULL),
            ('m-c', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 1, 'H0', NULL, NULL)`,
  );
  await ensurePartitions(db, 'meter_intervals', new Date(START), new Date(START + 86_400_000));
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, source, log_topic, log_partition,
       log_offset)
     SELECT m, q, $1::timestamptz + make_interval(mins => 15 * i), 900, i + 0.001, 'interval', 'raw.meters', 0, i
     FROM unnest(ARRAY['m-a', 'm-b', 'm-c']) AS m, unnest(ARRAY['energy_import', 'energy_export']) AS q,
       generate_series(0, 4) AS i
     WHERE q = 'energy_import' OR i < 2`,
    [new Date(START).toISOString()],
  );
}

const audited = async (db: Db): Promise<string[]> =>
  (await db.query<{ meter_id: string }>('SELECT meter_id FROM meter_read_audit ORDER BY id')).rows.map(
    (r) => r.meter_id,
  );

for (const kind of DB_KINDS) {
  describe(`exportMeterIntervals: ${kind}`, () => {
    it('pages through meters and intervals in key order, auditing each meter before its first row', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const keys: string[] = [];
      const auditAtFirstRow = new Map<string, string[]>();
      const rows = exportMeterIntervals(
        h.db,
        { from: START, to: START + 86_400_000 },
        { principal: 'cli:test', detail: 'csv' },
        { pageSize: 2, meterPageSize: 1 },
      );
      for await (const r of rows) {
        if (!auditAtFirstRow.has(r.meterId)) auditAtFirstRow.set(r.meterId, await audited(h.db));
        keys.push(`${r.meterId} ${r.quantity} ${r.ts} ${r.value}`);
      }
      const expected: string[] = [];
      for (const m of ['m-a', 'm-b', 'm-c'])
        for (const [q, n] of [
          ['energy_export', 2],
          ['energy_import', 5],
        ] as const)
          for (let i = 0; i < n; i++)
            expected.push(`${m} ${q} ${new Date(START + i * 900_000).toISOString().replace('.000Z', 'Z')} ${i}.001`);
      assert.deepEqual(keys, expected, 'every row once, in (meter, quantity, ts) order, across page boundaries');
      assert.deepEqual(Object.fromEntries(auditAtFirstRow), {
        'm-a': ['m-a'],
        'm-b': ['m-a', 'm-b'],
        'm-c': ['m-a', 'm-b', 'm-c'],
      });
    });

    it('selects a group by the registry validities that overlap the range', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const meters = async (group: string, from: number, to: number): Promise<string[]> => {
        const seen = new Set<string>();
        for await (const r of exportMeterIntervals(h.db, { group, from, to }, { principal: 'cli:test', detail: 'x' }))
          seen.add(r.meterId);
        return [...seen];
      };
      const noon = START + 12 * 3_600_000;
      assert.deepEqual(await meters('feeder-a', START, noon), ['m-a', 'm-b', 'm-c']);
      assert.deepEqual(await meters('feeder-b', START, noon), [], 'm-a joined feeder-b at noon');
      assert.deepEqual(await meters('feeder-a', START, START + 86_400_000), ['m-a', 'm-b', 'm-c']);
      assert.deepEqual(await meters('feeder-b', START, START + 86_400_000), ['m-a']);
    });
  });
}
