import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, readFile, readdir, stat, truncate, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import type { EmbeddedLog, LogConsumer } from '../../src/log/index.ts';
import { LogError, createEmbeddedLog, murmur2, namespacedLog, partitionForKey } from '../../src/log/index.ts';
import { tempDir } from '../helpers/services.ts';
import { logContract, nextBatch, nextOffsets, waitFor } from './contract.ts';

logContract('embedded', async () => {
  const dir = await tempDir('gridstream-log-');
  const log = await createEmbeddedLog({ dir: dir.path });
  return {
    log,
    async dispose() {
      await log.close();
      await dir.remove();
    },
  };
});

// Once more through the namespaced wrapper (GRIDSTREAM_NAMESPACE): it must keep the same contract.
logContract('embedded, namespaced', async () => {
  const dir = await tempDir('gridstream-log-');
  const base = await createEmbeddedLog({ dir: dir.path });
  await base.createTopics([{ name: 'other.raw.entsoe', partitions: 1 }]); // another environment's topic
  const log = namespacedLog(base, 'ns_test');
  return {
    log,
    async dispose() {
      await log.close();
      await dir.remove();
    },
  };
});

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A fresh data dir, removed when the test ends. */
async function dataDir(t: TestContext): Promise<string> {
  const dir = await tempDir('gridstream-log-');
  t.after(() => dir.remove());
  return dir.path;
}

async function segmentFiles(dir: string, topic: string, partition: number): Promise<string[]> {
  const p = join(dir, 'topics', topic, String(partition));
  return (await readdir(p)).filter((n) => n.endsWith('.log')).map((n) => join(p, n));
}

describe('partitioner', () => {
  it("matches the Java client's murmur2 and partition choice", () => {
    // Values printed by org.apache.kafka.common.utils.Utils.murmur2 / toPositive from kafka-clients 4.3.1.
    const cases: [string, number, number][] = [
      ['', 275646681, 3],
      ['a', -1563381124, 4],
      ['ab', 316155434, 2],
      ['abc', 479470107, 3],
      ['21', -973932308, 0],
      ['foobar', -790332482, 0],
      ['a-little-bit-long-string', -985981536, 2],
      ['DE_LU', -315210066, 2],
      ['zone-Ü-€-😀', -1710128421, 5],
      ['device-000123', -1882427583, 5],
      ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971, 5],
    ];
    for (const [key, hash, partition] of cases) {
      assert.equal(murmur2(bytes(key)), hash, key);
      assert.equal(partitionForKey(key, 6), partition, key);
    }
  });
});

