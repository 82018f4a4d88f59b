/**
 * A meter's readings or a group's load as a chart with each window's quality visible, and the sums under it. Pure
 * (no DOM): the unit tests run it in Node.
 */
import { ApiProblem, describeError } from './api-client.ts';
import type { LoadPoint, LoadSeries, MeterQuality } from './meter-types.ts';
import type { ChartLine, ChartSpec } from './time-chart.ts';

/**
 * How a window is drawn. `provisional`: it may still change; the qualities are those of final windows;
 * `incomplete`: a sum (day, group) with some of its windows missing — the API says `missing` with a value.
 */
export const LOAD_KINDS = ['measured', 'provisional', 'estimated', 'substituted', 'incomplete', 'missing'] as const;
export type LoadKind = (typeof LOAD_KINDS)[number];

export const KIND_LABELS: Readonly<Record<LoadKind, string>> = {
  measured: 'Measured',
  provisional: 'Provisional',
  estimated: 'Estimated',
  substituted: 'Substituted',
  incomplete: 'Incomplete',
  missing: 'Missing',
};

const COLORS: Readonly<Record<LoadKind, string>> = {
  measured: '#0f766e',
  provisional: '#64748b',
  estimated: '#d97706',
  substituted: '#7c3aed',
  incomplete: '#f87171',
  missing: '#dc2626',
};

/** The view: one local day of quarter hours, or one local month of days. */
export type LoadView = 'day' | 'month';

/** A window's numeric value for drawing (the exact text stays in the table and the sums). */
function drawn(point: LoadPoint): number | null {
  return point.value === null ? null : Number(point.value);
}

/** One value per point where `keep` holds, null elsewhere (a gap). */
function where(points: readonly LoadPoint[], keep: (p: LoadPoint) => boolean): (number | null)[] {
  return points.map((p) => (keep(p) ? drawn(p) : null));
}

/** The kind of a bar of the month view: provisional before quality (the day is not settled yet). */
export function barKind(point: LoadPoint): LoadKind {
  if (point.value === null) return 'missing';
  if (!point.final) return 'provisional';
  return point.quality === 'missing' ? 'incomplete' : point.quality;
}

/**
 * The chart of a series. The day view draws final windows as a stepped line and provisional ones dashed, gaps where
 * a window is missing, and marks estimated, substituted and missing windows (missing on the zero line). The month
 * view draws a bar per day, coloured by {@link barKind}; missing days stay empty. `end` (epoch ms) is where the last
 * window ends, so that the axis spans the whole day or month (a 25-hour day shows 25 hours).
 */
export function loadChartSpec(series: LoadSeries, view: LoadView, end: number, description: string): ChartSpec {
  const points = series.points;
  const xs = [...points.map((p) => p.ts / 1000), end / 1000];
  const pad = (values: (number | null)[]): (number | null)[] => [...values, null];
  const hasQuality = (q: MeterQuality): boolean => points.some((p) => p.quality === q && p.value !== null);
  const lines: ChartLine[] = [];
  if (view === 'day') {
    lines.push({
      label: 'Energy',
      color: COLORS.measured,
      values: pad(where(points, (p) => p.final)),
      step: true,
      closeSteps: true,
    });
    if (points.some((p) => !p.final && p.value !== null))
      lines.push({
        label: KIND_LABELS.provisional,
        color: COLORS.provisional,
        values: pad(where(points, (p) => !p.final)),
        step: true,
        closeSteps: true,
        dash: [6, 4],
      });
    for (const quality of ['estimated', 'substituted'] as const) {
      if (!hasQuality(quality)) continue;
      lines.push({
        label: KIND_LABELS[quality],
        color: COLORS[quality],
        values: pad(where(points, (p) => p.quality === quality)),
        marker: true,
      });
    }
    if (points.some((p) => p.value === null))
      lines.push({
        label: KIND_LABELS.missing,
        color: COLORS.missing,
        values: pad(points.map((p) => (p.value === null ? 0 : null))),
        marker: true,
        valueText: (v) => (v === null ? '–' : 'no value'),
      });
  } else {
    const kinds = LOAD_KINDS.filter((k) => k !== 'missing' && points.some((p) => barKind(p) === k));
    for (const kind of kinds.length === 0 ? (['measured'] as const) : kinds) {
      lines.push({
        label: KIND_LABELS[kind],
        color: COLORS[kind],
        values: pad(where(points, (p) => barKind(p) === kind)),
        bars: true,
      });
    }
  }
  return {
    description,
    unit: series.unit,
    timeZone: series.timeZone,
    xs,
    lines,
    fromZero: true,
    ...(view === 'month' ? { dateOnly: true } : {}),
  };
}

