import { SLOT_MS } from '../time/index.ts';

/** One 15-minute slot of an intensity series: its start (UTC ms, on a quarter hour) and value (gCO2eq/kWh). */
export interface IntensitySlot {
  readonly start: number;
  readonly value: number;
}

/** What {@link searchWindows} looks for. */
export interface WindowSearch {
  /** No window starts before this (UTC ms); off a quarter hour, the first quarter hour after it is the first start. */
  readonly earliest: number;
  /** No window ends after this (UTC ms). */
  readonly latest: number;
  /** The window's length: a whole number of 15-minute slots. */
  readonly durationMs: number;
  /** How many windows to keep (the best first). */
  readonly top: number;
}

/** A window `[start, end)` and the mean intensity of its slots. */
export interface ScoredWindow {
  readonly start: number;
  readonly end: number;
  readonly mean: number;
}

/** What {@link searchWindows} found. */
export interface WindowSearchResult {
  /** The first candidate start: the first quarter hour at or after `earliest`. */
  readonly firstStart: number;
  /** The window that starts at `firstStart` ("run now"), or `null` when it does not fit or misses a slot. */
  readonly atEarliest: ScoredWindow | null;
  /** The best `top` windows: lowest mean first, ties to the earliest start. */
  readonly windows: ScoredWindow[];
  /** Candidate starts whose window fits in the range (with or without missing slots). */
  readonly candidates: number;
  /** Of those, the windows with every slot present (the only ones scored). */
  readonly complete: number;
}

/** The first quarter hour at or after `t`. */
export function ceilToSlot(t: number): number {
  return Math.ceil(t / SLOT_MS) * SLOT_MS;
}

/** The last quarter hour at or before `t`. */
export function floorToSlot(t: number): number {
  return Math.floor(t / SLOT_MS) * SLOT_MS;
}

/** Means closer than 1/TIE_SCALE gCO2eq/kWh rank as equal, and the earlier start wins. */
const TIE_SCALE = 1e6;

/**
 * The best windows of `durationMs` within `[earliest, latest]` over a series of 15-minute slots — the carbon-aware
 * SDK's "optimal data points" of a forecast, for any stored or forecast series.
 *
 * - Candidate starts are the quarter hours `s` with `ceilToSlot(earliest) <= s` and `s + durationMs <= latest`
 *   (UTC instants: a DST change of any zone has no effect, every slot lasts 15 minutes).
 * - A window's score is the time-weighted mean intensity of its slots; every slot lasts 15 minutes, so that is
 *   their plain mean (summed in slot order, then divided by their number).
 * - A window missing any slot is not a candidate: a mean over the slots present would pretend to know the missing
 *   ones. Slots off a quarter hour, outside the range or with a non-finite value are ignored; the last value
 *   given for a slot wins.
 * - The best windows are those with the lowest mean; equal means (to a millionth of a gCO2eq/kWh) go to the
 *   earliest start. Windows may overlap
 *   (the second best is often the best shifted by 15 minutes): each is a possible start, as in the SDK.
 *
 * @example
 * searchWindows(slots, { earliest: Date.parse('2024-05-21T10:05Z'), latest: Date.parse('2024-05-22T10:00Z'),
 *   durationMs: 2 * HOUR_MS, top: 3 }); // first start 10:15, last start 08:00 the next day
 */
export function searchWindows(slots: readonly IntensitySlot[], search: WindowSearch): WindowSearchResult {
  const { earliest, latest, durationMs, top } = search;
  if (!Number.isFinite(earliest) || !Number.isFinite(latest) || latest < earliest)
    throw new RangeError('searchWindows: earliest and latest must be finite, latest not before earliest');
  if (!Number.isInteger(durationMs / SLOT_MS) || durationMs <= 0)
    throw new RangeError('searchWindows: durationMs must be a positive multiple of 15 minutes');
  if (!Number.isInteger(top) || top < 1) throw new RangeError('searchWindows: top must be a whole number ≥ 1');
  const firstStart = ceilToSlot(earliest);
  const length = durationMs / SLOT_MS;
  const lastEnd = floorToSlot(latest);
  const span = lastEnd > firstStart ? (lastEnd - firstStart) / SLOT_MS : 0;
  // values[i] is the slot starting at firstStart + i·15 min; NaN where the series has none.
  const values = new Array<number>(span).fill(Number.NaN);
  for (const slot of slots) {
    if (slot.start % SLOT_MS !== 0 || !Number.isFinite(slot.value)) continue;
    const i = (slot.start - firstStart) / SLOT_MS;
    if (i >= 0 && i < span) values[i] = slot.value;
  }
  const candidates = Math.max(0, span - length + 1);
  const scored: ScoredWindow[] = [];
  let atEarliest: ScoredWindow | null = null;
  for (let i = 0; i < candidates; i++) {
    let sum = 0;
    let complete = true;
    for (let j = i; j < i + length; j++) {
      const v = values[j] ?? Number.NaN;
      if (Number.isNaN(v)) {
        complete = false;
        break;
      }
      sum += v;
    }
    if (!complete) continue;
    const start = firstStart + i * SLOT_MS;
    const window = { start, end: start + durationMs, mean: sum / length };
    if (i === 0) atEarliest = window;
    scored.push(window);
  }
  // Lowest mean, then earliest start. Means are compared to a millionth of a gram: a float sum depends on the order
  // of its terms, so windows holding the same values in another order (hourly data spread over quarter hours, means
  // of the same days) would otherwise rank by rounding noise rather than by start.
  const key = (w: ScoredWindow) => Math.round(w.mean * TIE_SCALE);
  const windows = [...scored].sort((a, b) => key(a) - key(b) || a.start - b.start).slice(0, top);
  return { firstStart, atEarliest, windows, candidates, complete: scored.length };
}

/** The saving of running in `best` instead of `reference` (both means in gCO2eq/kWh); `null` without a reference. */
export function savingOf(
  reference: ScoredWindow | null,
  best: ScoredWindow,
): { readonly gPerKwh: number; readonly percent: number | null } | null {
  if (reference === null) return null;
  const g = reference.mean - best.mean;
  return { gPerKwh: g, percent: reference.mean === 0 ? null : (g / reference.mean) * 100 };
}
