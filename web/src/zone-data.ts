import type { ApiClient } from './api-client.ts';
import { ApiProblem } from './api-client.ts';
import type { CarbonIntensity, Completeness, Mix, Series, Zone } from './api-types.ts';
import { decodeCarbon, decodeCompleteness, decodeMix, decodeSeriesList } from './api-types.ts';
import { formatDateTime, formatValue } from './format.ts';
import { productionType } from './production-types.ts';
import { alignSeries } from './series-data.ts';
import type { ChartLine, ChartSpec } from './time-chart.ts';
import type { TimeRange } from './time-range.ts';
import { DAY, rangeParams } from './time-range.ts';

/** The metrics each chart of the zone page draws. */
export const CARD_METRICS = {
  generation: ['generation_actual'],
  carbon: ['carbon_intensity_production', 'carbon_intensity_consumption'],
  load: ['load_actual', 'load_forecast_day_ahead'],
  price: ['price_day_ahead'],
} as const;
export type CardKind = keyof typeof CARD_METRICS;
export const CARD_KINDS = Object.keys(CARD_METRICS) as CardKind[];

export function cardOf(metric: string): CardKind | undefined {
  return CARD_KINDS.find((k) => (CARD_METRICS[k] as readonly string[]).includes(metric));
}

export function hasAny(zone: Zone, kind: CardKind): boolean {
  return CARD_METRICS[kind].some((m) => zone.metrics.includes(m));
}

export async function fetchSeries(
  client: ApiClient,
  zone: string,
  metric: string,
  range: TimeRange,
  signal: AbortSignal,
): Promise<Series[]> {
  return client.get('/api/v1/series', { zone, metric, ...rangeParams(range) }, decodeSeriesList, signal);
}

export async function fetchCarbon(
  client: ApiClient,
  zone: string,
  basis: 'production' | 'consumption',
  range: TimeRange,
  signal: AbortSignal,
): Promise<CarbonIntensity> {
  return client.get(
    '/api/v1/carbon-intensity',
    { zone, basis, factors: 'lifecycle', ...rangeParams(range) },
    decodeCarbon,
    signal,
  );
}

/** The latest generation mix, or null when the zone has none. */
export async function fetchMix(client: ApiClient, zone: string, signal: AbortSignal): Promise<Mix | null> {
  try {
    return await client.get('/api/v1/mix', { zone }, decodeMix, signal);
  } catch (error) {
    if (error instanceof ApiProblem && error.status === 404) return null;
    throw error;
  }
}

export async function fetchCompleteness(
  client: ApiClient,
  zone: string,
  range: TimeRange,
  signal: AbortSignal,
): Promise<Completeness> {
  const span = range.to - range.from;
  // The endpoint allows 400 days: look at the end of longer ranges.
  const from = span > 400 * DAY ? range.to - 400 * DAY : range.from;
  return client.get(
    '/api/v1/completeness',
    { zone, from: new Date(from).toISOString(), to: new Date(range.to).toISOString() },
    decodeCompleteness,
    signal,
  );
}

/**
 * The latest day with data of `metric` (for charts with nothing in the chosen range): one daily-resolution
 * query over the zone's whole coverage (at most ten years).
 */
export async function latestDataDay(
  client: ApiClient,
  zone: Zone,
  metric: string,
  signal: AbortSignal,
): Promise<number | null> {
  const to = zone.lastSlot + DAY;
  const from = Math.max(zone.firstSlot - DAY, to - 3650 * DAY);
  const range: TimeRange = { from, to, resolution: 'P1D' };
  let latest: number | null = null;
  if (metric.startsWith('carbon_intensity_')) {
    const basis = metric === 'carbon_intensity_consumption' ? 'consumption' : 'production';
    const carbon = await fetchCarbon(client, zone.code, basis, range, signal);
    for (const p of carbon.points) if (p.value !== null && (latest === null || p.ts > latest)) latest = p.ts;
    return latest;
  }
  for (const s of await fetchSeries(client, zone.code, metric, range, signal)) {
    for (const p of s.points) if (p.value !== null && (latest === null || p.ts > latest)) latest = p.ts;
  }
  return latest;
}

function latestOf(xs: readonly number[], lines: readonly ChartLine[], timeZone: string): string {
  for (let i = xs.length - 1; i >= 0; i--) {
    const parts = lines.filter((l) => l.values[i] !== null && l.values[i] !== undefined);
    if (parts.length > 0) return formatDateTime((xs[i] ?? 0) * 1000, timeZone);
  }
  return 'none';
}

