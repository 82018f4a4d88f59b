import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { silentLogger } from '../../src/observability/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { ensurePartitions, openDb } from '../../src/storage/index.ts';
import { gridstream as cli, startInstance } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';
import { DB_KINDS, gridstreamOn, openTestDb } from '../storage/helpers.ts';

const gridstream = gridstreamOn;

/** More digits than a double holds: a float anywhere on the way would change it. */
const EXACT = '0.1234567890123456789012345';
const LARGE = '12345678901234567890.5';

/**
 * ber-1 (Berlin, UTC+1 in March) and par-1 (Paris) in feeder-a, hel-1 (Helsinki) in feeder-b. Berlin's
 * 2026-03-01 is [2026-02-28T23:00Z, 2026-03-01T23:00Z); UTC's is [2026-03-01T00:00Z, 2026-03-02T00:00Z).
 */
async function seed(db: Db): Promise<void> {
  await db.query(
    `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, annual_consumption_kwh, profile)
     VALUES ('ber-1', 'DE_LU', 'feeder-a', 'Europe/Berlin', 'import', 3500, 'H0'),
            ('par-1', 'FR', 'feeder-a', 'Europe/Paris', 'import', 3500, 'H0'),
            ('hel-1', 'FI', 'feeder-b', 'Europe/Helsinki', 'import', 3500, 'H0')`,
  );
  await ensurePartitions(db, 'meter_intervals', new Date('2026-02-27T00:00:00Z'), new Date('2026-03-04T00:00:00Z'));
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, quality, flags, source, group_id,
       recorded_at, log_topic, log_partition, log_offset)
     SELECT m, q, ts::timestamptz, 900, v::numeric, ql, f::text[], 'interval', g, r::timestamptz, 'raw.meters', 0, o
     FROM (VALUES
       ('ber-1', 'energy_import', '2026-02-28T22:45:00Z', '1', 'measured', '{}', 'feeder-a', NULL, 1),
       ('ber-1', 'energy_import', '2026-02-28T23:00:00Z', $1, 'estimated', '{split,rollover}', 'feeder-a',
        '2026-03-01T00:05:00.123456Z', 2),
       ('ber-1', 'energy_import', '2026-03-01T12:00:00Z', $2, 'measured', '{}', 'feeder-a', NULL, 3),
       ('ber-1', 'energy_import', '2026-03-01T23:00:00Z', '2', 'measured', '{}', 'feeder-a', NULL, 4),
       ('ber-1', 'energy_export', '2026-02-28T23:00:00Z', '0.25', 'measured', '{}', 'feeder-a', NULL, 5),
       ('par-1', 'energy_import', '2026-03-01T06:00:00Z', '3.000', 'substituted', '{}', 'feeder-a', NULL, 6),
       ('hel-1', 'energy_import', '2026-03-01T06:00:00Z', '4', 'measured', '{}', 'feeder-b', NULL, 7)
     ) AS x(m, q, ts, v, ql, f, g, r, o)`,
    [EXACT, LARGE],
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
const RECEIVED = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;

for (const kind of DB_KINDS) {
  describe(`gridstream export --meters: ${kind}`, () => {
    it('exports one meter as CSV, a bare date being midnight in its time zone, and audits it first', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const r = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--meter',
        'ber-1',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines[0], 'meter_id,quantity,ts,interval_s,value,quality,flags,recorded_at,received_at');
      assert.deepEqual(
        lines.slice(1).map((l) => l.split(',').slice(0, 8).join(',')),
        [
          'ber-1,energy_export,2026-02-28T23:00:00Z,900,0.25,measured,,',
          `ber-1,energy_import,2026-02-28T23:00:00Z,900,${EXACT},estimated,split;rollover,2026-03-01T00:05:00.123456Z`,
          `ber-1,energy_import,2026-03-01T12:00:00Z,900,${LARGE},measured,,`,
        ],
        'Berlin 2026-03-01: 23:00Z the day before up to (not including) 23:00Z; key order meter, quantity, ts',
      );
      for (const l of lines.slice(1)) assert.match(l.split(',')[8] ?? '', RECEIVED);
      assert.match(r.stderr, /exported 3 meter intervals/);
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
      const utc = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--meter',
        'ber-1',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
        '--tz',
        'UTC',
      );
      assert.equal(utc.code, 0, utc.stderr);
      assert.match(utc.stderr, /exported 2 meter intervals/, '--tz UTC: 12:00Z and 23:00Z of 2026-03-01');
    });

    it('exports a group as NDJSON with UTC dates (values as exact strings), one audit row per meter', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const dir = await tempDir();
      t.after(() => dir.remove());
      const r = await gridstream(
        h,
        dir.path,
        'export',
        '--meters',
        '--group',
        'feeder-a',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
        '--out',
        'm.ndjson',
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'the rows went to the file');
      const objects = (await readFile(join(dir.path, 'm.ndjson'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(
        objects.map((o) => [
          o['meter_id'],
          o['quantity'],
          o['ts'],
          o['value'],
          o['quality'],
          o['flags'],
          o['recorded_at'],
        ]),
        [
          ['ber-1', 'energy_import', '2026-03-01T12:00:00Z', LARGE, 'measured', [], null],
          ['ber-1', 'energy_import', '2026-03-01T23:00:00Z', '2', 'measured', [], null],
          ['par-1', 'energy_import', '2026-03-01T06:00:00Z', '3', 'substituted', [], null],
        ],
      );
      assert.equal(objects[0]?.['interval_s'], 900);
      assert.deepEqual(
        (await auditRows(h.db)).map((a) => [a.meter_id, a.path, a.from_ts, a.to_ts, a.detail]),
        [
          ['ber-1', 'export', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 'ndjson'],
          ['par-1', 'export', '2026-03-01T00:00:00Z', '2026-03-02T00:00:00Z', 'ndjson'],
        ],
      );

      const zone = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--zone',
        'FI',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(zone.code, 0, zone.stderr);
      assert.deepEqual(
        zone.stdout
          .trimEnd()
          .split('\n')
          .slice(1)
          .map((l) => l.split(',').slice(0, 5).join(',')),
        ['hel-1,energy_import,2026-03-01T06:00:00Z,900,4'],
      );
    });

    it('writes Parquet (read back with DuckDB): exact decimal text, UTC timestamps with microseconds, flag lists', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const dir = await tempDir();
      t.after(() => dir.remove());
      const r = await gridstream(
        h,
        dir.path,
        'export',
        '--meters',
        '--meter',
        'hel-1,ber-1',
        '--from',
        '2026-02-28T00:00:00Z',
        '--to',
        '2026-03-03T00:00:00+00:00',
        '--out',
        'm.parquet',
      );
      assert.equal(r.code, 0, r.stderr);
      const duck = await DuckDBInstance.create();
      const connection = await duck.connect();
      const path = join(dir.path, 'm.parquet').replaceAll("'", "''");
      const reader = await connection.runAndReadAll(
        `SELECT meter_id, quantity, epoch_ms(ts) AS ts_ms, interval_s, value, typeof(value) AS value_type, quality,
           flags, epoch_us(recorded_at) AS recorded_us, typeof(ts) AS ts_type, typeof(received_at) AS received_type
         FROM read_parquet('${path}')`,
      );
      const rows = reader.getRowObjectsJson();
      connection.closeSync();
      duck.closeSync();
      assert.deepEqual(
        rows.map((x) => [x['meter_id'], x['quantity'], x['value']]),
        [
          ['ber-1', 'energy_export', '0.25'],
          ['ber-1', 'energy_import', '1'],
          ['ber-1', 'energy_import', EXACT],
          ['ber-1', 'energy_import', LARGE],
          ['ber-1', 'energy_import', '2'],
          ['hel-1', 'energy_import', '4'],
        ],
      );
      assert.deepEqual(rows[2], {
        meter_id: 'ber-1',
        quantity: 'energy_import',
        ts_ms: String(Date.parse('2026-02-28T23:00:00Z')),
        interval_s: 900,
        value: EXACT,
        value_type: 'VARCHAR',
        quality: 'estimated',
        flags: ['split', 'rollover'],
        recorded_us: String(BigInt(Date.parse('2026-03-01T00:05:00Z')) * 1000n + 123456n),
        ts_type: 'TIMESTAMP WITH TIME ZONE',
        received_type: 'TIMESTAMP WITH TIME ZONE',
      });
      assert.deepEqual(rows[0]?.['flags'], []);
      assert.deepEqual(
        (await auditRows(h.db)).map((a) => [a.meter_id, a.from_ts, a.to_ts, a.detail]),
        [
          ['ber-1', '2026-02-28T00:00:00Z', '2026-03-03T00:00:00Z', 'parquet'],
          ['hel-1', '2026-02-28T00:00:00Z', '2026-03-03T00:00:00Z', 'parquet'],
        ],
      );
    });

    it('refuses an unbounded range, unknown meters and grid options (exit 2), auditing nothing', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await seed(h.db);
      const noTo = await gridstream(h, '/', 'export', '--meters', '--meter', 'ber-1', '--from', '2026-03-01');
      assert.equal(noTo.code, 2);
      assert.match(noTo.stderr, /meters\.unbounded_export: --from and --to are both required/);
      const none = await gridstream(h, '/', 'export', '--meters');
      assert.equal(none.code, 2);
      assert.match(none.stderr, /meters\.unbounded_export/);
      const unknown = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--meter',
        'ber-1,nope',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(unknown.code, 2);
      assert.match(unknown.stderr, /meters\.not_found: no meter\(s\) nope/);
      const group = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--group',
        'feeder-z',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(group.code, 2);
      assert.match(group.stderr, /no meter matches/);
      const grid = await gridstream(
        h,
        '/',
        'export',
        '--meters',
        '--zones',
        'FI',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
      );
      assert.equal(grid.code, 2);
      assert.match(grid.stderr, /--zones selects grid data/);
      const noMeters = await gridstream(
        h,
        '/',
        'export',
        '--meter',
        'ber-1',
        '--from',
        '2026-03-01',
        '--to',
        '2026-03-02',
        '--tz',
        'UTC',
      );
      assert.equal(noMeters.code, 2);
      assert.match(noMeters.stderr, /--meter selects meters: it needs --meters/);
      const backwards = await gridstream(h, '/', 'export', '--meters', '--from', '2026-03-02', '--to', '2026-03-01');
      assert.equal(backwards.code, 2);
      assert.match(backwards.stderr, /--to must be after --from/);
      assert.deepEqual(await auditRows(h.db), []);
    });
  });
}

describe('gridstream export --meters while an embedded instance runs', () => {
  it('exports through the control socket; the audit row is in the instance database', async () => {
    const instance = await startInstance();
    const dir = await tempDir();
    try {
      await writeFile(
        join(dir.path, 'meters.csv'),
        'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile\n' +
          'sock-1,DE_LU,feeder-s,Europe/Berlin,import,PT15M,3500,H0\n',
      );
      const imported = await cli(['meters', 'import', 'meters.csv'], { env: instance.env, cwd: dir.path });
      assert.equal(imported.code, 0, imported.stderr);
      const r = await cli(
        ['export', '--meters', '--meter', 'sock-1', '--from', '2026-10-25', '--to', '2026-10-26', '--format', 'ndjson'],
        { env: instance.env },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, '', 'the meter has no stored intervals');
      assert.match(r.stderr, /exported 0 meter intervals/);
      const stopped = await instance.stop();
      assert.equal(stopped.code, 0, stopped.stderr);
      const db = await openDb({
        url: null,
        dataDir: instance.env['GRIDSTREAM_DATA_DIR'] ?? '',
        logger: silentLogger(),
      });
      try {
        // Berlin's 2026-10-25 lasts 25 hours: 22:00Z the day before to 23:00Z.
        assert.deepEqual(
          (await auditRows(db)).filter((a) => a.meter_id === 'sock-1'),
          [
            {
              principal: WHO,
              path: 'export',
              meter_id: 'sock-1',
              from_ts: '2026-10-24T22:00:00Z',
              to_ts: '2026-10-25T23:00:00Z',
              detail: 'ndjson',
            },
          ],
        );
      } finally {
        await db.close();
      }
    } finally {
      await dir.remove();
      await instance.close();
    }
  });
});
