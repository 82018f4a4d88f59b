import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import { LeaderElector, SqlBackfillProgressStore, SqlJobRunStore, SqlLeaseStore } from '../../src/scheduler/index.ts';
import { DB_KINDS, openTestDb } from '../storage/helpers.ts';

const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

for (const kind of DB_KINDS) {
  describe(`SQL scheduler stores on ${kind}`, () => {
    it('leases: one holder at a time, renewal by the holder, takeover after expiry, release hands over', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const store = new SqlLeaseStore(handle.db);
      const [a1, b1] = await Promise.all([store.acquire('l', 'a', 400), store.acquire('l', 'b', 400)]);
      assert.equal([a1, b1].filter((x) => x !== null).length, 1, 'exactly one contender wins');
      const winner = (a1 ?? b1)!.holder;
      const loser = winner === 'a' ? 'b' : 'a';
      assert.ok((await store.acquire('l', winner, 400))!.remainingMs > 300, 'the holder renews');
      assert.equal(await store.acquire('l', loser, 400), null);
      await wait(500);
      assert.equal((await store.acquire('l', loser, 400))?.holder, loser, 'taken over after expiry');
      await store.release('l', loser);
      assert.equal(await store.current('l'), null);
      assert.equal((await store.acquire('l', winner, 400))?.holder, winner);
    });

    it('leader election fails over to the second instance when the leader crashes', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const store = new SqlLeaseStore(handle.db);
      const ttlMs = 600;
      const a = new LeaderElector({ store, logger: silentLogger(), holder: 'a', ttlMs });
      const b = new LeaderElector({ store, logger: silentLogger(), holder: 'b', ttlMs });
      await a.start();
      for (let i = 0; i < 200 && !a.isLeader; i++) await wait(10);
      await b.start();
      await wait(300);
      assert.deepEqual([a.isLeader, b.isLeader], [true, false]);
      const crashed = Date.now();
      await a.stop({ release: false });
      while (!b.isLeader && Date.now() - crashed < 10_000) await wait(10);
      const took = Date.now() - crashed;
      assert.ok(b.isLeader);
      // Within one lease period plus one renewal interval (and the database's own latency).
      t.diagnostic(`failover after ${took} ms (lease ${ttlMs} ms)`);
      assert.ok(took < ttlMs + ttlMs / 3 + 2000);
      await b.stop();
      assert.equal(await store.current('gridstream-scheduler'), null, 'a clean stop releases the lease');
    });

    it('job runs: start, finish, list newest first, details merged', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const runs = new SqlJobRunStore(handle.db);
      const windowStart = Date.parse('2024-05-01T07:00Z');
      const first = await runs.start({
        job: 'entsoe-hourly',
        windowStart,
        windowEnd: windowStart + 3 * 3_600_000,
        details: { scheduledFor: '2024-05-01T10:05:00.000Z' },
      });
      assert.equal(first.status, 'running');
      const done = await runs.finish(first.id, {
        status: 'partial',
        documents: 5,
        points: 1200,
        errors: 1,
        error: null,
        details: { requests: 6 },
      });
      assert.equal(done.status, 'partial');
      assert.equal(done.points, 1200);
      assert.ok(done.durationMs !== null && done.durationMs >= 0);
      assert.deepEqual(done.details, { scheduledFor: '2024-05-01T10:05:00.000Z', requests: 6 });
      assert.equal(done.windowStart, windowStart);
      const second = await runs.start({ job: 'entsoe-daily', windowStart: null, windowEnd: null });
      assert.deepEqual(
        (await runs.list()).map((r) => r.id),
        [second.id, first.id],
      );
      assert.deepEqual(
        (await runs.list({ job: 'entsoe-hourly' })).map((r) => r.id),
        [first.id],
      );
    });

    it('backfill progress: marks, attempts and loads chunks by id', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const progress = new SqlBackfillProgressStore(handle.db);
      await progress.mark('bf-1', 'chunk-a', { status: 'running' });
      await progress.mark('bf-1', 'chunk-a', { status: 'failed', error: 'network_error' });
      await progress.mark('bf-1', 'chunk-a', { status: 'running' });
      await progress.mark('bf-1', 'chunk-a', { status: 'done', points: 8760 });
      await progress.mark('bf-1', 'chunk-b', { status: 'running' });
      const loaded = await progress.load(['chunk-a', 'chunk-b', 'chunk-c']);
      assert.deepEqual(loaded.get('chunk-a'), {
        chunkId: 'chunk-a',
        backfillId: 'bf-1',
        status: 'done',
        points: 8760,
        attempts: 2,
        error: null,
      });
      assert.equal(loaded.get('chunk-b')?.status, 'running');
      assert.equal(loaded.has('chunk-c'), false);
    });
  });
}
