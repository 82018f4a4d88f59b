import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { Component, PeriodicTask } from '../../src/common/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import type { SchedulerRole } from '../../src/scheduler/index.ts';
import { reference } from '../helpers/api.ts';
import { FakeEntsoe, TEST_TOKEN } from '../helpers/fake-entsoe.ts';
import { tempDir } from '../helpers/services.ts';

const isPeriodic = (c: Component): c is PeriodicTask => 'iterations' in c && 'wake' in c;
const isSchedulerRole = (c: Component): c is SchedulerRole => 'isLeader' in c && 'leaderTerm' in c;

/** Polls `check` until it holds (bounded: a wiring that never gets there fails the test, it does not hang it). */
async function until(what: string, check: () => Promise<boolean> | boolean, limitMs = 60_000): Promise<void> {
  const end = Date.now() + limitMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`never: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('the gap healer in the runtime', () => {
  it('asks for gaps while this process leads the scheduler, and stops asking once another instance leads', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const fake = await FakeEntsoe.start();
    t.after(() => fake.close());
    // The rule file expects Luxembourg's actual load, of which nothing is stored: the whole lookback is one gap.
    const rulesFile = join(dir.path, 'alert-rules.json');
    await writeFile(
      rulesFile,
      JSON.stringify({
        publication: [{ source: 'entsoe', metric: 'load_actual', zone: 'LU', delay: 'PT1H', margin: 'PT1H' }],
      }),
    );
    const config = loadConfig({
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_LOG_LEVEL: 'silent',
      ENTSOE_TOKEN: TEST_TOKEN,
      ENTSOE_BASE_URL: fake.url,
      GRIDSTREAM_GAP_INTERVAL_MS: '1000',
      GRIDSTREAM_ALERT_RULES: rulesFile,
    });
    assert.equal(config.gaps.intervalMs, 1000);
    const runtime = await startRuntime({ config, logger: silentLogger(), roles: ['scheduler'] });
    const { db } = runtime.infra;
    const healer = runtime.supervisor.components.find((c) => c.name === 'completeness-gaps');
    try {
      assert.ok(healer !== undefined && isPeriodic(healer), 'a live scheduler has a gap healer');
      assert.equal(healer.state, 'running');
      const scheduler = runtime.supervisor.components.find(isSchedulerRole);
      assert.ok(scheduler !== undefined);

      const luLoadRequests = (): number =>
        fake.requests.filter(
          (r) => r.params['documentType'] === 'A65' && r.params['outBiddingZone_Domain'] === reference.zone('LU').eic,
        ).length;
      const askedGaps = async (): Promise<number> => {
        const { rows } = await db.query<{ n: number }>(
          `SELECT count(*)::integer AS n FROM completeness_gaps
           WHERE zone = 'LU' AND metric = 'load_actual' AND tries + failures > 0`,
        );
        return rows[0]?.n ?? 0;
      };
      // Leader: the gap is found and asked for, through the scheduler's client (the fake sees the request).
      await until('the leader asks for the gap', async () => (await askedGaps()) === 1);
      assert.equal(scheduler.isLeader(), true);
      assert.ok(luLoadRequests() >= 1);

      // Another instance takes the lease: this one steps down at its next renewal, and its healer stops asking.
      await db.query(
        `UPDATE leases SET holder = 'another-instance', expires_at = now() + interval '1 hour'
         WHERE name = 'gridstream-scheduler'`,
      );
      await until('the process steps down', () => !scheduler.isLeader());
      await db.query('DELETE FROM completeness_gaps');
      const requests = luLoadRequests();
      const passes = healer.iterations;
      await until('three more passes of the healer', () => {
        healer.wake();
        return healer.iterations >= passes + 3;
      });
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::integer AS n FROM completeness_gaps');
      assert.equal(rows[0]?.n, 0, 'not the leader: no gap looked for');
      assert.equal(luLoadRequests(), requests, 'not the leader: nothing asked for');
    } finally {
      await runtime.stop();
    }
    assert.equal(healer.state, 'stopped');
    await healer.stop();
    assert.equal(healer.state, 'stopped', 'stop() again is a no-op');
  });
});
