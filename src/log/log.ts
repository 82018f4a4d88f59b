/**
 * The Log port: a partitioned, durable, replayable record log with consumer groups — Kafka's model, reduced to
 * what gridstream uses. Exactly two implementations: Apache Kafka (distributed mode) and the embedded log
 * (one process, files under the data dir). One contract test suite runs against both.
 */

/** A record to append. */
export interface LogRecord {
  /** Decides the partition (same key → same partition → ordered); `null` spreads records round-robin. */
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers?: Readonly<Record<string, string>>;
  /** Event time in epoch ms. @default the time of the append */
  readonly timestamp?: number;
}

/** A record as read back, with its position. */
export interface ConsumedRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly timestamp: number;
}

/** Where an appended record landed. */
export interface RecordPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/** The next offset to read for one partition (Kafka's convention: last processed offset + 1). */
export interface PartitionOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  /** Largest record the topic accepts. @default 1 MiB */
  readonly maxMessageBytes?: number;
  /** How long records are kept; `null` = forever. @default 7 days */
  readonly retentionMs?: number | null;
  /**
   * Most bytes kept per partition: the oldest whole segments beyond it are deleted (Kafka `retention.bytes`);
   * `null` = no size limit. @default null
   */
  readonly retentionBytes?: number | null;
}

export interface ConsumerOptions {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a partition without a committed offset starts. @default 'earliest' */
  readonly startFrom?: 'earliest' | 'latest';
  /** Most records in one batch. @default 500 */
  readonly maxBatchRecords?: number;
  /** Longest wait for a batch to fill before handing over what there is. @default 200 */
  readonly maxWaitMs?: number;
  /** A member that has not polled for this long is removed from the group and its partitions reassigned. @default 30 000 */
  readonly sessionTimeoutMs?: number;
}

/** Records read together; `records` are in offset order within each partition. */
export interface ConsumedBatch {
  readonly records: readonly ConsumedRecord[];
}

/**
 * A member of a consumer group. Offsets are committed only when the caller says so (after its output is
 * durable): records not committed are delivered again — to this member after a seek or restart, or to another
 * member after a rebalance.
 */
export interface LogConsumer {
  /**
   * Batches, each requested only when the previous one has been handled (backpressure). Ends when `close()` is
   * called or `signal` aborts; a batch being handled is never interrupted.
   */
  batches(options?: { readonly signal?: AbortSignal }): AsyncIterable<ConsumedBatch>;
  /**
   * Commits next-offsets to read. Committing for a partition this member no longer owns is ignored (returns false).
   * After `close()` it rejects with `closed`, like every other use of a closed consumer or log.
   */
  commit(offsets: readonly PartitionOffset[]): Promise<boolean>;
  /** Makes the next batch for `partition` start at `offset`; `closed` after `close()`. */
  seek(offset: PartitionOffset): Promise<void>;
  /** Partitions currently assigned to this member (changes when members join or leave). */
  assignment(): readonly { readonly topic: string; readonly partition: number }[];
  /** Leaves the group (its partitions go to the remaining members). Idempotent. */
  close(): Promise<void>;
}

export interface Log {
  readonly kind: 'kafka' | 'embedded';
  /**
   * Creates the topics that do not exist yet (idempotent). An existing topic keeps its partitions and size limit but
   * takes the retention its spec names (`retentionMs`, `retentionBytes`), so that a changed policy reaches it.
   */
  createTopics(specs: readonly TopicSpec[], options?: { readonly signal?: AbortSignal }): Promise<void>;
  /**
   * Appends records and resolves once they are durable (Kafka: acknowledged by the in-sync replicas with an
   * idempotent producer; embedded: fsynced). Records with the same key keep their order. Rejects with a
   * `LogError` whose `retryable` flag says whether appending again may succeed.
   */
  produce(
    topic: string,
    records: readonly LogRecord[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<readonly RecordPosition[]>;
  consumer(options: ConsumerOptions): LogConsumer;
  /** Reads up to `limit` records of one partition from `offset` without joining a group (DLQ browsing). */
  read(
    topic: string,
    partition: number,
    offset: number,
    limit: number,
    options?: { readonly signal?: AbortSignal },
  ): Promise<readonly ConsumedRecord[]>;
  /** Partition count, earliest and next (high watermark) offsets of each partition. */
  offsets(
    topic: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<readonly { partition: number; earliest: number; next: number }[]>;
  /** Committed next-offsets of a group for a topic (`null` where nothing is committed). */
  committed(
    groupId: string,
    topic: string,
    options?: { readonly signal?: AbortSignal },
  ): Promise<readonly (number | null)[]>;
  /** Topic names that exist. */
  topics(options?: { readonly signal?: AbortSignal }): Promise<readonly string[]>;
  /** Closes producers and consumers of this log. Idempotent. */
  close(): Promise<void>;
}
