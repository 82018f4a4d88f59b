import type { FileHandle } from 'node:fs/promises';
import { open, rm, unlink } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from '../../observability/index.ts';
import type { ConsumedRecord } from '../log.ts';
import { LogError, ioError } from '../errors.ts';
import type { FrameCheck } from './record-codec.ts';
import { decodeFrame } from './record-codec.ts';
import type { Hole } from './segment-scan.ts';
import {
  FrameCursor,
  countFrames,
  describeFrameProblem,
  findNextFrame,
  holesPath,
  isCompleteFrame,
  loadHoles,
  readRange,
  saveHoles,
} from './segment-scan.ts';

/** One sparse-index entry per this many bytes: a read scans at most this much before its first record. */
const INDEX_INTERVAL_BYTES = 4096;
const READ_CHUNK_BYTES = 128 * 1024;

/** Segment file name: the base offset, zero-padded so that names sort like offsets. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

/** Damage found in a segment, handed to the partition before the segment skips (or truncates) it. */
export interface SegmentDamage {
  readonly kind: 'corruption' | 'torn-tail';
  readonly segment: string;
  readonly byteStart: number;
  readonly byteEnd: number;
  readonly offsetFrom: number | null;
  readonly offsetTo: number | null;
  readonly reason: string;
  readonly foundAt: 'open' | 'read';
  readonly bytes: Uint8Array;
}

/** Quarantines damage (writes the bytes and the report, counts it, logs it); the segment then skips it. */
export type DamageHandler = (damage: SegmentDamage) => Promise<void>;

/**
 * One append-only file of record frames with increasing offsets, starting at `baseOffset`. Keeps an in-memory
 * sparse index (offset → byte position every {@link INDEX_INTERVAL_BYTES}), built by scanning the file on open and
 * extended on every durable append. `size` is the durable size: readers never look past it.
 *
 * Damage is never truncated away with valid records after it: a bad frame followed by valid ones is corruption —
 * its bytes go to the quarantine (through the {@link DamageHandler}) and become a hole (`<segment>.holes`) that
 * scans and reads skip, leaving a gap in the offsets. Only the active segment can have a torn tail: bytes after the
 * last valid frame that do not form one complete frame (a write cut short by a crash, never acknowledged).
 */
export class Segment {
  readonly baseOffset: number;
  readonly path: string;
  readonly handle: FileHandle;
  size = 0;
  nextOffset: number;
  maxTimestamp = -Infinity;
  readonly #indexOffsets: number[] = [];
  readonly #indexPositions: number[] = [];
  #lastIndexedPosition = -INDEX_INTERVAL_BYTES;
  #readers = 0;
  #deleted = false;
  #holes: Hole[] = [];
  readonly #onDamage: DamageHandler;
  #repairing: Promise<void> = Promise.resolve();

