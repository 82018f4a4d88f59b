import type { Child } from './dom.ts';
import { h, replace, uid } from './dom.ts';
import type { ChartSpec } from './time-chart.ts';
import { TimeChart } from './time-chart.ts';

export const CARD_STATES = ['loading', 'ready', 'empty', 'error'] as const;
export type CardState = (typeof CARD_STATES)[number];

/**
 * A titled panel of the zone page holding one chart, or a plain sentence when there is nothing to draw (no
 * empty axes). Its state is on the element for tests and styles: `data-state`, `data-series`, `data-points`.
 */
export class ChartCard {
  readonly el: HTMLElement;
  readonly #body: HTMLElement;
  readonly #notes: HTMLElement;
  readonly #plotHost: HTMLElement;
  #chart: TimeChart | undefined;

  constructor(name: string, title: string, options: { readonly wide?: boolean; readonly subtitle?: string } = {}) {
    const titleId = uid('card-title');
    this.#plotHost = h('div', { class: 'plot', data: { chart: name } });
    this.#body = h('div', { class: 'card-body' });
    this.#notes = h('div', { class: 'card-notes' });
    this.el = h(
      'section',
      {
        class: `card${options.wide === true ? ' card-wide' : ''}`,
        attrs: { 'aria-labelledby': titleId, 'aria-busy': 'true' },
        data: { card: name, state: 'loading', series: 0, points: 0 },
      },
      [
        h('header', { class: 'card-header' }, [
          h('h2', { text: title, attrs: { id: titleId } }),
          options.subtitle === undefined ? null : h('p', { class: 'card-subtitle', text: options.subtitle }),
        ]),
        this.#body,
        this.#notes,
      ],
    );
    this.setLoading();
  }

  get state(): CardState {
    return (this.el.dataset['state'] ?? 'loading') as CardState;
  }

  setLoading(): void {
    // Keep the chart shown while it reloads (live updates); only an empty card shows the placeholder.
    if (this.state === 'ready') return;
    this.#set('loading', 0, 0);
    replace(this.#body, [h('div', { class: 'placeholder', text: 'Loading…' })]);
    this.#notes.replaceChildren();
  }

  setChart(spec: ChartSpec, notes: readonly Child[] = []): void {
    if (this.#body.firstChild !== this.#plotHost) replace(this.#body, [this.#plotHost]);
    this.#chart ??= new TimeChart(this.#plotHost);
    this.#chart.render(spec);
    this.#set('ready', spec.lines.length, Number(this.#plotHost.dataset['points'] ?? '0'));
    replace(
      this.#notes,
      notes.map((n) => h('p', { class: 'note' }, [n])),
    );
  }

  /** Nothing to draw; `absent` when the zone has no such data at all (a smaller box). */
  setEmpty(message: string, extra: readonly Child[] = [], absent = false): void {
    this.#dropChart();
    this.#set('empty', 0, 0);
    replace(this.#body, [
      h('div', { class: absent ? 'empty empty-absent' : 'empty' }, [h('p', { text: message }), ...extra]),
    ]);
    this.#notes.replaceChildren();
  }

  setError(message: string): void {
    this.#dropChart();
    this.#set('error', 0, 0);
    replace(this.#body, [h('div', { class: 'error-box', attrs: { role: 'alert' }, text: message })]);
    this.#notes.replaceChildren();
  }

  /** Re-creates the chart with the current colours. */
  redraw(): void {
    this.#chart?.redraw();
  }

  destroy(): void {
    this.#dropChart();
  }

  #dropChart(): void {
    this.#chart?.destroy();
    this.#chart = undefined;
    this.#plotHost.replaceChildren();
  }

  #set(state: CardState, series: number, points: number): void {
    this.el.dataset['state'] = state;
    this.el.dataset['series'] = String(series);
    this.el.dataset['points'] = String(points);
    this.el.setAttribute('aria-busy', state === 'loading' ? 'true' : 'false');
  }
}
