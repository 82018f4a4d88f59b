import assert from 'node:assert/strict';
import { readFile, readdir, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import type { ConsumedRecord, EmbeddedLog } from '../../src/log/index.ts';
import { createEmbeddedLog, verifyLogDir } from '../../src/log/index.ts';
import { tempDir } from '../helpers/services.ts';
import { nextBatch, nextOffsets } from './contract.ts';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
/** Values of the same length, so that a record's bytes are easy to find in a segment file. */
const value = (i: number): string => `v${i}.`.padEnd(60, '-');
/** Bytes from a frame's start to its value: header 8, magic 1, offset 8, timestamp 8, key length 4, key 'k' 1, header count 2, value length 4. */
const FRAME_TO_VALUE = 36;

async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('gridstream-integrity-');
  t.after(() => dir.remove());
  return dir.path;
}

async function segmentFiles(dir: string, topic: string, partition: number): Promise<string[]> {
  const p = join(dir, 'topics', topic, String(partition));
  return (await readdir(p))
    .filter((n) => n.endsWith('.log'))
    .sort()
    .map((n) => join(p, n));
}

/** Writes `count` records to a new one-partition topic `t`, `batch` per produce call, and closes the log. */
async function fill(
  dir: string,
  count: number,
  options: { segmentBytes?: number; batch?: number } = {},
): Promise<void> {
  const log = await createEmbeddedLog({
    dir,
    ...(options.segmentBytes === undefined ? {} : { segmentBytes: options.segmentBytes }),
  });
  await log.createTopics([{ name: 't', partitions: 1 }]);
  const batch = options.batch ?? 100;
  for (let i = 0; i < count; i += batch) {
    await log.produce(
      't',
      Array.from({ length: Math.min(batch, count - i) }, (_, j) => ({ key: 'k', value: bytes(value(i + j)) })),
    );
  }
  await log.close();
}

/** The segment file holding record `i` and the position of its frame in it. */
async function locate(dir: string, i: number): Promise<{ file: string; frame: number; data: Buffer }> {
  for (const file of await segmentFiles(dir, 't', 0)) {
    const data = await readFile(file);
    const at = data.indexOf(value(i));
    if (at >= 0) return { file, frame: at - FRAME_TO_VALUE, data };
  }
  throw new Error(`record ${i} not found`);
}

async function readAll(log: EmbeddedLog): Promise<ConsumedRecord[]> {
  const out: ConsumedRecord[] = [];
  let from = 0;
  for (;;) {
    const got = await log.read('t', 0, from, 1000);
    const last = got.at(-1);
    if (last === undefined) return out;
    out.push(...got);
    from = last.offset + 1;
  }
}

