import type { DbCallOptions, DbTransaction } from './db.ts';
import type { ObservationRow } from './observation-rows.ts';
import { issuedMicros } from './observation-rows.ts';
import { READ_EXISTING } from './observation-sql.ts';

/** Rows of a batch sorted by what the database already holds for their keys. */
export interface ClassifiedRows {
  /** Keys not stored: can be COPYed straight into the table. */
  readonly fresh: ObservationRow[];
  /** Keys stored with another value, unit or flags: need the upsert (and make a revision). */
  readonly changed: ObservationRow[];
  /** Keys stored with this value, unit and flags but an earlier (or unknown) issue time: only the issue time moves. */
  readonly confirmed: ObservationRow[];
  /**
   * Keys stored with exactly this value, unit and flags (and an issue time at least as late), or with a value issued after
   * this one (a stale replay): nothing to write.
   */
  readonly unchanged: number;
}

/** A gap wider than this (in slots) starts a new run, so that a sparse series does not read long stretches. */
const MAX_GAP_SLOTS = 4;
const SLOT_MS = 15 * 60_000;
/** Never a real unit: the stored units of the run differ. */
const MIXED = '\u0000mixed';

interface Stored {
  readonly value: number;
  readonly unit: string;
  /** Flags as stored, `;`-joined in their stored order; '' for none. */
  readonly flags: string;
  /** Issue time in epoch µs, `null` when unknown. */
  readonly issued: number | null;
}

interface Run {
  readonly first: ObservationRow;
  lo: number;
  hi: number;
}

/**
 * Reads, for every contiguous run of slots of every series in the batch, what is stored (one index range scan
 * per run), and compares in memory. This is what makes a replay cheap: a batch already stored is answered by
 * reads alone, with no staging, no row locks and no WAL; and rows that are new are known to be new.
 */
export async function classifyAgainstStored(
  tx: DbTransaction,
  rows: readonly ObservationRow[],
  options: DbCallOptions,
): Promise<ClassifiedRows> {
  const bySeries = new Map<string, ObservationRow[]>();
  let chunk: ObservationRow['chunk'] | undefined;
  let list: ObservationRow[] | undefined;
  for (const r of rows) {
    // Rows of one chunk are one series: look it up once per stretch of rows from the same chunk.
    if (r.chunk !== chunk || list === undefined) {
      chunk = r.chunk;
      list = bySeries.get(r.seriesKey);
      if (list === undefined) bySeries.set(r.seriesKey, (list = []));
    }
    list.push(r);
  }
  const runs: Run[] = [];
  const runSeries: string[] = [];
  for (const [key, series] of bySeries) {
    // Producers send each series in slot order; sorting a sorted array is cheap and keeps the rest simple.
    const sorted = series.every((r, i) => i === 0 || (series[i - 1] as ObservationRow).slotMs <= r.slotMs)
      ? series
      : [...series].sort((a, b) => a.slotMs - b.slotMs);
    let run: Run | undefined;
    for (const r of sorted) {
      if (run !== undefined && r.slotMs - run.hi <= MAX_GAP_SLOTS * SLOT_MS) run.hi = r.slotMs;
      else {
        run = { first: r, lo: r.slotMs, hi: r.slotMs };
        runs.push(run);
        runSeries.push(key);
      }
    }
  }
  const column = (f: (r: Run) => string): string[] => runs.map(f);
  const { rows: existing } = await tx.query<{
    i: number;
    slots: string;
    vals: string;
    issued: string;
    flags: string;
    unit_lo: string;
    unit_hi: string;
  }>(
    READ_EXISTING,
    [
      column((r) => r.first.chunk.zone),
      column((r) => r.first.chunk.metric),
      column((r) => r.first.chunk.productionType),
      column((r) => r.first.chunk.counterpartZone),
      column((r) => r.first.chunk.qualifier),
      column((r) => new Date(r.lo).toISOString()),
      column((r) => new Date(r.hi).toISOString()),
    ],
    options,
  );
  // Nothing stored in any run (new series, or slots after the stored ones: live ingestion): every row is fresh.
  if (existing.length === 0) return { fresh: [...rows], changed: [], confirmed: [], unchanged: 0 };
  // Stored value per series and slot; the unit is known per run: a run whose stored units differ (a unit change
  // inside it, rare) marks its slots MIXED, and their rows go to the upsert, which compares units itself.
  const stored = new Map<string, Map<number, Stored>>();
  for (const e of existing) {
    const key = runSeries[e.i - 1];
    if (key === undefined) continue;
    let slots = stored.get(key);
    if (slots === undefined) stored.set(key, (slots = new Map<number, Stored>()));
    const unit = e.unit_lo === e.unit_hi ? e.unit_lo : MIXED;
    const minutes = e.slots.split(',');
    const values = e.vals.split(',');
    const issued = e.issued.split(',');
    const flags = e.flags.split(',');
    for (let k = 0; k < minutes.length; k++) {
      const at = issued[k];
      slots.set(Number(minutes[k]) * 60_000, {
        value: Number(values[k]),
        unit,
        flags: flags[k] ?? '',
        issued: at === undefined || at === '' ? null : Number(at),
      });
    }
  }
  const fresh: ObservationRow[] = [];
  const changed: ObservationRow[] = [];
  const confirmed: ObservationRow[] = [];
  let unchanged = 0;
  let issued: number | null = null;
  let slots: Map<number, Stored> | undefined;
  chunk = undefined;
  for (const r of rows) {
    if (r.chunk !== chunk) {
      chunk = r.chunk;
      issued = issuedMicros(r.chunk);
      slots = stored.get(r.seriesKey);
    }
    const s = slots?.get(r.slotMs);
    if (s === undefined) fresh.push(r);
    else if (s.value === r.point.v && s.unit === r.chunk.unit && s.flags === (r.point.f?.join(';') ?? '')) {
      if (issued !== null && (s.issued === null || issued > s.issued)) confirmed.push(r);
      else unchanged++;
    } else if (issued !== null && s.issued !== null && s.issued > issued) unchanged++;
    else changed.push(r);
  }
  return { fresh, changed, confirmed, unchanged };
}
