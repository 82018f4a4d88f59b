import type { Db } from '../storage/index.ts';
import type { DlqEntry } from './dead-letter-ops.ts';

/**
 * Records a replay in `dead_letters` (the archive the admin UI reads): inserts the envelope the first time, then
 * counts replays. The log record itself never changes.
 */
export async function recordReplay(db: Db, entry: DlqEntry): Promise<void> {
  const l = entry.letter;
  if (l === null) return;
  await db.query(
    `INSERT INTO dead_letters (id, topic, stage, reason, message, retryable, source_topic, source_partition, source_offset,
       attempts, payload, payload_encoding, envelope, replays, replayed_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 1, now())
     ON CONFLICT (id) DO UPDATE SET replays = dead_letters.replays + 1, replayed_at = now()`,
    [
      l.id,
      entry.topic,
      l.stage,
      l.reason,
      l.message,
      l.retryable,
      l.source?.topic ?? null,
      l.source?.partition ?? null,
      l.source?.offset ?? null,
      l.attempts,
      l.payload,
      l.payloadEncoding,
      JSON.stringify(l),
    ],
  );
}

/** Replay counts of dead letters by id. */
export async function replayCounts(db: Db, ids: readonly string[]): Promise<Map<string, number>> {
  if (ids.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; replays: number }>(
    'SELECT id, replays FROM dead_letters WHERE id = ANY($1::text[])',
    [ids],
  );
  return new Map(rows.map((r) => [r.id, r.replays]));
}
