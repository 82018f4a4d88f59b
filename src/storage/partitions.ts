import type { Db, DbCallOptions } from './db.ts';
import { StorageError } from './errors.ts';

/** Tables gridstream partitions by time (rows of `storage_partitioning`). */
export const PARTITIONED_TABLES = ['meter_intervals', 'meter_register_reads', 'device_readings'] as const;
export type PartitionedTable = (typeof PARTITIONED_TABLES)[number];

// What each Db is known to have partitions for, so that a steady stream of batches for the current day does not
// call the database function every time. Per process: another process may have created more, never fewer.
const covered = new WeakMap<Db, Map<PartitionedTable, { lo: number; hi: number }>>();

const TEN_YEARS_MS = 3650 * 86_400_000;

/**
 * Makes sure `table` has partitions covering [from, to] (creating the missing ones through the
 * `gridstream_ensure_partitions` database function). Call it before writing rows in that range, outside the
 * writing transaction: creating a partition locks the parent table until commit.
 */
export async function ensurePartitions(
  db: Db,
  table: PartitionedTable,
  from: Date,
  to: Date,
  options: DbCallOptions = {},
): Promise<number> {
  const lo = from.getTime();
  const hi = to.getTime();
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || hi < lo || hi - lo > TEN_YEARS_MS) {
    throw new StorageError(
      'db.partition_range_invalid',
      `cannot create partitions of ${table} for ${from.toISOString()}…`,
      {
        retryable: false,
      },
    );
  }
  let known = covered.get(db);
  const range = known?.get(table);
  if (range !== undefined && lo >= range.lo && hi <= range.hi) return 0;
  const { rows } = await db.query<{ created: number }>(
    'SELECT gridstream_ensure_partitions($1, $2, $3) AS created',
    [table, from.toISOString(), to.toISOString()],
    options,
  );
  if (known === undefined) covered.set(db, (known = new Map<PartitionedTable, { lo: number; hi: number }>()));
  // Keep one contiguous range: the union when they touch, else the newer one (the stream's present).
  known.set(
    table,
    range !== undefined && lo <= range.hi && hi >= range.lo
      ? { lo: Math.min(lo, range.lo), hi: Math.max(hi, range.hi) }
      : { lo, hi },
  );
  return rows[0]?.created ?? 0;
}

/**
 * Creates the partitions each partitioned table needs from one step ago to its configured `ahead` (a week of
 * daily interval and device reading partitions, two months of monthly register read partitions by default). Run at
 * start and daily (`partitionMaintainer` does).
 */
export async function ensurePartitionsAhead(db: Db, options: DbCallOptions = {}): Promise<number> {
  const { rows } = await db.query<{ created: number }>(
    'SELECT gridstream_ensure_partitions_ahead() AS created',
    [],
    options,
  );
  return rows[0]?.created ?? 0;
}
