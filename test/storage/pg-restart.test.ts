import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { isRetryable } from '../../src/common/index.ts';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { createObservationStore, migrate, openDb } from '../../src/storage/index.ts';
import { testDatabaseUrl } from '../helpers/services.ts';
import { chunk, count } from './helpers.ts';
import { havePgBinaries, startPrivateCluster } from './private-cluster.ts';

const BATCHES = 40;

function batchOf(n: number): GridSeriesChunk[] {
  const start = new Date(Date.UTC(2025, 0, 1) + n * 86_400_000).toISOString();
  return ['B04', 'B12', 'B16', 'B19'].map((productionType) =>
    chunk({ productionType, start, points: 96, value: (i) => n * 1000 + i }),
  );
}

describe('PostgreSQL restart mid-stream (private cluster)', () => {
  it('the writer sees retryable errors, retries until the server is back, and nothing is lost or duplicated', async (t) => {
    // Runs where the PostgreSQL suites run; needs the server binaries, never the shared server.
    if (testDatabaseUrl(t) === undefined) return;
    if (!(await havePgBinaries())) assert.fail('PostgreSQL server binaries are missing (/usr/lib/postgresql/15/bin)');
    const cluster = await startPrivateCluster();
    t.after(() => cluster.remove());
    const db = await openDb({
      url: cluster.url,
      dataDir: '/nonexistent', // only PGlite uses it
      schema: 'gs',
      logger: silentLogger(),
      poolSize: 2,
      connectTimeoutMs: 2000,
    });
    t.after(() => db.close());
    await migrate(db);
    const store = createObservationStore(db);

    let retries = 0;
    const outages: Promise<void>[] = [];
    let outageFailure: unknown;
    for (let n = 0; n < BATCHES; n++) {
      // A graceful restart (admin shutdown of live sessions) and a crash (immediate: recovery from WAL), each
      // started while the writer keeps going.
      const outage = (mode: 'fast' | 'immediate'): Promise<void> =>
        cluster
          .stop(mode)
          .then(() => sleep(1000))
          .then(() => cluster.start())
          .catch((e: unknown) => {
            outageFailure = e;
          });
      if (n === 10) outages.push(outage('fast'));
      if (n === 25) outages.push(outage('immediate'));
      // What the processor runner does with a batch: retry the same batch while the error is retryable.
      for (;;) {
        try {
          const result = await store.write(batchOf(n));
          assert.equal(result.rejected.length, 0, 'nothing is dead-lettered because of an outage');
          break;
        } catch (error) {
          assert.ok(isRetryable(error), `only retryable errors during an outage: ${String(error)}`);
          retries++;
          await sleep(100);
        }
      }
    }
    await Promise.all(outages);
    assert.equal(outageFailure, undefined);
    assert.ok(retries > 0, 'the outages were noticed');
    assert.equal(await count(db, 'grid_observations'), BATCHES * 4 * 96);
    assert.equal(await count(db, 'grid_observation_revisions'), 0);
    const { rows } = await db.query<{ total: number }>('SELECT sum(value)::float8 AS total FROM grid_observations');
    let expected = 0;
    for (let n = 0; n < BATCHES; n++) for (let i = 0; i < 96; i++) expected += 4 * (n * 1000 + i);
    assert.equal(rows[0]?.total, expected);
  });
});
