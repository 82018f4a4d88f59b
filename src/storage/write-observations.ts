import type { GridSeriesChunk } from '../contracts/index.ts';
import type { Db, DbTransaction } from './db.ts';
import { isDataError, sqlStateOf, toStorageError } from './errors.ts';
import type { ObservationReject, ObservationRejectReason, ObservationRow } from './observation-rows.ts';
import { prepareObservationRows, rowPayload } from './observation-rows.ts';
import { classifyAgainstStored } from './classify-observations.ts';
import {
  CONFIRM_STAGED,
  CREATE_STAGING,
  STAGING_TABLE,
  UPSERT_SERIES,
  UPSERT_STAGED,
  WRITE_COLUMNS,
  observationCopyText,
} from './observation-sql.ts';

/** What a write did. `inserted + updated + unchanged + superseded + rejected.length` = points in the batch. */
export interface WriteObservationsResult {
  /** New keys. */
  readonly inserted: number;
  /** Existing keys whose value (or unit, or quality flags) changed; each also added one revision row. */
  readonly updated: number;
  /**
   * Points identical to what was stored (replays), or older than it: an older revision of the stored document, or
   * issued before the stored value.
   */
  readonly unchanged: number;
  /** Points replaced by another point of the same key in the batch (issued later, higher revision, or later). */
  readonly superseded: number;
  /** Revision rows added (= updated). */
  readonly revisions: number;
  /** Points refused, by validation or by the database; the rest of the batch was written. */
  readonly rejected: readonly ObservationReject[];
}

/** Options of {@link writeObservations}. */
export interface WriteObservationsOptions {
  readonly signal?: AbortSignal;
  /**
   * `auto` COPYs rows that cannot exist yet straight into the table and upserts the rest through the staging
   * table; `staging` sends every row through the staging upsert (for measurements). @default 'auto'
   */
  readonly strategy?: 'auto' | 'staging';
}

/**
 * Stores series chunks idempotently, in one transaction: an identical point is a no-op, a changed value (or unit,
 * or flags) updates the row and keeps the old value in `grid_observation_revisions`, a new key is inserted. Points
 * the database refuses are returned in `rejected` while the rest is written.
 *
 * How: the batch is flattened, validated and deduplicated in memory; what is stored for each contiguous run of
 * each series is read with one index range scan; new keys are COPYed straight into the table (as fast as a plain
 * COPY), changed ones are COPYed into a temporary staging table and applied by one
 * `INSERT … ON CONFLICT … DO UPDATE … WHERE value IS DISTINCT FROM …`, and identical ones cost nothing more. A
 * concurrent writer or a constraint violation in the direct COPY sends every row through the upsert instead.
 *
 * @throws StorageError when the database fails (retryable when it is unreachable: pause and retry the batch)
 */
export async function writeObservations(
  db: Db,
  chunks: readonly GridSeriesChunk[],
  options: WriteObservationsOptions = {},
): Promise<WriteObservationsResult> {
  const signal = options.signal;
  return db.transaction((tx) => writeObservationsIn(tx, chunks, options), signal === undefined ? {} : { signal });
}

/** {@link writeObservations} inside a transaction the caller controls (to commit it with other writes). */
export async function writeObservationsIn(
  tx: DbTransaction,
  chunks: readonly GridSeriesChunk[],
  options: WriteObservationsOptions = {},
): Promise<WriteObservationsResult> {
  const { rows, rejected, superseded } = prepareObservationRows(chunks.map(upcastShares));
  if (rows.length === 0) return { inserted: 0, updated: 0, unchanged: 0, superseded, revisions: 0, rejected };
  const o = options.signal === undefined ? {} : { signal: options.signal };
  let direct: ObservationRow[];
  let staged: ObservationRow[];
  let confirmed: ObservationRow[] = [];
  let unchanged = 0;
  if (options.strategy === 'staging') {
    direct = [];
    staged = rows;
  } else {
    const classified = await classifyAgainstStored(tx, rows, o);
    direct = classified.fresh;
    staged = classified.changed;
    confirmed = classified.confirmed;
    unchanged = classified.unchanged + confirmed.length;
  }
  if (direct.length > 0) {
    await tx.query('SAVEPOINT gridstream_direct', [], o);
    try {
      await tx.copyText('grid_observations', WRITE_COLUMNS, observationCopyText(direct), o);
      await tx.query('RELEASE SAVEPOINT gridstream_direct', [], o);
    } catch (error) {
      // A concurrent writer inserted one of these keys since they were read, or a row breaks a constraint: send
      // them through the upsert, which copes with both.
      if (!isDataError(error)) throw error;
      await tx.query('ROLLBACK TO SAVEPOINT gridstream_direct', [], o);
      staged = [...staged, ...direct];
      direct = [];
    }
  }
  const refused: { row: ObservationRow; error: unknown }[] = [];
  let inserted = direct.length;
  let updated = 0;
  if (staged.length > 0 || confirmed.length > 0) {
    await tx.exec(CREATE_STAGING, o);
    await tx.exec(`TRUNCATE ${STAGING_TABLE}`, o);
    // Changed rows first (seq 0…), then the confirmed ones, whose only effect is a later issue time.
    await tx.copyText(
      STAGING_TABLE,
      ['seq', ...WRITE_COLUMNS],
      observationCopyText(confirmed.length === 0 ? staged : [...staged, ...confirmed], true),
      o,
    );
    if (staged.length > 0) {
      const counts = await upsertRange(tx, staged, 0, staged.length, refused, o);
      inserted += counts.inserted;
      updated += counts.updated;
    }
    if (confirmed.length > 0) await tx.query(CONFIRM_STAGED, [staged.length, staged.length + confirmed.length], o);
  }
  if (refused.length === 0) await widenSeries(tx, rows, [direct, staged], o);
  else {
    const refusedRows = new Set(refused.map((r) => r.row));
    const kept = (list: readonly ObservationRow[]) => list.filter((r) => !refusedRows.has(r));
    await widenSeries(tx, kept(rows), [direct, kept(staged)], o);
  }
  for (const { row, error } of refused) {
    const sqlState = sqlStateOf(error);
    rejected.push({
      chunk: row.chunkIndex,
      point: row.pointIndex,
      reason: reasonFor(sqlState),
      message: error instanceof Error ? error.message : String(error),
      ...(sqlState === undefined ? {} : { sqlState }),
      payload: rowPayload(chunks, row),
    });
  }
  // Staged rows that neither inserted nor updated: identical after all (a concurrent writer), or older revisions.
  unchanged += staged.length - refused.length - (inserted - direct.length) - updated;
  return { inserted, updated, unchanged, superseded, revisions: updated, rejected };
}

