import type { ConnectionOptions, RetryDelayGetter, SASLOptions } from '@platformatic/kafka';
import { backoffDelay } from '../../common/index.ts';
import { isPermanentConnectionFailure } from './errors.ts';
import type { Logger } from '../../observability/index.ts';

/** Batch compression codecs Kafka understands. */
export const KAFKA_COMPRESSIONS = ['zstd', 'lz4', 'snappy', 'gzip', 'none'] as const;
export type KafkaCompression = (typeof KAFKA_COMPRESSIONS)[number];

/** Configuration of {@link createKafkaLog}. Read from the environment by the CLI, never by this module. */
export interface KafkaLogOptions {
  /** Bootstrap servers, `host:port`. */
  readonly brokers: readonly string[];
  /** Client id reported to the brokers (quotas, broker logs). */
  readonly clientId: string;
  readonly logger: Logger;
  /**
   * Codec of produced batches. zstd was the fastest codec of @platformatic/kafka in our measurements (it uses
   * Node's native zlib; lz4 and snappy run in WebAssembly) and compresses JSON best; see docs/kafka-client.md.
   * @default 'zstd'
   */
  readonly compression?: KafkaCompression;
  /** Replicas of topics created by `createTopics`; `-1` takes the broker's `default.replication.factor`. @default -1 */
  readonly replicationFactor?: number;
  /** How long one request may wait for its response before the connection is dropped. @default 30 000 */
  readonly requestTimeoutMs?: number;
  /** Upper bound of every Log call (retries included); past it the call fails with a retryable `timeout`. @default 60 000 */
  readonly operationTimeoutMs?: number;
  /**
   * How long `batches()` keeps retrying while the brokers are unreachable before it throws a retryable
   * `broker_unavailable` (the consumer stays usable: iterate again to resume). @default 60 000
   */
  readonly reconnectTimeoutMs?: number;
  /** Largest produce request, before compression; bigger `produce()` calls are sent in several requests. @default 1 MiB */
  readonly maxRequestBytes?: number;
  /** Largest fetch response a consumer asks for (bounds what it buffers beyond one batch). @default 4 MiB */
  readonly fetchMaxBytes?: number;
  /** Largest part of a fetch response from one partition. @default 1 MiB */
  readonly partitionFetchMaxBytes?: number;
  /**
   * Static group membership (KIP-345): a stable id of this worker (`group.instance.id`), the same across its
   * restarts and different from every other worker's. A member restarted within the session timeout gets its
   * partitions back at once, without a rebalance; a static member does not leave its groups when it stops (see
   * docs/kafka-client.md). Unset: dynamic membership (a stopped member leaves; a crashed one holds its partitions
   * until the session timeout). A second consumer of the same group in this process gets `<id>-2`, and so on.
   */
  readonly groupInstanceId?: string;
  /** TLS options for brokers that require it (Confluent Cloud, MSK). */
  readonly tls?: ConnectionOptions['tls'];
  /** SASL credentials; never logged. */
  readonly sasl?: SASLOptions;
}

/** {@link KafkaLogOptions} with every default applied. */
export interface ResolvedKafkaLogOptions extends Required<Omit<KafkaLogOptions, 'tls' | 'sasl' | 'groupInstanceId'>> {
  readonly groupInstanceId: string | undefined;
  readonly tls: ConnectionOptions['tls'] | undefined;
  readonly sasl: SASLOptions | undefined;
}

export function resolveOptions(options: KafkaLogOptions): ResolvedKafkaLogOptions {
  if (options.brokers.length === 0) throw new RangeError('KafkaLogOptions.brokers must list at least one broker');
  if (options.groupInstanceId !== undefined && !/^[A-Za-z0-9._-]{1,200}$/.test(options.groupInstanceId)) {
    throw new RangeError('KafkaLogOptions.groupInstanceId must be 1 to 200 of A-Z a-z 0-9 . _ -');
  }
  return {
    brokers: options.brokers,
    clientId: options.clientId,
    logger: options.logger,
    compression: options.compression ?? 'zstd',
    replicationFactor: options.replicationFactor ?? -1,
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    operationTimeoutMs: options.operationTimeoutMs ?? 60_000,
    reconnectTimeoutMs: options.reconnectTimeoutMs ?? 60_000,
    maxRequestBytes: options.maxRequestBytes ?? 1024 * 1024,
    fetchMaxBytes: options.fetchMaxBytes ?? 4 * 1024 * 1024,
    partitionFetchMaxBytes: options.partitionFetchMaxBytes ?? 1024 * 1024,
    groupInstanceId: options.groupInstanceId,
    tls: options.tls,
    sasl: options.sasl,
  };
}

/**
 * Retries inside the client: exponential from 100 ms, capped at 2 s, with jitter so that restarted members do not
 * reconnect in lock step. Ten retries span about 13 s, enough to ride out a broker restart or a leader election
 * with the same producer sequence numbers (so idempotence removes any duplicate), yet finite: the library's own
 * default for an idempotent producer is to retry forever, which would hang a caller through a long outage.
 */
const CLIENT_RETRIES = 10;
// 100 ms doubling to 2 s, each ± 20 %: the toolkit's formula with 1.2 × those ceilings and a third of it random.
// A refused login or an untrusted certificate cannot mend itself (and the library cannot tell: it nests them in a
// retryable network error), so its retries go at once and the caller gets the permanent error in well under a second.
const retryDelay: RetryDelayGetter = (_client, _operation, attempt, _retries, error) =>
  isPermanentConnectionFailure(error) ? 0 : backoffDelay(attempt, { baseMs: 120, maxMs: 2400, jitter: 1 / 3 });

/** Options shared by every @platformatic/kafka client this module creates. */
export function clientOptions(options: ResolvedKafkaLogOptions, role: string) {
  return {
    clientId: `${options.clientId}-${role}`,
    bootstrapBrokers: [...options.brokers],
    connectTimeout: Math.min(10_000, options.requestTimeoutMs),
    requestTimeout: options.requestTimeoutMs,
    retries: CLIENT_RETRIES,
    retryDelay,
    // Topics are created explicitly (createTopics); a typo must fail, not invent a topic.
    autocreateTopics: false,
    ...(options.tls === undefined ? {} : { tls: options.tls }),
    ...(options.sasl === undefined ? {} : { sasl: options.sasl }),
  };
}
