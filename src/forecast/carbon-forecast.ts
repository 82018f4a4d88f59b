import type { MixEntry } from '../processing/index.ts';
import { FactorCache, productionIntensity } from '../processing/index.ts';
import type { Area, ReferenceData } from '../reference/index.ts';
import type { StoredValue } from '../storage/index.ts';
import { FORECAST_INPUT_METRICS } from '../storage/index.ts';
import { HOUR_MS, MINUTE_MS, SLOT_MS, addLocalDays, startOfLocalDay } from '../time/index.ts';

/** Production types whose forecasts ENTSO-E publishes (A69): solar, wind offshore, wind onshore. */
export const WIND_SOLAR_TYPES: readonly string[] = ['B16', 'B18', 'B19'];

/** Days of actual generation the other production types are averaged over. */
export const HISTORY_DAYS = 7;

/**
 * How long before its local day a day-ahead forecast (A69 A01, A65 A01) is published at the latest: ENTSO-E's
 * deadline for wind and solar (Regulation 543/2013, 14.1.D) is 18:00 the day before; the load forecast (6.1.B) is
 * due earlier. A backtest treats a day-ahead value as known from then on, whatever its stored issue time (the
 * issue time of a document fetched later is the fetch, not the publication).
 */
export const DAY_AHEAD_PUBLISHED_BEFORE_MS = 6 * HOUR_MS;

/** Where a slot's wind and solar came from. */
export type WindSolarMethod = 'intraday' | 'day-ahead' | 'none';

/** One forecast slot: production-based carbon intensity (lifecycle factors) and how it was made. */
export interface ForecastSlot {
  /** Slot start, epoch ms. */
  readonly start: number;
  /** gCO2eq/kWh. */
  readonly value: number;
  /** Minutes from the issue time to the end of the slot (15 for the first slot). */
  readonly horizonMinutes: number;
  /** Forecast generation counted (MW). */
  readonly generation: number;
  readonly method: {
    /** `intraday` when every wind/solar value came from the intraday forecast, `day-ahead` when any came from the day-ahead one, `none` without either (wind and solar then come from their 7-day mean, like the other types). */
    readonly windSolar: WindSolarMethod;
    /** Days (0–7) with actual generation at the slot's local quarter hour that the other types were averaged over. */
    readonly otherDays: number;
    /** Whether the other types were scaled so that generation matches the day-ahead load forecast. */
    readonly scaledToLoadForecast: boolean;
  };
}

export interface ForecastRequest {
  readonly zone: Area;
  /** Issue time (slot-aligned down): only data known before it is used. */
  readonly madeAt: number;
  /** First and (exclusive) last slot start to forecast; slots before `madeAt` are not forecast. */
  readonly from: number;
  readonly to: number;
  /** The zone's stored values: actual generation, wind/solar forecasts and the load forecast (see {@link forecastWindow}). */
  readonly values: readonly StoredValue[];
}

/** The slot range of values a forecast made at `madeAt` for `[from, to)` reads. */
export function forecastWindow(
  madeAt: number,
  to: number,
  timeZone: string,
): { readonly historyFrom: number; readonly historyTo: number; readonly aheadTo: number } {
  return {
    historyFrom: addLocalDays(madeAt, timeZone, -(HISTORY_DAYS + 1)),
    historyTo: madeAt,
    aheadTo: to,
  };
}

/** Whether a value was known at `madeAt`: actuals of earlier slots, forecasts issued (or due, day-ahead) before it. */
export function knownAt(v: StoredValue, madeAt: number, timeZone: string): boolean {
  switch (v.metric) {
    case FORECAST_INPUT_METRICS.actual:
      return v.slot + SLOT_MS <= madeAt;
    case FORECAST_INPUT_METRICS.windSolarIntraday:
      return v.issuedAt === null || v.issuedAt <= madeAt;
    case FORECAST_INPUT_METRICS.windSolarDayAhead:
    case FORECAST_INPUT_METRICS.loadDayAhead:
      return (
        v.issuedAt === null ||
        v.issuedAt <= madeAt ||
        startOfLocalDay(v.slot, timeZone) - DAY_AHEAD_PUBLISHED_BEFORE_MS <= madeAt
      );
    default:
      return false;
  }
}

/** metric → production type → slot → value, of the values known at `madeAt`. */
function index(
  values: readonly StoredValue[],
  madeAt: number,
  timeZone: string,
): Map<string, Map<string, Map<number, number>>> {
  const out = new Map<string, Map<string, Map<number, number>>>();
  for (const v of values) {
    if (!knownAt(v, madeAt, timeZone)) continue;
    let byType = out.get(v.metric);
    if (byType === undefined) {
      byType = new Map();
      out.set(v.metric, byType);
    }
    let slots = byType.get(v.productionType);
    if (slots === undefined) {
      slots = new Map();
      byType.set(v.productionType, slots);
    }
    slots.set(v.slot, v.value);
  }
  return out;
}

