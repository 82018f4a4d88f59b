import type { ApiClient } from './api-client.ts';
import type { Zone } from './api-types.ts';
import type { ChartSpec } from './time-chart.ts';
import type { TimeRange } from './time-range.ts';
import type { CardKind } from './zone-data.ts';
import { carbonSpec, fetchCarbon, fetchSeries, generationSpec, loadSpec, priceNotes, priceSpec } from './zone-data.ts';

/** What a card shows after a load: a chart with notes, or nothing in the range (with the metric to look for). */
export type CardContent =
  | {
      readonly kind: 'chart';
      readonly spec: ChartSpec;
      readonly notes: readonly string[];
      /** Extra `data-*` attributes of the card (for tests and styles). */
      readonly data: Readonly<Record<string, string>>;
    }
  | {
      readonly kind: 'empty';
      /** The metric whose latest day with data the card offers to show. */
      readonly latestOf: string;
    };

export interface CardRequest {
  readonly client: ApiClient;
  readonly zone: Zone;
  readonly range: TimeRange;
  readonly signal: AbortSignal;
}

/** One chart card of the zone page: how it is titled, and what it loads and draws. */
export interface CardLoader {
  readonly title: string;
  readonly subtitle: string;
  /** What the card shows, in "No … data for XX" sentences. */
  readonly noun: string;
  /** Spans the full width of the grid. */
  readonly wide: boolean;
  /** Fetches the card's data for the zone and range and says what to draw. */
  readonly load: (request: CardRequest) => Promise<CardContent>;
}

function chart(spec: ChartSpec, notes: readonly string[] = [], data: Record<string, string> = {}): CardContent {
  return { kind: 'chart', spec, notes, data };
}

function empty(latestOf: string): CardContent {
  return { kind: 'empty', latestOf };
}

const generation: CardLoader = {
  title: 'Generation mix',
  subtitle: 'Actual generation per production type, stacked',
  noun: 'generation',
  wide: true,
  load: async ({ client, zone, range, signal }) => {
    const spec = generationSpec(zone, await fetchSeries(client, zone.code, 'generation_actual', range, signal));
    return spec === null ? empty('generation_actual') : chart(spec);
  },
};

const carbon: CardLoader = {
  title: 'Carbon intensity',
  subtitle: 'Production vs consumption basis, lifecycle emission factors',
  noun: 'carbon intensity',
  wide: false,
  load: async ({ client, zone, range, signal }) => {
    const has = (metric: string): boolean => zone.metrics.includes(metric);
    const [production, consumption] = await Promise.all([
      has('carbon_intensity_production') ? fetchCarbon(client, zone.code, 'production', range, signal) : null,
      has('carbon_intensity_consumption') ? fetchCarbon(client, zone.code, 'consumption', range, signal) : null,
    ]);
    const spec = carbonSpec(zone, production ?? { unit: 'gCO2eq/kWh', points: [] }, consumption);
    if (spec === null)
      return empty(has('carbon_intensity_production') ? 'carbon_intensity_production' : 'carbon_intensity_consumption');
    const notes: string[] = [];
    const hasConsumption = spec.lines.some((l) => l.label === 'Consumption-based');
    if (!hasConsumption) {
      notes.push(
        has('carbon_intensity_consumption')
          ? 'No consumption-based data in this range.'
          : `No consumption-based data for ${zone.code} (it needs the zone's cross-border flows and its neighbours' mixes).`,
      );
    }
    if (!spec.lines.some((l) => l.label === 'Production-based')) notes.push('No production-based data in this range.');
    return chart(spec, notes, { consumption: hasConsumption ? 'present' : 'missing' });
  },
};

const load: CardLoader = {
  title: 'Load',
  subtitle: 'Actual load and day-ahead forecast',
  noun: 'load',
  wide: false,
  load: async ({ client, zone, range, signal }) => {
    const has = (metric: string): boolean => zone.metrics.includes(metric);
    const [actual, forecast] = await Promise.all([
      has('load_actual') ? fetchSeries(client, zone.code, 'load_actual', range, signal) : [],
      has('load_forecast_day_ahead') ? fetchSeries(client, zone.code, 'load_forecast_day_ahead', range, signal) : [],
    ]);
    const spec = loadSpec(zone, actual, forecast);
    if (spec === null) return empty(has('load_actual') ? 'load_actual' : 'load_forecast_day_ahead');
    const notes: string[] = [];
    if (!has('load_actual')) notes.push(`No actual load data for ${zone.code}.`);
    if (!has('load_forecast_day_ahead')) notes.push(`No day-ahead load forecast for ${zone.code}.`);
    return chart(spec, notes);
  },
};

const price: CardLoader = {
  title: 'Day-ahead price',
  subtitle: 'All auction sequences',
  noun: 'day-ahead price',
  wide: false,
  load: async ({ client, zone, range, signal }) => {
    const series = await fetchSeries(client, zone.code, 'price_day_ahead', range, signal);
    const spec = priceSpec(zone, series);
    return spec === null ? empty('price_day_ahead') : chart(spec, priceNotes(zone, series));
  },
};

/** The zone page's chart cards, one entry each, in the order of {@link CARD_KINDS}. */
export const CARD_LOADERS: Readonly<Record<CardKind, CardLoader>> = { generation, carbon, load, price };
