import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { GridstreamError } from '../../src/common/index.ts';
import type { DeadLetter } from '../../src/contracts/index.ts';
import { ALL_TOPICS, DeadLetterSchema, defineTopic, dlqProcessingTopic } from '../../src/contracts/index.ts';
import type { ConsumedRecord, HandleContext, Log, PartitionOffset, ProcessorItem } from '../../src/log/index.ts';
import {
  LogError,
  createEmbeddedLog,
  createProcessor,
  output,
  produceValues,
  topicSpecOf,
} from '../../src/log/index.ts';
import { lag } from '../helpers/log.ts';
import { tempDir } from '../helpers/services.ts';
import { waitFor } from './contract.ts';

interface Thing {
  readonly id: string;
  readonly n: number;
}
const inTopic = defineTopic<Thing>({
  name: 'test.in',
  schema: z.object({ id: z.string(), n: z.number().int() }),
  key: (v) => v.id,
  partitions: 2,
  stage: 'ingestion',
  description: 'processor input',
});
const outTopic = defineTopic<Thing>({
  name: 'test.out',
  schema: z.object({ id: z.string(), n: z.number().int() }),
  key: (v) => v.id,
  partitions: 1,
  stage: 'processing',
  description: 'processor output',
});

async function openLog(t: TestContext): Promise<Log> {
  const dir = await tempDir('gridstream-processor-');
  const log = await createEmbeddedLog({ dir: dir.path });
  t.after(async () => {
    await log.close();
    await dir.remove();
  });
  await log.createTopics([...ALL_TOPICS, inTopic, outTopic].map(topicSpecOf));
  return log;
}

const things = (count: number, from = 0): Thing[] =>
  Array.from({ length: count }, (_, i) => ({ id: `thing-${(from + i) % 7}`, n: from + i }));

async function readAll(log: Log, topic: string): Promise<ConsumedRecord[]> {
  const partitions = await log.offsets(topic);
  return (await Promise.all(partitions.map((p) => log.read(topic, p.partition, 0, 100_000)))).flat();
}
const values = async (log: Log, topic: string): Promise<number[]> =>
  (await readAll(log, topic))
    .map((r) => (JSON.parse(Buffer.from(r.value).toString()) as Thing).n)
    .sort((a, b) => a - b);
const letters = async (log: Log, topic: string): Promise<DeadLetter[]> =>
  (await readAll(log, topic)).map((r) => DeadLetterSchema.parse(JSON.parse(Buffer.from(r.value).toString())));

const fullyCommitted = async (log: Log, groupId: string): Promise<boolean> =>
  (await lag(log, groupId, inTopic.name)) === 0;

const copyAll = (items: readonly ProcessorItem<Thing>[]) =>
  Promise.resolve({
    outputs: [
      output(
        outTopic,
        items.map((i) => i.value),
      ),
    ],
  });

const fastRetry = { baseMs: 10, maxMs: 50 };

