import { settlesWithin } from './async.ts';
import { errorMessage } from './errors.ts';

/**
 * The states every long-running part of gridstream goes through (temporal's worker states, reduced):
 *
 * ```
 * idle ──start()──► starting ──► running ──stop()──► stopping ──► stopped
 *                      │            │
 *                      └──► failed ◄┘   (start threw, or fail() while running)
 * ```
 *
 * `failed` is terminal like `stopped`; `stop()` on a failed component still releases its resources and leaves it
 * `failed`, so that the cause is not forgotten.
 */
export const LIFECYCLE_STATES = ['idle', 'starting', 'running', 'stopping', 'stopped', 'failed'] as const;
export type LifecycleState = (typeof LIFECYCLE_STATES)[number];

export interface StopOptions {
  /** How long in-flight work may take to finish before it is abandoned. @default the component's own grace */
  readonly graceMs?: number;
}

/** A long-running part of a process: a stream processor, an HTTP server, a periodic task, the scheduler. */
export interface Component {
  readonly name: string;
  readonly state: LifecycleState;
  /** Why the component failed (state `failed`); `undefined` otherwise. */
  readonly error: unknown;
  /** Set while running but unable to do its work (a broker unreachable, a damaged log): the process is not ready. */
  readonly degraded: string | undefined;
  /** Settles once the component is `stopped` or `failed`; never rejects. */
  readonly finished: Promise<void>;
  /** Starts the component; resolves once it runs. Idempotent while starting or running. */
  start(): Promise<void>;
  /**
   * Stops taking new work, lets work in flight finish within `graceMs`, then abandons it and releases resources.
   * Idempotent: every call returns the same promise.
   */
  stop(options?: StopOptions): Promise<void>;
}

/** One part's line in `/readyz`. */
export interface ComponentHealth {
  readonly name: string;
  readonly state: LifecycleState;
  /** Why a running part cannot work right now (a broker unreachable, a damaged log). */
  readonly degraded: string | null;
  /** Why a failed part failed. */
  readonly error: string | null;
}

/** What `/readyz` answers: ready when every part runs and none is degraded (plus the checks named in `checks`). */
export interface Readiness {
  readonly ready: boolean;
  /** The process's own state (its supervisor's). */
  readonly state: LifecycleState;
  readonly components: readonly ComponentHealth[];
  /** Reachability of what the process depends on (`database`, `log`): `ok` or why not. */
  readonly checks?: Readonly<Record<string, string>>;
}

/** What a component does at the edges of its life; {@link Lifecycle} owns the states around them. */
export interface LifecycleHooks {
  /**
   * Acquires resources and starts loops. Throwing makes the component `failed` (and `start()` reject); its stop hook
   * then runs to release what was acquired. `signal` aborts when `stop()` is called during the start: give up.
   */
  readonly start?: (signal: AbortSignal) => Promise<void>;
  /**
   * Stops taking work and finishes what is in flight. `deadline` aborts when the grace time is over: give up then,
   * release resources and return. A hook that does not return within the grace time (plus two seconds) is left
   * behind with an error in the log.
   */
  readonly stop?: (context: { readonly graceMs: number; readonly deadline: AbortSignal }) => Promise<void>;
}

export interface LifecycleOptions {
  /** Grace of a `stop()` called without one. @default 30 000 */
  readonly graceMs?: number;
  /** Told about a stop hook that overran its grace, and about failures. */
  readonly onProblem?: (message: string, details: Record<string, unknown>) => void;
  /** Why a running component cannot work right now, asked of the parts it is made of (see `degraded`). */
  readonly degradedBy?: () => string | undefined;
}

/** How long a stop hook may overrun its grace before it is left behind. */
const OVERRUN_MS = 2000;

/**
 * The one lifecycle primitive: owns the state, the idempotent `start()`/`stop()` with a grace deadline, `finished`,
 * the failure cause and the degraded flag. Components implement hooks and call {@link Lifecycle.fail} when they
 * cannot go on; they never keep a state variable or a `stopping ??=` of their own.
 *
 * @example
 * const life = new Lifecycle('rollups', { start: async () => { loop = run() }, stop: async ({ deadline }) => { … } });
 * await life.start(); … await life.stop({ graceMs: 5_000 });
 */
export class Lifecycle implements Component {
  readonly name: string;
  readonly #hooks: LifecycleHooks;
  readonly #options: LifecycleOptions;
  #state: LifecycleState = 'idle';
  #error: unknown;
  #degraded: { readonly reason: string; readonly until: number } | undefined;
  #starting: Promise<void> | undefined;
  readonly #startAbort = new AbortController();
  #stopping: Promise<void> | undefined;
  readonly #finished = Promise.withResolvers<undefined>();

  constructor(name: string, hooks: LifecycleHooks = {}, options: LifecycleOptions = {}) {
    this.name = name;
    this.#hooks = hooks;
    this.#options = options;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  get error(): unknown {
    return this.#error;
  }

