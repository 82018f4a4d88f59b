/**
 * Kafka's default partitioner, bit for bit: murmur2 (seed 0x9747b28c) of the key's UTF-8 bytes, made positive by
 * masking the sign bit, modulo the partition count. Both Log implementations use it, so a key lands on the same
 * partition number in the embedded log, in our Kafka client and in the Java client
 * (`org.apache.kafka.common.utils.Utils.murmur2` / `toPositive`).
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;
/** Keys are encoded into this reused buffer: hashing is on every produce, allocating per key showed up. */
let scratch = Buffer.allocUnsafe(1024);
let scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);

/** Kafka's murmur2 hash of `data`, as the Java client returns it (a signed 32-bit integer). */
export function murmur2(data: Uint8Array): number {
  return murmur2View(new DataView(data.buffer, data.byteOffset, data.byteLength), data.byteLength);
}

function murmur2View(view: DataView, length: number): number {
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    let k = view.getInt32(i * 4, true);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  // Java's switch falls through from 3 to 1; the multiplication happens once for any non-empty tail.
  if (rest === 3) h ^= view.getUint8(tail + 2) << 16;
  if (rest >= 2) h ^= view.getUint8(tail + 1) << 8;
  if (rest >= 1) {
    h ^= view.getUint8(tail);
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** Kafka's `Utils.toPositive`: clears the sign bit (not `Math.abs`, which differs for negative numbers). */
export function toPositive(n: number): number {
  return n & 0x7fffffff;
}

/** The partition Kafka's default partitioner chooses for a non-null key. */
export function partitionForKey(key: string, partitions: number): number {
  if (!Number.isInteger(partitions) || partitions < 1)
    throw new RangeError(`partitions must be ≥ 1, got ${partitions}`);
  if (key.length * 3 > scratch.length) {
    scratch = Buffer.allocUnsafe(Math.max(Buffer.byteLength(key), scratch.length * 2));
    scratchView = new DataView(scratch.buffer, scratch.byteOffset, scratch.byteLength);
  }
  const length = scratch.write(key, 0, 'utf8');
  return toPositive(murmur2View(scratchView, length)) % partitions;
}

/** Chooses a record's partition: by key hash, or round-robin per topic for a `null` key. */
export type Partitioner = (topic: string, key: string | null, partitions: number) => number;

/**
 * The default partitioner with its own round-robin counters (one per topic), so records without a key spread
 * evenly over the partitions.
 */
export function createPartitioner(): Partitioner {
  const counters = new Map<string, number>();
  return (topic, key, partitions) => {
    if (key !== null) return partitionForKey(key, partitions);
    const next = counters.get(topic) ?? 0;
    counters.set(topic, (next + 1) % 0x7fffffff);
    return next % partitions;
  };
}
