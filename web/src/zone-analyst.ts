import type { DataClock } from './analyst-types.ts';
import { decodeBestWindows, decodeForecast, fetchClock, getOptional } from './analyst-types.ts';
import type { ApiClient } from './api-client.ts';
import { describeError, isAbort } from './api-client.ts';
import type { CarbonIntensity, Zone } from './api-types.ts';
import { ChartCard } from './chart-card.ts';
import { clockText } from './clock-line.ts';
import { h, replace, uid } from './dom.ts';
import { formatDateTime, formatValue } from './format.ts';
import type { TimeRange } from './time-range.ts';
import { fetchCarbon } from './zone-data.ts';
import { fetchNeighbourFlows, flowsSpec, flowsTable } from './zone-flows.ts';
import {
  forecastMethods,
  forecastSpec,
  importEffect,
  summary,
  unavailableText,
  windowList,
  windowRangeText,
} from './zone-outlook.ts';

const FORECAST_PATH = '/api/v1/carbon-intensity/forecast';
const BEST_WINDOW_PATH = '/api/v1/carbon-aware/best-window';
/** The job length the zone page asks the best window for. */
const WINDOW_DURATION = 'PT2H';

/** A titled panel that is not a chart (`data-card`, `data-state`). */
function panel(
  name: string,
  title: string,
  subtitle: string | null,
  badge?: string,
): { el: HTMLElement; body: HTMLElement } {
  const id = uid('panel-title');
  const body = h('div', { class: 'card-body' }, [h('div', { class: 'placeholder', text: 'Loading…' })]);
  const el = h('section', { class: 'card', attrs: { 'aria-labelledby': id }, data: { card: name, state: 'loading' } }, [
    h('header', { class: 'card-header' }, [
      h('h2', { attrs: { id } }, [
        title,
        badge === undefined ? null : h('span', { class: 'forecast-badge', text: badge }),
      ]),
      subtitle === null ? null : h('p', { class: 'card-subtitle', text: subtitle }),
    ]),
    body,
  ]);
  return { el, body };
}

/**
 * The analyst part of the zone page: production- and consumption-based intensity side by side, the physical flows
 * by neighbour, the carbon-intensity forecast and the best time to run a 2-hour job in the next day — the last two
 * by the data clock (shown: demo or live), and stated as not available where the server has no such endpoint yet.
 */
