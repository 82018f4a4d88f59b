import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { z } from 'zod';
import { ApiServer, ConnectorsSchema } from '../../src/api/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import { rawEntsoeTopic } from '../../src/contracts/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { Runtime } from '../../src/runtime/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import { DATA } from '../helpers/fixtures.ts';
import { tempDir } from '../helpers/services.ts';

const ADMIN_KEY = 'gs_test_admin_key_Qm7Xv3Lp9Kz2Wr6Tn4Hy8';

type Replay = NonNullable<NonNullable<z.output<typeof ConnectorsSchema>['live']>['replay']>;

async function replayStatus(runtime: Runtime): Promise<Replay> {
  const api = runtime.supervisor.components.find((c) => c instanceof ApiServer);
  assert.ok(api !== undefined);
  const response = await api.app.request('/api/v1/admin/connectors', {
    headers: { authorization: `Bearer ${ADMIN_KEY}` },
  });
  assert.equal(response.status, 200);
  // The real answer, parsed with the schema the route declares (and the OpenAPI document publishes).
  const { live } = ConnectorsSchema.parse(await response.json());
  assert.equal(live?.mode, 'offline-replay');
  assert.equal(live.leader, null);
  assert.ok(live.replay !== null, 'the process running the replay reports its progress');
  return live.replay;
}

async function until(runtime: Runtime, what: string, condition: (r: Replay) => boolean): Promise<Replay> {
  // The deadline only keeps a broken replay from hanging the suite; nothing here asserts how long it takes.
  const deadline = Date.now() + 120_000;
  for (;;) {
    const replay = await replayStatus(runtime);
    if (condition(replay)) return replay;
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what} (${JSON.stringify(replay)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const rawRecords = async (runtime: Runtime) =>
  (await runtime.infra.log.offsets(rawEntsoeTopic.name)).reduce((n, p) => n + p.next - p.earliest, 0);

describe('offline replay in the embedded runtime (scheduler + api roles)', () => {
  it('the admin connectors endpoint reports its progress; a restart publishes nothing again', async (t) => {
    const dir = await tempDir();
    t.after(() => dir.remove());
    const files = readdirSync(join(DATA, 'replay', 'entsoe'))
      .filter((f) => f.endsWith('.xml'))
      .sort();
    const config = loadConfig({
      GRIDSTREAM_DATA_DIR: dir.path,
      GRIDSTREAM_PORT: '0',
      GRIDSTREAM_LOG_LEVEL: 'silent',
      GRIDSTREAM_REPLAY_INTERVAL_MS: '10',
      GRIDSTREAM_ADMIN_KEY: ADMIN_KEY,
    });
    const start = () => startRuntime({ config, logger: silentLogger(), roles: ['scheduler', 'api'] });

    let runtime = await start();
    try {
      const first = await until(runtime, 'the bundle published', (r) => r.idle);
      assert.deepEqual(
        { ...first, cycles: 0, skipped: 0, last_published_at: null },
        {
          state: 'running',
          documents: files.length,
          published: files.length,
          skipped: 0,
          pending: 0,
          cycles: 0,
          last_file: files.at(-1) ?? null,
          last_published_at: null,
          idle: true,
          interval_ms: 10,
        },
      );
      assert.ok(first.last_published_at !== null);
      assert.equal(first.skipped, (first.cycles - 1) * files.length, 'passes after the first skip everything');
      assert.equal(await rawRecords(runtime), files.length);
      // Historic documents and no token: no gap healer, so nothing is asked of the service; the page says so with zeros.
      assert.ok(!runtime.supervisor.components.some((c) => c.name === 'completeness-gaps'));
      const api = runtime.supervisor.components.find((c) => c instanceof ApiServer);
      const answer = await api?.app.request('/api/v1/admin/connectors', {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
      });
      const { gaps } = ConnectorsSchema.parse(await answer?.json());
      assert.deepEqual(gaps, {
        states: { pending: 0, backfilling: 0, filled: 0, source_has_none: 0 },
        requests_last_hour: 0,
        open: [],
      });
    } finally {
      await runtime.stop();
    }

    // Same data directory: the database remembers what was published.
    runtime = await start();
    try {
      const restarted = await until(runtime, 'a pass after the restart', (r) => r.cycles >= 1);
      assert.deepEqual(
        [restarted.documents, restarted.published, restarted.skipped, restarted.idle, restarted.last_file],
        [files.length, 0, files.length * restarted.cycles, true, null],
      );
      assert.equal(await rawRecords(runtime), files.length, 'raw.entsoe did not grow');
    } finally {
      await runtime.stop();
    }
  });
});
