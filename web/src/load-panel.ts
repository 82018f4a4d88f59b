import { describeError, isAbort } from './api-client.ts';
import { ChartCard } from './chart-card.ts';
import type { Child } from './dom.ts';
import { h, replace, table, uid } from './dom.ts';
import { formatDate, formatDateTime, formatNumber } from './format.ts';
import type { LoadView } from './meter-load.ts';
import { formatExact, loadChartSpec, loadTotal, qualityCounts, stillFilling } from './meter-load.ts';
import type { DayResolution, EnergyQuantity, LoadPeriod } from './meter-period.ts';
import {
  isIsoMonth,
  periodBounds,
  periodLabel,
  periodQuery,
  periodWindows,
  shiftPeriod,
  switchView,
  todayIn,
} from './meter-period.ts';
import type { LoadPoint, LoadSeries } from './meter-types.ts';
import { isIsoDate } from './time-range.ts';

/** How often a period that is still filling is loaded again. */
const REFRESH_MS = 5 * 60_000;

function periodKey(period: LoadPeriod): string {
  return period.view === 'day' ? period.date : period.month;
}

export interface LoadPanelOptions {
  /** `data-card` of the chart card (`meter-load`, `group-load`). */
  readonly name: string;
  readonly title: string;
  /** Loads the series of a period (bare local dates, the view's resolution, the quantity). */
  readonly load: (
    query: ReturnType<typeof periodQuery> & { quantity: EnergyQuantity },
    signal: AbortSignal,
  ) => Promise<LoadSeries>;
  /** The user chose another period or quantity: the page writes it into the address. */
  readonly onPeriod: (period: LoadPeriod, quantity: EnergyQuantity) => void;
  /** A sentence for a failed load (404 and 403 say what they mean for this page). */
  readonly describe?: (error: unknown) => string;
  /** The group load shows how many meter values each window sums. */
  readonly withCount?: boolean;
}

/**
 * A meter's or a group's energy for one local day (quarter hours, each window's quality visible, provisional ones
 * dashed) or one local month (a bar per day), with stepping, the sums, and every window in a table. The state is on
 * `el` for tests: `data-view`, `data-period`, `data-quantity`, and on the card `data-state`, `data-windows`, `data-missing`,
 * `data-provisional`, `data-total`.
 */
