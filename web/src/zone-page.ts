import { describeError, isAbort } from './api-client.ts';
import type { SlotEvent, Zone } from './api-types.ts';
import { decodeZones } from './api-types.ts';
import { ChartCard } from './chart-card.ts';
import { CompletenessBadge } from './completeness-badge.ts';
import type { PageContext } from './page-context.ts';
import { h, replace, uid } from './dom.ts';
import { formatClock, formatDate, formatDateTime, formatValue, metricLabel } from './format.ts';
import { MixPanel } from './mix-panel.ts';
import { productionType } from './production-types.ts';
import type { RangeChoice, TimeRange } from './time-range.ts';
import {
  PRESETS,
  PRESET_DAYS,
  addDays,
  customRange,
  isIsoDate,
  isPreset,
  localDate,
  presetRange,
} from './time-range.ts';
import type { CardKind } from './zone-data.ts';
import {
  CARD_KINDS,
  CARD_METRICS,
  carbonSpec,
  cardOf,
  fetchCarbon,
  fetchCompleteness,
  fetchMix,
  fetchSeries,
  generationSpec,
  hasAny,
  latestDataDay,
  loadSpec,
  priceSpec,
} from './zone-data.ts';

const LAST_ZONE_KEY = 'gridstream.zone';
/** Live updates are applied this long after the last event of a burst… */
const REFRESH_DEBOUNCE_MS = 1_000;
/** …but no later than this after the first one. */
const REFRESH_MAX_WAIT_MS = 4_000;

const CARD_TITLES: Readonly<Record<CardKind, string>> = {
  generation: 'Generation mix',
  carbon: 'Carbon intensity',
  load: 'Load',
  price: 'Day-ahead price',
};
const CARD_SUBTITLES: Readonly<Record<CardKind, string>> = {
  generation: 'Actual generation per production type, stacked',
  carbon: 'Production vs consumption basis, lifecycle emission factors',
  load: 'Actual load and day-ahead forecast',
  price: 'All auction sequences',
};
const CARD_NOUNS: Readonly<Record<CardKind, string>> = {
  generation: 'generation',
  carbon: 'carbon intensity',
  load: 'load',
  price: 'day-ahead price',
};

function choiceFrom(params: URLSearchParams): RangeChoice {
  const from = params.get('from');
  const to = params.get('to');
  if (from !== null && to !== null && isIsoDate(from) && isIsoDate(to)) {
    return from <= to ? { kind: 'custom', from, to } : { kind: 'custom', from: to, to: from };
  }
  const range = params.get('range');
  return { kind: 'preset', preset: range !== null && isPreset(range) ? range : '1d' };
}

function readLastZone(): string | null {
  try {
    return window.localStorage.getItem(LAST_ZONE_KEY);
  } catch {
    return null;
  }
}

/**
 * The main page: pick a zone, a range (1/3/7 days ending at the zone's latest data, or custom dates), and see its
 * generation mix, carbon intensity, load and day-ahead price, the latest mix and the data completeness — kept up
 * to date by the live stream without reload.
 */
export class ZonePage {
  readonly el: HTMLElement;
  readonly #ctx: PageContext;
  readonly #zoneSelect: HTMLSelectElement;
  readonly #rangeInputs = new Map<string, HTMLInputElement>();
  readonly #customForm: HTMLFormElement;
  readonly #fromInput: HTMLInputElement;
  readonly #toInput: HTMLInputElement;
  readonly #title: HTMLElement;
  readonly #meta: HTMLElement;
  readonly #rangeLabel: HTMLElement;
  readonly #lastUpdate: HTMLElement;
  readonly #completeness = new CompletenessBadge();
  readonly #cardsHost: HTMLElement;
  readonly #unsubscribe: (() => void)[] = [];
  #cards = new Map<CardKind, ChartCard>();
  #mix = new MixPanel();
  #zones: Zone[] = [];
  #zoneCode: string | null = null;
  #choice: RangeChoice;
  #anchor: number | null = null;
  #range: TimeRange | null = null;
  #controller = new AbortController();
  #liveEvents = 0;
  #lastEvent: { readonly event: SlotEvent; readonly receivedAt: number } | undefined;
  #pending = new Set<CardKind>();
  #pendingMix = false;
  #pendingAnchor: number | null = null;
  #debounce: ReturnType<typeof setTimeout> | undefined;
  #maxWait: ReturnType<typeof setTimeout> | undefined;
  #zonesReload: ReturnType<typeof setTimeout> | undefined;
  #destroyed = false;

