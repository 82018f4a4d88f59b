import type { ReceivedReading } from '../readings/index.ts';
import { isNewer } from '../readings/index.ts';
import type { CopyValue, DbCallOptions, DbTransaction } from './db.ts';
import { sqlStateOf } from './errors.ts';

/**
 * The compare-and-revise upsert shared by the meter tables (intervals, register reads, device readings): rows are
 * COPYed into a temporary staging table, then one statement applies the winners (new keys inserted, changed values
 * that win replaced, the replaced row copied to the revisions table) and a second keeps every incoming value that
 * lost as a revision, once (a revision with the same content is not added again, so a replay adds nothing).
 */
export interface UpsertSpec {
  /** The table, its revisions table, and the temporary staging table's name. */
  readonly table: string;
  readonly revisions: string;
  readonly staging: string;
  /** Primary-key columns. */
  readonly key: readonly string[];
  /** Every column the writer supplies (key included, log position last), with its SQL type for staging. */
  readonly columns: readonly (readonly [name: string, type: string])[];
  /** Columns that make two rows "the same value" (compared with IS NOT DISTINCT FROM). */
  readonly same: readonly string[];
  /** A further SQL condition over staged `s` and stored `t` under which the two are the same value too. */
  readonly alsoSame?: string;
  /** Columns copied to the revisions table, besides `received_at`; the revision's content is `revisionSame`. */
  readonly revisionColumns: readonly string[];
  readonly revisionSame: readonly string[];
  /** An SQL condition over staged `s` and stored `t` under which the staged row always wins. */
  readonly forceWin?: string;
}

/** A row to upsert: its values in {@link UpsertSpec.columns} order, its place in the log for which-wins, and what
 * the caller wants back when it is inserted or changes the stored value (`of`). */
export interface UpsertRow<T = unknown> {
  readonly key: string;
  readonly values: readonly CopyValue[];
  readonly recordedAt: string | null;
  readonly position: bigint;
  readonly of: T;
}

/** What an upsert did with its input rows; each row is counted once. */
export interface UpsertCounts {
  /** New keys. */
  readonly inserted: number;
  /** Stored values replaced (the old one is now a revision). */
  readonly updated: number;
  /** The same value as stored, or a losing value already kept as a revision. */
  readonly unchanged: number;
  /** Values that lost (to the stored value or another in the batch), newly kept as revisions. */
  readonly kept: number;
}

/** Batches that go straight to the staging path after a direct COPY met a stored key. */
const DIRECT_PAUSE = 16;

/**
 * Whether to try a direct COPY into the table first, kept by the caller from batch to batch: a batch whose rows
 * are all new keys (the common case) is copied straight into the table, with no staging table and no join, inside
 * a savepoint. A key already stored makes the COPY fail (unique violation): the savepoint is rolled back, the batch
 * takes the staging path, and so do the next {@link DIRECT_PAUSE} batches (a stream with duplicates or corrections
 * would otherwise fail every time).
 */
export class DirectCopy {
  #pause = 0;
  /** Batches copied directly, and direct COPYs that met a stored key (for tests and metrics). */
  copied = 0;
  conflicts = 0;

