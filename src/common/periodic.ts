import type { BackoffOptions } from './async.ts';
import { backoffDelay, isAborted, sleep } from './async.ts';
import { errorCode, errorMessage } from './errors.ts';
import type { Component } from './lifecycle.ts';
import { Lifecycle, withLifecycle } from './lifecycle.ts';

/** The part of a pino logger the toolkit writes to (common/ does not depend on observability/). */
export interface ProblemLogger {
  warn(details: object, message: string): void;
  error(details: object, message: string): void;
}

export interface PeriodicOptions {
  /** Names the task in logs and `/readyz`. */
  readonly name: string;
  /**
   * One iteration. Resolves with the delay before the next one in milliseconds (`undefined`: `intervalMs`). Its
   * signal aborts when a stop's grace time is over: an iteration in progress may finish within the grace.
   */
  readonly run: (signal: AbortSignal) => Promise<number | undefined>;
  /** Delay between iterations when `run` does not say. */
  readonly intervalMs: number;
  /** Shortest delay between iterations, whatever `run` returns: the loop never spins. @default 10 */
  readonly minDelayMs?: number;
  /** Spacing of retries after failed iterations. @default base intervalMs, max 60 s, jitter 0.5 */
  readonly backoff?: BackoffOptions;
  /** Runs the first iteration inside `start()` (which resolves after it, whatever its outcome). @default false */
  readonly firstRunInStart?: boolean;
  /** Failed iterations in a row after which the task reports itself degraded (until one succeeds). @default 3 */
  readonly degradeAfter?: number;
  /** @default 10 000 */
  readonly graceMs?: number;
  readonly logger?: ProblemLogger;
}

/** A periodic task: a {@link Component} that can also be woken early. */
export interface PeriodicTask extends Component {
  /** Ends the current wait early: the next iteration runs now (something it waits for has happened). */
  wake(): void;
  /** Iterations finished so far (successful or not). */
  readonly iterations: number;
}

/**
 * A loop with an abortable delay (pg-boss `worker.ts`) on the one lifecycle: runs an iteration, waits the delay it
 * asked for (or a growing, jittered backoff after a failure), and again, until stopped. `stop()` ends the wait at
 * once and lets an iteration in progress finish within the grace time, so that it never runs against resources
 * (a database, a log) that the process closes after the stop.
 */
export function periodic(options: PeriodicOptions): PeriodicTask {
  const soft = new AbortController();
  const hard = new AbortController();
  let wake = new AbortController();
  let loop: Promise<void> | undefined;
  let iterations = 0;
  let failures = 0;
  const degradeAfter = options.degradeAfter ?? 3;
  const backoff: BackoffOptions = { baseMs: options.intervalMs, maxMs: 60_000, jitter: 0.5, ...options.backoff };

  async function iterate(): Promise<number> {
    try {
      const delay = await options.run(hard.signal);
      failures = 0;
      life.recover();
      return delay ?? options.intervalMs;
    } catch (error) {
      if (isAborted(hard.signal)) return 0;
      failures++;
      const delay = backoffDelay(failures, backoff);
      // Codes only: /readyz is public, and messages can name hosts or quote upstream answers.
      if (failures >= degradeAfter) life.degrade(`${options.name}: ${errorCode(error)}`);
      options.logger?.warn(
        { task: options.name, failures, code: errorCode(error), err: errorMessage(error), delayMs: delay },
        `${options.name}: iteration failed; retrying`,
      );
      return delay;
    } finally {
      iterations++;
    }
  }

  async function run(first: number | undefined): Promise<void> {
    let delay = first;
    while (!isAborted(soft.signal)) {
      if (delay !== undefined) {
        await sleep(Math.max(options.minDelayMs ?? 10, delay), { signal: AbortSignal.any([soft.signal, wake.signal]) });
        if (wake.signal.aborted) wake = new AbortController();
        if (isAborted(soft.signal)) break;
      }
      delay = await iterate();
    }
  }

  const life = new Lifecycle(
    options.name,
    {
      start: async () => {
        const first = options.firstRunInStart === true ? await iterate() : undefined;
        loop = run(first);
      },
      stop: async ({ deadline }) => {
        soft.abort();
        deadline.addEventListener(
          'abort',
          () => {
            hard.abort(deadline.reason);
          },
          { once: true },
        );
        await loop;
      },
    },
    {
      graceMs: options.graceMs ?? 10_000,
      ...(options.logger === undefined ? {} : { onProblem: problemLogger(options.logger) }),
    },
  );

  return withLifecycle(life, {
    get iterations() {
      return iterations;
    },
    wake() {
      wake.abort();
    },
  });
}

/** The `onProblem` of a {@link Lifecycle} that writes to a logger. */
export function problemLogger(logger: ProblemLogger): (message: string, details: Record<string, unknown>) => void {
  return (message, details) => {
    logger.error(details, message);
  };
}
