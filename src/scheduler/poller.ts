import { errorCode, errorMessage } from '../common/index.ts';
import { backoffDelay, sleep } from '../connectors/http/index.ts';
import type { Logger } from '../observability/index.ts';

/** Lifecycle of a long-running component (temporal's worker states, reduced). */
export const COMPONENT_STATES = ['created', 'running', 'stopping', 'stopped'] as const;
export type ComponentState = (typeof COMPONENT_STATES)[number];

export interface PollerOptions {
  readonly name: string;
  readonly logger: Logger;
  /**
   * One iteration. Resolves with the delay before the next one, in milliseconds. Gets a signal that aborts when
   * the poller stops.
   */
  readonly run: (signal: AbortSignal) => Promise<number>;
  /** Shortest delay between iterations, whatever `run` returns: the loop never spins. @default 10 */
  readonly minDelayMs?: number;
  /** Backoff after failed iterations: full jitter from `baseMs`, doubling, capped at `maxMs`. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** How long `stop()` waits for the current iteration to end. @default 10 000 */
  readonly graceMs?: number;
}

/**
 * A loop with an abortable delay (pg-boss `worker.ts`): runs an iteration, waits the delay it asked for (or a
 * growing, jittered backoff after a failure), and again, until stopped. `start()` is idempotent; `stop()` aborts
 * the current wait or iteration, waits for it within the grace time, and resolves the same promise every time.
 */
export class Poller {
  readonly #options: PollerOptions;
  readonly #controller = new AbortController();
  #state: ComponentState = 'created';
  #loop: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  #wake = new AbortController();

  constructor(options: PollerOptions) {
    this.#options = options;
  }

  get state(): ComponentState {
    return this.#state;
  }

  start(): void {
    if (this.#state !== 'created') return;
    this.#state = 'running';
    this.#loop = this.#run();
  }

  /** Ends the current wait early: the next iteration runs now (something it waits for has happened). */
  wake(): void {
    this.#wake.abort();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      if (this.#state === 'created') {
        this.#state = 'stopped';
        return;
      }
      this.#state = 'stopping';
      this.#controller.abort(new Error(`${this.#options.name} stopping`));
      const grace = this.#options.graceMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>(
        (resolve) =>
          (timer = setTimeout(() => {
            resolve('timeout');
          }, grace)),
      );
      const outcome = await Promise.race([this.#loop, timedOut]);
      clearTimeout(timer);
      if (outcome === 'timeout') {
        this.#options.logger.warn(
          { poller: this.#options.name, graceMs: grace },
          'poller did not stop within its grace time',
        );
      }
      this.#state = 'stopped';
    })();
    return this.#stopping;
  }

  async #run(): Promise<void> {
    const { logger, name } = this.#options;
    const signal = this.#controller.signal;
    let failures = 0;
    while (!signal.aborted) {
      let delay: number;
      try {
        delay = await this.#options.run(signal);
        failures = 0;
      } catch (error) {
        if (isAborted(signal)) break;
        failures++;
        delay = Math.max(
          this.#options.backoff?.baseMs ?? 1000,
          backoffDelay(failures, {
            baseDelayMs: this.#options.backoff?.baseMs ?? 1000,
            maxDelayMs: this.#options.backoff?.maxMs ?? 60_000,
          }),
        );
        logger.error(
          { poller: name, failures, code: errorCode(error), error: errorMessage(error), delayMs: delay },
          'poller iteration failed',
        );
      }
      try {
        await sleep(Math.max(this.#options.minDelayMs ?? 10, delay), {
          signal: AbortSignal.any([signal, this.#wake.signal]),
        });
      } catch {
        if (isAborted(signal)) break;
      }
      if (this.#wake.signal.aborted) this.#wake = new AbortController();
    }
  }
}

/** A function, so that TypeScript does not keep `aborted` narrowed across awaits. */
function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}
