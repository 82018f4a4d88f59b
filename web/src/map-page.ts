import type { DataClock } from './analyst-types.ts';
import { fetchClock } from './analyst-types.ts';
import { describeError, isAbort } from './api-client.ts';
import type { Zone } from './api-types.ts';
import { decodeCarbon, decodeSeriesList, decodeZones } from './api-types.ts';
import { clockText } from './clock-line.ts';
import { h, replace, uid } from './dom.ts';
import { formatDateTime, formatNumber } from './format.ts';
import type { DirectedFlow, NetFlow } from './map-data.ts';
import {
  SCALE_STOPS,
  SLOT_MS,
  atParam,
  intensityColor,
  mapLimited,
  netFlows,
  parseAt,
  slotEndingAt,
  slotOf,
  utcInputValue,
} from './map-data.ts';
import { FlowLayer } from './map-flows.ts';
import { MAP_COLUMNS, TILE_PLACES, placedZones } from './map-layout.ts';
import type { Page, PageContext } from './page-context.ts';
import { localDate } from './time-range.ts';

type Basis = 'production' | 'consumption';
const BASES: readonly Basis[] = ['production', 'consumption'];
const HOUR_MS = 3_600_000;
/** Requests in flight at once while the map loads (one per zone and kind). */
const CONCURRENCY = 6;
/** A map that follows the data clock reloads at most this often while new slots arrive. */
const LIVE_RELOAD_MS = 30_000;

/** Where the map's time comes from. */
type TimeSource = 'address' | 'clock' | 'latest-data';

interface MapData {
  readonly slot: number;
  readonly source: TimeSource;
  readonly intensities: ReadonlyMap<string, number | null>;
  readonly flows: readonly NetFlow[];
}

/**
 * `/map`: Europe's bidding zones as a schematic tile map ({@link TILE_PLACES}) coloured by carbon intensity
 * (production- or consumption-based) in one 15-minute slot, with the net physical flow over each border as an
 * arrow labelled in MW. The slot is `?at=` (UTC), else the one the data clock closes (`GET /api/v1/clock`), else —
 * on a server without a clock — the latest slot with carbon-intensity data. `?basis=consumption` switches the basis.
 * Each tile with data is a link to its zone page on that day.
 */
export class MapPage implements Page {
  readonly el: HTMLElement;
  readonly #ctx: PageContext;
  readonly #clockLine: HTMLElement;
  readonly #status: HTMLElement;
  readonly #map: HTMLElement;
  readonly #grid: HTMLElement;
  readonly #others: HTMLElement;
  readonly #flowList: HTMLElement;
  readonly #layer: FlowLayer;
  readonly #timeInput: HTMLInputElement;
  readonly #radios = new Map<Basis, HTMLInputElement>();
  #basis: Basis = 'production';
  #at: number | null = null;
  #shownSlot: number | null = null;
  #zones: Zone[] = [];
  #controller = new AbortController();
  #unsubscribe: () => void = () => undefined;
  #reloadTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(ctx: PageContext, params: URLSearchParams) {
    this.#ctx = ctx;
    document.title = 'Map · gridstream';
    const name = uid('basis');
    const radios = BASES.map((basis) => {
      const input = h('input', {
        attrs: { type: 'radio', name, value: basis },
        on: {
          change: () => {
            this.#basis = basis;
            this.#writeUrl();
            void this.#load();
          },
        },
      });
      this.#radios.set(basis, input);
      return h('label', { class: 'segment' }, [
        input,
        h('span', { text: basis === 'production' ? 'Production-based' : 'Consumption-based' }),
      ]);
    });
    const timeId = uid('map-time');
    this.#timeInput = h('input', { attrs: { type: 'datetime-local', id: timeId, name: 'at', step: 900 } });
    const step = (hours: number, text: string): HTMLElement =>
      h('button', {
        class: 'button button-secondary button-small',
        attrs: { type: 'button' },
        text,
        on: {
          click: () => {
            const base = this.#shownSlot ?? this.#at;
            if (base === null) return;
            this.#setAt(base + hours * HOUR_MS);
          },
        },
      });
    const timeForm = h(
      'form',
      {
        class: 'map-time',
        attrs: { 'aria-label': 'Time of the map' },
        on: {
          submit: (event) => {
            event.preventDefault();
            const at = parseAt(this.#timeInput.value);
            if (at !== null) this.#setAt(at);
          },
        },
      },
      [
        h('label', { attrs: { for: timeId }, text: 'Time (UTC)' }),
        this.#timeInput,
        h('button', { class: 'button button-small', attrs: { type: 'submit' }, text: 'Show' }),
        step(-1, '−1 h'),
        step(1, '+1 h'),
        h('button', {
          class: 'button button-secondary button-small',
          attrs: { type: 'button' },
          text: 'Data clock',
          on: {
            click: () => {
              this.#at = null;
              this.#writeUrl();
              void this.#load();
            },
          },
        }),
      ],
    );
    this.#clockLine = h('p', { class: 'data-clock', data: { clockMode: 'loading' }, text: 'Data clock: …' });
    this.#status = h('p', { class: 'map-status', attrs: { 'aria-live': 'polite' }, text: 'Loading the map…' });
    this.#grid = h('div', { class: 'tile-grid', attrs: { style: `--map-columns:${MAP_COLUMNS}` } });
    this.#others = h('div', { class: 'tile-others' });
    this.#map = h(
      'div',
      {
        class: 'zone-map',
        data: { state: 'loading' },
        attrs: { role: 'group', 'aria-label': 'Bidding zones by carbon intensity (tiles link to the zone pages)' },
      },
      [this.#grid, this.#others],
    );
    this.#layer = new FlowLayer(this.#map);
    this.#map.append(this.#layer.el);
    this.#flowList = h('div', { class: 'flow-list' });
    this.el = h('div', { class: 'map-page' }, [
      h('h1', { text: 'Carbon intensity and flows' }),
      h('div', { class: 'toolbar', attrs: { role: 'group', 'aria-label': 'Basis and time' } }, [
        h('fieldset', { class: 'segments' }, [h('legend', { text: 'Carbon intensity' }), ...radios]),
        timeForm,
      ]),
      this.#clockLine,
      this.#status,
      legend(),
      h('div', { class: 'map-scroll' }, [this.#map]),
      this.#flowList,
    ]);
    // Following the data clock: new slots move it, so reload (at most every 30 s). A chosen time stays put.
    this.#unsubscribe = ctx.live.onSlots(() => {
      if (this.#at !== null || this.#reloadTimer !== undefined) return;
      this.#reloadTimer = setTimeout(() => {
        this.#reloadTimer = undefined;
        if (this.#at === null) void this.#load();
      }, LIVE_RELOAD_MS);
    });
    this.applyParams(params);
  }

