import type { MeterAggregate } from '../contracts/index.ts';
import type { Db, DbCallOptions } from './db.ts';
import type { StoredOffset } from './offsets.ts';
import { lockOffsets, offsetKey, saveOffsets } from './offsets.ts';
import { ensurePartitions } from './partitions.ts';

/** A meter aggregate with the log position it was read from. */
export interface PositionedAggregate {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly aggregate: MeterAggregate;
}

/** What {@link writeAggregatesExactlyOnce} did. */
export interface ExactlyOnceResult {
  /** Records added to `meter_aggregates` by this call. */
  readonly applied: number;
  /** Records below the stored offsets: applied by an earlier transaction already (a redelivery), left out. */
  readonly skipped: number;
  /** Records refused (invalid window or numbers); their offsets are still stored, dead-letter them. */
  readonly rejected: readonly { readonly record: PositionedAggregate; readonly message: string }[];
  /** The next offsets now stored, per partition of the batch. */
  readonly offsets: readonly StoredOffset[];
}

const STAGING = 'gridstream_aggregate_staging';
const COLUMNS = ['group_id', 'quantity', 'window_start', 'window_end', 'unit', 'count', 'sum', 'min', 'max'];

/**
 * Adds windowed meter aggregates to `meter_aggregates` exactly once, by storing the consumer group's offsets in
 * the same transaction: records at or past the stored offset of their partition are merged in (counts and sums
 * added, minimum and maximum widened) and the offsets advanced; records below it were applied before and are
 * skipped. A crash before the commit leaves neither rows nor offsets, so a redelivery applies the batch once;
 * a crash after it leaves both, so a redelivery (the log's own offsets lag behind) is skipped. On start, seek
 * the consumer to {@link loadOffsets}.
 *
 * Aggregates add up: several records for one (group, quantity, window) — late data emitted as an extra
 * aggregate — are merged, which is why they must not be applied twice. Sums are numeric in the database, so the
 * stored sum is the exact decimal sum of the values as written (their shortest round-trip decimal form).
 *
 * @param through extra next offsets to store (records of the batch that were not aggregates, e.g. invalid ones)
 */
export async function writeAggregatesExactlyOnce(
  db: Db,
  group: string,
  records: readonly PositionedAggregate[],
  options: DbCallOptions & { readonly through?: readonly StoredOffset[] } = {},
): Promise<ExactlyOnceResult> {
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const rejected: { record: PositionedAggregate; message: string }[] = [];
  const valid = records.filter((r) => {
    const problem = aggregateProblem(r.aggregate);
    if (problem !== undefined) rejected.push({ record: r, message: problem });
    return problem === undefined;
  });
  if (valid.length > 0) {
    const starts = valid.map((r) => Date.parse(r.aggregate.windowStart));
    await ensurePartitions(db, 'meter_aggregates', new Date(Math.min(...starts)), new Date(Math.max(...starts)), o);
  }
  const partitions = new Map<string, { topic: string; partition: number; next: number }>();
  const advance = (topic: string, partition: number, next: number): void => {
    const key = offsetKey(topic, partition);
    const p = partitions.get(key);
    if (p === undefined) partitions.set(key, { topic, partition, next });
    else if (next > p.next) p.next = next;
  };
  for (const r of records) advance(r.topic, r.partition, r.offset + 1);
  for (const t of options.through ?? []) advance(t.topic, t.partition, t.offset);

  return db.transaction(async (tx) => {
    const stored = await lockOffsets(tx, group, [...partitions.values()], o);
    const fresh = valid.filter((r) => r.offset >= (stored.get(offsetKey(r.topic, r.partition)) ?? 0));
    if (fresh.length > 0) {
      await tx.exec(
        `CREATE TEMP TABLE IF NOT EXISTS ${STAGING} (group_id text, quantity text, window_start timestamptz,
           window_end timestamptz, unit text, count bigint, sum numeric, min numeric, max numeric) ON COMMIT DELETE ROWS`,
        o,
      );
      await tx.exec(`TRUNCATE ${STAGING}`, o);
      await tx.copyRows(
        STAGING,
        COLUMNS,
        fresh.map(({ aggregate: a }) => [
          a.group,
          a.quantity,
          a.windowStart,
          a.windowEnd,
          a.unit,
          a.count,
          // The shortest text that reads back as the same double: numeric then holds exactly that decimal.
          String(a.sum),
          String(a.min),
          String(a.max),
        ]),
        o,
      );
      // Several records of one window in a batch are merged first: ON CONFLICT may touch a row only once.
      await tx.query(
        `INSERT INTO meter_aggregates AS t (${COLUMNS.join(', ')})
         SELECT group_id, quantity, window_start, window_end, max(unit), sum(count), sum(sum), min(min), max(max)
         FROM ${STAGING} GROUP BY group_id, quantity, window_start, window_end
         ORDER BY group_id, quantity, window_start, window_end
         ON CONFLICT (group_id, quantity, window_start, window_end) DO UPDATE SET
           count = t.count + EXCLUDED.count, sum = t.sum + EXCLUDED.sum, min = least(t.min, EXCLUDED.min),
           max = greatest(t.max, EXCLUDED.max), unit = EXCLUDED.unit, updated_at = now()`,
        [],
        o,
      );
    }
    const offsets = [...partitions.values()].map((p) => ({ topic: p.topic, partition: p.partition, offset: p.next }));
    await saveOffsets(tx, group, offsets, o);
    const final = offsets.map((p) => ({
      ...p,
      offset: Math.max(p.offset, stored.get(offsetKey(p.topic, p.partition)) ?? 0),
    }));
    return { applied: fresh.length, skipped: valid.length - fresh.length, rejected, offsets: final };
  }, o);
}

function aggregateProblem(a: MeterAggregate): string | undefined {
  const start = Date.parse(a.windowStart);
  const end = Date.parse(a.windowEnd);
  if (!Number.isFinite(start) || !Number.isFinite(end) || end <= start) return 'window end must be after its start';
  if (![a.sum, a.min, a.max].every(Number.isFinite)) return 'sum, min and max must be finite numbers';
  if (!Number.isSafeInteger(a.count) || a.count < 0) return 'count must be a non-negative integer';
  if (a.group.length === 0 || a.quantity.length === 0 || a.unit.length === 0)
    return 'group, quantity and unit are required';
  return undefined;
}
