import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { buildDeadLetter, produceDeadLetters } from '../../src/log/index.ts';
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
