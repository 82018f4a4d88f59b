import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isRetryable } from '../../src/common/index.ts';
import type { ConsumedRecord, Log } from '../../src/log/index.ts';
import { createKafkaLog } from '../../src/log/kafka/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { privateBroker } from '../helpers/kafka-broker.ts';
import { kafkaBrokers, tempDir, uniqueName } from '../helpers/services.ts';
import { collect, waitFor } from './contract.ts';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Produces numbered records until `stop()`; a batch counts as acknowledged only when produce() resolved. A
 * failed batch must fail with a retryable error and is sent again (so it may be stored twice: at-least-once).
 */
function produceContinuously(log: Log, topic: string) {
  const acknowledged = new Set<number>();
  let failures = 0;
  let next = 0;
  const stop = new AbortController();
  const done = (async () => {
    while (!stop.signal.aborted) {
      const ids = Array.from({ length: 25 }, () => next++);
      for (;;) {
        try {
          await log.produce(
            topic,
            ids.map((id) => ({ key: `meter-${id % 97}`, value: encoder.encode(String(id)) })),
          );
          for (const id of ids) acknowledged.add(id);
          break;
        } catch (error) {
          assert.ok(isRetryable(error), `a produce during the restart failed for good: ${String(error)}`);
          failures++;
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  })();
  return {
    acknowledged,
    failures: () => failures,
    async stop() {
      stop.abort();
      await done;
    },
  };
}

it(
  'a broker restart and an outage while producing and consuming lose no acknowledged record',
  { timeout: 420_000 },
  async (t) => {
    if (kafkaBrokers(t) === undefined) return;
    const state = await tempDir('gridstream-kafka-restart-');
    let broker: Awaited<ReturnType<typeof privateBroker>> | undefined;
    let log: Log | undefined;
    try {
      broker = await privateBroker(state.path);
      log = await createKafkaLog({
        brokers: broker.brokers,
        clientId: 'restart-test',
        logger: silentLogger(),
        operationTimeoutMs: 30_000,
        reconnectTimeoutMs: 180_000,
      });
      const topic = uniqueName('restart');
      await log.createTopics([{ name: topic, partitions: 3 }]);
      const producer = produceContinuously(log, topic);
      const groupId = uniqueName('g');
      const first = collect(log.consumer({ groupId, topics: [topic], maxBatchRecords: 200 }), { commit: true });

      await waitFor(
        'records flowing before the restart',
        () => producer.acknowledged.size >= 2000 && first.records.length > 0,
      );
      const beforeRestart = producer.acknowledged.size;
      const started = Date.now();
      await broker.kafka('restart');
      const restartMs = Date.now() - started;
      await waitFor(
        'records flowing after the restart',
        () => producer.acknowledged.size >= beforeRestart + 1000,
        180_000,
      );
      // The consumer that lived through the restart has read on; a new member of the group must resume from what it
      // committed (after the restart too), not from the start of the topic.
      await waitFor('the first consumer reads after the restart', () => first.records.length > beforeRestart, 180_000);
      await first.close();
      const second = collect(log.consumer({ groupId, topics: [topic], maxBatchRecords: 200 }), { commit: true });
      await waitFor(
        'records acknowledged after the hand-over',
        () => producer.acknowledged.size >= beforeRestart + 3000,
        180_000,
      );

      // A longer outage than the client's retries cover: produce() must give up with a retryable error (no hang),
      // and everything must flow again once the broker is back.
      await broker.kafka('stop');
      await waitFor('a produce failing retryably during the outage', () => producer.failures() > 0, 120_000);
      await broker.kafka('start');
      const afterOutage = producer.acknowledged.size;
      await waitFor(
        'records acknowledged after the outage',
        () => producer.acknowledged.size >= afterOutage + 1000,
        180_000,
      );
      await producer.stop();

      const seen = (records: readonly ConsumedRecord[]) => new Set(records.map((r) => Number(decoder.decode(r.value))));
      await waitFor(
        'every acknowledged record consumed',
        () => {
          const ids = seen([...first.records, ...second.records]);
          return [...producer.acknowledged].every((id) => ids.has(id));
        },
        180_000,
      );
      await second.close();
      const firstIds = seen(first.records);
      const reread = second.records.filter((r) => firstIds.has(Number(decoder.decode(r.value)))).length;
      assert.ok(reread <= 200 * 3, `the second consumer re-read ${reread} records: it did not resume from the commits`);

      // Independent of the consumer: the log itself holds every acknowledged record.
      const stored = new Set<number>();
      for (const { partition, earliest, next } of await log.offsets(topic)) {
        for (let offset = earliest; offset < next;) {
          const records = await log.read(topic, partition, offset, 5000);
          if (records.length === 0) break;
          for (const r of records) stored.add(Number(decoder.decode(r.value)));
          offset = records[records.length - 1]!.offset + 1;
        }
      }
      const missing = [...producer.acknowledged].filter((id) => !stored.has(id));
      assert.deepEqual(missing, [], 'acknowledged records missing from the log');
      const deliveries = first.records.length + second.records.length;
      t.diagnostic(
        `acknowledged ${producer.acknowledged.size} (${beforeRestart} before the restart), restart took ${restartMs} ms, ` +
          `${producer.failures()} produce attempts failed retryably, ${deliveries} deliveries ` +
          `(${first.records.length} before the hand-over, ${reread} re-read by the second consumer)`,
      );
    } finally {
      await log?.close();
      // Stops the private broker and deletes its state, even after a failure.
      await broker?.kafka('reset').catch(() => undefined);
      await state.remove();
    }
  },
);
