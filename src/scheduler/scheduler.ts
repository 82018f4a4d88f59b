import type { LifecycleState, PeriodicTask } from '../common/index.ts';
import { errorMessage, periodic } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import type { TimeZone } from '../time/index.ts';
import type { CronSchedule } from './cron.ts';
import { nextFire, parseCron } from './cron.ts';
import { SchedulerError } from './errors.ts';
import type { JobRun, JobRunStatus, JobRunStore } from './job-run-store.ts';
import { LeaderElector } from './leader.ts';
import type { LeaseStore } from './lease-store.ts';
import type { Window, WindowSpec } from './windows.ts';
import { lookbackWindow } from './windows.ts';

/** What a job run did. */
export interface JobOutcome {
  /** Logical requests made; with `errors` it decides between `succeeded`, `partial` and `failed`. */
  readonly requests: number;
  readonly documents: number;
  readonly points: number;
  /** Requests that failed for good (dead-lettered). */
  readonly errors: number;
  readonly details?: Record<string, unknown>;
}

export interface JobContext {
  readonly window: Window;
  /** The fire time this run is for. */
  readonly scheduledFor: number;
  /** Aborts when the scheduler stops or loses the lease. */
  readonly signal: AbortSignal;
  readonly logger: Logger;
}

/** A cron job of the scheduler role. */
export interface ScheduledJob {
  readonly name: string;
  /** Five-field cron expression, read in `timeZone`. */
  readonly cron: string;
  /** @default 'UTC' */
  readonly timeZone?: TimeZone;
  readonly window: WindowSpec;
  run(context: JobContext): Promise<JobOutcome>;
}

export interface SchedulerOptions {
  readonly jobs: readonly ScheduledJob[];
  readonly leases: LeaseStore;
  readonly runs: JobRunStore;
  readonly logger: Logger;
  /** Lease name: schedulers sharing it elect one leader. @default 'gridstream-scheduler' */
  readonly leaseName?: string;
  /** @default a random id */
  readonly instanceId?: string;
  /** @default 30 000 ms */
  readonly leaseTtlMs?: number;
  /** A new leader runs a fire it finds unrecorded within this period, once. @default 6 h */
  readonly catchUpMs?: number;
  readonly now?: () => number;
}

interface Entry {
  readonly job: ScheduledJob;
  readonly schedule: CronSchedule;
  readonly timeZone: TimeZone;
  next: number | undefined;
  running: Promise<JobRun | undefined> | undefined;
}

/**
 * The `scheduler` role: fires cron jobs, only on the instance holding the leader lease. Each run fetches the
 * job's window (aligned to the hour or quarter-hour) and is recorded in the {@link JobRunStore}. When leadership
 * moves (a crash, a stop), the new leader runs a fire that no instance recorded, once, then follows the schedule.
 */
