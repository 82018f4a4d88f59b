import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DuckDBInstance } from '@duckdb/node-api';
import { writeObservations } from '../../src/storage/index.ts';
import { loadMigrations } from '../../src/storage/index.ts';
import { tempDir } from '../helpers/services.ts';
import { DB_KINDS, chunk, gridstreamOn, openTestDb } from './helpers.ts';

const gridstream = gridstreamOn;

const RANGE = ['--from', '2025-10-21', '--to', '2025-10-22', '--tz', 'UTC'];

for (const kind of DB_KINDS) {
  describe(`gridstream migrate and export: ${kind}`, () => {
    it('migrate applies the migrations, then reports the schema up to date', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      const dir = await tempDir();
      t.after(() => dir.remove());
      const first = await gridstream(h, dir.path, 'migrate');
      assert.equal(first.code, 0, first.stderr);
      assert.match(first.stdout, /^applied 0001_grid_observations \(\d+ ms\)$/m);
      const versions = (await loadMigrations()).length;
      assert.match(first.stdout, new RegExp(`now at version ${versions} \\(${versions} applied\\)`));
      const second = await gridstream(h, dir.path, 'migrate');
      assert.match(second.stdout, new RegExp(`up to date at version ${versions}`));
      assert.doesNotMatch(second.stdout + second.stderr, /postgres:\/\/postgres@/, 'no credentials printed');
    });

    it('exports CSV, NDJSON and Parquet (read back with DuckDB) for zones, metrics and a range', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const dir = await tempDir();
      t.after(() => dir.remove());
      await writeObservations(h.db, [
        chunk({
          zone: 'FI',
          start: '2025-10-20T23:00:00Z',
          points: 8,
          value: (i) => i + 0.5,
          issuedAt: '2025-10-22T06:30:00Z',
        }),
        chunk({
          zone: 'NO_5',
          productionType: 'B12',
          start: '2025-10-21T00:00:00Z',
          points: 4,
          qualifier: 'a,"b"',
          documentId: 'doc\t2',
        }),
        chunk({
          zone: 'NO_5',
          metric: 'price_day_ahead',
          productionType: '',
          unit: 'EUR/MWh',
          start: '2025-10-21T00:00:00Z',
          points: 4,
        }),
        chunk({ zone: 'SE_3', start: '2025-10-21T00:00:00Z', points: 4 }),
      ]);
      await h.db.exec(
        `UPDATE grid_observations SET flags = '{filled,split}' WHERE zone = 'FI' AND slot_start = '2025-10-21T00:00:00Z'`,
      );
      const args = ['export', '--zones', 'FI,NO_5', '--metrics', 'generation_actual', ...RANGE];

      const csv = await gridstream(h, dir.path, ...args);
      assert.equal(csv.code, 0, csv.stderr);
      const lines = csv.stdout.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^zone,metric,production_type,counterpart_zone,slot_start_utc,value,unit,/);
      assert.equal(lines.length, 1 + 4 + 4, 'FI from midnight (4 of its 8 slots) and NO_5 generation');
      assert.match(
        lines[1] ?? '',
        /^FI,generation_actual,B16,,2025-10-21T00:00:00Z,4\.5,MW,,entsoe,doc-1,1,2025-10-22T06:30:00\.000Z,filled;split,/,
      );
      assert.match(
        lines[5] ?? '',
        /^NO_5,generation_actual,B12,,2025-10-21T00:00:00Z,0,MW,"a,""b""",entsoe,doc\t2,1,,,/,
      );
      assert.match(csv.stderr, /exported 8 observations/);

      const ndjson = await gridstream(h, dir.path, ...args, '--out', 'x.ndjson');
      assert.equal(ndjson.code, 0, ndjson.stderr);
      const objects = (await readFile(join(dir.path, 'x.ndjson'), 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.equal(objects.length, 8);
      assert.deepEqual(objects[0]?.['flags'], ['filled', 'split']);
      assert.equal(objects[0]['issued_at'], '2025-10-22T06:30:00.000Z');
      assert.equal(objects[4]?.['issued_at'], null);
      assert.equal(objects[4]['qualifier'], 'a,"b"');

      const parquet = await gridstream(h, dir.path, ...args, '--format', 'parquet', '--out', 'x.parquet');
      assert.equal(parquet.code, 0, parquet.stderr);
      const duck = await DuckDBInstance.create();
      const connection = await duck.connect();
      const path = join(dir.path, 'x.parquet').replaceAll("'", "''");
      const reader = await connection.runAndReadAll(
        `SELECT zone, production_type, epoch_ms(slot_start_utc) AS ms, value, flags, typeof(slot_start_utc) AS ts_type,
           epoch_ms(issued_at) AS issued_ms
         FROM read_parquet('${path}')`,
      );
      const rows = reader.getRowObjectsJson();
      connection.closeSync();
      duck.closeSync();
      assert.equal(rows.length, 8);
      assert.deepEqual(rows[0], {
        zone: 'FI',
        production_type: 'B16',
        ms: String(Date.parse('2025-10-21T00:00:00Z')),
        value: 4.5,
        flags: ['filled', 'split'],
        ts_type: 'TIMESTAMP WITH TIME ZONE',
        issued_ms: String(Date.parse('2025-10-22T06:30:00Z')),
      });
      assert.equal(rows[4]?.['issued_ms'], null);

      // One zone: a bare date is midnight in its time zone (Helsinki, UTC+3 in October): all 8 FI slots, which
      // start at 23:00 UTC the day before, are inside 2025-10-21 local.
      const local = await gridstream(
        h,
        dir.path,
        'export',
        '--zones',
        'FI',
        '--from',
        '2025-10-21',
        '--to',
        '2025-10-22',
      );
      assert.equal(local.code, 0, local.stderr);
      assert.equal(local.stdout.trimEnd().split('\n').length, 1 + 8);
    });

    it('answers --help and refuses a missing range with a usage error', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const help = await gridstream(h, '/', 'export', '--help');
      assert.equal(help.code, 0);
      assert.match(help.stdout, /usage: gridstream export --from <date> --to <date>/);
      assert.match((await gridstream(h, '/', 'migrate', '--help')).stdout, /usage: gridstream migrate/);
      const missing = await gridstream(h, '/', 'export', '--zones', 'FI');
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /--from is required/);
      const metric = await gridstream(
        h,
        '/',
        'export',
        '--metrics',
        'generation',
        '--from',
        '2025-10-21',
        '--to',
        '2025-10-22',
      );
      assert.equal(metric.code, 2);
      assert.match(metric.stderr, /unknown metric\(s\) generation; metrics are generation_actual/);
      const zone = await gridstream(h, '/', 'export', '--zones', 'XX', '--from', '2025-10-21', '--to', '2025-10-22');
      assert.equal(zone.code, 2);
      assert.match(zone.stderr, /unknown zone\(s\) XX/);
      const several = await gridstream(
        h,
        '/',
        'export',
        '--zones',
        'FI,NO_5',
        '--from',
        '2025-10-21',
        '--to',
        '2025-10-22',
      );
      assert.equal(several.code, 2);
      assert.match(several.stderr, /give --tz/);
    });
  });
}
