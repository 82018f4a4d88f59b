import { AlertDetailPanel, PublicationPanel, severityBadge, stateBadge, subjectCell } from './alert-panels.ts';
import type { Alert, AlertState, Detector, Severity } from './alert-types.ts';
import {
  ALERT_STATES,
  DETECTORS,
  SEVERITIES,
  decodeAlertChange,
  decodeAlertList,
  detectorName,
} from './alert-types.ts';
import { ApiProblem, describeError, isAbort } from './api-client.ts';
import { decodeZones } from './api-types.ts';
import { h, replace, uid } from './dom.ts';
import { formatInstant } from './format.ts';
import type { Page, PageContext, Role } from './page-context.ts';

/** Most alerts listed (newest change first). */
export const ALERTS_LIMIT = 200;

/** The filter as the address holds it: `?state=open,acknowledged&severity=&detector=&zone=`. */
interface Filter {
  readonly states: readonly AlertState[];
  readonly severity: Severity | '';
  readonly detector: Detector | '';
  readonly zone: string;
}

const DEFAULT_STATES: readonly AlertState[] = ['open', 'acknowledged'];

function pick<T extends string>(values: readonly T[], text: string | null): T | '' {
  return text !== null && (values as readonly string[]).includes(text) ? (text as T) : '';
}

function filterFrom(params: URLSearchParams): Filter {
  const raw = params.get('state');
  const states = raw === null ? DEFAULT_STATES : ALERT_STATES.filter((s) => raw.split(',').some((x) => x.trim() === s));
  return {
    states: states.length === 0 ? DEFAULT_STATES : states,
    severity: pick(SEVERITIES, params.get('severity')),
    detector: pick(DETECTORS, params.get('detector')),
    zone: params.get('zone') ?? '',
  };
}

function search(filter: Filter): string {
  const q = new URLSearchParams();
  const isDefault =
    filter.states.length === DEFAULT_STATES.length && DEFAULT_STATES.every((s) => filter.states.includes(s));
  if (!isDefault) q.set('state', filter.states.join(','));
  if (filter.severity !== '') q.set('severity', filter.severity);
  if (filter.detector !== '') q.set('detector', filter.detector);
  if (filter.zone !== '') q.set('zone', filter.zone);
  const text = q.toString();
  return text === '' ? '' : `?${text}`;
}

function matches(filter: Filter, a: Alert): boolean {
  return (
    filter.states.includes(a.state) &&
    (filter.severity === '' || a.severity === filter.severity) &&
    (filter.detector === '' || a.detector === filter.detector) &&
    (filter.zone === '' || a.zone === filter.zone)
  );
}

const capital = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);

const mayAct = (role: Role | null): boolean => role === 'operator' || role === 'admin';

const HEADERS = ['Severity', 'Detector', 'Subject', 'Message', 'First seen', 'Last seen', 'State', 'Occurrences'];

/**
 * `/alerts`: the alerts the key may see, filtered by state, severity, detector and zone (kept in the address), with
 * Acknowledge and Resolve for operator and admin keys, an alert's evidence and transitions on click, live updates from
 * the stream's `alert` events, and the expected publication of the chosen zone. The list is `[data-alert-list]` with
 * `data-state` and `data-count`; rows carry `data-alert`, `data-severity` and `data-state`.
 */
export class AlertsPage implements Page {
  readonly el: HTMLElement;
  readonly #ctx: PageContext;
  readonly #listHost: HTMLElement;
  readonly #summary: HTMLElement;
  readonly #stateBoxes: Map<AlertState, HTMLInputElement>;
  readonly #severitySelect: HTMLSelectElement;
  readonly #detectorSelect: HTMLSelectElement;
  readonly #zoneSelect: HTMLSelectElement;
  readonly #detail: AlertDetailPanel;
  readonly #publication: PublicationPanel;
  readonly #unsubscribe: (() => void)[] = [];
  /** The rows shown, by alert id, in table order (newest change first). */
  readonly #rows = new Map<string, { alert: Alert; tr: HTMLTableRowElement }>();
  #tbody: HTMLTableSectionElement | undefined;
  #filter: Filter;
  #role: Role | null = null;
  #controller = new AbortController();
  readonly #pageController = new AbortController();

