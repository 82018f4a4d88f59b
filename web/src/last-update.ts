import type { SlotEvent, Zone } from './api-types.ts';
import { h } from './dom.ts';
import { formatClock, formatDateTime, formatValue, metricLabel } from './format.ts';
import { productionType } from './production-types.ts';

/**
 * The zone page's "Last update" line: the newest live value for the zone and how many arrived (`data-events`,
 * `data-last-slot`, `data-last-metric`), flashing on each update.
 */
export class LastUpdate {
  readonly el: HTMLElement;
  #count = 0;
  #last: { readonly event: SlotEvent; readonly receivedAt: number } | undefined;

  constructor() {
    this.el = h('p', { class: 'last-update', attrs: { role: 'status' } });
    this.reset();
  }

  /** Back to "waiting" (another zone). */
  reset(): void {
    this.#count = 0;
    this.#last = undefined;
    this.el.dataset['events'] = '0';
    this.el.dataset['lastSlot'] = '';
    this.el.dataset['lastMetric'] = '';
    this.el.textContent = 'Waiting for live data…';
  }

  /** `count` more events arrived at `receivedAt`, `event` the one to show; times in the zone's time zone. */
  show(event: SlotEvent, count: number, receivedAt: number, zone: Zone | undefined): void {
    this.#count += count;
    this.#last = { event, receivedAt };
    this.#render(zone, true);
  }

  /** The zone became known: an update shown before in UTC is shown again in the zone's time. */
  showZone(zone: Zone): void {
    if (this.#last !== undefined && this.#last.event.zone === zone.code) this.#render(zone, false);
  }

  #render(zone: Zone | undefined, flash: boolean): void {
    const last = this.#last;
    if (last === undefined) return;
    const e = last.event;
    const tz = zone?.timeZone ?? 'UTC';
    const type =
      e.productionType !== null
        ? ` (${productionType(e.productionType).name})`
        : e.qualifier !== null
          ? ` (${e.qualifier})`
          : '';
    this.el.dataset['events'] = String(this.#count);
    this.el.dataset['lastSlot'] = new Date(e.slot).toISOString();
    this.el.dataset['lastMetric'] = e.metric;
    this.el.replaceChildren(
      h('span', { class: 'pulse', attrs: { 'aria-hidden': 'true' } }),
      `Last update ${formatClock(last.receivedAt)}: ${metricLabel(e.metric)}${type} for ${formatDateTime(e.slot, tz)} = ${formatValue(e.value, e.unit)}`,
      this.#count > 1 ? ` (${this.#count} updates)` : '',
    );
    if (!flash) return;
    this.el.classList.remove('flash');
    requestAnimationFrame(() => {
      this.el.classList.add('flash');
    });
  }
}
