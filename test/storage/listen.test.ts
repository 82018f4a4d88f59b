import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import { DB_KINDS, openTestDb } from './helpers.ts';

/** Waits (15 s hang guard) until `check()` holds. */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('Db.listen', () => {
  for (const kind of DB_KINDS) {
    it(`${kind}: a NOTIFY reaches the subscriber once its transaction commits, and close() stops it`, async (t) => {
      const test = await openTestDb(t, kind, { migrate: false });
      if (test === undefined) return;
      const { db } = test;
      assert.ok(db.listen !== undefined);
      const got: string[] = [];
      const channel = `gs_listen_${test.schema}`;
      const sub = await db.listen(channel, { onNotify: (p) => got.push(p) });
      assert.equal(sub.live, true);
      await db.transaction(async (tx) => {
        await tx.query('SELECT pg_notify($1, $2)', [channel, 'in-tx']);
        await new Promise((resolve) => setTimeout(resolve, 50));
        assert.deepEqual(got, [], 'nothing before the commit');
      });
      await db.query('SELECT pg_notify($1, $2)', [channel, 'plain']);
      await until(() => got.length === 2, 'two notifications');
      assert.deepEqual(got, ['in-tx', 'plain']);
      await sub.close();
      await sub.close();
      await db.query('SELECT pg_notify($1, $2)', [channel, 'after']);
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.deepEqual(got, ['in-tx', 'plain']);
    });
  }

  it('postgres: a lost listening connection is reported as a gap and re-made', async (t) => {
    const test = await openTestDb(t, 'postgres', { migrate: false });
    if (test === undefined) return;
    const { db } = test;
    assert.ok(db.listen !== undefined);
    const got: string[] = [];
    let gaps = 0;
    const channel = `gs_listen_${test.schema}`;
    const sub = await db.listen(channel, { onNotify: (p) => got.push(p), onGap: () => gaps++ });
    t.after(() => sub.close());
    const { rowCount } = await db.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'gridstream-listen' AND query ILIKE $1`,
      [`%${channel}%`],
    );
    assert.equal(rowCount, 1);
    await until(() => gaps >= 1 && !sub.live, 'the loss to be noticed');
    await until(() => sub.live, 'the connection to be re-made');
    assert.equal(gaps, 2, 'told when lost and again when back');
    await db.query('SELECT pg_notify($1, $2)', [channel, 'again']);
    await until(() => got.includes('again'), 'a notification after the reconnection');
  });

  it('postgres: a listen still connecting when the database is closed leaves no connection behind', async (t) => {
    const test = await openTestDb(t, 'postgres', { migrate: false });
    if (test === undefined || test.url === null) return;
    const { db } = test;
    assert.ok(db.listen !== undefined);
    const channel = `gs_listen_${test.schema}`;
    const pending = db.listen(channel, { onNotify: () => undefined });
    await db.close();
    const sub = await pending.catch(() => undefined);
    assert.equal(sub?.live ?? false, false, 'a subscription of a closed database is not live');
    const admin = new pg.Client({ connectionString: test.url });
    await admin.connect();
    try {
      let left = -1;
      const deadline = Date.now() + 5000;
      do {
        await new Promise((resolve) => setTimeout(resolve, 100));
        const { rowCount } = await admin.query(
          `SELECT 1 FROM pg_stat_activity WHERE application_name = 'gridstream-listen' AND query ILIKE $1`,
          [`%${channel}%`],
        );
        left = rowCount ?? 0;
      } while (left > 0 && Date.now() < deadline);
      assert.equal(left, 0, 'the LISTEN connection outlived the closed database');
    } finally {
      await admin.end();
      await sub?.close();
    }
  });
});
