import type { Flag } from '../contracts/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { ValueKind } from './units.ts';

/** Quality flags as bits, for dense storage; bit 7 marks a slot as present. */
export const FLAG_BITS = {
  filled: 1,
  split: 2,
  aggregated: 4,
  incomplete: 8,
  overlap_resolved: 16,
  partial: 32,
  estimated: 64,
} as const satisfies Record<Flag, number>;
const PRESENT = 128;
const FLAG_NAMES = Object.keys(FLAG_BITS) as Flag[];
const flagListCache = new Map<number, readonly Flag[] | undefined>();

/** The flag names of a bit set (cached: a handful of distinct sets occur). `undefined` when there are none. */
export function flagList(bits: number): readonly Flag[] | undefined {
  const masked = bits & 127;
  if (masked === 0) return undefined;
  let list = flagListCache.get(masked);
  if (list === undefined && !flagListCache.has(masked)) {
    list = Object.freeze(FLAG_NAMES.filter((f) => (masked & FLAG_BITS[f]) !== 0));
    flagListCache.set(masked, list);
  }
  return list;
}

/**
 * Orders candidate values for the same key and slot: newer document revision first, then a value given in the
 * document over one repeated by A03, then the finer source resolution, then the later series. Packed into one
 * number so the comparison is a single `>`.
 */
export function rankOf(revision: number, given: boolean, resolutionMs: number, seriesIndex: number): number {
  const rev = Math.min(Math.max(revision, 0), 1023);
  const fineness = 2 ** 21 - 1 - Math.min(Math.floor(resolutionMs / 60_000), 2 ** 21 - 1);
  return ((rev * 2 + (given ? 1 : 0)) * 2 ** 21 + fineness) * 1024 + Math.min(seriesIndex, 1023);
}

/**
 * The values of one observation key on the uniform 15-minute grid over a fixed slot range, in typed arrays.
 *
 * - A source step of exactly one aligned slot is stored as is.
 * - A coarser aligned step (PT30M, PT60M, P1D…) covers several slots: an intensive value fills each one, an
 *   extensive value is divided evenly (flag `split`). Re-aggregating gives back the source value.
 * - A finer or misaligned step contributes to the slots it overlaps in proportion to the overlap: intensive
 *   values are time-averaged, extensive ones summed (flag `aggregated`, or `incomplete` when the contributions
 *   do not cover the whole slot).
 * - Two different values for the same slot: the higher {@link rankOf} wins, and the slot is flagged
 *   `overlap_resolved` (the same value twice is a duplicate, not an overlap).
 */
export class SlotSeries {
  readonly firstSlot: number;
  readonly count: number;
  readonly values: Float64Array;
  readonly flags: Uint8Array;
  readonly ranks: Float64Array;
  overlaps = 0;
  #partial: { sum: Float64Array; cover: Float64Array; flags: Uint8Array; ranks: Float64Array } | undefined;

  constructor(firstSlot: number, count: number) {
    this.firstSlot = firstSlot;
    this.count = count;
    this.values = new Float64Array(count);
    this.flags = new Uint8Array(count);
    this.ranks = new Float64Array(count);
  }

  /** Adds the source step [start, end) with value `v`; returns false when the step lies outside the range. */
  addStep(start: number, end: number, v: number, kind: ValueKind, flagBits: number, rank: number): boolean {
    const d = end - start;
    const i0 = (start - this.firstSlot) / SLOT_MS;
    if (d <= 0 || start < this.firstSlot || end > this.firstSlot + this.count * SLOT_MS) return false;
    if (d % SLOT_MS === 0 && Number.isInteger(i0)) {
      const n = d / SLOT_MS;
      const value = kind === 'intensive' || n === 1 ? v : v / n;
      const bits = n > 1 ? flagBits | FLAG_BITS.split : flagBits;
      for (let k = 0; k < n; k++) this.#set(i0 + k, value, bits, rank);
      return true;
    }
    this.#addPartial(start, end, v, kind, flagBits | (d < SLOT_MS ? FLAG_BITS.aggregated : FLAG_BITS.split), rank);
    return true;
  }

  #set(i: number, value: number, bits: number, rank: number): void {
    const existing = this.flags[i] ?? 0;
    if ((existing & PRESENT) === 0) {
      this.values[i] = value;
      this.flags[i] = bits | PRESENT;
      this.ranks[i] = rank;
      return;
    }
    if (value === this.values[i]) {
      // The same value again (a document delivered twice): a duplicate, not an overlap to resolve.
      if (rank > (this.ranks[i] ?? 0)) this.ranks[i] = rank;
      return;
    }
    this.overlaps++;
    if (rank > (this.ranks[i] ?? 0)) {
      this.values[i] = value;
      this.flags[i] = bits | PRESENT | FLAG_BITS.overlap_resolved;
      this.ranks[i] = rank;
    } else this.flags[i] = existing | FLAG_BITS.overlap_resolved;
  }

  #addPartial(start: number, end: number, v: number, kind: ValueKind, bits: number, rank: number): void {
    this.#partial ??= {
      sum: new Float64Array(this.count),
      cover: new Float64Array(this.count),
      flags: new Uint8Array(this.count),
      ranks: new Float64Array(this.count),
    };
    const p = this.#partial;
    const d = end - start;
    const first = Math.floor((start - this.firstSlot) / SLOT_MS);
    const last = Math.ceil((end - this.firstSlot) / SLOT_MS);
    for (let i = first; i < last; i++) {
      const slotStart = this.firstSlot + i * SLOT_MS;
      const overlap = Math.min(end, slotStart + SLOT_MS) - Math.max(start, slotStart);
      if (overlap <= 0) continue;
      p.sum[i] = (p.sum[i] ?? 0) + (kind === 'intensive' ? v * overlap : (v * overlap) / d);
      p.cover[i] = (p.cover[i] ?? 0) + overlap;
      p.flags[i] = (p.flags[i] ?? 0) | bits;
      p.ranks[i] = Math.max(p.ranks[i] ?? 0, rank);
    }
  }

  /** Turns accumulated partial contributions into slot values. Call once, after the last `addStep`. */
  finish(kind: ValueKind): this {
    const p = this.#partial;
    if (p === undefined) return this;
    for (let i = 0; i < this.count; i++) {
      const cover = p.cover[i] ?? 0;
      if (cover <= 0) continue;
      const sum = p.sum[i] ?? 0;
      const value = kind === 'intensive' ? sum / cover : sum;
      const bits = (p.flags[i] ?? 0) | (cover < SLOT_MS - 1e-6 ? FLAG_BITS.incomplete : 0);
      this.#set(i, value, bits, p.ranks[i] ?? 0);
    }
    this.#partial = undefined;
    return this;
  }

  isPresent(i: number): boolean {
    return ((this.flags[i] ?? 0) & PRESENT) !== 0;
  }

  /** Number of slots holding a value. */
  presentCount(): number {
    let n = 0;
    for (let i = 0; i < this.count; i++) if (((this.flags[i] ?? 0) & PRESENT) !== 0) n++;
    return n;
  }
}
