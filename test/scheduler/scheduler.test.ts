import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TestContext } from 'node:test';
import { silentLogger } from '../../src/observability/index.ts';
import type { JobContext, ScheduledJob } from '../../src/scheduler/index.ts';
import { MemoryJobRunStore, MemoryLeaseStore, Scheduler } from '../../src/scheduler/index.ts';

/** Lets every pending promise callback run (timers are mocked; setImmediate is not). */
async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
}

/** Advances the mocked clock by `ms` in one-second steps, letting async work run in between. */
async function advance(t: TestContext, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 1000) {
    t.mock.timers.tick(1000);
    await flush();
  }
}

function recordingJob(
  name: string,
  cron: string,
  seen: { job: string; instance: string; ctx: JobContext }[],
  instance: string,
): ScheduledJob {
  return {
    name,
    cron,
    window: { lookbackHours: 3 },
    run(ctx) {
      seen.push({ job: name, instance, ctx });
      return Promise.resolve({ requests: 2, documents: 2, points: 10, errors: 0 });
    },
  };
}

/** Read through a call, so that an earlier assertion's narrowing does not stick. */
const isLeader = (s: Scheduler): boolean => s.isLeader;

describe('scheduler', () => {
  it('fires only on the leader, records every run, and a crashed leader is replaced within a lease period', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2024-05-01T09:58:00Z') });
    const leases = new MemoryLeaseStore();
    const runs = new MemoryJobRunStore();
    const seen: { job: string; instance: string; ctx: JobContext }[] = [];
    const make = (id: string) =>
      new Scheduler({
        jobs: [recordingJob('every-minute', '* * * * *', seen, id)],
        leases,
        runs,
        logger: silentLogger(),
        instanceId: id,
        leaseTtlMs: 30_000,
        catchUpMs: 0,
      });
    const a = make('a');
    const b = make('b');
    await a.start();
    await flush();
    await b.start();
    await flush();
    assert.equal(a.isLeader, true);
    assert.equal(b.isLeader, false);

    await advance(t, 180_000); // three minutes: three fires, all on a
    assert.ok(seen.length >= 2 && seen.every((s) => s.instance === 'a'), JSON.stringify(seen.map((s) => s.instance)));

    const crashedAt = Date.now();
    await a.stop({ release: false }); // a crash: the lease is left to expire
    const before = seen.length;
    let tookOver = Number.NaN;
    for (let i = 0; i < 60 && Number.isNaN(tookOver); i++) {
      await advance(t, 1000);
      if (isLeader(b)) tookOver = Date.now(); // a call: `assert.equal` above narrowed the property
    }
    assert.ok(!Number.isNaN(tookOver), 'b never became leader');
    // Lease period (30 s) plus one renewal interval (10 s) at most.
    assert.ok(tookOver - crashedAt <= 40_000, `took over after ${tookOver - crashedAt} ms`);
    await advance(t, 120_000);
    assert.ok(seen.slice(before).every((s) => s.instance === 'b'));
    assert.ok(seen.length > before);

    // Every fire ran exactly once, and every run was recorded as succeeded with its window.
    const fires = seen.map((s) => s.ctx.scheduledFor);
    assert.equal(new Set(fires).size, fires.length);
    const recorded = await runs.list({ job: 'every-minute', limit: 1000 });
    assert.equal(recorded.length, seen.length);
    for (const r of recorded) {
      assert.equal(r.status, 'succeeded');
      assert.equal(r.documents, 2);
      assert.equal(r.points, 10);
      assert.equal((r.windowEnd ?? 0) - (r.windowStart ?? 0), 3 * 3_600_000);
    }
    await b.stop();
  });

  it('a new leader runs a recent fire nobody recorded, once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout', 'Date'], now: Date.parse('2024-05-01T10:20:00Z') });
    const seen: { job: string; instance: string; ctx: JobContext }[] = [];
    const runs = new MemoryJobRunStore();
    const s = new Scheduler({
      jobs: [recordingJob('hourly', '5 * * * *', seen, 'x')],
      leases: new MemoryLeaseStore(),
      runs,
      logger: silentLogger(),
      leaseTtlMs: 30_000,
    });
    await s.start();
    await advance(t, 5000);
    assert.equal(seen.length, 1);
    assert.equal(new Date(seen[0]!.ctx.scheduledFor).toISOString(), '2024-05-01T10:05:00.000Z');
    // The catch-up run fetches the window of its actual run time.
    assert.equal(new Date(seen[0]!.ctx.window.end).toISOString(), '2024-05-01T10:00:00.000Z');
    await advance(t, 40 * 60_000);
    assert.equal(seen.length, 1);
    await advance(t, 10 * 60_000);
    assert.equal(seen.length, 2);
    assert.equal(new Date(seen[1]!.ctx.scheduledFor).toISOString(), '2024-05-01T11:05:00.000Z');
    await s.stop();
  });

  it('records failed and partial runs, and cancels a running job on stop', async (t) => {
    const runs = new MemoryJobRunStore();
    let release: (() => void) | undefined;
    const jobs: ScheduledJob[] = [
      {
        name: 'fails',
        cron: '0 0 1 1 *',
        window: { lookbackHours: 1 },
        run: () => Promise.reject(new Error('upstream down')),
      },
      {
        name: 'partial',
        cron: '0 0 1 1 *',
        window: { lookbackHours: 1 },
        run: () => Promise.resolve({ requests: 4, documents: 3, points: 30, errors: 1 }),
      },
      {
        name: 'slow',
        cron: '0 0 1 1 *',
        window: { lookbackHours: 1 },
        run: ({ signal }) =>
          new Promise((_resolve, reject) => {
            release = () => {
              reject(signal.reason as Error);
            };
            signal.addEventListener('abort', () => release?.(), { once: true });
          }),
      },
    ];
    const s = new Scheduler({ jobs, leases: new MemoryLeaseStore(), runs, logger: silentLogger() });
    assert.equal((await s.runNow('fails')).status, 'failed');
    assert.equal((await runs.list({ job: 'fails' }))[0]!.error, 'upstream down');
    assert.equal((await s.runNow('partial')).status, 'partial');
    const controller = new AbortController();
    const slow = s.runNow('slow', { signal: controller.signal });
    await flush();
    controller.abort(new Error('stopping'));
    assert.equal((await slow).status, 'cancelled');
    await assert.rejects(s.runNow('nope'), /no job named/);
    t.diagnostic(`runs: ${(await runs.list()).map((r) => `${r.job}=${r.status}`).join(' ')}`);
  });
});