  applyParams(params: URLSearchParams): void {
    const basis = params.get('basis');
    this.#basis = basis === 'consumption' ? 'consumption' : 'production';
    this.#at = parseAt(params.get('at'));
    void this.#load();
  }

  destroy(): void {
    this.#controller.abort();
    this.#layer.destroy();
    this.#unsubscribe();
    clearTimeout(this.#reloadTimer);
  }

  #setAt(at: number): void {
    this.#at = slotOf(at);
    this.#writeUrl();
    void this.#load();
  }

  #writeUrl(): void {
    const params = new URLSearchParams();
    if (this.#basis !== 'production') params.set('basis', this.#basis);
    if (this.#at !== null) params.set('at', atParam(this.#at));
    const query = params.toString();
    window.history.replaceState(null, '', `/map${query === '' ? '' : `?${query}`}`);
  }

  async #load(): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const signal = controller.signal;
    for (const [basis, input] of this.#radios) input.checked = basis === this.#basis;
    this.#map.dataset['state'] = 'loading';
    this.#map.setAttribute('aria-busy', 'true');
    try {
      const client = this.#ctx.client;
      const [zones, clock] = await Promise.all([
        client.get('/api/v1/zones', {}, decodeZones, signal),
        fetchClock(client, signal),
      ]);
      this.#zones = zones;
      this.#showClock(clock);
      const data = await this.#fetch(zones, clock, signal);
      if (signal.aborted) return;
      this.#render(data);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#map.dataset['state'] = 'error';
      this.#map.setAttribute('aria-busy', 'false');
      this.#status.textContent = `The map could not be loaded: ${describeError(error)}`;
    }
  }

  #showClock(clock: DataClock | null): void {
    this.#clockLine.dataset['clockMode'] = clock?.mode ?? 'none';
    this.#clockLine.textContent = clockText(clock);
  }