  get degraded(): string | undefined {
    if (this.#state !== 'running') return undefined;
    const own = this.#degraded !== undefined && Date.now() < this.#degraded.until ? this.#degraded.reason : undefined;
    return own ?? this.#options.degradedBy?.();
  }

  get finished(): Promise<void> {
    return this.#finished.promise;
  }

  /** True while the component may take work (`running`). */
  get running(): boolean {
    return this.#state === 'running';
  }

  start(): Promise<void> {
    if (this.#state === 'starting' || this.#state === 'running') return this.#starting ?? Promise.resolve();
    if (this.#state !== 'idle') {
      return Promise.reject(new Error(`cannot start ${this.name}: it is ${this.#state}`));
    }
    this.#state = 'starting';
    this.#starting = (async () => {
      try {
        await this.#hooks.start?.(this.#startAbort.signal);
      } catch (error) {
        this.#error = error;
        this.#state = 'failed';
        // What the start acquired before it failed (a bound port, open connections) is released.
        await this.stop({ graceMs: 5_000 });
        throw error;
      }
      // A failure reported while starting, or a stop that came meanwhile, wins over `running`.
      if (this.#state === 'starting') this.#state = 'running';
    })();
    return this.#starting;
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.#stopping ??= this.#stop(options.graceMs ?? this.#options.graceMs ?? 30_000);
    return this.#stopping;
  }

  /**
   * The component cannot go on: records the cause, becomes `failed` and settles `finished` (a supervisor then stops
   * the process). Its resources are released by the `stop()` that follows. Ignored once stopping or stopped.
   */
  fail(error: unknown): void {
    if (this.#state === 'stopping' || this.#state === 'stopped' || this.#state === 'failed') return;
    this.#options.onProblem?.(`${this.name} failed: ${errorMessage(error)}`, { component: this.name });
    this.#settle('failed', error);
  }

  /**
   * Running but unable to work right now (reported by `/readyz`); cleared by {@link recover}, or when `forMs` passes
   * without the component saying so again (a failure long ago on an idle input must not keep the process unready).
   */
  degrade(reason: string, options: { readonly forMs?: number } = {}): void {
    this.#degraded = { reason, until: Date.now() + (options.forMs ?? Number.POSITIVE_INFINITY) };
  }

  recover(): void {
    this.#degraded = undefined;
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#state === 'idle') {
      this.#settle('stopped', undefined);
      return;
    }
    // Synchronously `stopping` when running (callers see it at once); a start in progress is told to give up and
    // waited for first.
    if (this.#state === 'starting' && this.#starting !== undefined) {
      this.#startAbort.abort(new Error(`${this.name}: stopped while starting`));
      await this.#starting.catch(() => undefined);
    }
    const failedBefore = this.#state === 'failed';
    if (!failedBefore) this.#state = 'stopping';
    const deadline = new AbortController();
    const timer = setTimeout(() => {
      deadline.abort(new Error(`${this.name}: stop grace of ${graceMs} ms is over`));
    }, graceMs);
    try {
      // An async wrapper: a hook that throws synchronously is a failed stop like one that rejects.
      const hook = (async () => this.#hooks.stop?.({ graceMs, deadline: deadline.signal }))().catch(
        (error: unknown) => {
          // A failed stop (the last commit or flush did not happen) ends `failed`: the process exits 1.
          this.#error ??= error;
          this.#options.onProblem?.(`${this.name}: stopping failed: ${errorMessage(error)}`, {
            component: this.name,
          });
        },
      );
      if (!(await settlesWithin(hook, graceMs + OVERRUN_MS))) {
        this.#options.onProblem?.(`${this.name} did not stop within its grace time; leaving it behind`, {
          component: this.name,
          graceMs,
        });
      }
    } finally {
      clearTimeout(timer);
      deadline.abort();
    }
    this.#settle(failedBefore || this.#error !== undefined ? 'failed' : 'stopped', undefined);
  }

  #settle(state: 'stopped' | 'failed', error: unknown): void {
    if (state === 'failed' && this.#error === undefined) this.#error = error ?? new Error(`${this.name} failed`);
    this.#state = state;
    this.#finished.resolve(undefined);
  }
}

/**
 * A component made of a {@link Lifecycle} and the members of `extra` (a role's queries, a task's `wake()`): the
 * states, `start()` and `stop()` are the lifecycle's, the rest is `extra`'s.
 */
export function withLifecycle<T extends object>(life: Lifecycle, extra: T): Component & T {
  const members: PropertyDescriptorMap = {
    name: { value: life.name, enumerable: true },
    state: { get: () => life.state, enumerable: true },
    error: { get: () => life.error, enumerable: true },
    degraded: { get: () => life.degraded, enumerable: true },
    finished: { get: () => life.finished, enumerable: true },
    start: { value: () => life.start() },
    stop: { value: (options?: StopOptions) => life.stop(options) },
  };
  // Every Component member is defined just above, on top of `extra`'s own.
  return Object.defineProperties(extra, members) as Component & T;
}
