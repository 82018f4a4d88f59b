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
  options: PartitionMaintainerOptions = {},
): PeriodicTask {
  return periodic({
    name: 'partition-maintainer',
    logger: deps.logger,
    intervalMs,
    firstRunInStart: true,
    backoff: { baseMs: 60_000, maxMs: 3_600_000 },
    run: async (signal) => {
      const created = await ensurePartitionsAhead(deps.db, { signal });
      if (options.meterRetentionMs !== undefined)
        await setMeterRetention(deps.db, options.meterRetentionMs, { signal });
      // Nothing past the horizon is dropped, whatever the retention says.
      const horizon = options.dropHorizon === undefined ? undefined : await options.dropHorizon(signal);
      const now = Date.now();
      const retention = options.meterRetentionMs ?? 0;
      const until = horizon === undefined ? now : horizon === null ? 0 : Math.min(now, horizon.getTime() + retention);
      const dropped = until === 0 ? [] : await dropExpiredPartitions(deps.db, new Date(until), { signal });
      if (created > 0 || dropped.length > 0)
        deps.logger.info({ created, dropped: dropped.map((d) => d.partition) }, 'partitions maintained');
      return intervalMs;
    },
  });
}

/** What the maintainer does beyond creating partitions ahead. */
export interface PartitionMaintainerOptions {
  /**
   * Retention of the raw meter tables' partitions (meter_intervals, meter_register_reads, device_readings), written
   * to `storage_partitioning` on every run; `null`: keep forever. Absent: the table's setting is left as it is.
   */
  readonly meterRetentionMs?: number | null;
  /**
   * The newest instant whose data may be dropped now (`null`: nothing may be): the meters job passes its
   * watermark minus the allowed lateness, so that no raw partition goes before its days are in day rows and can
   * no longer be restated.
   */
  readonly dropHorizon?: (signal: AbortSignal) => Promise<Date | null>;
}

/** The raw meter tables a meter retention applies to. */
export const RAW_METER_TABLES = ['meter_intervals', 'meter_register_reads', 'device_readings'] as const;

async function setMeterRetention(db: Db, ms: number | null, options: DbCallOptions): Promise<void> {
  await db.query(
    `UPDATE storage_partitioning SET retention = CASE WHEN $1::bigint IS NULL THEN NULL
       ELSE make_interval(secs => $1::bigint / 1000.0) END
     WHERE parent = ANY($2::text[])
       AND retention IS DISTINCT FROM CASE WHEN $1::bigint IS NULL THEN NULL ELSE make_interval(secs => $1::bigint / 1000.0) END`,
    [ms, [...RAW_METER_TABLES]],
    options,
  );
}