/**
 * Upserts staged rows [from, to). When the statement fails on a data error, the savepoint undoes it and each half
 * is tried again, down to single rows, which are the refused ones: k bad rows cost O(k log n) statements and the
 * good rows are all written.
 */
async function upsertRange(
  tx: DbTransaction,
  staged: readonly ObservationRow[],
  from: number,
  to: number,
  refused: { row: ObservationRow; error: unknown }[],
  o: { signal?: AbortSignal },
): Promise<{ inserted: number; updated: number }> {
  await tx.query('SAVEPOINT gridstream_upsert', [], o);
  try {
    const { rows } = await tx.query<{ inserted: number; updated: number }>(UPSERT_STAGED, [from, to], o);
    await tx.query('RELEASE SAVEPOINT gridstream_upsert', [], o);
    return { inserted: rows[0]?.inserted ?? 0, updated: rows[0]?.updated ?? 0 };
  } catch (error) {
    if (!isDataError(error)) throw toStorageError(error, 'upsert of grid observations failed');
    await tx.query('ROLLBACK TO SAVEPOINT gridstream_upsert', [], o);
    await tx.query('RELEASE SAVEPOINT gridstream_upsert', [], o);
    const row = staged[from];
    if (to - from === 1 && row !== undefined) {
      refused.push({ row, error });
      return { inserted: 0, updated: 0 };
    }
    const mid = from + Math.floor((to - from) / 2);
    const a = await upsertRange(tx, staged, from, mid, refused, o);
    const b = await upsertRange(tx, staged, mid, to, refused, o);
    return { inserted: a.inserted + b.inserted, updated: a.updated + b.updated };
  }
}

/**
 * Records each written series and its slot range in `grid_series`, and the range of slots whose values may have
 * changed (`dirty`: inserted or upserted rows) as the series' dirty range for the rollup refresher. Rows of one
 * chunk share their series, so the series is looked up once per stretch of rows from the same chunk.
 */
async function widenSeries(
  tx: DbTransaction,
  rows: readonly ObservationRow[],
  dirty: readonly (readonly ObservationRow[])[],
  o: { signal?: AbortSignal },
) {
  interface Range {
    r: ObservationRow;
    lo: number;
    hi: number;
    dlo: number;
    dhi: number;
  }
  const series = new Map<string, Range>();
  const widen = (list: readonly ObservationRow[], changed: boolean) => {
    let chunk: ObservationRow['chunk'] | undefined;
    let s: Range | undefined;
    for (const r of list) {
      if (r.chunk !== chunk || s === undefined) {
        chunk = r.chunk;
        s = series.get(r.seriesKey);
        if (s === undefined) {
          s = { r, lo: r.slotMs, hi: r.slotMs, dlo: Infinity, dhi: -Infinity };
          series.set(r.seriesKey, s);
        }
      }
      if (changed) {
        if (r.slotMs < s.dlo) s.dlo = r.slotMs;
        if (r.slotMs > s.dhi) s.dhi = r.slotMs;
      } else {
        s.r = r; // the last row's unit and source describe the series from now on
        if (r.slotMs < s.lo) s.lo = r.slotMs;
        if (r.slotMs > s.hi) s.hi = r.slotMs;
      }
    }
  };
  widen(rows, false);
  for (const list of dirty) widen(list, true);
  if (series.size === 0) return;
  const list = [...series.values()];
  const iso = (ms: number): string | null => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
  await tx.query(
    UPSERT_SERIES,
    [
      list.map((s) => s.r.chunk.zone),
      list.map((s) => s.r.chunk.metric),
      list.map((s) => s.r.chunk.productionType),
      list.map((s) => s.r.chunk.counterpartZone),
      list.map((s) => s.r.chunk.qualifier),
      list.map((s) => s.r.chunk.unit),
      list.map((s) => s.r.chunk.source),
      list.map((s) => new Date(s.lo).toISOString()),
      list.map((s) => new Date(s.hi).toISOString()),
      list.map((s) => iso(s.dlo)),
      list.map((s) => iso(s.dhi)),
    ],
    o,
  );
}

function reasonFor(sqlState: string | undefined): ObservationRejectReason {
  if (sqlState === '23514') return 'store.constraint_violation';
  if (sqlState === '22003') return 'store.value_out_of_range';
  return 'store.rejected_by_database';
}

/**
 * Shares used to travel in percent (unit `%`); they are fractions 0–1 now (unit `fraction`). Older records still in
 * the log (a replay, a rewound consumer) are stored the new way, so one series never mixes both.
 */
function upcastShares(chunk: GridSeriesChunk): GridSeriesChunk {
  if (chunk.unit !== '%') return chunk;
  return { ...chunk, unit: 'fraction', points: chunk.points.map((p) => ({ ...p, v: p.v / 100 })) };
}
