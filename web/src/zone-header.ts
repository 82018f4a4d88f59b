import type { Zone } from './api-types.ts';
import { h } from './dom.ts';
import { formatDate, formatDateTime, metricLabel } from './format.ts';
import { LastUpdate } from './last-update.ts';
import type { TimeRange } from './time-range.ts';

const RESOLUTION_LABELS = { PT15M: '15-minute values', PT1H: 'hourly averages', P1D: 'daily averages' } as const;

/**
 * The head of the zone page: the zone's name and coverage, the completeness badge and the live "Last update" line,
 * and the range shown (`data-range`, ISO instants).
 */
export class ZoneHeader {
  readonly el: HTMLElement;
  readonly lastUpdate = new LastUpdate();
  readonly #title: HTMLElement;
  readonly #meta: HTMLElement;
  readonly #rangeLabel: HTMLElement;

  /** `badge`: the completeness badge, shown beside the live line. */
  constructor(badge: HTMLElement) {
    this.#title = h('h1', { class: 'zone-title', text: 'Loading zones…' });
    this.#meta = h('p', { class: 'zone-meta' });
    this.#rangeLabel = h('p', { class: 'range-label', data: { range: '' } });
    this.el = h('div', { class: 'zone-header' }, [
      this.#title,
      this.#meta,
      h('div', { class: 'zone-status' }, [badge, this.lastUpdate.el]),
      this.#rangeLabel,
    ]);
  }

  showZone(zone: Zone): void {
    this.#title.replaceChildren(zone.name, ' ', h('span', { class: 'zone-code', text: zone.code }));
    const metrics = zone.metrics.map(metricLabel).join(', ');
    this.#meta.textContent = `${zone.timeZone} · data from ${formatDate(zone.firstSlot, zone.timeZone)} to ${formatDate(zone.lastSlot, zone.timeZone)} · ${metrics}`;
    document.title = `${zone.code} · gridstream`;
    // An update that arrived before the zone was known was shown in UTC.
    this.lastUpdate.showZone(zone);
  }

  showRange(zone: Zone, range: TimeRange): void {
    this.#rangeLabel.textContent = `Showing ${formatDateTime(range.from, zone.timeZone, false)} – ${formatDateTime(range.to, zone.timeZone)} (${RESOLUTION_LABELS[range.resolution]})`;
    this.#rangeLabel.dataset['range'] = `${new Date(range.from).toISOString()}/${new Date(range.to).toISOString()}`;
  }

  /** No data yet for `code` (null: for any zone). */
  showWaiting(code: string | null): void {
    this.#title.textContent = code === null ? 'No data yet' : `${code}: no data yet`;
    this.#meta.textContent =
      code === null
        ? 'No zone has stored data yet; this page fills in as soon as data arrives.'
        : `There is no data for ${code} yet (or this key may not read it). This page fills in as soon as data arrives.`;
    this.#rangeLabel.textContent = '';
  }

  /** The page could not start: `title` says why (the reason is shown in place of the charts). */
  showFailure(title: string): void {
    this.#title.textContent = title;
  }
}
