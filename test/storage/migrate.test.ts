import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import type { MigrateResult } from '../../src/storage/index.ts';
import { StorageError, ensurePartitions, loadMigrations, migrate } from '../../src/storage/index.ts';
import { DB_KINDS, count, openTestDb } from './helpers.ts';

const run = promisify(execFile);
const CHILD = fileURLToPath(new URL('./children/migrate-child.ts', import.meta.url));

for (const kind of DB_KINDS) {
  describe(`migrate: ${kind}`, () => {
    it('0007 turns stored percent shares into fractions, without recording revisions', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      const files = await loadMigrations();
      const shares = files.findIndex((m) => m.name === 'shares_as_fractions');
      assert.ok(shares > 0);
      await migrate(h.db, { migrations: files.slice(0, shares) });
      const key = `'FI', 'renewable_share', '', '', ''`;
      await h.db.exec(
        `INSERT INTO grid_observations (zone, metric, production_type, counterpart_zone, qualifier, slot_start, value, unit, source)
         VALUES (${key}, '2023-05-08T00:00:00Z', 40, '%', 'gridstream'), (${key}, '2023-05-08T00:15:00Z', 60, '%', 'gridstream')`,
      );
      // A real correction before the migration: kept as a revision, and converted too.
      await h.db.exec(
        `UPDATE grid_observations SET value = 50 WHERE zone = 'FI' AND slot_start = '2023-05-08T00:15:00Z'`,
      );
      await migrate(h.db);
      const { rows } = await h.db.query<{ value: number; unit: string }>(
        `SELECT value, unit FROM grid_observations WHERE zone = 'FI' ORDER BY slot_start`,
      );
      assert.deepEqual(
        rows.map((r) => [r.value, r.unit]),
        [
          [0.4, 'fraction'],
          [0.5, 'fraction'],
        ],
      );
      const revisions = await h.db.query<{ old_value: number; old_unit: string; new_value: number }>(
        'SELECT old_value, old_unit, new_value FROM grid_observation_revisions',
      );
      assert.deepEqual(
        revisions.rows.map((r) => [r.old_value, r.old_unit, r.new_value]),
        [[0.6, 'fraction', 0.5]],
        'one revision: the correction, converted; the conversion itself recorded none',
      );
    });

    it('applies every migration once, in order, and is a no-op the second time', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      const files = await loadMigrations();
      const first = await migrate(h.db);
      assert.deepEqual(
        first.applied.map((m) => m.version),
        files.map((m) => m.version),
      );
      const second = await migrate(h.db);
      assert.deepEqual([second.applied.length, second.version], [0, files.length]);
      assert.equal(await count(h.db, 'gridstream_migrations'), files.length);
      for (const table of [
        'grid_observations',
        'grid_observation_revisions',
        'grid_series',
        'meter_intervals',
        'meter_interval_revisions',
        'meter_register_reads',
        'meter_register_read_revisions',
        'device_readings',
        'device_reading_revisions',
        'meter_days',
        'meter_day_revisions',
        'group_aggregates',
        'group_aggregate_revisions',
        'stream_watermarks',
        'stream_jobs',
        'stream_pending_windows',
        'meter_read_audit',
        'consumer_offsets',
        'dead_letters',
        'job_runs',
        'leases',
        'rate_limit_buckets',
        'backfill_chunks',
        'api_keys',
      ]) {
        assert.equal(await count(h.db, table), 0, table);
      }
    });

    it('refuses to run when an applied migration file has changed', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const files = await loadMigrations();
      const edited = files.map((m, i) => (i === 0 ? { ...m, checksum: 'changed' } : m));
      await assert.rejects(
        migrate(h.db, { migrations: edited }),
        (e: unknown) => e instanceof StorageError && e.code === 'db.migration_invalid',
      );
    });

    it('creates time partitions ahead, and on demand for any range, idempotently', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const partitions = async (): Promise<number> =>
        count(h.db, 'pg_inherits', `inhparent = 'meter_register_reads'::regclass`);
      const ahead = await partitions();
      assert.ok(ahead >= 3, `monthly register read partitions ahead: ${ahead}`);
      const created = await ensurePartitions(
        h.db,
        'meter_register_reads',
        new Date('2019-01-10T00:00:00Z'),
        new Date('2019-03-02T00:00:00Z'),
      );
      assert.equal(created, 3);
      assert.equal(await partitions(), ahead + 3);
      const again = await h.db.query<{ created: number }>(
        `SELECT gridstream_ensure_partitions('meter_register_reads', '2019-01-10T00:00:00Z', '2019-03-02T00:00:00Z') AS created`,
      );
      assert.equal(again.rows[0]?.created, 0);
      await h.db.query(
        `INSERT INTO meter_register_reads (meter_id, quantity, ts, value, log_topic, log_partition, log_offset)
         VALUES ('m', 'register_import', '2019-02-01T00:15:00Z', 1, 'raw.meters', 0, 0)`,
      );
      const { rows } = await h.db.query<{ created: number }>(
        `SELECT gridstream_ensure_partitions('meter_intervals', '2019-02-01T00:00:00Z', '2019-02-02T12:00:00Z') AS created`,
      );
      assert.equal(rows[0]?.created, 2);
    });
  });
}

describe('migrate: PostgreSQL, several processes at once', () => {
  it('applies each migration exactly once when four workers start together on an empty schema', async (t) => {
    const h = await openTestDb(t, 'postgres', { migrate: false });
    if (h === undefined) return;
    const arg = JSON.stringify({ url: h.url, dataDir: h.dataDir, schema: h.schema, startAt: Date.now() + 1500 });
    const outputs = await Promise.all([1, 2, 3, 4].map(() => run(process.execPath, [CHILD, arg])));
    const results = outputs.map((o) => JSON.parse(o.stdout) as MigrateResult);
    const files = await loadMigrations();
    const appliedVersions = results.flatMap((r) => r.applied.map((m) => m.version)).sort((a, b) => a - b);
    assert.deepEqual(
      appliedVersions,
      files.map((m) => m.version),
    );
    assert.ok(results.every((r) => r.version === files.length));
    assert.equal(await count(h.db, 'gridstream_migrations'), files.length);
  });
});
