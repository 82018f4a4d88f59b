import { crc32 } from 'node:zlib';
import type { ConsumedRecord, LogRecord } from '../log.ts';
import { LogError } from '../errors.ts';

/**
 * On-disk frame of one record in a segment file (big-endian):
 *
 * ```
 * u32 bodyLength | u32 crc32(body) | body:
 *   u8 magic (1) | u32 offsetHigh | u32 offsetLow | f64 timestamp | i32 keyLength (-1 = null) | key
 *   | u16 headerCount | (u16 nameLength | name | u32 valueLength | value)* | u32 valueLength | value
 * ```
 *
 * The CRC covers the whole body, so a torn or half-written tail is recognised on open; the offset inside the frame
 * lets recovery and reads check they are where they think they are.
 */
export const FRAME_HEADER_BYTES = 8;
const MAGIC = 1;
const FIXED_BODY_BYTES = 1 + 8 + 8 + 4 + 2 + 4;
/** Smallest possible frame: header and the fixed part of the body. */
export const MIN_FRAME_BYTES = FRAME_HEADER_BYTES + FIXED_BODY_BYTES;
/** Larger than any record a topic can accept: a length above it can only be garbage from a torn write. */
export const MAX_FRAME_BODY_BYTES = 1024 * 1024 * 1024;
const TWO_32 = 0x1_0000_0000;

/** Frames of one append, in one buffer, with what the partition needs to index them. */
export interface EncodedBatch {
  readonly buffer: Buffer;
  /** Byte length of each frame, in record order. */
  readonly frameSizes: readonly number[];
  readonly maxTimestamp: number;
}

/** Bytes a record counts against `maxMessageBytes`: key, headers and value (framing excluded). */
export function recordBytes(record: LogRecord): number {
  let n = record.value.byteLength + (record.key === null ? 0 : Buffer.byteLength(record.key));
  if (record.headers !== undefined) {
    for (const [name, value] of Object.entries(record.headers)) n += Buffer.byteLength(name) + Buffer.byteLength(value);
  }
  return n;
}

/**
 * Encodes `records` as consecutive frames numbered from `firstOffset`. Checks each record against
 * `maxMessageBytes` first, so that a too-large record fails the whole append before anything is written.
 */
export function encodeRecords(
  topic: string,
  records: readonly LogRecord[],
  firstOffset: number,
  now: number,
  maxMessageBytes: number,
): EncodedBatch {
  const frameSizes: number[] = new Array<number>(records.length);
  let total = 0;
  for (const [i, r] of records.entries()) {
    const bytes = recordBytes(r);
    if (bytes > maxMessageBytes) {
      throw new LogError(
        'log.record_too_large',
        `record of ${bytes} bytes exceeds maxMessageBytes ${maxMessageBytes} of ${topic}`,
        {
          details: { topic, bytes, maxMessageBytes, index: i },
        },
      );
    }
    const headerCount = r.headers === undefined ? 0 : Object.keys(r.headers).length;
    if (headerCount > 0xffff)
      throw new LogError('log.invalid_argument', `too many headers (${headerCount})`, { details: { topic } });
    // bytes already holds key + header names/values + value; add the fixed parts and per-header lengths.
    const size = FRAME_HEADER_BYTES + FIXED_BODY_BYTES + bytes + headerCount * 6;
    frameSizes[i] = size;
    total += size;
  }
  const buffer = Buffer.allocUnsafe(total);
  let pos = 0;
  let maxTimestamp = -Infinity;
  for (const [i, r] of records.entries()) {
    const start = pos;
    const offset = firstOffset + i;
    const timestamp = r.timestamp ?? now;
    if (timestamp > maxTimestamp) maxTimestamp = timestamp;
    pos += FRAME_HEADER_BYTES;
    buffer[pos] = MAGIC;
    buffer.writeUInt32BE(Math.floor(offset / TWO_32), pos + 1);
    buffer.writeUInt32BE(offset % TWO_32, pos + 5);
    buffer.writeDoubleBE(timestamp, pos + 9);
    pos += 17;
    if (r.key === null) {
      buffer.writeInt32BE(-1, pos);
      pos += 4;
    } else {
      const n = buffer.write(r.key, pos + 4, 'utf8');
      buffer.writeInt32BE(n, pos);
      pos += 4 + n;
    }
    const headers = r.headers === undefined ? [] : Object.entries(r.headers);
    buffer.writeUInt16BE(headers.length, pos);
    pos += 2;
    for (const [name, value] of headers) {
      const nn = buffer.write(name, pos + 2, 'utf8');
      if (nn > 0xffff)
        throw new LogError('log.invalid_argument', 'header name longer than 65535 bytes', { details: { topic } });
      buffer.writeUInt16BE(nn, pos);
      pos += 2 + nn;
      const vn = buffer.write(value, pos + 4, 'utf8');
      buffer.writeUInt32BE(vn, pos);
      pos += 4 + vn;
    }
    buffer.writeUInt32BE(r.value.byteLength, pos);
    buffer.set(r.value, pos + 4);
    pos += 4 + r.value.byteLength;
    const bodyLength = pos - start - FRAME_HEADER_BYTES;
    buffer.writeUInt32BE(bodyLength, start);
    buffer.writeUInt32BE(crc32(buffer.subarray(start + FRAME_HEADER_BYTES, pos)), start + 4);
  }
  return { buffer, frameSizes, maxTimestamp };
}

