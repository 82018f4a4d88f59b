import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import { FakeEntsoe, TEST_TOKEN } from '../helpers/fake-entsoe.ts';
import { tempDir } from '../helpers/services.ts';

describe('the gap healer in the runtime', () => {
  it('runs beside a live scheduler (with a token) and stops with it', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const fake = await FakeEntsoe.start();
    t.after(() => fake.close());
    const config = loadConfig({
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_LOG_LEVEL: 'silent',
      ENTSOE_TOKEN: TEST_TOKEN,
      ENTSOE_BASE_URL: fake.url,
      GRIDSTREAM_GAP_INTERVAL_MS: '1000',
    });
    assert.equal(config.gaps.intervalMs, 1000);
    const runtime = await startRuntime({ config, logger: silentLogger(), roles: ['scheduler'] });
    try {
      const healer = runtime.supervisor.components.find((c) => c.name === 'completeness-gaps');
      assert.ok(healer !== undefined, 'a live scheduler has a gap healer');
      assert.equal(healer.state, 'running');
      // An empty database: nothing is expected yet, so nothing is asked for beyond the cron jobs' own requests.
      const { rows } = await runtime.infra.db.query<{ n: number }>(
        'SELECT count(*)::integer AS n FROM completeness_gaps',
      );
      assert.equal(rows[0]?.n, 0);
    } finally {
      await runtime.stop();
    }
    const healer = runtime.supervisor.components.find((c) => c.name === 'completeness-gaps');
    assert.ok(healer !== undefined);
    assert.equal(healer.state, 'stopped');
    await healer.stop();
    assert.equal(healer.state, 'stopped', 'stop() again is a no-op');
  });
});
