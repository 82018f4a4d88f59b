import type { FileHandle } from 'node:fs/promises';
import { readFile } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import type { FrameCheck } from './record-codec.ts';
import { FRAME_HEADER_BYTES, MIN_FRAME_BYTES, inspectFrame, probeFrame } from './record-codec.ts';
import { hasErrno, writeFileAtomic } from './fs-util.ts';

const CHUNK_BYTES = 1024 * 1024;

/**
 * Reads frames of one file through a buffer of `chunkBytes` (more for a larger frame). Every refill allocates a
 * new buffer, so records decoded from an earlier one (values are views on it) stay valid.
 */
export class FrameCursor {
  readonly #handle: FileHandle;
  readonly #chunkBytes: number;
  #buf: Buffer = Buffer.alloc(0);
  #start = 0;
  #len = 0;

  constructor(handle: FileHandle, chunkBytes = CHUNK_BYTES) {
    this.#handle = handle;
    this.#chunkBytes = chunkBytes;
  }

  /**
   * {@link inspect} without I/O: the answer when the buffer already holds it, else undefined (then call `inspect`).
   * Reads go frame by frame through here, without a promise per record.
   */
  peek(pos: number, end: number, verify: boolean): { check: FrameCheck; buf: Buffer; p: number } | undefined {
    if (pos < this.#start || pos + FRAME_HEADER_BYTES > this.#start + this.#len) return undefined;
    const check = inspectFrame(this.#buf, pos - this.#start, Math.min(this.#len, end - this.#start), verify);
    if (check.kind === 'incomplete' && pos + check.needed <= end) return undefined;
    return { check, buf: this.#buf, p: pos - this.#start };
  }

  /** The frame at `pos`, looking no further than `end`; `buf` and `p` locate it when it is a frame. */
  async inspect(
    pos: number,
    end: number,
    verify: boolean,
  ): Promise<{ readonly check: FrameCheck; readonly buf: Buffer; readonly p: number }> {
    if (pos < this.#start || pos + FRAME_HEADER_BYTES > this.#start + this.#len) await this.#fill(pos, end, 0);
    let check = inspectFrame(this.#buf, pos - this.#start, Math.min(this.#len, end - this.#start), verify);
    if (check.kind === 'incomplete' && pos + check.needed <= end && pos - this.#start + check.needed > this.#len) {
      await this.#fill(pos, end, check.needed);
      check = inspectFrame(this.#buf, pos - this.#start, Math.min(this.#len, end - this.#start), verify);
    }
    return { check, buf: this.#buf, p: pos - this.#start };
  }

  async #fill(pos: number, end: number, need: number): Promise<void> {
    const want = Math.max(0, Math.min(Math.max(this.#chunkBytes, need), end - pos));
    this.#buf = Buffer.allocUnsafe(want);
    const { bytesRead } = await this.#handle.read(this.#buf, 0, want, pos);
    this.#start = pos;
    this.#len = bytesRead;
  }
}

/**
 * Finds the first position in [`from`, `end`) where a complete frame with a good CRC and an offset above `after`
 * starts: where valid records resume after damage. A false match needs a plausible length, the magic byte, an
 * offset in range and a matching CRC-32 at once.
 */
export async function findNextFrame(
  handle: FileHandle,
  from: number,
  end: number,
  after: number,
): Promise<{ readonly pos: number; readonly offset: number } | undefined> {
  let buf = Buffer.alloc(0);
  let bufStart = from;
  let len = 0;
  for (let pos = from; pos + MIN_FRAME_BYTES <= end; pos++) {
    if (pos + MIN_FRAME_BYTES > bufStart + len) {
      const want = Math.min(CHUNK_BYTES, end - pos);
      buf = Buffer.allocUnsafe(want);
      len = (await handle.read(buf, 0, want, pos)).bytesRead;
      bufStart = pos;
      if (len < MIN_FRAME_BYTES) return undefined;
    }
    const p = pos - bufStart;
    const probe = probeFrame(buf, p, len);
    if (probe === undefined || probe.offset <= after || probe.offset - after > 2 ** 40) continue;
    const size = FRAME_HEADER_BYTES + probe.bodyLength;
    if (pos + size > end) continue;
    let body: Buffer;
    if (p + size <= len) body = buf.subarray(p + FRAME_HEADER_BYTES, p + size);
    else {
      body = Buffer.allocUnsafe(probe.bodyLength);
      const { bytesRead } = await handle.read(body, 0, probe.bodyLength, pos + FRAME_HEADER_BYTES);
      if (bytesRead < probe.bodyLength) continue;
    }
    if (crc32(body) === probe.crc) return { pos, offset: probe.offset };
  }
  return undefined;
}

/** How many frames the damaged bytes [`from`, `end`) seem to hold by their length fields (at least 1). */
export async function countFrames(handle: FileHandle, from: number, end: number): Promise<number> {
  const header = Buffer.alloc(MIN_FRAME_BYTES);
  let n = 0;
  let pos = from;
  while (pos < end && n < 1_000_000) {
    const { bytesRead } = await handle.read(header, 0, MIN_FRAME_BYTES, pos);
    const probe = probeFrame(header, 0, bytesRead);
    if (probe === undefined) break;
    n++;
    pos += FRAME_HEADER_BYTES + probe.bodyLength;
  }
  return Math.max(1, n);
}

/** Reads the bytes [`from`, `end`) of a file. */
export async function readRange(handle: FileHandle, from: number, end: number): Promise<Buffer> {
  const buf = Buffer.allocUnsafe(Math.max(0, end - from));
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await handle.read(buf, done, buf.length - done, from + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buf.subarray(0, done);
}

/** A byte range of a segment that holds quarantined damage: scans and reads skip it. */
export interface Hole {
  readonly start: number;
  readonly end: number;
}

const HolesSchema = z.array(z.object({ start: z.number().int().min(0), end: z.number().int().min(0) }));

/** `<segment>.holes`: the quarantined byte ranges of a segment file. */
export function holesPath(segmentPath: string): string {
  return segmentPath.replace(/\.log$/, '.holes');
}

export async function loadHoles(segmentPath: string): Promise<Hole[]> {
  try {
    const holes = HolesSchema.parse(JSON.parse(await readFile(holesPath(segmentPath), 'utf8')));
    return holes.filter((h) => h.end > h.start).sort((a, b) => a.start - b.start);
  } catch (error) {
    if (hasErrno(error, 'ENOENT')) return [];
    throw error;
  }
}

export async function saveHoles(segmentPath: string, holes: readonly Hole[]): Promise<void> {
  await writeFileAtomic(holesPath(segmentPath), JSON.stringify(holes));
}

/** Whether `check` is a whole frame (valid or not): not an incomplete one, which at the end is a torn tail. */
export function isCompleteFrame(check: FrameCheck): boolean {
  return check.kind === 'frame' || (check.kind === 'invalid' && check.complete);
}

/** Why a frame after offset `last` is not the next valid record (the reason quarantine and verify reports give). */
export function describeFrameProblem(check: FrameCheck, last: number): string {
  switch (check.kind) {
    case 'frame':
      return `offset ${check.offset} does not follow ${last}`;
    case 'incomplete':
      return 'incomplete frame';
    case 'invalid':
      return check.reason;
    default:
      return check satisfies never;
  }
}
