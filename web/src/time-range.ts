/** Time ranges of the zone page: presets relative to the zone's latest data, or custom local dates. */

export const PRESET_DAYS = { '1d': 1, '3d': 3, '7d': 7 } as const;
export type Preset = keyof typeof PRESET_DAYS;
export const PRESETS = Object.keys(PRESET_DAYS) as Preset[];

export const RESOLUTIONS = ['PT15M', 'PT1H', 'P1D'] as const;
export type Resolution = (typeof RESOLUTIONS)[number];

/** What the user chose: a preset ending at the latest data, or inclusive local dates (`YYYY-MM-DD`). */
export type RangeChoice =
  | { readonly kind: 'preset'; readonly preset: Preset }
  | { readonly kind: 'custom'; readonly from: string; readonly to: string };

/** A resolved range: epoch milliseconds, `to` exclusive. */
export interface TimeRange {
  readonly from: number;
  readonly to: number;
  readonly resolution: Resolution;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;
/** The API's longest range at the coarsest resolution. */
export const MAX_CUSTOM_DAYS = 3650;

export function isPreset(value: string): value is Preset {
  return value in PRESET_DAYS;
}

export function isIsoDate(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(`${value}T00:00:00Z`));
}

/** A resolution giving a few hundred points at most per series. */
export function resolutionFor(spanMs: number): Resolution {
  if (spanMs <= 3.5 * DAY) return 'PT15M';
  if (spanMs <= 62 * DAY) return 'PT1H';
  return 'P1D';
}

export function resolutionMs(resolution: Resolution): number {
  switch (resolution) {
    case 'PT15M':
      return 15 * MINUTE;
    case 'PT1H':
      return HOUR;
    case 'P1D':
      return DAY;
    default:
      return resolution satisfies never;
  }
}

/** `days` days ending after `anchor` (the start of the latest 15-minute slot), rounded up to the hour. */
export function presetRange(anchor: number, preset: Preset): TimeRange {
  const to = Math.ceil((anchor + 15 * MINUTE) / HOUR) * HOUR;
  const from = to - PRESET_DAYS[preset] * DAY;
  return { from, to, resolution: resolutionFor(to - from) };
}

/** Local dates `from`…`to` (inclusive) in `timeZone`. */
export function customRange(from: string, to: string, timeZone: string): TimeRange {
  const start = zoneMidnight(from, timeZone);
  let end = zoneMidnight(addDays(to, 1), timeZone);
  if (end <= start) end = start + DAY;
  if (end - start > MAX_CUSTOM_DAYS * DAY) end = start + MAX_CUSTOM_DAYS * DAY;
  return { from: start, to: end, resolution: resolutionFor(end - start) };
}

export function addDays(date: string, days: number): string {
  return new Date(Date.parse(`${date}T00:00:00Z`) + days * DAY).toISOString().slice(0, 10);
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();

/** Offset of `timeZone` from UTC at `ms`, in milliseconds (Helsinki in summer: +3 h). */
export function zoneOffset(ms: number, timeZone: string): number {
  let format = offsetFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    });
    offsetFormats.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(new Date(ms))) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  const local = Date.UTC(
    parts['year'] ?? 1970,
    (parts['month'] ?? 1) - 1,
    parts['day'] ?? 1,
    parts['hour'] ?? 0,
    parts['minute'] ?? 0,
    parts['second'] ?? 0,
  );
  return local - Math.floor(ms / 1000) * 1000;
}

/** The instant of local midnight starting `date` in `timeZone`. */
export function zoneMidnight(date: string, timeZone: string): number {
  const guess = Date.parse(`${date}T00:00:00Z`);
  const first = guess - zoneOffset(guess, timeZone);
  // Across a DST change the offset at the guess may differ from the one at the answer.
  return guess - zoneOffset(first, timeZone);
}

/** The local date (`YYYY-MM-DD`) of `ms` in `timeZone`. */
export function localDate(ms: number, timeZone: string): string {
  return new Date(ms + zoneOffset(ms, timeZone)).toISOString().slice(0, 10);
}

/** The range as the API wants it. */
export function rangeParams(range: TimeRange): { from: string; to: string; resolution: Resolution } {
  return {
    from: new Date(range.from).toISOString(),
    to: new Date(range.to).toISOString(),
    resolution: range.resolution,
  };
}