  /** Whether to try it for this batch (counts down the pause). */
  shouldTry(): boolean {
    if (this.#pause === 0) return true;
    this.#pause--;
    return false;
  }

  failed(): void {
    this.conflicts++;
    this.#pause = DIRECT_PAUSE;
  }
}

/** Received reading for {@link isNewer}, which reads only `recorded_at` and the position. */
export function received(recordedAt: string | null, position: bigint): ReceivedReading {
  return {
    reading: {
      v: 2,
      meter_id: '-',
      kind: 'smart_meter',
      quantity: 'power',
      ts: '1970-01-01T00:00:00Z',
      value: '0',
      ...(recordedAt === null ? {} : { recorded_at: recordedAt }),
    },
    position,
  };
}

/** Marks the winner of each key in the batch (see `src/readings`: the latest recorded_at, else log order). */
export function winners(rows: readonly UpsertRow[]): Set<UpsertRow> {
  const best = new Map<string, UpsertRow>();
  for (const r of rows) {
    const w = best.get(r.key);
    if (w === undefined || isNewer(received(w.recordedAt, w.position), received(r.recordedAt, r.position)))
      best.set(r.key, r);
  }
  return new Set(best.values());
}

/**
 * Upserts `rows` (several per key allowed) with the which-wins rule and revisions.
 *
 * Most rows of a batch are new keys: the batch's winners are inserted first with `ON CONFLICT DO NOTHING` (no join
 * with the stored rows, no lock taken on them). Only what remains — winners whose key is stored already, and the
 * values that lost within the batch — takes the compare-and-revise path.
 * @returns the counts, and the `of` of every row inserted or changing the stored value
 */
export async function upsertWithRevisions<T>(
  tx: DbTransaction,
  spec: UpsertSpec,
  rows: readonly UpsertRow<T>[],
  o: DbCallOptions,
  direct?: DirectCopy,
): Promise<{ counts: UpsertCounts; changed: { of: T; inserted: boolean }[] }> {
  if (rows.length === 0) return { counts: { inserted: 0, updated: 0, unchanged: 0, kept: 0 }, changed: [] };
  const win = winners(rows);
  if (direct !== undefined && win.size === rows.length && direct.shouldTry()) {
    await tx.exec('SAVEPOINT gridstream_direct_copy', o);
    try {
      await tx.copyRows(
        spec.table,
        spec.columns.map(([n]) => n),
        rows.map((r) => r.values),
        o,
      );
      await tx.exec('RELEASE SAVEPOINT gridstream_direct_copy', o);
      direct.copied++;
      return {
        counts: { inserted: rows.length, updated: 0, unchanged: 0, kept: 0 },
        changed: rows.map((r) => ({ of: r.of, inserted: true })),
      };
    } catch (error) {
      if (sqlStateOf(error) !== '23505') throw error;
      await tx.exec('ROLLBACK TO SAVEPOINT gridstream_direct_copy', o);
      direct.failed();
    }
  }
  await tx.exec(
    `CREATE TEMP TABLE IF NOT EXISTS ${spec.staging} (seq integer NOT NULL, winner boolean NOT NULL,
       ${spec.columns.map(([n, t]) => `${n} ${t}`).join(', ')}) ON COMMIT DELETE ROWS`,
    o,
  );
  await stage(tx, spec, rows, win, o);
  const { rows: fresh } = await tx.query<{ seq: number }>(insertNewSql(spec), [], o);
  const changed = fresh.map(({ seq }) => ({ of: (rows[seq] as UpsertRow<T>).of, inserted: true }));
  if (fresh.length === rows.length)
    return { counts: { inserted: fresh.length, updated: 0, unchanged: 0, kept: 0 }, changed };

  // The rest: winners whose key is stored (compared, replaced when they win) and the batch's losers (kept).
  const done = new Set(fresh.map(({ seq }) => seq));
  const rest = rows.filter((_, i) => !done.has(i));
  // A loser whose winner was just inserted stays a loser: it is only kept as a revision.
  const restWin = new Set(rest.filter((r) => win.has(r)));
  await stage(tx, spec, rest, restWin, o);
  // Statistics of the staging table and the batch's time range let the planner use the key index of the few
  // partitions the batch touches, instead of guessing the staging table's size.
  await tx.exec(`ANALYZE ${spec.staging}`, o);
  const tsAt = spec.columns.findIndex(([n]) => n === 'ts');
  const [lo, hi] = extent(rest.map((r) => Date.parse(String(r.values[tsAt]))));
  const range = [new Date(lo).toISOString(), new Date(hi).toISOString()];
  const { rows: applied } = await tx.query<{ seq: number; inserted: boolean }>(applySql(spec), range, o);
  const lost = await tx.query(keepLosersSql(spec), range, o);
  for (const a of applied) changed.push({ of: (rest[a.seq] as UpsertRow<T>).of, inserted: a.inserted });
  const inserted = fresh.length + applied.filter((a) => a.inserted).length;
  const updated = applied.filter((a) => !a.inserted).length;
  const kept = lost.rowCount;
  return { counts: { inserted, updated, kept, unchanged: rows.length - inserted - updated - kept }, changed };
}

/** Fills the (emptied) staging table with `rows`, numbered from 0, `winners` flagged. */
async function stage(
  tx: DbTransaction,
  spec: UpsertSpec,
  rows: readonly UpsertRow[],
  winners: ReadonlySet<UpsertRow>,
  o: DbCallOptions,
): Promise<void> {
  await tx.exec(`TRUNCATE ${spec.staging}`, o);
  await tx.copyRows(
    spec.staging,
    ['seq', 'winner', ...spec.columns.map(([n]) => n)],
    rows.map((r, i) => [i, winners.has(r), ...r.values]),
    o,
  );
}

/** The smallest and largest of `values` (a loop: spreading 10⁵ arguments overflows the stack). */
export function extent(values: readonly number[]): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of values) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

const keyJoin = (spec: UpsertSpec, a: string, b: string): string =>
  spec.key.map((k) => `${a}.${k} = ${b}.${k}`).join(' AND ');
const sameAs = (cols: readonly string[], a: string, b: string): string =>
  cols.map((c) => `${a}.${c} IS NOT DISTINCT FROM ${b}.${c}`).join(' AND ');
