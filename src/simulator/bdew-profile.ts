import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { parseCsv } from '../common/index.ts';
import { ReferenceDataError } from '../reference/index.ts';
import type { TimeZone, UtcMs } from '../time/index.ts';
import { DAY_MS, SLOT_MS, addLocalDays, startOfLocalDay, toLocal } from '../time/index.ts';

/** The BDEW standard load profiles of the 1999 edition (households, commercial, agriculture). */
export const BDEW_PROFILES = ['H0', 'G0', 'G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'L0', 'L1', 'L2'] as const;
export type BdewProfile = (typeof BDEW_PROFILES)[number];

/** `winter` 1 Nov–20 Mar, `summer` 15 May–14 Sep, `transition` the rest (local calendar dates). */
export const BDEW_PERIODS = ['winter', 'summer', 'transition'] as const;
export type BdewPeriod = (typeof BDEW_PERIODS)[number];

/** `saturday` includes 24 and 31 December when not a Sunday; `sunday` includes holidays of a given calendar. */
export const BDEW_DAY_TYPES = ['workday', 'saturday', 'sunday'] as const;
export type BdewDayType = (typeof BDEW_DAY_TYPES)[number];

/** Quarter hours of a 24-hour profile day. */
export const QUARTERS_PER_DAY = 96;

/** The shipped table: `data/reference/bdew-slp-1999.csv` (see data/reference/SOURCES.md). */
export const DEFAULT_BDEW_FILE = new URL('../../data/reference/bdew-slp-1999.csv', import.meta.url);

const RowSchema = z.object({
  profile_id: z.enum(BDEW_PROFILES),
  period: z.enum(BDEW_PERIODS),
  day: z.enum(BDEW_DAY_TYPES),
  timestamp: z.string().regex(/^([01]\d|2[0-3]):(00|15|30|45)$/),
  watts: z.coerce.number().nonnegative(),
});

/**
 * The BDEW profile table: the mean power in watts of a customer normalised to 1,000 kWh a year, per profile,
 * period, day type and local quarter hour (0 = 00:00–00:15 … 95 = 23:45–24:00). Build one with
 * {@link loadBdewProfiles}.
 */
export class BdewProfiles {
  readonly #watts: ReadonlyMap<string, Float64Array>;

  constructor(watts: ReadonlyMap<string, Float64Array>) {
    this.#watts = watts;
  }

  /** The 96 quarter-hour watts of one profile day. */
  day(profile: BdewProfile, period: BdewPeriod, dayType: BdewDayType): Float64Array {
    const values = this.#watts.get(`${profile}|${period}|${dayType}`);
    if (values === undefined) throw new ReferenceDataError('reference.unknown_code', `no BDEW day ${profile}`);
    return values;
  }

  /** Watts in local quarter hour `quarter` (0–95). */
  watts(profile: BdewProfile, period: BdewPeriod, dayType: BdewDayType, quarter: number): number {
    return this.day(profile, period, dayType)[quarter] ?? 0;
  }
}

/**
 * Reads and validates (zod) the BDEW profile CSV: every row typed, every one of the 11 × 3 × 3 days complete with
 * its 96 quarter hours exactly once. Throws `reference.data_invalid` otherwise.
 */
export function loadBdewProfiles(file: URL | string = DEFAULT_BDEW_FILE): BdewProfiles {
  const rows = parseCsv(readFileSync(file, 'utf8'));
  const days = new Map<string, Float64Array>();
  const seen = new Map<string, number>();
  rows.forEach((raw, i) => {
    const parsed = RowSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ReferenceDataError(
        'reference.data_invalid',
        `bdew-slp-1999.csv line ${i + 2}: ${parsed.error.message}`,
      );
    }
    const row = parsed.data;
    const key = `${row.profile_id}|${row.period}|${row.day}`;
    const values = days.get(key) ?? new Float64Array(QUARTERS_PER_DAY).fill(Number.NaN);
    days.set(key, values);
    const quarter = Number(row.timestamp.slice(0, 2)) * 4 + Number(row.timestamp.slice(3, 5)) / 15;
    if (!Number.isNaN(values[quarter] ?? 0)) {
      throw new ReferenceDataError('reference.data_invalid', `bdew-slp-1999.csv line ${i + 2}: ${key} repeated`);
    }
    values[quarter] = row.watts;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  });
  for (const profile of BDEW_PROFILES)
    for (const period of BDEW_PERIODS)
      for (const day of BDEW_DAY_TYPES) {
        const key = `${profile}|${period}|${day}`;
        if (seen.get(key) !== QUARTERS_PER_DAY)
          throw new ReferenceDataError('reference.data_invalid', `bdew-slp-1999.csv: ${key} lacks quarter hours`);
      }
  return new BdewProfiles(days);
}

