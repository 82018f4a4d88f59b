import type { DbCallOptions, Queryable } from './db.ts';

/**
 * The next offset to read in one partition (Kafka's convention: last processed + 1). Structurally the Log port's
 * `PartitionOffset`, so the processor runner can hand these straight to `seek`.
 */
export interface StoredOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * The offsets a consumer group stored with its output, for one topic or all of them. A consumer of an
 * exactly-once topic seeks to these on start (and after each rebalance) instead of the log's committed offsets:
 * they are exactly as far as the database has applied.
 */
export async function loadOffsets(
  db: Queryable,
  group: string,
  topic?: string,
  options: DbCallOptions = {},
): Promise<StoredOffset[]> {
  const { rows } = await db.query<{ topic: string; partition: number; next_offset: number }>(
    `SELECT topic, partition, next_offset FROM consumer_offsets
     WHERE group_id = $1 AND ($2::text IS NULL OR topic = $2) ORDER BY topic, partition`,
    [group, topic ?? null],
    options,
  );
  return rows.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.next_offset }));
}

/**
 * Locks the offset rows of the given partitions for the rest of the transaction (creating them at 0 when new)
 * and returns the stored next offsets. Two writers of one partition (a zombie and its successor after a
 * rebalance) are serialised here, and the second sees what the first committed.
 */
export async function lockOffsets(
  tx: Queryable,
  group: string,
  partitions: readonly { readonly topic: string; readonly partition: number }[],
  options: DbCallOptions = {},
): Promise<Map<string, number>> {
  if (partitions.length === 0) return new Map();
  const topics = partitions.map((p) => p.topic);
  const numbers = partitions.map((p) => p.partition);
  // The INSERT makes a row to lock even for a first batch; a concurrent first writer waits on its unique key.
  await tx.query(
    `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
     SELECT $1, t, p, 0 FROM unnest($2::text[], $3::integer[]) AS u(t, p) ORDER BY t, p
     ON CONFLICT (group_id, topic, partition) DO NOTHING`,
    [group, topics, numbers],
    options,
  );
  const { rows } = await tx.query<{ topic: string; partition: number; next_offset: number }>(
    `SELECT topic, partition, next_offset FROM consumer_offsets
     WHERE group_id = $1 AND (topic, partition) IN (SELECT * FROM unnest($2::text[], $3::integer[]))
     ORDER BY topic, partition FOR UPDATE`,
    [group, topics, numbers],
    options,
  );
  return new Map(rows.map((r) => [offsetKey(r.topic, r.partition), r.next_offset]));
}

/**
 * Stores next offsets in the caller's transaction, so that they commit (or vanish) together with the output
 * they account for. Offsets only move forward: storing an older one is a no-op.
 */
export async function saveOffsets(
  tx: Queryable,
  group: string,
  offsets: readonly StoredOffset[],
  options: DbCallOptions = {},
): Promise<void> {
  if (offsets.length === 0) return;
  await tx.query(
    `INSERT INTO consumer_offsets (group_id, topic, partition, next_offset)
     SELECT $1, t, p, o FROM unnest($2::text[], $3::integer[], $4::bigint[]) AS u(t, p, o) ORDER BY t, p
     ON CONFLICT (group_id, topic, partition) DO UPDATE
       SET next_offset = EXCLUDED.next_offset, updated_at = now()
       WHERE consumer_offsets.next_offset < EXCLUDED.next_offset`,
    [group, offsets.map((o) => o.topic), offsets.map((o) => o.partition), offsets.map((o) => o.offset)],
    options,
  );
}

/** Map key of a topic partition. */
export function offsetKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}