describe('embedded log integrity', () => {
  it('a flipped bit in the middle of the active segment loses no valid record; the damaged one is quarantined', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 1000);
    const { file, frame, data } = await locate(dir, 500);
    data[frame + FRAME_TO_VALUE + 10]! ^= 0x04;
    await writeFile(file, data);

    const log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    const all = await readAll(log);
    assert.equal(all.length, 999, 'every valid record is kept');
    assert.ok(all.every((r) => text(r.value) === value(r.offset)));
    assert.ok(!all.some((r) => r.offset === 500), 'the damaged record is not served');
    assert.equal((await log.offsets('t'))[0]!.next, 1000);

    const pending = await log.pendingCorruption();
    assert.equal(pending.length, 1);
    assert.deepEqual(
      { ...pending[0]!, id: undefined, detectedAt: undefined, reason: undefined },
      {
        id: undefined,
        kind: 'corruption',
        topic: 't',
        partition: 0,
        segment: '00000000000000000000.log',
        byteStart: frame,
        byteEnd: frame + data.length / 1000,
        offsetFrom: 500,
        offsetTo: 500,
        foundAt: 'open',
        detectedAt: undefined,
        reason: undefined,
        acknowledgedAt: null,
      },
    );
    assert.match(pending[0]!.reason, /CRC/);
    const quarantined = await readFile(join(dir, 'quarantine', `${pending[0]!.id}.bin`));
    assert.ok(quarantined.equals(data.subarray(frame, frame + data.length / 1000)), 'the damaged bytes are kept');
    const [p] = await log.produce('t', [{ key: 'k', value: bytes('after') }]);
    assert.equal(p!.offset, 1000);
  });

  for (const [name, length] of [
    ['out of bounds', 0xffff_fff0],
    ['past the end of the file', 10_000_000],
    ['zero', 0],
  ] as const) {
    it(`a corrupted frame-length field (${name}) in the middle of the active segment loses no valid record`, async (t) => {
      const dir = await dataDir(t);
      await fill(dir, 1000);
      const { file, frame, data } = await locate(dir, 700);
      data.writeUInt32BE(length, frame);
      await writeFile(file, data);
      const log = await createEmbeddedLog({ dir });
      t.after(() => log.close());
      const all = await readAll(log);
      assert.equal(all.length, 999);
      assert.deepEqual(
        all.map((r) => r.offset).filter((o) => o >= 698 && o <= 702),
        [698, 699, 701, 702],
      );
      const pending = await log.pendingCorruption();
      assert.equal(pending.length, 1);
      assert.deepEqual([pending[0]!.offsetFrom, pending[0]!.offsetTo], [700, 700]);
    });
  }

  it('a flipped byte in a sealed segment is never served as data: CRC checked on read, record quarantined', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 300, { segmentBytes: 4096, batch: 10 });
    assert.ok((await segmentFiles(dir, 't', 0)).length > 3);
    const { file, frame, data } = await locate(dir, 10);
    assert.equal(file, (await segmentFiles(dir, 't', 0))[0], 'record 10 is in the oldest (sealed) segment');
    data[frame + FRAME_TO_VALUE + 20]! ^= 0x01;
    await writeFile(file, data);

    const log = await createEmbeddedLog({ dir, segmentBytes: 4096 });
    t.after(() => log.close());
    const all = await readAll(log);
    assert.ok(
      all.every((r) => text(r.value) === value(r.offset)),
      'no record is served with altered bytes',
    );
    assert.equal(all.length, 299);
    assert.ok(!all.some((r) => r.offset === 10));
    const pending = await log.pendingCorruption();
    assert.equal(pending.length, 1);
    assert.equal(pending[0]!.foundAt, 'read');
    assert.equal(pending[0]!.offsetFrom, 10);
    assert.equal(pending[0]!.offsetTo, 10);
    // Once quarantined, a second read serves the same records and finds nothing new.
    assert.equal((await readAll(log)).length, 299);
    assert.equal((await log.pendingCorruption()).length, 1);
  });

  it('a flipped bit in the offset field of a frame in a sealed segment hides no record after it', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 300, { segmentBytes: 4096, batch: 10 });
    const { file, frame, data } = await locate(dir, 12);
    data[frame + 9 + 3]! ^= 0x01; // the high word of the offset: offset 12 becomes 2^32 + 12
    await writeFile(file, data);
    const log = await createEmbeddedLog({ dir, segmentBytes: 4096 });
    t.after(() => log.close());
    const all = await readAll(log);
    assert.equal(all.length, 299);
    assert.ok(all.every((r) => text(r.value) === value(r.offset)));
    assert.deepEqual(
      (await log.pendingCorruption()).map((r) => [r.offsetFrom, r.offsetTo]),
      [[12, 12]],
    );
  });

  it('the hole left by quarantined bytes survives a restart; reads across it and consumers skip the gap', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 200);
    const { file, frame, data } = await locate(dir, 100);
    data[frame + FRAME_TO_VALUE + 5]! ^= 0xff;
    await writeFile(file, data);
    let log = await createEmbeddedLog({ dir });
    await log.close();
    log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    assert.deepEqual(
      (await log.read('t', 0, 100, 2)).map((r) => r.offset),
      [101, 102],
    );
    const consumer = log.consumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 1000 });
    t.after(() => consumer.close());
    const it = consumer.batches()[Symbol.asyncIterator]();
    const seen: number[] = [];
    while (seen.length < 199) seen.push(...(await nextBatch(it)).records.map((r) => r.offset));
    assert.deepEqual(
      seen,
      Array.from({ length: 200 }, (_, i) => i).filter((i) => i !== 100),
    );
    assert.equal((await log.pendingCorruption()).length, 1, 'reported once, not again at the next open');
  });

  it('after the log was cut short behind committed positions, a consumer gets every record written since', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 30, { batch: 10 });
    let log = await createEmbeddedLog({ dir });
    const first = log.consumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 30, maxWaitMs: 50 });
    const it1 = first.batches()[Symbol.asyncIterator]();
    const seen: ConsumedRecord[] = [];
    while (seen.length < 30) seen.push(...(await nextBatch(it1)).records);
    await first.commit(nextOffsets(seen));
    await first.close();
    await log.close();

    // Power loss with a disk that lied about its cache: the last 10 records are gone, the committed offset is not.
    const { file, frame } = await locate(dir, 20);
    await truncate(file, frame);
    log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    const { next } = (await log.offsets('t'))[0]!;
    const [committed] = await log.committed('g', 't');
    assert.ok(
      next >= committed!,
      `high watermark ${next} is not behind the committed ${committed}: lag never negative`,
    );
    await log.produce(
      't',
      Array.from({ length: 24 }, (_, i) => ({ key: 'k', value: bytes(`new${i}`) })),
    );
    const second = log.consumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 100, maxWaitMs: 50 });
    t.after(() => second.close());
    const it2 = second.batches()[Symbol.asyncIterator]();
    const got: string[] = [];
    const deadline = Date.now() + 5_000; // a hang guard: today the consumer waits forever
    while (got.length < 24 && Date.now() < deadline) {
      const batch = await Promise.race([
        nextBatch(it2),
        new Promise<undefined>((resolve) => setTimeout(resolve, deadline - Date.now())),
      ]);
      if (batch === undefined) break;
      got.push(...batch.records.map((r) => text(r.value)));
    }
    assert.deepEqual(
      got,
      Array.from({ length: 24 }, (_, i) => `new${i}`),
    );
  });

  it('verifyLogDir checks every CRC of every segment without opening the log, and skips quarantined ranges', async (t) => {
    const dir = await dataDir(t);
    await fill(dir, 300, { segmentBytes: 4096, batch: 10 });
    const clean = await verifyLogDir(dir);
    assert.deepEqual(clean.problems, []);
    assert.equal(clean.records, 300);
    assert.ok(clean.segments > 3);

    const { file, frame, data } = await locate(dir, 10);
    data[frame + FRAME_TO_VALUE + 20]! ^= 0x01;
    await writeFile(file, data);
    const damaged = await verifyLogDir(dir);
    assert.equal(damaged.records, 299);
    assert.deepEqual(
      damaged.problems.map((p) => ({ ...p, reason: undefined })),
      [
        {
          topic: 't',
          partition: 0,
          segment: '00000000000000000000.log',
          kind: 'corruption',
          byteStart: frame,
          byteEnd: frame + 96,
          afterOffset: 9,
          reason: undefined,
        },
      ],
    );
    assert.match(damaged.problems[0]!.reason, /CRC/);

    // Once a read has quarantined it: no problem left, one report pending.
    const log = await createEmbeddedLog({ dir, segmentBytes: 4096 });
    await log.read('t', 0, 0, 100);
    await log.close();
    const after = await verifyLogDir(dir);
    assert.deepEqual(after.problems, []);
    assert.equal(after.quarantinedBytes, 96);
    assert.equal(after.pending.length, 1);
  });

  it('size-based retention deletes the oldest sealed segments beyond the byte budget of a partition', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir, segmentBytes: 2048 });
    t.after(() => log.close());
    await log.createTopics([{ name: 'd', partitions: 1, retentionMs: null, retentionBytes: 8192 }]);
    for (let i = 0; i < 40; i++)
      await log.produce(
        'd',
        Array.from({ length: 10 }, () => ({ key: null, value: new Uint8Array(100) })),
      );
    assert.ok((await log.enforceRetention()) > 0);
    const files = await segmentFiles(dir, 'd', 0);
    let total = 0;
    for (const f of files) total += (await readFile(f)).length;
    assert.ok(total <= 8192 + 2048 + 200, `${total} bytes kept`);
    const { earliest, next } = (await log.offsets('d'))[0]!;
    assert.equal(next, 400);
    assert.ok(earliest > 0);
    assert.equal((await log.read('d', 0, 0, 1))[0]!.offset, earliest);
  });

  it('an existing topic takes the retention given to createTopics (a release that adds a policy)', async (t) => {
    const dir = await dataDir(t);
    let log = await createEmbeddedLog({ dir, segmentBytes: 2048 });
    await log.createTopics([{ name: 'd', partitions: 1, retentionMs: null }]);
    for (let i = 0; i < 40; i++)
      await log.produce(
        'd',
        Array.from({ length: 10 }, () => ({ key: null, value: new Uint8Array(100) })),
      );
    assert.equal(await log.enforceRetention(), 0);
    await log.close();
    log = await createEmbeddedLog({ dir, segmentBytes: 2048 });
    t.after(() => log.close());
    await log.createTopics([{ name: 'd', partitions: 1, retentionMs: null, retentionBytes: 4096 }]);
    assert.ok((await log.enforceRetention()) > 0);
    assert.ok((await log.offsets('d'))[0]!.earliest > 0);
  });
});
