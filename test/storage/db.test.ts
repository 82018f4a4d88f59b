import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetryable } from '../../src/common/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { StorageError, openDb } from '../../src/storage/index.ts';
import { tempDir } from '../helpers/services.ts';
import { DB_KINDS, openTestDb } from './helpers.ts';

for (const kind of DB_KINDS) {
  describe(`Db port contract: ${kind}`, () => {
    it('returns int8 and float8 as numbers, numeric as exact text, timestamptz as Date, arrays as arrays', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      const { rows } = await h.db.query(
        `SELECT 9007199254740991::int8 AS big, 0.1::float8 AS f, 0.1::numeric + 0.2::numeric AS n,
           $1::timestamptz AS ts, $2::text[] AS arr, NULL::text AS nothing, $3::int AS p`,
        ['2025-10-21T10:15:00Z', ['a', 'b,c', 'd"e'], 7],
      );
      assert.deepEqual(rows[0], {
        big: 9007199254740991,
        f: 0.1,
        n: '0.3',
        ts: new Date('2025-10-21T10:15:00Z'),
        arr: ['a', 'b,c', 'd"e'],
        nothing: null,
        p: 7,
      });
    });

    it('commits a transaction, and rolls back everything of one that throws', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      await h.db.exec('CREATE SCHEMA IF NOT EXISTS ' + h.schema + '; CREATE TABLE t (k text PRIMARY KEY, v int)');
      await h.db.transaction(async (tx) => {
        await tx.query('INSERT INTO t VALUES ($1, $2)', ['a', 1]);
      });
      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.query('INSERT INTO t VALUES ($1, $2)', ['b', 2]);
          throw new Error('boom');
        }),
        /boom/,
      );
      const { rows } = await h.db.query<{ k: string }>('SELECT k FROM t ORDER BY k');
      assert.deepEqual(
        rows.map((r) => r.k),
        ['a'],
      );
    });

    it("rethrows what the transaction's own code threw as it is, and maps only the database's errors", async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      class Mine extends Error {}
      const mine = new Mine('not the database');
      await assert.rejects(
        h.db.transaction(() => Promise.reject(mine)),
        (e) => e === mine,
      );
      await assert.rejects(
        h.db.transaction(async (tx) => {
          await tx.query('SELECT * FROM no_such_table');
        }),
        (e) => e instanceof StorageError && e.code === 'db.query_failed',
      );
    });

    it('COPYs rows with tabs, newlines, backslashes, quotes, NULLs, arrays and non-ASCII text intact', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      await h.db.exec(
        'CREATE SCHEMA IF NOT EXISTS ' +
          h.schema +
          '; CREATE TABLE c (s text, n float8, b bool, a text[], ts timestamptz)',
      );
      const values = [
        ['tab\there', 1.5, true, ['x', 'y z', 'q"uote', 'back\\slash', '', 'NULL'], new Date('2024-03-31T01:00:00Z')],
        ['line\nbreak\r\n\\N', -0, false, [], '2024-10-27T01:15:00Z'],
        [null, null, null, null, null],
        ['Ünïcødé ⚡ 電力', 1e-7, true, ['{}', 'a,b'], '2025-01-01T00:00:00Z'],
      ] as const;
      const copied = await h.db.transaction((tx) => tx.copyRows('c', ['s', 'n', 'b', 'a', 'ts'], values));
      assert.equal(copied, 4);
      const { rows } = await h.db.query<{ s: string | null; n: number | null; a: string[] | null; ts: Date | null }>(
        'SELECT s, n, b, a, ts FROM c',
      );
      assert.deepEqual(
        rows.map((r) => r.s),
        ['tab\there', 'line\nbreak\r\n\\N', null, 'Ünïcødé ⚡ 電力'],
      );
      assert.deepEqual(rows[0]?.a, ['x', 'y z', 'q"uote', 'back\\slash', '', 'NULL']);
      assert.deepEqual(rows[3]?.a, ['{}', 'a,b']);
      assert.equal(rows[3].n, 1e-7);
      assert.deepEqual(rows[1]?.ts, new Date('2024-10-27T01:15:00Z'));
    });

    it('maps a constraint violation to a non-retryable db_rejected with its SQLSTATE', async (t) => {
      const h = await openTestDb(t, kind);
      if (h === undefined) return;
      const error = await h.db
        .query(
          `INSERT INTO grid_observations (zone, metric, slot_start, value, unit, source) VALUES ('FI', 'x', $1, 1, 'furlong', 'entsoe')`,
          ['2025-01-01T00:00:00Z'],
        )
        .then(
          () => assert.fail('expected a rejection'),
          (e: unknown) => e,
        );
      assert.ok(error instanceof StorageError);
      assert.equal(error.code, 'db.rejected');
      assert.equal(error.sqlState, '23514');
      assert.equal(isRetryable(error), false);
    });

    it('is closed idempotently; calls after close fail with db_closed', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      await h.db.close();
      await h.db.close();
      await assert.rejects(h.db.query('SELECT 1'), (e: unknown) => e instanceof StorageError && e.code === 'db.closed');
      await h.reopen();
    });

    it('does not start work after its signal is aborted', async (t) => {
      const h = await openTestDb(t, kind, { migrate: false });
      if (h === undefined) return;
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(h.db.query('SELECT 1', [], { signal: controller.signal }), { name: 'AbortError' });
    });
  });
}

describe('Db port: PostgreSQL specifics', () => {
  it('reports an unreachable server as a retryable db_unavailable', async () => {
    const db = await openDb({
      url: 'postgres://postgres@127.0.0.1:1/none',
      dataDir: '/nonexistent',
      logger: silentLogger(),
      connectTimeoutMs: 2000,
    });
    const error = await db.query('SELECT 1').then(
      () => assert.fail('expected a failure'),
      (e: unknown) => e,
    );
    assert.ok(error instanceof StorageError);
    assert.equal(error.code, 'db.unavailable');
    assert.equal(isRetryable(error), true);
    await db.close();
  });

  it('cancels a running statement when the signal fires', async (t) => {
    const h = await openTestDb(t, 'postgres', { migrate: false });
    if (h === undefined) return;
    const started = Date.now();
    await assert.rejects(h.db.query('SELECT pg_sleep(30)', [], { signal: AbortSignal.timeout(200) }), {
      name: 'TimeoutError',
    });
    assert.ok(Date.now() - started < 20_000, 'the statement was cancelled, not waited for');
  });
});

describe('Db port: PGlite specifics', () => {
  it('keeps its data across close and reopen', async () => {
    const dir = await tempDir();
    try {
      const a = await openDb({ dataDir: dir.path, logger: silentLogger() });
      await a.exec('CREATE TABLE kept (v text)');
      await a.query('INSERT INTO kept VALUES ($1)', ['still here']);
      await a.close();
      const b = await openDb({ dataDir: dir.path, logger: silentLogger() });
      const { rows } = await b.query<{ v: string }>('SELECT v FROM kept');
      assert.deepEqual(rows, [{ v: 'still here' }]);
      await b.close();
    } finally {
      await dir.remove();
    }
  });

  it('refuses a second opener of the same directory while the first holds it', async () => {
    const dir = await tempDir();
    try {
      const a = await openDb({ dataDir: dir.path, logger: silentLogger() });
      await assert.rejects(
        openDb({ dataDir: dir.path, logger: silentLogger() }),
        (e: unknown) => e instanceof StorageError && e.code === 'db.locked' && !isRetryable(e),
      );
      await a.close();
    } finally {
      await dir.remove();
    }
  });
});
