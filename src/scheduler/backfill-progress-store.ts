import type { StoreCallOptions } from '../common/index.ts';

export const CHUNK_STATUSES = ['pending', 'running', 'done', 'failed'] as const;
export type ChunkStatus = (typeof CHUNK_STATUSES)[number];

/** What is known about one chunk. */
export interface ChunkProgress {
  readonly chunkId: string;
  readonly backfillId: string;
  readonly status: ChunkStatus;
  /** Values fetched by the chunk's last successful run. */
  readonly points: number;
  /** Times the chunk was started. */
  readonly attempts: number;
  readonly error: string | null;
}

export interface ChunkUpdate {
  readonly status: ChunkStatus;
  readonly points?: number;
  readonly error?: string | null;
}

/**
 * Where backfill progress is kept, one record per chunk, so that an interrupted backfill resumes without fetching
 * finished chunks again: in-process ({@link MemoryBackfillProgressStore}) or the `backfill_chunks` table
 * (`SqlBackfillProgressStore`). Chunk ids are request keys: a chunk finished by any backfill counts as finished.
 */
export interface BackfillProgressStore {
  /** The records of the given chunks that exist. */
  load(chunkIds: readonly string[], options?: StoreCallOptions): Promise<Map<string, ChunkProgress>>;
  /** Records a chunk's new status; starting it (`running`) counts an attempt. */
  mark(backfillId: string, chunkId: string, update: ChunkUpdate, options?: StoreCallOptions): Promise<void>;
}

/** The in-process {@link BackfillProgressStore} (tests; one-shot runs that need no resume). */
export class MemoryBackfillProgressStore implements BackfillProgressStore {
  readonly #chunks = new Map<string, ChunkProgress>();

  load(chunkIds: readonly string[]): Promise<Map<string, ChunkProgress>> {
    const found = new Map<string, ChunkProgress>();
    for (const id of chunkIds) {
      const p = this.#chunks.get(id);
      if (p !== undefined) found.set(id, p);
    }
    return Promise.resolve(found);
  }

  mark(backfillId: string, chunkId: string, update: ChunkUpdate): Promise<void> {
    const before = this.#chunks.get(chunkId);
    this.#chunks.set(chunkId, {
      chunkId,
      backfillId,
      status: update.status,
      points: update.points ?? before?.points ?? 0,
      attempts: (before?.attempts ?? 0) + (update.status === 'running' ? 1 : 0),
      error: update.error ?? null,
    });
    return Promise.resolve();
  }
}
