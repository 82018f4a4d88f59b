import { randomUUID } from 'node:crypto';
import type { LifecycleState, PeriodicTask } from '../common/index.ts';
import { errorMessage, periodic } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import type { LeaseStore } from './lease-store.ts';

export interface LeaderElectorOptions {
  readonly store: LeaseStore;
  readonly logger: Logger;
  /** @default 'gridstream-scheduler' */
  readonly name?: string;
  /** This instance's identity. @default `<hostname-less random id>` */
  readonly holder?: string;
  /** Lease period: a crashed leader is replaced within it. @default 30 000 ms */
  readonly ttlMs?: number;
  /** @default ttlMs / 3 */
  readonly renewEveryMs?: number;
  readonly now?: () => number;
  /** Called when this instance becomes leader. */
  readonly onElected?: () => void;
}

/**
 * Keeps trying to hold the leader lease and renews it while held. Leadership is a local fact with an end: this
 * instance considers itself leader only until its last successful renewal plus the remaining lease time (minus a
 * safety margin), so a leader cut off from the store steps down before another instance can take over.
 */
export class LeaderElector {
  readonly name: string;
  readonly holder: string;
  readonly #options: LeaderElectorOptions;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #renewer: PeriodicTask;
  #validUntil = 0;
  #term: AbortController | undefined;
  /** Led when it stopped: the lease is still ours to release. */
  #wasLeader = false;

  constructor(options: LeaderElectorOptions) {
    this.#options = options;
    this.name = options.name ?? 'gridstream-scheduler';
    this.holder = options.holder ?? `scheduler-${randomUUID()}`;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#now = options.now ?? Date.now;
    const every = options.renewEveryMs ?? Math.floor(this.#ttlMs / 3);
    this.#renewer = periodic({
      name: `lease ${this.name}`,
      logger: options.logger,
      intervalMs: every,
      backoff: { baseMs: Math.max(10, Math.floor(every / 2)), maxMs: every },
      run: async (signal) => {
        await this.#renew(signal);
        return every;
      },
    });
  }

  get state(): LifecycleState {
    return this.#renewer.state;
  }

  /** Why renewing fails, while it keeps failing (the scheduler is then not ready). */
  get degraded(): string | undefined {
    return this.#renewer.degraded;
  }

  /** True while this instance holds an unexpired lease. */
  get isLeader(): boolean {
    if (this.#term !== undefined && this.#now() >= this.#validUntil) this.#stepDown('lease expired without renewal');
    return this.#term !== undefined;
  }

  /** A signal that aborts when this term of leadership ends; `undefined` when not leader. */
  get termSignal(): AbortSignal | undefined {
    return this.isLeader ? this.#term?.signal : undefined;
  }

  start(): Promise<void> {
    return this.#renewer.start();
  }

  /** Stops renewing and, unless `release` is false (a simulated crash), hands the lease over at once. */
  async stop(options: { readonly release?: boolean; readonly graceMs?: number } = {}): Promise<void> {
    await this.#renewer.stop(options.graceMs === undefined ? {} : { graceMs: options.graceMs });
    this.#wasLeader ||= this.#term !== undefined;
    this.#stepDown('stopping');
    if (options.release !== false) await this.release();
  }

  /**
   * Hands the lease over at once (after `stop({ release: false })`, once the jobs of the last term have ended, so that
   * no other instance starts a job this one is still winding down). A no-op unless this instance led.
   */
  async release(): Promise<void> {
    if (!this.#wasLeader) return;
    this.#wasLeader = false;
    await this.#options.store.release(this.name, this.holder).catch((error: unknown) => {
      this.#options.logger.warn({ lease: this.name, error: errorMessage(error) }, 'could not release the lease');
    });
  }

  async #renew(signal: AbortSignal): Promise<void> {
    const asked = this.#now();
    // A store failure throws: the poller backs off, and this instance keeps leading only until the lease it
    // knows of runs out (`isLeader` steps down then).
    const lease = await this.#options.store.acquire(this.name, this.holder, this.#ttlMs, { signal });
    if (lease === null || lease.holder !== this.holder) {
      if (this.#term !== undefined) this.#stepDown('another instance holds the lease');
      return;
    }
    // Counted from when we asked, minus a margin for clock drift: never believe we lead longer than the store does.
    this.#validUntil = asked + lease.remainingMs - Math.min(1000, this.#ttlMs / 10);
    if (this.#term === undefined) {
      this.#term = new AbortController();
      this.#options.logger.info({ lease: this.name, holder: this.holder }, 'became the scheduler leader');
      this.#options.onElected?.();
    }
  }

  #stepDown(reason: string): void {
    if (this.#term === undefined) return;
    const term = this.#term;
    this.#term = undefined;
    this.#validUntil = 0;
    this.#options.logger.warn({ lease: this.name, holder: this.holder, reason }, 'no longer the scheduler leader');
    term.abort(new Error(`leadership ended: ${reason}`));
  }
}
