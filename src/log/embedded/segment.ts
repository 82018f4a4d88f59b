import type { FileHandle } from 'node:fs/promises';
import { open, unlink } from 'node:fs/promises';
import type { Logger } from '../../observability/index.ts';
import type { ConsumedRecord } from '../log.ts';
import { LogError, ioError } from '../errors.ts';
import { decodeFrame, inspectFrame } from './record-codec.ts';

/** One sparse-index entry per this many bytes: a read scans at most this much before its first record. */
const INDEX_INTERVAL_BYTES = 4096;
const SCAN_CHUNK_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 128 * 1024;

/** Segment file name: the base offset, zero-padded so that names sort like offsets. */
export function segmentFileName(baseOffset: number): string {
  return `${String(baseOffset).padStart(20, '0')}.log`;
}

/**
 * One append-only file of consecutive record frames, starting at `baseOffset`. Keeps an in-memory sparse index
 * (offset → byte position every {@link INDEX_INTERVAL_BYTES}), built by scanning the file on open and extended
 * on every durable append. `size` is the durable size: readers never look past it.
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

  private constructor(path: string, baseOffset: number, handle: FileHandle) {
    this.path = path;
    this.baseOffset = baseOffset;
    this.nextOffset = baseOffset;
    this.handle = handle;
  }

  /** Creates an empty segment file (the caller fsyncs the directory). */
  static async create(path: string, baseOffset: number): Promise<Segment> {
    try {
      return new Segment(path, baseOffset, await open(path, 'wx+'));
    } catch (error) {
      throw ioError(`could not create segment ${path}`, error);
    }
  }

  /**
   * Opens an existing segment and rebuilds its index. A frame that is incomplete, fails its CRC (checked when
   * `verify`, i.e. for the segment that was being appended to) or breaks the offset sequence ends the segment:
   * everything from there is a torn write that was never acknowledged, and is truncated.
   */
  static async open(path: string, baseOffset: number, verify: boolean, logger: Logger): Promise<Segment> {
    let handle: FileHandle;
    try {
      handle = await open(path, 'r+');
    } catch (error) {
      throw ioError(`could not open segment ${path}`, error);
    }
    const segment = new Segment(path, baseOffset, handle);
    try {
      const fileSize = (await handle.stat()).size;
      const buf = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
      let chunk = buf;
      let pos = 0;
      let problem: string | undefined;
      while (pos < fileSize && problem === undefined) {
        const want = Math.min(Math.max(chunk.length, SCAN_CHUNK_BYTES), fileSize - pos);
        if (chunk.length < want) chunk = Buffer.allocUnsafe(want);
        const { bytesRead } = await handle.read(chunk, 0, want, pos);
        let p = 0;
        for (;;) {
          const check = inspectFrame(chunk, p, bytesRead, verify);
          if (check.kind === 'incomplete') {
            // A frame larger than the chunk: read again with a chunk that holds it; at the file end, a torn tail.
            if (p === 0 && pos + check.needed <= fileSize) chunk = Buffer.allocUnsafe(check.needed);
            else if (p === 0) problem = 'incomplete frame';
            break;
          }
          if (check.kind === 'invalid' || check.offset !== segment.nextOffset) {
            problem =
              check.kind === 'invalid' ? check.reason : `offset ${check.offset}, expected ${segment.nextOffset}`;
            break;
          }
          segment.#index(check.offset, pos + p, check.timestamp);
          segment.nextOffset = check.offset + 1;
          p += check.size;
        }
        pos += p;
      }
      if (pos < fileSize) {
        logger.warn(
          { segment: path, validBytes: pos, fileBytes: fileSize, problem },
          'truncating torn tail of log segment',
        );
        await handle.truncate(pos);
        await handle.sync();
      }
      segment.size = pos;
      return segment;
    } catch (error) {
      await handle.close().catch(() => undefined);
      throw ioError(`could not recover segment ${path}`, error);
    }
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

  /** Byte position of the last indexed record at or before `offset`. */
  #positionFor(offset: number): number {
    return this.#indexPositions[lastAtOrBefore(this.#indexOffsets, offset, (o) => o)] ?? 0;
  }

  /**
   * Reads records from `fromOffset` on, up to `maxRecords` and about `maxBytes` (at least one record), never past
   * the durable size. Values are views on the read buffer.
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
      let pos = this.#positionFor(fromOffset);
      let bytes = 0;
      let chunkSize = READ_CHUNK_BYTES;
      while (pos < end && out.length < maxRecords && bytes < maxBytes) {
        const want = Math.min(chunkSize, end - pos);
        const buf = Buffer.allocUnsafe(want);
        const { bytesRead } = await this.handle.read(buf, 0, want, pos);
        if (bytesRead === 0) throw new LogError('log.corrupt', `${this.path} is shorter than its indexed size`);
        let p = 0;
        while (out.length < maxRecords && bytes < maxBytes) {
          const check = inspectFrame(buf, p, bytesRead, false);
          if (check.kind === 'incomplete') {
            if (p === 0 && pos + check.needed > end)
              throw new LogError('log.corrupt', `frame at ${pos} runs past the end of ${this.path}`);
            if (p === 0) chunkSize = Math.max(chunkSize, check.needed);
            break;
          }
          if (check.kind === 'invalid')
            throw new LogError('log.corrupt', `corrupt frame in ${this.path} at ${pos + p}: ${check.reason}`);
          if (check.offset >= fromOffset) {
            out.push(decodeFrame(buf, p, topic, partition));
            bytes += check.size;
          }
          p += check.size;
        }
        pos += p;
      }
      return out;
    } catch (error) {
      throw error instanceof LogError ? error : ioError(`could not read ${this.path}`, error);
    } finally {
      this.#readers--;
      if (this.isDeleted() && this.#readers === 0) await this.handle.close().catch(() => undefined);
    }
  }

  /** True once deleted by retention or closed (a getter: its value changes across awaits). */
  isDeleted(): boolean {
    return this.#deleted;
  }

  /** Deletes the file; the handle closes once the last read in flight is done. */
  async delete(): Promise<void> {
    this.#deleted = true;
    await unlink(this.path);
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
