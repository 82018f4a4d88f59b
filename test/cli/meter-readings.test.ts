import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { ensurePartitions, openDb } from '../../src/storage/index.ts';
import type { RunningInstance } from '../helpers/cli.ts';
import { gridstream, startInstance } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

const CSV = [
  'meter_id,zone,group,time_zone,register_type,interval,annual_consumption_kwh,profile',
  'ber-1,DE_LU,feeder-a,,import,PT15M,3500,H0',
  '',
].join('\n');

/** 2026-10-25 in Berlin (25 hours) starts at 22:00 UTC the day before; quarter 2 (22:30) is missing. */
async function storeQuarters(db: Db): Promise<void> {
  const start = Date.parse('2026-10-24T22:00:00Z');
  await ensurePartitions(db, 'meter_intervals', new Date(start), new Date(start + 100 * 900_000));
  await db.query(
    `INSERT INTO meter_intervals (meter_id, quantity, ts, interval_s, value, source, group_id, log_topic,
       log_partition, log_offset)
     SELECT 'ber-1', 'energy_import', $1::timestamptz + make_interval(mins => 15 * i), 900, 0.125, 'interval',
       'feeder-a', 'raw.meters', 0, i
     FROM generate_series(0, 99) AS i WHERE i <> 2`,
    [new Date(start).toISOString()],
  );
  await db.query("INSERT INTO stream_jobs (job, watermark) VALUES ('meters', '2026-10-24T22:30:00Z')");
}

describe('gridstream meters readings', () => {
  it('prints windows as CSV or NDJSON from the embedded database, and audits the read as cli:<user>', async () => {
    const dir = await tempDir();
    const env = { GRIDSTREAM_DATA_DIR: join(dir.path, 'data'), GRIDSTREAM_LOG_LEVEL: 'error' };
    try {
      await writeFile(join(dir.path, 'meters.csv'), CSV);
      assert.equal((await gridstream(['meters', 'import', 'meters.csv'], { env, cwd: dir.path })).code, 0);
      const db = await openDb({ url: null, dataDir: env.GRIDSTREAM_DATA_DIR, logger: silentLogger() });
      try {
        await storeQuarters(db);
      } finally {
        await db.close();
      }
      const args = ['meters', 'readings', 'ber-1', '--from', '2026-10-24T22:00:00Z', '--to', '2026-10-24T23:00:00Z'];
      const csv = await gridstream(args, { env });
      assert.equal(csv.code, 0, csv.stderr);
      assert.equal(
        csv.stdout,
        [
          'meter_id,quantity,ts,value,quality,final',
          'ber-1,energy_import,2026-10-24T22:00:00Z,0.125,measured,true',
          'ber-1,energy_import,2026-10-24T22:15:00Z,0.125,measured,true',
          'ber-1,energy_import,2026-10-24T22:30:00Z,,missing,false',
          'ber-1,energy_import,2026-10-24T22:45:00Z,0.125,measured,false',
          '',
        ].join('\n'),
      );
      const ndjson = await gridstream(
        ['meters', 'readings', 'ber-1', '--from', '2026-10-25', '--to', '2026-10-26', '--resolution', 'P1D'].concat([
          '--format',
          'ndjson',
        ]),
        { env },
      );
      assert.equal(ndjson.code, 0, ndjson.stderr);
      // 99 of 100 quarters of the 25-hour day at 0.125 kWh: 12.375, exactly.
      assert.deepEqual(JSON.parse(ndjson.stdout), {
        meter_id: 'ber-1',
        quantity: 'energy_import',
        ts: '2026-10-24T22:00:00Z',
        value: '12.375',
        quality: 'missing',
        final: false,
      });
      const refused = await gridstream(
        ['meters', 'readings', 'ber-1', '--from', '2026-10-25T00:00:00Z', '--to', '2026-10-26', '--resolution', 'P1D'],
        { env },
      );
      assert.equal(refused.code, 2, 'not a Berlin midnight: a usage error');
      const unknown = await gridstream(['meters', 'readings', 'nope', '--from', '2026-10-25', '--to', '2026-10-26'], {
        env,
      });
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /no meter nope/);
      const check = await openDb({ url: null, dataDir: env.GRIDSTREAM_DATA_DIR, logger: silentLogger() });
      try {
        const { rows } = await check.query<{ principal: string; path: string; meter_id: string; detail: string }>(
          'SELECT principal, path, meter_id, detail FROM meter_read_audit ORDER BY id',
        );
        const who = `cli:${userInfo().username}`;
        assert.deepEqual(rows, [
          { principal: who, path: 'cli', meter_id: 'ber-1', detail: 'energy_import PT15M' },
          { principal: who, path: 'cli', meter_id: 'ber-1', detail: 'energy_import P1D' },
        ]);
      } finally {
        await check.close();
      }
    } finally {
      await dir.remove();
    }
  });
});

describe('gridstream meters readings while an embedded instance runs', () => {
  let instance: RunningInstance;
  before(async () => {
    instance = await startInstance();
  });
  after(() => instance.close());

  it('reads through the control socket', async () => {
    const dir = await tempDir();
    try {
      await writeFile(join(dir.path, 'meters.csv'), CSV);
      const imported = await gridstream(['meters', 'import', 'meters.csv'], { env: instance.env, cwd: dir.path });
      assert.equal(imported.code, 0, imported.stderr);
      const r = await gridstream(
        ['meters', 'readings', 'ber-1', '--from', '2026-10-25', '--to', '2026-10-27', '--resolution', 'P1D'],
        { env: instance.env },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        r.stdout,
        [
          'meter_id,quantity,ts,value,quality,final',
          'ber-1,energy_import,2026-10-24T22:00:00Z,,missing,false',
          'ber-1,energy_import,2026-10-25T23:00:00Z,,missing,false',
          '',
        ].join('\n'),
      );
    } finally {
      await dir.remove();
    }
  });
});
