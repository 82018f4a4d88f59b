import type { StoreCallOptions } from '../common/index.ts';

/** How a job run ended (or that it is still running). */
export const JOB_RUN_STATUSES = ['running', 'succeeded', 'partial', 'failed', 'cancelled'] as const;
export type JobRunStatus = (typeof JOB_RUN_STATUSES)[number];

/** One recorded run of a scheduler job — what the API (#7) shows. */
export interface JobRun {
  readonly id: string;
  readonly job: string;
  readonly windowStart: number | null;
  readonly windowEnd: number | null;
  readonly status: JobRunStatus;
  readonly startedAt: number;
  readonly finishedAt: number | null;
  readonly documents: number;
  readonly points: number;
  /** Requests that failed for good (dead-lettered). */
  readonly errors: number;
  readonly durationMs: number | null;
  /** The first error's message (scrubbed), when the run failed. */
  readonly error: string | null;
  /** Free-form, secret-free context: the fire time it was scheduled for, the instance, request counts… */
  readonly details: Readonly<Record<string, unknown>>;
}

export interface JobRunStart {
  readonly job: string;
  readonly windowStart: number | null;
  readonly windowEnd: number | null;
  readonly details?: Record<string, unknown>;
}

export interface JobRunEnd {
  readonly status: Exclude<JobRunStatus, 'running'>;
  readonly documents: number;
  readonly points: number;
  readonly errors: number;
  readonly error?: string | null;
  readonly details?: Record<string, unknown>;
}

/** Where job runs are recorded: in-process ({@link MemoryJobRunStore}) or the `job_runs` table (`SqlJobRunStore`). */
export interface JobRunStore {
  start(run: JobRunStart, options?: StoreCallOptions): Promise<JobRun>;
  finish(id: string, end: JobRunEnd, options?: StoreCallOptions): Promise<JobRun>;
  /** Most recent first. @default limit 50 */
  list(query?: { readonly job?: string; readonly limit?: number }, options?: StoreCallOptions): Promise<JobRun[]>;
}

/** The in-process {@link JobRunStore}; keeps the most recent `capacity` runs. */
export class MemoryJobRunStore implements JobRunStore {
  readonly #runs: JobRun[] = [];
  readonly #capacity: number;
  readonly #now: () => number;
  #next = 1;

  constructor(options: { readonly capacity?: number; readonly now?: () => number } = {}) {
    this.#capacity = options.capacity ?? 10_000;
    this.#now = options.now ?? Date.now;
  }

  start(run: JobRunStart): Promise<JobRun> {
    const record: JobRun = {
      id: String(this.#next++),
      job: run.job,
      windowStart: run.windowStart,
      windowEnd: run.windowEnd,
      status: 'running',
      startedAt: this.#now(),
      finishedAt: null,
      documents: 0,
      points: 0,
      errors: 0,
      durationMs: null,
      error: null,
      details: { ...run.details },
    };
    this.#runs.push(record);
    if (this.#runs.length > this.#capacity) this.#runs.shift();
    return Promise.resolve(record);
  }

  finish(id: string, end: JobRunEnd): Promise<JobRun> {
    const i = this.#runs.findIndex((r) => r.id === id);
    const run = this.#runs[i];
    if (run === undefined) return Promise.reject(new Error(`unknown job run ${id}`));
    const finishedAt = this.#now();
    const done: JobRun = {
      ...run,
      status: end.status,
      documents: end.documents,
      points: end.points,
      errors: end.errors,
      error: end.error ?? null,
      finishedAt,
      durationMs: finishedAt - run.startedAt,
      details: { ...run.details, ...end.details },
    };
    this.#runs[i] = done;
    return Promise.resolve(done);
  }

  list(query: { readonly job?: string; readonly limit?: number } = {}): Promise<JobRun[]> {
    const runs = this.#runs.filter((r) => query.job === undefined || r.job === query.job);
    return Promise.resolve(runs.reverse().slice(0, query.limit ?? 50));
  }
}