/** What {@link inspectFrame} finds at a position: a complete valid frame, or why there is none. */
export type FrameCheck =
  | { readonly kind: 'frame'; readonly offset: number; readonly timestamp: number; readonly size: number }
  | { readonly kind: 'incomplete'; readonly needed: number }
  /**
   * `complete`: length and magic byte are plausible and the whole frame is there, but its CRC (or offset) is wrong —
   * a damaged record, never a write cut short.
   */
  | { readonly kind: 'invalid'; readonly reason: string; readonly complete: boolean };

/**
 * Looks at the frame starting at `pos` in `buf` without decoding key, headers or value. With `verify`, also
 * checks the CRC (recovery of the active segment); index building of sealed segments skips it for speed.
 */
export function inspectFrame(buf: Buffer, pos: number, end: number, verify: boolean): FrameCheck {
  if (end - pos < FRAME_HEADER_BYTES) return { kind: 'incomplete', needed: FRAME_HEADER_BYTES };
  const bodyLength = buf.readUInt32BE(pos);
  if (bodyLength < FIXED_BODY_BYTES || bodyLength > MAX_FRAME_BODY_BYTES) {
    return { kind: 'invalid', reason: `frame length ${bodyLength}`, complete: false };
  }
  const size = FRAME_HEADER_BYTES + bodyLength;
  if (end - pos < size) return { kind: 'incomplete', needed: size };
  const body = pos + FRAME_HEADER_BYTES;
  if (buf[body] !== MAGIC) return { kind: 'invalid', reason: `magic byte ${buf[body]}`, complete: false };
  if (verify && crc32(buf.subarray(body, body + bodyLength)) !== buf.readUInt32BE(pos + 4)) {
    return { kind: 'invalid', reason: 'CRC mismatch', complete: true };
  }
  const offset = buf.readUInt32BE(body + 1) * TWO_32 + buf.readUInt32BE(body + 5);
  return { kind: 'frame', offset, timestamp: buf.readDoubleBE(body + 9), size };
}

/**
 * What the header of a would-be frame at `pos` says, when it is plausible (length in bounds, magic byte): used to
 * find the next valid frame after damage without trusting anything before it. Needs {@link MIN_FRAME_BYTES}.
 */
export function probeFrame(
  buf: Buffer,
  pos: number,
  end: number,
): { readonly bodyLength: number; readonly crc: number; readonly offset: number } | undefined {
  if (end - pos < MIN_FRAME_BYTES) return undefined;
  const bodyLength = buf.readUInt32BE(pos);
  if (bodyLength < FIXED_BODY_BYTES || bodyLength > MAX_FRAME_BODY_BYTES) return undefined;
  const body = pos + FRAME_HEADER_BYTES;
  if (buf[body] !== MAGIC) return undefined;
  return {
    bodyLength,
    crc: buf.readUInt32BE(pos + 4),
    offset: buf.readUInt32BE(body + 1) * TWO_32 + buf.readUInt32BE(body + 5),
  };
}

/** Decodes the complete frame at `pos`. The value is a view on `buf` (no copy). */
export function decodeFrame(buf: Buffer, pos: number, topic: string, partition: number): ConsumedRecord {
  let p = pos + FRAME_HEADER_BYTES + 1;
  const offset = buf.readUInt32BE(p) * TWO_32 + buf.readUInt32BE(p + 4);
  const timestamp = buf.readDoubleBE(p + 8);
  const keyLength = buf.readInt32BE(p + 16);
  p += 20;
  let key: string | null = null;
  if (keyLength >= 0) {
    key = buf.toString('utf8', p, p + keyLength);
    p += keyLength;
  }
  const headerCount = buf.readUInt16BE(p);
  p += 2;
  const headers: Record<string, string> = {};
  for (let i = 0; i < headerCount; i++) {
    const nn = buf.readUInt16BE(p);
    const name = buf.toString('utf8', p + 2, p + 2 + nn);
    p += 2 + nn;
    const vn = buf.readUInt32BE(p);
    headers[name] = buf.toString('utf8', p + 4, p + 4 + vn);
    p += 4 + vn;
  }
  const valueLength = buf.readUInt32BE(p);
  const value = new Uint8Array(buf.buffer, buf.byteOffset + p + 4, valueLength);
  return { topic, partition, offset, key, value, headers, timestamp };
}
