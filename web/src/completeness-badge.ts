import type { CompletenessDay } from './api-types.ts';
import { h, replace } from './dom.ts';
import { formatNumber, metricLabel } from './format.ts';

/**
 * "97 % complete": values present against values expected in the shown range, over the metrics of the charts
 * (all metrics when the zone has none of those), with the per-metric figures in a disclosure.
 */
export class CompletenessBadge {
  readonly el: HTMLDetailsElement;
  readonly #summary: HTMLElement;
  readonly #list: HTMLElement;

  constructor() {
    this.#summary = h('summary', { class: 'badge badge-muted', text: 'Completeness…' });
    this.#list = h('ul', { class: 'completeness-list' });
    this.el = h('details', { class: 'completeness', data: { completeness: '' } }, [this.#summary, this.#list]);
  }

  setLoading(): void {
    if (this.el.dataset['completeness'] !== '') return;
    this.#summary.className = 'badge badge-muted';
    this.#summary.textContent = 'Completeness…';
  }

  setError(message: string): void {
    this.el.dataset['completeness'] = 'error';
    this.#summary.className = 'badge badge-muted';
    this.#summary.textContent = 'Completeness unknown';
    replace(this.#list, [h('li', { text: message })]);
  }

  set(days: readonly CompletenessDay[], mainMetrics: readonly string[]): void {
    const perMetric = new Map<string, { expected: number; present: number }>();
    for (const d of days) {
      const m = perMetric.get(d.metric) ?? { expected: 0, present: 0 };
      m.expected += d.expectedValues;
      m.present += d.presentValues;
      perMetric.set(d.metric, m);
    }
    const counted = [...perMetric].filter(([metric, m]) => m.expected > 0 && mainMetrics.includes(metric));
    const basis = counted.length > 0 ? counted : [...perMetric].filter(([, m]) => m.expected > 0);
    const expected = basis.reduce((n, [, m]) => n + m.expected, 0);
    const present = basis.reduce((n, [, m]) => n + m.present, 0);
    if (expected === 0) {
      this.el.dataset['completeness'] = 'none';
      this.#summary.className = 'badge badge-muted';
      this.#summary.textContent = 'No data expected';
      replace(this.#list, [h('li', { text: 'No metric of this zone has data in this range.' })]);
      return;
    }
    const ratio = Math.min(1, present / expected);
    this.el.dataset['completeness'] = ratio.toFixed(4);
    this.#summary.className = `badge ${ratio >= 0.95 ? 'badge-good' : ratio >= 0.8 ? 'badge-warn' : 'badge-bad'}`;
    this.#summary.textContent = `${formatNumber(Math.floor(ratio * 1000) / 10, 1)} % complete`;
    this.#summary.title = 'Values present / values expected in the shown range (click for details)';
    replace(
      this.#list,
      [...perMetric]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([metric, m]) =>
          h('li', {
            text: `${metricLabel(metric)}: ${m.expected === 0 ? 'n/a' : `${formatNumber((100 * m.present) / m.expected, 1)} %`} (${formatNumber(m.present)} of ${formatNumber(m.expected)} values)`,
          }),
        ),
    );
  }
}
