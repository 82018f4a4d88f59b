import type { z } from 'zod';
import type { BackoffOptions, Component, ErrorCode } from '../common/index.ts';
import {
  Lifecycle,
  backoffDelay,
  errorCode,
  errorMessage,
  isAborted,
  isRetryable,
  problemLogger,
  settlesWithin,
  sleep,
} from '../common/index.ts';
import type { DeadLetter, Stage, Topic } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import { silentLogger } from '../observability/index.ts';
import type { ConsumedBatch, ConsumedRecord, Log, LogConsumer, PartitionOffset } from './log.ts';
import { LogError, isLogError } from './errors.ts';
import { buildDeadLetter, deadLetterFromRecord, dlqTopicFor, produceDeadLetters } from './dead-letters.ts';
import { decodeRecord, produceValues } from './topic-io.ts';

/** A decoded, validated input value with the record it came from. */
export interface ProcessorItem<T> {
  readonly value: T;
  readonly record: ConsumedRecord;
}

export interface HandleContext {
  /** Aborts when a stop's grace time has run out: give up, the batch is not committed and comes again. */
  readonly signal: AbortSignal;
  /**
   * Offsets to store with the output in the same database transaction (exactly-once): the next offsets after
   * the items of this call and everything before them in the batch.
   */
  readonly nextOffsets: readonly PartitionOffset[];
  /** 1 for the first try of these items, then 2, 3… on retries. */
  readonly attempt: number;
}

/** A topic to produce to, whatever its value type (use {@link output} to have the values checked at compile time). */
export interface OutputTopic {
  readonly name: string;
  readonly schema: z.ZodType;
  key(value: never): string;
  readonly partitions: number;
  readonly stage: Stage;
  readonly maxMessageBytes?: number;
}

export interface ProcessorOutput {
  readonly topic: OutputTopic;
  readonly values: readonly unknown[];
}

/** A record the handler refuses (an expected failure, as a value): it goes to the processor's DLQ. */
export interface ProcessorReject {
  readonly record: ConsumedRecord;
  /** A code of the registry (`processing.unmapped_area`). */
  readonly reason: ErrorCode;
  readonly message: string;
  readonly position?: Readonly<Record<string, string | number | null>>;
  readonly retryable?: boolean;
}

export interface HandleResult {
  readonly outputs?: readonly ProcessorOutput[];
  readonly rejects?: readonly ProcessorReject[];
}

/** Optional counters and timings (wired to prom-client by the runtime). */
export interface ProcessorMetrics {
  recordsIn?(topic: string, count: number): void;
  recordsOut?(topic: string, count: number): void;
  recordsRejected?(topic: string, reason: string, count: number): void;
  batchSeconds?(seconds: number): void;
  retries?(code: string): void;
}

/** Retries of a batch after retryable failures: the toolkit's backoff, 200 ms doubling to 30 s, 20 % jitter. */
export const DEFAULT_PROCESSOR_RETRY = {
  baseMs: 200,
  maxMs: 30_000,
  factor: 2,
  jitter: 0.2,
} as const satisfies BackoffOptions;

export interface ProcessorOptions<T> {
  /** Names the processor in logs and metrics. */
  readonly name: string;
  readonly log: Log;
  readonly groupId: string;
  readonly input: Topic<T> | readonly Topic<T>[];
  /** Stage whose DLQ receives records the handler rejects or fails on. @default 'processing' */
  readonly stage?: Stage;
  readonly handle: (items: readonly ProcessorItem<T>[], context: HandleContext) => Promise<HandleResult | undefined>;
  readonly logger?: Logger;
  /** @default 500 */
  readonly maxBatchRecords?: number;
  /** @default 200 */
  readonly maxWaitMs?: number;
  /** @default 30 000 */
  readonly sessionTimeoutMs?: number;
  /** @default 'earliest' */
  readonly startFrom?: 'earliest' | 'latest';
  /** @default {@link DEFAULT_PROCESSOR_RETRY} */
  readonly retry?: BackoffOptions;
  readonly metrics?: ProcessorMetrics;
  /** Exactly-once: the offsets the handler stored with its output; the runner seeks to them on every assignment. */
  readonly externalOffsets?: { load(options: { signal: AbortSignal }): Promise<readonly PartitionOffset[]> };
  /** Removes secrets from dead-letter messages. */
  readonly scrub?: (text: string) => string;
}

