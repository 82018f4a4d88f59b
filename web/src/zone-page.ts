import { describeError, isAbort } from './api-client.ts';
import type { SlotEvent, Zone } from './api-types.ts';
import { decodeZones } from './api-types.ts';
import { h } from './dom.ts';
import type { RefreshKey } from './live-changes.ts';
import { slotChanges } from './live-changes.ts';
import type { PageContext } from './page-context.ts';
import { RangePicker, choiceFrom, writeChoice } from './range-picker.ts';
import type { RefreshPlan } from './refresh-schedule.ts';
import { RefreshSchedule } from './refresh-schedule.ts';
import type { RangeChoice, TimeRange } from './time-range.ts';
import { addDays, customRange, presetRange } from './time-range.ts';
import { ZoneAnalyst } from './zone-analyst.ts';
import { ZoneCards } from './zone-cards.ts';
import { CARD_KINDS, fetchMix } from './zone-data.ts';
import { ZoneHeader } from './zone-header.ts';
import { ZonePicker, defaultZone, firstZone } from './zone-picker.ts';

/** A zone list reload waits this long for the rest of a burst of events. */
const ZONES_RELOAD_DELAY_MS = 1_000;

const REFRESH_KEYS: readonly RefreshKey[] = [...CARD_KINDS, 'mix'];

/**
 * The main page: pick a zone, a range (1/3/7 days ending at the zone's latest data, or custom dates), and see its
 * generation mix, carbon intensity, load and day-ahead price, the latest mix and the data completeness — kept up
 * to date by the live stream without reload ({@link RefreshSchedule} says when) — and below them the analyst
 * panels ({@link ZoneAnalyst}: intensities side by side, flows by neighbour, forecast, best window).
 */
export class ZonePage {
  readonly el: HTMLElement;
  readonly #ctx: PageContext;
  readonly #zonePicker: ZonePicker;
  readonly #picker: RangePicker;
  readonly #header: ZoneHeader;
  readonly #cards: ZoneCards;
  readonly #analyst: ZoneAnalyst;
  readonly #schedule = new RefreshSchedule<RefreshKey>(REFRESH_KEYS);
  readonly #unsubscribe: (() => void)[] = [];
  #zones: Zone[] = [];
  #zoneCode: string | null = null;
  #choice: RangeChoice;
  #anchor: number | null = null;
  #range: TimeRange | null = null;
  #controller = new AbortController();
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;
  #zonesReload: ReturnType<typeof setTimeout> | undefined;
  #destroyed = false;