/** The BDEW period of a local calendar date (month 1–12). */
export function bdewPeriod(month: number, day: number): BdewPeriod {
  const md = month * 100 + day;
  if (md >= 1101 || md <= 320) return 'winter';
  if (md >= 515 && md <= 914) return 'summer';
  return 'transition';
}

/**
 * A set of local dates (`YYYY-MM-DD`) that count as Sundays (public holidays). Without one, no holiday is assumed:
 * BDEW treats holidays as Sundays, but which days are holidays depends on the region.
 */
export type HolidayCalendar = ReadonlySet<string>;

/** The BDEW day type of a local calendar date. */
export function bdewDayType(year: number, month: number, day: number, holidays?: HolidayCalendar): BdewDayType {
  const weekday = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  if (weekday === 0) return 'sunday';
  const iso = `${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
  if (holidays?.has(iso) === true) return 'sunday';
  if (weekday === 6 || (month === 12 && (day === 24 || day === 31))) return 'saturday';
  return 'workday';
}

/** One 15-minute interval of a local day, with the profile coordinates it takes its value from. */
export interface ProfileQuarter {
  /** Interval start, UTC. */
  readonly ts: UtcMs;
  /** The local calendar date, `YYYY-MM-DD`. */
  readonly localDate: string;
  readonly period: BdewPeriod;
  readonly dayType: BdewDayType;
  /** Local wall-clock quarter hour (0–95) whose profile value the interval takes. */
  readonly quarter: number;
}

/**
 * The profile coordinates of the 15-minute interval starting at `ts` (UTC), mapped by LOCAL WALL-CLOCK quarter
 * hour in `tz`: on a 23-hour day (spring forward) the skipped hour has no intervals, so its four profile values are
 * not used (92 intervals); on a 25-hour day (fall back) the repeated hour takes its four profile values twice (100
 * intervals). A day's energy is therefore the profile day's minus or plus one hour of it.
 */
export function profileQuarter(ts: number, tz: TimeZone, holidays?: HolidayCalendar): ProfileQuarter {
  const local = toLocal(ts, tz);
  const date = new Date(local);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth() + 1;
  const day = date.getUTCDate();
  return {
    ts: ts as UtcMs,
    localDate: date.toISOString().slice(0, 10),
    period: bdewPeriod(month, day),
    dayType: bdewDayType(year, month, day, holidays),
    quarter: Math.floor((((local % DAY_MS) + DAY_MS) % DAY_MS) / SLOT_MS),
  };
}

/** Every 15-minute interval of the local day containing `t` in `tz` (92, 96 or 100 of them). */
export function localDayQuarters(t: number, tz: TimeZone, holidays?: HolidayCalendar): ProfileQuarter[] {
  const start = startOfLocalDay(t, tz);
  const end = addLocalDays(start, tz, 1);
  const out: ProfileQuarter[] = [];
  for (let ts = start as number; ts < end; ts += SLOT_MS) out.push(profileQuarter(ts, tz, holidays));
  return out;
}
