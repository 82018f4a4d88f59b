import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, it } from 'node:test';
import { createMetrics } from '../../src/observability/index.ts';
import { promtoolPath } from '../helpers/services.ts';

describe('Prometheus metrics', () => {
  it('the /metrics exposition, with every gridstream metric recorded, passes `promtool check metrics`', async (t) => {
    const promtool = await promtoolPath(t);
    if (promtool === undefined) return;
    const m = createMetrics();
    m.recordsIn('processing', 'raw.entsoe', 3);
    m.recordsOut('processing', 'grid.observations', 40);
    m.recordsRejected('processing', 'raw.entsoe', 'unmapped_area', 1);
    m.batchSeconds('storage', 0.042);
    m.retries('storage', 'db_unavailable');
    m.consumerLag('gridstream-store', 'grid.observations', 0, 12);
    m.watermarkDelay('store', 'DE_LU', 5400);
    m.httpRequest('GET', '/api/v1/series', 200, 0.012);
    m.upstreamRequest('web-api.tp.entsoe.eu', '503');
    m.limiterWait('web-api.tp.entsoe.eu', 0.15);
    m.observationsStored('inserted', 96);
    const text = await m.registry.metrics();
    const r = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(r.status, 0, `promtool: ${r.stdout}${r.stderr}`);
    for (const name of [
      'gridstream_records_in_total',
      'gridstream_consumer_lag',
      'gridstream_watermark_delay_seconds',
      'gridstream_http_request_duration_seconds_bucket',
      'gridstream_observations_stored_total',
    ]) {
      assert.match(text, new RegExp(`^${name}\\{`, 'm'));
    }
  });
});
