import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '../../observability/index.ts';
import type { ConsumedRecord, LogRecord } from '../log.ts';
import { LogError, ioError } from '../errors.ts';
import type { EncodedBatch } from './record-codec.ts';
import { encodeRecords } from './record-codec.ts';
import { syncDir } from './fs-util.ts';
import type { DamageHandler } from './segment.ts';
import { Segment, lastAtOrBefore, segmentFileName } from './segment.ts';

interface PendingAppend {
  readonly encoded: EncodedBatch;
  readonly firstOffset: number;
  readonly resolve: (firstOffset: number) => void;
  readonly reject: (error: unknown) => void;
}

export interface PartitionLogOptions {
  readonly segmentBytes: number;
  readonly logger: Logger;
  /** Called after records became durable (wakes consumers waiting for data). */
  readonly onAppend: () => void;
  /** Quarantines damage found in a segment of this partition. */
  readonly onDamage: DamageHandler;
  /**
   * The next offset is at least this (the highest committed position of any group): offsets a consumer has been
   * told about are never handed out again, even when the records behind them were lost (a file cut short).
   */
  readonly minNext?: number;
  /** fsync every append before acknowledging it. Only benchmarks turn it off (for their baseline). @default true */
  readonly fsync?: boolean;
}

/**
 * One partition: a directory of segments. Appends are queued and written by one flush loop, so concurrent
 * producers share a write and an fsync (group commit); an append resolves only after its fsync. Only durable
 * records are visible to readers (`next` is the high watermark).
 */
