import { FactorCache } from '../processing/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { FORECAST_INPUT_METRICS, storedProductionIntensity, zoneValues } from '../storage/index.ts';
import { DAY_MS, addLocalDays, startOfLocalDay } from '../time/index.ts';
import type { AccuracyPair, AccuracyRow } from './accuracy.ts';
import { MAX_HORIZON_MS, accuracyRows, sameSlotYesterday } from './accuracy.ts';
import { HISTORY_DAYS, forecastCarbon } from './carbon-forecast.ts';

export interface BacktestResult {
  readonly zone: string;
  /** The issue times: every local midnight of the zone in the range. */
  readonly issues: readonly number[];
  readonly rows: readonly AccuracyRow[];
  /** Every compared slot, for figures of one's own. */
  readonly pairs: readonly (AccuracyPair & { readonly madeAt: number; readonly slot: number })[];
}

/**
 * Forecast against actual, recorded by a backtest over stored data: at every local midnight of the zone in
 * `[from, to)` a forecast is issued for the next 48 hours from what was known before that midnight only (actual
 * generation of earlier slots; forecasts issued before it, day-ahead ones from their publication deadline on, see
 * `knownAt`), then each slot with a stored actual intensity (and a baseline value) is compared with it. The
 * baseline is the actual intensity of the same slot yesterday (two days before beyond 24 h, the latest known).
 */
export async function backtest(
  db: Queryable,
  reference: ReferenceData,
  query: { readonly zone: string; readonly from: number; readonly to: number },
  options: DbCallOptions = {},
): Promise<BacktestResult> {
  const area = reference.zone(query.zone);
  const tz = area.timeZone;
  const issues: number[] = [];
  let t = startOfLocalDay(query.from, tz);
  if (t < query.from) t = addLocalDays(t, tz, 1);
  for (; t < query.to; t = addLocalDays(t, tz, 1)) issues.push(t);
  if (issues.length === 0) return { zone: query.zone, issues, rows: [], pairs: [] };

  const first = issues[0] ?? query.from;
  const last = issues[issues.length - 1] ?? query.from;
  const readFrom = addLocalDays(first, tz, -(HISTORY_DAYS + 1));
  const readTo = last + MAX_HORIZON_MS;
  const values = await zoneValues(
    db,
    { zone: query.zone, metrics: Object.values(FORECAST_INPUT_METRICS), from: readFrom, to: readTo },
    options,
  );
  const actual = await storedProductionIntensity(
    db,
    { zone: query.zone, from: first - 2 * DAY_MS - DAY_MS, to: readTo },
    options,
  );
  const factors = new FactorCache(reference);
  const pairs: (AccuracyPair & { madeAt: number; slot: number })[] = [];
  // Each issue reads only the values of its own reach (sorted by slot: two binary searches), and the loop gives
  // the event loop a turn between issues: a long backtest must not stall the other requests of the process.
  const sorted = [...values].sort((a, b) => a.slot - b.slot);
  const firstAtOrAfter = (slot: number): number => {
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid]?.slot ?? Infinity) < slot) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
  for (const madeAt of issues) {
    options.signal?.throwIfAborted();
    await new Promise<void>((resolve) => setImmediate(resolve));
    const reach = sorted.slice(
      firstAtOrAfter(addLocalDays(madeAt, tz, -(HISTORY_DAYS + 1))),
      firstAtOrAfter(madeAt + MAX_HORIZON_MS),
    );
    const slots = forecastCarbon(
      { zone: area, madeAt, from: madeAt, to: madeAt + MAX_HORIZON_MS, values: reach },
      reference,
      factors,
    );
    for (const s of slots) {
      const a = actual.get(s.start);
      const b = sameSlotYesterday(s.start, madeAt, tz, actual);
      if (a === undefined || b === undefined) continue;
      pairs.push({
        madeAt,
        slot: s.start,
        horizonMinutes: s.horizonMinutes,
        forecast: s.value,
        actual: a,
        baseline: b,
      });
    }
  }
  return { zone: query.zone, issues, rows: accuracyRows(pairs), pairs };
}