/** Stacked generation by production type, base load at the bottom. */
export function generationSpec(zone: Zone, series: readonly Series[]): ChartSpec | null {
  const withData = series
    .filter((s) => s.productionType !== null && s.points.some((p) => p.value !== null))
    .map((s) => ({ s, type: productionType(s.productionType ?? '', s.productionTypeName) }))
    .sort((a, b) => a.type.order - b.type.order || a.type.code.localeCompare(b.type.code));
  if (withData.length === 0) return null;
  const aligned = alignSeries(withData.map(({ s }) => s.points));
  const lines = withData.map(({ type }, i) => ({ label: type.name, color: type.color, values: aligned.ys[i] ?? [] }));
  const unit = withData[0]?.s.unit ?? 'MW';
  return {
    description: `Stacked generation mix of ${zone.name} by production type (${lines.map((l) => l.label).join(', ')}), in ${unit}; latest values at ${latestOf(aligned.xs, lines, zone.timeZone)}.`,
    unit,
    timeZone: zone.timeZone,
    xs: aligned.xs,
    lines,
    stacked: true,
  };
}

export const CARBON_COLORS = { production: '#b45309', consumption: '#0f766e' } as const;

export function carbonSpec(
  zone: Zone,
  production: CarbonIntensity,
  consumption: CarbonIntensity | null,
): ChartSpec | null {
  const parts: { label: string; color: string; points: CarbonIntensity['points']; dash?: number[] }[] = [];
  if (production.points.some((p) => p.value !== null)) {
    parts.push({ label: 'Production-based', color: CARBON_COLORS.production, points: production.points });
  }
  if (consumption !== null && consumption.points.some((p) => p.value !== null)) {
    parts.push({
      label: 'Consumption-based',
      color: CARBON_COLORS.consumption,
      points: consumption.points,
      dash: [6, 4],
    });
  }
  if (parts.length === 0) return null;
  const aligned = alignSeries(parts.map((p) => p.points));
  const lines: ChartLine[] = parts.map((p, i) => ({
    label: p.label,
    color: p.color,
    values: aligned.ys[i] ?? [],
    ...(p.dash === undefined ? {} : { dash: p.dash }),
  }));
  return {
    description: `Carbon intensity of ${zone.name} (lifecycle emission factors): ${lines.map((l) => l.label).join(' and ')}, in ${production.unit}.`,
    unit: production.unit,
    timeZone: zone.timeZone,
    xs: aligned.xs,
    lines,
    fromZero: true,
  };
}

export function loadSpec(zone: Zone, actual: readonly Series[], forecast: readonly Series[]): ChartSpec | null {
  const parts: { label: string; color: string; s: Series; dash?: number[] }[] = [];
  actual.forEach((s, i) => {
    parts.push({ label: labelWithQualifier('Actual load', s, actual.length, i), color: '#1d4ed8', s });
  });
  forecast.forEach((s, i) => {
    parts.push({
      label: labelWithQualifier('Day-ahead forecast', s, forecast.length, i),
      color: '#6b7280',
      s,
      dash: [6, 4],
    });
  });
  const withData = parts.filter((p) => p.s.points.some((x) => x.value !== null));
  if (withData.length === 0) return null;
  const aligned = alignSeries(withData.map((p) => p.s.points));
  const lines: ChartLine[] = withData.map((p, i) => ({
    label: p.label,
    color: p.color,
    values: aligned.ys[i] ?? [],
    ...(p.dash === undefined ? {} : { dash: p.dash }),
  }));
  const unit = withData[0]?.s.unit ?? 'MW';
  return {
    description: `Load of ${zone.name}: ${lines.map((l) => l.label).join(' and ')}, in ${unit}.`,
    unit,
    timeZone: zone.timeZone,
    xs: aligned.xs,
    lines,
  };
}

const PRICE_COLORS = ['#9a3412', '#6d28d9', '#0e7490', '#be185d', '#4d7c0f'];

