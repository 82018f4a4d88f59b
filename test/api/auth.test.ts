import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { HttpServer } from '../../src/api/index.ts';
import { createApiKey, pingReadiness } from '../../src/api/index.ts';
import { ingestGateway } from '../../src/ingest/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import type { TestApi } from '../helpers/api.ts';
import { startTestApi } from '../helpers/api.ts';

const WRONG = 'gs_aaaaaaaaaaaa_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb';
const READING = `${JSON.stringify({ deviceId: 'm1', kind: 'smart_meter', ts: '2026-01-01T00:00:00Z', quantity: 'energy', value: 1, unit: 'kWh' })}\n`;

/** One rule for keys on both ports, and failed guesses throttled per client address with growing backoff. */
describe('authentication on the API and ingest ports', () => {
  let api: TestApi;
  let gateway: HttpServer;
  let apiUrl: string;
  let ingestUrl: string;
  let operator: string;
  before(async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    api = await startTestApi({ metrics });
    operator = (await createApiKey(api.db, { name: 'meters', role: 'operator' })).key;
    gateway = ingestGateway(
      { db: api.db, log: api.log, logger: silentLogger(), metrics, scrub: (s) => s },
      { host: '127.0.0.1', port: 0, readiness: pingReadiness(api.db, api.log) },
    );
    await gateway.start();
    apiUrl = `http://127.0.0.1:${api.server.port}`;
    ingestUrl = `http://127.0.0.1:${gateway.port}/ingest/meters`;
  });
  after(async () => {
    await gateway.stop();
    await api.close();
  });
  const ingest = (headers: Record<string, string>) =>
    fetch(ingestUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-ndjson', ...headers },
      body: READING,
    });

  it('a malformed Authorization header is 401 on both ports, even with a valid X-API-Key', async () => {
    const headers = { authorization: 'Token abc', 'x-api-key': operator };
    const viaApi = await fetch(`${apiUrl}/api/v1/me`, { headers });
    assert.equal(viaApi.status, 401);
    const viaIngest = await ingest(headers);
    assert.equal(viaIngest.status, 401);
    assert.equal(viaIngest.headers.get('content-type'), 'application/problem+json');
    assert.equal((await ingest({ 'x-api-key': operator })).status, 200, 'X-API-Key alone works on both');
    assert.equal((await fetch(`${apiUrl}/api/v1/me`, { headers: { 'x-api-key': operator } })).status, 200);
  });

  it('a key revoked through the API is refused on the ingest port of the same process at once', async () => {
    const { key, record } = await createApiKey(api.db, { name: 'short-lived', role: 'operator' });
    assert.equal((await ingest({ authorization: `Bearer ${key}` })).status, 200, 'accepted (and its row cached)');
    const revoked = await api.request(`/api/v1/admin/keys/${record.id}`, { method: 'DELETE' });
    assert.equal(revoked.status, 204);
    // PGlite delivers the NOTIFY in-process; the notification may take a tick, never seconds.
    let status = 0;
    for (let i = 0; i < 20 && status !== 401; i++) {
      status = (await ingest({ authorization: `Bearer ${key}` })).status;
      if (status !== 401) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.equal(status, 401);
  });

  for (const port of ['api', 'ingest'] as const) {
    it(`failed keys are throttled per address on the ${port} port: 429 with Retry-After`, async () => {
      const attempt = (key: string) =>
        port === 'api'
          ? fetch(`${apiUrl}/api/v1/me`, { headers: { authorization: `Bearer ${key}` } })
          : ingest({ authorization: `Bearer ${key}` });
      // A success resets the count of this address (other tests failed from it too).
      assert.equal((await attempt(operator)).status, 200);
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) statuses.push((await attempt(WRONG)).status);
      assert.deepEqual(statuses, Array(10).fill(401));
      const throttled = await attempt(WRONG);
      assert.equal(throttled.status, 429);
      assert.equal(throttled.headers.get('content-type'), 'application/problem+json');
      const first = Number(throttled.headers.get('retry-after'));
      assert.ok(first >= 1, `Retry-After ${first}`);
      // Even the right key waits while the address is throttled.
      assert.equal((await attempt(operator)).status, 429);
      const metrics = await (await fetch(`${apiUrl}/metrics`)).text();
      assert.match(metrics, new RegExp(`gridstream_auth_failures_total\\{server="${port}"\\} \\d+`));
      assert.match(metrics, new RegExp(`gridstream_auth_throttled_total\\{server="${port}"\\} \\d+`));
    });
  }
});