  constructor(ctx: PageContext, params: URLSearchParams) {
    this.#ctx = ctx;
    this.#choice = choiceFrom(params);
    this.#zonePicker = new ZonePicker((code) => {
      this.#selectZone(code, { push: true });
    });
    this.#picker = new RangePicker((choice) => {
      this.#choose(choice);
    });
    this.#cards = new ZoneCards({
      client: ctx.client,
      onShowLatest: (date) => {
        const choice: RangeChoice = { kind: 'custom', from: addDays(date, -2), to: date };
        this.#picker.show(choice);
        this.#choose(choice);
      },
    });
    this.#header = new ZoneHeader(this.#cards.completeness.el);
    this.#analyst = new ZoneAnalyst(ctx.client);
    this.el = h('div', { class: 'zone-page' }, [
      h('div', { class: 'toolbar', attrs: { role: 'group', 'aria-label': 'Zone and time range' } }, [
        this.#zonePicker.el,
        ...this.#picker.elements,
      ]),
      this.#header.el,
      this.#cards.el,
      this.#analyst.el,
    ]);
    this.#picker.show(this.#choice);
    this.#listen();
    void this.#init(params.get('zone'));
  }

  /** The address changed (back/forward): follow it. */
  applyParams(params: URLSearchParams): void {
    this.#choice = choiceFrom(params);
    this.#picker.show(this.#choice);
    const zone = params.get('zone');
    if (zone !== null && zone !== this.#zoneCode) this.#selectZone(zone, { push: false });
    else void this.#loadAll(true);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#controller.abort();
    for (const off of this.#unsubscribe) off();
    clearTimeout(this.#refreshTimer);
    clearTimeout(this.#zonesReload);
    this.#cards.destroy();
    this.#analyst.destroy();
  }

  #listen(): void {
    const ctx = this.#ctx;
    const scheme = window.matchMedia('(prefers-color-scheme: dark)');
    const onScheme = (): void => {
      this.#cards.redraw();
      this.#analyst.redraw();
    };
    const onVisibility = (): void => {
      this.#schedule.setVisible(document.visibilityState === 'visible');
      this.#runSchedule();
    };
    this.#schedule.setVisible(document.visibilityState === 'visible');
    scheme.addEventListener('change', onScheme);
    document.addEventListener('visibilitychange', onVisibility);
    this.#unsubscribe.push(
      ctx.live.onSlots((events) => {
        this.#onSlots(events);
      }),
      ctx.live.onResume(() => {
        this.#schedule.resumed(Date.now());
        this.#runSchedule();
      }),
      () => {
        scheme.removeEventListener('change', onScheme);
        document.removeEventListener('visibilitychange', onVisibility);
      },
    );
  }

  async #init(requested: string | null): Promise<void> {
    try {
      this.#zones = await this.#ctx.client.get('/api/v1/zones', {}, decodeZones, this.#controller.signal);
      this.#fillZoneSelect();
    } catch (error) {
      if (isAbort(error) || this.#destroyed) return;
      this.#header.showFailure('Zones could not be loaded');
      this.#cards.showError(describeError(error));
      return;
    }
    const code = requested ?? defaultZone(this.#zones);
    if (code === null) {
      this.#showWaiting(null);
      return;
    }
    this.#selectZone(code, { push: false, replace: requested === null });
  }

  #fillZoneSelect(): void {
    this.#zonePicker.show(this.#zones, this.#zoneCode);
  }

  get #zone(): Zone | undefined {
    return this.#zones.find((z) => z.code === this.#zoneCode);
  }

  #selectZone(code: string, options: { push: boolean; replace?: boolean }): void {
    if (code !== this.#zoneCode) {
      this.#anchor = null;
      this.#header.lastUpdate.reset();
      // Live changes of the previous zone are not this one's.
      this.#schedule.clear();
    }
    this.#zoneCode = code;
    this.#zonePicker.remember(code);
    this.#fillZoneSelect();
    if (options.push || options.replace === true) this.#writeUrl(options.push ? 'push' : 'replace');
    void this.#loadAll(true);
  }

  /** The user chose a range (or the latest data of an empty card). */
  #choose(choice: RangeChoice): void {
    this.#choice = choice;
    this.#writeUrl('replace');
    void this.#loadAll(false);
  }

  #writeUrl(mode: 'push' | 'replace'): void {
    const params = new URLSearchParams();
    if (this.#zoneCode !== null) params.set('zone', this.#zoneCode);
    writeChoice(params, this.#choice);
    const url = `/?${params.toString()}`;
    if (mode === 'push') window.history.pushState(null, '', url);
    else window.history.replaceState(null, '', url);
  }

  #showWaiting(code: string | null): void {
    this.#header.showWaiting(code);
    this.#cards.showWaiting();
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
    this.#schedule.refreshed(Date.now());
    if (fresh) {
      this.#cards.rebuild();
      this.#analyst.rebuild();
    }
    this.#header.showZone(zone);
    this.#cards.setLoading();
    try {
      const client = this.#ctx.client;
      const mixPromise = zone.metrics.includes('generation_actual')
        ? fetchMix(client, zone.code, signal)
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
      this.#header.showRange(zone, range);
      this.#picker.showRange(zone, range);
      await Promise.all([
        ...CARD_KINDS.map((k) => this.#cards.loadCard(k, zone, range, signal)),
        this.#cards.loadMix(zone, mixPromise, signal),
        this.#cards.loadCompleteness(zone, range, signal),
        this.#analyst.load(zone, this.#zones, range, signal),
      ]);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#ctx.notify(describeError(error), 'error');
    }
  }

  #onSlots(events: readonly SlotEvent[]): void {
    const changes = slotChanges(
      { zones: this.#zones, code: this.#zoneCode, anchor: this.#anchor, followsData: this.#choice.kind === 'preset' },
      events,
    );
    this.#zones = changes.zones;
    if (changes.stale) this.#scheduleZonesReload();
    if (changes.newest === undefined) return;
    const now = Date.now();
    this.#header.lastUpdate.show(changes.newest, changes.count, now, this.#zone);
    this.#schedule.changed(now, changes.changed, changes.anchor);
    this.#runSchedule();
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
          else if (zone !== undefined) this.#header.showZone(zone);
          else if (this.#zoneCode === null) {
            const code = firstZone(zones);
            if (code !== null) this.#selectZone(code, { push: false, replace: true });
          }
        },
        () => undefined,
      );
    }, ZONES_RELOAD_DELAY_MS);
  }

  /** Asks the schedule what to reload now, and arms the one timer for when to ask again. */
  #runSchedule(): void {
    clearTimeout(this.#refreshTimer);
    this.#refreshTimer = undefined;
    if (this.#destroyed) return;
    const now = Date.now();
    const { refresh, wakeAt } = this.#schedule.poll(now);
    if (refresh !== null) this.#refresh(refresh);
    else if (wakeAt !== null)
      this.#refreshTimer = setTimeout(() => {
        this.#runSchedule();
      }, wakeAt - now);
  }

  #refresh(plan: RefreshPlan<RefreshKey>): void {
    const zone = this.#zone;
    const range = this.#range;
    if (zone === undefined || range === null) return;
    if (plan.everything || (plan.anchor !== null && this.#choice.kind === 'preset')) {
      if (plan.anchor !== null) this.#anchor = Math.max(this.#anchor ?? 0, plan.anchor);
      void this.#loadAll(false);
      return;
    }
    if (plan.cards.length === 0) return;
    // Partial refresh on the current load's signal: a new zone or range cancels it.
    const signal = this.#controller.signal;
    const work = CARD_KINDS.filter((k) => plan.cards.includes(k)).map((k) =>
      this.#cards.loadCard(k, zone, range, signal),
    );
    if (plan.cards.includes('mix'))
      void this.#cards.loadMix(zone, fetchMix(this.#ctx.client, zone.code, signal), signal);
    work.push(this.#cards.loadCompleteness(zone, range, signal));
    void Promise.all(work);
  }
}
