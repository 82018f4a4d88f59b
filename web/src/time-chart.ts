import uPlot from 'uplot';
import { timeAxisLabels, timeAxisSpace, valueAxisLabels } from './chart-axes.ts';
import { formatDate, formatDateTime, formatValue } from './format.ts';
import { closeSteps, countPoints, stackSeries } from './series-data.ts';

export interface ChartLine {
  readonly label: string;
  readonly color: string;
  /** One value per x, null for a gap. */
  readonly values: readonly (number | null)[];
  readonly dash?: readonly number[];
  /** Draw as steps (prices hold for their whole slot). */
  readonly step?: boolean;
  /** With `step`: a value before a gap, and the last one, are drawn over their whole slot, up to the next x. */
  readonly closeSteps?: boolean;
  /** Draw each value as a bar over its slot (from its x to the next). */
  readonly bars?: boolean;
  /** Draw each value as a marker only, no line (qualities of single slots). */
  readonly marker?: boolean;
  /** The legend's text for a value (default: the value with the chart's unit). */
  readonly valueText?: (value: number | null) => string;
}

export interface ChartSpec {
  /** What the chart shows, for screen readers. */
  readonly description: string;
  readonly unit: string;
  readonly timeZone: string;
  /** Epoch seconds. */
  readonly xs: readonly number[];
  readonly lines: readonly ChartLine[];
  /** Stacked areas, first line at the bottom. */
  readonly stacked?: boolean;
  /** Keep 0 on the y axis. */
  readonly fromZero?: boolean;
  /** The legend shows dates without a time of day (daily values). */
  readonly dateOnly?: boolean;
}

const HEIGHT_WIDE = 280;
const HEIGHT_NARROW = 220;

function cssVar(name: string, fallback: string): string {
  const value = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return value === '' ? fallback : value;
}

/** Lines drawn on a dark background get lighter (the palette is chosen for a light one). */
function forScheme(hex: string): string {
  if (!window.matchMedia('(prefers-color-scheme: dark)').matches) return hex;
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) return hex;
  const lighten = (c: string | undefined): number => Math.round(parseInt(c ?? '0', 16) * 0.55 + 255 * 0.45);
  return `rgb(${lighten(m[1])}, ${lighten(m[2])}, ${lighten(m[3])})`;
}

function withAlpha(hex: string, alpha: number): string {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (m === null) return hex;
  return `rgba(${parseInt(m[1] ?? '0', 16)}, ${parseInt(m[2] ?? '0', 16)}, ${parseInt(m[3] ?? '0', 16)}, ${alpha})`;
}

/**
 * A uPlot time-series chart that follows its container's width, draws times in the zone's time zone and axis
 * labels in the page's locale, shows values with units in its legend, and keeps legend toggles across data updates (a stacked chart re-stacks
 * without the hidden series).
 */
export class TimeChart {
  readonly #host: HTMLElement;
  readonly #observer: ResizeObserver;
  #plot: uPlot | undefined;
  #shape = '';
  #spec: ChartSpec | undefined;
  #hidden = new Set<number>();

