import { isAbort } from './api-client.ts';
import type { Child } from './dom.ts';
import { h, replace } from './dom.ts';
import { formatInstant } from './format.ts';
import { LoadPanel } from './load-panel.ts';
import { BillingCards } from './meter-billing.ts';
import { describeMeterError, formatExact } from './meter-load.ts';
import type { DayResolution, EnergyQuantity, LoadPeriod } from './meter-period.ts';
import { dayResolutionFor, periodFrom, periodSearch, quantityFrom, todayIn } from './meter-period.ts';
import type { Meter } from './meter-types.ts';
import { decodeGroupLoad, decodeMeter, decodeMeterReadings } from './meter-types.ts';
import type { Page, PageContext } from './page-context.ts';

/** The path of a meter's page (ids may hold characters a path must escape). */
export function meterPath(id: string): string {
  return `/meters/${encodeURIComponent(id)}`;
}

export function groupPath(group: string): string {
  return `/groups/${encodeURIComponent(group)}`;
}

/** The badge of a simulated meter: demo data, not a real device. */
export function simulatedBadge(): HTMLElement {
  return h('span', {
    class: 'badge badge-warn simulated-badge',
    attrs: { title: 'A meter of the simulated demo fleet: its readings are generated, not measured by a device' },
    text: 'Simulated',
  });
}

/** The path's last segment, decoded (null when it is not valid escaping). */
function segment(path: string, prefix: string): string | null {
  try {
    const id = decodeURIComponent(path.slice(prefix.length));
    return id === '' ? null : id;
  } catch {
    return null;
  }
}

function fact(term: string, value: Child): Child[] {
  return [h('dt', { text: term }), h('dd', {}, [value])];
}

function meterFacts(meter: Meter): HTMLElement {
  const location = meter.lat === null || meter.lon === null ? '–' : `${meter.lat.toFixed(4)}, ${meter.lon.toFixed(4)}`;
  return h('dl', { class: 'facts meter-facts' }, [
    ...fact('Zone', meter.zone),
    ...fact('Group', h('a', { attrs: { href: groupPath(meter.group), 'data-nav': true }, text: meter.group })),
    ...fact('Time zone', meter.timeZone),
    ...fact('Register type', meter.registerType),
    ...fact('Interval', meter.interval),
    ...fact('Annual consumption', `${formatExact(meter.annualConsumptionKwh)} kWh`),
    ...fact('Load profile', meter.profile),
    ...fact(
      'Register capacity',
      meter.registerCapacityKwh === null ? '–' : `${formatExact(meter.registerCapacityKwh)} kWh`,
    ),
    ...fact('Location', location),
    ...fact('Valid from', meter.validFrom === null ? 'always' : formatInstant(meter.validFrom)),
    ...fact('Valid to', meter.validTo === null ? 'open' : formatInstant(meter.validTo)),
  ]);
}

/** Writes the period into the address of `path` (a new history entry: back returns to the previous period). */
function pushPeriod(path: string, period: LoadPeriod, quantity: EnergyQuantity): void {
  const target = `${path}${periodSearch(period, quantity)}`;
  if (`${window.location.pathname}${window.location.search}` !== target) window.history.pushState(null, '', target);
}

/**
 * `/meters/<id>`: the meter's registry facts (a clear badge when it is simulated) and its energy for a local day
 * (quarter hours with quality) or a month (a bar per day) in the meter's time zone.
 */
export class MeterPage implements Page {
  readonly el: HTMLElement;
  readonly #panel: LoadPanel | undefined;
  readonly #billing: BillingCards | undefined;
  readonly #controller = new AbortController();
  #dayResolution: DayResolution = 'PT15M';

