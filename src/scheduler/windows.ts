import { HOUR_MS, SLOT_MS } from '../time/index.ts';

/** The grid a window's ends are put on (UTC, hence the same in every time zone gridstream serves). */
export const ALIGNMENTS = { hour: HOUR_MS, 'quarter-hour': SLOT_MS } as const;
export type Alignment = keyof typeof ALIGNMENTS;

/** A half-open UTC interval, epoch milliseconds. */
export interface Window {
  readonly start: number;
  readonly end: number;
}

export interface WindowSpec {
  /** How far back from the (aligned) run time the window starts. */
  readonly lookbackHours: number;
  /** How far ahead it ends (forecasts, next-day prices). @default 0 */
  readonly lookaheadHours?: number;
  /** @default 'hour' */
  readonly align?: Alignment;
}

/** `t` rounded down to the alignment grid. */
export function alignDown(t: number, align: Alignment): number {
  const step = ALIGNMENTS[align];
  return Math.floor(t / step) * step;
}

/**
 * The window a run at `at` fetches: `[aligned(at) − lookback, aligned(at) + lookahead)`. Lookbacks are real
 * elapsed hours, so a window across a DST change or a month end covers exactly the stated time; calendar-based
 * items (A44 prices) are widened to whole local days by the request builder, not here.
 * @example lookbackWindow(Date.parse('2024-03-31T02:05Z'), { lookbackHours: 3 }) // [23:00Z, 02:00Z)
 */
export function lookbackWindow(at: number, spec: WindowSpec): Window {
  const end = alignDown(at, spec.align ?? 'hour');
  return { start: end - spec.lookbackHours * HOUR_MS, end: end + (spec.lookaheadHours ?? 0) * HOUR_MS };
}
