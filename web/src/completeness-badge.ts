import type { Completeness, CompletenessGap, GapState } from './api-types.ts';
import { h, replace } from './dom.ts';
import { formatInstant, formatNumber, metricLabel } from './format.ts';

/** How each gap state reads. */
export const GAP_STATE_LABELS: Readonly<Record<GapState, string>> = {
  pending: 'pending',
  backfilling: 'backfilling',
  filled: 'filled',
  source_has_none: 'source has none',
};

/** `gap 24 May 2024, 12:00 – 15:00 (12 slots): backfilling, try 1, next …` — one gap in words. */
export function gapLine(g: CompletenessGap): string {
  const tries = g.tries === 0 ? '' : `, ${g.tries} ${g.tries === 1 ? 'try' : 'tries'}`;
  const next = g.nextAttemptAt === null ? '' : `, next look ${formatInstant(g.nextAttemptAt)}`;
  const outcome = g.lastOutcome === null ? '' : ` (last: ${g.lastOutcome})`;
  return `${metricLabel(g.metric)} gap ${formatInstant(g.start)} – ${formatInstant(g.end)} (${formatNumber(g.slots)} quarter hours): ${GAP_STATE_LABELS[g.state]}${tries}${next}${outcome}`;
}

/** `2 gaps: 1 backfilling, 1 source has none` for the gaps not filled; empty when there are none. */
export function gapSummary(gaps: readonly CompletenessGap[]): string {
  const open = gaps.filter((g) => g.state !== 'filled');
  if (open.length === 0) return '';
  const parts = (['pending', 'backfilling', 'source_has_none'] as const)
    .map((s) => [s, open.filter((g) => g.state === s).length] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${GAP_STATE_LABELS[s]}`);
  return `${open.length} ${open.length === 1 ? 'gap' : 'gaps'}: ${parts.join(', ')}`;
}

/**
 * "97 % complete": values present against values expected in the shown range, over the metrics of the charts
 * (all metrics when the zone has none of those), with the per-metric figures in a disclosure; and the gaps found in
 * the range (expected slots missing after their usual delay) with where their targeted backfill stands.
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

  set(completeness: Completeness, mainMetrics: readonly string[]): void {
    const { days, gaps } = completeness;
    const open = gapSummary(gaps);
    this.el.dataset['gaps'] = String(gaps.filter((g) => g.state !== 'filled').length);
    const gapItems = gaps.map((g) => h('li', { class: `gap gap-${g.state}`, text: gapLine(g) }));
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
      replace(this.#list, [h('li', { text: 'No metric of this zone has data in this range.' }), ...gapItems]);
      return;
    }
    const ratio = Math.min(1, present / expected);
    this.el.dataset['completeness'] = ratio.toFixed(4);
    this.#summary.className = `badge ${ratio >= 0.95 ? 'badge-good' : ratio >= 0.8 ? 'badge-warn' : 'badge-bad'}`;
    this.#summary.textContent = `${formatNumber(Math.floor(ratio * 1000) / 10, 1)} % complete${open === '' ? '' : ` · ${open}`}`;
    this.#summary.title =
      'Values present / values expected in the shown range, and the gaps found in it with their backfill (click for details)';
    replace(
      this.#list,
      [...perMetric]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([metric, m]) =>
          h('li', {
            text: `${metricLabel(metric)}: ${m.expected === 0 ? 'n/a' : `${formatNumber((100 * m.present) / m.expected, 1)} %`} (${formatNumber(m.present)} of ${formatNumber(m.expected)} values)`,
          }),
        )
        .concat(gapItems),
    );
  }
}
