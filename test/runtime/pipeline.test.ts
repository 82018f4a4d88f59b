import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { DeadLetterSchema, rawElectricityMapsTopic, rawEntsoeTopic } from '../../src/contracts/index.ts';
import { emapsFixture } from '../helpers/emaps.ts';
import { buildDeadLetter, produceDeadLetters, produceValues } from '../../src/log/index.ts';
import { listDeadLetters, recordReplay, replayDeadLetters } from '../../src/dlq/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import type { Runtime } from '../../src/runtime/index.ts';
import { startRuntime } from '../../src/runtime/index.ts';
import { expectedFromFixtures, fixtureDocuments, pipelineDrained } from '../helpers/pipeline.ts';
import { tempDir } from '../helpers/services.ts';

describe('embedded pipeline: raw.entsoe → process → store', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let runtime: Runtime;
  const counts = async () => {
    const { rows } = await runtime.infra.db.query<{ grid: number; carbon: number; revisions: number }>(
      `select (select count(*) from grid_observations where source <> 'gridstream')::int as grid,
              (select count(*) from grid_observations where source = 'gridstream')::int as carbon,
              (select count(*) from grid_observation_revisions)::int as revisions`,
    );
    return rows[0];
  };
  before(async () => {
    dir = await tempDir();
    const config = loadConfig({ GRIDSTREAM_DATA_DIR: dir.path, GRIDSTREAM_LOG_LEVEL: 'silent' });
    runtime = await startRuntime({ config, logger: silentLogger(), roles: ['store', 'process'] });
  });
  after(async () => {
    await runtime.stop();
    await dir.remove();
  });

  it('stores exactly what processing produces, and dead-letters the rest with its reason', async () => {
    const want = expectedFromFixtures();
    const produced = await produceValues(runtime.infra.log, rawEntsoeTopic, fixtureDocuments());
    assert.equal(produced.rejected.length, 0);
    await pipelineDrained(runtime.infra.log);
    assert.deepEqual(await counts(), { grid: want.observations, carbon: want.carbon, revisions: 0 });
    const dlq = await runtime.infra.log.read('dlq-processing', 0, 0, 100);
    const letters = dlq.map((r) => DeadLetterSchema.parse(JSON.parse(Buffer.from(r.value).toString('utf8'))));
    assert.equal(letters.length, want.rejects);
    assert.deepEqual(letters.map((l) => l.reason).sort(), [
      'processing.invalid_document',
      'processing.unsupported_document',
    ]);
    for (const l of letters) {
      assert.equal(l.stage, 'processing');
      assert.equal(l.source?.topic, 'raw.entsoe');
      assert.ok(l.payload.length > 0, 'the failed value travels with its dead letter');
    }
  });

  it('replaying every document changes nothing: no new rows, no revisions', async () => {
    const before = await counts();
    await produceValues(runtime.infra.log, rawEntsoeTopic, fixtureDocuments());
    await pipelineDrained(runtime.infra.log);
    assert.deepEqual(await counts(), before);
  });

  it('Electricity Maps responses become observations with source electricitymaps', async () => {
    const docs = (
      ['v3_power-breakdown_history_DE_2024-03-05.json', 'v3_carbon-intensity_history_DE_2024-03-05.json'] as const
    ).map((name) => ({
      id: `fixture:${name}`,
      origin: 'file' as const,
      fetchedAt: '2026-11-22T00:00:00.000Z',
      endpoint: name.includes('power') ? ('power-breakdown/history' as const) : ('carbon-intensity/history' as const),
      zone: 'DE',
      httpStatus: 200,
      body: emapsFixture(name),
      fileName: name,
    }));
    await produceValues(runtime.infra.log, rawElectricityMapsTopic, docs);
    const read = async () =>
      (
        await runtime.infra.db.query<{ n: number }>(
          "select count(*)::int as n from grid_observations where source = 'electricitymaps'",
        )
      ).rows[0]?.n;
    await pipelineDrained(runtime.infra.log);
    assert.equal(await read(), 3400 + 96);
  });

  it('replaying a dead letter twice stores its value once (no duplicate, no revision)', async () => {
    const value = {
      zone: 'FI',
      metric: 'load_actual',
      productionType: '',
      counterpartZone: '',
      qualifier: '',
      unit: 'MW',
      source: 'entsoe',
      documentId: 'replayed',
      revision: 1,
      points: [{ t: '2031-01-01T00:00:00Z', v: 4242 }],
    };
    const letter = buildDeadLetter({
      stage: 'storage',
      reason: 'db.unavailable',
      message: 'the database was down',
      source: { topic: 'grid.observations', partition: 0, offset: 0, key: 'FI' },
      payload: Buffer.from(JSON.stringify(value)),
    });
    await produceDeadLetters(runtime.infra.log, [letter]);
    const entries = await listDeadLetters(runtime.infra.log, 'dlq-storage', { filter: { reason: 'db_unavailable' } });
    assert.equal(entries.length, 1);
    for (let i = 0; i < 2; i++) {
      const result = await replayDeadLetters(runtime.infra.log, entries, {
        record: (e) => recordReplay(runtime.infra.db, e),
      });
      assert.deepEqual(result, { replayed: 1, failed: [] });
    }
    const read = async () =>
      (
        await runtime.infra.db.query<{ n: number; revisions: number }>(
          `select (select count(*) from grid_observations where document_id = 'replayed')::int as n,
                  (select count(*) from grid_observation_revisions where document_id = 'replayed')::int as revisions`,
        )
      ).rows[0];
    await pipelineDrained(runtime.infra.log);
    assert.deepEqual(await read(), { n: 1, revisions: 0 });
    const { rows } = await runtime.infra.db.query<{ replays: number }>(
      'select replays from dead_letters where id = $1',
      [letter.id],
    );
    assert.equal(rows[0]?.replays, 2, 'both replays are on record');
  });
});