export class ZoneAnalyst {
  readonly el: HTMLElement;
  readonly #client: ApiClient;
  readonly #clockLine: HTMLElement;
  readonly #grid: HTMLElement;
  #compare = panel('intensity-compare', 'Carbon intensity side by side', 'Mean and latest in the range shown');
  #flows = new ChartCard('flows', 'Imports and exports by neighbour', {
    wide: true,
    subtitle: 'Net physical flow per border (positive: into the zone), and each direction’s mean',
  });
  #flowTable: HTMLElement = h('div', { class: 'flow-table-host' });
  #forecast = new ChartCard('forecast', 'Carbon-intensity forecast', { subtitle: 'Next 24 h from the data clock' });
  #window = panel(
    'best-window',
    'Best time for a 2-hour job',
    'In the next 24 h from the data clock, lowest mean intensity',
  );

  constructor(client: ApiClient) {
    this.#client = client;
    this.#clockLine = h('p', { class: 'data-clock', data: { clockMode: 'loading' }, text: 'Data clock: …' });
    this.#grid = h('div', { class: 'cards' });
    this.el = h('section', { class: 'analyst-section', attrs: { 'aria-label': 'Flows and outlook' } }, [
      h('h2', { text: 'Flows and outlook' }),
      this.#clockLine,
      this.#grid,
    ]);
    this.rebuild();
  }

  /** New, empty panels (another zone). */
  rebuild(): void {
    this.#flows.destroy();
    this.#forecast.destroy();
    this.#compare = panel('intensity-compare', 'Carbon intensity side by side', 'Mean and latest in the range shown');
    this.#flows = new ChartCard('flows', 'Imports and exports by neighbour', {
      wide: true,
      subtitle: 'Net physical flow per border (positive: into the zone), and each direction’s mean',
    });
    this.#flowTable = h('div', { class: 'flow-table-host' });
    this.#flows.el.append(this.#flowTable);
    this.#forecast = new ChartCard('forecast', 'Carbon-intensity forecast', {
      subtitle: 'Next 24 h from the data clock',
    });
    const badge = h('span', { class: 'forecast-badge', text: 'Forecast' });
    this.#forecast.el.querySelector('h2')?.append(badge);
    this.#window = panel(
      'best-window',
      'Best time for a 2-hour job',
      'In the next 24 h from the data clock, lowest mean intensity',
    );
    replace(this.#grid, [this.#compare.el, this.#forecast.el, this.#window.el, this.#flows.el]);
  }

  destroy(): void {
    this.#flows.destroy();
    this.#forecast.destroy();
  }

  redraw(): void {
    this.#flows.redraw();
    this.#forecast.redraw();
  }

  /** Loads every panel for the zone and range; each says for itself what went wrong. */
  async load(zone: Zone, zones: readonly Zone[], range: TimeRange, signal: AbortSignal): Promise<void> {
    const clock = fetchClock(this.#client, signal).catch((): DataClock | null => null);
    await Promise.all([
      clock.then((c) => {
        if (signal.aborted) return;
        this.#clockLine.dataset['clockMode'] = c?.mode ?? 'none';
        this.#clockLine.textContent = clockText(c);
      }),
      this.#guard(
        signal,
        (m) => {
          setPanel(this.#compare, 'error', [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: m })]);
        },
        () => this.#loadCompare(zone, range, signal),
      ),
      this.#guard(
        signal,
        (m) => {
          this.#flows.setError(m);
        },
        () => this.#loadFlows(zone, zones, range, signal),
      ),
      this.#guard(
        signal,
        (m) => {
          this.#forecast.setError(m);
        },
        () => this.#loadForecast(zone, clock, signal),
      ),
      this.#guard(
        signal,
        (m) => {
          setPanel(this.#window, 'error', [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: m })]);
        },
        () => this.#loadWindow(zone, clock, signal),
      ),
    ]);
  }

  async #guard(signal: AbortSignal, onError: (message: string) => void, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      onError(describeError(error));
    }
  }

  async #loadCompare(zone: Zone, range: TimeRange, signal: AbortSignal): Promise<void> {
    const has = (m: string): boolean => zone.metrics.includes(m);
    const empty: CarbonIntensity = { unit: 'gCO2eq/kWh', points: [] };
    const [production, consumption] = await Promise.all([
      has('carbon_intensity_production') ? fetchCarbon(this.#client, zone.code, 'production', range, signal) : empty,
      has('carbon_intensity_consumption') ? fetchCarbon(this.#client, zone.code, 'consumption', range, signal) : empty,
    ]);
    if (signal.aborted) return;
    const stat = (basis: 'production' | 'consumption', points: CarbonIntensity['points'], why: string): HTMLElement => {
      const s = summary(points);
      return h('div', { class: 'stat', data: { basis, value: s.mean === null ? '' : String(s.mean) } }, [
        h('h3', { text: basis === 'production' ? 'Production-based' : 'Consumption-based' }),
        h('div', { class: 'stat-value', text: s.mean === null ? 'no data' : formatValue(s.mean, 'gCO2eq/kWh') }),
        h('p', {
          text:
            s.latest === null
              ? why
              : `mean of ${s.count} values; latest ${formatValue(s.latest.value, 'gCO2eq/kWh')} at ${formatDateTime(s.latest.ts, zone.timeZone)}`,
        }),
      ]);
    };
    const effect = importEffect(production.points, consumption.points);
    const noProduction = has('carbon_intensity_production')
      ? 'No production-based values in this range.'
      : `No production-based data for ${zone.code} (it needs the zone’s generation per type).`;
    const noConsumption = has('carbon_intensity_consumption')
      ? 'No consumption-based values in this range.'
      : `No consumption-based data for ${zone.code} (it needs the zone’s cross-border flows and its neighbours’ mixes at the same time).`;
    const state = summary(production.points).count + summary(consumption.points).count === 0 ? 'empty' : 'ready';
    setPanel(this.#compare, state, [
      h('div', { class: 'side-by-side' }, [
        stat('production', production.points, noProduction),
        stat('consumption', consumption.points, noConsumption),
      ]),
      h('p', {
        class: 'note',
        text:
          effect === null
            ? 'Production-based: what the zone generates. Consumption-based: what it uses, with its imports traced to where they were generated.'
            : `Imports ${effect >= 0 ? 'raise' : 'lower'} the intensity of what ${zone.code} uses by ${formatValue(Math.abs(effect), 'gCO2eq/kWh')} on average (where both are known).`,
      }),
    ]);
  }

  async #loadFlows(zone: Zone, zones: readonly Zone[], range: TimeRange, signal: AbortSignal): Promise<void> {
    const flows = await fetchNeighbourFlows(this.#client, zone, zones, range, signal);
    if (signal.aborted) return;
    const spec = flowsSpec(zone, flows);
    if (spec === null) {
      this.#flows.setEmpty(`No physical flows to or from ${zone.code} are stored in this range.`);
      replace(this.#flowTable, []);
      this.#flows.el.dataset['neighbours'] = '0';
      return;
    }
    this.#flows.el.dataset['neighbours'] = String(flows.length);
    this.#flows.setChart(spec, [
      'Each border as ENTSO-E publishes it: a direction not published is shown as such, not as zero.',
    ]);
    replace(this.#flowTable, [flowsTable(zone, flows)]);
  }

  async #loadForecast(zone: Zone, clock: Promise<DataClock | null>, signal: AbortSignal): Promise<void> {
    const answer = await getOptional(this.#client, FORECAST_PATH, { zone: zone.code }, decodeForecast, signal);
    if (signal.aborted) return;
    this.#forecast.el.dataset['availability'] = answer.kind;
    if (answer.kind !== 'ok') {
      this.#forecast.setEmpty(unavailableText('The forecast', FORECAST_PATH, answer), [], true);
      return;
    }
    const forecast = answer.value;
    const spec = forecastSpec(zone.name, zone.timeZone, forecast);
    this.#forecast.el.dataset['slots'] = String(forecast.slots.length);
    if (spec === null) {
      this.#forecast.setEmpty(`The forecast for ${zone.code} has no values.`);
      return;
    }
    const c = forecast.clock ?? (await clock);
    const made = forecast.madeAt ?? c?.now ?? null;
    this.#forecast.setChart(spec, [
      `A forecast, not measured values: made at ${made === null ? 'an unstated time' : formatDateTime(made, zone.timeZone)} by the ${c === null ? 'server’s' : c.mode === 'demo' ? 'demo data' : 'live'} clock.`,
      ...forecastMethods(forecast),
    ]);
  }

  async #loadWindow(zone: Zone, clock: Promise<DataClock | null>, signal: AbortSignal): Promise<void> {
    const answer = await getOptional(
      this.#client,
      BEST_WINDOW_PATH,
      { zones: zone.code, duration: WINDOW_DURATION },
      decodeBestWindows,
      signal,
    );
    if (signal.aborted) return;
    this.#window.el.dataset['availability'] = answer.kind;
    if (answer.kind !== 'ok') {
      setPanel(this.#window, 'empty', [
        h('div', { class: 'empty empty-absent' }, [
          h('p', { text: unavailableText('The best-window advice', BEST_WINDOW_PATH, answer) }),
        ]),
      ]);
      return;
    }
    const list = windowList(zone.code, zone.timeZone, answer.value);
    const range = windowRangeText(answer.value, zone.timeZone, await clock);
    this.#window.el.dataset['windows'] = String(
      answer.value.zones.find((z) => z.zone === zone.code)?.windows.length ?? 0,
    );
    setPanel(this.#window, list === null ? 'empty' : 'ready', [
      list ?? h('div', { class: 'empty' }, [h('p', { text: `No window found for ${zone.code}.` })]),
      h('p', { class: 'note', text: `Searched: ${range}` }),
    ]);
  }
}

function setPanel(p: { el: HTMLElement; body: HTMLElement }, state: string, children: readonly (Node | null)[]): void {
  p.el.dataset['state'] = state;
  replace(p.body, children);
}