  constructor(host: HTMLElement) {
    this.#host = host;
    this.#observer = new ResizeObserver(() => {
      this.#resize();
    });
    this.#observer.observe(host);
  }

  /** Draws `spec`, updating the existing plot in place when the series are the same. */
  render(spec: ChartSpec): void {
    const shape = `${spec.stacked === true ? 's' : 'l'}|${spec.unit}|${spec.timeZone}|${spec.lines.map((l) => l.label).join('|')}`;
    this.#spec = spec;
    this.#host.dataset['series'] = String(spec.lines.length);
    this.#host.dataset['points'] = String(countPoints(spec.lines.map((l) => l.values)));
    this.#host.setAttribute('role', 'img');
    this.#host.setAttribute('aria-label', spec.description);
    if (this.#plot !== undefined && shape === this.#shape) {
      this.#applyData(this.#plot, spec);
      return;
    }
    this.#plot?.destroy();
    this.#hidden = new Set();
    this.#shape = shape;
    this.#plot = new uPlot(this.#options(spec), this.#data(spec), this.#host);
    this.#keyboardLegend(this.#plot, spec);
  }

  /** uPlot's legend toggles a series on click only: make each entry a keyboard-operable toggle button too. */
  #keyboardLegend(plot: uPlot, spec: ChartSpec): void {
    plot.root.querySelectorAll<HTMLElement>('.u-legend .u-series').forEach((row, i) => {
      if (i === 0) return;
      const label = spec.lines[i - 1]?.label ?? '';
      const sync = (): void => {
        row.setAttribute('aria-pressed', String(plot.series[i]?.show !== false));
      };
      row.tabIndex = 0;
      row.setAttribute('role', 'button');
      row.setAttribute('aria-label', `Show or hide ${label}`);
      sync();
      row.addEventListener('keydown', (event) => {
        if (event.key !== 'Enter' && event.key !== ' ') return;
        event.preventDefault();
        plot.setSeries(i, { show: plot.series[i]?.show === false });
        sync();
      });
      row.addEventListener('click', () => {
        queueMicrotask(sync);
      });
    });
  }

  /** Rebuilds the plot (after a colour scheme change). */
  redraw(): void {
    const spec = this.#spec;
    if (spec === undefined) return;
    this.#shape = '';
    this.render(spec);
  }

  destroy(): void {
    this.#observer.disconnect();
    this.#plot?.destroy();
    this.#plot = undefined;
  }

  #size(): { width: number; height: number } {
    const width = Math.max(240, Math.floor(this.#host.clientWidth));
    return { width, height: width < 560 ? HEIGHT_NARROW : HEIGHT_WIDE };
  }

  #resize(): void {
    const plot = this.#plot;
    if (plot === undefined) return;
    const size = this.#size();
    if (size.width !== plot.width || size.height !== plot.height) plot.setSize(size);
  }

  #data(spec: ChartSpec): uPlot.AlignedData {
    const ys = spec.lines.map((l) => (l.step === true && l.closeSteps === true ? closeSteps(l.values) : l.values));
    const values = spec.stacked === true ? stackSeries(ys, this.#hidden).stacked : ys.map((v) => [...v]);
    return [[...spec.xs], ...values];
  }

  #applyData(plot: uPlot, spec: ChartSpec): void {
    if (spec.stacked === true) this.#setBands(plot, spec);
    plot.setData(this.#data(spec));
  }

  #setBands(plot: uPlot, spec: ChartSpec): void {
    const { bands } = stackSeries(
      spec.lines.map((l) => l.values),
      this.#hidden,
    );
    plot.delBand(null);
    for (const [upper, lower] of bands) plot.addBand({ series: [upper, lower] });
  }

  #options(spec: ChartSpec): uPlot.Options {
    const axis = cssVar('--chart-axis', '#4b5563');
    const grid = cssVar('--chart-grid', 'rgba(0,0,0,0.08)');
    const font = '12px system-ui, sans-serif';
    const stacked = spec.stacked === true;
    const raw = (si: number, i: number): number | null => this.#spec?.lines[si - 1]?.values[i] ?? null;
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    // A value before a gap keeps its step up to the gap (the slot it holds for).
    const closedSteps = uPlot.paths.stepped?.({ align: 1, alignGaps: 1 });
    const bars = uPlot.paths.bars?.({ align: 1, size: [0.8, Infinity] });
    const time = (v: number | null): string =>
      v === null
        ? '–'
        : spec.dateOnly === true
          ? formatDate(v * 1000, spec.timeZone)
          : formatDateTime(v * 1000, spec.timeZone);
    // Without a cursor on the plot the legend shows each line's latest value (no hovering needed to read one).
    const latestIndex = (line: ChartLine): number | null => {
      for (let i = line.values.length - 1; i >= 0; i--)
        if (line.values[i] !== null && line.values[i] !== undefined) return i;
      return null;
    };
    const series: uPlot.Series[] = [
      { label: 'Time', value: (_u, v: number | null) => (v === null ? 'latest values' : time(v)) },
      ...spec.lines.map((line, i): uPlot.Series => ({
        label: line.label,
        stroke: stacked ? line.color : forScheme(line.color),
        width: stacked ? 1 : 2,
        ...(stacked ? { fill: withAlpha(line.color, 0.85) } : {}),
        ...(line.bars === true ? { fill: withAlpha(line.color, 0.7) } : {}),
        ...(line.dash === undefined ? {} : { dash: [...line.dash] }),
        ...(line.step === true && stepped !== undefined ? { paths: stepped } : {}),
        ...(line.step === true && line.closeSteps === true && closedSteps !== undefined ? { paths: closedSteps } : {}),
        ...(line.bars === true && bars !== undefined ? { paths: bars } : {}),
        ...(line.marker === true ? { paths: () => null } : {}),
        points:
          line.marker === true
            ? { show: true, size: 8, width: 2, stroke: forScheme(line.color), fill: forScheme(line.color) }
            : { show: false },
        value: (_u, _v, si, idx) => {
          const current = this.#spec?.lines[si - 1] ?? line;
          const latest = idx === null ? latestIndex(current) : null;
          const at = idx ?? latest;
          if (at === null) return '–';
          const value = raw(si, at);
          const text = line.valueText === undefined ? formatValue(value, spec.unit) : line.valueText(value);
          const x = this.#spec?.xs[at];
          return idx === null && x !== undefined ? `${text} (${time(x)})` : text;
        },
        show: !this.#hidden.has(i),
      })),
    ];
    const bands = stacked
      ? stackSeries(
          spec.lines.map((l) => l.values),
          this.#hidden,
        ).bands.map(([upper, lower]): uPlot.Band => ({ series: [upper, lower] }))
      : [];
    return {
      ...this.#size(),
      series,
      bands,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), spec.timeZone),
      scales: {
        x: { time: true },
        y: {
          range: (_u, min, max) => {
            const lo = spec.fromZero === true || stacked ? Math.min(0, min) : min;
            const hi = max > lo ? max : lo + 1;
            const pad = (hi - lo) * 0.05;
            return [spec.fromZero === true || stacked ? lo : lo - pad, hi + pad];
          },
        },
      },
      axes: [
        {
          stroke: axis,
          font,
          space: timeAxisSpace(),
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (_u, splits, _axis, _space, increment) => timeAxisLabels(splits, increment, spec.timeZone),
        },
        {
          stroke: axis,
          font,
          size: 56,
          grid: { stroke: grid, width: 1 },
          ticks: { stroke: grid, width: 1 },
          values: (_u, splits, _axis, _space, increment) => valueAxisLabels(splits, increment),
          label: spec.unit,
          labelFont: font,
          labelSize: 18,
        },
      ],
      legend: { live: true },
      cursor: { drag: { x: false, y: false }, focus: { prox: 16 } },
      hooks: {
        setSeries: [
          (plot, seriesIdx) => {
            if (seriesIdx === null) return;
            const current = this.#spec;
            if (current?.stacked !== true) return;
            const hidden = new Set<number>();
            plot.series.forEach((s, i) => {
              if (i > 0 && s.show === false) hidden.add(i - 1);
            });
            this.#hidden = hidden;
            this.#applyData(plot, current);
          },
        ],
      },
    };
  }
}