describe('processor', () => {
  it('consumes, produces outputs, commits; documented states; stop is idempotent', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(50));
    const seen: number[] = [];
    const p = createProcessor({
      name: 'copy',
      log,
      groupId: 'copy',
      input: inTopic,
      maxBatchRecords: 8,
      handle: copyAll,
      metrics: { recordsIn: (_t, n) => seen.push(n) },
    });
    assert.equal(p.state, 'idle');
    await p.start();
    assert.equal(p.state, 'running');
    await waitFor('outputs', async () => (await values(log, outTopic.name)).length === 50);
    await waitFor('commit', () => fullyCommitted(log, 'copy'));
    const stopping = p.stop({ graceMs: 1000 });
    assert.equal(p.stop(), stopping);
    await stopping;
    assert.equal(p.state, 'stopped');
    assert.deepEqual(
      await values(log, outTopic.name),
      things(50).map((x) => x.n),
    );
    assert.equal(
      seen.reduce((a, b) => a + b, 0),
      50,
    );
    assert.ok(seen.every((n) => n <= 8));
  });

  it('dead-letters invalid input to the input stage DLQ with the payload, and goes on', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(3));
    await log.produce(inTopic.name, [{ key: 'bad', value: Buffer.from('{"id": 5}') }]);
    await produceValues(log, inTopic, things(3, 3));
    const p = createProcessor({ name: 'copy', log, groupId: 'copy', input: inTopic, handle: copyAll });
    await p.start();
    await waitFor('commit', () => fullyCommitted(log, 'copy'));
    await p.stop();
    assert.deepEqual(await values(log, outTopic.name), [0, 1, 2, 3, 4, 5]);
    const [letter] = await letters(log, 'dlq-ingestion');
    assert.equal(letter?.reason, 'log.invalid_message');
    assert.equal(letter.payload, '{"id": 5}');
    assert.equal(letter.source?.key, 'bad');
  });

  it('isolates poison records: they go to the DLQ with the error code while the good ones flow', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(40));
    let calls = 0;
    const p = createProcessor({
      name: 'picky',
      log,
      groupId: 'picky',
      input: inTopic,
      maxBatchRecords: 40,
      handle: (items) => {
        calls++;
        const poison = items.find((i) => i.value.n === 13 || i.value.n === 27);
        if (poison !== undefined) {
          return Promise.reject(
            new LogError('log.invalid_argument', `cannot handle ${poison.value.n}`, { retryable: false }),
          );
        }
        return copyAll(items);
      },
      retry: fastRetry,
    });
    await p.start();
    await waitFor('commit', () => fullyCommitted(log, 'picky'));
    await p.stop();
    const expected = things(40)
      .map((x) => x.n)
      .filter((n) => n !== 13 && n !== 27);
    assert.deepEqual(await values(log, outTopic.name), expected);
    const dead = await letters(log, 'dlq-processing');
    assert.equal(dead.length, 2);
    for (const letter of dead) {
      assert.equal(letter.reason, 'log.invalid_argument');
      assert.equal(letter.source?.topic, inTopic.name);
      assert.match(letter.message, /cannot handle (13|27)/);
      assert.ok(letter.attempts > 1);
    }
    assert.ok(calls > 2 && calls < 40, `${calls} handler calls`);
  });

  it('pauses on a retryable failure (anywhere in the cause chain) and resumes without dead-lettering', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(20));
    let down = true;
    let failures = 0;
    const retries: string[] = [];
    const p = createProcessor({
      name: 'sink',
      log,
      groupId: 'sink',
      input: inTopic,
      retry: fastRetry,
      metrics: { retries: (code) => retries.push(code) },
      handle: (items) => {
        if (down) {
          failures++;
          const cause = new GridstreamError('db.unavailable', 'connection refused', { retryable: true });
          return Promise.reject(new Error('insert failed', { cause }));
        }
        return copyAll(items);
      },
    });
    await p.start();
    await waitFor('several retries', () => failures >= 5);
    assert.equal(p.state, 'running');
    assert.match(p.degraded ?? '', /^handle: db\.unavailable$/, 'degraded (not ready) while the database is down');
    assert.equal((await values(log, outTopic.name)).length, 0);
    down = false;
    await waitFor('commit', () => fullyCommitted(log, 'sink'));
    assert.equal(p.degraded, undefined, 'ready again once a batch went through');
    await p.stop();
    assert.deepEqual(
      await values(log, outTopic.name),
      things(20).map((x) => x.n),
    );
    assert.equal((await readAll(log, 'dlq-processing')).length, 0);
    assert.equal((await readAll(log, 'dlq-ingestion')).length, 0);
    assert.ok(retries.length >= 5 && retries.every((c) => c === 'db.unavailable'));
  });

  it('dead-letters the rejects a handler returns, with reason and position', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(5));
    const p = createProcessor({
      name: 'rejecting',
      log,
      groupId: 'rejecting',
      input: inTopic,
      handle: (items) =>
        Promise.resolve({
          outputs: [
            output(
              outTopic,
              items.filter((i) => i.value.n % 2 === 0).map((i) => i.value),
            ),
          ],
          rejects: items
            .filter((i) => i.value.n % 2 === 1)
            .map((i) => ({
              record: i.record,
              reason: 'processing.invalid_value',
              message: `odd ${i.value.n}`,
              position: { n: i.value.n },
            })),
        }),
    });
    await p.start();
    await waitFor('commit', () => fullyCommitted(log, 'rejecting'));
    await p.stop();
    assert.deepEqual(await values(log, outTopic.name), [0, 2, 4]);
    const dead = await letters(log, 'dlq-processing');
    assert.deepEqual(dead.map((d) => [d.reason, d.position?.['n']]).sort(), [
      ['processing.invalid_value', 1],
      ['processing.invalid_value', 3],
    ]);
  });

  it('stop() lets the batch in flight finish and commits it', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(10));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started = false;
    const p = createProcessor({
      name: 'slow',
      log,
      groupId: 'slow',
      input: inTopic,
      maxBatchRecords: 100,
      handle: async (items) => {
        started = true;
        await gate;
        return copyAll(items);
      },
    });
    await p.start();
    await waitFor('batch in flight', () => started);
    const stopped = p.stop({ graceMs: 30_000 });
    assert.equal(p.state, 'stopping');
    release();
    await stopped;
    assert.equal(p.state, 'stopped');
    assert.ok(await fullyCommitted(log, 'slow'));
  });

  it('aborts the handler after graceMs and leaves its batch uncommitted', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(4));
    let started = false;
    const p = createProcessor({
      name: 'stuck',
      log,
      groupId: 'stuck',
      input: inTopic,
      handle: (_items, { signal }: HandleContext) => {
        started = true;
        return new Promise((_resolve, reject) => {
          signal.addEventListener('abort', () => {
            reject(new LogError('log.aborted', 'gave up'));
          });
        });
      },
    });
    await p.start();
    await waitFor('batch in flight', () => started);
    await p.stop({ graceMs: 50 });
    assert.equal(p.state, 'stopped');
    assert.deepEqual(await log.committed('stuck', inTopic.name), [null, null]);
    assert.equal((await readAll(log, 'dlq-processing')).length, 0);
  });

  it('stops promptly while retrying, without dead-lettering or committing', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(4));
    let failures = 0;
    const p = createProcessor({
      name: 'down',
      log,
      groupId: 'down',
      input: inTopic,
      retry: { baseMs: 60_000 },
      handle: () => {
        failures++;
        return Promise.reject(new LogError('kafka.timeout', 'database timed out'));
      },
    });
    await p.start();
    await waitFor('first failure', () => failures === 1);
    await p.stop({ graceMs: 60_000 });
    assert.equal(p.state, 'stopped');
    assert.deepEqual(await log.committed('down', inTopic.name), [null, null]);
    assert.equal((await readAll(log, 'dlq-processing')).length, 0);
  });

  it('fails (not silently idles) when its log is closed under it', async (t) => {
    const log = await openLog(t);
    const p = createProcessor({ name: 'orphan', log, groupId: 'orphan', input: inTopic, handle: copyAll });
    await p.start();
    await log.close();
    await p.finished;
    assert.equal(p.state, 'failed');
    assert.ok(p.error instanceof LogError && p.error.code === 'log.closed');
    await p.stop();
    assert.equal(p.state, 'failed');
  });

  it('refuses a processor whose DLQ would feed its own input', async (t) => {
    const log = await openLog(t);
    assert.throws(
      () =>
        createProcessor({
          name: 'loop',
          log,
          groupId: 'loop',
          input: dlqProcessingTopic,
          handle: () => Promise.resolve({}),
        }),
      (e: unknown) => e instanceof LogError && e.code === 'log.dlq_loop',
    );
  });

  it('exactly-once: seeks to the offsets stored with the output and passes nextOffsets to the handler', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(30));
    // The "database": rows and the offsets stored in the same transaction.
    const stored = new Map<string, PartitionOffset>();
    const rows: number[] = [];
    const positions = await log.offsets(inTopic.name);
    for (const { partition, next } of positions) {
      stored.set(`${partition}`, { topic: inTopic.name, partition, offset: Math.floor(next / 2) });
    }
    const skipped = new Set<number>();
    for (const { partition, next } of positions) {
      for (const r of await log.read(inTopic.name, partition, 0, Math.floor(next / 2))) {
        skipped.add((JSON.parse(Buffer.from(r.value).toString()) as Thing).n);
      }
    }
    const p = createProcessor({
      name: 'settle',
      log,
      groupId: 'settle',
      input: inTopic,
      maxBatchRecords: 4,
      externalOffsets: { load: () => Promise.resolve([...stored.values()]) },
      handle: (items, { nextOffsets }) => {
        rows.push(...items.map((i) => i.value.n));
        for (const o of nextOffsets) stored.set(`${o.partition}`, o);
        return Promise.resolve(undefined);
      },
    });
    await p.start();
    await waitFor('commit', () => fullyCommitted(log, 'settle'));
    await p.stop();
    const expected = things(30)
      .map((x) => x.n)
      .filter((n) => !skipped.has(n));
    assert.deepEqual(
      [...rows].sort((a, b) => a - b),
      expected,
      'each row exactly once, none before the stored offsets',
    );
    for (const { partition, next } of positions) assert.equal(stored.get(`${partition}`)?.offset, next);
  });

  it('exactly-once: output stored past the log’s commit (a crash between the two) is committed to the log too', async (t) => {
    const log = await openLog(t);
    await produceValues(log, inTopic, things(12));
    // The database applied everything, the log's commit never happened: nothing is left to read.
    const ends = (await log.offsets(inTopic.name)).map(({ partition, next }) => ({
      topic: inTopic.name,
      partition,
      offset: next,
    }));
    const handled: number[] = [];
    const p = createProcessor({
      name: 'caught-up',
      log,
      groupId: 'caught-up',
      input: inTopic,
      externalOffsets: { load: () => Promise.resolve(ends) },
      handle: (items) => {
        handled.push(...items.map((i) => i.value.n));
        return Promise.resolve(undefined);
      },
    });
    await p.start();
    // Without the commit after the seek, the lag would stay at 12 for ever.
    await waitFor('the log to know the stored offsets', () => fullyCommitted(log, 'caught-up'));
    await p.stop();
    assert.deepEqual(handled, []);
  });
});
