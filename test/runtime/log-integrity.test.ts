import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import { openInfrastructure, startRuntime } from '../../src/runtime/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

const value = (i: number): string => JSON.stringify({ n: i }).padEnd(80, ' ');

/**
 * A data directory whose `raw.meters` holds 400 records in one partition, one of them (the 200th) with a flipped
 * bit in the middle of the active segment: the attack of issue 12.
 */
async function damagedDataDir(t: TestContext): Promise<{ dir: string; partitionDir: string }> {
  const dir = await tempDir('gridstream-integrity-');
  t.after(() => dir.remove());
  const config = loadConfig({ GRIDSTREAM_DATA_DIR: dir.path });
  const infra = await openInfrastructure(config, silentLogger(), createMetrics({ defaultMetrics: false }));
  const positions = await infra.log.produce(
    'raw.meters',
    Array.from({ length: 400 }, (_, i) => ({ key: 'meter-1', value: new TextEncoder().encode(value(i)) })),
  );
  await infra.close();
  const partitionDir = join(dir.path, 'log', 'topics', 'raw.meters', String(positions[0]!.partition));
  const [segment] = (await readdir(partitionDir)).filter((n) => n.endsWith('.log'));
  const file = join(partitionDir, segment!);
  const data = await readFile(file);
  const at = data.indexOf(value(200));
  data[at + 3]! ^= 0x10;
  await writeFile(file, data);
  return { dir: dir.path, partitionDir };
}

describe('embedded log corruption and readiness', () => {
  it('quarantined corruption makes /readyz not ready, naming the log, until `gridstream log quarantine ack`', async (t) => {
    const { dir } = await damagedDataDir(t);
    const env = { GRIDSTREAM_DATA_DIR: dir };
    const runtime = await startRuntime({ config: loadConfig(env), logger: silentLogger(), roles: [] });
    t.after(() => runtime.stop());
    const offsets = await runtime.infra.log.offsets('raw.meters');
    const records = offsets.reduce((n, o) => n + o.next, 0);
    assert.equal(records, 400, 'no record after the damage was cut off');

    const before = await runtime.readiness({ signal: AbortSignal.timeout(5_000) });
    assert.equal(before.ready, false);
    assert.match(before.checks?.['log'] ?? '', /^corrupt \(log\.quarantine_pending\): raw\.meters\/\d$/);

    const list = await gridstream(['log', 'quarantine', 'list'], { env });
    assert.equal(list.code, 0);
    assert.match(list.stdout, /raw\.meters\/\d {2}offset 200 {2}.*CRC mismatch.*PENDING/);

    const verify = await gridstream(['log', 'verify'], { env });
    assert.equal(verify.code, 1, 'a pending report fails verification');
    assert.match(verify.stdout, /quarantine pending/);

    const ack = await gridstream(['log', 'quarantine', 'ack', '--all'], { env });
    assert.equal(ack.code, 0, ack.stderr);
    assert.match(ack.stdout, /^acknowledged raw\.meters-/);
    const after = await runtime.readiness({ signal: AbortSignal.timeout(5_000) });
    assert.equal(after.ready, true, JSON.stringify(after));
    assert.equal((await gridstream(['log', 'verify'], { env })).code, 0);
  });

  it('with GRIDSTREAM_LOG_ON_CORRUPTION=continue the corruption is quarantined and counted, and the process is ready', async (t) => {
    const { dir } = await damagedDataDir(t);
    const metrics = createMetrics({ defaultMetrics: false });
    const runtime = await startRuntime({
      config: loadConfig({ GRIDSTREAM_DATA_DIR: dir, GRIDSTREAM_LOG_ON_CORRUPTION: 'continue' }),
      logger: silentLogger(),
      metrics,
      roles: [],
    });
    t.after(() => runtime.stop());
    assert.equal((await runtime.readiness({ signal: AbortSignal.timeout(5_000) })).ready, true);
    assert.match(
      await metrics.registry.metrics(),
      /gridstream_log_quarantined_total\{topic="raw\.meters",kind="corruption"\} 1/,
    );
  });
});
