import { DAY_MS, HOUR_MS, SLOT_MS } from '../time/index.ts';
import type { Signal } from './lifecycle.ts';
import type { AlertRules } from './settings.ts';

/** One 15-minute value of a series. */
export interface SlotValue {
  readonly slot: number;
  readonly value: number;
}

const round = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** The median of a list (undefined when empty). */
export function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Median and median absolute deviation. */
export function robustCentre(values: readonly number[]): { median: number; mad: number } | undefined {
  const m = median(values);
  if (m === undefined) return undefined;
  return { median: m, mad: median(values.map((v) => Math.abs(v - m))) ?? 0 };
}

/** 1.4826 × MAD estimates the standard deviation of normally distributed errors. */
const MAD_SIGMA = 1.4826;

export interface SeriesSubject {
  readonly zone: string;
  /** What the subject is called in the alert key, e.g. `DE_LU|load_actual` or `DE_LU|generation_actual|B16`. */
  readonly subject: string;
  readonly label: string;
}

/**
 * Actuals against their day-ahead forecast: the error of a slot (actual − forecast) is compared with the errors of
 * the same UTC hour of day in the history (`lookback` before the slot, at least `minSamples` of them): active when
 * it is more than k robust standard deviations (1.4826·MAD) from their median and more than `minRelative` of the
 * forecast away from it. Slots without both values, or whose hour has too little history, are not judged.
 */
export function forecastSignals(
  rules: AlertRules,
  subject: SeriesSubject,
  actual: readonly SlotValue[],
  forecast: readonly SlotValue[],
  judge: { readonly from: number; readonly to: number },
): Signal[] {
  const d = rules.detectors.forecast_deviation;
  if (!d.enabled) return [];
  const f = new Map(forecast.map((p) => [p.slot, p.value]));
  const errors: { slot: number; error: number; forecast: number; actual: number }[] = [];
  for (const a of actual) {
    const fv = f.get(a.slot);
    if (fv !== undefined) errors.push({ slot: a.slot, error: a.value - fv, forecast: fv, actual: a.value });
  }
  errors.sort((x, y) => x.slot - y.slot);
  const signals: Signal[] = [];
  const hourOf = (slot: number): number => Math.floor((slot % DAY_MS) / HOUR_MS);
  const byHour = new Map<number, typeof errors>();
  for (const e of errors) {
    const list = byHour.get(hourOf(e.slot));
    if (list === undefined) byHour.set(hourOf(e.slot), [e]);
    else list.push(e);
  }
  for (const e of errors) {
    if (e.slot < judge.from || e.slot >= judge.to) continue;
    const hour = (byHour.get(hourOf(e.slot)) ?? []).filter((p) => p.slot < e.slot && p.slot >= e.slot - d.lookback);
    // Samples are days: an hourly series spread over its quarters has four equal errors per hour and day.
    if (new Set(hour.map((p) => Math.floor(p.slot / DAY_MS))).size < d.minSamples) continue;
    const past = hour.map((p) => p.error);
    const centre = robustCentre(past);
    if (centre === undefined) continue;
    const deviation = e.error - centre.median;
    const sigma = MAD_SIGMA * centre.mad;
    const score = sigma === 0 ? Infinity : Math.abs(deviation) / sigma;
    const active = score > d.k && Math.abs(deviation) > d.minRelative * Math.abs(e.forecast);
    signals.push({
      detector: 'forecast_deviation',
      subject: subject.subject,
      active,
      from: e.slot,
      to: e.slot + SLOT_MS,
      severity: d.severity,
      zone: subject.zone,
      group: null,
      meter: null,
      message: active
        ? `${subject.label} is ${round(e.actual, 1)} against a forecast of ${round(e.forecast, 1)}: ${round(deviation, 1)} off the usual error, ${round(score, 1)} robust standard deviations`
        : `${subject.label} is back within its usual forecast error`,
      values: {
        actual: e.actual,
        forecast: e.forecast,
        error: round(e.error, 3),
        usual_error: round(centre.median, 3),
        mad: round(centre.mad, 3),
        score: Number.isFinite(score) ? round(score) : null,
      },
    });
  }
  return signals;
}

