import { Admin, Consumer, ListOffsetTimestamps } from '@platformatic/kafka';
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../observability/index.ts';
import { LogError } from '../errors.ts';
import type {
  ConsumedRecord,
  ConsumerOptions,
  Log,
  LogConsumer,
  LogRecord,
  RecordPosition,
  TopicSpec,
} from '../log.ts';
import { settlesWithin } from '../../common/index.ts';
import { withDeadline } from './deadline.ts';
import { toLogError } from './errors.ts';
import { fetchRound } from './fetcher.ts';
import { KafkaGroupConsumer } from './group-consumer.ts';
import { clientOptions, resolveOptions, type KafkaLogOptions, type ResolvedKafkaLogOptions } from './options.ts';
import { RecordProducer } from './record-producer.ts';
import { TopicCatalog } from './topic-catalog.ts';
import { committedOffsets, createTopics } from './topic-admin.ts';

type Signal = { readonly signal?: AbortSignal };

/**
 * The Log port on Apache Kafka (any Kafka-protocol broker), built on @platformatic/kafka. Resolves once a broker
 * has answered, so a wrong address fails at start-up rather than at the first record.
 *
 * @example
 * const log = await createKafkaLog({ brokers: ['127.0.0.1:19092'], clientId: 'gridstream-ingest', logger });
 * await log.createTopics([{ name: 'raw.entsoe', partitions: 6 }]);
 * await log.produce('raw.entsoe', [{ key: 'DE_LU', value: bytes }]);
 */
export async function createKafkaLog(options: KafkaLogOptions): Promise<Log> {
  const resolved = resolveOptions(options);
  const log = new KafkaLog(resolved);
  try {
    await withDeadline('connect to Kafka', resolved.operationTimeoutMs, undefined, () => log.ping());
  } catch (error) {
    await log.close();
    throw error;
  }
  return log;
}

class KafkaLog implements Log {
  readonly kind = 'kafka' as const;
  readonly #options: ResolvedKafkaLogOptions;
  readonly #logger: Logger;
  readonly #admin: Admin;
  /** Group-less fetches (`read`) and offset lookups; it never joins a group. */
  readonly #reader: Consumer;
  readonly #catalog: TopicCatalog;
  readonly #producer: RecordProducer;
  readonly #consumers = new Set<LogConsumer>();
  /** Per group, the instance-id slots (1, 2, …) its open consumers hold: each member of a group needs its own id. */
  readonly #instanceSlots = new Map<string, Set<number>>();
  #closing: Promise<void> | undefined;

  constructor(options: ResolvedKafkaLogOptions) {
    this.#options = options;
    this.#logger = options.logger.child({ component: 'kafka-log', clientId: options.clientId });
    this.#admin = new Admin(clientOptions(options, 'admin'));
    this.#reader = new Consumer({ ...clientOptions(options, 'reader'), groupId: `gridstream-reader-${randomUUID()}` });
    this.#catalog = new TopicCatalog(this.#admin);
    this.#producer = new RecordProducer(options, this.#catalog, this.#logger);
  }

  async ping(): Promise<void> {
    try {
      await this.#admin.metadata({ topics: [] });
    } catch (error) {
      throw toLogError(error, `connect to Kafka at ${this.#options.brokers.join(',')}`);
    }
  }

