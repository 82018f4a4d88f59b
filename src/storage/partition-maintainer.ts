import type { PeriodicTask } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db, DbCallOptions } from './db.ts';
import { ensurePartitionsAhead } from './partitions.ts';

/** A partition dropped by {@link dropExpiredPartitions}. */
export interface DroppedPartition {
  readonly parent: string;
  readonly partition: string;
  /** The end (exclusive) of the time range it held. */
  readonly end: string;
}

/**
 * Drops the partitions of each table whose `storage_partitioning.retention` is set that lie entirely before
 * `now − retention` (their end is at or before it); a table with no retention (NULL, the default) keeps everything.
 * Partitions are found by their names (`<parent>_pYYYYMMDDHH`, what `gridstream_ensure_partitions` creates) and
 * their range from that start and the table's step.
 */
export async function dropExpiredPartitions(
  db: Db,
  now: Date,
  options: DbCallOptions = {},
): Promise<DroppedPartition[]> {
  const { rows } = await db.query<{ parent: string; partition: string; part_end: Date }>(
    `SELECT p.parent, c.relname AS partition, e.part_end
     FROM storage_partitioning p
     JOIN pg_inherits i ON i.inhparent = to_regclass(quote_ident(p.parent))
     JOIN pg_class c ON c.oid = i.inhrelid
     CROSS JOIN LATERAL (
       SELECT ((to_timestamp(substring(c.relname FROM '_p([0-9]{10})$'), 'YYYYMMDDHH24')::timestamp
                + ('1 ' || p.step)::interval) AT TIME ZONE 'UTC') AS part_end
     ) e
     WHERE p.retention IS NOT NULL AND c.relname ~ '_p[0-9]{10}$' AND e.part_end <= $1::timestamptz - p.retention
     ORDER BY p.parent, e.part_end`,
    [now.toISOString()],
    options,
  );
  const dropped: DroppedPartition[] = [];
  for (const r of rows) {
    // One partition per statement: each DROP holds the parent's lock only briefly.
    await db.exec(`DROP TABLE IF EXISTS "${r.partition.replaceAll('"', '""')}"`, options);
    dropped.push({ parent: r.parent, partition: r.partition, end: r.part_end.toISOString() });
  }
  return dropped;
}

const DAY_MS = 86_400_000;

/**
 * Keeps the time partitions of the meter tables: creates them ahead (each table's `ahead`) at start and daily,
 * and drops those past their retention. Run it in one role (the scheduler or the store role); more than one is
 * harmless (both functions are idempotent and safe concurrently).
 */
export function partitionMaintainer(
  deps: { readonly db: Db; readonly logger: Logger },
  intervalMs = DAY_MS,
): PeriodicTask {
  return periodic({
    name: 'partition-maintainer',
    logger: deps.logger,
    intervalMs,
    firstRunInStart: true,
    backoff: { baseMs: 60_000, maxMs: 3_600_000 },
    run: async (signal) => {
      const created = await ensurePartitionsAhead(deps.db, { signal });
      const dropped = await dropExpiredPartitions(deps.db, new Date(), { signal });
      if (created > 0 || dropped.length > 0)
        deps.logger.info({ created, dropped: dropped.map((d) => d.partition) }, 'partitions maintained');
      return intervalMs;
    },
  });
}
