import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Db } from '../../src/storage/index.ts';
import { SETTLEMENT_EXPORT_CSV_HEADER } from '../../src/storage/index.ts';
import { tempDir } from '../helpers/services.ts';
import { DB_KINDS, gridstreamOn, openTestDb } from '../storage/helpers.ts';

const gridstream = gridstreamOn;

/** Digits a double would not keep, and one it would print differently. */
const PRICE = '0.010540828';
const COST = '0.0026352070000000000000000001';
const ENERGY = '0.25';
const BIG = '123456789012345678901.123456789';
const COMPUTED = '2026-03-02T01:02:03.456789Z';

/**
 * ber-1 (Berlin) and par-1 (Paris) in feeder-a, hel-1 (Helsinki) in feeder-b; settlement rows on and around
 * Berlin's 2026-03-01 = [2026-02-28T23:00Z, 2026-03-01T23:00Z), one of them pending (no price, cost, emissions).
 */
async function seed(db: Db): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, annual_consumption_kwh, profile)
     VALUES ('ber-1', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 3500, 'H0'),
            ('par-1', 'FR', 'feeder-a', 'Europe/Paris', 'import', 3500, 'H0'),
            ('hel-1', 'FI', 'feeder-b', 'Europe/Helsinki', 'import', 3500, 'H0')`,
  );
  await db.query(
    `INSERT INTO meter_settlement (meter_id, quantity, period, local_day, time_zone, group_id, bidding_zone, energy_kwh,
       quality, price, price_unit, currency, cost, intensity_lifecycle, intensity_direct, emissions_lifecycle_g,
       emissions_direct_g, status, revision, computed_at)
     SELECT m, q, p::timestamptz, d::date, tz, g, z, e::numeric, ql, pr::numeric, pu, cur, c::numeric, il::numeric,
       id::numeric, el::numeric, ed::numeric, st, rev, $5::timestamptz
     FROM (VALUES
       ('ber-1', 'energy_import', '2026-02-28T22:45:00Z', '2026-02-28', 'Europe/Berlin', 'feeder-a', 'DE_LU', '1',
        'measured', '0.1', 'EUR/kWh', 'EUR', '0.1', '400', '300', '400', '300', 'final', 0),
       ('ber-1', 'energy_import', '2026-03-01T12:00:00Z', '2026-03-01', 'Europe/Berlin', 'feeder-a', 'DE_LU', $4,
        'estimated', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 'pending', 0),
       ('ber-1', 'energy_import', '2026-02-28T23:00:00Z', '2026-03-01', 'Europe/Berlin', 'feeder-a', 'DE_LU', $3,
        'measured', $1, 'EUR/kWh', 'EUR', $2, '412.5', '0.000', '103.125', '0', 'final', 2),
       ('ber-1', 'energy_export', '2026-02-28T23:00:00Z', '2026-03-01', 'Europe/Berlin', 'feeder-a', 'DE_LU', '0.5',
        'measured', $1, 'EUR/kWh', 'EUR', '0.005270414', '412.5', '0', '206.25', '0', 'final', 1),
       ('par-1', 'energy_import', '2026-03-01T06:00:00Z', '2026-03-01', 'Europe/Paris', 'feeder-a', 'FR', '3.000',
        'substituted', '0.05', 'EUR/kWh', 'EUR', '0.15', '50', '40', '150', '120', 'final', 0),
       ('hel-1', 'energy_import', '2026-03-01T06:00:00Z', '2026-03-01', 'Europe/Helsinki', 'feeder-b', 'FI', '4',
        'measured', '-0.001', 'EUR/kWh', 'EUR', '-0.004', '80', '60', '320', '240', 'final', 0)
     ) AS x(m, q, p, d, tz, g, z, e, ql, pr, pu, cur, c, il, id, el, ed, st, rev)`,
    [PRICE, COST, ENERGY, BIG, COMPUTED],
  );
}

interface AuditRow {
  principal: string;
  path: string;
  meter_id: string;
  from_ts: string;
  to_ts: string;
  detail: string;
}

async function auditRows(db: Db): Promise<AuditRow[]> {
  const iso = (c: string): string => `to_char(${c} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
  const { rows } = await db.query<AuditRow>(
    `SELECT principal, path, meter_id, ${iso('from_ts')} AS from_ts, ${iso('to_ts')} AS to_ts, detail
     FROM meter_read_audit ORDER BY id`,
  );
  return rows;
}