/** Day-ahead prices below `below` (negative) and, in EUR/MWh, above `above` (extreme). */
export function priceSignals(rules: AlertRules, zone: string, unit: string, prices: readonly SlotValue[]): Signal[] {
  const neg = rules.detectors.price_negative;
  const ext = rules.detectors.price_extreme;
  const signals: Signal[] = [];
  for (const p of prices) {
    const window = { from: p.slot, to: p.slot + SLOT_MS };
    const base = { zone, group: null, meter: null, ...window, values: { price: p.value, unit } };
    if (neg.enabled) {
      const active = p.value < neg.below;
      signals.push({
        ...base,
        detector: 'price_negative',
        subject: zone,
        active,
        severity: neg.severity,
        message: active
          ? `day-ahead price in ${zone} is ${p.value} ${unit}`
          : `day-ahead price in ${zone} is ${p.value} ${unit} again`,
      });
    }
    if (ext.enabled && unit === 'EUR/MWh') {
      const active = p.value > ext.above;
      signals.push({
        ...base,
        detector: 'price_extreme',
        subject: zone,
        active,
        severity: ext.severity,
        message: active
          ? `day-ahead price in ${zone} is ${p.value} ${unit}, above ${ext.above}`
          : `day-ahead price in ${zone} is back at ${p.value} ${unit}`,
      });
    }
  }
  return signals;
}

/**
 * Carbon intensity outside its usual range: more than k robust standard deviations and more than `minAbsolute`
 * gCO2eq/kWh from the median of the `lookback` before the slot's day (days counted from the start of the judged
 * range; at least `minSamples` values): the range is computed once per day, so a long backfill is judged against a
 * history that moves along with it.
 */
export function carbonSignals(
  rules: AlertRules,
  subject: SeriesSubject,
  values: readonly SlotValue[],
  judge: { readonly from: number; readonly to: number },
): Signal[] {
  const d = rules.detectors.carbon_out_of_range;
  if (!d.enabled) return [];
  const sorted = [...values].sort((a, b) => a.slot - b.slot);
  const centres = new Map<number, { median: number; mad: number } | undefined>();
  const centreOf = (day: number): { median: number; mad: number } | undefined => {
    if (!centres.has(day)) {
      const history = sorted.filter((h) => h.slot < day && h.slot >= day - d.lookback).map((h) => h.value);
      centres.set(day, history.length < d.minSamples ? undefined : robustCentre(history));
    }
    return centres.get(day);
  };
  const signals: Signal[] = [];
  for (const p of sorted) {
    if (p.slot < judge.from || p.slot >= judge.to) continue;
    const centre = centreOf(judge.from + Math.floor((p.slot - judge.from) / DAY_MS) * DAY_MS);
    if (centre === undefined) continue;
    const sigma = MAD_SIGMA * centre.mad;
    const deviation = p.value - centre.median;
    const score = sigma === 0 ? Infinity : Math.abs(deviation) / sigma;
    const active = score > d.k && Math.abs(deviation) > d.minAbsolute;
    signals.push({
      detector: 'carbon_out_of_range',
      subject: subject.subject,
      active,
      from: p.slot,
      to: p.slot + SLOT_MS,
      severity: d.severity,
      zone: subject.zone,
      group: null,
      meter: null,
      message: active
        ? `${subject.label} is ${round(p.value)} gCO2eq/kWh, usually ${round(centre.median)} (± ${round(sigma)})`
        : `${subject.label} is back in its usual range`,
      values: {
        intensity: round(p.value, 3),
        usual: round(centre.median, 3),
        mad: round(centre.mad, 3),
        score: Number.isFinite(score) ? round(score) : null,
      },
    });
  }
  return signals;
}
