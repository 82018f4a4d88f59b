import { errorMessage } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Component, ComponentState } from './component.ts';

/**
 * Starts components in order and stops them in reverse order, so that what produces work stops before what
 * consumes it (api → scheduler → processors → store). If one component fails while running, the supervisor stops
 * the others and reports the failure: a worker that cannot do its job exits rather than limping on.
 */
export class Supervisor {
  readonly #components: Component[] = [];
  readonly #logger: Logger;
  #state: ComponentState = 'idle';
  #stopping: Promise<void> | undefined;
  #failure: unknown;
  readonly #done: Promise<void>;
  #resolveDone: () => void = () => undefined;

  constructor(logger: Logger) {
    this.#logger = logger;
    this.#done = new Promise((resolve) => {
      this.#resolveDone = resolve;
    });
  }

  get state(): ComponentState {
    return this.#state;
  }

  /** The error of the component whose failure stopped the supervisor, if any. */
  get failure(): unknown {
    return this.#failure;
  }

  /** Resolves once everything has stopped, after `stop()` or a component's failure. */
  get done(): Promise<void> {
    return this.#done;
  }

  add(...components: Component[]): this {
    if (this.#state !== 'idle') throw new Error('components must be added before start()');
    this.#components.push(...components);
    return this;
  }

  get components(): readonly Component[] {
    return this.#components;
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`cannot start a supervisor that is ${this.#state}`);
    this.#state = 'starting';
    const started: Component[] = [];
    try {
      for (const c of this.#components) {
        this.#logger.debug({ component: c.name }, 'starting');
        await c.start();
        started.push(c);
        this.#watch(c);
      }
    } catch (error) {
      this.#logger.error({ err: error }, 'start failed; stopping what was started');
      this.#state = 'failed';
      this.#failure = error;
      for (const c of started.reverse()) await c.stop({ graceMs: 5_000 }).catch(() => undefined);
      this.#state = 'failed';
      this.#resolveDone();
      throw error;
    }
    this.#state = 'running';
  }

  #watch(c: Component): void {
    void c.finished?.then(() => {
      if (this.#state !== 'running') return;
      this.#failure = c.error ?? new Error(`${c.name} stopped unexpectedly`);
      this.#logger.error(
        { component: c.name, err: this.#failure },
        `${c.name} failed: ${errorMessage(this.#failure)}; stopping`,
      );
      void this.stop({ graceMs: 10_000 }).then(() => {
        this.#state = 'failed';
      });
    });
  }

  /** Stops every component in reverse order within `graceMs` overall. Idempotent. */
  stop(options: { readonly graceMs?: number } = {}): Promise<void> {
    this.#stopping ??= this.#stopAll(options.graceMs ?? 30_000);
    return this.#stopping;
  }

  async #stopAll(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    this.#state = 'stopping';
    for (const c of [...this.#components].reverse()) {
      const left = Math.max(1_000, deadline - Date.now());
      const started = performance.now();
      try {
        await c.stop({ graceMs: left });
        this.#logger.debug({ component: c.name, ms: Math.round(performance.now() - started) }, 'stopped');
      } catch (error) {
        this.#logger.error({ component: c.name, err: error }, 'stop failed');
      }
    }
    this.#state = this.#failure === undefined ? 'stopped' : 'failed';
    this.#resolveDone();
  }
}
