import type { SqlClient, StoreCallOptions } from '../common/index.ts';
import { sqlOptions } from '../common/index.ts';
import type { BackfillProgressStore, ChunkProgress, ChunkStatus, ChunkUpdate } from './backfill-progress-store.ts';

/*
 * Table (storage migration 0003_operations.sql):
 *   backfill_chunks (chunk_id text PK, backfill_id text, status pending|running|done|failed, points bigint,
 *                    attempts int, error text, updated_at timestamptz, finished_at timestamptz)
 */

const LOAD = `SELECT chunk_id, backfill_id, status, points, attempts, error
FROM backfill_chunks WHERE chunk_id = ANY($1::text[])`;

const MARK = `INSERT INTO backfill_chunks (chunk_id, backfill_id, status, points, attempts, error, updated_at, finished_at)
VALUES ($2, $1, $3, coalesce($4::bigint, 0), CASE WHEN $3 = 'running' THEN 1 ELSE 0 END, $5, clock_timestamp(),
        CASE WHEN $3 IN ('done', 'failed') THEN clock_timestamp() END)
ON CONFLICT (chunk_id) DO UPDATE
SET backfill_id = EXCLUDED.backfill_id,
    status = EXCLUDED.status,
    points = coalesce($4::bigint, backfill_chunks.points),
    attempts = backfill_chunks.attempts + CASE WHEN EXCLUDED.status = 'running' THEN 1 ELSE 0 END,
    error = EXCLUDED.error,
    updated_at = EXCLUDED.updated_at,
    finished_at = EXCLUDED.finished_at`;

interface ChunkRow {
  chunk_id: string;
  backfill_id: string;
  status: ChunkStatus;
  points: number | string;
  attempts: number;
  error: string | null;
}

/** The PostgreSQL {@link BackfillProgressStore} on `backfill_chunks` (PGlite in embedded mode). */
export class SqlBackfillProgressStore implements BackfillProgressStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async load(chunkIds: readonly string[], options: StoreCallOptions = {}): Promise<Map<string, ChunkProgress>> {
    const found = new Map<string, ChunkProgress>();
    // Bounded batches keep each statement's parameter small on plans with tens of thousands of chunks.
    for (let i = 0; i < chunkIds.length; i += 5000) {
      const batch = chunkIds.slice(i, i + 5000);
      const result = await this.#db.query<ChunkRow>(LOAD, [batch], sqlOptions(options.signal));
      for (const r of result.rows) {
        found.set(r.chunk_id, {
          chunkId: r.chunk_id,
          backfillId: r.backfill_id,
          status: r.status,
          points: Number(r.points),
          attempts: r.attempts,
          error: r.error,
        });
      }
    }
    return found;
  }

  async mark(backfillId: string, chunkId: string, update: ChunkUpdate, options: StoreCallOptions = {}): Promise<void> {
    const params = [backfillId, chunkId, update.status, update.points ?? null, update.error?.slice(0, 4000) ?? null];
    await this.#db.query(MARK, params, sqlOptions(options.signal));
  }
}