/**
 * A stream processor on the one lifecycle: `start()` joins the group and starts consuming; `stop()` takes no new
 * batch, lets the one in flight finish (its handler's signal aborts after `graceMs`), commits and leaves the group.
 * `failed` when the loop hits an error that retrying cannot fix; `degraded` while retryable failures (a broker or
 * database outage) hold it back.
 */
export type Processor = Component;

/** An output whose values are checked against the topic's type at compile time. */
export function output<U>(topic: Topic<U>, values: readonly U[]): ProcessorOutput {
  return { topic, values };
}

/** Retryable failures in a row after which a processor reports itself degraded (`/readyz`). */
const DEGRADE_AFTER = 3;
/** How long a degraded report lasts after the last failure unless a success clears it. */
const DEGRADED_FOR_MS = 60_000;

/** Thrown inside the runner when a batch must be given up (stopping); never escapes. */
class Abandoned extends Error {}

/**
 * Creates the stream-processor runner every role uses: consume → validate → handle → produce outputs and dead
 * letters → commit. Retryable failures (anywhere in the cause chain) retry the batch with backoff and never
 * dead-letter; a non-retryable failure is narrowed down to the poison records, which are dead-lettered while the
 * others go through.
 *
 * @example
 * const p = createProcessor({ name: 'normalise', log, groupId: 'process.normalise', input: rawEntsoeTopic,
 *   handle: async (items) => ({ outputs: [output(gridObservationsTopic, items.flatMap(toChunks))] }) });
 * await p.start(); … await p.stop({ graceMs: 10_000 });
 */
export function createProcessor<T>(options: ProcessorOptions<T>): Processor {
  return new ProcessorRunner(options);
}

class ProcessorRunner<T> implements Processor {
  readonly name: string;
  readonly #options: ProcessorOptions<T>;
  readonly #inputs: ReadonlyMap<string, Topic<T>>;
  readonly #stage: Stage;
  readonly #logger: Logger;
  readonly #life: Lifecycle;
  readonly #soft = new AbortController();
  readonly #hard = new AbortController();
  #consumer: LogConsumer | undefined;
  #loop: Promise<void> | undefined;
  #assigned = '';

