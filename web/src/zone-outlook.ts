import type { BestWindows, DataClock, IntensityForecast, Optional } from './analyst-types.ts';
import { h } from './dom.ts';
import { formatDateTime, formatNumber, formatValue } from './format.ts';
import type { Point } from './series-data.ts';
import type { ChartSpec } from './time-chart.ts';

/** Mean and latest of a series of points (nulls left out). */
export function summary(points: readonly Point[]): { mean: number | null; latest: Point | null; count: number } {
  const values = points.filter((p): p is { ts: number; value: number } => p.value !== null);
  if (values.length === 0) return { mean: null, latest: null, count: 0 };
  const latest = values.reduce((a, b) => (b.ts > a.ts ? b : a));
  return { mean: values.reduce((a, b) => a + b.value, 0) / values.length, latest, count: values.length };
}

/** Mean of consumption − production over the slots where both are known (what imports change), or null. */
export function importEffect(production: readonly Point[], consumption: readonly Point[]): number | null {
  const byTs = new Map(production.filter((p) => p.value !== null).map((p) => [p.ts, p.value as number]));
  const diffs = consumption.flatMap((p) => {
    const prod = byTs.get(p.ts);
    return p.value === null || prod === undefined ? [] : [p.value - prod];
  });
  return diffs.length === 0 ? null : diffs.reduce((a, b) => a + b, 0) / diffs.length;
}

/** The forecast as a dashed line, labelled as a forecast everywhere it shows. */
export function forecastSpec(zoneName: string, timeZone: string, forecast: IntensityForecast): ChartSpec | null {
  const slots = forecast.slots.filter((s) => s.value !== null);
  if (slots.length === 0) return null;
  return {
    description: `Forecast of the ${forecast.basis}-based carbon intensity of ${zoneName}, in ${forecast.unit}, ${slots.length} slots (a forecast, not measured values).`,
    unit: forecast.unit,
    timeZone,
    xs: forecast.slots.map((s) => s.start / 1000),
    lines: [
      {
        label: `Forecast (${forecast.basis}-based)`,
        color: '#7c3aed',
        values: forecast.slots.map((s) => s.value),
        dash: [6, 4],
      },
    ],
    fromZero: true,
  };
}

/** How the forecast's slots were made, in words (the distinct methods, with how many slots each). */
export function forecastMethods(forecast: IntensityForecast): string[] {
  const counts = new Map<string, number>();
  for (const s of forecast.slots) {
    const m = s.method;
    if (m === null) continue;
    const parts = [
      m.windSolar === null
        ? null
        : `wind and solar: ${m.windSolar === 'none' ? 'no forecast' : `${m.windSolar} forecast`}`,
      m.other === null ? null : `other production: ${m.other}`,
      m.scaledToLoadForecast === true
        ? 'scaled to the load forecast'
        : m.scaledToLoadForecast === false
          ? 'not scaled to a load forecast'
          : null,
    ].filter((x): x is string => x !== null);
    const text = parts.join('; ');
    if (text !== '') counts.set(text, (counts.get(text) ?? 0) + 1);
  }
  return [...counts].map(([text, n]) => `${n} slot${n === 1 ? '' : 's'}: ${text}.`);
}

/** "not available" wording of an optional endpoint's answer. */
export function unavailableText(
  what: string,
  path: string,
  answer: Exclude<Optional<unknown>, { kind: 'ok' }>,
): string {
  return answer.kind === 'unavailable'
    ? `${what} is not available on this server (${path} does not exist here yet).`
    : `${what} is not available for this zone and time: ${answer.detail}`;
}

/** The best windows of one zone as a list in words; null when the answer has none for `zone`. */
export function windowList(zone: string, timeZone: string, answer: BestWindows): HTMLElement | null {
  const z = answer.zones.find((x) => x.zone === zone);
  if (z === undefined || z.windows.length === 0) return null;
  const span = (start: number, end: number): string =>
    `${formatDateTime(start, timeZone, false)} – ${formatDateTime(end, timeZone)}`;
  const items = z.windows.map((w, i) =>
    h('li', { data: { start: new Date(w.start).toISOString(), mean: String(w.meanIntensity) } }, [
      h('strong', { text: `${i === 0 ? 'Best' : `#${i + 1}`}: ${span(w.start, w.end)}` }),
      ` — mean ${formatValue(w.meanIntensity, 'gCO2eq/kWh')}`,
      w.saving === null
        ? ''
        : `, ${formatNumber(w.saving.gPerKwh)} g/kWh${w.saving.percent === null ? '' : ` (${formatNumber(w.saving.percent, 1)} %)`} below starting at the earliest time`,
    ]),
  );
  const earliest =
    z.earliestStart === null
      ? null
      : h('p', {
          class: 'note',
          text: `Starting at the earliest time (${formatDateTime(z.earliestStart.start, timeZone)}) means ${z.earliestStart.meanIntensity === null ? 'no complete value (a slot is missing)' : formatValue(z.earliestStart.meanIntensity, 'gCO2eq/kWh')}. Data used: ${z.data ?? 'not stated'}.`,
        });
  return h('div', {}, [h('ol', { class: 'window-list' }, items), earliest]);
}

/** The range searched, by which clock. */
export function windowRangeText(answer: BestWindows, timeZone: string, clock: DataClock | null): string {
  const by = (answer.clock ?? clock)?.mode === 'demo' ? ' (by the demo data clock)' : '';
  return `${answer.duration.replace(/^PT/, '').toLowerCase()} windows, ${answer.basis}-based, between ${formatDateTime(answer.earliest, timeZone)} and ${formatDateTime(answer.latest, timeZone)}${by}.`;
}