export class LoadPanel {
  readonly el: HTMLElement;
  readonly #options: LoadPanelOptions;
  readonly #card: ChartCard;
  readonly #heading: HTMLElement;
  readonly #radios = new Map<LoadView, HTMLInputElement>();
  readonly #quantityRadios = new Map<EnergyQuantity, HTMLInputElement>();
  #quantity: EnergyQuantity = 'energy_import';
  readonly #dateInput: HTMLInputElement;
  readonly #tableHost: HTMLElement;
  #timeZone: string | undefined;
  #dayResolution: DayResolution = 'PT15M';
  #period: LoadPeriod;
  /** The period whose table is shown. */
  #shown = '';
  #controller = new AbortController();
  #refreshTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(options: LoadPanelOptions, period: LoadPeriod, timeZone?: string) {
    this.#options = options;
    this.#period = period;
    this.#timeZone = timeZone;
    this.#card = new ChartCard(options.name, options.title, { wide: true });
    this.#heading = h('p', { class: 'period-label', attrs: { 'aria-live': 'polite' } });
    const name = uid('view');
    const radios = (['day', 'month'] as const).map((view) => {
      const input = h('input', {
        attrs: { type: 'radio', name, value: view },
        on: {
          change: () => {
            this.#choose(switchView(this.#period, view, this.#today()));
          },
        },
      });
      this.#radios.set(view, input);
      return h('label', { class: 'segment' }, [input, h('span', { text: view === 'day' ? 'Day' : 'Month' })]);
    });
    const quantityName = uid('quantity');
    const quantities = (['energy_import', 'energy_export'] as const).map((quantity) => {
      const input = h('input', {
        attrs: { type: 'radio', name: quantityName, value: quantity },
        on: {
          change: () => {
            this.#options.onPeriod(this.#period, quantity);
            this.show(this.#period, quantity);
          },
        },
      });
      this.#quantityRadios.set(quantity, input);
      return h('label', { class: 'segment' }, [
        input,
        h('span', { text: quantity === 'energy_import' ? 'Import' : 'Export' }),
      ]);
    });
    const dateId = uid('period');
    this.#dateInput = h('input', {
      attrs: { id: dateId, type: 'date', required: true },
      on: {
        change: () => {
          this.#onDateInput();
        },
      },
    });
    const step = (label: string, text: string, steps: number): HTMLElement =>
      h('button', {
        class: 'button button-secondary',
        attrs: { type: 'button', 'aria-label': label, 'data-step': steps },
        text,
        on: {
          click: () => {
            this.#choose(shiftPeriod(this.#period, steps));
          },
        },
      });
    this.#tableHost = h('div', { class: 'load-table' });
    this.el = h('div', { class: 'load-panel' }, [
      h('div', { class: 'toolbar', attrs: { role: 'group', 'aria-label': 'Period' } }, [
        h('fieldset', { class: 'segments' }, [h('legend', { text: 'View' }), ...radios]),
        h('fieldset', { class: 'segments' }, [h('legend', { text: 'Energy' }), ...quantities]),
        h('div', { class: 'period-step' }, [
          step('Previous period', '‹ Previous', -1),
          h('label', { class: 'visually-hidden', attrs: { for: dateId }, text: 'Period' }),
          this.#dateInput,
          step('Next period', 'Next ›', 1),
        ]),
      ]),
      this.#heading,
      this.#card.el,
      this.#tableHost,
    ]);
    this.#showControls();
  }

  /** The meter's (group's) time zone, once known: it says where "today" is. */
  setTimeZone(timeZone: string): void {
    this.#timeZone = timeZone;
  }

  /** The windows of the day view: hours for a meter that reports less often than every quarter hour. */
  setDayResolution(resolution: DayResolution): void {
    this.#dayResolution = resolution;
  }

  /** Shows `period` of `quantity` (from the address) and loads it. */
  show(period: LoadPeriod, quantity: EnergyQuantity = this.#quantity): void {
    this.#period = period;
    this.#quantity = quantity;
    this.#showControls();
    void this.#load();
  }

  /** Nothing to load (the meter could not be read): the reason in the card. */
  showError(message: string): void {
    this.#controller.abort();
    clearTimeout(this.#refreshTimer);
    this.#card.setError(message);
    this.#tableHost.replaceChildren();
  }

  destroy(): void {
    this.#controller.abort();
    clearTimeout(this.#refreshTimer);
    this.#card.destroy();
  }

  #today(): string {
    return todayIn(this.#timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone);
  }

  #choose(period: LoadPeriod): void {
    this.#options.onPeriod(period, this.#quantity);
    this.show(period);
  }

  #onDateInput(): void {
    const value = this.#dateInput.value;
    if (this.#period.view === 'day' && isIsoDate(value)) this.#choose({ view: 'day', date: value });
    else if (this.#period.view === 'month' && isIsoMonth(value)) this.#choose({ view: 'month', month: value });
  }

  #showControls(): void {
    const period = this.#period;
    const radio = this.#radios.get(period.view);
    if (radio !== undefined) radio.checked = true;
    const quantityRadio = this.#quantityRadios.get(this.#quantity);
    if (quantityRadio !== undefined) quantityRadio.checked = true;
    this.el.dataset['quantity'] = this.#quantity;
    this.#dateInput.type = period.view === 'day' ? 'date' : 'month';
    this.#dateInput.value = period.view === 'day' ? period.date : period.month;
    this.#heading.textContent = periodLabel(period);
    this.el.dataset['view'] = period.view;
    this.el.dataset['period'] = periodKey(period);
  }

  async #load(): Promise<void> {
    this.#controller.abort();
    clearTimeout(this.#refreshTimer);
    const controller = new AbortController();
    this.#controller = controller;
    const period = this.#period;
    this.#card.setLoading();
    try {
      const series = await this.#options.load(
        { ...periodQuery(period, this.#dayResolution), quantity: this.#quantity },
        controller.signal,
      );
      if (controller.signal.aborted) return;
      this.#timeZone = series.timeZone;
      this.#render(series, period);
      this.#scheduleRefresh(series, period);
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      this.showError((this.#options.describe ?? describeError)(error));
    }
  }

  #render(series: LoadSeries, period: LoadPeriod): void {
    const { to } = periodBounds(period, series.timeZone);
    const counts = qualityCounts(series.points);
    const total = loadTotal(series.points);
    const label = periodLabel(period);
    const zoneNote = `times in ${series.timeZone}`;
    if (counts.byQuality.missing === counts.total) {
      this.#card.setEmpty(`No values for ${label}: every window is missing (${zoneNote}).`);
    } else {
      const spec = loadChartSpec(
        series,
        period.view,
        to,
        `${this.#options.title}, ${label}, ${windowWord(series, true)} in ${series.unit}`,
      );
      this.#card.setChart(spec, this.#notes(series, period, counts, total));
    }
    const card = this.#card.el;
    card.dataset['windows'] = String(counts.total);
    card.dataset['expected'] = String(
      periodWindows(period, series.timeZone, series.resolution === 'PT1H' ? 'PT1H' : 'PT15M'),
    );
    card.dataset['missing'] = String(counts.byQuality.missing);
    card.dataset['provisional'] = String(counts.provisional);
    card.dataset['total'] = total ?? '';
    card.dataset['period'] = periodKey(period);
    // A reload of the same period keeps the table open if it was.
    const open = this.#tableHost.querySelector('details')?.open === true && this.#shown === periodKey(period);
    const details = this.#table(series, period);
    details.open = open;
    this.#shown = periodKey(period);
    replace(this.#tableHost, [details]);
  }

  #notes(
    series: LoadSeries,
    period: LoadPeriod,
    counts: ReturnType<typeof qualityCounts>,
    total: string | null,
  ): Child[] {
    const windows = windowWord(series, true);
    const parts = (['measured', 'estimated', 'substituted', 'missing'] as const)
      .filter((q) => counts.byQuality[q] > 0)
      .map((q) => `${formatNumber(counts.byQuality[q])} ${q}`);
    if (counts.incomplete > 0) parts.push(`${formatNumber(counts.incomplete)} incomplete (some windows missing)`);
    const notes: Child[] = [
      h('span', { class: 'load-total' }, [
        'Total ',
        h('strong', { text: total === null ? '–' : `${formatExact(total)} ${series.unit}` }),
        ` over ${formatNumber(counts.total)} ${windows} (times in ${series.timeZone}).`,
      ]),
      h('span', { class: 'quality-summary' }, [
        `Quality: ${parts.join(', ')}.`,
        counts.provisional > 0
          ? ` ${formatNumber(counts.provisional)} ${counts.provisional === 1 ? 'window is' : 'windows are'} provisional (may still change: drawn dashed${period.view === 'month' ? ', grey bars' : ''}).`
          : '',
      ]),
    ];
    return notes;
  }

  /**
   * A period that is not over yet, or has provisional windows, gets new values as the meters job goes on: load it
   * again every few minutes while the page is visible (in place: the chart stays, the table stays open).
   */
  #scheduleRefresh(series: LoadSeries, period: LoadPeriod): void {
    const { to } = periodBounds(period, series.timeZone);
    if (!stillFilling(series.points, to, Date.now())) return;
    this.#refreshTimer = setTimeout(() => {
      if (document.visibilityState === 'visible') void this.#load();
      else this.#scheduleRefresh(series, period);
    }, REFRESH_MS);
  }

  #table(series: LoadSeries, period: LoadPeriod): HTMLDetailsElement {
    const withCount = this.#options.withCount === true;
    const time = (p: LoadPoint): string =>
      period.view === 'day' ? formatDateTime(p.ts, series.timeZone) : formatDate(p.ts, series.timeZone);
    const headers = [period.view === 'day' ? 'Start' : 'Day', `Energy (${series.unit})`, 'Quality', 'Status'];
    if (withCount) headers.push('Values summed');
    const rows = series.points.map((p): Child[] => {
      const cells: Child[] = [
        time(p),
        p.value === null ? '–' : formatExact(p.value),
        qualityCell(p),
        p.final ? 'final' : h('span', { class: 'badge badge-warn', text: 'provisional' }),
      ];
      if (withCount) cells.push(p.count === undefined ? '–' : formatNumber(p.count));
      return cells;
    });
    const el = table(`${this.#options.title}: every window`, headers, rows);
    el.querySelectorAll('tbody tr').forEach((tr, i) => {
      const p = series.points[i];
      if (p === undefined || !(tr instanceof HTMLElement)) return;
      tr.dataset['quality'] = p.quality;
      tr.dataset['final'] = String(p.final);
    });
    return h('details', { class: 'load-details' }, [
      h('summary', {
        text: `Every ${windowWord(series, false)} (${formatNumber(series.points.length)})`,
      }),
      el,
    ]);
  }
}

/** A window's quality as a word: a sum with a value whose windows are partly missing is "incomplete". */
function qualityCell(p: LoadPoint): HTMLElement {
  const word = p.value === null ? 'missing' : p.quality === 'missing' ? 'incomplete' : p.quality;
  return h('span', { class: `quality quality-${word}`, text: word });
}

/** What a window of the series is called (`quarter hours`, `hour`, `days`). */
function windowWord(series: LoadSeries, plural: boolean): string {
  const word = { PT15M: 'quarter hour', PT1H: 'hour', P1D: 'day', P1M: 'month' }[series.resolution];
  return plural ? `${word}s` : word;
}
