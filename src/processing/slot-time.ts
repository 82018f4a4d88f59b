import { DAY_MS, SLOT_MS } from '../time/index.ts';

const TIMES = Array.from({ length: 96 }, (_, i) => {
  const minutes = i * 15;
  return `${String(Math.floor(minutes / 60)).padStart(2, '0')}:${String(minutes % 60).padStart(2, '0')}:00Z`;
});

let cachedDay = Number.NaN;
let cachedPrefix = '';

/**
 * `YYYY-MM-DDTHH:MM:00Z` of a slot start. Formatting millions of slots with `toISOString` dominates chunk
 * building, so the date part is cached per day and the time part comes from a table.
 */
export function slotIso(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay) {
    cachedDay = day;
    cachedPrefix = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  return cachedPrefix + (TIMES[(ms - day * DAY_MS) / SLOT_MS] ?? '');
}

/** Parses a slot timestamp written by {@link slotIso} (or any UTC ISO instant). */
export function parseSlotIso(iso: string): number {
  return Date.parse(iso);
}
