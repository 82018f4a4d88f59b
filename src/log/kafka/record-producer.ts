import { ProduceAcks, Producer, type MessageToProduce } from '@platformatic/kafka';
import type { Logger } from '../../observability/index.ts';
import { LogError } from '../errors.ts';
import type { LogRecord, RecordPosition } from '../log.ts';
import { createPartitioner } from '../partitioner.ts';
import { isAborted } from '../../common/index.ts';
import { withDeadline } from './deadline.ts';
import { isUnknownTopic, toLogError } from './errors.ts';
import { clientOptions, type ResolvedKafkaLogOptions } from './options.ts';
import type { TopicCatalog, TopicInfo } from './topic-catalog.ts';

type Message = MessageToProduce;

/** Bytes a record batch adds around its records (61-byte header plus slack for varints). */
const BATCH_OVERHEAD = 96;
/** Bytes one record adds around its key, value and headers (length, attributes, deltas as varints). */
const RECORD_OVERHEAD = 24;

/** A `produce()` call waiting for its turn. */
interface Pending {
  readonly topic: string;
  readonly records: readonly LogRecord[];
  readonly bytes: number;
  readonly deadline: AbortSignal;
  resolve(positions: RecordPosition[]): void;
  reject(error: unknown): void;
}

/**
 * The producing half of the Kafka Log: an idempotent producer (acks=all, one request in flight per broker, so a
 * retried request can never overtake the next one), Kafka's murmur2 partitioner from `../partitioner.ts` (the
 * embedded log places keys identically), batches split below the topic's `max.message.bytes`, and the offset of
 * every record computed from each partition's base offset.
 *
 * Calls are sent one after the other (per-key order holds across calls even when one of them is retried), and
 * calls that queued up for the same topic while a request was out go together in the next request, up to
 * `maxRequestBytes` — a group commit: many small concurrent calls (device messages acknowledged one by one) cost
 * one round trip to the in-sync replicas, not one each.
 */
export class RecordProducer {
  readonly #producer: Producer;
  readonly #catalog: TopicCatalog;
  readonly #options: ResolvedKafkaLogOptions;
  readonly #logger: Logger;
  readonly #partitioner = createPartitioner();
  readonly #queue: Pending[] = [];
  #pumping = false;
  /** Settles when the queue has been worked off (for close()). */
  #idle: Promise<void> = Promise.resolve();