  async #fetch(zones: readonly Zone[], clock: DataClock | null, signal: AbortSignal): Promise<MapData> {
    const metric = `carbon_intensity_${this.#basis}`;
    let slot: number;
    let source: TimeSource;
    if (this.#at !== null) {
      slot = slotOf(this.#at);
      source = 'address';
    } else if (clock !== null) {
      slot = slotEndingAt(clock.now);
      source = 'clock';
    } else {
      slot = latestCarbonSlot(zones, metric);
      source = 'latest-data';
    }
    this.#shownSlot = slot;
    this.#timeInput.value = utcInputValue(slot);
    const range = { from: new Date(slot).toISOString(), to: new Date(slot + SLOT_MS).toISOString() };
    const client = this.#ctx.client;
    const withCarbon = zones.filter((z) => z.metrics.includes(metric) && z.firstSlot <= slot && z.lastSlot >= slot);
    const withFlows = zones.filter(
      (z) => z.metrics.includes('flow_physical') && z.firstSlot <= slot && z.lastSlot >= slot,
    );
    const [values, flowLists] = await Promise.all([
      mapLimited(withCarbon, CONCURRENCY, async (z) => {
        const answer = await client.get(
          '/api/v1/carbon-intensity',
          { zone: z.code, basis: this.#basis, factors: 'lifecycle', ...range },
          decodeCarbon,
          signal,
        );
        return [z.code, answer.points.find((p) => p.value !== null)?.value ?? null] as const;
      }),
      mapLimited(withFlows, CONCURRENCY, async (z) => {
        const series = await client.get(
          '/api/v1/series',
          { zone: z.code, metric: 'flow_physical', ...range },
          decodeSeriesList,
          signal,
        );
        return series.flatMap((s): DirectedFlow[] => {
          const value = s.points.find((p) => p.value !== null)?.value;
          return s.counterpartZone === null || value === undefined || value === null
            ? []
            : [{ from: z.code, to: s.counterpartZone, mw: value }];
        });
      }),
    ]);
    return { slot, source, intensities: new Map(values), flows: netFlows(flowLists.flat()) };
  }

  #render(data: MapData): void {
    const zoneByCode = new Map(this.#zones.map((z) => [z.code, z]));
    const tiles = new Map<string, HTMLElement>();
    const placed = placedZones();
    const gridTiles = placed.map((code) => {
      const tile = this.#tile(code, zoneByCode.get(code), data);
      const place = TILE_PLACES[code];
      if (place !== undefined) tile.style.gridArea = `${place.row + 1} / ${place.col + 1}`;
      tiles.set(code, tile);
      return tile;
    });
    // Zones with data that the grid does not place, and flow ends that have neither.
    const extra = new Set<string>(this.#zones.map((z) => z.code).filter((c) => TILE_PLACES[c] === undefined));
    for (const f of data.flows) for (const c of [f.from, f.to]) if (TILE_PLACES[c] === undefined) extra.add(c);
    const otherTiles = [...extra].sort().map((code) => {
      const tile = this.#tile(code, zoneByCode.get(code), data);
      tiles.set(code, tile);
      return tile;
    });
    replace(this.#grid, gridTiles);
    replace(this.#others, otherTiles.length === 0 ? [] : [h('h2', { text: 'Other areas with data' }), ...otherTiles]);
    this.#layer.show(data.flows, tiles);

    const coloured = [...data.intensities.values()].filter((v) => v !== null).length;
    const when = `${formatDateTime(data.slot, 'UTC', false)}–${formatDateTime(data.slot + SLOT_MS, 'UTC').replace(/^.*, /, '')}`;
    const sourceText =
      data.source === 'address'
        ? 'the time chosen'
        : data.source === 'clock'
          ? 'the slot the data clock closes'
          : 'the latest slot with carbon-intensity data (this server has no data clock)';
    this.#status.textContent = `Showing ${when} (${sourceText}): ${coloured} zone${coloured === 1 ? '' : 's'} with ${this.#basis}-based carbon intensity, ${data.flows.length} border${data.flows.length === 1 ? '' : 's'} with physical flows.`;
    const latest = latestCarbonSlot(this.#zones, `carbon_intensity_${this.#basis}`);
    if (coloured === 0 && data.flows.length === 0 && latest !== data.slot && latest > 0) {
      // Nothing at this time (live data lags, or the demo's documents cover other days): offer the latest data.
      this.#status.append(
        ' ',
        h('button', {
          class: 'link-button',
          attrs: { type: 'button' },
          text: `Show the latest slot with ${this.#basis}-based intensity (${formatDateTime(latest, 'UTC')})`,
          on: {
            click: () => {
              this.#setAt(latest);
            },
          },
        }),
      );
    }
    Object.assign(this.#map.dataset, {
      state: 'ready',
      slot: new Date(data.slot).toISOString(),
      basis: this.#basis,
      coloured: String(coloured),
      flows: String(data.flows.length),
      arrows: String(this.#layer.drawn),
    });
    this.#map.setAttribute('aria-busy', 'false');
    this.#renderFlowList(data.flows);
  }

  #tile(code: string, zone: Zone | undefined, data: MapData): HTMLElement {
    const place = TILE_PLACES[code];
    const label = place?.label ?? code.replaceAll('_', '-');
    const value = data.intensities.get(code) ?? null;
    const name = zone?.name ?? code;
    const basisText = `${this.#basis}-based`;
    const children = [
      h('span', { class: 'tile-code', text: label }),
      value === null
        ? h('span', { class: 'tile-value tile-none', text: 'no data' })
        : h('span', { class: 'tile-value' }, [formatNumber(value), h('small', { text: ' g' })]),
    ];
    const dataset = {
      zone: code,
      value: value === null ? '' : String(value),
      state: value === null ? 'nodata' : 'value',
    };
    const description =
      value === null
        ? `${name} (${code}): no ${basisText} carbon intensity at this time`
        : `${name} (${code}): ${formatNumber(value)} gCO2eq/kWh, ${basisText}`;
    const style = value === null ? '' : `background:${intensityColor(value).fill};color:${intensityColor(value).text}`;
    if (zone === undefined) {
      // No data stored for this zone at all: nothing to open.
      return h(
        'div',
        { class: 'tile tile-nodata tile-unknown', data: dataset, attrs: { title: description } },
        children,
      );
    }
    const day = localDate(data.slot, zone.timeZone);
    return h(
      'a',
      {
        class: value === null ? 'tile tile-nodata' : 'tile',
        data: dataset,
        attrs: {
          href: `/?zone=${encodeURIComponent(code)}&from=${day}&to=${day}`,
          'data-nav': true,
          'aria-label': `${description}. Open the zone page.`,
          title: description,
          style: style === '' ? undefined : style,
        },
      },
      children,
    );
  }

  #renderFlowList(flows: readonly NetFlow[]): void {
    if (flows.length === 0) {
      replace(this.#flowList, [
        h('h2', { text: 'Physical flows' }),
        h('p', { class: 'note', text: 'No physical flows are stored for this slot.' }),
      ]);
      return;
    }
    const name = (code: string): string => this.#zones.find((z) => z.code === code)?.name ?? code;
    replace(this.#flowList, [
      h('h2', { text: 'Physical flows (net per border)' }),
      h(
        'ul',
        { class: 'flow-items' },
        flows.map((f) => {
          const gross =
            f.gross.length > 1
              ? ` (${f.gross.map((g) => `${g.from} → ${g.to} ${formatNumber(g.mw)} MW`).join(', ')})`
              : '';
          return h('li', { data: { flow: `${f.from}>${f.to}`, mw: String(f.mw) } }, [
            h('strong', { text: `${f.from} → ${f.to}: ${formatNumber(f.mw)} MW` }),
            ` — ${name(f.from)} exports to ${name(f.to)}${gross}`,
          ]);
        }),
      ),
    ]);
  }
}

