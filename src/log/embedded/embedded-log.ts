import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { DirLock } from '../../common/index.ts';
import { LockHeldError, acquireDirLock } from '../../common/index.ts';
import type { Logger } from '../../observability/index.ts';
import { silentLogger } from '../../observability/index.ts';
import type {
  ConsumedRecord,
  ConsumerOptions,
  Log,
  LogConsumer,
  LogRecord,
  RecordPosition,
  TopicSpec,
} from '../log.ts';
import { LogError, ioError, throwLogErrorIfAborted } from '../errors.ts';
import { createPartitioner } from '../partitioner.ts';
import { EmbeddedConsumer } from './embedded-consumer.ts';
import { GroupCoordinator } from './group-coordinator.ts';
import { syncDir } from './fs-util.ts';
import { OffsetStore } from './offset-store.ts';
import type { QuarantineReport } from './quarantine.ts';
import { pendingCorruption, quarantineId, writeQuarantine } from './quarantine.ts';
import { recordBytes } from './record-codec.ts';
import type { SegmentDamage } from './segment.ts';
import type { PartitionSettings, ResolvedTopicSpec, TopicState } from './topic-store.ts';
import { createTopic, openTopics, resolveTopicSpec, updateTopicSpec } from './topic-store.ts';

export interface EmbeddedLogOptions {
  /** Data directory, owned by one process at a time (gridstream passes `<GRIDSTREAM_DATA_DIR>/log`). */
  readonly dir: string;
  readonly logger?: Logger;
  /** A partition starts a new segment file once the current one reaches this size. @default 64 MiB */
  readonly segmentBytes?: number;
  /** How often whole segments past their topic's retention are deleted. @default 300 000 (5 min) */
  readonly retentionCheckIntervalMs?: number;
  /** Most value bytes in one consumer batch or `read()` (at least one record is always returned). @default 16 MiB */
  readonly fetchMaxBytes?: number;
  /** Told of every range of damaged bytes moved to the quarantine (metrics). */
  readonly onQuarantine?: (report: QuarantineReport) => void;
  /**
   * fsync every append before acknowledging it. Only for benchmarks (their baseline): without it an acknowledged
   * record can be lost on power loss. @default true
   */
  readonly fsync?: boolean;
}

/** The embedded log, with what only it has. */
export interface EmbeddedLog extends Log {
  readonly kind: 'embedded';
  readonly dir: string;
  /**
   * Deletes whole segments past their topic's retention (time, then size) now (also runs on a timer); returns how
   * many.
   */
  enforceRetention(now?: number): Promise<number>;
  /** Quarantined corruption no operator has acknowledged yet (`gridstream log quarantine ack`). */
  pendingCorruption(): Promise<readonly QuarantineReport[]>;
}

/**
 * Opens (or creates) the embedded log in `dir`: Kafka's model in one process, durable on disk (an append resolves
 * after its fsync). Truncates a torn tail left by a crash (an incomplete last frame); moves any other damage to
 * `<dir>/quarantine` keeping every valid record (see `docs/ARCHITECTURE.md#embedded-log-integrity`); raises each
 * partition's next offset to the highest committed position; takes over the lock of a dead previous owner.
 *
 * @example
 * const log = await createEmbeddedLog({ dir: join(dataDir, 'log'), logger });
 * await log.createTopics([{ name: 'grid.observations', partitions: 6 }]);
 */
export async function createEmbeddedLog(options: EmbeddedLogOptions): Promise<EmbeddedLog> {
  const logger = options.logger ?? silentLogger();
  await mkdir(options.dir, { recursive: true }).catch((error: unknown) => {
    throw ioError(`could not create ${options.dir}`, error);
  });
  // Directory entries of a new log must survive a power loss like its records (best effort: a read-only parent).
  await syncDir(dirname(options.dir)).catch(() => undefined);
  const lock = await lockDir(options.dir, logger);
  try {
    const offsets = await OffsetStore.open(join(options.dir, 'groups'), logger);
    const log = new EmbeddedLogImpl(options, logger, lock, offsets);
    await log.open();
    return log;
  } catch (error) {
    await lock.release();
    throw error;
  }
}

