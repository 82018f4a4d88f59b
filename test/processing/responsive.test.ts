import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { gridObservationsTopic, rawEntsoeTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { PROCESS_GROUPS, processRole } from '../../src/processing/index.ts';
import { embeddedInfra } from '../helpers/infra.ts';
import { hostileEntsoeDocument } from '../helpers/hostile-entsoe.ts';
import { lag } from '../helpers/log.ts';

describe('process role: a big document does not hold the event loop', () => {
  it('processing a 1.98 M-step document leaves the event loop free every few hundred ms', async (t) => {
    const embedded = await embeddedInfra();
    const { infra } = embedded;
    t.after(() => embedded.remove());
    const components = processRole(infra);
    t.after(async () => {
      for (const c of components) await c.stop();
    });
    for (const c of components) await c.start();
    // Allowed (under the 2 M-step cap): two sequential Periods of 990 000 PT15M steps, 1.98 M observations.
    const body = hostileEntsoeDocument(2, 990_000, { resolution: 'PT15M', sequential: true }).toString('utf8');
    const histogram = monitorEventLoopDelay({ resolution: 10 });
    histogram.enable();
    const started = performance.now();
    await produceValues(infra.log, rawEntsoeTopic, [
      {
        id: 'big',
        origin: 'file',
        fetchedAt: '2026-12-04T00:00:00.000Z',
        request: null,
        httpStatus: 200,
        body,
        fileName: 'big.xml',
      },
    ]);
    while ((await lag(infra.log, PROCESS_GROUPS.entsoe, rawEntsoeTopic.name)) > 0) {
      assert.ok(performance.now() - started < 120_000, 'processed within 2 minutes');
      await new Promise((r) => setTimeout(r, 50));
    }
    histogram.disable();
    const maxMs = histogram.max / 1e6;
    t.diagnostic(
      `processed in ${Math.round(performance.now() - started)} ms; event-loop delay max ${Math.round(maxMs)} ms, p99 ${Math.round(histogram.percentile(99) / 1e6)} ms`,
    );
    const ends = await infra.log.offsets(gridObservationsTopic.name);
    assert.ok(ends.reduce((n, e) => n + e.next, 0) >= 990, 'the observations were produced');
    assert.ok(maxMs < 2000, `event loop held for ${Math.round(maxMs)} ms at most (bound 2000 ms)`);
  });
});
