import { ListOffsetTimestamps, type Consumer } from '@platformatic/kafka';
import type { Logger } from '../../observability/index.ts';
import type { ConsumedRecord } from '../log.ts';
import { settlesWithin, sleep } from '../../common/index.ts';
import { fetchRound, type FetchLimits, type FetchPosition } from './fetcher.ts';

type TopicPartition = { readonly topic: string; readonly partition: number };

/** Map key of a partition (Kafka topic names cannot contain ':'). */
export function partitionKey(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface PartitionPositionsOptions {
  /** The group member: committed offsets and offset lookups go through its coordinator connection. */
  readonly member: Consumer;
  /** The client that fetches (its own connections, so long polls never delay heartbeats and commits). */
  readonly fetcher: Consumer;
  readonly startFrom: 'earliest' | 'latest';
  readonly maxBatchRecords: number;
  readonly limits: FetchLimits;
  readonly logger: Logger;
}

/**
 * Where a group member reads each of its partitions, and the records fetched but not yet handed out.
 *
 * Backpressure: a fetch is started only when none is in flight and fewer than `maxBatchRecords` records (or
 * half of the last response) are buffered, so at most about one and a half fetch responses (`fetchMaxBytes`
 * each, before decompression) are held — a bounded prefetch that lets the next fetch overlap the caller's work. Every reassignment or seek bumps a version; a fetch that started
 * under an older version is dropped whole, since its offsets may no longer be ours to read.
 */
export class PartitionPositions {
  readonly #options: PartitionPositionsOptions;
  readonly #positions = new Map<string, bigint>();
  #assignment: readonly TopicPartition[] = [];
  #buffer: ConsumedRecord[] = [];
  #head = 0;
  #version = 0;
  #inflight: Promise<void> | undefined;
  #error: unknown;
  #lastFetched = 0;

  constructor(options: PartitionPositionsOptions) {
    this.#options = options;
  }

  /**
   * The next records (at most `maxBatchRecords`), fetching first when nothing is buffered; an empty array when
   * the fetch's long poll found nothing. Rethrows the failure of the last fetch.
   */
  async next(stop: AbortSignal): Promise<ConsumedRecord[]> {
    if (this.#buffered() === 0) {
      if (this.#inflight === undefined && this.#error !== undefined) this.#throwError();
      await settlesWithin(this.#inflight ?? this.#startRound(), Infinity, { signal: stop });
      if (this.#error !== undefined) this.#throwError();
    }
    const end = Math.min(this.#buffer.length, this.#head + this.#options.maxBatchRecords);
    const records = this.#buffer.slice(this.#head, end);
    this.#head = end;
    if (this.#head === this.#buffer.length) {
      this.#buffer = [];
      this.#head = 0;
    }
    if (this.#inflight === undefined && this.#buffered() < this.#lowWater()) void this.#startRound();
    return records;
  }

  /**
   * Takes a new assignment. Positions (and buffered records) of partitions kept survive when `keep` is true;
   * all others are forgotten and will be looked up from the group's committed offsets.
   */
  reassign(assignment: readonly TopicPartition[], keep: boolean): void {
    this.#version++;
    const keys = new Set(assignment.map((tp) => partitionKey(tp.topic, tp.partition)));
    for (const key of [...this.#positions.keys()]) {
      if (!keep || !keys.has(key)) this.#positions.delete(key);
    }
    this.#assignment = assignment;
    this.#retainBuffered((r) => this.#positions.has(partitionKey(r.topic, r.partition)));
  }

  /** Makes the next records of the partition start at `offset`. */
  seek(topic: string, partition: number, offset: bigint): void {
    this.#version++;
    this.#positions.set(partitionKey(topic, partition), offset);
    this.#retainBuffered((r) => r.topic !== topic || r.partition !== partition);
  }

  /**
   * Below this many buffered records the next fetch starts: one batch, or half of what the last fetch brought,
   * so that a large response is refilled while its second half is handed out rather than after it.
   */
  #lowWater(): number {
    return Math.max(this.#options.maxBatchRecords, this.#lastFetched >> 1);
  }

  #buffered(): number {
    return this.#buffer.length - this.#head;
  }

  #retainBuffered(keep: (record: ConsumedRecord) => boolean): void {
    this.#buffer = this.#buffer.slice(this.#head).filter(keep);
    this.#head = 0;
  }

  #throwError(): never {
    const error = this.#error;
    this.#error = undefined;
    throw error;
  }

  #startRound(): Promise<void> {
    this.#error = undefined;
    const round = this.#round(this.#version).catch((error: unknown) => {
      this.#error = error;
    });
    this.#inflight = round.finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #round(version: number): Promise<void> {
    const assignment = this.#assignment;
    const missing = assignment.filter((tp) => !this.#positions.has(partitionKey(tp.topic, tp.partition)));
    if (missing.length > 0) {
      const found = await this.#startingOffsets(missing);
      if (version !== this.#version) return;
      for (const [key, offset] of found) this.#positions.set(key, offset);
    }
    const wanted: FetchPosition[] = [];
    for (const { topic, partition } of assignment) {
      const offset = this.#positions.get(partitionKey(topic, partition));
      if (offset !== undefined) wanted.push({ topic, partition, offset });
    }
    if (wanted.length === 0) {
      // No partitions (more members than partitions): wait as a long poll would, instead of spinning.
      await sleep(this.#options.limits.maxWaitMs);
      return;
    }
    const results = await fetchRound(this.#options.fetcher, wanted, this.#options.limits);
    if (version !== this.#version) return;
    this.#lastFetched = 0;
    for (const result of results) {
      const key = partitionKey(result.topic, result.partition);
      if (result.outOfRange !== undefined) {
        // Kafka's auto.offset.reset: the records are gone (retention) or the offset is past the end.
        const reset =
          this.#options.startFrom === 'earliest' ? result.outOfRange.logStartOffset : result.outOfRange.highWatermark;
        this.#options.logger.warn(
          {
            topic: result.topic,
            partition: result.partition,
            from: String(this.#positions.get(key)),
            to: String(reset),
          },
          'offset out of range; resetting',
        );
        this.#positions.set(key, reset);
        continue;
      }
      for (const record of result.records) this.#buffer.push(record);
      this.#lastFetched += result.records.length;
      this.#positions.set(key, result.nextOffset);
    }
  }

  /** Committed offsets of the group, or the start/end of the log for partitions with nothing committed. */
  async #startingOffsets(partitions: readonly TopicPartition[]): Promise<Map<string, bigint>> {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const committed = await this.#options.member.listCommittedOffsets({
      topics: [...byTopic].map(([topic, list]) => ({ topic, partitions: list })),
    });
    const found = new Map<string, bigint>();
    const fallback = new Map<string, number[]>();
    for (const { topic, partition } of partitions) {
      const offset = committed.get(topic)?.[partition];
      if (offset !== undefined && offset >= 0n) found.set(partitionKey(topic, partition), offset);
      else fallback.set(topic, [...(fallback.get(topic) ?? []), partition]);
    }
    if (fallback.size > 0) {
      const edges = await this.#options.member.listOffsets({
        topics: [...fallback.keys()],
        partitions: Object.fromEntries(fallback),
        timestamp: this.#options.startFrom === 'earliest' ? ListOffsetTimestamps.EARLIEST : ListOffsetTimestamps.LATEST,
      });
      for (const [topic, list] of fallback) {
        for (const partition of list) {
          const offset = edges.get(topic)?.[partition];
          if (offset !== undefined && offset >= 0n) found.set(partitionKey(topic, partition), offset);
        }
      }
    }
    return found;
  }
}
