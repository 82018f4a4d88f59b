import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ApiServer } from '../../src/api/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { observationsFromEntsoe } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import { DAY_MS, SLOT_MS } from '../../src/time/index.ts';
import { DATA } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/services.ts';

const ADMIN_KEY = 'gs_test_admin_key_Qm7Xv3Lp9Kz2Wr6Tn4Hy8';

/** The demo clock recomputed from the bundled documents: see docs/FORECAST.md for what "complete" means. */
function expectedDemoNow(): number {
  const reference = loadReference();
  const dir = join(DATA, 'replay', 'entsoe');
  const generation = readdirSync(dir)
    .filter((f) => f.endsWith('.xml'))
    .flatMap(
      (f) =>
        observationsFromEntsoe(parseEntsoeDocument(readFileSync(join(dir, f))), { reference, fallbackDocumentId: f })
          .chunks,
    )
    .filter((c) => c.metric === 'generation_actual');
  const last = (zone: string, type?: string) =>
    Math.max(
      ...generation
        .filter((c) => c.zone === zone && (type === undefined || c.productionType === type))
        .flatMap((c) => c.points.map((p) => Date.parse(p.t))),
    );
  const zones = [...new Set(generation.map((c) => c.zone))];
  const newest = Math.max(...zones.map((z) => last(z)));
  let complete = Infinity;
  for (const zone of zones.filter((z) => last(z) > newest - DAY_MS)) {
    for (const type of new Set(generation.filter((c) => c.zone === zone).map((c) => c.productionType))) {
      if (last(zone, type) >= last(zone) - DAY_MS) complete = Math.min(complete, last(zone, type));
    }
  }
  return complete + SLOT_MS;
}

describe('the data clock of the embedded offline demo', () => {
  it("is the replayed data's, in the status and the forecast too", async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const config = loadConfig({
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_PORT: '0',
      GRIDSTREAM_LOG_LEVEL: 'silent',
      GRIDSTREAM_REPLAY_INTERVAL_MS: '10',
      GRIDSTREAM_ADMIN_KEY: ADMIN_KEY,
    });
    const runtime = await startRuntime({
      config,
      logger: silentLogger(),
      roles: ['store', 'process', 'scheduler', 'api'],
    });
    t.after(() => runtime.stop());
    const api = runtime.supervisor.components.find((c) => c instanceof ApiServer);
    assert.ok(api !== undefined);
    const get = async (path: string) => {
      const r = await api.app.request(path, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const expected = new Date(expectedDemoNow()).toISOString();
    // The deadline only keeps a broken pipeline from hanging the suite; nothing here asserts how long it takes.
    const deadline = Date.now() + 120_000;
    let clock = await get('/api/v1/clock');
    while (clock.body['now'] !== expected) {
      if (Date.now() > deadline) throw new Error(`the demo clock never reached ${expected}: ${JSON.stringify(clock)}`);
      // Before any generation is stored: 503, and the status says the clock is not there yet.
      if (clock.status === 503) assert.equal((await get('/api/v1/status')).body['clock'], null);
      else assert.equal(clock.body['mode'], 'demo');
      await new Promise((r) => setTimeout(r, 50));
      clock = await get('/api/v1/clock');
    }
    assert.deepEqual(clock.body, { mode: 'demo', now: expected, basis: 'latest complete replayed slot' });
    const status = await get('/api/v1/status');
    assert.deepEqual([status.body['ingestion'], status.body['clock']], ['offline-replay', clock.body]);
    // The zone whose data sets the clock has a forecast from it: the next 24 hours of the demo's time.
    const zone = 'SE_4';
    const forecast = await get(`/api/v1/carbon-intensity/forecast?zone=${zone}`);
    assert.equal(forecast.status, 200, JSON.stringify(forecast.body));
    assert.deepEqual([forecast.body['made_at'], forecast.body['clock']], [expected, clock.body]);
  });
});