/** Staged `s` holds the same value as stored `t`. */
const sameRow = (spec: UpsertSpec): string =>
  `(${sameAs(spec.same, 's', 't')})${spec.alsoSame === undefined ? '' : ` OR (${spec.alsoSame})`}`;

/** Inserts the staged winners whose key is not stored yet; returns their staging numbers. */
function insertNewSql(spec: UpsertSpec): string {
  const names = spec.columns.map(([n]) => n);
  return `
WITH up AS (
  INSERT INTO ${spec.table} (${names.join(', ')})
  SELECT ${names.join(', ')} FROM ${spec.staging} WHERE winner ORDER BY ${spec.key.join(', ')}
  ON CONFLICT (${spec.key.join(', ')}) DO NOTHING
  RETURNING ${spec.key.join(', ')}
)
SELECT s.seq FROM up JOIN ${spec.staging} s ON s.winner AND ${keyJoin(spec, 's', 'up')}`;
}

/**
 * Applies the batch's winners: a new key is inserted; a stored row with another value is replaced when the staged
 * one wins (the later recorded_at when both carry one and they differ, else the later log offset), and the stored
 * row goes to the revisions table in the same statement. Rows are locked in key order first.
 */
function applySql(spec: UpsertSpec): string {
  const names = spec.columns.map(([n]) => n);
  const wins = `${spec.forceWin === undefined ? '' : `(${spec.forceWin}) OR `}CASE
    WHEN s.recorded_at IS NOT NULL AND t.recorded_at IS NOT NULL AND s.recorded_at <> t.recorded_at
    THEN s.recorded_at > t.recorded_at ELSE s.log_offset > t.log_offset END`;
  const rev = spec.revisionColumns;
  return `
WITH cur AS (
  SELECT s.seq, (${sameRow(spec)}) AS same, (${wins}) AS wins,
    ${rev.map((c) => `t.${c} AS old_${c}`).join(', ')}, t.received_at AS old_received_at
  FROM ${spec.staging} s JOIN ${spec.table} t ON ${keyJoin(spec, 's', 't')}
  WHERE s.winner AND t.ts BETWEEN $1::timestamptz AND $2::timestamptz
  ORDER BY ${spec.key.map((k) => `t.${k}`).join(', ')}
  FOR UPDATE OF t
), replaced AS (
  INSERT INTO ${spec.revisions} (${rev.join(', ')}, received_at)
  SELECT ${rev.map((c) => `old_${c}`).join(', ')}, old_received_at FROM cur WHERE NOT same AND wins
), up AS (
  INSERT INTO ${spec.table} AS t (${names.join(', ')})
  SELECT ${names.map((n) => `s.${n}`).join(', ')}
  FROM ${spec.staging} s LEFT JOIN cur c ON c.seq = s.seq
  WHERE s.winner AND (c.seq IS NULL OR (NOT c.same AND c.wins))
  ORDER BY ${spec.key.map((k) => `s.${k}`).join(', ')}
  ON CONFLICT (${spec.key.join(', ')}) DO UPDATE SET
    ${names
      .filter((n) => !spec.key.includes(n))
      .map((n) => `${n} = EXCLUDED.${n}`)
      .join(', ')}, received_at = now()
  RETURNING ${spec.key.map((c) => `t.${c}`).join(', ')}
)
-- xmax cannot tell an insert from an update on a partitioned table: a key that had a stored row was updated.
SELECT s.seq, NOT EXISTS (SELECT 1 FROM cur c WHERE ${spec.key.map((k) => `c.old_${k} = up.${k}`).join(' AND ')}) AS inserted
FROM up JOIN ${spec.staging} s ON s.winner AND ${keyJoin(spec, 's', 'up')}`;
}

/**
 * Keeps every staged value that is not the stored one now (it lost against the stored value or another of the
 * batch) as a revision, unless a revision with the same content is kept already: a replay adds nothing.
 */
function keepLosersSql(spec: UpsertSpec): string {
  const rev = spec.revisionColumns;
  const distinct = [...spec.key, ...spec.revisionSame].map((c) => `s.${c}`).join(', ');
  return `
INSERT INTO ${spec.revisions} (${rev.join(', ')}, received_at)
SELECT DISTINCT ON (${distinct}) ${rev.map((c) => `s.${c}`).join(', ')}, now()
FROM ${spec.staging} s JOIN ${spec.table} t ON ${keyJoin(spec, 's', 't')}
WHERE t.ts BETWEEN $1::timestamptz AND $2::timestamptz AND NOT (${sameRow(spec)})
  AND NOT EXISTS (SELECT 1 FROM ${spec.revisions} r WHERE ${keyJoin(spec, 'r', 's')}
    AND ${sameAs(spec.revisionSame, 'r', 's')})
ORDER BY ${distinct}, s.seq`;
}
