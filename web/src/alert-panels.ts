/**
 * The pieces of the alerts page that are not the list: severity and state badges, an alert's details (its evidence
 * and transitions, from `GET /api/v1/alerts/{id}`) and the "Expected publication" panel (the publication model of a
 * zone, from `GET /api/v1/alerts/publication`).
 */
import type { Alert, AlertDetail, AlertState, PublicationExpectation, Severity } from './alert-types.ts';
import { decodeAlertDetail, decodePublication, detectorName } from './alert-types.ts';
import { describeError, isAbort } from './api-client.ts';
import type { ApiClient } from './api-client.ts';
import type { Child } from './dom.ts';
import { h, replace, table } from './dom.ts';
import { formatDuration, formatInstant, formatNumber, metricLabel } from './format.ts';
import { meterPath } from './meter-pages.ts';

const SEVERITY_LOOK: Readonly<Record<Severity, { text: string; mark: string; className: string }>> = {
  critical: { text: 'Critical', mark: '●', className: 'badge-bad' },
  warning: { text: 'Warning', mark: '▲', className: 'badge-warn' },
  info: { text: 'Info', mark: 'i', className: 'badge-info' },
};

/** A severity as a coloured badge that also says it in words (colour is never the only cue). */
export function severityBadge(severity: Severity): HTMLElement {
  const look = SEVERITY_LOOK[severity];
  return h('span', { class: `badge severity-badge ${look.className}`, data: { severity } }, [
    h('span', { class: 'severity-mark', attrs: { 'aria-hidden': 'true' }, text: look.mark }),
    look.text,
  ]);
}

const STATE_LOOK: Readonly<Record<AlertState, { text: string; className: string }>> = {
  open: { text: 'Open', className: 'badge-bad' },
  acknowledged: { text: 'Acknowledged', className: 'badge-warn' },
  resolved: { text: 'Resolved', className: 'badge-good' },
};

export function stateBadge(state: AlertState): HTMLElement {
  const look = STATE_LOOK[state];
  return h('span', { class: `badge state-badge ${look.className}`, data: { alertState: state }, text: look.text });
}

/** Where an alert is: its subject, and the zone, group and meter it concerns (the meter links to its page). */
export function subjectCell(alert: Alert): HTMLElement {
  const facts: Child[] = [];
  if (alert.zone !== null) facts.push(h('span', { text: `Zone ${alert.zone}` }));
  if (alert.group !== null) facts.push(h('span', { text: `Group ${alert.group}` }));
  if (alert.meter !== null)
    facts.push(
      h('span', {}, [
        'Meter ',
        h('a', {
          class: 'alert-meter-link',
          attrs: { href: meterPath(alert.meter), 'data-nav': true },
          text: alert.meter,
        }),
      ]),
    );
  return h('div', { class: 'alert-subject' }, [
    h('span', { class: 'alert-subject-name', text: alert.subject }),
    facts.length === 0 ? null : h('span', { class: 'alert-subject-facts' }, facts),
  ]);
}

function fact(term: string, value: Child): Child[] {
  return [h('dt', { text: term }), h('dd', {}, [value])];
}

function evidenceValue(value: number | string | null): string {
  if (value === null) return '–';
  if (typeof value === 'number') return formatNumber(value, 3);
  return value;
}

const TRANSITION_WORDS: Readonly<Record<string, string>> = {
  opened: 'Opened',
  escalated: 'Escalated',
  acknowledged: 'Acknowledged',
  resolved: 'Resolved',
};

/** The details of one alert: what it is, the evidence (window and values) and its transitions. */
export function detailView(detail: AlertDetail, onClose: () => void): HTMLElement[] {
  const a = detail.alert;
  const values = Object.entries(a.evidence.values);
  return [
    h('div', { class: 'alert-detail-header' }, [
      h('h2', { text: `Alert ${a.id}: ${detectorName(a.detector)}` }),
      severityBadge(a.severity),
      stateBadge(a.state),
      h('button', {
        class: 'button button-secondary button-small',
        attrs: { type: 'button', 'data-close-detail': true },
        text: 'Close',
        on: { click: onClose },
      }),
    ]),
    h('p', { class: 'alert-detail-message', text: a.message }),
    h('dl', { class: 'facts alert-facts' }, [
      ...fact('Subject', subjectCell(a)),
      ...fact('Evidence window (event time)', `${formatInstant(a.evidence.from)} – ${formatInstant(a.evidence.to)}`),
      ...fact('First seen', formatInstant(a.firstSeen)),
      ...fact('Last seen', formatInstant(a.lastSeen)),
      ...fact('Occurrences', String(a.occurrences)),
      ...fact(
        'Acknowledged',
        a.acknowledgedAt === null ? '–' : `${formatInstant(a.acknowledgedAt)} by ${a.acknowledgedBy ?? 'unknown'}`,
      ),
      ...fact(
        'Resolved',
        a.resolvedAt === null ? '–' : `${formatInstant(a.resolvedAt)} by ${a.resolvedBy ?? 'unknown'}`,
      ),
    ]),
    h('div', { class: 'alert-detail-columns' }, [
      h('section', { class: 'alert-evidence', attrs: { 'aria-label': 'Evidence' } }, [
        h('h3', { text: 'Evidence' }),
        values.length === 0
          ? h('p', { class: 'empty-note', text: 'The detector recorded no values.' })
          : table(
              'Evidence values',
              ['Value', 'Reading'],
              values.map(([name, value]) => [name, evidenceValue(value)]),
            ),
      ]),
      h('section', { class: 'alert-history', attrs: { 'aria-label': 'Transitions' } }, [
        h('h3', { text: 'Transitions' }),
        detail.events.length === 0
          ? h('p', { class: 'empty-note', text: 'No transition recorded.' })
          : table(
              'Transitions of the alert',
              ['Transition', 'At'],
              detail.events.map((e) => [TRANSITION_WORDS[e.transition] ?? e.transition, formatInstant(e.at)]),
            ),
      ]),
    ]),
  ];
}

