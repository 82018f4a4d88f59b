/**
 * Axis labels of the charts in the page's locale, like the rest of the page (uPlot's own labels are English:
 * `5/24`, `11am`, `1234.5`). Pure; `locale` is for tests — the page passes none and gets the browser's.
 */

const SECOND = 1;
const HOUR = 3600 * SECOND;
const DAY = 24 * HOUR;
const MONTH = 28 * DAY;
const YEAR = 365 * DAY;

/** An axis reaching this is shortened (`1.2M`, `1,2 Mio.`) to fit; below, grouped digits fit (`123.456`). */
const COMPACT_FROM = 1_000_000;

const formats = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: string | undefined, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `n|${locale ?? ''}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!(format instanceof Intl.NumberFormat)) {
    format = new Intl.NumberFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

function dateFormat(locale: string | undefined, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `d|${locale ?? ''}|${JSON.stringify(options)}`;
  let format = formats.get(key);
  if (!(format instanceof Intl.DateTimeFormat)) {
    format = new Intl.DateTimeFormat(locale, options);
    formats.set(key, format);
  }
  return format;
}

/** Fraction digits that tell ticks `increment` apart (2.5 → 1, 0.25 → 2), at most 3. */
function digitsFor(increment: number): number {
  for (let digits = 0; digits < 3; digits++) {
    const scaled = increment * 10 ** digits;
    if (Math.abs(scaled - Math.round(scaled)) < 1e-6) return digits;
  }
  return 3;
}

/**
 * Labels of a value axis with ticks `increment` apart: `1.234,5` in de-DE, `1,234.5` in en-US; an axis reaching
 * a million is shortened as the locale does it (`1.2M`, `1,2 Mio.`).
 */
export function valueAxisLabels(splits: readonly number[], increment: number, locale?: string): string[] {
  const compact = splits.some((v) => Math.abs(v) >= COMPACT_FROM);
  const format = compact
    ? numberFormat(locale, { notation: 'compact', maximumFractionDigits: 1 })
    : numberFormat(locale, { maximumFractionDigits: digitsFor(increment) });
  return splits.map((v) => format.format(v));
}

/** The calendar day of an instant in `timeZone`, to see where a new day (month, year) starts. */
function dayParts(ms: number, timeZone: string): { year: string; month: string; day: string } {
  const parts = dateFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).formatToParts(ms);
  const part = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? '';
  return { year: part('year'), month: part('month'), day: part('day') };
}

/**
 * Labels of a time axis (ticks at epoch seconds `splits`, `increment` seconds apart) in `timeZone`: times of day
 * (`11:00`), with the date under the first tick and where a day starts (`24. Mai`); days (`24. Mai`), with the year
 * under the first and where a year starts; months (`Mai`, year likewise); years (`2024`). Two lines are split by
 * `\n` (uPlot draws each).
 */
export function timeAxisLabels(
  splits: readonly number[],
  increment: number,
  timeZone: string,
  locale?: string,
): string[] {
  const time = dateFormat(locale, { timeZone, timeStyle: 'short' });
  const dayMonth = dateFormat(locale, { timeZone, day: 'numeric', month: 'short' });
  const dayMonthYear = dateFormat(locale, { timeZone, day: 'numeric', month: 'short', year: 'numeric' });
  const month = dateFormat(locale, { timeZone, month: 'short' });
  const year = dateFormat(locale, { timeZone, year: 'numeric' });
  let previous: { year: string; month: string; day: string } | undefined;
  return splits.map((s) => {
    const ms = s * 1000;
    const parts = dayParts(ms, timeZone);
    const newYear = previous?.year !== parts.year;
    const newDay = newYear || previous?.month !== parts.month || previous.day !== parts.day;
    previous = parts;
    if (increment >= YEAR) return year.format(ms);
    if (increment >= MONTH) return newYear ? `${month.format(ms)}\n${year.format(ms)}` : month.format(ms);
    if (increment >= DAY) return newYear ? `${dayMonth.format(ms)}\n${year.format(ms)}` : dayMonth.format(ms);
    if (!newDay) return time.format(ms);
    return `${time.format(ms)}\n${(newYear ? dayMonthYear : dayMonth).format(ms)}`;
  });
}

/**
 * Pixels between time ticks: room for a time of day in the locale (`11:00` needs less than `11:00 AM`), and never
 * less than uPlot's default of 50.
 */
export function timeAxisSpace(locale?: string): number {
  const sample = dateFormat(locale, { timeZone: 'UTC', timeStyle: 'short' }).format(Date.UTC(2024, 0, 1, 23));
  return Math.max(50, sample.length * 7 + 12);
}