export class Scheduler {
  readonly #options: SchedulerOptions;
  readonly #entries: Entry[];
  readonly #elector: LeaderElector;
  readonly #ticker: PeriodicTask;
  readonly #now: () => number;
  #planned = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    const names = new Set<string>();
    this.#entries = options.jobs.map((job) => {
      if (names.has(job.name)) throw new SchedulerError('scheduler.invalid_config', `two jobs are named "${job.name}"`);
      names.add(job.name);
      return {
        job,
        schedule: parseCron(job.cron),
        timeZone: job.timeZone ?? 'UTC',
        next: undefined,
        running: undefined,
      };
    });
    const ttl = options.leaseTtlMs ?? 30_000;
    this.#elector = new LeaderElector({
      store: options.leases,
      logger: options.logger,
      ttlMs: ttl,
      now: this.#now,
      onElected: () => {
        this.#ticker.wake();
      },
      ...(options.leaseName === undefined ? {} : { name: options.leaseName }),
      ...(options.instanceId === undefined ? {} : { holder: options.instanceId }),
    });
    const check = Math.max(10, Math.floor(ttl / 3));
    this.#ticker = periodic({
      name: 'scheduler',
      logger: options.logger,
      intervalMs: check,
      run: (signal) => this.#tick(signal, check),
      backoff: { baseMs: check, maxMs: ttl },
    });
  }

  get state(): LifecycleState {
    return this.#ticker.state;
  }

  /** Why the scheduler cannot work right now (its lease store failing), if it cannot. */
  get degraded(): string | undefined {
    return this.#ticker.degraded ?? this.#elector.degraded;
  }

  get isLeader(): boolean {
    return this.#elector.isLeader;
  }

  /**
   * The current leadership term: aborts when this process stops leading; `undefined` while it does not lead. Other
   * leader-only work (the gap healer) runs under it, as the jobs do.
   */
  get termSignal(): AbortSignal | undefined {
    return this.#elector.termSignal;
  }

  get instanceId(): string {
    return this.#elector.holder;
  }

  async start(): Promise<void> {
    await this.#elector.start();
    await this.#ticker.start();
  }

  /**
   * Stops firing, cancels running jobs (recorded as `cancelled`), and releases the lease so another instance
   * takes over at once. `release: false` simulates a crash: the lease is left to expire.
   */
  async stop(options: { readonly release?: boolean; readonly graceMs?: number } = {}): Promise<void> {
    await this.#ticker.stop(options.graceMs === undefined ? {} : { graceMs: options.graceMs });
    // Stepping down cancels the running jobs; the lease goes only once they have ended (recorded as cancelled).
    await this.#elector.stop({ ...options, release: false });
    await Promise.allSettled(this.#entries.map((e) => e.running ?? Promise.resolve(undefined)));
    if (options.release !== false) await this.#elector.release();
  }

  /** Runs a job now, whether leader or not (an operator's request); recorded like a scheduled run. */
  runNow(name: string, options: { readonly signal?: AbortSignal } = {}): Promise<JobRun> {
    const entry = this.#entries.find((e) => e.job.name === name);
    if (entry === undefined)
      return Promise.reject(new SchedulerError('scheduler.unknown_job', `no job named "${name}"`));
    return this.#execute(entry, this.#now(), options.signal ?? new AbortController().signal);
  }

  async #tick(signal: AbortSignal, checkMs: number): Promise<number> {
    const term = this.#elector.termSignal;
    if (term === undefined) {
      this.#planned = false;
      return checkMs;
    }
    const now = this.#now();
    if (!this.#planned) {
      await this.#plan(now, signal);
      this.#planned = true;
    }
    const runSignal = AbortSignal.any([signal, term]);
    let wake = now + checkMs;
    for (const entry of this.#entries) {
      if (entry.next !== undefined && entry.next <= now && entry.running === undefined) {
        const scheduledFor = entry.next;
        entry.running = this.#execute(entry, scheduledFor, runSignal)
          .catch((error: unknown) => {
            // Only the run store can fail here (the job's own failures are recorded): log, the next fire retries.
            this.#options.logger.error(
              { job: entry.job.name, error: errorMessage(error) },
              'could not record a job run',
            );
            return undefined;
          })
          .finally(() => {
            entry.running = undefined;
          });
        entry.next = nextFire(entry.schedule, now, entry.timeZone);
      }
      if (entry.next !== undefined) wake = Math.min(wake, entry.next);
    }
    return Math.max(10, wake - this.#now());
  }

  /** After an election: the next fire of each job, or at once for a recent fire nobody recorded. */
  async #plan(now: number, signal: AbortSignal): Promise<void> {
    const catchUp = this.#options.catchUpMs ?? 6 * 3_600_000;
    for (const entry of this.#entries) {
      let last: number | undefined;
      for (
        let f = nextFire(entry.schedule, now - catchUp, entry.timeZone);
        f <= now;
        f = nextFire(entry.schedule, f, entry.timeZone)
      ) {
        last = f;
      }
      entry.next = nextFire(entry.schedule, now, entry.timeZone);
      if (last === undefined) continue;
      const [latest] = await this.#options.runs.list({ job: entry.job.name, limit: 1 }, { signal });
      const stated = latest?.details['scheduledFor'];
      const recorded = typeof stated === 'string' ? Date.parse(stated) : undefined;
      if (recorded === undefined || Number.isNaN(recorded) || recorded < last) entry.next = last;
    }
  }

  async #execute(entry: Entry, scheduledFor: number, signal: AbortSignal): Promise<JobRun> {
    const { job } = entry;
    const window = lookbackWindow(this.#now(), job.window);
    const logger = this.#options.logger.child({ job: job.name });
    const run = await this.#options.runs.start({
      job: job.name,
      windowStart: window.start,
      windowEnd: window.end,
      details: { scheduledFor: new Date(scheduledFor).toISOString(), instance: this.#elector.holder },
    });
    logger.info(
      {
        runId: run.id,
        windowStart: new Date(window.start).toISOString(),
        windowEnd: new Date(window.end).toISOString(),
      },
      'job run started',
    );
    let status: Exclude<JobRunStatus, 'running'>;
    let outcome: JobOutcome = { requests: 0, documents: 0, points: 0, errors: 0 };
    let error: string | null = null;
    try {
      outcome = await job.run({ window, scheduledFor, signal, logger });
      status = outcome.errors === 0 ? 'succeeded' : outcome.errors < outcome.requests ? 'partial' : 'failed';
    } catch (e) {
      status = signal.aborted ? 'cancelled' : 'failed';
      error = errorMessage(e);
    }
    // Recorded even when the run was cancelled: no signal, the record must be written.
    const done = await this.#options.runs.finish(run.id, {
      status,
      documents: outcome.documents,
      points: outcome.points,
      errors: outcome.errors,
      error,
      details: { ...outcome.details, requests: outcome.requests },
    });
    const level = status === 'succeeded' ? 'info' : 'warn';
    logger[level](
      {
        runId: run.id,
        status,
        documents: done.documents,
        points: done.points,
        errors: done.errors,
        durationMs: done.durationMs,
        ...(error === null ? {} : { error }),
      },
      'job run finished',
    );
    return done;
  }
}