  constructor(options: ProcessorOptions<T>) {
    this.name = options.name;
    this.#options = options;
    const inputs = Array.isArray(options.input) ? (options.input as readonly Topic<T>[]) : [options.input as Topic<T>];
    this.#inputs = new Map(inputs.map((t) => [t.name, t]));
    this.#stage = options.stage ?? 'processing';
    this.#logger = (options.logger ?? silentLogger()).child({ processor: options.name });
    for (const topic of inputs) {
      if (dlqTopicFor(this.#stage).name === topic.name) {
        throw new LogError(
          'log.dlq_loop',
          `processor ${options.name} would dead-letter into its own input ${topic.name}`,
          {
            details: { topic: topic.name, stage: this.#stage },
          },
        );
      }
    }
    this.#life = new Lifecycle(
      options.name,
      {
        start: () => {
          this.#start();
          return Promise.resolve();
        },
        stop: ({ graceMs }) => this.#stop(graceMs),
      },
      { onProblem: problemLogger(this.#logger) },
    );
  }

  get state(): Processor['state'] {
    return this.#life.state;
  }

  get error(): unknown {
    return this.#life.error;
  }

  get degraded(): string | undefined {
    return this.#life.degraded;
  }

  get finished(): Promise<void> {
    return this.#life.finished;
  }

  start(): Promise<void> {
    return this.#life.start();
  }

  stop(options: { graceMs?: number } = {}): Promise<void> {
    return this.#life.stop(options);
  }

  #start(): void {
    const o = this.#options;
    this.#consumer = o.log.consumer({
      groupId: o.groupId,
      topics: [...this.#inputs.keys()],
      ...(o.maxBatchRecords === undefined ? {} : { maxBatchRecords: o.maxBatchRecords }),
      ...(o.maxWaitMs === undefined ? {} : { maxWaitMs: o.maxWaitMs }),
      ...(o.sessionTimeoutMs === undefined ? {} : { sessionTimeoutMs: o.sessionTimeoutMs }),
      ...(o.startFrom === undefined ? {} : { startFrom: o.startFrom }),
    });
    this.#logger.info({ groupId: o.groupId, topics: [...this.#inputs.keys()] }, 'processor started');
    this.#loop = this.#run(this.#consumer);
  }

  /** No new batch; the one in flight finishes within the grace time, then its handler's signal aborts. */
  async #stop(graceMs: number): Promise<void> {
    this.#soft.abort();
    const loop = this.#loop ?? Promise.resolve();
    if (!(await settlesWithin(loop, graceMs))) {
      this.#logger.warn({ graceMs }, 'in-flight batch did not finish within the grace time; aborting it');
      this.#hard.abort(new LogError('log.aborted', 'processor stop: grace time over'));
      if (!(await settlesWithin(loop, Math.min(1000, graceMs)))) {
        this.#logger.error('handler ignored its abort signal; leaving it behind');
        await this.#consumer?.close();
      }
    }
    this.#logger.info('processor stopped');
  }

