import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { backoffDelay, isRetryable, sleep } from '../../src/common/index.ts';
import type {
  ConsumedBatch,
  ConsumedRecord,
  Log,
  LogConsumer,
  LogRecord,
  PartitionOffset,
} from '../../src/log/index.ts';
import { LogError, partitionForKey } from '../../src/log/index.ts';
import { uniqueName } from '../helpers/services.ts';

/** A Log under test and how to get rid of it (close it, remove its files). */
export interface LogUnderTest {
  readonly log: Log;
  readonly dispose: () => Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const bytes = (s: string): Uint8Array => encoder.encode(s);
const text = (b: Uint8Array): string => decoder.decode(b);
const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const at = (r: { topic: string; partition: number; offset: number }): string => `${r.topic}/${r.partition}/${r.offset}`;

/** Polls `condition` until it holds; fails with `what` after `timeoutMs` (generous: Kafka group joins take seconds). */
export async function waitFor(
  what: string,
  condition: () => boolean | Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The next batch of an iterator over `batches()`; fails when the iteration ended. */
export async function nextBatch(iterator: AsyncIterator<ConsumedBatch>): Promise<ConsumedBatch> {
  const result = await iterator.next();
  if (result.done === true) assert.fail('batches() ended');
  return result.value;
}

/** Next offsets to commit after handling `records` (last offset + 1 per partition). */
export function nextOffsets(records: readonly ConsumedRecord[]): PartitionOffset[] {
  const next = new Map<string, PartitionOffset>();
  for (const r of records)
    next.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  return [...next.values()];
}

/**
 * Runs a consumer's batch loop in the background, keeping everything it receives. With `commit`, it commits after
 * each batch the way a processor does: a retryable failure (a broker restarting) is retried with backoff, any other
 * fails the loop. A commit cut short by `close()` ends the loop: its batch comes again to the group's next member.
 */
export function collect(consumer: LogConsumer, options: { commit?: boolean } = {}) {
  const records: ConsumedRecord[] = [];
  const batches: ConsumedBatch[] = [];
  const controller = new AbortController();
  let closing = false;
  const commit = async (offsets: PartitionOffset[]): Promise<boolean> => {
    for (let attempt = 1; ; attempt++) {
      try {
        await consumer.commit(offsets);
        return true;
      } catch (error) {
        if (closing) return false;
        if (!isRetryable(error) || attempt >= 30) throw error;
        await sleep(backoffDelay(attempt, { baseMs: 100, maxMs: 2_000 }));
      }
    }
  };
  const done = (async () => {
    for await (const batch of consumer.batches({ signal: controller.signal })) {
      batches.push(batch);
      records.push(...batch.records);
      if (options.commit === true && !(await commit(nextOffsets(batch.records)))) return;
    }
  })();
  return {
    records,
    batches,
    done,
    /** Stops the loop without closing the consumer. */
    async abort(): Promise<void> {
      controller.abort();
      await done;
    },
    async close(): Promise<void> {
      closing = true;
      await consumer.close();
      await done;
    },
  };
}

/**
 * The contract every Log implementation keeps, registered as `describe`/`it` tests. Topic and group names are
 * unique per test so the suite can run against a shared broker; nothing here relies on one implementation.
 *
 * @example
 * logContract('embedded', async () => { const dir = await tempDir(); … return { log, dispose } });
 */
export function logContract(name: string, open: (t: TestContext) => Promise<LogUnderTest>): void {
  /** Opens the log, creates a fresh topic, runs `body`, disposes. */
  async function withTopic(
    t: TestContext,
    partitions: number,
    body: (log: Log, topic: string) => Promise<void>,
    extra: { maxMessageBytes?: number } = {},
  ): Promise<void> {
    const { log, dispose } = await open(t);
    try {
      const topic = uniqueName('contract');
      await log.createTopics([{ name: topic, partitions, ...extra }]);
      await body(log, topic);
    } finally {
      await dispose();
    }
  }

  describe(`Log contract: ${name}`, () => {
    it('createTopics is idempotent and leaves existing topics as they are; topics() and offsets() show them', async (t) => {
      await withTopic(t, 3, async (log, topic) => {
        await log.createTopics([{ name: topic, partitions: 5 }]);
        await log.createTopics([{ name: topic, partitions: 3 }]);
        assert.ok((await log.topics()).includes(topic));
        const offsets = await log.offsets(topic);
        assert.deepEqual(offsets.map((o) => o.partition).sort(), [0, 1, 2]);
        for (const o of offsets) assert.deepEqual({ earliest: o.earliest, next: o.next }, { earliest: 0, next: 0 });
      });
    });

    it('round-trips key, value bytes, headers and timestamp', async (t) => {
      await withTopic(t, 2, async (log, topic) => {
        const timestamp = Date.now() - 60_000;
        const binary = Uint8Array.from([0, 1, 2, 127, 128, 254, 255]);
        const sent: LogRecord[] = [
          { key: 'zone-DE_LU-€', value: binary, headers: { 'x-a': 'one', 'x-ü': 'zwei €' }, timestamp },
          { key: null, value: bytes('no key') },
          { key: 'empty', value: new Uint8Array(0), headers: {} },
        ];
        const before = Date.now();
        const positions = await log.produce(topic, sent);
        assert.equal(positions.length, 3);
        const got = await Promise.all(
          positions.map(async (p) => (await log.read(topic, p.partition, p.offset, 1))[0]!),
        );
        for (const [i, r] of got.entries()) {
          const s = sent[i]!;
          assert.equal(at(r), at(positions[i]!));
          assert.equal(r.key, s.key);
          assert.equal(hex(r.value), hex(s.value));
          assert.deepEqual({ ...r.headers }, { ...(s.headers ?? {}) });
        }
        assert.equal(got[0]!.timestamp, timestamp);
        assert.ok(
          got[1]!.timestamp >= before - 5_000 && got[1]!.timestamp <= Date.now() + 5_000,
          'default timestamp is append time',
        );

        const consumer = log.consumer({ groupId: uniqueName('g'), topics: [topic] });
        const c = collect(consumer);
        await waitFor('3 records', () => c.records.length >= 3);
        await c.close();
        const consumed = new Map(c.records.map((r) => [at(r), r]));
        for (const [i, p] of positions.entries()) {
          const r = consumed.get(at(p));
          assert.ok(r !== undefined, `consumed ${at(p)}`);
          assert.equal(hex(r.value), hex(sent[i]!.value));
          assert.deepEqual({ ...r.headers }, { ...(sent[i]!.headers ?? {}) });
        }
      });
    });

    it('keeps the order of records with the same key, across produce calls', async (t) => {
      await withTopic(t, 3, async (log, topic) => {
        const keys = ['k-a', 'k-b', 'k-c', 'k-d'];
        for (let round = 0; round < 5; round++) {
          await log.produce(
            topic,
            Array.from({ length: 40 }, (_, i) => ({
              key: keys[i % keys.length]!,
              value: bytes(String(round * 40 + i)),
            })),
          );
        }
        const c = collect(log.consumer({ groupId: uniqueName('g'), topics: [topic], maxBatchRecords: 37 }));
        await waitFor('200 records', () => c.records.length >= 200);
        await c.close();
        assert.equal(c.records.length, 200);
        for (const key of keys) {
          const seq = c.records.filter((r) => r.key === key).map((r) => Number(text(r.value)));
          assert.equal(seq.length, 50);
          assert.deepEqual(
            seq,
            [...seq].sort((a, b) => a - b),
            `order of ${key}`,
          );
        }
      });
    });

    it("puts a key always on the same partition, the one Kafka's default partitioner picks", async (t) => {
      await withTopic(t, 6, async (log, topic) => {
        for (const key of ['device-000123', 'DE_LU', 'FR', 'zone-Ü-€-😀']) {
          const partitions = new Set<number>();
          for (let i = 0; i < 4; i++) {
            const [p] = await log.produce(topic, [{ key, value: bytes(`${key}-${i}`) }]);
            partitions.add(p!.partition);
          }
          assert.deepEqual([...partitions], [partitionForKey(key, 6)], key);
        }
      });
    });

    it('a new consumer of a group resumes after the committed offset', async (t) => {
      await withTopic(t, 1, async (log, topic) => {
        await log.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: bytes(String(i)) })),
        );
        const groupId = uniqueName('g');
        assert.deepEqual(await log.committed(groupId, topic), [null]);
        const first = log.consumer({ groupId, topics: [topic], maxBatchRecords: 4 });
        const iterator = first.batches()[Symbol.asyncIterator]();
        const { records } = await nextBatch(iterator);
        assert.ok(records.length > 0 && records.length <= 4);
        assert.equal(await first.commit(nextOffsets(records)), true);
        await first.close();
        const committedAt = records.length;
        assert.deepEqual(await log.committed(groupId, topic), [committedAt]);

        const c = collect(log.consumer({ groupId, topics: [topic] }));
        await waitFor('the rest', () => c.records.length >= 10 - committedAt);
        await c.close();
        assert.deepEqual(
          c.records.map((r) => r.offset),
          Array.from({ length: 10 - committedAt }, (_, i) => committedAt + i),
        );
      });
    });