export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly #dir: string;
  readonly #options: PartitionLogOptions;
  /** Older segments, oldest first; only retention changes them. */
  #sealed: Segment[];
  /** The segment appends go to. */
  #active: Segment;
  /** Offset the next queued append gets; ahead of `next` while appends wait for their fsync. */
  #assignNext: number;
  #queue: PendingAppend[] = [];
  #flushing: Promise<void> | undefined;
  /** Retention wants the active segment sealed (all of it expired) so that it can be deleted. */
  #rollRequested = false;

  private constructor(
    topic: string,
    partition: number,
    dir: string,
    sealed: Segment[],
    active: Segment,
    options: PartitionLogOptions,
  ) {
    this.topic = topic;
    this.partition = partition;
    this.#dir = dir;
    this.#sealed = sealed;
    this.#active = active;
    this.#options = options;
    this.#assignNext = this.next;
  }

  /** Opens (or creates) a partition directory, recovering the tail of its last segment. */
  static async open(
    dir: string,
    topic: string,
    partition: number,
    options: PartitionLogOptions,
  ): Promise<PartitionLog> {
    try {
      await mkdir(dir, { recursive: true });
      const names = (await readdir(dir)).filter((n) => /^\d{20}\.log$/.test(n)).sort();
      const segments: Segment[] = [];
      for (const [i, name] of names.entries()) {
        const base = Number(name.slice(0, 20));
        segments.push(
          await Segment.open(join(dir, name), base, i === names.length - 1, options.onDamage, options.logger),
        );
      }
      let active = segments.pop();
      if (active === undefined) {
        active = await Segment.create(join(dir, segmentFileName(0)), 0, options.onDamage);
        await syncDir(dir);
      }
      const minNext = options.minNext ?? 0;
      if (active.nextOffset < minNext) {
        options.logger.warn(
          { topic, partition, next: active.nextOffset, committed: minNext },
          'the log ends before a committed position (records were lost, e.g. a file cut short): new records start at the committed position, so that no consumer skips them',
        );
        active.nextOffset = minNext;
      }
      return new PartitionLog(topic, partition, dir, segments, active, options);
    } catch (error) {
      throw error instanceof LogError ? error : ioError(`could not open ${dir}`, error);
    }
  }

  /** First offset still kept (earlier ones were deleted by retention). */
  get earliest(): number {
    return (this.#sealed[0] ?? this.#active).baseOffset;
  }

  /** High watermark: the offset the next durable record gets; everything below it is readable. */
  get next(): number {
    return this.#active.nextOffset;
  }

  /** Appends records; resolves with the first record's offset once they are fsynced. */
  append(records: readonly LogRecord[], now: number, maxMessageBytes: number): Promise<number> {
    const encoded = encodeRecords(this.topic, records, this.#assignNext, now, maxMessageBytes);
    const firstOffset = this.#assignNext;
    this.#assignNext += records.length;
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ encoded, firstOffset, resolve, reject });
      this.#flushing ??= this.#flushLoop();
    });
  }

  /** Writes what is queued, one write + fsync per round, until nothing is left (or a roll was asked for). */
  async #flushLoop(): Promise<void> {
    try {
      while (this.#queue.length > 0 || this.#rollRequested) {
        await this.#flushRound();
      }
    } finally {
      // Cleared in the same tick as the loop's last check: an append arriving after it starts a new loop.
      this.#flushing = undefined;
    }
  }

  async #flushRound(): Promise<void> {
    const batch = this.#queue;
    this.#queue = [];
    try {
      await this.#rollIfDue();
      if (batch.length === 0) return;
      const segment = this.#active;
      const position = segment.size;
      const buffers = batch.map((b) => b.encoded.buffer);
      const total = buffers.reduce((n, b) => n + b.length, 0);
      let written = 0;
      while (written < total) {
        // writev may write less than asked (rare for files); continue with the rest.
        const { bytesWritten } = await segment.handle.writev(sliceFrom(buffers, written), position + written);
        if (bytesWritten === 0) throw new Error('write made no progress');
        written += bytesWritten;
      }
      if (this.#options.fsync !== false) await segment.handle.datasync();
      let pos = position;
      for (const b of batch) {
        segment.appended(b.firstOffset, pos, b.encoded.frameSizes, b.encoded.maxTimestamp);
        pos += b.encoded.buffer.length;
      }
      for (const b of batch) b.resolve(b.firstOffset);
      this.#options.onAppend();
    } catch (error) {
      // Offsets were handed out for everything queued: fail it all and number again from the durable end.
      const failed = batch.concat(this.#queue);
      this.#queue = [];
      this.#assignNext = this.next;
      const wrapped = ioError(`could not append to ${this.topic}/${this.partition}`, error);
      this.#options.logger.error({ err: wrapped, topic: this.topic, partition: this.partition }, 'append failed');
      for (const b of failed) b.reject(wrapped);
      await this.#active.handle.truncate(this.#active.size).catch(() => undefined);
    }
  }

  async #rollIfDue(): Promise<void> {
    const active = this.#active;
    const requested = this.#rollRequested;
    this.#rollRequested = false;
    if (active.nextOffset === active.baseOffset) return;
    if (!requested && active.size < this.#options.segmentBytes) return;
    const segment = await Segment.create(
      join(this.#dir, segmentFileName(active.nextOffset)),
      active.nextOffset,
      this.#options.onDamage,
    );
    await syncDir(this.#dir);
    this.#sealed.push(active);
    this.#active = segment;
  }

  #segments(): Segment[] {
    return [...this.#sealed, this.#active];
  }

  /**
   * Reads from `offset` (clamped to the earliest kept offset), up to `maxRecords` and about `maxBytes`,
   * crossing segment boundaries; only durable records.
   */
  async read(offset: number, maxRecords: number, maxBytes: number): Promise<ConsumedRecord[]> {
    let from = Math.max(offset, this.earliest);
    const out: ConsumedRecord[] = [];
    let bytes = 0;
    while (out.length < maxRecords && bytes < maxBytes && from < this.next) {
      const segments = this.#segments();
      const index = lastAtOrBefore(segments, from, (s) => s.baseOffset);
      const segment = segments[Math.max(0, index)];
      if (segment === undefined) break;
      const got = await segment.read(this.topic, this.partition, from, maxRecords - out.length, maxBytes - bytes);
      const last = got.at(-1);
      if (last === undefined) {
        // The segment was deleted by retention during the read, or `from` is past its end: go on from the next.
        const nextBase = this.#segments().find((s) => s.baseOffset > from)?.baseOffset;
        if (nextBase === undefined) break;
        from = nextBase;
        continue;
      }
      for (const r of got) {
        out.push(r);
        bytes += r.value.byteLength;
      }
      from = last.offset + 1;
    }
    return out;
  }

  /** Deletes sealed segments whose newest record is older than `cutoff` (epoch ms), oldest first. */
  async deleteOlderThan(cutoff: number): Promise<number> {
    if (this.#active.maxTimestamp < cutoff && this.#active.nextOffset > this.#active.baseOffset) {
      // A quiet topic never fills its segment: seal it through the flush loop, which owns the active segment.
      this.#rollRequested = true;
      this.#flushing ??= this.#flushLoop();
      await this.#flushing;
    }
    let deleted = 0;
    for (let oldest = this.#sealed[0]; oldest !== undefined && oldest.maxTimestamp < cutoff; oldest = this.#sealed[0]) {
      this.#sealed.shift();
      const path = oldest.path;
      await oldest.delete().catch((error: unknown) => {
        this.#options.logger.warn({ err: error, segment: path }, 'could not delete expired segment');
      });
      deleted++;
    }
    if (deleted > 0) await syncDir(this.#dir).catch(() => undefined);
    return deleted;
  }

  /** Bytes of all segment files of this partition. */
  get bytes(): number {
    return this.#segments().reduce((n, s) => n + s.size, 0);
  }

  /**
   * Deletes the oldest sealed segments while the partition holds more than `maxBytes` (the active segment is never
   * deleted, so a partition may hold up to one segment more than its budget). Returns how many.
   */
  async deleteBeyondBytes(maxBytes: number): Promise<number> {
    let deleted = 0;
    let total = this.bytes;
    for (let oldest = this.#sealed[0]; oldest !== undefined && total > maxBytes; oldest = this.#sealed[0]) {
      this.#sealed.shift();
      total -= oldest.size;
      const path = oldest.path;
      await oldest.delete().catch((error: unknown) => {
        this.#options.logger.warn({ err: error, segment: path }, 'could not delete segment beyond the size budget');
      });
      deleted++;
    }
    if (deleted > 0) await syncDir(this.#dir).catch(() => undefined);
    return deleted;
  }

  /** Every segment, oldest first (verification). */
  segments(): readonly Segment[] {
    return this.#segments();
  }

  /** Waits for queued appends, then closes the files. */
  async close(): Promise<void> {
    while (this.#flushing !== undefined) await this.#flushing;
    await Promise.all(this.#segments().map((s) => s.close().catch(() => undefined)));
  }
}

function sliceFrom(buffers: readonly Buffer[], skip: number): Buffer[] {
  if (skip === 0) return [...buffers];
  const out: Buffer[] = [];
  let left = skip;
  for (const b of buffers) {
    if (left >= b.length) left -= b.length;
    else {
      out.push(left > 0 ? b.subarray(left) : b);
      left = 0;
    }
  }
  return out;
}