/**
 * The production-based carbon-intensity forecast of a zone, one value per 15-minute slot of `[from, to)` from
 * `madeAt` on, pure:
 * - wind and solar (B16, B18, B19) from their forecasts, the intraday one preferred over the day-ahead one per type
 *   and slot;
 * - every other production type as the mean of its actual generation at the same local quarter hour on each of
 *   the last 7 days before `madeAt` that has one (a wind or solar type too, when the slot has no forecast of it);
 * - where the zone has a day-ahead load forecast for the slot, the types other than wind and solar scaled together
 *   so that the total matches it (load − wind − solar, never below 0);
 * - the mix's intensity with the lifecycle emission factors of the actuals (`productionIntensity`, `FactorCache`).
 * Slots with nothing to go on (no history, no forecast) are left out.
 */
export function forecastCarbon(
  request: ForecastRequest,
  reference: ReferenceData,
  factors = new FactorCache(reference),
): ForecastSlot[] {
  const { zone, madeAt } = request;
  const tz = zone.timeZone;
  const data = index(request.values, madeAt, tz);
  const actual = data.get(FORECAST_INPUT_METRICS.actual) ?? new Map<string, Map<number, number>>();
  const intraday = data.get(FORECAST_INPUT_METRICS.windSolarIntraday);
  const dayAhead = data.get(FORECAST_INPUT_METRICS.windSolarDayAhead);
  const load = data.get(FORECAST_INPUT_METRICS.loadDayAhead)?.get('');
  const entry = (psr: string, mw: number): MixEntry | undefined => {
    if (!reference.hasProductionType(psr)) return undefined;
    const type = reference.productionType(psr);
    if (type.mode === null) return undefined;
    return { mode: type.mode, renewable: type.renewable, fossilFree: type.fossilFree, mw };
  };

  const slots: ForecastSlot[] = [];
  const first = Math.max(Math.ceil(request.from / SLOT_MS) * SLOT_MS, madeAt);
  for (let s = first; s < request.to; s += SLOT_MS) {
    // Wind and solar from their forecasts.
    const windSolar = new Map<string, number>();
    let usedDayAhead = false;
    for (const psr of WIND_SOLAR_TYPES) {
      const id = intraday?.get(psr)?.get(s);
      if (id !== undefined) {
        windSolar.set(psr, id);
        continue;
      }
      const da = dayAhead?.get(psr)?.get(s);
      if (da !== undefined) {
        windSolar.set(psr, da);
        usedDayAhead = true;
      }
    }
    const method: WindSolarMethod = windSolar.size === 0 ? 'none' : usedDayAhead ? 'day-ahead' : 'intraday';

    // Every other type: the mean of the same local quarter hour on the last 7 days.
    const past: number[] = [];
    for (let d = 1; d <= HISTORY_DAYS; d++) {
      const t = addLocalDays(s, tz, -d);
      if (t + SLOT_MS <= madeAt) past.push(t);
    }
    // A wind or solar type without a forecast for this slot (a zone whose forecast lacks it, an intraday
    // forecast of some types only) keeps its own 7-day mean, outside the scaling: it is not a dispatchable type.
    const other = new Map<string, number>();
    const windSolarMean = new Map<string, number>();
    const days = new Set<number>();
    for (const [psr, values] of actual) {
      if (windSolar.has(psr)) continue;
      let sum = 0;
      let n = 0;
      for (const t of past) {
        const v = values.get(t);
        if (v === undefined) continue;
        sum += v;
        n++;
        days.add(t);
      }
      if (n > 0) (WIND_SOLAR_TYPES.includes(psr) ? windSolarMean : other).set(psr, sum / n);
    }
    if (windSolar.size === 0 && windSolarMean.size === 0 && other.size === 0) continue;

    // Scaled to the load forecast: the other types fill what wind and solar leave of it.
    const l = load?.get(s);
    let scaled = false;
    const otherTotal = [...other.values()].reduce((a, v) => a + Math.max(0, v), 0);
    if (l !== undefined && otherTotal > 0) {
      const windSolarTotal = [...windSolar.values(), ...windSolarMean.values()].reduce((a, v) => a + Math.max(0, v), 0);
      const scale = Math.max(0, l - windSolarTotal) / otherTotal;
      for (const [psr, v] of other) other.set(psr, v * scale);
      scaled = true;
    }

    const mix: MixEntry[] = [];
    for (const [psr, mw] of [...windSolar, ...windSolarMean, ...other]) {
      const e = entry(psr, mw);
      if (e !== undefined) mix.push(e);
    }
    const intensity = productionIntensity(mix, factors.at(zone, s));
    if (intensity.lifecycle === null) continue;
    slots.push({
      start: s,
      value: intensity.lifecycle,
      horizonMinutes: (s + SLOT_MS - madeAt) / MINUTE_MS,
      generation: intensity.generation,
      method: { windSolar: method, otherDays: days.size, scaledToLoadForecast: scaled },
    });
  }
  return slots;
}