  constructor(ctx: PageContext, path: string, params: URLSearchParams) {
    const id = segment(path, '/meters/');
    if (id === null) {
      this.el = h('div', { class: 'error-box', attrs: { role: 'alert' }, text: `Not a meter address: ${path}` });
      return;
    }
    const what = `meter ${id}`;
    const path_ = meterPath(id);
    const billing = new BillingCards(ctx.client, `/api/v1/meters/${encodeURIComponent(id)}`);
    this.#billing = billing;
    document.title = `Meter ${id} · gridstream`;
    const title = h('h1', { class: 'meter-title' }, [`Meter ${id}`]);
    const factsHost = h('div', { class: 'meter-registry', data: { state: 'loading' } }, [
      h('p', { class: 'placeholder', text: 'Loading…' }),
    ]);
    const panel = new LoadPanel(
      {
        name: 'meter-load',
        title: 'Energy',
        load: (query, signal) =>
          ctx.client.get(`/api/v1/meters/${encodeURIComponent(id)}/readings`, query, decodeMeterReadings, signal),
        onPeriod: (period, quantity) => {
          pushPeriod(path_, period, quantity);
          billing.show(period, quantity, this.#dayResolution);
        },
        describe: (error) => describeMeterError(error, what),
      },
      periodFrom(params, todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone)),
    );
    this.#panel = panel;
    this.el = h('div', { class: 'meter-page', data: { meter: id } }, [
      h('p', { class: 'breadcrumb' }, [h('a', { attrs: { href: '/meters', 'data-nav': true }, text: '‹ Meters' })]),
      title,
      factsHost,
      panel.el,
      billing.el,
    ]);
    ctx.client.get(`/api/v1/meters/${encodeURIComponent(id)}`, {}, decodeMeter, this.#controller.signal).then(
      (meter) => {
        factsHost.dataset['state'] = 'ready';
        factsHost.dataset['simulated'] = String(meter.simulated);
        if (meter.simulated) title.append(' ', simulatedBadge());
        replace(factsHost, [
          meter.simulated
            ? h('p', {
                class: 'notice notice-info simulated-note',
                text: 'This meter belongs to the simulated demo fleet: its readings are generated, not measured.',
              })
            : null,
          meterFacts(meter),
        ]);
        // The address says the period; without one "today" is the meter's today, not the browser's.
        panel.setTimeZone(meter.timeZone);
        this.#dayResolution = dayResolutionFor(meter.interval);
        panel.setDayResolution(this.#dayResolution);
        const period = periodFrom(params, todayIn(meter.timeZone));
        panel.show(period, quantityFrom(params));
        billing.show(period, quantityFrom(params), this.#dayResolution);
      },
      (error: unknown) => {
        if (isAbort(error)) return;
        factsHost.dataset['state'] = 'error';
        const message = describeMeterError(error, what);
        replace(factsHost, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: message })]);
        panel.showError(message);
      },
    );
  }

  applyParams(params: URLSearchParams): void {
    const period = periodFrom(params, todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone));
    this.#panel?.show(period, quantityFrom(params));
    this.#billing?.show(period, quantityFrom(params), this.#dayResolution);
  }

  destroy(): void {
    this.#controller.abort();
    this.#panel?.destroy();
    this.#billing?.destroy();
  }
}

/** `/groups/<group>`: the group's summed energy per window, with how many meter values each window sums. */
export class GroupPage implements Page {
  readonly el: HTMLElement;
  readonly #panel: LoadPanel | undefined;
  readonly #billing: BillingCards | undefined;

  constructor(ctx: PageContext, path: string, params: URLSearchParams) {
    const group = segment(path, '/groups/');
    if (group === null) {
      this.el = h('div', { class: 'error-box', attrs: { role: 'alert' }, text: `Not a group address: ${path}` });
      return;
    }
    document.title = `Group ${group} · gridstream`;
    const path_ = groupPath(group);
    const billing = new BillingCards(ctx.client, `/api/v1/groups/${encodeURIComponent(group)}`);
    this.#billing = billing;
    const panel = new LoadPanel(
      {
        name: 'group-load',
        title: 'Group load',
        load: (query, signal) =>
          ctx.client.get(`/api/v1/groups/${encodeURIComponent(group)}/load`, query, decodeGroupLoad, signal),
        onPeriod: (period, quantity) => {
          pushPeriod(path_, period, quantity);
          billing.show(period, quantity);
        },
        describe: (error) => describeMeterError(error, `group ${group}`),
        withCount: true,
      },
      periodFrom(params, todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone)),
    );
    this.#panel = panel;
    this.el = h('div', { class: 'group-page', data: { group } }, [
      h('p', { class: 'breadcrumb' }, [
        h('a', {
          attrs: { href: `/meters?group=${encodeURIComponent(group)}`, 'data-nav': true },
          text: `‹ Meters of ${group}`,
        }),
      ]),
      h('h1', { text: `Group ${group}` }),
      panel.el,
      billing.el,
    ]);
    const period = periodFrom(params, todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone));
    panel.show(period, quantityFrom(params));
    billing.show(period, quantityFrom(params));
  }

  applyParams(params: URLSearchParams): void {
    const period = periodFrom(params, todayIn(Intl.DateTimeFormat().resolvedOptions().timeZone));
    this.#panel?.show(period, quantityFrom(params));
    this.#billing?.show(period, quantityFrom(params));
  }

  destroy(): void {
    this.#panel?.destroy();
    this.#billing?.destroy();
  }
}
