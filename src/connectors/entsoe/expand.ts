import type { Decimal } from '../../common/index.ts';
import type { Resolution, TimeZone } from '../../time/index.ts';
import { addSteps } from '../../time/index.ts';
import type { CurveType, EntsoeStep } from './document.ts';

export interface GivenPoint {
  readonly position: number;
  readonly value: Decimal;
}

export interface PeriodShape {
  readonly start: number;
  readonly end: number;
  readonly resolution: Resolution;
  readonly curveType: CurveType;
  readonly timeZone: TimeZone;
  /** Points sorted by position, positions unique and ≥ 1. */
  readonly points: readonly GivenPoint[];
  /** Refuse to expand a Period into more steps than this (an A03 curve of one point over a year at PT1M…). */
  readonly maxSteps: number;
}

export interface ExpandedPeriod {
  readonly steps: EntsoeStep[];
  /** Given points whose position lies beyond the end of the Period. */
  readonly outOfRange: GivenPoint[];
  /** True when the Period has more steps than `maxSteps`; nothing was expanded. */
  readonly tooLong: boolean;
}

/**
 * Expands the points of one Period into time steps.
 *
 * - curveType A01 ("sequential fixed size block"): one step per given position; a missing position is a gap.
 * - curveType A03 ("variable sized block"): a missing position repeats the previous given position's value up to
 *   the next given position or the end of the Period (`filled: true`). Positions before the first given one stay
 *   empty: there is no previous value to repeat.
 *
 * Fixed resolutions step on the UTC line; calendar resolutions (P1D, P7D, P1M, P1Y) step on the local calendar of
 * `timeZone`, so a P1D step across a DST change lasts 23 or 25 hours. A Period whose length is not a whole number
 * of steps ends with its last whole step.
 */
export function expandPeriod(shape: PeriodShape): ExpandedPeriod {
  const { start, end, resolution, curveType, timeZone, points, maxSteps } = shape;
  const boundary = boundaries(start, end, resolution, timeZone, maxSteps);
  if (boundary === undefined) return { steps: [], outOfRange: [], tooLong: true };
  const n = boundary.count;
  const steps: EntsoeStep[] = [];
  const outOfRange: GivenPoint[] = [];
  if (curveType === 'A01') {
    for (const p of points) {
      if (p.position > n) {
        outOfRange.push(p);
        continue;
      }
      steps.push({
        start: boundary.at(p.position - 1),
        end: boundary.at(p.position),
        position: p.position,
        value: p.value,
        filled: false,
      });
    }
    return { steps, outOfRange, tooLong: false };
  }
  let next = 0;
  let current: GivenPoint | undefined;
  const first = points[0];
  if (first === undefined) return { steps, outOfRange, tooLong: false };
  for (let position = first.position; position <= n; position++) {
    const given = points[next];
    let filled = true;
    if (given !== undefined && given.position === position) {
      current = given;
      filled = false;
      next++;
    }
    if (current === undefined) continue;
    steps.push({
      start: boundary.at(position - 1),
      end: boundary.at(position),
      position,
      value: current.value,
      filled,
    });
  }
  for (; next < points.length; next++) {
    const p = points[next];
    if (p !== undefined) outOfRange.push(p);
  }
  return { steps, outOfRange, tooLong: false };
}

interface Boundaries {
  /** Number of whole steps in the Period. */
  readonly count: number;
  /** Start of step `k` (0-based); `at(count)` is the end of the last whole step. */
  at(k: number): number;
}

function boundaries(
  start: number,
  end: number,
  resolution: Resolution,
  tz: TimeZone,
  maxSteps: number,
): Boundaries | undefined {
  if (resolution.kind === 'fixed') {
    const count = Math.floor((end - start) / resolution.ms);
    if (count > maxSteps) return undefined;
    const ms = resolution.ms;
    return { count, at: (k) => start + k * ms };
  }
  const list = [start];
  let t = start;
  for (;;) {
    const next = addSteps(t, resolution, 1, tz);
    if (next > end) break;
    list.push(next);
    t = next;
    if (list.length > maxSteps + 1) return undefined;
  }
  return { count: list.length - 1, at: (k) => list[k] ?? Number.NaN };
}
