import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const SCHEDULER_ERROR_CODES = [
  /** A cron expression that cannot be read. */
  'scheduler.invalid_cron',
  /** Scheduler, job or backfill configuration that does not validate. */
  'scheduler.invalid_config',
  /** A job name that is not configured. */
  'scheduler.unknown_job',
  /** The leader lease was lost while a job ran; the job was cancelled. */
  'scheduler.lease_lost',
  /** The offline replay found no documents to replay. */
  'scheduler.no_replay_documents',
  /** The offline replay could not read or write what it has published (the database); retried. */
  'scheduler.replay_store_unavailable',
] as const satisfies readonly ErrorCode[];
export type SchedulerErrorCode = (typeof SCHEDULER_ERROR_CODES)[number];

/** A scheduler failure: configuration mistakes (never retryable), a lost lease, or the replay's store failing. */
export class SchedulerError extends GridstreamError<SchedulerErrorCode> {
  constructor(
    code: SchedulerErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
