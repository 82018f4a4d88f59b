import type { TimeZone } from '../time/index.ts';
import { MINUTE_MS, fromLocal, toLocal } from '../time/index.ts';
import { SchedulerError } from './errors.ts';

/** A parsed five-field cron expression: minute hour day-of-month month day-of-week. */
export interface CronSchedule {
  readonly source: string;
  readonly minutes: readonly boolean[];
  readonly hours: readonly boolean[];
  /** Index 1–31. */
  readonly daysOfMonth: readonly boolean[];
  /** Index 1–12. */
  readonly months: readonly boolean[];
  /** Index 0–6, Sunday = 0. */
  readonly daysOfWeek: readonly boolean[];
  /** Cron's rule: when both day fields are restricted, a day matches if either does. */
  readonly dayOfMonthAny: boolean;
  readonly dayOfWeekAny: boolean;
}

const ALIASES: Readonly<Record<string, string>> = {
  '@hourly': '0 * * * *',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@weekly': '0 0 * * 0',
  '@monthly': '0 0 1 * *',
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
};

function field(text: string, min: number, max: number, name: string, source: string): boolean[] {
  const set = Array.from({ length: max + 1 }, () => false);
  for (const part of text.split(',')) {
    const m = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(part);
    if (m === null)
      throw new SchedulerError('scheduler.invalid_cron', `cron "${source}": cannot read ${name} "${part}"`);
    const from = m[1] === '*' ? min : Number(m[2]);
    const to = m[1] === '*' ? max : m[3] === undefined ? (m[4] === undefined ? from : max) : Number(m[3]);
    const step = m[4] === undefined ? 1 : Number(m[4]);
    if (from < min || to > max || from > to || step < 1) {
      throw new SchedulerError(
        'scheduler.invalid_cron',
        `cron "${source}": ${name} "${part}" is outside ${min}–${max}`,
      );
    }
    for (let v = from; v <= to; v += step) set[v] = true;
  }
  return set;
}

/**
 * Parses `minute hour day-of-month month day-of-week` (numbers, `*`, ranges `a-b`, lists `a,b`, steps `*∕n`,
 * day-of-week 0–7 with 0 and 7 for Sunday) and the `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` aliases.
 * @throws SchedulerError `invalid_cron`
 * @example parseCron('5 * * * *') // five past every hour
 */
export function parseCron(expression: string): CronSchedule {
  const source = expression.trim();
  const fields = (ALIASES[source] ?? source).split(/\s+/);
  if (fields.length !== 5) throw new SchedulerError('scheduler.invalid_cron', `cron "${source}": expected 5 fields`);
  const [mi, h, dom, mo, dow] = fields as [string, string, string, string, string];
  const daysOfWeek = field(dow, 0, 7, 'day of week', source);
  if (daysOfWeek[7] === true) daysOfWeek[0] = true;
  return {
    source,
    minutes: field(mi, 0, 59, 'minute', source),
    hours: field(h, 0, 23, 'hour', source),
    daysOfMonth: field(dom, 1, 31, 'day of month', source),
    months: field(mo, 1, 12, 'month', source),
    daysOfWeek: daysOfWeek.slice(0, 7),
    dayOfMonthAny: dom === '*',
    dayOfWeekAny: dow === '*',
  };
}

function dayMatches(s: CronSchedule, d: Date): boolean {
  const dom = s.daysOfMonth[d.getUTCDate()] === true;
  const dow = s.daysOfWeek[d.getUTCDay()] === true;
  if (s.dayOfMonthAny && s.dayOfWeekAny) return true;
  if (s.dayOfMonthAny) return dow;
  if (s.dayOfWeekAny) return dom;
  return dom || dow;
}

/**
 * The first instant strictly after `after` at which `schedule` fires, reading its fields as wall-clock time in
 * `timeZone`. Across DST changes: a wall time that does not exist (spring forward) fires at the same instant the
 * clock jumps to, once; a wall time that occurs twice (fall back) fires only at its first occurrence.
 */
export function nextFire(schedule: CronSchedule, after: number, timeZone: TimeZone): number {
  let local = Math.floor(toLocal(after, timeZone) / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
  // Five years of misses means the expression can never fire (e.g. 31 February).
  const limit = local + 5 * 366 * 24 * 60 * MINUTE_MS;
  while (local < limit) {
    const d = new Date(local);
    const [y, mo, day, h] = [d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours()];
    if (schedule.months[mo + 1] !== true) {
      local = Date.UTC(y, mo + 1, 1);
    } else if (!dayMatches(schedule, d)) {
      local = Date.UTC(y, mo, day + 1);
    } else if (schedule.hours[h] !== true) {
      local = Date.UTC(y, mo, day, h + 1);
    } else if (schedule.minutes[d.getUTCMinutes()] !== true) {
      local += MINUTE_MS;
    } else {
      const instant = fromLocal(local, timeZone);
      if (instant > after) return instant;
      local += MINUTE_MS;
    }
  }
  throw new SchedulerError('scheduler.invalid_cron', `cron "${schedule.source}" never fires`);
}
