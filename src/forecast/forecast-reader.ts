import type { FactorCache } from '../processing/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { DbCallOptions, Queryable, StoredValue } from '../storage/index.ts';
import { FORECAST_INPUT_METRICS, zoneValues } from '../storage/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { ForecastSlot } from './carbon-forecast.ts';
import { forecastCarbon, forecastWindow } from './carbon-forecast.ts';

/** Longest forecast range: 48 hours after the issue time. */
export const MAX_FORECAST_HOURS = 48;

/**
 * The forecast port a carbon-aware caller is given (the best-window route): forecast slots of a zone in
 * `[from, to)`, issued at `from` (slot-aligned down), value in gCO2eq/kWh.
 */
export type IntensityForecast = (
  zone: string,
  from: number,
  to: number,
  options?: { readonly signal?: AbortSignal },
) => Promise<{ readonly start: number; readonly value: number }[]>;

const HISTORY_METRICS = [FORECAST_INPUT_METRICS.actual];
const AHEAD_METRICS = [
  FORECAST_INPUT_METRICS.windSolarIntraday,
  FORECAST_INPUT_METRICS.windSolarDayAhead,
  FORECAST_INPUT_METRICS.loadDayAhead,
];

/** The stored values a forecast of `zone` made at `madeAt` for slots up to `to` reads (see {@link forecastWindow}). */
export async function forecastInputs(
  db: Queryable,
  query: { readonly zone: string; readonly timeZone: string; readonly madeAt: number; readonly to: number },
  options: DbCallOptions = {},
): Promise<StoredValue[]> {
  const w = forecastWindow(query.madeAt, query.to, query.timeZone);
  const history = await zoneValues(
    db,
    { zone: query.zone, metrics: HISTORY_METRICS, from: w.historyFrom, to: w.historyTo },
    options,
  );
  const ahead = await zoneValues(
    db,
    { zone: query.zone, metrics: AHEAD_METRICS, from: query.madeAt, to: w.aheadTo },
    options,
  );
  return [...history, ...ahead];
}

/**
 * The carbon-intensity forecast of a stored zone: reads its inputs and computes {@link forecastCarbon}. `madeAt`
 * is slot-aligned down; slots before it are not forecast.
 */
export async function zoneForecast(
  db: Queryable,
  reference: ReferenceData,
  query: { readonly zone: string; readonly madeAt: number; readonly from: number; readonly to: number },
  options: DbCallOptions & { readonly factors?: FactorCache } = {},
): Promise<ForecastSlot[]> {
  const area = reference.zone(query.zone);
  const madeAt = Math.floor(query.madeAt / SLOT_MS) * SLOT_MS;
  const values = await forecastInputs(db, { zone: query.zone, timeZone: area.timeZone, madeAt, to: query.to }, options);
  return forecastCarbon({ zone: area, madeAt, from: query.from, to: query.to, values }, reference, options.factors);
}

/**
 * The {@link IntensityForecast} port on a database: the forecast issued at `from` (what was known then), at most
 * {@link MAX_FORECAST_HOURS} hours of slots. Give it to the best-window route at wiring time.
 * @example const forecast = intensityForecastOf(db, reference); await forecast('FI', now, now + DAY_MS)
 */
export function intensityForecastOf(db: Queryable, reference: ReferenceData): IntensityForecast {
  return async (zone, from, to, options = {}) => {
    if (!reference.hasZone(zone)) return [];
    const end = Math.min(to, from + MAX_FORECAST_HOURS * 3_600_000);
    const slots = await zoneForecast(
      db,
      reference,
      { zone, madeAt: from, from, to: end },
      options.signal === undefined ? {} : { signal: options.signal },
    );
    return slots.map((s) => ({ start: s.start, value: s.value }));
  };
}