  private constructor(path: string, baseOffset: number, handle: FileHandle, onDamage: DamageHandler) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.handle = handle;
    this.#onDamage = onDamage;
  }

  /** Creates an empty segment file (the caller fsyncs the directory). */
  static async create(path: string, baseOffset: number, onDamage: DamageHandler): Promise<Segment> {
    try {
      return new Segment(path, baseOffset, await open(path, 'wx+'), onDamage);
    } catch (error) {
      throw ioError(`could not create segment ${path}`, error);
    }
  }

  /**
   * Opens an existing segment and rebuilds its index. CRCs are checked when `active` (the segment that was being
   * appended to; sealed segments get their CRCs checked when read). Damage with valid frames after it is
   * quarantined and skipped; at the end of the active segment, an incomplete frame is a torn tail and truncated
   * (its bytes are still kept in the quarantine, for inspection).
   */
  static async open(
    path: string,
    baseOffset: number,
    active: boolean,
    onDamage: DamageHandler,
    logger: Logger,
  ): Promise<Segment> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (error) {
      throw ioError(`could not open segment ${path}`, error);
    }
    const segment = new Segment(path, baseOffset, handle, onDamage);
    try {
      segment.#holes = await loadHoles(path);
      const fileSize = (await handle.stat()).size;
      const cursor = new FrameCursor(handle);
      let last = baseOffset - 1;
      let pos = 0;
      while (pos < fileSize) {
        const hole = segment.#holeAt(pos);
        if (hole !== undefined) {
          pos = hole.end;
          continue;
        }
        const limit = Math.min(fileSize, segment.#nextHoleStart(pos));
        let { check } = cursor.peek(pos, limit, active) ?? (await cursor.inspect(pos, limit, active));
        // A gap in the offsets is taken only from a frame whose CRC holds: in a sealed segment (CRCs unchecked on
        // open) a flipped bit in an offset field must not pass for a gap and hide the records after it.
        if (!active && check.kind === 'frame' && check.offset !== last + 1)
          check = (await cursor.inspect(pos, limit, true)).check;
        if (check.kind === 'frame' && check.offset > last) {
          segment.#index(check.offset, pos, check.timestamp);
          last = check.offset;
          segment.nextOffset = last + 1;
          pos += check.size;
          continue;
        }
        const found = await findNextFrame(handle, pos + 1, limit, last);
        const tail = found === undefined && limit === fileSize;
        if (tail && active && !isCompleteFrame(check)) {
          await segment.#tornTail(pos, fileSize, last, describeFrameProblem(check, last), logger);
          pos = fileSize;
          break;
        }
        pos = await segment.#quarantine(
          pos,
          found?.pos ?? limit,
          last,
          found?.offset,
          describeFrameProblem(check, last),
          'open',
        );
      }
      segment.size = pos;
      return segment;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw error instanceof LogError ? error : ioError(`could not recover segment ${path}`, error);
    }
  }

  /** Truncates a torn tail, keeping its bytes in the quarantine first. */
  async #tornTail(pos: number, fileSize: number, last: number, reason: string, logger: Logger): Promise<void> {
    logger.warn(
      { segment: this.path, validBytes: pos, fileBytes: fileSize, problem: reason },
      'truncating torn tail of log segment (an incomplete last frame: a write cut short, never acknowledged)',
    );
    await this.#onDamage({
      kind: 'torn-tail',
      segment: basename(this.path),
      byteStart: pos,
      byteEnd: fileSize,
      offsetFrom: last + 1,
      offsetTo: null,
      reason,
      foundAt: 'open',
      bytes: await readRange(this.handle, pos, fileSize),
    });
    await this.handle.truncate(pos);
    await this.handle.sync();
  }

  /**
   * Quarantines the damaged bytes [`start`, `end`) (valid records resume at `end`, whose offset is `resume`, or
   * the damage runs to the end of what is readable) and makes them a hole. Returns `end`.
   */
  async #quarantine(
    start: number,
    end: number,
    last: number,
    resume: number | undefined,
    reason: string,
    foundAt: 'open' | 'read',
  ): Promise<number> {
    let offsetTo: number;
    if (resume !== undefined) offsetTo = resume - 1;
    else if (foundAt === 'read' && end === this.size) offsetTo = this.nextOffset - 1;
    else offsetTo = last + (await countFrames(this.handle, start, end));
    await this.#onDamage({
      kind: 'corruption',
      segment: basename(this.path),
      byteStart: start,
      byteEnd: end,
      offsetFrom: offsetTo > last ? last + 1 : null,
      offsetTo: offsetTo > last ? offsetTo : null,
      reason,
      foundAt,
      bytes: await readRange(this.handle, start, end),
    });
    this.#holes = [...this.#holes, { start, end }].sort((a, b) => a.start - b.start);
    await saveHoles(this.path, this.#holes);
    // Offsets of records lost at the end are never handed out again (on open: later, appends own `nextOffset`).
    if (foundAt === 'open' && resume === undefined && offsetTo + 1 > this.nextOffset) this.nextOffset = offsetTo + 1;
    return end;
  }

  #holeAt(pos: number): Hole | undefined {
    return this.#holes.find((h) => h.start <= pos && pos < h.end);
  }

  #nextHoleStart(pos: number): number {
    return this.#holes.find((h) => h.start > pos)?.start ?? Number.POSITIVE_INFINITY;
  }

  /** Records that `count` frames of the given sizes were made durable at `position`. */
  appended(firstOffset: number, position: number, frameSizes: readonly number[], maxTimestamp: number): void {
    let pos = position;
    for (const [i, size] of frameSizes.entries()) {
      this.#index(firstOffset + i, pos, maxTimestamp);
      pos += size;
    }
    this.size = pos;
    this.nextOffset = firstOffset + frameSizes.length;
  }

  #index(offset: number, position: number, timestamp: number): void {
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    if (position - this.#lastIndexedPosition >= INDEX_INTERVAL_BYTES) {
      this.#indexOffsets.push(offset);
      this.#indexPositions.push(position);
      this.#lastIndexedPosition = position;
    }
  }

  /** Byte position and offset of the last indexed record at or before `offset`. */
  #positionFor(offset: number): { readonly position: number; readonly offset: number } {
    const i = lastAtOrBefore(this.#indexOffsets, offset, (o) => o);
    return { position: this.#indexPositions[i] ?? 0, offset: this.#indexOffsets[i] ?? this.baseOffset };
  }

  /**
   * Reads records from `fromOffset` on, up to `maxRecords` and about `maxBytes` (at least one record), never past
   * the durable size, checking every CRC. A damaged frame is never served: it is quarantined like damage found on
   * open, and the read goes on after it. Values are views on the read buffers.
   */
  async read(
    topic: string,
    partition: number,
    fromOffset: number,
    maxRecords: number,
    maxBytes: number,
  ): Promise<ConsumedRecord[]> {
    const out: ConsumedRecord[] = [];
    if (fromOffset >= this.nextOffset || this.#deleted) return out;
    this.#readers++;
    try {
      const end = this.size;
      const start = this.#positionFor(fromOffset);
      let pos = start.position;
      let last = start.offset - 1;
      let bytes = 0;
      const cursor = new FrameCursor(this.handle, READ_CHUNK_BYTES);
      while (pos < end && out.length < maxRecords && bytes < maxBytes) {
        const hole = this.#holeAt(pos);
        if (hole !== undefined) {
          pos = hole.end;
          continue;
        }
        const limit = Math.min(end, this.#nextHoleStart(pos));
        const { check, buf, p } = cursor.peek(pos, limit, true) ?? (await cursor.inspect(pos, limit, true));
        if (check.kind === 'frame' && check.offset > last) {
          if (check.offset >= fromOffset) {
            out.push(decodeFrame(buf, p, topic, partition));
            bytes += check.size;
          }
          last = check.offset;
          pos += check.size;
          continue;
        }
        await this.#repairAt(pos, limit, last, check);
      }
      return out;
    } catch (error) {
      throw error instanceof LogError ? error : ioError(`could not read ${this.path}`, error);
    } finally {
      this.#readers--;
      if (this.isDeleted() && this.#readers === 0) await this.handle.close().catch(() => undefined);
    }
  }

  /** Quarantines damage met by a read (one repair at a time; a second reader finds the hole already made). */
  async #repairAt(pos: number, limit: number, last: number, check: FrameCheck): Promise<void> {
    const run = this.#repairing.then(async () => {
      if (this.#holeAt(pos) !== undefined) return;
      const found = await findNextFrame(this.handle, pos + 1, limit, last);
      await this.#quarantine(pos, found?.pos ?? limit, last, found?.offset, describeFrameProblem(check, last), 'read');
    });
    this.#repairing = run.catch(() => undefined);
    await run;
  }

  /** The quarantined byte ranges of this segment. */
  holes(): readonly Hole[] {
    return this.#holes;
  }

  /** True once deleted by retention or closed (a getter: its value changes across awaits). */
  isDeleted(): boolean {
    return this.#deleted;
  }

  /** Deletes the file; the handle closes once the last read in flight is done. */
  async delete(): Promise<void> {
    this.#deleted = true;
    await unlink(this.path);
    await rm(holesPath(this.path), { force: true });
    if (this.#readers === 0) await this.handle.close();
  }

  async close(): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    if (this.#readers === 0) await this.handle.close();
  }
}

/** Index of the last item whose `get` value is ≤ `value` in an ascending array, or -1. */
export function lastAtOrBefore<X>(items: readonly X[], value: number, get: (item: X) => number): number {
  let lo = 0;
  let hi = items.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const item = items[mid];
    if (item !== undefined && get(item) <= value) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}
