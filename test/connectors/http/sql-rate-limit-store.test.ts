import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Secret } from '../../../src/config/index.ts';
import { EntsoeClient, entsoeRequest } from '../../../src/connectors/entsoe/index.ts';
import type { SqlClient } from '../../../src/common/index.ts';
import { SqlRateLimitStore, bucketFor } from '../../../src/connectors/http/index.ts';
import { loadReference } from '../../../src/reference/index.ts';
import type { Db } from '../../../src/storage/index.ts';
import { FakeEntsoe, TEST_TOKEN, captureLogger } from '../../helpers/fake-entsoe.ts';
import { DB_KINDS, openTestDb } from '../../storage/helpers.ts';

// The storage module's Db satisfies the structural port the SQL stores are written against.
const _dbIsASqlClient = (db: Db): SqlClient => db;

for (const kind of DB_KINDS) {
  describe(`SqlRateLimitStore on ${kind}`, () => {
    it('takes tokens atomically: concurrent takers get exactly the burst', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const store = new SqlRateLimitStore(handle.db);
      const spec = { capacity: 5, refillPerSecond: 0.001 };
      const results = await Promise.all(Array.from({ length: 20 }, () => store.take('k', spec)));
      assert.equal(results.filter((r) => r.granted).length, 5);
      const denied = results.find((r) => !r.granted);
      assert.ok(denied !== undefined);
      assert.ok(!denied.granted);
      assert.ok(denied.waitMs > 0 && denied.bannedUntil === null);
    });

    it('shares bans: nothing is granted until the ban ends, and a ban is never shortened', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const store = new SqlRateLimitStore(handle.db);
      const until = Date.now() + 60_000;
      await store.ban('k', until);
      await store.ban('k', until - 30_000);
      const seen = await store.bannedUntil('k');
      assert.ok(seen !== null && Math.abs(seen - until) < 2);
      const r = await store.take('k', { capacity: 5, refillPerSecond: 100 });
      assert.ok(!r.granted);
      assert.ok(r.bannedUntil !== null && r.waitMs > 50_000);
      assert.equal(await store.bannedUntil('other'), null);
      const { rows } = await handle.db.query<{ key: string }>('SELECT key FROM rate_limit_buckets');
      assert.ok(rows.every((row) => !row.key.includes(TEST_TOKEN)));
    });

    it('keeps two clients on one database within the budget, counted by the fake service', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const fake = await FakeEntsoe.start();
      t.after(() => fake.close());
      const store = new SqlRateLimitStore(handle.db);
      const limit = { requestsPerMinute: 600 };
      const reference = loadReference();
      const clients = [0, 1].map(
        () =>
          new EntsoeClient({
            baseUrl: fake.url,
            token: new Secret(TEST_TOKEN),
            logger: captureLogger().logger,
            rateLimits: store,
            limit,
          }),
      );
      const start = Date.parse('2025-10-21T00:00Z');
      await Promise.all(
        clients.map(async (c, i) => {
          for (let k = 0; k < 12; k++) {
            const h = start + (i * 12 + k) * 3_600_000;
            await c.fetch(entsoeRequest('A75', 'SE_4', { start: h, end: h + 3_600_000 }, reference));
          }
        }),
      );
      assert.equal(fake.requests.length, 24);
      const { capacity, refillPerSecond } = bucketFor(limit);
      for (const windowMs of [500, 1000]) {
        const allowed = Math.floor(capacity + ((windowMs + 100) / 1000) * refillPerSecond);
        assert.ok(fake.maxInWindow(TEST_TOKEN, windowMs) <= allowed);
      }
    });
  });
}
