import type { Component, LifecycleState, Readiness, StopOptions } from '../common/index.ts';
import { Lifecycle, codedError, errorMessage, problemLogger } from '../common/index.ts';
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

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#life = new Lifecycle(
      'supervisor',
      { start: () => this.#startAll(), stop: ({ deadline, graceMs }) => this.#stopAll(graceMs, deadline) },
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
      error: c.error === undefined ? null : errorMessage(c.error),
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

  async #startAll(): Promise<void> {
    const started: Component[] = [];
    try {
      for (const c of this.#components) {
        this.#logger.debug({ component: c.name }, 'starting');
        await c.start();
        started.push(c);
        this.#watch(c);
      }
    } catch (error) {
      this.#winding = true;
      this.#logger.error(logFields(error), `start failed (${errorMessage(error)}); stopping what was started`);
      for (const c of started.reverse()) await c.stop({ graceMs: 5_000 }).catch(() => undefined);
      throw error;
    }
  }

  #watch(c: Component): void {
    void c.finished.then(() => {
      if (this.#winding || (this.#life.state !== 'running' && this.#life.state !== 'starting')) return;
      const failure = c.error ?? new Error(`${c.name} stopped unexpectedly`);
      this.#logger.error(
        { component: c.name, ...logFields(failure) },
        `${c.name} failed: ${errorMessage(failure)}; stopping`,
      );
      this.#life.fail(failure);
      void this.stop({ graceMs: 10_000 });
    });
  }

  async #stopAll(graceMs: number, deadline: AbortSignal): Promise<void> {
    this.#winding = true;
    const ends = Date.now() + graceMs;
    for (const c of [...this.#components].reverse()) {
      // Each component gets what is left of the overall grace (at least a second, to release its resources).
      const left = deadline.aborted ? 1_000 : Math.max(1_000, ends - Date.now());
      const started = performance.now();
      await c.stop({ graceMs: left });
      this.#logger.debug({ component: c.name, ms: Math.round(performance.now() - started) }, 'stopped');
    }
  }
}

/** Log fields of an error: an expected one (it has a gridstream code) by code and message, a bug with its stack. */
function logFields(error: unknown): Record<string, unknown> {
  const coded = codedError(error);
  return coded === undefined ? { err: error } : { code: coded.code, err: errorMessage(error) };
}
