import { createHash } from 'node:crypto';
import type { DeadLetter, GridSeriesChunk } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from './db.ts';
import type { ObservationReject, ObservationRejectReason } from './observation-rows.ts';
import type { WriteObservationsResult } from './write-observations.ts';
import { writeObservations } from './write-observations.ts';

/** The `store` role's grid sink, as the processor runner drives it. */
export interface ObservationStore {
  /**
   * Writes a batch (one transaction). Resolves with what was written and what was refused — dead-letter the
   * refused points, then commit the batch's offsets. Throws a StorageError when the database is at fault: a
   * retryable one (unreachable, restarting, out of connections, deadlock) means "pause and retry the same
   * batch"; nothing in it is lost or dead-lettered.
   */
  write(
    chunks: readonly GridSeriesChunk[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<WriteObservationsResult>;
}

/**
 * The grid sink over a Db. Wrap it in the processor runner's handler:
 *
 * @example
 * handle: async (items, ctx) => {
 *   const result = await store.write(items.map((i) => i.value), { signal: ctx.signal });
 *   return { rejects: rejectionsByChunk(result.rejected).map((r) => ({ record: items[r.chunk]!.record, ...r })) };
 * }
 */
export function createObservationStore(db: Db, options: { readonly logger?: Logger } = {}): ObservationStore {
  return {
    async write(chunks, o = {}) {
      const started = performance.now();
      const result = await writeObservations(db, chunks, o.signal === undefined ? {} : { signal: o.signal });
      options.logger?.debug(
        {
          chunks: chunks.length,
          inserted: result.inserted,
          updated: result.updated,
          unchanged: result.unchanged,
          rejected: result.rejected.length,
          ms: Math.round(performance.now() - started),
        },
        'grid observations stored',
      );
      return result;
    },
  };
}

/** The refused points of one input chunk (one log record), summarised for its dead letter. */
export interface ChunkRejection {
  /** Index of the chunk in the written batch. */
  readonly chunk: number;
  /** Reason of the first refused point (stable code, see OBSERVATION_REJECT_REASONS). */
  readonly reason: ObservationRejectReason;
  /** What was wrong, point by point (bounded). */
  readonly message: string;
  /** Which points: indexes and slots (comma-separated, bounded), how many, and the SQLSTATE if any. */
  readonly position: Readonly<Record<string, string | number | null>>;
}

/**
 * Groups refused points by the chunk they came from: the processor runner dead-letters records, and a record is
 * one chunk. Its payload (the whole chunk) replays safely: the points that were stored are no-ops the second time.
 */
export function rejectionsByChunk(rejected: readonly ObservationReject[]): ChunkRejection[] {
  const byChunk = new Map<number, ObservationReject[]>();
  for (const r of rejected) {
    const list = byChunk.get(r.chunk);
    if (list === undefined) byChunk.set(r.chunk, [r]);
    else list.push(r);
  }
  return [...byChunk.entries()]
    .sort(([a], [b]) => a - b)
    .map(([chunk, list]) => {
      const first = list[0] as ObservationReject;
      const slots = list.map((r) => (r.point === null ? 'all' : (r.payload.points[0]?.t ?? '?')));
      return {
        chunk,
        reason: first.reason,
        message: list
          .slice(0, 5)
          .map((r) => (r.point === null ? r.message : `point ${r.point}: ${r.message}`))
          .join('; ')
          .concat(list.length > 5 ? `; and ${list.length - 5} more` : '')
          .slice(0, 2000),
        position: {
          points: list
            .map((r) => (r.point === null ? 'all' : String(r.point)))
            .join(',')
            .slice(0, 500),
          slots: slots.join(',').slice(0, 1000),
          count: list.length,
          sqlState: first.sqlState ?? null,
        },
      };
    });
}

/**
 * The `dlq-storage` envelope for one refused point: reason, message, where it was read from, and the refused value
 * (a one-point chunk) as base64 of its JSON. The id is derived from the source position and the point, so that a
 * redelivered batch produces the same id (an idempotent archive). Use it to produce point-level dead letters
 * yourself; {@link rejectionsByChunk} suits the processor runner's record-level rejects instead.
 */
export function storageDeadLetter(
  reject: ObservationReject,
  source: DeadLetter['source'],
  at: Date = new Date(),
): DeadLetter {
  const payload = Buffer.from(JSON.stringify(reject.payload)).toString('base64');
  const where = source === null ? 'none' : `${source.topic}:${source.partition}:${source.offset}`;
  const digest = createHash('sha256').update(`${where}|${reject.point ?? 'chunk'}|${reject.reason}|${payload}`);
  const time = at.toISOString();
  return {
    id: `storage-${digest.digest('hex').slice(0, 32)}`,
    stage: 'storage',
    reason: reject.reason,
    message: reject.message.slice(0, 4000),
    retryable: false,
    source,
    position: {
      point: reject.point,
      slot: reject.payload.points.length === 1 ? (reject.payload.points[0]?.t ?? null) : null,
      ...(reject.sqlState === undefined ? {} : { sqlState: reject.sqlState }),
    },
    attempts: 1,
    firstFailureAt: time,
    lastFailureAt: time,
    payload,
    payloadEncoding: 'base64',
    replays: 0,
  };
}