/** The latest slot with `metric` (else any carbon intensity, else any data) among the zones' coverage. */
function latestCarbonSlot(zones: readonly Zone[], metric: string): number {
  const carbon = zones.filter((z) => z.metrics.includes(metric));
  const pool = carbon.length > 0 ? carbon : zones.filter((z) => z.metrics.some((m) => m.startsWith('carbon_')));
  return Math.max(0, ...(pool.length > 0 ? pool : zones).map((z) => z.lastSlot));
}

/** The colour scale with its values written out, the no-data swatch and what an arrow means. */
function legend(): HTMLElement {
  const stops = SCALE_STOPS;
  const last = stops[stops.length - 1]?.value ?? 800;
  const gradient = stops.map((s) => `${s.color} ${((s.value / last) * 100).toFixed(1)}%`).join(', ');
  return h('div', { class: 'map-legend', attrs: { role: 'group', 'aria-label': 'Legend' } }, [
    h('div', { class: 'legend-scale' }, [
      h('span', { class: 'legend-title', text: 'gCO2eq/kWh' }),
      h('div', { class: 'legend-bar', attrs: { style: `background:linear-gradient(to right, ${gradient})` } }),
      h(
        'div',
        { class: 'legend-ticks' },
        stops.map((s, i) =>
          h('span', {
            text: i === stops.length - 1 ? `${s.value}+` : String(s.value),
            attrs: { style: `left:${((s.value / last) * 100).toFixed(1)}%` },
          }),
        ),
      ),
    ]),
    h('span', { class: 'legend-item' }, [h('span', { class: 'legend-swatch legend-nodata' }), 'no data (not zero)']),
    h('span', { class: 'legend-item' }, [
      h('span', { class: 'legend-arrow', text: '→', attrs: { 'aria-hidden': 'true' } }),
      'net physical flow, MW, exporter → importer',
    ]),
  ]);
}
