import type { StoreCallOptions } from '../common/index.ts';

/** A lease held: by whom, and for how much longer as the store's clock sees it. */
export interface Lease {
  readonly name: string;
  readonly holder: string;
  /** Epoch ms (store clock). */
  readonly expiresAt: number;
  /** Milliseconds left when the store answered: compare with a local clock, not with `expiresAt`. */
  readonly remainingMs: number;
}

/**
 * Leases for leader election (pg-boss `plans.ts`): a named lease is held by one holder until it expires; the
 * holder renews it, anyone takes it once it has expired. In-process ({@link MemoryLeaseStore}) or PostgreSQL
 * (`SqlLeaseStore`, `UPDATE … WHERE expires_at < now() OR holder = $1 RETURNING`).
 */
export interface LeaseStore {
  /** Takes `name` when it is free or expired, or renews it when `holder` has it; `null` when someone else has it. */
  acquire(name: string, holder: string, ttlMs: number, options?: StoreCallOptions): Promise<Lease | null>;
  /** Gives `name` up if `holder` has it (a clean shutdown hands over at once instead of after a lease period). */
  release(name: string, holder: string, options?: StoreCallOptions): Promise<void>;
  /** The current unexpired lease, if any. */
  current(name: string, options?: StoreCallOptions): Promise<Lease | null>;
}

/** The in-process {@link LeaseStore}: for embedded mode and tests (several schedulers of one process). */
export class MemoryLeaseStore implements LeaseStore {
  readonly #now: () => number;
  readonly #leases = new Map<string, { holder: string; expiresAt: number }>();

  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  acquire(name: string, holder: string, ttlMs: number): Promise<Lease | null> {
    const now = this.#now();
    const lease = this.#leases.get(name);
    if (lease !== undefined && lease.expiresAt > now && lease.holder !== holder) return Promise.resolve(null);
    const expiresAt = now + ttlMs;
    this.#leases.set(name, { holder, expiresAt });
    return Promise.resolve({ name, holder, expiresAt, remainingMs: ttlMs });
  }

  release(name: string, holder: string): Promise<void> {
    if (this.#leases.get(name)?.holder === holder) this.#leases.delete(name);
    return Promise.resolve();
  }

  current(name: string): Promise<Lease | null> {
    const now = this.#now();
    const lease = this.#leases.get(name);
    if (lease === undefined || lease.expiresAt <= now) return Promise.resolve(null);
    return Promise.resolve({ name, ...lease, remainingMs: lease.expiresAt - now });
  }
}
