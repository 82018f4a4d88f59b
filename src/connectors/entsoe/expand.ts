import type { Decimal } from '../../common/index.ts';
import type { Resolution, TimeZone } from '../../time/index.ts';
import { addSteps } from '../../time/index.ts';
import type { CurveType } from './document.ts';

export interface PeriodShape {
  readonly start: number;
  readonly end: number;
  readonly resolution: Resolution;
  readonly curveType: CurveType;
  readonly timeZone: TimeZone;
  /** Given positions, ascending, unique, ≥ 1 (parallel to `values`: no object per point on the hot path). */
  readonly positions: readonly number[];
  readonly values: readonly Decimal[];
  /** Refuse to expand a Period into more steps than this (an A03 curve of one point over a year at PT1M…). */
  readonly maxSteps: number;
}

export interface ExpandedPeriod {
  /** Positions of the steps, ascending. */
  readonly positions: Int32Array;
  readonly values: readonly Decimal[];
  /** 1 where the step's value was repeated from an earlier position (A03). */
  readonly filled: Uint8Array;
  /** Step length for fixed resolutions, else `null`. */
  readonly stepMs: number | null;
  /** Calendar resolutions: the start of every position and the end of the last whole step. */
  readonly boundaries: Float64Array | null;
  /** Given positions that lie beyond the end of the Period. */
  readonly outOfRange: number[];
  /** True when the Period has more steps than `maxSteps`; nothing was expanded. */
  readonly tooLong: boolean;
}

const EMPTY = { positions: new Int32Array(0), values: [], filled: new Uint8Array(0), stepMs: null, boundaries: null };

/**
 * Expands the points of one Period into time steps.
 *
 * - curveType A01 ("sequential fixed size block"): one step per given position; a missing position is a gap.
 * - curveType A03 ("variable sized block"): a missing position repeats the previous given position's value up to
 *   the next given position or the end of the Period (`filled`). Positions before the first given one stay
 *   empty: there is no previous value to repeat.
 *
 * Fixed resolutions step on the UTC line; calendar resolutions (P1D, P7D, P1M, P1Y) step on the local calendar of
 * `timeZone`, so a P1D step across a DST change lasts 23 or 25 hours. A Period whose length is not a whole number
 * of steps ends with its last whole step.
 */
export function expandPeriod(shape: PeriodShape): ExpandedPeriod {
  const { start, end, resolution, curveType, timeZone, positions, values, maxSteps } = shape;
  let n: number;
  let boundaries: Float64Array | null = null;
  if (resolution.kind === 'fixed') {
    n = Math.floor((end - start) / resolution.ms);
    if (n > maxSteps) return { ...EMPTY, outOfRange: [], tooLong: true };
  } else {
    const list = calendarBoundaries(start, end, resolution, timeZone, maxSteps);
    if (list === undefined) return { ...EMPTY, outOfRange: [], tooLong: true };
    boundaries = Float64Array.from(list);
    n = list.length - 1;
  }
  const stepMs = resolution.kind === 'fixed' ? resolution.ms : null;
  const given = positions.length;
  const outOfRange: number[] = [];
  if (curveType === 'A01') {
    let inRange = given;
    while (inRange > 0 && (positions[inRange - 1] ?? 0) > n) inRange--;
    for (let i = inRange; i < given; i++) outOfRange.push(positions[i] ?? 0);
    const outPositions = new Int32Array(inRange);
    for (let i = 0; i < inRange; i++) outPositions[i] = positions[i] ?? 0;
    return {
      positions: outPositions,
      values: inRange === given ? values : values.slice(0, inRange),
      filled: new Uint8Array(inRange),
      stepMs,
      boundaries,
      outOfRange,
      tooLong: false,
    };
  }
  const first = positions[0];
  if (first === undefined || first > n) {
    for (const p of positions) outOfRange.push(p);
    return { ...EMPTY, stepMs, boundaries, outOfRange, tooLong: false };
  }
  const count = n - first + 1;
  const outPositions = new Int32Array(count);
  const outValues = new Array<Decimal>(count);
  const filled = new Uint8Array(count);
  let next = 0;
  let current = values[0] as Decimal;
  for (let k = 0; k < count; k++) {
    const position = first + k;
    outPositions[k] = position;
    if (positions[next] === position) {
      current = values[next] ?? current;
      next++;
    } else filled[k] = 1;
    outValues[k] = current;
  }
  for (; next < given; next++) outOfRange.push(positions[next] ?? 0);
  return { positions: outPositions, values: outValues, filled, stepMs, boundaries, outOfRange, tooLong: false };
}

/** Starts of consecutive calendar steps from `start`, ending with the end of the last whole step before `end`. */
function calendarBoundaries(
  start: number,
  end: number,
  resolution: Resolution,
  tz: TimeZone,
  maxSteps: number,
): number[] | undefined {
  const list = [start];
  let t = start;
  for (;;) {
    const next = addSteps(t, resolution, 1, tz);
    if (next > end || next <= t) break;
    list.push(next);
    t = next;
    if (list.length > maxSteps + 1) return undefined;
  }
  return list;
}
