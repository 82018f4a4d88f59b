import type { PublicationExpectation } from '../alerts/index.ts';
import type { DbCallOptions, Queryable } from '../storage/index.ts';
import { HOUR_MS, SLOT_MS } from '../time/index.ts';
import type { Gap } from './gap-store.ts';

/** A half-open range of UTC instants (ms). */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** The step of a series' slots: an hour for hourly series (stored as four split quarters), else a quarter. */
export function stepOf(resolution: 'PT15M' | 'PT60M'): number {
  return resolution === 'PT60M' ? HOUR_MS : SLOT_MS;
}

/**
 * The slots of a series that are due by `now` and looked at: from `now - lookback` (and not before the series'
 * first stored slot) up to the end of the newest slot whose end plus the usual delay plus the margin has passed.
 * `null` when the model does not expect the series on a schedule (no delay known, or an override says so).
 */
export function dueWindow(
  e: PublicationExpectation,
  firstSlot: number | null,
  now: number,
  lookbackMs: number,
): Range | null {
  if (!e.expected || e.delayMs === null || firstSlot === null) return null;
  const step = stepOf(e.resolution);
  const start = Math.ceil(Math.max(now - lookbackMs, firstSlot) / step) * step;
  const end = Math.floor((now - e.delayMs - e.marginMs) / step) * step;
  return end > start ? { start, end } : null;
}

/**
 * The ranges of `window` in which the series (source, metric, zone: any production type, counterpart or qualifier)
 * has no stored value at all, in time order. Adjacent missing quarter hours form one range.
 */
export async function missingRanges(
  q: Queryable,
  s: { readonly source: string; readonly metric: string; readonly zone: string },
  window: Range,
  options: DbCallOptions = {},
): Promise<Range[]> {
  const { rows } = await q.query<{ gap_start: Date; gap_end: Date }>(
    `WITH want AS (
       SELECT w FROM generate_series($4::timestamptz, $5::timestamptz - interval '15 minutes', interval '15 minutes') AS w
     ), miss AS (
       SELECT w FROM want WHERE NOT EXISTS (
         SELECT 1 FROM grid_observations o
         WHERE o.zone = $3 AND o.metric = $2 AND o.source = $1 AND o.slot_start = want.w)
     ), islands AS (
       SELECT w, w - (row_number() OVER (ORDER BY w)) * interval '15 minutes' AS grp FROM miss
     )
     SELECT min(w) AS gap_start, max(w) + interval '15 minutes' AS gap_end FROM islands GROUP BY grp ORDER BY 1`,
    [s.source, s.metric, s.zone, new Date(window.start), new Date(window.end)],
    options,
  );
  return rows.map((r) => ({ start: r.gap_start.getTime(), end: r.gap_end.getTime() }));
}

/** What {@link reconcile} decides for one series. */
export interface Reconciliation {
  /** Stored open gaps with no missing slot left: filled. */
  readonly filled: readonly number[];
  /** Stored gaps whose missing part moved (partly filled, or grown at its end). */
  readonly moved: readonly { readonly id: number; readonly range: Range }[];
  /** Missing ranges that no stored gap covers: new pending gaps. */
  readonly added: readonly Range[];
}

const overlaps = (a: Range, b: Range): boolean => a.start < b.end && b.start < a.end;

/** `ranges` without the parts inside `cut`. */
export function subtract(ranges: readonly Range[], cut: readonly Range[]): Range[] {
  let out = [...ranges];
  for (const c of cut) {
    out = out.flatMap((r) => {
      if (!overlaps(r, c)) return [r];
      const parts: Range[] = [];
      if (r.start < c.start) parts.push({ start: r.start, end: c.start });
      if (c.end < r.end) parts.push({ start: c.end, end: r.end });
      return parts;
    });
  }
  return out;
}

/**
 * Matches what is missing now (`missing`, inside `window`) against the series' stored open gaps. A gap marked
 * "source has none" keeps its range and is not asked for again; whatever is missing outside those ranges belongs
 * to the first pending or backfilling gap it overlaps (whose range becomes the hull of its parts, so that a gap
 * that keeps growing at its end stays one gap with one count of tries), or becomes a new gap. A stored gap inside
 * the window with nothing missing any more is filled.
 */
export function reconcile(stored: readonly Gap[], missing: readonly Range[], window: Range): Reconciliation {
  const filled: number[] = [];
  const moved: { id: number; range: Range }[] = [];
  const none = stored.filter((g) => g.state === 'source_has_none');
  for (const g of none) {
    // As for the other states below: only what the window looked at can be called filled.
    if (overlaps(g, window) && !missing.some((m) => overlaps(m, g))) filled.push(g.id);
  }
  let pieces = subtract(missing, none);
  for (const g of stored) {
    if (g.state === 'source_has_none' || g.state === 'filled') continue;
    const mine = pieces.filter((p) => overlaps(p, g));
    if (mine.length === 0) {
      // Only what the window looked at can be called filled; a gap before it is forgotten elsewhere.
      if (overlaps(g, window)) filled.push(g.id);
      continue;
    }
    pieces = pieces.filter((p) => !mine.includes(p));
    const range = { start: Math.min(...mine.map((p) => p.start)), end: Math.max(...mine.map((p) => p.end)) };
    if (range.start !== g.start || range.end !== g.end) moved.push({ id: g.id, range });
  }
  return { filled, moved, added: pieces };
}
