import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { listDeadLetters } from '../../src/dlq/index.ts';
import { buildDeadLetter, buildLineDeadLetters, produceDeadLetters } from '../../src/log/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import { openInfrastructure } from '../../src/runtime/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

describe('gridstream dlq list', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: Record<string, string>;
  before(async () => {
    dir = await tempDir();
    env = { GRIDSTREAM_DATA_DIR: dir.path };
    const infra = await openInfrastructure(loadConfig(env), silentLogger(), createMetrics({ defaultMetrics: false }));
    await produceDeadLetters(
      infra.log,
      Array.from({ length: 7 }, (_, i) =>
        buildDeadLetter({ stage: 'processing', reason: 'processing.unmapped_area', message: `m${i}`, payload: 'x' }),
      ),
    );
    await infra.close();
  });
  after(async () => {
    await dir.remove();
  });

  it('says when it shows only part of what matches', async () => {
    const part = await gridstream(['dlq', 'list', 'dlq-processing', '--limit', '3'], { env });
    assert.equal(part.code, 0, part.stderr);
    assert.equal(part.stdout.trim().split('\n').length, 3);
    assert.match(part.stderr, /showing 3 of 7 dead letters/);
    const whole = await gridstream(['dlq', 'list', 'dlq-processing'], { env });
    assert.match(whole.stderr, /^7 dead letters\n$/m);
  });
});

describe('gridstream dlq replay of refused device readings', () => {
  let dir: Awaited<ReturnType<typeof tempDir>>;
  let env: Record<string, string>;
  const old = {
    deviceId: 'meter-2010',
    kind: 'smart_meter',
    ts: '2010-06-01T00:00:00Z',
    quantity: 'energy_import',
    value: 1.5,
    unit: 'kWh',
  };
  before(async () => {
    dir = await tempDir();
    // The deployment refuses readings before 2020 (the default is 2000).
    env = { GRIDSTREAM_DATA_DIR: dir.path, GRIDSTREAM_READINGS_EARLIEST: '2020-01-01T00:00:00Z' };
    const infra = await openInfrastructure(loadConfig(env), silentLogger(), createMetrics({ defaultMetrics: false }));
    const line = Buffer.from(JSON.stringify(old));
    await produceDeadLetters(
      infra.log,
      buildLineDeadLetters(
        [{ line: 1, reason: 'ingest.timestamp_out_of_range', message: 'before 2020-01-01T00:00:00Z', bytes: line }],
        { position: { endpoint: '/ingest/meters' } },
      ),
    );
    await infra.close();
  });
  after(async () => {
    await dir.remove();
  });

  it('checks the lines against the configured reading rules, not the defaults', async () => {
    const r = await gridstream(['dlq', 'replay', 'dlq-ingestion'], { env });
    assert.equal(r.code, 0, r.stderr);
    const infra = await openInfrastructure(loadConfig(env), silentLogger(), createMetrics({ defaultMetrics: false }));
    try {
      const meters = (await infra.log.offsets('raw.meters')).reduce((n, p) => n + p.next - p.earliest, 0);
      assert.equal(meters, 0, 'a reading the configured rules refuse was let in by the replay');
      const letters = await listDeadLetters(infra.log, 'dlq-ingestion');
      assert.equal(letters.length, 2, 'the line goes back to dlq-ingestion');
      assert.equal(letters[1]?.letter?.reason, 'ingest.timestamp_out_of_range');
    } finally {
      await infra.close();
    }
  });
});