/** Windows per quality (`missing`: no value), how many have a value but some windows missing, and how many are provisional. */
export interface QualityCounts {
  readonly total: number;
  readonly byQuality: Readonly<Record<MeterQuality, number>>;
  readonly incomplete: number;
  readonly provisional: number;
}

export function qualityCounts(points: readonly LoadPoint[]): QualityCounts {
  const byQuality: Record<MeterQuality, number> = { measured: 0, estimated: 0, substituted: 0, missing: 0 };
  let provisional = 0;
  let incomplete = 0;
  for (const p of points) {
    if (p.value !== null && p.quality === 'missing') incomplete += 1;
    else byQuality[p.value === null ? 'missing' : p.quality] += 1;
    if (!p.final) provisional += 1;
  }
  return { total: points.length, byQuality, incomplete, provisional };
}

/**
 * The exact sum of decimal strings (`'0.125' + '1.5'` → `'1.625'`), without a float on the way: totals of meter
 * values are shown as exact as the values.
 */
export function sumDecimals(values: readonly string[]): string {
  let scale = 0;
  for (const v of values) scale = Math.max(scale, (v.split('.')[1] ?? '').length);
  let total = 0n;
  for (const v of values) {
    const negative = v.startsWith('-');
    const [int = '0', frac = ''] = (negative ? v.slice(1) : v).split('.');
    const units = BigInt(`${int}${frac.padEnd(scale, '0')}`);
    total += negative ? -units : units;
  }
  const negative = total < 0n;
  const digits = (negative ? -total : total).toString().padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const frac = digits.slice(digits.length - scale).replace(/0+$/, '');
  return `${negative ? '-' : ''}${int}${frac === '' ? '' : `.${frac}`}`;
}

/** Whether a period ending at `to` may still get values: it is not over (`now`), or a window is provisional. */
export function stillFilling(points: readonly LoadPoint[], to: number, now: number): boolean {
  return to > now || points.some((p) => !p.final);
}

/** The sum of the windows with a value (null when none has one). */
export function loadTotal(points: readonly LoadPoint[]): string | null {
  const values = points.flatMap((p) => (p.value === null ? [] : [p.value]));
  return values.length === 0 ? null : sumDecimals(values);
}

/**
 * An exact decimal in the page locale without going through a float: the integer part grouped, the fraction kept
 * (`1234.5625` → `1,234.5625` in en-US, `1.234,5625` in de-DE).
 */
export function formatExact(value: string, locale?: string): string {
  const negative = value.startsWith('-');
  const [int = '0', frac] = (negative ? value.slice(1) : value).split('.');
  const parts = new Intl.NumberFormat(locale).formatToParts(1234.5);
  const group = parts.find((p) => p.type === 'group')?.value ?? ',';
  const point = parts.find((p) => p.type === 'decimal')?.value ?? '.';
  const grouped = int.replace(/\B(?=(\d{3})+(?!\d))/g, group);
  return `${negative ? '-' : ''}${grouped}${frac === undefined || frac === '' ? '' : `${point}${frac}`}`;
}

/**
 * What a failed meter read means for the user: a 404 is also the answer for a meter or group the key may not see
 * (the API hides them), a 403 a range that reaches into another group's past, a 401 a missing key.
 */
export function describeMeterError(error: unknown, what: string): string {
  if (error instanceof ApiProblem) {
    if (error.status === 404)
      return `${what} was not found, or this API key may not read it (meters of other zones and groups are not shown).`;
    if (error.status === 403) return `This API key may not read ${what}: ${error.detail}.`;
    if (error.status === 401) return `Meter data needs an API key: sign in with one (${error.detail}).`;
  }
  return describeError(error);
}