/** Takes `<dir>/LOCK`: one process owns a log directory at a time; a live owner is a `locked` error. */
async function lockDir(dir: string, logger: Logger): Promise<DirLock> {
  try {
    return await acquireDirLock(join(dir, 'LOCK'), {
      what: dir,
      onTakeOver: (stale) => {
        logger.warn({ dir, stalePid: stale?.pid ?? null }, 'taking over the lock of a process that is gone');
      },
    });
  } catch (error) {
    if (error instanceof LockHeldError) {
      throw new LogError('log.locked', error.message, {
        cause: error,
        details: { dir, pid: error.owner?.pid ?? null },
      });
    }
    throw ioError(`could not lock ${dir}`, error);
  }
}

class EmbeddedLogImpl implements EmbeddedLog {
  readonly kind = 'embedded' as const;
  readonly dir: string;
  readonly #logger: Logger;
  readonly #lock: DirLock;
  readonly #settings: PartitionSettings;
  readonly #fetchMaxBytes: number;
  readonly #retentionIntervalMs: number;
  readonly #partitioner = createPartitioner();
  readonly #listeners = new Map<string, Set<() => void>>();
  readonly #groups = new Map<string, GroupCoordinator>();
  readonly #consumers = new Set<EmbeddedConsumer>();
  #topics = new Map<string, TopicState>();
  readonly #offsets: OffsetStore;
  #creating: Promise<void> = Promise.resolve();
  readonly #onQuarantine: ((report: QuarantineReport) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: EmbeddedLogOptions, logger: Logger, lock: DirLock, offsets: OffsetStore) {
    this.dir = options.dir;
    this.#offsets = offsets;
    this.#logger = logger;
    this.#lock = lock;
    this.#fetchMaxBytes = options.fetchMaxBytes ?? 16 * 1024 * 1024;
    this.#retentionIntervalMs = options.retentionCheckIntervalMs ?? 300_000;
    this.#onQuarantine = options.onQuarantine;
    this.#settings = {
      segmentBytes: options.segmentBytes ?? 64 * 1024 * 1024,
      logger,
      onAppend: (topic) => {
        for (const wake of this.#listeners.get(topic) ?? []) wake();
      },
      onDamage: (topic, partition, damage) => this.#quarantine(topic, partition, damage),
      minNext: (topic, partition) => offsets.maxCommitted(topic, partition),
      fsync: options.fsync ?? true,
    };
  }

  /** Moves damaged bytes to the quarantine with their report; corruption is logged as an error and counted. */
  async #quarantine(topic: string, partition: number, damage: SegmentDamage): Promise<void> {
    const { bytes, ...where } = damage;
    const report: QuarantineReport = {
      id: quarantineId(topic, partition, damage.segment, damage.byteStart),
      topic,
      partition,
      ...where,
      detectedAt: new Date().toISOString(),
      // A torn tail was never acknowledged to anyone: kept for inspection, it holds nothing up.
      acknowledgedAt: damage.kind === 'torn-tail' ? new Date().toISOString() : null,
    };
    await writeQuarantine(this.dir, report, bytes);
    if (damage.kind === 'corruption') {
      const error = new LogError(
        'log.corrupt',
        `corrupt records in ${topic}/${partition} (${damage.segment}, bytes ${damage.byteStart}-${damage.byteEnd}): moved to the quarantine, valid records kept`,
        { details: { ...where, topic, partition, id: report.id } },
      );
      this.#logger.error(
        { err: error, quarantine: report.id, dir: this.dir },
        'log corruption quarantined: check it, then acknowledge it with `gridstream log quarantine ack`',
      );
    }
    this.#onQuarantine?.(report);
  }

  async open(): Promise<void> {
    const started = performance.now();
    this.#topics = await openTopics(join(this.dir, 'topics'), this.#settings);
    this.#timer = setInterval(() => void this.enforceRetention().catch(() => undefined), this.#retentionIntervalMs);
    this.#timer.unref();
    this.#logger.info(
      { dir: this.dir, topics: this.#topics.size, ms: Math.round(performance.now() - started) },
      'embedded log opened',
    );
  }

  async createTopics(specs: readonly TopicSpec[], options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    this.#ensureOpen();
    throwLogErrorIfAborted(options.signal, 'createTopics');
    const resolved = specs.map(resolveTopicSpec);
    // Serialised so that two concurrent calls for the same topic do not both create it.
    const run = this.#creating.then(async () => {
      for (const [i, spec] of resolved.entries()) {
        const existing = this.#topics.get(spec.name);
        if (existing !== undefined) {
          await this.#updateRetention(existing, spec, specs[i] ?? spec);
          continue;
        }
        this.#topics.set(spec.name, await createTopic(join(this.dir, 'topics'), spec, this.#settings));
        this.#logger.info({ topic: spec.name, partitions: spec.partitions }, 'topic created');
      }
      for (const group of this.#groups.values()) group.rebalance();
    });
    this.#creating = run.catch(() => undefined);
    await run;
  }

  /**
   * An existing topic takes the retention a new release (or the configuration) gives it — what `asked` names; what it
   * leaves out is kept, like on Kafka (not reset to the defaults `spec` was resolved with). Nothing else changes.
   */
  async #updateRetention(existing: TopicState, spec: ResolvedTopicSpec, asked: TopicSpec): Promise<void> {
    const retentionMs = asked.retentionMs === undefined ? existing.spec.retentionMs : spec.retentionMs;
    const retentionBytes = asked.retentionBytes === undefined ? existing.spec.retentionBytes : spec.retentionBytes;
    if (existing.spec.retentionMs === retentionMs && existing.spec.retentionBytes === retentionBytes) return;
    const updated = { ...existing.spec, retentionMs, retentionBytes };
    await updateTopicSpec(join(this.dir, 'topics'), updated);
    this.#topics.set(spec.name, { spec: updated, partitions: existing.partitions });
    this.#logger.info(
      { topic: spec.name, retentionMs: updated.retentionMs, retentionBytes },
      'topic retention changed',
    );
  }

  async produce(
    topic: string,
    records: readonly LogRecord[],
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<readonly RecordPosition[]> {
    this.#ensureOpen();
    throwLogErrorIfAborted(options.signal, 'produce');
    const state = this.#topic(topic);
    const { partitions, maxMessageBytes } = state.spec;
    // Check every record before appending any, so that a too-large one fails the call with nothing written.
    for (const [index, r] of records.entries()) {
      const bytes = recordBytes(r);
      if (bytes > maxMessageBytes) {
        throw new LogError(
          'log.record_too_large',
          `record of ${bytes} bytes exceeds maxMessageBytes ${maxMessageBytes} of ${topic}`,
          {
            details: { topic, bytes, maxMessageBytes, index },
          },
        );
      }
    }
    // Records of one partition keep their order: the nth record of the call for a partition gets first + nth.
    const byPartition = new Map<number, LogRecord[]>();
    const placed = records.map((r) => {
      const partition = this.#partitioner(topic, r.key, partitions);
      let list = byPartition.get(partition);
      if (list === undefined) byPartition.set(partition, (list = []));
      list.push(r);
      return { partition, nth: list.length - 1 };
    });
    const now = Date.now();
    const firstOffsets = new Map<number, number>();
    await Promise.all(
      [...byPartition].map(async ([p, subset]) => {
        const log = state.partitions[p];
        if (log === undefined) throw new LogError('log.unknown_partition', `${topic} has no partition ${p}`);
        firstOffsets.set(p, await log.append(subset, now, maxMessageBytes));
      }),
    );
    return placed.map(({ partition, nth }) => ({ topic, partition, offset: (firstOffsets.get(partition) ?? 0) + nth }));
  }

  consumer(options: ConsumerOptions): LogConsumer {
    this.#ensureOpen();
    if (options.groupId.length === 0) throw new LogError('log.invalid_argument', 'groupId must not be empty');
    let coordinator = this.#groups.get(options.groupId);
    if (coordinator === undefined) {
      coordinator = new GroupCoordinator(
        options.groupId,
        (t) => this.#topics.get(t)?.spec.partitions ?? 0,
        this.#logger,
      );
      this.#groups.set(options.groupId, coordinator);
    }
    const offsets = this.#offsets;
    const consumer = new EmbeddedConsumer(options, {
      coordinator,
      fetchMaxBytes: this.#fetchMaxBytes,
      partition: (t, p) => this.#topics.get(t)?.partitions[p],
      committed: (g, t, p) => offsets.get(g, t, p),
      commit: (g, o) => offsets.commit(g, o),
      subscribe: (topics, wake) => this.#subscribe(topics, wake),
      closed: (c) => this.#consumers.delete(c),
    });
    this.#consumers.add(consumer);
    return consumer;
  }

  async read(
    topic: string,
    partition: number,
    offset: number,
    limit: number,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<readonly ConsumedRecord[]> {
    this.#ensureOpen();
    throwLogErrorIfAborted(options.signal, 'read');
    const log = this.#topic(topic).partitions[partition];
    if (log === undefined)
      throw new LogError('log.unknown_partition', `${topic} has no partition ${partition}`, {
        details: { topic, partition },
      });
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(limit) || limit < 0) {
      throw new LogError('log.invalid_argument', `invalid offset ${offset} or limit ${limit}`);
    }
    return limit === 0 ? [] : log.read(offset, limit, this.#fetchMaxBytes);
  }

  offsets(
    topic: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<readonly { partition: number; earliest: number; next: number }[]> {
    return this.#now('offsets', options.signal, () =>
      this.#topic(topic).partitions.map((p) => ({ partition: p.partition, earliest: p.earliest, next: p.next })),
    );
  }

  committed(
    groupId: string,
    topic: string,
    options: { readonly signal?: AbortSignal } = {},
  ): Promise<readonly (number | null)[]> {
    return this.#now('committed', options.signal, () =>
      this.#topic(topic).partitions.map((p) => this.#offsets.get(groupId, topic, p.partition) ?? null),
    );
  }

  topics(options: { readonly signal?: AbortSignal } = {}): Promise<readonly string[]> {
    return this.#now('topics', options.signal, () => [...this.#topics.keys()].sort());
  }

  /** Answers from memory, failing as a rejected promise (never a synchronous throw) like the I/O methods. */
  #now<R>(what: string, signal: AbortSignal | undefined, answer: () => R): Promise<R> {
    try {
      this.#ensureOpen();
      throwLogErrorIfAborted(signal, what);
      return Promise.resolve(answer());
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async enforceRetention(now = Date.now()): Promise<number> {
    let deleted = 0;
    for (const topic of this.#topics.values()) {
      const { retentionMs, retentionBytes } = topic.spec;
      for (const p of topic.partitions) {
        if (retentionMs !== null) deleted += await p.deleteOlderThan(now - retentionMs);
        if (retentionBytes !== null) deleted += await p.deleteBeyondBytes(retentionBytes);
      }
    }
    if (deleted > 0) this.#logger.info({ segments: deleted }, 'retention deleted old segments');
    return deleted;
  }

  pendingCorruption(): Promise<readonly QuarantineReport[]> {
    return pendingCorruption(this.dir);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#timer);
    await Promise.all([...this.#consumers].map((c) => c.close()));
    for (const group of this.#groups.values()) group.dispose();
    await this.#creating;
    await Promise.all([...this.#topics.values()].flatMap((t) => t.partitions.map((p) => p.close())));
    await this.#offsets.flush();
    await this.#lock.release();
    this.#logger.info({ dir: this.dir }, 'embedded log closed');
  }

  #subscribe(topics: readonly string[], wake: () => void): () => void {
    for (const t of topics) {
      let set = this.#listeners.get(t);
      if (set === undefined) this.#listeners.set(t, (set = new Set()));
      set.add(wake);
    }
    return () => {
      for (const t of topics) this.#listeners.get(t)?.delete(wake);
    };
  }

  #topic(name: string): TopicState {
    const topic = this.#topics.get(name);
    if (topic === undefined)
      throw new LogError('log.unknown_topic', `topic ${name} does not exist`, { details: { topic: name } });
    return topic;
  }

  #ensureOpen(): void {
    if (this.#closing !== undefined) throw new LogError('log.closed', 'the embedded log is closed');
  }
}
