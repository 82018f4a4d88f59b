import type { ApiClient } from './api-client.ts';
import { describeError, isAbort } from './api-client.ts';
import type { Mix, Zone } from './api-types.ts';
import type { CardContent } from './card-loaders.ts';
import { CARD_LOADERS } from './card-loaders.ts';
import { ChartCard } from './chart-card.ts';
import { CompletenessBadge } from './completeness-badge.ts';
import { h, replace } from './dom.ts';
import { formatDate } from './format.ts';
import { MixPanel } from './mix-panel.ts';
import type { TimeRange } from './time-range.ts';
import { localDate } from './time-range.ts';
import type { CardKind } from './zone-data.ts';
import { CARD_KINDS, CARD_METRICS, fetchCompleteness, hasAny, latestDataDay } from './zone-data.ts';

export interface ZoneCardsOptions {
  readonly client: ApiClient;
  /** The user asked to see a card's latest data: the range ending at local date `date` (`YYYY-MM-DD`). */
  readonly onShowLatest: (date: string) => void;
}

/**
 * The panels of the zone page: the chart cards of {@link CARD_LOADERS}, the latest mix, and the completeness badge
 * (placed in the page header). Each load draws into its panel, or says why there is nothing to draw.
 */
export class ZoneCards {
  /** The grid of panels. */
  readonly el: HTMLElement;
  readonly completeness = new CompletenessBadge();
  readonly #options: ZoneCardsOptions;
  #cards = new Map<CardKind, ChartCard>();
  #mix = new MixPanel();

  constructor(options: ZoneCardsOptions) {
    this.#options = options;
    this.el = h('div', { class: 'cards' });
    this.rebuild();
  }

  /** New, empty panels (another zone: no chart of the previous one stays on screen). */
  rebuild(): void {
    for (const card of this.#cards.values()) card.destroy();
    this.#cards = new Map(
      CARD_KINDS.map((k) => {
        const { title, subtitle, wide } = CARD_LOADERS[k];
        return [k, new ChartCard(k, title, { wide, subtitle })];
      }),
    );
    this.#mix = new MixPanel();
    const card = (k: CardKind): HTMLElement | null => this.#cards.get(k)?.el ?? null;
    replace(this.el, [card('generation'), this.#mix.el, card('carbon'), card('load'), card('price')]);
  }

  setLoading(): void {
    for (const card of this.#cards.values()) card.setLoading();
    this.#mix.setLoading();
    this.completeness.setLoading();
  }

  /** No data for the zone yet. */
  showWaiting(): void {
    this.rebuild();
    for (const card of this.#cards.values()) card.setEmpty('Waiting for data…');
    this.#mix.setEmpty('Waiting for data…');
  }

  /** Nothing can be shown (the zone list failed): the reason instead of the panels. */
  showError(message: string): void {
    replace(this.el, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: message })]);
  }

  async loadCard(kind: CardKind, zone: Zone, range: TimeRange, signal: AbortSignal): Promise<void> {
    const card = this.#cards.get(kind);
    if (card === undefined) return;
    const loader = CARD_LOADERS[kind];
    if (!hasAny(zone, kind)) {
      card.setEmpty(`No ${loader.noun} data for ${zone.code}.`, [], true);
      return;
    }
    let content: CardContent;
    try {
      content = await loader.load({ client: this.#options.client, zone, range, signal });
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      card.setError(describeError(error));
      return;
    }
    if (signal.aborted) return;
    if (content.kind === 'empty') {
      this.#empty(card, loader.noun, zone, range, content.latestOf, signal);
      return;
    }
    for (const [name, value] of Object.entries(content.data)) card.el.dataset[name] = value;
    card.setChart(content.spec, content.notes);
    markFirstData();
  }

  async loadMix(zone: Zone, mix: Promise<Mix | null>, signal: AbortSignal): Promise<void> {
    if (!zone.metrics.includes('generation_actual')) {
      this.#mix.setEmpty(`No generation data for ${zone.code}.`, true);
      return;
    }
    try {
      const latest = await mix;
      if (signal.aborted) return;
      if (latest === null) this.#mix.setEmpty('No complete generation slot yet.');
      else this.#mix.setMix(zone, latest);
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.#mix.setError(describeError(error));
    }
  }

  async loadCompleteness(zone: Zone, range: TimeRange, signal: AbortSignal): Promise<void> {
    try {
      const days = await fetchCompleteness(this.#options.client, zone.code, range, signal);
      if (signal.aborted) return;
      this.completeness.set(
        days,
        CARD_KINDS.flatMap((k) => [...CARD_METRICS[k]]),
      );
    } catch (error) {
      if (isAbort(error) || signal.aborted) return;
      this.completeness.setError(describeError(error));
    }
  }

  /** Draws again with the current colours (the colour scheme changed). */
  redraw(): void {
    for (const card of this.#cards.values()) card.redraw();
  }

  destroy(): void {
    for (const card of this.#cards.values()) card.destroy();
  }

  /** "No data in this range", then (looked up) a button to the latest day that has some. */
  #empty(card: ChartCard, noun: string, zone: Zone, range: TimeRange, metric: string, signal: AbortSignal): void {
    const message = `No ${noun} data for ${zone.code} between ${formatDate(range.from, zone.timeZone)} and ${formatDate(range.to - 1, zone.timeZone)}.`;
    card.setEmpty(message);
    latestDataDay(this.#options.client, zone, metric, signal).then(
      (day) => {
        if (day === null || signal.aborted || card.state !== 'empty') return;
        const date = localDate(day, zone.timeZone);
        card.setEmpty(message, [
          h('button', {
            class: 'button button-secondary',
            attrs: { type: 'button' },
            text: `Show the latest ${noun} data (${formatDate(day, zone.timeZone)})`,
            on: {
              click: () => {
                this.#options.onShowLatest(date);
              },
            },
          }),
        ]);
      },
      () => undefined,
    );
  }
}

/** Marks the first chart drawn since the page was opened (`data-first-data`, a performance mark). */
function markFirstData(): void {
  if (document.documentElement.dataset['firstData'] !== undefined) return;
  const mark = performance.mark('gridstream:first-data');
  document.documentElement.dataset['firstData'] = mark.startTime.toFixed(0);
}
