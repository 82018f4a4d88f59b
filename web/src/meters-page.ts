import { isAbort } from './api-client.ts';
import { decodeZones } from './api-types.ts';
import type { Child } from './dom.ts';
import { h, replace, table, uid } from './dom.ts';
import { formatNumber } from './format.ts';
import { describeMeterError, formatExact } from './meter-load.ts';
import { groupPath, meterPath, simulatedBadge } from './meter-pages.ts';
import type { Meter } from './meter-types.ts';
import { decodeMeterList } from './meter-types.ts';
import type { Page, PageContext } from './page-context.ts';

/** Meters per page of the list. */
export const METERS_PAGE_SIZE = 50;

/** The list's filter and page as the address holds it: `?group=&zone=&after=`. */
interface ListState {
  readonly group: string;
  readonly zone: string;
  /** The page starts after this meter id ('' for the first page). */
  readonly after: string;
}

function stateFrom(params: URLSearchParams): ListState {
  return { group: params.get('group') ?? '', zone: params.get('zone') ?? '', after: params.get('after') ?? '' };
}

function search(state: ListState): string {
  const q = new URLSearchParams();
  if (state.group !== '') q.set('group', state.group);
  if (state.zone !== '') q.set('zone', state.zone);
  if (state.after !== '') q.set('after', state.after);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

/**
 * `/meters`: open a meter by its id, or list the meters the key may read, filtered by group and zone, a page at a
 * time (by meter id). The list is `[data-meter-list]` with `data-state` and `data-count`; rows carry `data-meter`.
 */
export class MetersPage implements Page {
  readonly el: HTMLElement;
  readonly #ctx: PageContext;
  readonly #listHost: HTMLElement;
  readonly #groupInput: HTMLInputElement;
  readonly #zoneSelect: HTMLSelectElement;
  #state: ListState;
  /** The starts of the pages before this one (for "Previous"). */
  #previous: string[] = [];
  #controller = new AbortController();

  constructor(ctx: PageContext, params: URLSearchParams) {
    this.#ctx = ctx;
    this.#state = stateFrom(params);
    document.title = 'Meters · gridstream';
    const idId = uid('meter-id');
    const idInput = h('input', {
      attrs: { id: idId, type: 'search', placeholder: 'e.g. sim-001', spellcheck: 'false', required: true },
    });
    const openForm = h(
      'form',
      {
        class: 'filters meter-open',
        attrs: { 'aria-label': 'Open a meter' },
        on: {
          submit: (event) => {
            event.preventDefault();
            const id = idInput.value.trim();
            if (id !== '') ctx.navigate(meterPath(id));
          },
        },
      },
      [
        h('label', { attrs: { for: idId }, text: 'Meter id' }),
        idInput,
        h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Open' }),
      ],
    );
    const groupId = uid('group');
    const zoneId = uid('zone');
    this.#groupInput = h('input', {
      attrs: { id: groupId, type: 'search', placeholder: 'any group', spellcheck: 'false', value: this.#state.group },
    });
    this.#zoneSelect = h('select', { attrs: { id: zoneId } }, [
      h('option', { attrs: { value: '' }, text: 'any zone' }),
    ]);
    const filterForm = h(
      'form',
      {
        class: 'filters',
        attrs: { 'aria-label': 'Meter filter' },
        on: {
          submit: (event) => {
            event.preventDefault();
            this.#previous = [];
            this.#go({ group: this.#groupInput.value.trim(), zone: this.#zoneSelect.value, after: '' });
          },
        },
      },
      [
        h('label', { attrs: { for: groupId }, text: 'Group' }),
        this.#groupInput,
        h('label', { attrs: { for: zoneId }, text: 'Zone' }),
        this.#zoneSelect,
        h('button', { class: 'button', attrs: { type: 'submit' }, text: 'Filter' }),
      ],
    );
    this.#listHost = h('div', { class: 'meter-list', data: { meterList: '', state: 'loading', count: 0 } });
    this.el = h('div', { class: 'meters-page' }, [h('h1', { text: 'Meters' }), openForm, filterForm, this.#listHost]);
    void this.#loadZones();
    void this.#load();
  }

  applyParams(params: URLSearchParams): void {
    this.#state = stateFrom(params);
    this.#groupInput.value = this.#state.group;
    this.#zoneSelect.value = this.#state.zone;
    if (this.#state.after === '') this.#previous = [];
    void this.#load();
  }

  destroy(): void {
    this.#controller.abort();
  }

  #go(state: ListState): void {
    this.#state = state;
    const target = `/meters${search(state)}`;
    if (`${window.location.pathname}${window.location.search}` !== target) window.history.pushState(null, '', target);
    void this.#load();
  }

  async #loadZones(): Promise<void> {
    try {
      const zones = await this.#ctx.client.get('/api/v1/zones', {}, decodeZones, this.#controller.signal);
      const options = zones.map((z) => h('option', { attrs: { value: z.code }, text: `${z.name} (${z.code})` }));
      // A zone in the address that the zone list does not hold stays choosable.
      if (this.#state.zone !== '' && !zones.some((z) => z.code === this.#state.zone))
        options.push(h('option', { attrs: { value: this.#state.zone }, text: this.#state.zone }));
      this.#zoneSelect.append(...options);
      this.#zoneSelect.value = this.#state.zone;
    } catch {
      // Without the zone list the filter still works by group; the list says what failed.
      if (this.#state.zone !== '') {
        this.#zoneSelect.append(h('option', { attrs: { value: this.#state.zone }, text: this.#state.zone }));
        this.#zoneSelect.value = this.#state.zone;
      }
    }
  }

  async #load(): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const state = this.#state;
    const host = this.#listHost;
    host.dataset['state'] = 'loading';
    host.setAttribute('aria-busy', 'true');
    try {
      // One more than shown: whether there is a next page.
      const meters = await this.#ctx.client.get(
        '/api/v1/meters',
        { group: state.group, zone: state.zone, after: state.after, limit: METERS_PAGE_SIZE + 1 },
        decodeMeterList,
        controller.signal,
      );
      if (controller.signal.aborted) return;
      this.#render(meters.slice(0, METERS_PAGE_SIZE), meters.length > METERS_PAGE_SIZE);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      host.dataset['state'] = 'error';
      host.dataset['count'] = '0';
      replace(host, [
        h('div', { class: 'error-box', attrs: { role: 'alert' }, text: describeMeterError(error, 'the meter list') }),
      ]);
    } finally {
      if (this.#controller === controller) host.setAttribute('aria-busy', 'false');
    }
  }

  #render(meters: readonly Meter[], more: boolean): void {
    const host = this.#listHost;
    const state = this.#state;
    host.dataset['state'] = meters.length === 0 ? 'empty' : 'ready';
    host.dataset['count'] = String(meters.length);
    if (meters.length === 0) {
      replace(host, [
        h('p', {
          class: 'empty-note',
          text:
            state.group === '' && state.zone === ''
              ? 'This API key may read no meters (or none is registered).'
              : 'No meter matches this filter, or this API key may not read its meters.',
        }),
      ]);
      return;
    }
    const rows = meters.map((m): Child[] => [
      h('a', { attrs: { href: meterPath(m.meterId), 'data-nav': true }, text: m.meterId }),
      m.simulated ? simulatedBadge() : 'device',
      m.zone,
      h('a', { attrs: { href: groupPath(m.group), 'data-nav': true }, text: m.group }),
      m.profile,
      m.registerType,
      m.interval,
      `${formatExact(m.annualConsumptionKwh)} kWh`,
    ]);
    const list = table(
      'Meters',
      ['Meter', 'Source', 'Zone', 'Group', 'Profile', 'Register', 'Interval', 'Annual consumption'],
      rows,
    );
    list.querySelectorAll('tbody tr').forEach((tr, i) => {
      const m = meters[i];
      if (m !== undefined && tr instanceof HTMLElement) tr.dataset['meter'] = m.meterId;
    });
    const last = meters.at(-1)?.meterId ?? '';
    const first = this.#previous.length === 0 && state.after === '';
    const pager = h('div', { class: 'actions pager' }, [
      h('span', {
        class: 'pager-status',
        text: `${formatNumber(meters.length)} meter${meters.length === 1 ? '' : 's'}${state.after === '' ? '' : ` after ${state.after}`}`,
      }),
      h('button', {
        class: 'button button-secondary',
        attrs: { type: 'button', disabled: first, 'data-page': 'previous' },
        text: '‹ Previous',
        on: {
          click: () => {
            const before = this.#previous.pop() ?? '';
            this.#go({ ...state, after: before });
          },
        },
      }),
      h('button', {
        class: 'button button-secondary',
        attrs: { type: 'button', disabled: !more, 'data-page': 'next' },
        text: 'Next ›',
        on: {
          click: () => {
            this.#previous.push(state.after);
            this.#go({ ...state, after: last });
          },
        },
      }),
    ]);
    replace(host, [list, pager]);
  }
}