  async createTopics(specs: readonly TopicSpec[], options: Signal = {}): Promise<void> {
    this.#checkOpen();
    if (specs.length === 0) return;
    await withDeadline('create topics', this.#options.operationTimeoutMs, options.signal, (deadline) =>
      createTopics(this.#admin, specs, this.#options.replicationFactor, deadline, (error, topic) => {
        this.#logger.warn(
          { err: error, topic },
          'could not apply the retention of an existing topic (set retention.ms/retention.bytes on the broker)',
        );
      }),
    );
    for (const spec of specs) this.#catalog.invalidate(spec.name);
  }

  produce(topic: string, records: readonly LogRecord[], options: Signal = {}): Promise<readonly RecordPosition[]> {
    // A rejected promise, never a synchronous throw: callers of a Promise API handle one path (as the embedded log).
    if (this.#closing !== undefined) return Promise.reject(new LogError('log.closed', 'the Kafka log is closed'));
    return this.#producer.produce(topic, records, options.signal);
  }

  consumer(options: ConsumerOptions): LogConsumer {
    this.#checkOpen();
    if (options.topics.length === 0) throw new LogError('log.invalid_argument', 'a consumer needs at least one topic');
    const slot = this.#takeInstanceSlot(options.groupId);
    const base = this.#options.groupInstanceId;
    const instanceId = base === undefined ? undefined : slot === 1 ? base : `${base}-${slot}`;
    const consumer: LogConsumer = new KafkaGroupConsumer(this.#options, options, this.#logger, instanceId, () => {
      this.#consumers.delete(consumer);
      this.#instanceSlots.get(options.groupId)?.delete(slot);
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  async read(
    topic: string,
    partition: number,
    offset: number,
    limit: number,
    options: Signal = {},
  ): Promise<readonly ConsumedRecord[]> {
    this.#checkOpen();
    if (limit <= 0) return [];
    return withDeadline(
      `read ${topic}/${partition}`,
      this.#options.operationTimeoutMs,
      options.signal,
      async (deadline) => {
        await this.#catalog.checkPartition(topic, partition);
        const records: ConsumedRecord[] = [];
        let next = BigInt(Math.max(0, offset));
        while (records.length < limit && !deadline.aborted) {
          const [result] = await this.#call(`read ${topic}/${partition}`, () =>
            fetchRound(this.#reader, [{ topic, partition, offset: next }], {
              maxWaitMs: 0,
              minBytes: 0,
              maxBytes: this.#options.fetchMaxBytes,
              partitionMaxBytes: this.#options.partitionFetchMaxBytes,
            }),
          );
          if (result === undefined) break;
          if (result.outOfRange !== undefined) {
            // Before the first retained record: start at it. Past the end: there is nothing to read.
            if (next >= result.outOfRange.logStartOffset) break;
            next = result.outOfRange.logStartOffset;
            continue;
          }
          for (const record of result.records) if (records.length < limit) records.push(record);
          if (result.nextOffset <= next || result.nextOffset >= result.highWatermark) break;
          next = result.nextOffset;
        }
        return records;
      },
    );
  }

  async offsets(
    topic: string,
    options: Signal = {},
  ): Promise<readonly { partition: number; earliest: number; next: number }[]> {
    this.#checkOpen();
    return withDeadline(`offsets of ${topic}`, this.#options.operationTimeoutMs, options.signal, async () => {
      const { partitions } = await this.#catalog.describe(topic);
      const edge = (timestamp: bigint) =>
        this.#call(`offsets of ${topic}`, () => this.#reader.listOffsets({ topics: [topic], timestamp }));
      const [earliest, latest] = await Promise.all([
        edge(ListOffsetTimestamps.EARLIEST),
        edge(ListOffsetTimestamps.LATEST),
      ]);
      return Array.from({ length: partitions }, (_, partition) => ({
        partition,
        earliest: Number(earliest.get(topic)?.[partition] ?? 0n),
        next: Number(latest.get(topic)?.[partition] ?? 0n),
      }));
    });
  }

  async committed(groupId: string, topic: string, options: Signal = {}): Promise<readonly (number | null)[]> {
    this.#checkOpen();
    return withDeadline(
      `committed offsets of ${groupId}`,
      this.#options.operationTimeoutMs,
      options.signal,
      async () => {
        const { partitions } = await this.#catalog.describe(topic);
        return committedOffsets(this.#admin, groupId, topic, partitions);
      },
    );
  }

  async topics(options: Signal = {}): Promise<readonly string[]> {
    this.#checkOpen();
    const names = await withDeadline('list topics', this.#options.operationTimeoutMs, options.signal, () =>
      this.#call('list topics', () => this.#admin.listTopics({ includeInternals: false })),
    );
    return [...names].sort();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#consumers].map((c) => c.close()));
    // A producer with a request stuck on a dead broker must not keep close() from returning.
    const grace = AbortSignal.timeout(Math.min(10_000, this.#options.operationTimeoutMs));
    await settlesWithin(this.#producer.close(), Infinity, { signal: grace });
    await settlesWithin(Promise.all([this.#reader.close(), this.#admin.close()]), Infinity, { signal: grace });
  }

  /** The lowest slot no open consumer of `groupId` holds: the same one again after a restart of this process. */
  #takeInstanceSlot(groupId: string): number {
    const taken = this.#instanceSlots.get(groupId) ?? new Set<number>();
    this.#instanceSlots.set(groupId, taken);
    let slot = 1;
    while (taken.has(slot)) slot++;
    taken.add(slot);
    return slot;
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new LogError('log.closed', 'the Kafka log is closed');
  }

  async #call<T>(what: string, operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toLogError(error, what);
    }
  }
}