/**
 * The details panel under the list: `[data-alert-detail]` with `data-state` (`closed`, `loading`, `ready`, `error`)
 * and `data-alert` (the alert shown).
 */
export class AlertDetailPanel {
  readonly el: HTMLElement;
  readonly #client: ApiClient;
  readonly #onClose: () => void;
  #controller = new AbortController();

  constructor(client: ApiClient, onClose: () => void) {
    this.#client = client;
    this.#onClose = onClose;
    this.el = h('section', {
      class: 'card alert-detail',
      attrs: { hidden: true, 'aria-live': 'polite', 'aria-label': 'Alert details' },
      data: { alertDetail: '', state: 'closed', alert: '' },
    });
  }

  get shown(): string | null {
    return this.el.hidden ? null : (this.el.dataset['alert'] ?? null);
  }

  async show(id: string): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const el = this.el;
    const first = el.dataset['alert'] !== id || el.hidden;
    el.hidden = false;
    el.dataset['alert'] = id;
    el.dataset['state'] = 'loading';
    if (first) replace(el, [h('p', { class: 'empty-note', text: `Loading alert ${id}…` })]);
    try {
      const detail = await this.#client.get(
        `/api/v1/alerts/${encodeURIComponent(id)}`,
        {},
        decodeAlertDetail,
        controller.signal,
      );
      if (controller.signal.aborted) return;
      replace(el, detailView(detail, this.#onClose));
      el.dataset['state'] = 'ready';
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      el.dataset['state'] = 'error';
      replace(el, [
        h('div', { class: 'error-box', attrs: { role: 'alert' }, text: `Alert ${id}: ${describeError(error)}` }),
      ]);
    }
  }

  close(): void {
    this.#controller.abort();
    this.el.hidden = true;
    this.el.dataset['state'] = 'closed';
    this.el.dataset['alert'] = '';
    replace(this.el, []);
  }

  destroy(): void {
    this.#controller.abort();
  }
}

function delayText(e: PublicationExpectation): string {
  if (e.usualDelayS === null) return 'not learnt yet';
  const text = formatDuration(Math.abs(e.usualDelayS) * 1000);
  const when = e.usualDelayS < 0 ? `${text} ahead` : `${text} after the slot`;
  return e.overridden ? `${when} (set in the rules)` : when;
}

function dueText(e: PublicationExpectation): string {
  if (!e.expected) return 'not on a schedule';
  return e.dueBy === null ? 'unknown' : formatInstant(e.dueBy);
}

/**
 * "Expected publication": per source and metric of the chosen zone, its resolution, usual delay and when the next
 * slot is due at the latest (`[data-publication]` with `data-state` and `data-count`).
 */
export class PublicationPanel {
  readonly el: HTMLElement;
  readonly #body: HTMLElement;
  readonly #subtitle: HTMLElement;
  readonly #client: ApiClient;
  #controller = new AbortController();

  constructor(client: ApiClient) {
    this.#client = client;
    this.#subtitle = h('p', { class: 'card-subtitle' });
    this.#body = h('div', { class: 'card-body' });
    this.el = h(
      'section',
      {
        class: 'card publication-panel',
        attrs: { 'aria-labelledby': 'publication-title' },
        data: { publication: '', state: 'idle', count: 0 },
      },
      [
        h('div', { class: 'card-header' }, [
          h('h2', { attrs: { id: 'publication-title' }, text: 'Expected publication' }),
          this.#subtitle,
        ]),
        this.#body,
      ],
    );
  }

  async show(zone: string): Promise<void> {
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    const el = this.el;
    if (zone === '') {
      el.dataset['state'] = 'idle';
      el.dataset['count'] = '0';
      this.#subtitle.textContent = 'When each source usually publishes, learnt from past arrivals.';
      replace(this.#body, [h('p', { class: 'empty-note', text: 'Choose a zone to see when its data is expected.' })]);
      return;
    }
    this.#subtitle.textContent = `Zone ${zone}: when each source usually publishes, learnt from past arrivals. A source later than "due by" raises a "Source not publishing" alert.`;
    el.dataset['state'] = 'loading';
    try {
      const model = await this.#client.get(
        '/api/v1/alerts/publication',
        { zone },
        decodePublication,
        controller.signal,
      );
      if (controller.signal.aborted) return;
      el.dataset['state'] = model.length === 0 ? 'empty' : 'ready';
      el.dataset['count'] = String(model.length);
      replace(this.#body, [
        model.length === 0
          ? h('p', { class: 'empty-note', text: `No publication has been learnt for zone ${zone} yet.` })
          : table(
              `Expected publication for zone ${zone}`,
              ['Source', 'Metric', 'Resolution', 'Usual delay', 'Due by'],
              model.map((e) => [e.source, metricLabel(e.metric), e.resolution, delayText(e), dueText(e)]),
            ),
      ]);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      el.dataset['state'] = 'error';
      el.dataset['count'] = '0';
      replace(this.#body, [
        h('div', {
          class: 'error-box',
          attrs: { role: 'alert' },
          text: `The publication model could not be loaded: ${describeError(error)}`,
        }),
      ]);
    }
  }

  destroy(): void {
    this.#controller.abort();
  }
}
