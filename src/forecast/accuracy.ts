import { HOUR_MS, MINUTE_MS, SLOT_MS, addLocalDays } from '../time/index.ts';

/** Horizon buckets of the accuracy figures, by the minutes from the issue time to the end of the slot. */
export const HORIZON_BUCKETS = [
  { name: '0-6h', upToMinutes: 6 * 60 },
  { name: '6-12h', upToMinutes: 12 * 60 },
  { name: '12-24h', upToMinutes: 24 * 60 },
  { name: '24-48h', upToMinutes: 48 * 60 },
] as const;

export const BASELINE_NAME = 'same slot yesterday';

/** One forecast slot next to what happened and what the baseline said. */
export interface AccuracyPair {
  readonly horizonMinutes: number;
  readonly forecast: number;
  readonly actual: number;
  readonly baseline: number;
}

export interface ErrorFigures {
  /** Mean absolute error, gCO2eq/kWh. */
  readonly mae: number;
  /** Symmetric mean absolute percentage error, percent (0–200): mean of 2·|f − a| / (|f| + |a|) × 100. */
  readonly smape: number;
}

export type HorizonBucket = (typeof HORIZON_BUCKETS)[number]['name'];

export interface AccuracyRow extends ErrorFigures {
  readonly horizon: HorizonBucket;
  /** Slots compared (each has a forecast, an actual and a baseline value). */
  readonly n: number;
  readonly baseline: ErrorFigures & { readonly name: string };
}

/** MAE and sMAPE of `(predicted, actual)` pairs; both 0 for none. */
export function errorFigures(pairs: readonly (readonly [number, number])[]): ErrorFigures {
  if (pairs.length === 0) return { mae: 0, smape: 0 };
  let abs = 0;
  let sym = 0;
  for (const [p, a] of pairs) {
    const e = Math.abs(p - a);
    abs += e;
    const d = Math.abs(p) + Math.abs(a);
    sym += d === 0 ? 0 : (2 * e) / d;
  }
  return { mae: abs / pairs.length, smape: (sym / pairs.length) * 100 };
}

/** The pairs grouped into {@link HORIZON_BUCKETS}, forecast and baseline scored on the same slots; empty buckets left out. */
export function accuracyRows(pairs: readonly AccuracyPair[]): AccuracyRow[] {
  const rows: AccuracyRow[] = [];
  let lower = 0;
  for (const bucket of HORIZON_BUCKETS) {
    const inBucket = pairs.filter((p) => p.horizonMinutes > lower && p.horizonMinutes <= bucket.upToMinutes);
    lower = bucket.upToMinutes;
    if (inBucket.length === 0) continue;
    rows.push({
      horizon: bucket.name,
      n: inBucket.length,
      ...errorFigures(inBucket.map((p) => [p.forecast, p.actual] as const)),
      baseline: { name: BASELINE_NAME, ...errorFigures(inBucket.map((p) => [p.baseline, p.actual] as const)) },
    });
  }
  return rows;
}

/**
 * The baseline "the same slot yesterday" as known at `madeAt`: the actual intensity of the same local quarter hour
 * one day before the slot, or two days before when yesterday's slot had not ended at `madeAt` (horizons past 24 h).
 * `undefined` when that value is not stored.
 */
export function sameSlotYesterday(
  slot: number,
  madeAt: number,
  timeZone: string,
  actual: ReadonlyMap<number, number>,
): number | undefined {
  for (let d = 1; d <= 2; d++) {
    const t = addLocalDays(slot, timeZone, -d);
    if (t + SLOT_MS <= madeAt) return actual.get(t);
  }
  return undefined;
}

/** The horizon of a slot start from an issue time, in minutes to the slot's end. */
export function horizonMinutes(slot: number, madeAt: number): number {
  return (slot + SLOT_MS - madeAt) / MINUTE_MS;
}

/** Longest horizon scored (the last bucket's end). */
export const MAX_HORIZON_MS = 48 * HOUR_MS;