  constructor(ctx: PageContext, params: URLSearchParams) {
    this.#ctx = ctx;
    this.#choice = choiceFrom(params);
    const zoneId = uid('zone');
    this.#zoneSelect = h('select', {
      attrs: { id: zoneId, name: 'zone' },
      on: {
        change: () => {
          this.#selectZone(this.#zoneSelect.value, { push: true });
        },
      },
    });
    const rangeName = uid('range');
    const radios = [
      ...PRESETS.map((p) => ({ value: p, label: `${PRESET_DAYS[p]} day${PRESET_DAYS[p] === 1 ? '' : 's'}` })),
      { value: 'custom', label: 'Custom' },
    ].map(({ value, label }) => {
      const input = h('input', {
        attrs: { type: 'radio', name: rangeName, value },
        on: {
          change: () => {
            this.#onRangeRadio(value);
          },
        },
      });
      this.#rangeInputs.set(value, input);
      return h('label', { class: 'segment' }, [input, h('span', { text: label })]);
    });
    const fromId = uid('from');
    const toId = uid('to');
    this.#fromInput = h('input', { attrs: { type: 'date', id: fromId, name: 'from', required: true } });
    this.#toInput = h('input', { attrs: { type: 'date', id: toId, name: 'to', required: true } });
    this.#customForm = h(
      'form',
      {
        class: 'custom-range',
        attrs: { hidden: true, 'aria-label': 'Custom range' },
        on: {
          submit: (event) => {
            event.preventDefault();
            this.#applyCustom();
          },
        },
      },
      [
        h('label', { attrs: { for: fromId }, text: 'From' }),
        this.#fromInput,
        h('label', { attrs: { for: toId }, text: 'To' }),
        this.#toInput,
        h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Apply' }),
      ],
    );
    this.#title = h('h1', { class: 'zone-title', text: 'Loading zones…' });
    this.#meta = h('p', { class: 'zone-meta' });
    this.#rangeLabel = h('p', { class: 'range-label', data: { range: '' } });
    this.#lastUpdate = h('p', {
      class: 'last-update',
      attrs: { role: 'status' },
      data: { events: 0, lastSlot: '', lastMetric: '' },
      text: 'Waiting for live data…',
    });
    this.#cardsHost = h('div', { class: 'cards' });
    this.el = h('div', { class: 'zone-page' }, [
      h('div', { class: 'toolbar', attrs: { role: 'group', 'aria-label': 'Zone and time range' } }, [
        h('div', { class: 'field' }, [h('label', { attrs: { for: zoneId }, text: 'Zone' }), this.#zoneSelect]),
        h('fieldset', { class: 'segments' }, [h('legend', { text: 'Range' }), ...radios]),
        this.#customForm,
      ]),
      h('div', { class: 'zone-header' }, [
        this.#title,
        this.#meta,
        h('div', { class: 'zone-status' }, [this.#completeness.el, this.#lastUpdate]),
        this.#rangeLabel,
      ]),
      this.#cardsHost,
    ]);
    this.#buildCards();
    this.#syncRangeControls();
    this.#unsubscribe.push(
      ctx.live.onSlots((events) => {
        this.#onSlots(events);
      }),
      ctx.live.onResume(() => {
        this.#scheduleRefresh(new Set(CARD_KINDS), true);
      }),
    );
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const onScheme = (): void => {
      for (const card of this.#cards.values()) card.redraw();
    };
    scheme.addEventListener('change', onScheme);
    this.#unsubscribe.push(() => {
      scheme.removeEventListener('change', onScheme);
    });
    void this.#init(params.get('zone'));
  }

  /** The address changed (back/forward): follow it. */
  applyParams(params: URLSearchParams): void {
    this.#choice = choiceFrom(params);
    this.#syncRangeControls();
    const zone = params.get('zone');
    if (zone !== null && zone !== this.#zoneCode) this.#selectZone(zone, { push: false });
    else void this.#loadAll(true);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#controller.abort();
    for (const off of this.#unsubscribe) off();
    clearTimeout(this.#debounce);
    clearTimeout(this.#maxWait);
    clearTimeout(this.#zonesReload);
    for (const card of this.#cards.values()) card.destroy();
  }

  async #init(requested: string | null): Promise<void> {
    try {
      await this.#loadZones();
    } catch (error) {
      if (isAbort(error) || this.#destroyed) return;
      this.#title.textContent = 'Zones could not be loaded';
      replace(this.#cardsHost, [
        h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeError(error) }),
      ]);
      return;
    }
    const known = (code: string | null): code is string => code !== null && this.#zones.some((z) => z.code === code);
    const code =
      requested ??
      (known(readLastZone()) ? readLastZone() : null) ??
      this.#zones.find((z) => z.metrics.includes('generation_actual'))?.code ??
      this.#zones[0]?.code ??
      null;
    if (code === null) {
      this.#title.textContent = 'No data yet';
      this.#meta.textContent =
        'No zone has stored data yet. The charts appear as soon as the first documents are processed.';
      this.#showWaiting(null);
      return;
    }
    this.#selectZone(code, { push: false, replace: requested === null });
  }

  async #loadZones(): Promise<void> {
    this.#zones = await this.#ctx.client.get('/api/v1/zones', {}, decodeZones, this.#controller.signal);
    this.#fillZoneSelect();
  }

  #fillZoneSelect(): void {
    const options = this.#zones.map((z) => h('option', { attrs: { value: z.code }, text: `${z.code} — ${z.name}` }));
    if (this.#zoneCode !== null && !this.#zones.some((z) => z.code === this.#zoneCode)) {
      options.unshift(h('option', { attrs: { value: this.#zoneCode }, text: `${this.#zoneCode} (no data yet)` }));
    }
    replace(this.#zoneSelect, options);
    this.#zoneSelect.dataset['zones'] = String(this.#zones.length);
    if (this.#zoneCode !== null) this.#zoneSelect.value = this.#zoneCode;
  }

  get #zone(): Zone | undefined {
    return this.#zones.find((z) => z.code === this.#zoneCode);
  }

  #selectZone(code: string, options: { push: boolean; replace?: boolean }): void {
    const changed = code !== this.#zoneCode;
    this.#zoneCode = code;
    try {
      window.localStorage.setItem(LAST_ZONE_KEY, code);
    } catch {
      // storage disabled
    }
    if (changed) {
      this.#anchor = null;
      this.#liveEvents = 0;
      this.#lastEvent = undefined;
      this.#lastUpdate.dataset['events'] = '0';
      this.#lastUpdate.dataset['lastSlot'] = '';
      this.#lastUpdate.dataset['lastMetric'] = '';
      this.#lastUpdate.textContent = 'Waiting for live data…';
    }
    this.#fillZoneSelect();
    if (options.push || options.replace === true) this.#writeUrl(options.push ? 'push' : 'replace');
    void this.#loadAll(true);
  }

  #writeUrl(mode: 'push' | 'replace'): void {
    const params = new URLSearchParams();
    if (this.#zoneCode !== null) params.set('zone', this.#zoneCode);
    if (this.#choice.kind === 'preset') params.set('range', this.#choice.preset);
    else {
      params.set('from', this.#choice.from);
      params.set('to', this.#choice.to);
    }
    const url = `/?${params.toString()}`;
    if (mode === 'push') window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  }

  #syncRangeControls(): void {
    const key = this.#choice.kind === 'preset' ? this.#choice.preset : 'custom';
    const input = this.#rangeInputs.get(key);
    if (input !== undefined) input.checked = true;
    this.#customForm.hidden = this.#choice.kind !== 'custom';
    if (this.#choice.kind === 'custom') {
      this.#fromInput.value = this.#choice.from;
      this.#toInput.value = this.#choice.to;
    }
  }

  #onRangeRadio(value: string): void {
    if (isPreset(value)) {
      this.#choice = { kind: 'preset', preset: value };
      this.#syncRangeControls();
      this.#writeUrl('replace');
      void this.#loadAll(false);
      return;
    }
    // Custom: start from the range shown, let the user edit and apply.
    const zone = this.#zone;
    const range = this.#range;
    if (zone !== undefined && range !== null) {
      this.#fromInput.value = localDate(range.from, zone.timeZone);
      this.#toInput.value = localDate(range.to - 1, zone.timeZone);
    }
    this.#customForm.hidden = false;
    this.#fromInput.focus();
  }

  #applyCustom(): void {
    const from = this.#fromInput.value;
    const to = this.#toInput.value;
    if (!isIsoDate(from) || !isIsoDate(to)) return;
    this.#choice = from <= to ? { kind: 'custom', from, to } : { kind: 'custom', from: to, to: from };
    this.#syncRangeControls();
    this.#writeUrl('replace');
    void this.#loadAll(false);
  }

  #showRange(zone: Zone, range: TimeRange): void {
    const resolution = { PT15M: '15-minute values', PT1H: 'hourly averages', P1D: 'daily averages' }[range.resolution];
    this.#rangeLabel.textContent = `Showing ${formatDateTime(range.from, zone.timeZone, false)} – ${formatDateTime(range.to, zone.timeZone)} (${resolution})`;
    this.#rangeLabel.dataset['range'] = `${new Date(range.from).toISOString()}/${new Date(range.to).toISOString()}`;
    this.#fromInput.min = localDate(zone.firstSlot, zone.timeZone);
    this.#toInput.max = localDate(zone.lastSlot, zone.timeZone);
  }

  #showZoneHeader(zone: Zone): void {
    this.#title.replaceChildren(zone.name, ' ', h('span', { class: 'zone-code', text: zone.code }));
    const metrics = zone.metrics.map(metricLabel).join(', ');
    this.#meta.textContent = `${zone.timeZone} · data from ${formatDate(zone.firstSlot, zone.timeZone)} to ${formatDate(zone.lastSlot, zone.timeZone)} · ${metrics}`;
    document.title = `${zone.code} · gridstream`;
    // An update that arrived before the zone was known was shown in UTC.
    const last = this.#lastEvent;
    if (last !== undefined && last.event.zone === zone.code) this.#showLastUpdate(last.event, last.receivedAt, false);
  }

  #showWaiting(code: string | null): void {
    this.#title.textContent = code === null ? 'No data yet' : `${code}: no data yet`;
    this.#meta.textContent =
      code === null
        ? 'No zone has stored data yet; this page fills in as soon as data arrives.'
        : `There is no data for ${code} yet (or this key may not read it). This page fills in as soon as data arrives.`;
    this.#rangeLabel.textContent = '';
    this.#buildCards();
    for (const card of this.#cards.values()) card.setEmpty('Waiting for data…');
    this.#mix.setEmpty('Waiting for data…');
  }

  #buildCards(): void {
    for (const card of this.#cards.values()) card.destroy();
    this.#cards = new Map(
      CARD_KINDS.map((k) => [
        k,
        new ChartCard(k, CARD_TITLES[k], { wide: k === 'generation', subtitle: CARD_SUBTITLES[k] }),
      ]),
    );
    this.#mix = new MixPanel();
    const card = (k: CardKind): HTMLElement | null => this.#cards.get(k)?.el ?? null;
    replace(this.#cardsHost, [card('generation'), this.#mix.el, card('carbon'), card('load'), card('price')]);
  }

  /** Loads everything for the zone and range; `fresh` drops what is shown first (another zone). */
  async #loadAll(fresh: boolean): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const signal = controller.signal;
    const zone = this.#zone;
    if (zone === undefined) {
      if (this.#zoneCode !== null) this.#showWaiting(this.#zoneCode);
      return;
    }
    if (fresh) this.#buildCards();
    this.#showZoneHeader(zone);
    for (const card of this.#cards.values()) card.setLoading();
    this.#mix.setLoading();
    this.#completeness.setLoading();
    try {
      const mixPromise = zone.metrics.includes('generation_actual')
        ? fetchMix(this.#ctx.client, zone.code, signal)
        : Promise.resolve(null);
      if (this.#choice.kind === 'preset') {
        // Presets end at the zone's latest generation (its charts' main subject), else its latest data of any kind.
        const mix = this.#anchor === null ? await mixPromise.catch(() => null) : null;
        this.#anchor = Math.max(this.#anchor ?? mix?.slot ?? zone.lastSlot, mix?.slot ?? 0);
        this.#range = presetRange(this.#anchor, this.#choice.preset);
      } else {
        this.#range = customRange(this.#choice.from, this.#choice.to, zone.timeZone);
      }
      const range = this.#range;
      this.#showRange(zone, range);
      await Promise.all([
        ...CARD_KINDS.map((k) => this.#loadCard(k, zone, range, signal)),
        this.#loadMix(zone, mixPromise, signal),
        this.#loadCompleteness(zone, range, signal),
      ]);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#ctx.notify(describeError(error), 'error');
    }
  }

  async #loadMix(
    zone: Zone,
    mixPromise: Promise<Awaited<ReturnType<typeof fetchMix>>>,
    signal: AbortSignal,
  ): Promise<void> {
    if (!zone.metrics.includes('generation_actual')) {
      this.#mix.setEmpty(`No generation data for ${zone.code}.`, true);
      return;
    }
    try {
      const mix = await mixPromise;
      if (signal.aborted) return;
      if (mix === null) this.#mix.setEmpty('No complete generation slot yet.');
      else this.#mix.setMix(zone, mix);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#mix.setError(describeError(error));
    }
  }

  async #loadCompleteness(zone: Zone, range: TimeRange, signal: AbortSignal): Promise<void> {
    try {
      const days = await fetchCompleteness(this.#ctx.client, zone.code, range, signal);
      if (signal.aborted) return;
      this.#completeness.set(
        days,
        CARD_KINDS.flatMap((k) => [...CARD_METRICS[k]]),
      );
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#completeness.setError(describeError(error));
    }
  }

  async #loadCard(kind: CardKind, zone: Zone, range: TimeRange, signal: AbortSignal): Promise<void> {
    const card = this.#cards.get(kind);
    if (card === undefined) return;
    if (!hasAny(zone, kind)) {
      card.setEmpty(`No ${CARD_NOUNS[kind]} data for ${zone.code}.`, [], true);
      return;
    }
    const client = this.#ctx.client;
    const has = (metric: string): boolean => zone.metrics.includes(metric);
    try {
      switch (kind) {
        case 'generation': {
          const spec = generationSpec(zone, await fetchSeries(client, zone.code, 'generation_actual', range, signal));
          if (signal.aborted) return;
          if (spec === null) this.#empty(card, kind, zone, range, 'generation_actual', signal);
          else {
            card.setChart(spec);
            this.#markFirstData();
          }
          return;
        }
        case 'carbon': {
          const [production, consumption] = await Promise.all([
            has('carbon_intensity_production')
              ? fetchCarbon(client, zone.code, 'production', range, signal)
              : Promise.resolve(null),
            has('carbon_intensity_consumption')
              ? fetchCarbon(client, zone.code, 'consumption', range, signal)
              : Promise.resolve(null),
          ]);
          if (signal.aborted) return;
          const spec = carbonSpec(zone, production ?? { unit: 'gCO2eq/kWh', points: [] }, consumption);
          if (spec === null) {
            this.#empty(
              card,
              kind,
              zone,
              range,
              has('carbon_intensity_production') ? 'carbon_intensity_production' : 'carbon_intensity_consumption',
              signal,
            );
            return;
          }
          const notes: string[] = [];
          const hasConsumption = spec.lines.some((l) => l.label === 'Consumption-based');
          card.el.dataset['consumption'] = hasConsumption ? 'present' : 'missing';
          if (!hasConsumption) {
            notes.push(
              has('carbon_intensity_consumption')
                ? 'No consumption-based data in this range.'
                : `No consumption-based data for ${zone.code} (it needs the zone's cross-border flows and its neighbours' mixes).`,
            );
          }
          if (!spec.lines.some((l) => l.label === 'Production-based'))
            notes.push('No production-based data in this range.');
          card.setChart(spec, notes);
          this.#markFirstData();
          return;
        }
        case 'load': {
          const [actual, forecast] = await Promise.all([
            has('load_actual') ? fetchSeries(client, zone.code, 'load_actual', range, signal) : Promise.resolve([]),
            has('load_forecast_day_ahead')
              ? fetchSeries(client, zone.code, 'load_forecast_day_ahead', range, signal)
              : Promise.resolve([]),
          ]);
          if (signal.aborted) return;
          const spec = loadSpec(zone, actual, forecast);
          if (spec === null) {
            this.#empty(
              card,
              kind,
              zone,
              range,
              has('load_actual') ? 'load_actual' : 'load_forecast_day_ahead',
              signal,
            );
            return;
          }
          const notes: string[] = [];
          if (!has('load_actual')) notes.push(`No actual load data for ${zone.code}.`);
          if (!has('load_forecast_day_ahead')) notes.push(`No day-ahead load forecast for ${zone.code}.`);
          card.setChart(spec, notes);
          this.#markFirstData();
          return;
        }
        case 'price': {
          const spec = priceSpec(zone, await fetchSeries(client, zone.code, 'price_day_ahead', range, signal));
          if (signal.aborted) return;
          if (spec === null) this.#empty(card, kind, zone, range, 'price_day_ahead', signal);
          else {
            card.setChart(spec);
            this.#markFirstData();
          }
          return;
        }
        default:
          return kind satisfies never;
      }
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      card.setError(describeError(error));
    }
  }

  /** "No data in this range", then (looked up) a button to the latest day that has some. */
  #empty(card: ChartCard, kind: CardKind, zone: Zone, range: TimeRange, metric: string, signal: AbortSignal): void {
    const noun = CARD_NOUNS[kind];
    card.setEmpty(
      `No ${noun} data for ${zone.code} between ${formatDate(range.from, zone.timeZone)} and ${formatDate(range.to - 1, zone.timeZone)}.`,
    );
    latestDataDay(this.#ctx.client, zone, metric, signal).then(
      (day) => {
        if (day === null || signal.aborted || card.state !== 'empty') return;
        const date = localDate(day, zone.timeZone);
        card.setEmpty(
          `No ${noun} data for ${zone.code} between ${formatDate(range.from, zone.timeZone)} and ${formatDate(range.to - 1, zone.timeZone)}.`,
          [
            h('button', {
              class: 'button button-secondary',
              attrs: { type: 'button' },
              text: `Show the latest ${noun} data (${formatDate(day, zone.timeZone)})`,
              on: {
                click: () => {
                  this.#choice = { kind: 'custom', from: addDays(date, -2), to: date };
                  this.#syncRangeControls();
                  this.#writeUrl('replace');
                  void this.#loadAll(false);
                },
              },
            }),
          ],
        );
      },
      () => undefined,
    );
  }

  #markFirstData(): void {
    if (document.documentElement.dataset['firstData'] !== undefined) return;
    const mark = performance.mark('gridstream:first-data');
    document.documentElement.dataset['firstData'] = mark.startTime.toFixed(0);
  }

  // Live updates ------------------------------------------------------------------------------------------------

  #onSlots(events: readonly SlotEvent[]): void {
    let unknownZone = false;
    const kinds = new Set<CardKind>();
    let latest: SlotEvent | undefined;
    for (const e of events) {
      const zone = this.#zones.find((z) => z.code === e.zone);
      if (zone === undefined) unknownZone = true;
      else {
        const metrics = zone.metrics.includes(e.metric) ? zone.metrics : [...zone.metrics, e.metric].sort();
        this.#zones = this.#zones.map((z) =>
          z === zone
            ? { ...z, lastSlot: Math.max(z.lastSlot, e.slot), firstSlot: Math.min(z.firstSlot, e.slot), metrics }
            : z,
        );
        if (metrics !== zone.metrics) unknownZone = true;
      }
      if (e.zone !== this.#zoneCode) continue;
      // Show the newest slot, preferring the metrics drawn here over derived ones (shares).
      const charted = cardOf(e.metric) !== undefined;
      const latestCharted = latest !== undefined && cardOf(latest.metric) !== undefined;
      if (latest === undefined || (charted && !latestCharted) || (charted === latestCharted && e.slot >= latest.slot))
        latest = e;
      this.#liveEvents += 1;
      const kind = cardOf(e.metric);
      if (kind !== undefined) kinds.add(kind);
      if (e.metric === 'generation_actual') this.#pendingMix = true;
      const zoneNow = this.#zones.find((z) => z.code === e.zone);
      const anchorMetric =
        zoneNow?.metrics.includes('generation_actual') === true ? e.metric === 'generation_actual' : kind !== undefined;
      if (anchorMetric && this.#choice.kind === 'preset' && (this.#anchor === null || e.slot > this.#anchor)) {
        this.#pendingAnchor = Math.max(this.#pendingAnchor ?? 0, e.slot);
      }
    }
    if (unknownZone) this.#scheduleZonesReload();
    if (latest !== undefined) {
      this.#showLastUpdate(latest, Date.now());
      this.#scheduleRefresh(kinds, false);
    }
  }

  #showLastUpdate(e: SlotEvent, receivedAt: number, flash = true): void {
    this.#lastEvent = { event: e, receivedAt };
    const zone = this.#zone;
    const tz = zone?.timeZone ?? 'UTC';
    const type =
      e.productionType !== null
        ? ` (${productionType(e.productionType).name})`
        : e.qualifier !== null
          ? ` (${e.qualifier})`
          : '';
    this.#lastUpdate.dataset['events'] = String(this.#liveEvents);
    this.#lastUpdate.dataset['lastSlot'] = new Date(e.slot).toISOString();
    this.#lastUpdate.dataset['lastMetric'] = e.metric;
    this.#lastUpdate.replaceChildren(
      h('span', { class: 'pulse', attrs: { 'aria-hidden': 'true' } }),
      `Last update ${formatClock(receivedAt)}: ${metricLabel(e.metric)}${type} for ${formatDateTime(e.slot, tz)} = ${formatValue(e.value, e.unit)}`,
      this.#liveEvents > 1 ? ` (${this.#liveEvents} updates)` : '',
    );
    if (!flash) return;
    this.#lastUpdate.classList.remove('flash');
    requestAnimationFrame(() => {
      this.#lastUpdate.classList.add('flash');
    });
  }

  #scheduleZonesReload(): void {
    if (this.#zonesReload !== undefined) return;
    this.#zonesReload = setTimeout(() => {
      this.#zonesReload = undefined;
      const wasMissing = this.#zone === undefined;
      this.#ctx.client.get('/api/v1/zones', {}, decodeZones, this.#controller.signal).then(
        (zones) => {
          if (this.#destroyed) return;
          this.#zones = zones;
          this.#fillZoneSelect();
          const zone = this.#zone;
          if (zone !== undefined && wasMissing) void this.#loadAll(true);
          else if (zone !== undefined) this.#showZoneHeader(zone);
          else if (this.#zoneCode === null && zones[0] !== undefined)
            this.#selectZone(zones.find((z) => z.metrics.includes('generation_actual'))?.code ?? zones[0].code, {
              push: false,
              replace: true,
            });
        },
        () => undefined,
      );
    }, REFRESH_DEBOUNCE_MS);
  }

  #scheduleRefresh(kinds: ReadonlySet<CardKind>, all: boolean): void {
    for (const k of kinds) this.#pending.add(k);
    if (all) this.#pendingMix = true;
    clearTimeout(this.#debounce);
    this.#debounce = setTimeout(() => {
      this.#flushRefresh(all);
    }, REFRESH_DEBOUNCE_MS);
    this.#maxWait ??= setTimeout(() => {
      this.#flushRefresh(all);
    }, REFRESH_MAX_WAIT_MS);
  }

  #flushRefresh(all: boolean): void {
    clearTimeout(this.#debounce);
    clearTimeout(this.#maxWait);
    this.#debounce = undefined;
    this.#maxWait = undefined;
    const zone = this.#zone;
    if (this.#destroyed || zone === undefined || this.#range === null) return;
    const kinds = new Set(this.#pending);
    const withMix = this.#pendingMix;
    const anchor = this.#pendingAnchor;
    this.#pending.clear();
    this.#pendingMix = false;
    this.#pendingAnchor = null;
    if (all || (anchor !== null && this.#choice.kind === 'preset')) {
      if (anchor !== null) this.#anchor = Math.max(this.#anchor ?? 0, anchor);
      void this.#loadAll(false);
      return;
    }
    if (kinds.size === 0 && !withMix) return;
    // Partial refresh on the current load's signal: a new zone or range cancels it.
    const signal = this.#controller.signal;
    const range = this.#range;
    const work: Promise<void>[] = [...kinds].map((k) => this.#loadCard(k, zone, range, signal));
    if (withMix) this.#loadMix(zone, fetchMix(this.#ctx.client, zone.code, signal), signal).catch(() => undefined);
    work.push(this.#loadCompleteness(zone, range, signal));
    void Promise.all(work);
  }
}