  constructor(ctx: PageContext, params: URLSearchParams) {
    this.#ctx = ctx;
    this.#filter = filterFrom(params);
    document.title = 'Alerts · gridstream';
    this.#stateBoxes = new Map(
      ALERT_STATES.map((s) => [
        s,
        h('input', {
          attrs: { type: 'checkbox', name: 'state', value: s, checked: this.#filter.states.includes(s) },
          on: {
            change: () => {
              this.#apply();
            },
          },
        }),
      ]),
    );
    const stateSet = h('fieldset', { class: 'alert-states' }, [
      h('legend', { text: 'State' }),
      ...ALERT_STATES.map((s) => h('label', { class: 'check' }, [this.#stateBoxes.get(s) ?? null, capital(s)])),
    ]);
    const severityId = uid('severity');
    const detectorId = uid('detector');
    const zoneId = uid('zone');
    const onChange = {
      change: () => {
        this.#apply();
      },
    };
    this.#severitySelect = h('select', { attrs: { id: severityId }, on: onChange }, [
      h('option', { attrs: { value: '' }, text: 'any severity' }),
      ...SEVERITIES.map((s) => h('option', { attrs: { value: s }, text: capital(s) })),
    ]);
    this.#detectorSelect = h('select', { attrs: { id: detectorId }, on: onChange }, [
      h('option', { attrs: { value: '' }, text: 'any detector' }),
      ...DETECTORS.map((d) => h('option', { attrs: { value: d }, text: detectorName(d) })),
    ]);
    this.#zoneSelect = h('select', { attrs: { id: zoneId }, on: onChange }, [
      h('option', { attrs: { value: '' }, text: 'any zone' }),
    ]);
    const filters = h(
      'form',
      {
        class: 'filters alert-filters',
        attrs: { 'aria-label': 'Alert filter' },
        on: {
          submit: (event) => {
            event.preventDefault();
            this.#apply();
          },
        },
      },
      [
        stateSet,
        h('label', { attrs: { for: severityId }, text: 'Severity' }),
        this.#severitySelect,
        h('label', { attrs: { for: detectorId }, text: 'Detector' }),
        this.#detectorSelect,
        h('label', { attrs: { for: zoneId }, text: 'Zone' }),
        this.#zoneSelect,
      ],
    );
    this.#summary = h('p', { class: 'alert-summary', attrs: { 'aria-live': 'polite' } });
    this.#listHost = h('div', { class: 'alert-list', data: { alertList: '', state: 'loading', count: 0 } });
    this.#detail = new AlertDetailPanel(ctx.client, () => {
      this.#select(null);
    });
    this.#publication = new PublicationPanel(ctx.client);
    this.el = h('div', { class: 'alerts-page' }, [
      h('h1', { text: 'Alerts' }),
      filters,
      this.#summary,
      this.#listHost,
      this.#detail.el,
      this.#publication.el,
    ]);
    this.#setControls();
    this.#unsubscribe.push(
      ctx.live.onAlerts((events) => {
        for (const e of events) this.#upsert(e.alert, true);
      }),
      ctx.live.onResume(() => {
        void this.#load();
      }),
    );
    void this.#loadZones();
    void this.#load();
  }

  applyParams(params: URLSearchParams): void {
    this.#filter = filterFrom(params);
    this.#setControls();
    void this.#load();
  }

  destroy(): void {
    this.#controller.abort();
    this.#pageController.abort();
    this.#detail.destroy();
    this.#publication.destroy();
    for (const off of this.#unsubscribe) off();
  }

  #setControls(): void {
    for (const [s, box] of this.#stateBoxes) box.checked = this.#filter.states.includes(s);
    this.#severitySelect.value = this.#filter.severity;
    this.#detectorSelect.value = this.#filter.detector;
    this.#ensureZoneOption(this.#filter.zone);
    this.#zoneSelect.value = this.#filter.zone;
  }

  #ensureZoneOption(zone: string): void {
    if (zone === '' || [...this.#zoneSelect.options].some((o) => o.value === zone)) return;
    this.#zoneSelect.append(h('option', { attrs: { value: zone }, text: zone }));
  }

  /** Takes the filter from the controls, writes it into the address (a new history entry) and reloads. */
  #apply(): void {
    const states = ALERT_STATES.filter((s) => this.#stateBoxes.get(s)?.checked === true);
    this.#filter = {
      states: states.length === 0 ? DEFAULT_STATES : states,
      severity: pick(SEVERITIES, this.#severitySelect.value),
      detector: pick(DETECTORS, this.#detectorSelect.value),
      zone: this.#zoneSelect.value,
    };
    if (states.length === 0) this.#setControls();
    const target = `/alerts${search(this.#filter)}`;
    if (`${window.location.pathname}${window.location.search}` !== target) window.history.pushState(null, '', target);
    void this.#load();
  }

  async #loadZones(): Promise<void> {
    try {
      const zones = await this.#ctx.client.get('/api/v1/zones', {}, decodeZones, this.#pageController.signal);
      const chosen = this.#filter.zone;
      for (const o of [...this.#zoneSelect.options]) if (o.value !== '') o.remove();
      this.#zoneSelect.append(
        ...zones.map((z) => h('option', { attrs: { value: z.code }, text: `${z.name} (${z.code})` })),
      );
      this.#ensureZoneOption(chosen);
      this.#zoneSelect.value = this.#filter.zone;
    } catch {
      // Without the zone list the filter keeps the zone of the address; the list says what failed, if anything.
    }
  }

  async #load(): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const filter = this.#filter;
    const host = this.#listHost;
    host.dataset['state'] = 'loading';
    host.setAttribute('aria-busy', 'true');
    void this.#publication.show(filter.zone);
    try {
      const [alerts, role] = await Promise.all([
        this.#ctx.client.get(
          '/api/v1/alerts',
          {
            state: filter.states.join(','),
            severity: filter.severity,
            detector: filter.detector,
            zone: filter.zone,
            limit: ALERTS_LIMIT,
          },
          decodeAlertList,
          controller.signal,
        ),
        this.#ctx.role().catch((): Role | null => null),
      ]);
      if (controller.signal.aborted) return;
      this.#role = role;
      this.#render(alerts);
      const shown = this.#detail.shown;
      if (shown !== null && !this.#rows.has(shown)) this.#select(null);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      host.dataset['state'] = 'error';
      host.dataset['count'] = '0';
      this.#rows.clear();
      this.#tbody = undefined;
      this.#summary.textContent = '';
      replace(host, [
        h('div', { class: 'error-box', attrs: { role: 'alert' }, text: `Alerts: ${describeError(error)}` }),
      ]);
    } finally {
      if (this.#controller === controller) host.setAttribute('aria-busy', 'false');
    }
  }

  #render(alerts: readonly Alert[]): void {
    this.#rows.clear();
    const headers = mayAct(this.#role) ? [...HEADERS, 'Actions'] : HEADERS;
    this.#tbody = h('tbody');
    for (const a of alerts) {
      const tr = this.#row(a);
      this.#rows.set(a.id, { alert: a, tr });
      this.#tbody.append(tr);
    }
    replace(this.#listHost, [
      h('div', { class: 'table-wrap' }, [
        h('table', { class: 'alert-table' }, [
          h('caption', { class: 'visually-hidden', text: 'Alerts, newest change first' }),
          h('thead', {}, [
            h(
              'tr',
              {},
              headers.map((t) => h('th', { text: t, attrs: { scope: 'col' } })),
            ),
          ]),
          this.#tbody,
        ]),
      ]),
      h('p', { class: 'empty-note alert-empty', text: 'There are no alerts matching these filters.' }),
    ]);
    this.#counted();
  }

  /** Updates the list's state, count, summary and empty note after rows came or went. */
  #counted(): void {
    const host = this.#listHost;
    const count = this.#rows.size;
    host.dataset['state'] = count === 0 ? 'empty' : 'ready';
    host.dataset['count'] = String(count);
    const wrap = host.querySelector<HTMLElement>('.table-wrap');
    const empty = host.querySelector<HTMLElement>('.alert-empty');
    if (wrap !== null) wrap.hidden = count === 0;
    if (empty !== null) empty.hidden = count !== 0;
    const open = [...this.#rows.values()].filter((r) => r.alert.state === 'open').length;
    this.#summary.textContent =
      count === 0
        ? ''
        : `${count} alert${count === 1 ? '' : 's'} shown, ${open} open${count >= ALERTS_LIMIT ? ` (the newest ${ALERTS_LIMIT})` : ''}.`;
  }

  /**
   * Shows `alert` in its row: replaces the row of the same alert when this state is not older than the one shown, or
   * (`insert`) adds a row at the top when the alert matches the filter. A row whose alert no longer matches stays
   * (with its new state) until the list is loaded again.
   */
  #upsert(alert: Alert, insert: boolean): void {
    const existing = this.#rows.get(alert.id);
    if (existing !== undefined) {
      if (Date.parse(alert.updatedAt) < Date.parse(existing.alert.updatedAt)) return;
      const tr = this.#row(alert);
      if (existing.tr.dataset['selected'] === 'true') tr.dataset['selected'] = 'true';
      existing.tr.replaceWith(tr);
      this.#rows.set(alert.id, { alert, tr });
      if (this.#detail.shown === alert.id) void this.#detail.show(alert.id);
    } else if (insert && this.#tbody !== undefined && matches(this.#filter, alert)) {
      const tr = this.#row(alert);
      this.#tbody.prepend(tr);
      this.#rows.set(alert.id, { alert, tr });
      tr.classList.add('alert-row-new');
    } else {
      return;
    }
    this.#counted();
  }

  #row(a: Alert): HTMLTableRowElement {
    const cells: HTMLTableCellElement[] = [
      h('td', {}, [severityBadge(a.severity)]),
      h('td', { text: detectorName(a.detector) }),
      h('td', {}, [subjectCell(a)]),
      h('td', { class: 'alert-message', text: a.message }),
      h('td', { text: formatInstant(a.firstSeen) }),
      h('td', { text: formatInstant(a.lastSeen) }),
      h('td', {}, [stateBadge(a.state)]),
      h('td', { class: 'num', text: String(a.occurrences) }),
    ];
    if (mayAct(this.#role)) cells.push(h('td', { class: 'alert-actions' }, this.#actions(a)));
    const tr = h(
      'tr',
      {
        class: 'alert-row',
        attrs: { tabindex: 0, 'aria-label': `Alert ${a.id}: show its evidence and transitions` },
        data: { alert: a.id, severity: a.severity, state: a.state },
        on: {
          click: (event) => {
            // Buttons and links in the row do their own thing.
            if (event.target instanceof Element && event.target.closest('button, a') !== null) return;
            this.#select(a.id);
          },
          keydown: (event) => {
            if (event.target !== tr || (event.key !== 'Enter' && event.key !== ' ')) return;
            event.preventDefault();
            this.#select(a.id);
          },
        },
      },
      cells,
    );
    return tr;
  }

  #actions(a: Alert): HTMLElement[] {
    const out: HTMLElement[] = [];
    if (a.state === 'open')
      out.push(
        h('button', {
          class: 'button button-small',
          attrs: { type: 'button', 'data-action': 'acknowledge' },
          text: 'Acknowledge',
          on: { click: () => void this.#act(a, 'acknowledge') },
        }),
      );
    if (a.state !== 'resolved')
      out.push(
        h('button', {
          class: 'button button-secondary button-small',
          attrs: { type: 'button', 'data-action': 'resolve' },
          text: 'Resolve',
          on: { click: () => void this.#act(a, 'resolve') },
        }),
      );
    return out;
  }

  async #act(a: Alert, action: 'acknowledge' | 'resolve'): Promise<void> {
    const row = this.#rows.get(a.id);
    const buttons = row === undefined ? [] : [...row.tr.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    try {
      const result = await this.#ctx.client.request('POST', `/api/v1/alerts/${encodeURIComponent(a.id)}/${action}`, {
        decode: decodeAlertChange,
        signal: this.#pageController.signal,
      });
      this.#upsert(result.alert, false);
      this.#ctx.alertsChanged?.();
      const done = action === 'acknowledge' ? 'acknowledged' : 'resolved';
      this.#ctx.notify(
        result.changed ? `Alert ${a.id} ${done}.` : `Alert ${a.id} was already ${result.alert.state}; nothing changed.`,
      );
    } catch (error) {
      if (isAbort(error)) return;
      for (const b of buttons) b.disabled = false;
      const message = error instanceof ApiProblem && error.status === 403 ? error.detail : describeError(error);
      const cell = this.#rows.get(a.id)?.tr.querySelector('.alert-actions');
      cell?.querySelector('.row-error')?.remove();
      cell?.append(h('span', { class: 'row-error', attrs: { role: 'alert' }, text: message }));
      this.#ctx.notify(`Alert ${a.id} could not be ${action}d: ${message}`, 'error');
    }
  }

  #select(id: string | null): void {
    for (const { tr } of this.#rows.values()) {
      if (tr.dataset['alert'] === id) tr.dataset['selected'] = 'true';
      else delete tr.dataset['selected'];
    }
    if (id === null) this.#detail.close();
    else {
      void this.#detail.show(id);
      this.#detail.el.scrollIntoView({ block: 'nearest' });
    }
  }
}