  async #run(consumer: LogConsumer): Promise<void> {
    let failures = 0;
    try {
      for (;;) {
        try {
          for await (const batch of consumer.batches({ signal: this.#soft.signal })) {
            await this.#process(consumer, batch);
            failures = 0;
            this.#life.recover();
            if (isAborted(this.#soft.signal)) break;
          }
          // The iteration ends on stop, or when the consumer was closed under us (the log closed first).
          if (!isAborted(this.#soft.signal))
            throw new LogError('log.closed', 'the consumer was closed while the processor ran');
          break;
        } catch (error) {
          if (error instanceof Abandoned) break;
          if (!isRetryable(error)) throw error;
          // Reading failed (broker or disk): iterate again after a pause, from the positions not yet handed out.
          await this.#retryDelay(++failures, error, 'consume');
        }
      }
    } catch (error) {
      if (!(error instanceof Abandoned)) this.#life.fail(error);
    } finally {
      await consumer.close().catch(() => undefined);
    }
  }

  async #process(consumer: LogConsumer, batch: ConsumedBatch): Promise<void> {
    const started = performance.now();
    const metrics = this.#options.metrics;
    let records = batch.records;
    if (this.#options.externalOffsets !== undefined) records = await this.#alignWithExternalOffsets(consumer, records);
    for (const [topic, n] of countBy(records, (r) => r.topic)) metrics?.recordsIn?.(topic, n);

    const items: { item: ProcessorItem<T>; index: number }[] = [];
    const invalid: DeadLetter[] = [];
    for (const [index, record] of records.entries()) {
      const topic = this.#inputs.get(record.topic);
      const decoded = topic === undefined ? undefined : decodeRecord(topic, record);
      if (decoded?.ok === true) items.push({ item: { value: decoded.value, record }, index });
      else
        invalid.push(
          this.#deadLetter(
            this.#invalidInputStage(topic),
            record,
            decoded?.error ?? new LogError('log.invalid_message', `unexpected topic ${record.topic}`),
          ),
        );
    }
    if (invalid.length > 0) await this.#deadLetters(invalid);
    await this.#handleSlice(records, items, 0, items.length, 1, undefined);
    const next = offsetsAfter(records, records.length);
    if (next.length > 0) {
      const owned = await this.#withRetry('commit', () => consumer.commit(next));
      if (!owned)
        this.#logger.info(
          { offsets: next },
          'partitions were reassigned before the commit; the new owner reads them again',
        );
    }
    metrics?.batchSeconds?.((performance.now() - started) / 1000);
  }

  /** Handles items[from, to); on a non-retryable failure, halves the slice until the poison records are alone. */
  async #handleSlice(
    records: readonly ConsumedRecord[],
    items: readonly { item: ProcessorItem<T>; index: number }[],
    from: number,
    to: number,
    depth: number,
    firstFailure: Date | undefined,
  ): Promise<void> {
    if (from >= to) return;
    const end = items[to]?.index ?? records.length;
    const nextOffsets = offsetsAfter(records, end);
    const slice = items.slice(from, to).map((x) => x.item);
    let result: HandleResult | undefined;
    try {
      result = await this.#withRetry('handle', (attempt) =>
        this.#options.handle(slice, { signal: this.#hard.signal, nextOffsets, attempt }),
      );
    } catch (error) {
      if (error instanceof Abandoned) throw error;
      const failedAt = firstFailure ?? new Date();
      const single = to - from === 1 ? slice[0] : undefined;
      if (single !== undefined) {
        const record = single.record;
        this.#logger.warn(
          { err: error, topic: record.topic, partition: record.partition, offset: record.offset },
          'poison record dead-lettered',
        );
        await this.#deadLetters([
          this.#deadLetter(this.#stage, record, error, { attempts: depth, firstFailureAt: failedAt }),
        ]);
        return;
      }
      const mid = from + Math.ceil((to - from) / 2);
      await this.#handleSlice(records, items, from, mid, depth + 1, failedAt);
      await this.#handleSlice(records, items, mid, to, depth + 1, failedAt);
      return;
    }
    await this.#emit(result);
  }

  async #emit(result: HandleResult | undefined): Promise<void> {
    for (const out of result?.outputs ?? []) {
      if (out.values.length === 0) continue;
      const topic = out.topic as unknown as Topic<unknown>;
      const produced = await this.#withRetry('produce', () =>
        produceValues(this.#options.log, topic, out.values, { ...this.#scrubOption() }),
      );
      this.#options.metrics?.recordsOut?.(topic.name, produced.positions.length - produced.rejected.length);
      for (const r of produced.rejected) this.#options.metrics?.recordsRejected?.(topic.name, r.error.code, 1);
    }
    const rejects = result?.rejects ?? [];
    if (rejects.length > 0) {
      await this.#deadLetters(
        rejects.map((r) =>
          buildDeadLetter(
            {
              stage: this.#stage,
              reason: r.reason,
              message: r.message,
              retryable: r.retryable ?? false,
              source: {
                topic: r.record.topic,
                partition: r.record.partition,
                offset: r.record.offset,
                key: r.record.key,
              },
              payload: r.record.value,
              ...(r.position === undefined ? {} : { position: r.position }),
            },
            this.#scrubOption(),
          ),
        ),
      );
    }
  }

  async #deadLetters(letters: readonly DeadLetter[]): Promise<void> {
    await this.#withRetry('dead-letter', () => produceDeadLetters(this.#options.log, letters));
    for (const l of letters) this.#options.metrics?.recordsRejected?.(l.source?.topic ?? 'unknown', l.reason, 1);
  }

  #deadLetter(
    stage: Stage,
    record: ConsumedRecord,
    error: unknown,
    extra: { attempts?: number; firstFailureAt?: Date } = {},
  ): DeadLetter {
    return deadLetterFromRecord(stage, record, error, extra, this.#scrubOption());
  }

  /** Invalid input goes to its topic's stage DLQ, except a DLQ's own records: never back into themselves. */
  #invalidInputStage(topic: Topic<T> | undefined): Stage {
    if (topic === undefined || dlqTopicFor(topic.stage).name === topic.name) return this.#stage;
    return topic.stage;
  }

  #scrubOption(): { scrub?: (text: string) => string } {
    return this.#options.scrub === undefined ? {} : { scrub: this.#options.scrub };
  }

  /**
   * Exactly-once: when the assignment changed, seeks the newly owned partitions to the offsets stored with the
   * output and drops their records from this batch unless it already starts there (they come again from the seek).
   */
  async #alignWithExternalOffsets(
    consumer: LogConsumer,
    records: readonly ConsumedRecord[],
  ): Promise<readonly ConsumedRecord[]> {
    const assignment = consumer.assignment();
    const signature = assignment
      .map((p) => `${p.topic}/${p.partition}`)
      .sort()
      .join(',');
    if (signature === this.#assigned) return records;
    const external = this.#options.externalOffsets;
    if (external === undefined) return records;
    const previous = new Set(this.#assigned.split(','));
    const stored = await this.#withRetry('load offsets', () => external.load({ signal: this.#hard.signal }));
    const drop = new Set<string>();
    for (const { topic, partition } of assignment) {
      const k = `${topic}/${partition}`;
      const target = stored.find((o) => o.topic === topic && o.partition === partition);
      if (previous.has(k) || target === undefined) continue;
      if (records.find((r) => r.topic === topic && r.partition === partition)?.offset === target.offset) continue;
      try {
        await consumer.seek(target);
        drop.add(k);
        // The log learns how far the output really is: a crash between the output's commit and the log's left the
        // log's offset behind, and nothing might come to commit past it (consumer lag would never reach 0).
        await consumer.commit([target]);
        this.#logger.info({ topic, partition, offset: target.offset }, 'seeked to the offset stored with the output');
      } catch (error) {
        if (!isLogError(error, 'log.not_owner')) throw error;
      }
    }
    this.#assigned = signature;
    return drop.size === 0 ? records : records.filter((r) => !drop.has(`${r.topic}/${r.partition}`));
  }

  /** Runs `fn` until it succeeds or fails non-retryably; pauses with backoff between tries; gives up on stop. */
  async #withRetry<R>(what: string, fn: (attempt: number) => Promise<R>): Promise<R> {
    for (let attempt = 1; ; attempt++) {
      if (isAborted(this.#hard.signal)) throw new Abandoned();
      try {
        const result = await fn(attempt);
        if (attempt > 1) this.#life.recover();
        return result;
      } catch (error) {
        if (isAborted(this.#hard.signal)) throw new Abandoned();
        if (!isRetryable(error)) throw error;
        await this.#retryDelay(attempt, error, what);
      }
    }
  }

  async #retryDelay(attempt: number, error: unknown, what: string): Promise<void> {
    const delayMs = backoffDelay(attempt, { ...DEFAULT_PROCESSOR_RETRY, ...this.#options.retry });
    this.#options.metrics?.retries?.(errorCode(error));
    // One blip is not an outage: degraded (not ready) from the third failure in a row, for a minute after the last
    // one, so that a failure on an idle input does not keep the process unready until new data arrives.
    if (attempt >= DEGRADE_AFTER) this.#life.degrade(`${what}: ${errorCode(error)}`, { forMs: DEGRADED_FOR_MS });
    this.#logger.warn(
      { what, attempt, delayMs, code: errorCode(error), message: errorMessage(error) },
      'retryable failure; retrying',
    );
    // Stopping while retrying: the batch cannot finish now; give it up uncommitted (it comes again after restart).
    if (!(await sleep(delayMs, { signal: this.#soft.signal }))) throw new Abandoned();
  }
}

/** Next offsets after records[0, end) per partition (Kafka convention: last offset + 1). */
function offsetsAfter(records: readonly ConsumedRecord[], end: number): PartitionOffset[] {
  const next = new Map<string, PartitionOffset>();
  for (const r of records.slice(0, end)) {
    next.set(`${r.topic}/${r.partition}`, { topic: r.topic, partition: r.partition, offset: r.offset + 1 });
  }
  return [...next.values()];
}

function countBy<X>(xs: readonly X[], key: (x: X) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const x of xs) counts.set(key(x), (counts.get(key(x)) ?? 0) + 1);
  return counts;
}