export function priceSpec(zone: Zone, series: readonly Series[]): ChartSpec | null {
  const withData = series
    .filter((s) => s.points.some((p) => p.value !== null))
    .sort((a, b) => (a.qualifier ?? '').localeCompare(b.qualifier ?? '', undefined, { numeric: true }));
  if (withData.length === 0) return null;
  const aligned = alignSeries(withData.map((s) => s.points));
  const unit = withData[0]?.unit ?? 'EUR/MWh';
  const lines: ChartLine[] = withData.map((s, i) => ({
    label: priceLabel(zone.code, s, withData.length),
    color: PRICE_COLORS[i % PRICE_COLORS.length] ?? '#9a3412',
    values: aligned.ys[i] ?? [],
    step: true,
  }));
  return {
    description: `Day-ahead price of ${zone.name} (${lines.map((l) => l.label).join(', ')}), in ${unit}.`,
    unit,
    timeZone: zone.timeZone,
    xs: aligned.xs,
    lines,
  };
}

/** Zones where ENTSO-E publishes SDAC as sequence 1 and the EXAA auction as sequence 2 (docs/upstream-apis.md). */
const EXAA_ZONES = new Set(['DE_LU', 'AT']);
const AUCTION_NAMES: Readonly<Record<string, string>> = { '1': 'SDAC', '2': 'EXAA' };

function sequenceOf(s: Series): string | undefined {
  return /(?:^|;)sequence=([^;]+)/.exec(s.qualifier ?? '')?.[1];
}

function priceLabel(zone: string, s: Series, count: number): string {
  if (count === 1) return 'Day-ahead price';
  const sequence = sequenceOf(s);
  if (sequence === undefined) return s.qualifier ?? 'Day-ahead price';
  const auction = EXAA_ZONES.has(zone) ? AUCTION_NAMES[sequence] : undefined;
  return auction === undefined ? `Sequence ${sequence}` : `Sequence ${sequence} (${auction})`;
}

/** True when every hour's quarter-hour values are equal (hourly prices spread over 15-minute slots). */
function hourly(s: Series): boolean {
  const byHour = new Map<number, Set<number>>();
  for (const p of s.points) {
    if (p.value === null) continue;
    const hour = Math.floor(p.ts / 3_600_000);
    const values = byHour.get(hour) ?? new Set<number>();
    values.add(p.value);
    byHour.set(hour, values);
  }
  return byHour.size > 0 && [...byHour.values()].every((v) => v.size === 1);
}

/**
 * The price card's notes, in words: what each auction sequence is (for DE-LU and AT: SDAC and EXAA), whether its
 * prices are hourly or quarter-hourly in this range, and each line's mean, lowest and highest value.
 */
export function priceNotes(zone: Zone, series: readonly Series[]): string[] {
  const withData = series.filter((s) => s.points.some((p) => p.value !== null));
  const notes: string[] = [];
  if (withData.length > 1) {
    notes.push(
      EXAA_ZONES.has(zone.code)
        ? `ENTSO-E publishes two day-ahead auctions for ${zone.code}, as "sequences" of the same document. Sequence 1 is the Single Day-Ahead Coupling (SDAC): Europe's coupled auction, gate closure 12:00 CE(S)T the day before — the official day-ahead price. Sequence 2 is the separate EXAA auction (Energy Exchange Austria) at 10:15 CE(S)T. They are two markets: never add or average them.`
        : `ENTSO-E publishes ${withData.length} price sequences for ${zone.code} (its classificationSequence positions). The document does not say which auction each one is; sequence 1 is normally the SDAC coupled auction.`,
    );
  }
  for (const s of withData) {
    const values = s.points.map((p) => p.value).filter((v): v is number => v !== null);
    const label = priceLabel(zone.code, s, withData.length);
    const mean = values.reduce((a, b) => a + b, 0) / values.length;
    const mtu = hourly(s) ? 'hourly prices' : '15-minute prices';
    notes.push(
      `${label}: ${mtu}; mean ${formatValue(mean, s.unit)}, lowest ${formatValue(Math.min(...values), s.unit)}, highest ${formatValue(Math.max(...values), s.unit)}.`,
    );
  }
  return notes;
}

function labelWithQualifier(base: string, s: Series, count: number, index: number): string {
  if (count === 1) return base;
  return `${base} (${s.qualifier ?? String(index + 1)})`;
}

/** Average of a line's values (for notes). */
export function averageOf(spec: ChartSpec, lineIndex: number): string {
  const values = (spec.lines[lineIndex]?.values ?? []).filter((v): v is number => v !== null);
  if (values.length === 0) return '–';
  return formatValue(values.reduce((a, b) => a + b, 0) / values.length, spec.unit);
}