const WHO = `cli:${userInfo().username}`;

/** Berlin's 2026-03-01 of ber-1, in key order (quantity, period), as CSV lines. */
const BERLIN_DAY = [
  `ber-1,energy_export,2026-02-28T23:00:00Z,2026-03-01,Europe/Berlin,feeder-a,DE_LU,0.5,measured,${PRICE},EUR/kWh,EUR,0.005270414,412.5,0,206.25,0,final,1,${COMPUTED}`,
  `ber-1,energy_import,2026-02-28T23:00:00Z,2026-03-01,Europe/Berlin,feeder-a,DE_LU,${ENERGY},measured,${PRICE},EUR/kWh,EUR,${COST},412.5,0,103.125,0,final,2,${COMPUTED}`,
  `ber-1,energy_import,2026-03-01T12:00:00Z,2026-03-01,Europe/Berlin,feeder-a,DE_LU,${BIG},estimated,,,,,,,,,pending,0,${COMPUTED}`,
];

for (const kind of DB_KINDS) {
  describe(`gridstream export --settlement: ${kind}`, () => {
    it('exports one meter as CSV (exact numerics, nulls empty, key order), a bare date in its time zone, audited', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const r = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--meter',
        'ber-1',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(
        lines[0],
        'meter_id,quantity,period,local_day,time_zone,group_id,bidding_zone,energy_kwh,quality,price,price_unit,currency,cost,intensity_lifecycle,intensity_direct,emissions_lifecycle_g,emissions_direct_g,status,revision,computed_at',
      );
      assert.equal(lines[0], SETTLEMENT_EXPORT_CSV_HEADER);
      assert.deepEqual(lines.slice(1), BERLIN_DAY);
      assert.match(r.stderr, /exported 3 settlement rows/);
      assert.deepEqual(await auditRows(h.db), [
        {
          principal: WHO,
          path: 'export',
          meter_id: 'ber-1',
          from_ts: '2026-02-28T23:00:00Z',
          to_ts: '2026-03-01T23:00:00Z',
          detail: 'csv',
        },
      ]);

      const quantity = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--meter',
        'ber-1',
        '--quantity',
        'energy_import',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(quantity.code, 0, quantity.stderr);
      assert.deepEqual(quantity.stdout.trimEnd().split('\n').slice(1), BERLIN_DAY.slice(1));
    });

    it('exports a group as NDJSON with UTC dates: numerics as exact strings, nulls as null, one audit row per meter', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const dir = await tempDir();
      t.after(() => dir.remove());
      const r = await gridstream(
        h,
        dir.path,
        'export',
        '--settlement',
        '--group',
        'feeder-a',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
        '--out',
        's.ndjson',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'the rows went to the file');
      const objects = (await readFile(join(dir.path, 's.ndjson'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        objects.map((o) => [o['meter_id'], o['quantity'], o['period'], o['energy_kwh'], o['cost'], o['status']]),
        [
          ['ber-1', 'energy_import', '2026-03-01T12:00:00Z', BIG, null, 'pending'],
          ['par-1', 'energy_import', '2026-03-01T06:00:00Z', '3', '0.15', 'final'],
        ],
      );
      assert.deepEqual(objects[0], {
        meter_id: 'ber-1',
        quantity: 'energy_import',
        period: '2026-03-01T12:00:00Z',
        local_day: '2026-03-01',
        time_zone: 'Europe/Berlin',
        group_id: 'feeder-a',
        bidding_zone: 'DE_LU',
        energy_kwh: BIG,
        quality: 'estimated',
        price: null,
        price_unit: null,
        currency: null,
        cost: null,
        intensity_lifecycle: null,
        intensity_direct: null,
        emissions_lifecycle_g: null,
        emissions_direct_g: null,
        status: 'pending',
        revision: 0,
        computed_at: COMPUTED,
      });
      assert.deepEqual(
        (await auditRows(h.db)).map((a) => [a.meter_id, a.path, a.from_ts, a.to_ts, a.detail]),
        [
          ['ber-1', 'export', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 'ndjson'],
          ['par-1', 'export', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 'ndjson'],
        ],
      );
    });

    it('writes Parquet (read back with DuckDB): VARCHAR numerics exact, nulls kept, TIMESTAMPTZ periods', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const dir = await tempDir();
      t.after(() => dir.remove());
      const r = await gridstream(
        h,
        dir.path,
        'export',
        '--settlement',
        '--meter',
        'hel-1,ber-1',
        '--from',
        '2026-02-28T00:00:00Z',
        '--to',
        '2026-03-03T00:00:00+00:00',
        '--out',
        's.parquet',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /exported 5 settlement rows/);
      const duck = await DuckDBInstance.create();
      const connection = await duck.connect();
      const path = join(dir.path, 's.parquet').replaceAll("'", "''");
      const reader = await connection.runAndReadAll(
        `SELECT meter_id, quantity, epoch_ms(period) AS period_ms, typeof(period) AS period_type, local_day::VARCHAR AS local_day,
           typeof(local_day) AS day_type, energy_kwh, typeof(energy_kwh) AS energy_type, price, cost,
           typeof(cost) AS cost_type, emissions_lifecycle_g, intensity_direct, status, revision,
           epoch_us(computed_at) AS computed_us, typeof(computed_at) AS computed_type
         FROM read_parquet('${path}')`,
      );
      const rows = reader.getRowObjectsJson();
      connection.closeSync();
      duck.closeSync();
      assert.deepEqual(
        rows.map((x) => [x['meter_id'], x['quantity'], x['energy_kwh'], x['cost']]),
        [
          ['ber-1', 'energy_export', '0.5', '0.005270414'],
          ['ber-1', 'energy_import', '1', '0.1'],
          ['ber-1', 'energy_import', ENERGY, COST],
          ['ber-1', 'energy_import', BIG, null],
          ['hel-1', 'energy_import', '4', '-0.004'],
        ],
      );
      assert.deepEqual(rows[2], {
        meter_id: 'ber-1',
        quantity: 'energy_import',
        period_ms: String(Date.parse('2026-02-28T23:00:00Z')),
        period_type: 'TIMESTAMP WITH TIME ZONE',
        local_day: '2026-03-01',
        day_type: 'DATE',
        energy_kwh: ENERGY,
        energy_type: 'VARCHAR',
        price: PRICE,
        cost: COST,
        cost_type: 'VARCHAR',
        emissions_lifecycle_g: '103.125',
        intensity_direct: '0',
        status: 'final',
        revision: 2,
        computed_us: String(BigInt(Date.parse('2026-03-02T01:02:03Z')) * 1000n + 456789n),
        computed_type: 'TIMESTAMP WITH TIME ZONE',
      });
      assert.deepEqual([rows[3]?.['price'], rows[3]?.['emissions_lifecycle_g']], [null, null], 'the pending row');
      assert.deepEqual(
        (await auditRows(h.db)).map((a) => [a.meter_id, a.from_ts, a.to_ts, a.detail]),
        [
          ['ber-1', '2026-02-28T00:00:00Z', '2026-03-03T00:00:00Z', 'parquet'],
          ['hel-1', '2026-02-28T00:00:00Z', '2026-03-03T00:00:00Z', 'parquet'],
        ],
      );
    });

    it('refuses an unbounded range, --meters with it, grid options and a bad quantity (exit 2), auditing nothing', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const noTo = await gridstream(h, '/', 'export', '--settlement', '--meter', 'ber-1', '--from', '2026-03-01');
      assert.equal(noTo.code, 2);
      assert.match(noTo.stderr, /meters\.unbounded_export: --from and --to are both required with --settlement/);
      const none = await gridstream(h, '/', 'export', '--settlement');
      assert.equal(none.code, 2);
      assert.match(none.stderr, /meters\.unbounded_export/);
      const both = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--meters',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(both.code, 2);
      assert.match(both.stderr, /--meters and --settlement exclude each other/);
      const grid = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--metrics',
        'price',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(grid.code, 2);
      assert.match(grid.stderr, /--metrics selects grid data: not with --settlement/);
      const badQuantity = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--quantity',
        'volts',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(badQuantity.code, 2);
      assert.match(badQuantity.stderr, /--quantity must be one of energy_import, energy_export/);
      const quantityAlone = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--quantity',
        'energy_import',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(quantityAlone.code, 2);
      assert.match(quantityAlone.stderr, /--quantity needs --settlement/);
      const unknown = await gridstream(
        h,
        '/',
        'export',
        '--settlement',
        '--meter',
        'nope',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /meters\.not_found/);
      assert.deepEqual(await auditRows(h.db), []);
    });
  });
}