    it('redelivers uncommitted records after a consumer closes without committing them', async (t) => {
      await withTopic(t, 1, async (log, topic) => {
        await log.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: null, value: bytes(String(i)) })),
        );
        const groupId = uniqueName('g');
        const a = log.consumer({ groupId, topics: [topic], maxBatchRecords: 3 });
        const handled: ConsumedRecord[] = [];
        for await (const batch of a.batches()) {
          handled.push(...batch.records);
          if (handled.length >= 10) break;
        }
        // All 10 handled, only the first 4 committed: then the consumer goes away (a crash before the next commit).
        assert.equal(await a.commit([{ topic, partition: 0, offset: 4 }]), true);
        await a.close();

        const b = collect(log.consumer({ groupId, topics: [topic] }));
        await waitFor('redelivery', () => b.records.length >= 6);
        await b.close();
        assert.deepEqual(
          b.records.map((r) => text(r.value)),
          ['4', '5', '6', '7', '8', '9'],
        );
      });
    });

    it('seek moves the next batch back and forward', async (t) => {
      await withTopic(t, 1, async (log, topic) => {
        await log.produce(
          topic,
          Array.from({ length: 20 }, (_, i) => ({ key: 'k', value: bytes(String(i)) })),
        );
        const consumer = log.consumer({ groupId: uniqueName('g'), topics: [topic], maxBatchRecords: 5 });
        const iterator = consumer.batches()[Symbol.asyncIterator]();
        assert.equal((await nextBatch(iterator)).records[0]!.offset, 0);
        await consumer.seek({ topic, partition: 0, offset: 12 });
        assert.equal((await nextBatch(iterator)).records[0]!.offset, 12);
        await consumer.seek({ topic, partition: 0, offset: 2 });
        const back = (await nextBatch(iterator)).records;
        assert.equal(back[0]!.offset, 2);
        assert.ok(back.every((r, i) => r.offset === 2 + i));
        await consumer.close();
        assert.equal((await iterator.next()).done, true, 'batches() ends after close()');
      });
    });

    it('rebalances between two consumers of a group; the survivor gets all partitions and the uncommitted records', async (t) => {
      await withTopic(t, 4, async (log, topic) => {
        const keys = Array.from({ length: 40 }, (_, i) => `key-${i}`);
        const positions = await log.produce(
          topic,
          keys.map((key) => ({ key, value: bytes(key) })),
        );
        const partitionsWithData = new Set(positions.map((p) => p.partition));
        const groupId = uniqueName('g');
        const consumerA = log.consumer({ groupId, topics: [topic], maxBatchRecords: 5, sessionTimeoutMs: 30_000 });
        const a = collect(consumerA);
        await waitFor('A owns all 4 partitions', () => consumerA.assignment().length === 4);
        const consumerB = log.consumer({ groupId, topics: [topic], maxBatchRecords: 5, sessionTimeoutMs: 30_000 });
        const b = collect(consumerB);
        await waitFor(
          'both have partitions',
          () => consumerA.assignment().length > 0 && consumerB.assignment().length > 0,
        );
        await waitFor(
          '4 partitions between them',
          () => consumerA.assignment().length + consumerB.assignment().length === 4,
        );
        const ownedA = consumerA.assignment().map((p) => p.partition);
        const ownedB = consumerB.assignment().map((p) => p.partition);
        assert.deepEqual([...ownedA, ...ownedB].sort(), [0, 1, 2, 3], 'no partition owned twice');
        const notOwned = ownedB[0]!;
        assert.equal(
          await consumerA.commit([{ topic, partition: notOwned, offset: 1 }]),
          false,
          'commit of a partition A lost',
        );

        await a.close();
        await waitFor('B owns all 4 partitions', () => consumerB.assignment().length === 4);
        await waitFor("B received every record, A's uncommitted ones too", () => {
          const seen = new Set(b.records.map(at));
          return positions.every((p) => seen.has(at(p)));
        });
        await b.close();
        // A committed nothing: B must have read A's former partitions from their start.
        for (const p of ownedA.filter((q) => partitionsWithData.has(q))) {
          assert.equal(
            Math.min(...b.records.filter((r) => r.partition === p).map((r) => r.offset)),
            0,
            `partition ${p}`,
          );
        }
      });
    });

    it("startFrom 'latest' skips what was there before the consumer joined", async (t) => {
      await withTopic(t, 2, async (log, topic) => {
        await log.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: `old-${i}`, value: bytes('old') })),
        );
        const consumer = log.consumer({ groupId: uniqueName('g'), topics: [topic], startFrom: 'latest' });
        const c = collect(consumer);
        await waitFor('assignment', () => consumer.assignment().length === 2);
        // The start position is taken when the partition is assigned; keep producing until it shows up.
        let i = 0;
        await waitFor('new records', async () => {
          await log.produce(topic, [{ key: `new-${i++}`, value: bytes('new') }]);
          return c.records.length > 0;
        });
        await c.close();
        assert.ok(c.records.every((r) => text(r.value) === 'new'));
      });
    });

    it('read(), offsets() and committed() report positions without joining a group', async (t) => {
      await withTopic(t, 1, async (log, topic) => {
        await log.produce(
          topic,
          Array.from({ length: 10 }, (_, i) => ({ key: 'k', value: bytes(String(i)) })),
        );
        const slice = await log.read(topic, 0, 3, 4);
        assert.deepEqual(
          slice.map((r) => [r.offset, text(r.value)]),
          [
            [3, '3'],
            [4, '4'],
            [5, '5'],
            [6, '6'],
          ],
        );
        assert.deepEqual(await log.read(topic, 0, 10, 5), []);
        assert.deepEqual(
          (await log.offsets(topic)).map((o) => ({ ...o })),
          [{ partition: 0, earliest: 0, next: 10 }],
        );
        const groupId = uniqueName('g');
        assert.deepEqual(await log.committed(groupId, topic), [null]);
        const consumer = log.consumer({ groupId, topics: [topic] });
        const iterator = consumer.batches()[Symbol.asyncIterator]();
        await iterator.next();
        assert.equal(await consumer.commit([{ topic, partition: 0, offset: 7 }]), true);
        assert.deepEqual(await log.committed(groupId, topic), [7]);
        await consumer.close();
      });
    });

    it('accepts a record up to maxMessageBytes and rejects a larger one with a typed, non-retryable error', async (t) => {
      const max = 64 * 1024;
      await withTopic(
        t,
        1,
        async (log, topic) => {
          // Random bytes: a compressing producer must not get under the limit by compression.
          const fits = randomBytes(max - 2048);
          const [p] = await log.produce(topic, [{ key: 'k', value: fits }]);
          assert.equal(hex((await log.read(topic, 0, p!.offset, 1))[0]!.value), hex(fits));
          await assert.rejects(log.produce(topic, [{ key: 'k', value: randomBytes(2 * max) }]), (error: unknown) => {
            assert.ok(error instanceof LogError, String(error));
            assert.equal(error.code, 'log.record_too_large');
            assert.equal(error.retryable, false);
            return true;
          });
        },
        { maxMessageBytes: max },
      );
    });

    it('producing to a topic that does not exist fails with unknown_topic', async (t) => {
      const { log, dispose } = await open(t);
      try {
        await assert.rejects(
          log.produce(uniqueName('missing'), [{ key: 'k', value: bytes('x') }]),
          (error: unknown) => {
            assert.ok(error instanceof LogError, String(error));
            assert.equal(error.code, 'log.unknown_topic');
            assert.equal(error.retryable, false);
            return true;
          },
        );
      } finally {
        await dispose();
      }
    });

    it('backpressure: batches never exceed maxBatchRecords and come in order without loss', async (t) => {
      await withTopic(t, 1, async (log, topic) => {
        for (let i = 0; i < 4; i++) {
          await log.produce(
            topic,
            Array.from({ length: 500 }, (_, j) => ({ key: 'k', value: bytes(String(i * 500 + j)) })),
          );
        }
        const consumer = log.consumer({ groupId: uniqueName('g'), topics: [topic], maxBatchRecords: 50 });
        const seen: number[] = [];
        for await (const batch of consumer.batches()) {
          assert.ok(batch.records.length > 0 && batch.records.length <= 50, `batch of ${batch.records.length}`);
          seen.push(...batch.records.map((r) => Number(text(r.value))));
          // A slow handler: the consumer must wait for us, not buffer ahead without bound.
          await new Promise((resolve) => setImmediate(resolve));
          if (seen.length >= 2000) break;
        }
        await consumer.close();
        assert.deepEqual(
          seen,
          Array.from({ length: 2000 }, (_, i) => i),
        );
      });
    });

    it('any use after close() fails with the same typed, non-retryable closed error', async (t) => {
      const { log, dispose } = await open(t);
      try {
        const topic = uniqueName('contract');
        await log.createTopics([{ name: topic, partitions: 1 }]);
        const group = uniqueName('g');
        const consumer = log.consumer({ groupId: group, topics: [topic] });
        await consumer.close();
        const isClosed = (e: unknown) => e instanceof LogError && e.code === 'log.closed' && !e.retryable;
        await assert.rejects(
          consumer.commit([{ topic, partition: 0, offset: 0 }]),
          isClosed,
          'commit after consumer close',
        );
        await assert.rejects(consumer.seek({ topic, partition: 0, offset: 0 }), isClosed, 'seek after consumer close');
        for await (const _ of consumer.batches()) assert.fail('a closed consumer yields no batch');
        await log.close();
        const value = new TextEncoder().encode('x');
        await assert.rejects(log.produce(topic, [{ key: 'k', value }]), isClosed, 'produce');
        await assert.rejects(log.createTopics([{ name: uniqueName('t'), partitions: 1 }]), isClosed, 'createTopics');
        await assert.rejects(log.read(topic, 0, 0, 10), isClosed, 'read');
        await assert.rejects(log.offsets(topic), isClosed, 'offsets');
        await assert.rejects(log.committed(group, topic), isClosed, 'committed');
        await assert.rejects(log.topics(), isClosed, 'topics');
        assert.throws(() => log.consumer({ groupId: group, topics: [topic] }), isClosed, 'consumer');
      } finally {
        await dispose();
      }
    });

    it('batches() ends on abort and on close(); close() of consumers and of the log is idempotent', async (t) => {
      const { log, dispose } = await open(t);
      try {
        const topic = uniqueName('contract');
        await log.createTopics([{ name: topic, partitions: 1 }]);
        const consumer = log.consumer({ groupId: uniqueName('g'), topics: [topic] });
        const aborted = collect(consumer);
        await aborted.abort();
        const closed = collect(consumer);
        await consumer.close();
        await closed.done;
        await consumer.close();
        await log.close();
        await log.close();
      } finally {
        await dispose();
      }
    });
  });
}
