import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { dropExpiredPartitions, ensurePartitions, partitionMaintainer } from '../../src/storage/index.ts';
import { DB_KINDS, count, openTestDb } from './helpers.ts';

const partitionsOf = (db: Db, table: string): Promise<number> =>
  count(db, 'pg_inherits', `inhparent = '${table}'::regclass`);

for (const kind of DB_KINDS) {
  describe(`partition maintenance: ${kind}`, () => {
    it('drops only partitions entirely older than the retention, and none of a table without one', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      await ensurePartitions(
        h.db,
        'meter_intervals',
        new Date('2019-01-01T00:00:00Z'),
        new Date('2019-01-03T00:00:00Z'),
      );
      await ensurePartitions(
        h.db,
        'device_readings',
        new Date('2019-01-01T00:00:00Z'),
        new Date('2019-01-03T00:00:00Z'),
      );
      const intervals = await partitionsOf(h.db, 'meter_intervals');
      const devices = await partitionsOf(h.db, 'device_readings');
      // No retention anywhere (the default): nothing goes.
      assert.deepEqual(await dropExpiredPartitions(h.db, new Date('2019-01-10T00:00:00Z')), []);
      await h.db.query(`UPDATE storage_partitioning SET retention = '7 days' WHERE parent = 'meter_intervals'`);
      // 2019-01-10 minus 7 days is 2019-01-03: the partitions of the 1st and 2nd end at or before it, the 3rd's not.
      const dropped = await dropExpiredPartitions(h.db, new Date('2019-01-10T00:00:00Z'));
      assert.deepEqual(
        dropped.map((d) => [d.partition, d.end]),
        [
          ['meter_intervals_p2019010100', '2019-01-02T00:00:00.000Z'],
          ['meter_intervals_p2019010200', '2019-01-03T00:00:00.000Z'],
        ],
      );
      assert.equal(await partitionsOf(h.db, 'meter_intervals'), intervals - 2);
      assert.equal(await partitionsOf(h.db, 'device_readings'), devices);
      assert.deepEqual(await dropExpiredPartitions(h.db, new Date('2019-01-10T00:00:00Z')), []);
    });

    it('the maintainer creates partitions ahead when it starts', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const ahead = await partitionsOf(h.db, 'meter_intervals');
      await h.db.query(`UPDATE storage_partitioning SET ahead = '20 days' WHERE parent = 'meter_intervals'`);
      const task = partitionMaintainer({ db: h.db, logger: silentLogger() });
      await task.start();
      await task.stop();
      assert.ok((await partitionsOf(h.db, 'meter_intervals')) >= ahead + 13);
    });
  });
}
