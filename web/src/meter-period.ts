/**
 * The period a meter or group page shows: one local day (quarter hours) or one local month (days), in the meter's
 * (group's) time zone, with stepping and the address bar's form. Pure: the unit tests run it in Node.
 */
import type { MeterResolution } from './meter-types.ts';
import { addDays, isIsoDate, localDate, zoneMidnight } from './time-range.ts';

export type LoadPeriod =
  { readonly view: 'day'; readonly date: string } | { readonly view: 'month'; readonly month: string };

export function isIsoMonth(value: string): boolean {
  return /^\d{4}-(0[1-9]|1[0-2])$/.test(value);
}

/** `'2026-03'` moved by `months` (`addMonths('2026-12', 1)` → `'2027-01'`). */
export function addMonths(month: string, months: number): string {
  const [year = 1970, m = 1] = month.split('-').map(Number);
  const index = year * 12 + (m - 1) + months;
  return `${String(Math.floor(index / 12)).padStart(4, '0')}-${String((index % 12) + 1).padStart(2, '0')}`;
}

/** Today's local date in `timeZone` (`now`: epoch ms). */
export function todayIn(timeZone: string, now: number = Date.now()): string {
  return localDate(now, timeZone);
}

/**
 * The period in the address (`?view=month&month=2026-03`, `?date=2026-03-29`), else today (`today`, a local date)
 * as a day.
 */
export function periodFrom(params: URLSearchParams, today: string): LoadPeriod {
  const month = params.get('month') ?? '';
  if (params.get('view') === 'month') return { view: 'month', month: isIsoMonth(month) ? month : today.slice(0, 7) };
  const date = params.get('date') ?? '';
  return { view: 'day', date: isIsoDate(date) ? date : today };
}

/** The energy a load view shows: drawn from the grid (import) or fed into it (export). */
export type EnergyQuantity = 'energy_import' | 'energy_export';

/** The address's quantity (`?quantity=energy_export`); import when it names none or another. */
export function quantityFrom(params: URLSearchParams): EnergyQuantity {
  return params.get('quantity') === 'energy_export' ? 'energy_export' : 'energy_import';
}

/** The address's query for `period` (and the quantity, when it is not import). */
export function periodSearch(period: LoadPeriod, quantity: EnergyQuantity = 'energy_import'): string {
  const base = period.view === 'day' ? `?date=${period.date}` : `?view=month&month=${period.month}`;
  return quantity === 'energy_import' ? base : `${base}&quantity=${quantity}`;
}

/** The period before (`-1`) or after (`1`). */
export function shiftPeriod(period: LoadPeriod, steps: number): LoadPeriod {
  return period.view === 'day'
    ? { view: 'day', date: addDays(period.date, steps) }
    : { view: 'month', month: addMonths(period.month, steps) };
}

/** The other view around the same time: a day's month, or a month's first day (today when the month holds it). */
export function switchView(period: LoadPeriod, view: LoadPeriod['view'], today: string): LoadPeriod {
  if (period.view === view) return period;
  if (period.view === 'day') return { view: 'month', month: period.date.slice(0, 7) };
  return { view: 'day', date: today.startsWith(period.month) ? today : `${period.month}-01` };
}

/** Windows of a day view of a meter reporting every `interval` (PT5M … PT60M): quarter hours, or hours for a meter
 * coarser than a quarter hour (the API refuses windows finer than the meter's interval). */
export type DayResolution = 'PT15M' | 'PT1H';

export function dayResolutionFor(interval: string): DayResolution {
  const minutes = Number(/^PT(\d+)M$/.exec(interval)?.[1] ?? '15');
  return minutes > 15 ? 'PT1H' : 'PT15M';
}

/**
 * What the API is asked: bare local dates (the API places them at 00:00 in the meter's or group's time zone) and
 * the resolution of the view.
 */
export function periodQuery(
  period: LoadPeriod,
  dayResolution: DayResolution = 'PT15M',
): { from: string; to: string; resolution: MeterResolution } {
  if (period.view === 'day') return { from: period.date, to: addDays(period.date, 1), resolution: dayResolution };
  return { from: `${period.month}-01`, to: `${addMonths(period.month, 1)}-01`, resolution: 'P1D' };
}

/** The period's instants in `timeZone` (epoch ms, `to` exclusive): a Berlin autumn DST day is 25 hours long. */
export function periodBounds(period: LoadPeriod, timeZone: string): { from: number; to: number } {
  const q = periodQuery(period);
  return { from: zoneMidnight(q.from, timeZone), to: zoneMidnight(q.to, timeZone) };
}

/** Windows of the period: 92, 96 or 100 quarter hours (23, 24, 25 hours) in a day; 28–31 days in a month. */
export function periodWindows(period: LoadPeriod, timeZone: string, dayResolution: DayResolution = 'PT15M'): number {
  const { from, to } = periodBounds(period, timeZone);
  if (period.view === 'day') return Math.round((to - from) / (dayResolution === 'PT1H' ? 3_600_000 : 900_000));
  const q = periodQuery(period);
  return Math.round((Date.parse(`${q.to}T00:00:00Z`) - Date.parse(`${q.from}T00:00:00Z`)) / 86_400_000);
}

/** A heading for the period in the page locale (`Sunday, 26 October 2025`, `October 2025`). */
export function periodLabel(period: LoadPeriod, locale?: string): string {
  // The local date is a calendar date: format it at UTC noon so that no time zone moves it.
  if (period.view === 'day')
    return new Intl.DateTimeFormat(locale, {
      timeZone: 'UTC',
      weekday: 'long',
      day: 'numeric',
      month: 'long',
      year: 'numeric',
    }).format(Date.parse(`${period.date}T12:00:00Z`));
  return new Intl.DateTimeFormat(locale, { timeZone: 'UTC', month: 'long', year: 'numeric' }).format(
    Date.parse(`${period.month}-15T12:00:00Z`),
  );
}
