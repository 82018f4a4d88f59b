import { errorMessage } from '../common/index.ts';
import type { EntsoeIngestor } from '../connectors/entsoe/index.ts';
import type { Logger } from '../observability/index.ts';
import type { BackfillPlan } from './backfill-plan.ts';
import type { BackfillProgressStore, ChunkProgress } from './backfill-progress-store.ts';

/** Where a backfill stands; passed to `onProgress` after every chunk and returned at the end. */
export interface BackfillProgress {
  readonly backfillId: string;
  /** Chunks (requests) in the plan. */
  readonly total: number;
  /** Chunks finished, by this run or an earlier one. */
  readonly done: number;
  /** Chunks an earlier run had finished (not fetched again). */
  readonly skipped: number;
  /** Chunks that failed for good in this run (their requests are in `dlq-ingestion`). */
  readonly failed: number;
  /** Values fetched by this run. */
  readonly points: number;
  readonly documents: number;
  /** HTTP exchanges of this run (pages and retries included). */
  readonly exchanges: number;
  readonly elapsedMs: number;
  /** Chunks per minute finished by this run. */
  readonly chunksPerMinute: number;
  /** Time left at the current rate; `null` before the first chunk. */
  readonly etaMs: number | null;
}

export interface BackfillSummary extends BackfillProgress {
  /** True when the run was cancelled before every chunk was tried; run it again to resume. */
  readonly interrupted: boolean;
  readonly deadLetters: number;
}

export interface BackfillRunOptions {
  readonly plan: BackfillPlan;
  readonly ingestor: EntsoeIngestor;
  readonly progress: BackfillProgressStore;
  readonly logger: Logger;
  /** Requests in flight at once; the rate limiter sets the pace. @default 4 */
  readonly concurrency?: number;
  /** Fetch every chunk again, finished or not. @default false */
  readonly fresh?: boolean;
  readonly onProgress?: (progress: BackfillProgress) => void;
  readonly signal?: AbortSignal;
  readonly now?: () => number;
}

/**
 * Runs a planned backfill: every chunk not finished before is fetched and published (through the ingestor, so
 * through the shared rate limit), and marked `done` only after its documents were published — a resumed backfill
 * never skips data that was not handed over. A chunk whose request failed for good is dead-lettered and marked
 * `failed` (tried again on the next run). Cancelling stops starting chunks; those in flight are marked `pending`
 * again. A publishing failure stops the backfill and is rethrown.
 */
export async function runBackfill(options: BackfillRunOptions): Promise<BackfillSummary> {
  const { plan, ingestor, progress, logger, signal } = options;
  const now = options.now ?? Date.now;
  const started = now();
  const known: Map<string, ChunkProgress> =
    options.fresh === true
      ? new Map<string, ChunkProgress>()
      : await progress.load(
          plan.chunks.map((c) => c.id),
          { signal },
        );
  const todo = plan.chunks.filter((c) => known.get(c.id)?.status !== 'done');
  const skipped = plan.chunks.length - todo.length;
  let done = skipped;
  let finishedHere = 0;
  let failed = 0;
  let points = 0;
  let documents = 0;
  let exchanges = 0;
  let deadLetters = 0;
  let next = 0;
  let fatal: Error | undefined;

  const snapshot = (): BackfillProgress => {
    const elapsedMs = Math.max(1, now() - started);
    const perMs = (finishedHere + failed) / elapsedMs;
    const left = plan.chunks.length - done - failed;
    return {
      backfillId: plan.id,
      total: plan.chunks.length,
      done,
      skipped,
      failed,
      points,
      documents,
      exchanges,
      elapsedMs,
      chunksPerMinute: perMs * 60_000,
      etaMs: perMs > 0 ? left / perMs : left === 0 ? 0 : null,
    };
  };
  logger.info({ backfill: plan.id, chunks: plan.chunks.length, skipped }, 'backfill started');
  options.onProgress?.(snapshot());

  const worker = async (): Promise<void> => {
    while (next < todo.length && fatal === undefined && !cancelled(signal)) {
      const chunk = todo[next++];
      if (chunk === undefined) return;
      await progress.mark(plan.id, chunk.id, { status: 'running' });
      try {
        const report = await ingestor.ingest(chunk.request, { signal });
        points += report.points;
        documents += report.documents;
        exchanges += report.exchanges;
        deadLetters += report.deadLetters.length;
        if (report.deadLetters.length === 0) {
          done++;
          finishedHere++;
          await progress.mark(plan.id, chunk.id, { status: 'done', points: report.points });
        } else {
          failed++;
          const reasons = [...new Set(report.deadLetters.map((d) => d.reason))].join(', ');
          await progress.mark(plan.id, chunk.id, { status: 'failed', points: report.points, error: reasons });
        }
      } catch (error) {
        // Not finished: whatever happened, the chunk is fetched again on the next run.
        await progress.mark(plan.id, chunk.id, { status: 'pending' }).catch(() => undefined);
        if (cancelled(signal)) return;
        fatal ??= error instanceof Error ? error : new Error(String(error));
        return;
      }
      options.onProgress?.(snapshot());
    }
  };
  const concurrency = Math.max(1, Math.min(options.concurrency ?? 4, todo.length));
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (fatal !== undefined) {
    logger.error(
      { backfill: plan.id, error: errorMessage(fatal) },
      'backfill stopped: could not hand over fetched data',
    );
    throw fatal;
  }
  const summary: BackfillSummary = {
    ...snapshot(),
    interrupted: done + failed < plan.chunks.length,
    deadLetters,
  };
  logger.info({ ...summary }, summary.interrupted ? 'backfill interrupted' : 'backfill finished');
  return summary;
}

/** A function so that TypeScript does not keep `aborted` narrowed across awaits. */
function cancelled(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
