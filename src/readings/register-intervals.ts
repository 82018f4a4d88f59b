import type { Decimal } from '../common/index.ts';
import { fromScaled, normaliseDecimal, rescale, toScaled } from '../common/index.ts';
import { formatUtcText } from '../contracts/index.ts';

/** One read of a cumulative register (kWh) at an instant. */
export interface RegisterRead {
  /** When the counter was read: a UTC instant (`2026-10-25T01:00:00Z`). */
  readonly ts: string;
  /** The counter, an exact decimal. */
  readonly value: Decimal;
}

/** Why an interval's energy is not simply the difference of two reads at its start and its end. */
export type IntervalFlag = 'split' | 'rollover';

/** Energy of one interval `[start, end)` derived from register reads. */
export interface RegisterInterval {
  /** Interval start, UTC. */
  readonly start: string;
  /** Interval end (exclusive), UTC. */
  readonly end: string;
  /** kWh, exact, never negative. */
  readonly value: Decimal;
  /**
   * `split`: part or all of the value is a share of a difference that spans more than this interval (in
   * proportion to time); `rollover`: part of the value crosses the register's capacity.
   */
  readonly flags: readonly IntervalFlag[];
}

/** A counter that went backwards with no capacity known: a reset or a meter exchange, not consumption. */
export interface RegisterReset {
  readonly from: string;
  readonly to: string;
  readonly before: Decimal;
  readonly after: Decimal;
}

export interface RegisterIntervalsOptions {
  /** Interval length in ms (a PT15M interval: 900 000). Intervals are aligned to it from 1970-01-01T00:00Z. */
  readonly intervalMs: number;
  /**
   * The largest value the register shows (`99999.9`); after it, it counts on from 0, so its modulus is the
   * capacity plus one step of its last digit (`100000`). Unknown: a counter going backwards is a reset.
   */
  readonly capacity?: Decimal;
}

export interface RegisterIntervalsResult {
  /** Intervals fully covered by consecutive reads, in time order. */
  readonly intervals: RegisterInterval[];
  /** Spans where the counter went backwards with no capacity known (no interval is derived from them). */
  readonly resets: RegisterReset[];
}

/** Extra digits a share of a split difference is computed to (beyond the reads' own). */
const SHARE_DIGITS = 6;

/**
 * Turns register reads into interval energy by difference, exactly. Reads are taken in time order (a second read
 * at the same instant replaces the first). For each pair of consecutive reads:
 * - a counter that rose: the difference is the energy of the span;
 * - a counter that went backwards: with a capacity, a rollover (`capacity - before + step + after`, flagged
 *   `rollover`); without, a reset or meter exchange — never negative consumption: the span yields no energy and is
 *   reported in `resets`.
 *
 * A span's energy goes to the intervals it overlaps in proportion to time (flagged `split` unless the span is
 * exactly one interval); the shares are computed to {@link SHARE_DIGITS} more digits than the reads have, rounded
 * down, the last share taking the remainder, so they always sum exactly to the difference. Only intervals whose whole
 * length lies between the first and last read, outside any reset span, are returned.
 */
export function registerToIntervals(
  reads: readonly RegisterRead[],
  options: RegisterIntervalsOptions,
): RegisterIntervalsResult {
  const step = options.intervalMs;
  if (!Number.isInteger(step) || step <= 0) throw new RangeError(`intervalMs must be a positive integer: ${step}`);
  const byTs = new Map<number, RegisterRead>();
  for (const r of reads) byTs.set(Date.parse(r.ts), r);
  const sorted = [...byTs.entries()].sort((a, b) => a[0] - b[0]);
  const capacity = options.capacity === undefined ? undefined : toScaled(options.capacity);
  let scale = Math.max(0, ...sorted.map(([, r]) => toScaled(r.value).scale));
  if (capacity !== undefined) scale = Math.max(scale, capacity.scale);
  const unitScale = scale + SHARE_DIGITS;
  const modulus = capacity === undefined ? undefined : rescale(capacity, scale) + 10n ** BigInt(scale - capacity.scale);
  const sums = new Map<number, { units: bigint; covered: number; flags: Set<IntervalFlag> }>();
  const resets: RegisterReset[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const [t0, r0] = sorted[i - 1] as [number, RegisterRead];
    const [t1, r1] = sorted[i] as [number, RegisterRead];
    const a = rescale(toScaled(r0.value), scale);
    const b = rescale(toScaled(r1.value), scale);
    let delta = b - a;
    const flags = new Set<IntervalFlag>();
    if (delta < 0n) {
      if (modulus === undefined || a >= modulus || b >= modulus) {
        resets.push({ from: formatUtcText(t0), to: formatUtcText(t1), before: r0.value, after: r1.value });
        continue;
      }
      delta = modulus - a + b;
      flags.add('rollover');
    }
    const exactlyOne = t0 % step === 0 && t1 - t0 === step;
    if (!exactlyOne) flags.add('split');
    const units = delta * 10n ** BigInt(SHARE_DIGITS);
    const span = BigInt(t1 - t0);
    let given = 0n;
    for (let s = Math.floor(t0 / step) * step; s < t1; s += step) {
      const from = Math.max(s, t0);
      const to = Math.min(s + step, t1);
      const last = s + step >= t1;
      const share = last ? units - given : (units * BigInt(to - from)) / span;
      given += share;
      const slot = sums.get(s) ?? { units: 0n, covered: 0, flags: new Set<IntervalFlag>() };
      slot.units += share;
      slot.covered += to - from;
      for (const f of flags) slot.flags.add(f);
      sums.set(s, slot);
    }
  }
  const intervals: RegisterInterval[] = [];
  for (const [s, slot] of [...sums.entries()].sort((x, y) => x[0] - y[0])) {
    if (slot.covered !== step) continue;
    intervals.push({
      start: formatUtcText(s),
      end: formatUtcText(s + step),
      value: normaliseDecimal(fromScaled(slot.units, unitScale)) as Decimal,
      flags: (['split', 'rollover'] as const).filter((f) => slot.flags.has(f)),
    });
  }
  return { intervals, resets };
}
