import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createEmbeddedLog } from '../../src/log/index.ts';
import { gridstream } from '../helpers/cli.ts';
import { tempDir } from '../helpers/services.ts';

describe('gridstream log', () => {
  it('verify exits 0 on a sound log and 1 naming the partition, segment and bytes of a flipped byte in a sealed segment', async (t) => {
    const dir = await tempDir('gridstream-cli-log-');
    t.after(() => dir.remove());
    const log = await createEmbeddedLog({ dir: join(dir.path, 'log'), segmentBytes: 4096 });
    await log.createTopics([{ name: 'raw.meters', partitions: 1 }]);
    for (let i = 0; i < 30; i++)
      await log.produce(
        'raw.meters',
        Array.from({ length: 10 }, (_, j) => ({ key: null, value: new TextEncoder().encode(`reading ${i * 10 + j}`) })),
      );
    await log.close();
    const env = { GRIDSTREAM_DATA_DIR: dir.path };
    const sound = await gridstream(['log', 'verify'], { env });
    assert.equal(sound.code, 0, sound.stdout + sound.stderr);
    assert.match(sound.stdout, /1 topics, 1 partitions, \d+ segments, 300 records/);
    assert.match(sound.stdout, /^ok: every record frame is valid$/m);

    const partition = join(dir.path, 'log', 'topics', 'raw.meters', '0');
    const [oldest] = (await readdir(partition)).filter((n) => n.endsWith('.log')).sort();
    const data = await readFile(join(partition, oldest!));
    const at = data.indexOf('reading 5');
    data[at + 2]! ^= 0x20;
    await writeFile(join(partition, oldest!), data);
    const damaged = await gridstream(['log', 'verify'], { env });
    assert.equal(damaged.code, 1);
    assert.match(
      damaged.stdout,
      new RegExp(`^CORRUPT  raw\\.meters/0  ${oldest!} bytes \\d+-\\d+  after offset 4  CRC mismatch$`, 'm'),
    );

    assert.equal((await gridstream(['log', 'quarantine', 'list'], { env })).stdout, 'the quarantine is empty\n');
    assert.equal((await gridstream(['log', 'quarantine', 'ack'], { env })).code, 2, 'ids or --all');
    assert.equal((await gridstream(['log', 'quarantine', 'ack', 'nope'], { env })).code, 1, 'an unknown id');
    assert.equal((await gridstream(['log', 'verify'], { env: { ...env, KAFKA_BROKERS: '127.0.0.1:9' } })).code, 2);
  });
});
