import type { Component, LifecycleState, Readiness, StopOptions } from '../common/index.ts';
import { Lifecycle, codedError, errorCode, errorMessage, problemLogger } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';

/**
 * Starts components in order and stops them in reverse order, so that what produces work stops before what
 * consumes it (api → scheduler → processors → store). If one component fails while running, the supervisor stops
 * the others and reports the failure: a worker that cannot do its job exits rather than limping on. It is itself
 * a component on the same lifecycle (`done` is its `finished`).
 */
export class Supervisor {
  readonly #components: Component[] = [];
  readonly #logger: Logger;
  readonly #life: Lifecycle;
  /** Set while the supervisor itself stops components: their ends are not failures. */
  #winding = false;
  /** A component that failed while the supervisor was still starting the others. */
  #failedWhileStarting: unknown;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#life = new Lifecycle(
      'supervisor',
      { start: (signal) => this.#startAll(signal), stop: ({ deadline, graceMs }) => this.#stopAll(graceMs, deadline) },
      { onProblem: problemLogger(logger) },
    );
  }

  get state(): LifecycleState {
    return this.#life.state;
  }

  /** The error of the component whose failure stopped the supervisor, if any. */
  get failure(): unknown {
    return this.#life.error;
  }

  /** Resolves once everything has stopped, after `stop()` or a component's failure (which stops the rest). */
  get done(): Promise<void> {
    return this.#life.finished.then(() => this.#life.stop());
  }

  add(...components: Component[]): this {
    if (this.#life.state !== 'idle') throw new Error('components must be added before start()');
    this.#components.push(...components);
    return this;
  }

  get components(): readonly Component[] {
    return this.#components;
  }

  /** Every component's state; ready only when all run and none is degraded. */
  readiness(): Readiness {
    const components = this.#components.map((c) => ({
      name: c.name,
      state: c.state,
      degraded: c.degraded ?? null,
      // Codes only: /readyz answers anyone, and messages can name hosts or quote upstream answers.
      error: c.error === undefined ? null : errorCode(c.error),
    }));
    return {
      ready: this.#life.state === 'running' && components.every((c) => c.state === 'running' && c.degraded === null),
      state: this.#life.state,
      components,
    };
  }

  start(): Promise<void> {
    return this.#life.start();
  }

  /** Stops every component in reverse order within `graceMs` overall. Idempotent. */
  stop(options: StopOptions = {}): Promise<void> {
    return this.#life.stop(options);
  }

  async #startAll(signal: AbortSignal): Promise<void> {
    const started: Component[] = [];
    let failure: unknown;
    for (const c of this.#components) {
      // A component that failed while later ones started, or a stop asked for meanwhile: start no more.
      failure ??= this.#failedWhileStarting;
      if (failure !== undefined || signal.aborted) break;
      this.#logger.debug({ component: c.name }, 'starting');
      try {
        await c.start();
      } catch (error) {
        failure = error;
        break;
      }
      started.push(c);
      this.#watch(c);
    }
    failure ??= this.#failedWhileStarting;
    if (failure === undefined) return;
    this.#winding = true;
    this.#logger.error(logFields(failure), `start failed (${errorMessage(failure)}); stopping what was started`);
    for (const c of started.reverse()) await stopQuietly(c, 5_000);
    throw failure instanceof Error ? failure : new Error(errorMessage(failure));
  }

  #watch(c: Component): void {
    void c.finished.then(() => {
      if (this.#winding) return;
      const failure = c.error ?? new Error(`${c.name} stopped unexpectedly`);
      if (this.#life.state === 'starting') {
        // The start loop sees it before the next component and winds everything down itself.
        this.#failedWhileStarting ??= failure;
        return;
      }
      if (this.#life.state !== 'running') return;
      this.#logger.error(
        { component: c.name, ...logFields(failure) },
        `${c.name} failed: ${errorMessage(failure)}; stopping`,
      );
      this.#life.fail(failure);
      void this.stop({ graceMs: 10_000 });
    });
  }

  /**
   * Stops every component in reverse order, each with what is left of the grace. Once the grace is over, whatever
   * is still running is stopped all at once with a short grace of its own, so that no component outlives the
   * supervisor's stop (the runtime closes the database and the log right after it).
   */
  async #stopAll(graceMs: number, deadline: AbortSignal): Promise<void> {
    this.#winding = true;
    const ends = Date.now() + graceMs;
    const order = [...this.#components].reverse();
    for (const [i, c] of order.entries()) {
      if (deadline.aborted) {
        await Promise.all(order.slice(i).map((rest) => stopQuietly(rest, 1_000)));
        return;
      }
      const started = performance.now();
      await stopQuietly(c, Math.max(1_000, ends - Date.now()), this.#logger);
      this.#logger.debug({ component: c.name, ms: Math.round(performance.now() - started) }, 'stopped');
    }
  }
}

/** Stops a component; a stop that throws is logged, never skips the components after it. */
async function stopQuietly(c: Component, graceMs: number, logger?: Logger): Promise<void> {
  try {
    await c.stop({ graceMs });
  } catch (error) {
    logger?.error({ component: c.name, ...logFields(error) }, `stopping ${c.name} failed: ${errorMessage(error)}`);
  }
}

/** Log fields of an error: an expected one (it has a gridstream code) by code and message, a bug with its stack. */
function logFields(error: unknown): Record<string, unknown> {
  const coded = codedError(error);
  return coded === undefined ? { err: error } : { code: coded.code, err: errorMessage(error) };
}