  constructor(options: ResolvedKafkaLogOptions, catalog: TopicCatalog, logger: Logger) {
    this.#options = options;
    this.#catalog = catalog;
    this.#logger = logger;
    this.#producer = new Producer({
      ...clientOptions(options, 'producer'),
      idempotent: true,
      acks: ProduceAcks.ALL,
      compression: options.compression,
    });
  }

  /** Appends `records` to `topic`; resolves once every one is acknowledged by the in-sync replicas. */
  async produce(
    topic: string,
    records: readonly LogRecord[],
    signal?: AbortSignal,
  ): Promise<readonly RecordPosition[]> {
    if (records.length === 0) return [];
    const what = `produce to ${topic}`;
    return withDeadline(what, this.#options.operationTimeoutMs, signal, (deadline) => {
      const { promise, resolve, reject } = Promise.withResolvers<RecordPosition[]>();
      let bytes = 0;
      for (const r of records) bytes += r.value.byteLength + (r.key?.length ?? 0) + RECORD_OVERHEAD;
      this.#queue.push({ topic, records, bytes, deadline, resolve, reject });
      if (!this.#pumping) {
        this.#pumping = true;
        this.#idle = this.#pump();
      }
      return promise;
    });
  }

  async close(): Promise<void> {
    await this.#idle;
    await this.#producer.close();
  }

  /** Sends queued calls until none is left, merging consecutive calls for one topic. Never throws. */
  async #pump(): Promise<void> {
    try {
      for (let first = this.#queue.shift(); first !== undefined; first = this.#queue.shift()) {
        const group = [first];
        let bytes = first.bytes;
        for (let next = this.#queue[0]; next !== undefined; next = this.#queue[0]) {
          if (next.topic !== first.topic || bytes + next.bytes > this.#options.maxRequestBytes) break;
          group.push(next);
          bytes += next.bytes;
          this.#queue.shift();
        }
        // A caller that gave up while earlier calls held the queue was told its records were not appended.
        const live = group.filter((p) => {
          if (p.deadline.aborted) p.reject(p.deadline.reason);
          return !p.deadline.aborted;
        });
        const only = live.length === 1 ? live[0] : undefined;
        if (live.length === 0) continue;
        const records = only?.records ?? live.flatMap((p) => p.records);
        // The group stops at the first deadline of its callers: each of them then sees that (retryable) timeout.
        const deadline = only?.deadline ?? AbortSignal.any(live.map((p) => p.deadline));
        try {
          const positions = await this.#produceInOrder(first.topic, records, deadline);
          let at = 0;
          for (const p of live) {
            p.resolve(positions.slice(at, at + p.records.length));
            at += p.records.length;
          }
        } catch (error) {
          for (const p of live) p.reject(error);
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  async #produceInOrder(
    topic: string,
    records: readonly LogRecord[],
    deadline: AbortSignal,
  ): Promise<RecordPosition[]> {
    // The caller may have given up while earlier calls held the queue: sending now would append records the
    // caller was told were not appended.
    if (deadline.aborted) throw deadline.reason;
    const info = await this.#catalog.describe(topic);
    const now = BigInt(Date.now());
    const sizes: number[] = [];
    const messages = records.map((record, index) => this.#toMessage(info, record, index, now, sizes));
    const positions: RecordPosition[] = [];
    for (const [start, end] of chunks(messages, sizes, info, this.#options.maxRequestBytes)) {
      const chunk = messages.slice(start, end);
      // A deadline can pass between two requests; stop before sending more than the caller waits for.
      if (isAborted(deadline)) throw deadline.reason;
      positions.push(...(await this.#send(topic, chunk)));
    }
    return positions;
  }

  /** The library's message for `record`; its size (key, value, headers) goes to `sizes[index]`. */
  #toMessage(info: TopicInfo, record: LogRecord, index: number, now: bigint, sizes: number[]): Message {
    const key = record.key === null ? undefined : Buffer.from(record.key, 'utf8');
    const value = Buffer.from(record.value.buffer, record.value.byteOffset, record.value.byteLength);
    let size = value.byteLength + (key?.byteLength ?? 0);
    let headers: Map<Buffer, Buffer> | undefined;
    if (record.headers !== undefined) {
      headers = new Map();
      for (const [name, text] of Object.entries(record.headers)) {
        const k = Buffer.from(name, 'utf8');
        const v = Buffer.from(text, 'utf8');
        size += k.byteLength + v.byteLength;
        headers.set(k, v);
      }
    }
    if (size > info.maxMessageBytes) {
      throw new LogError(
        'log.record_too_large',
        `record ${index} is ${size} bytes; topic ${info.name} accepts ${info.maxMessageBytes}`,
        {
          details: { topic: info.name, index, bytes: size, maxMessageBytes: info.maxMessageBytes },
        },
      );
    }
    sizes[index] = size;
    return {
      topic: info.name,
      partition: this.#partitioner(info.name, record.key, info.partitions),
      key,
      value,
      ...(headers === undefined ? {} : { headers }),
      timestamp: record.timestamp === undefined ? now : BigInt(Math.trunc(record.timestamp)),
    };
  }

  async #send(topic: string, chunk: Message[]): Promise<RecordPosition[]> {
    let result;
    try {
      result = await this.#producer.send({ messages: chunk });
    } catch (error) {
      this.#catalog.invalidate(topic);
      const mapped = toLogError(error, `produce to ${topic}`, { topic, records: chunk.length });
      // Right after a restart a broker may not yet host a partition it is about to lead: that says "unknown
      // topic" too. Only a topic that is really gone is a permanent failure.
      if (isUnknownTopic(error) && (await this.#topicExists(topic))) {
        throw new LogError('kafka.broker_unavailable', `produce to ${topic}: partition not available yet`, {
          cause: error,
          details: { topic },
        });
      }
      this.#logger.warn({ err: mapped, topic, records: chunk.length }, 'produce failed');
      throw mapped;
    }
    const base = new Map<number, number>();
    for (const { partition, offset } of result.offsets ?? []) base.set(partition, Number(offset));
    const next = new Map<number, number>();
    return chunk.map((message) => {
      const partition = message.partition ?? 0;
      const first = base.get(partition);
      if (first === undefined) {
        throw new LogError('kafka.failure', `produce to ${topic}: no offset acknowledged for partition ${partition}`);
      }
      const index = next.get(partition) ?? 0;
      next.set(partition, index + 1);
      return { topic, partition, offset: first + index };
    });
  }

  async #topicExists(topic: string): Promise<boolean> {
    try {
      await this.#catalog.describe(topic);
      return true;
    } catch {
      return false;
    }
  }
}

/**
 * Splits messages into produce requests, as `[start, end)` ranges: each below `maxRequestBytes`, and each
 * partition's batch below the topic's `max.message.bytes` (the broker checks whole batches against it). A record
 * that only fits alone is sent alone. Order within a partition is kept because requests go one after the other.
 */
function* chunks(
  messages: readonly Message[],
  sizes: readonly number[],
  info: TopicInfo,
  maxRequestBytes: number,
): Generator<[number, number]> {
  const batchLimit = info.maxMessageBytes - BATCH_OVERHEAD;
  let start = 0;
  let chunkBytes = 0;
  let partitionBytes = new Map<number, number>();
  for (let i = 0; i < messages.length; i++) {
    const bytes = (sizes[i] ?? 0) + RECORD_OVERHEAD;
    const partition = messages[i]?.partition ?? 0;
    const inPartition = partitionBytes.get(partition) ?? 0;
    if (i > start && (chunkBytes + bytes > maxRequestBytes || inPartition + bytes > batchLimit)) {
      yield [start, i];
      start = i;
      chunkBytes = 0;
      partitionBytes = new Map();
    }
    chunkBytes += bytes;
    partitionBytes.set(partition, (partitionBytes.get(partition) ?? 0) + bytes);
  }
  if (start < messages.length) yield [start, messages.length];
}