describe('embedded log', () => {
  it('recovers from a torn tail: garbage and a half-written frame are truncated, acknowledged records stay', async (t) => {
    const dir = await dataDir(t);
    let log = await createEmbeddedLog({ dir });
    await log.createTopics([{ name: 't', partitions: 1 }]);
    await log.produce(
      't',
      Array.from({ length: 50 }, (_, i) => ({ key: 'k', value: bytes(`v${i}`) })),
    );
    await log.close();
    const [segment] = await segmentFiles(dir, 't', 0);
    const size = (await stat(segment!)).size;
    await appendFile(segment!, randomBytes(37));
    log = await createEmbeddedLog({ dir });
    assert.equal((await log.offsets('t'))[0]!.next, 50);
    await log.close();
    assert.equal((await stat(segment!)).size, size, 'garbage truncated on open');

    // Cut the last frame in half: that record was never acknowledged after such a crash.
    await truncate(segment!, size - 3);
    log = await createEmbeddedLog({ dir });
    assert.equal((await log.offsets('t'))[0]!.next, 49);
    const [p] = await log.produce('t', [{ key: 'k', value: bytes('after') }]);
    assert.equal(p!.offset, 49);
    const all = await log.read('t', 0, 0, 100);
    assert.deepEqual(
      all.map((r) => text(r.value)),
      [...Array.from({ length: 49 }, (_, i) => `v${i}`), 'after'],
    );
    await log.close();
  });

  it('detects a corrupt last record by its CRC', async (t) => {
    const dir = await dataDir(t);
    let log = await createEmbeddedLog({ dir });
    await log.createTopics([{ name: 't', partitions: 1 }]);
    await log.produce('t', [{ key: 'k', value: bytes('first') }]);
    await log.produce('t', [{ key: 'k', value: bytes('second') }]);
    await log.close();
    const [segment] = await segmentFiles(dir, 't', 0);
    const size = (await stat(segment!)).size;
    await truncate(segment!, size - 1);
    await appendFile(segment!, Buffer.from('X')); // last byte of the value flipped: same length, bad CRC
    log = await createEmbeddedLog({ dir });
    assert.deepEqual(
      (await log.read('t', 0, 0, 10)).map((r) => text(r.value)),
      ['first'],
    );
    await log.close();
  });

  it('rolls segments, rebuilds the index on open, reads across segments and big records', async (t) => {
    const dir = await dataDir(t);
    let log = await createEmbeddedLog({ dir, segmentBytes: 8 * 1024 });
    await log.createTopics([{ name: 't', partitions: 1, maxMessageBytes: 4 * 1024 * 1024 }]);
    const big = randomBytes(2 * 1024 * 1024 + 17);
    for (let i = 0; i < 20; i++) {
      await log.produce(
        't',
        Array.from({ length: 25 }, (_, j) => ({ key: null, value: bytes(`r${i * 25 + j}`.padEnd(100, '.')) })),
      );
    }
    await log.produce('t', [{ key: null, value: big }]);
    await log.produce('t', [{ key: null, value: bytes('tail') }]);
    assert.ok((await segmentFiles(dir, 't', 0)).length > 3);
    await log.close();

    log = await createEmbeddedLog({ dir, segmentBytes: 8 * 1024 });
    assert.equal((await log.offsets('t'))[0]!.next, 502);
    const middle = await log.read('t', 0, 123, 200);
    assert.equal(middle.length, 200);
    assert.ok(middle.every((r, i) => r.offset === 123 + i && text(r.value).startsWith(`r${123 + i}.`)));
    const [bigBack] = await log.read('t', 0, 500, 1);
    assert.ok(Buffer.from(bigBack!.value).equals(big));
    assert.equal(text((await log.read('t', 0, 501, 1))[0]!.value), 'tail');
    await log.close();
  });

  it('retention deletes whole old segments; consumers and reads start at the earliest kept offset', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir, segmentBytes: 4 * 1024 });
    await log.createTopics([{ name: 't', partitions: 1, retentionMs: 60_000 }]);
    const old = Date.now() - 3_600_000;
    for (let i = 0; i < 10; i++) {
      await log.produce(
        't',
        Array.from({ length: 20 }, () => ({ key: null, value: new Uint8Array(100), timestamp: old })),
      );
    }
    await log.produce('t', [{ key: null, value: bytes('fresh') }]);
    const deleted = await log.enforceRetention();
    assert.ok(deleted > 0);
    const { earliest, next } = (await log.offsets('t'))[0]!;
    assert.equal(next, 201);
    assert.ok(earliest > 0 && earliest <= 200, `earliest ${earliest}`);
    assert.equal((await log.read('t', 0, 0, 1))[0]!.offset, earliest);
    const consumer = log.consumer({ groupId: 'g', topics: ['t'] });
    const batch = await nextBatch(consumer.batches()[Symbol.asyncIterator]());
    assert.equal(batch.records[0]!.offset, earliest);
    await log.close();
  });

  it('retention also expires a quiet topic whose only segment never filled up', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    await log.createTopics([{ name: 'quiet', partitions: 1, retentionMs: 60_000 }]);
    await log.produce('quiet', [{ key: null, value: bytes('old'), timestamp: Date.now() - 3_600_000 }]);
    assert.equal(await log.enforceRetention(), 1);
    assert.deepEqual({ ...(await log.offsets('quiet'))[0] }, { partition: 0, earliest: 1, next: 1 });
    const [p] = await log.produce('quiet', [{ key: null, value: bytes('new') }]);
    assert.equal(p!.offset, 1);
    assert.equal(await log.enforceRetention(), 0);
  });

  it('a partition moves only when its owner asks for its next batch, so it can still commit the batch it holds', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    // Two partitions: the second member to join gets partition 1, where all the records are.
    await log.createTopics([{ name: 't', partitions: 2 }]);
    const key = ['a', 'b', 'c', 'd'].find((k) => partitionForKey(k, 2) === 1)!;
    await log.produce(
      't',
      Array.from({ length: 10 }, (_, i) => ({ key, value: bytes(String(i)) })),
    );
    const a = log.consumer({ groupId: 'g', topics: ['t'], maxBatchRecords: 4 });
    const itA = a.batches()[Symbol.asyncIterator]();
    const held = await nextBatch(itA);
    const b = log.consumer({ groupId: 'g', topics: ['t'] });
    const received: string[] = [];
    const loopB = (async () => {
      for await (const batch of b.batches()) {
        received.push(...batch.records.map((r) => text(r.value)));
        await b.commit(nextOffsets(batch.records));
      }
    })();
    // B joined synchronously when its loop started; the rebalance is pending until A asks for more.
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(a.assignment().length, 2, 'A keeps both partitions while it holds a batch');
    assert.equal(await a.commit(nextOffsets(held.records)), true);
    const next = itA.next(); // A asks for more: it lets go, B takes over from A's commit
    await waitFor('B has partition 1', () => b.assignment().length === 1);
    assert.deepEqual(a.assignment(), [{ topic: 't', partition: 0 }]);
    await waitFor('B read the rest', () => received.length === 6);
    assert.deepEqual(received, ['4', '5', '6', '7', '8', '9']);
    await a.close();
    assert.equal((await next).done, true);
    await b.close();
    await loopB;
  });

  it('evicts a member that holds a batch beyond sessionTimeoutMs; its commit then returns false', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    await log.createTopics([{ name: 't', partitions: 2 }]);
    await log.produce('t', [
      { key: 'a', value: bytes('a') },
      { key: 'b', value: bytes('b') },
    ]);
    const slow: LogConsumer = log.consumer({ groupId: 'g', topics: ['t'], sessionTimeoutMs: 200 });
    const held = await nextBatch(slow.batches()[Symbol.asyncIterator]());
    const other = log.consumer({ groupId: 'g', topics: ['t'], sessionTimeoutMs: 10_000 });
    const otherRecords: string[] = [];
    const loop = (async () => {
      for await (const batch of other.batches()) otherRecords.push(...batch.records.map((r) => text(r.value)));
    })();
    await waitFor('eviction', () => other.assignment().length === 2);
    assert.deepEqual(slow.assignment(), []);
    assert.equal(await slow.commit(nextOffsets(held.records)), false);
    await waitFor('redelivery to the other member', () => otherRecords.length === 2);
    await other.close();
    await slow.close();
    await loop;
  });

  it('locks its directory: a second open fails with locked; a lock left by a dead process is taken over', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir });
    await assert.rejects(createEmbeddedLog({ dir }), (e: unknown) => e instanceof LogError && e.code === 'log.locked');
    await log.close();
    const child = spawn(process.execPath, ['-e', '']);
    const pid = child.pid!;
    await new Promise((resolve) => child.on('exit', resolve));
    await writeFile(join(dir, 'LOCK'), JSON.stringify({ pid, host: hostname(), start: '1' }));
    const again = await createEmbeddedLog({ dir });
    await again.close();
  });

  it('assigns unique, contiguous offsets to many concurrent producers (group commit)', async (t) => {
    const dir = await dataDir(t);
    const log: EmbeddedLog = await createEmbeddedLog({ dir });
    t.after(() => log.close());
    await log.createTopics([{ name: 't', partitions: 2 }]);
    const positions = (
      await Promise.all(
        Array.from({ length: 200 }, (_, i) => log.produce('t', [{ key: `k${i % 7}`, value: bytes(String(i)) }])),
      )
    ).flat();
    for (const partition of [0, 1]) {
      const offsets = positions
        .filter((p) => p.partition === partition)
        .map((p) => p.offset)
        .sort((a, b) => a - b);
      assert.deepEqual(
        offsets,
        Array.from({ length: offsets.length }, (_, i) => i),
      );
    }
    const back = await Promise.all(
      positions.map(async (p) => text((await log.read('t', p.partition, p.offset, 1))[0]!.value)),
    );
    assert.deepEqual(
      back,
      Array.from({ length: 200 }, (_, i) => String(i)),
    );
  });

  it('rejects invalid topics and any use after close with typed errors', async (t) => {
    const dir = await dataDir(t);
    const log = await createEmbeddedLog({ dir });
    for (const spec of [
      { name: 'a/b', partitions: 1 },
      { name: 'ok', partitions: 0 },
      { name: '..', partitions: 1 },
    ]) {
      await assert.rejects(
        log.createTopics([spec]),
        (e: unknown) => e instanceof LogError && e.code === 'log.invalid_argument',
      );
    }
    await log.close();
    await assert.rejects(
      log.topics(),
      (e: unknown) => e instanceof LogError && e.code === 'log.closed' && !e.retryable,
    );
  });
});

describe('embedded log: retention of an existing topic', () => {
  it('takes the retention a spec names, and keeps what a spec leaves out (like on Kafka)', async (t) => {
    const dir = await tempDir('gridstream-log-');
    t.after(() => dir.remove());
    const log = await createEmbeddedLog({ dir: dir.path });
    t.after(() => log.close());
    const specOf = async (): Promise<{ retentionMs: number | null; retentionBytes: number | null }> =>
      JSON.parse(await readFile(join(dir.path, 'topics', 't', 'topic.json'), 'utf8')) as {
        retentionMs: number | null;
        retentionBytes: number | null;
      };
    await log.createTopics([{ name: 't', partitions: 1, retentionMs: 60_000, retentionBytes: 1_048_576 }]);
    await log.createTopics([{ name: 't', partitions: 1, retentionMs: 120_000 }]);
    assert.deepEqual(await specOf(), { ...(await specOf()), retentionMs: 120_000, retentionBytes: 1_048_576 });
    await log.createTopics([{ name: 't', partitions: 1 }]);
    const kept = await specOf();
    assert.equal(kept.retentionMs, 120_000, 'a spec without retention reset it to the default');
    assert.equal(kept.retentionBytes, 1_048_576);
    await log.createTopics([{ name: 't', partitions: 1, retentionMs: null, retentionBytes: null }]);
    const cleared = await specOf();
    assert.equal(cleared.retentionMs, null);
    assert.equal(cleared.retentionBytes, null);
  });
});
