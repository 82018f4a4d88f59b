import type { StoreCallOptions } from '../../common/index.ts';

/** The shape of a token bucket: at most `capacity` tokens, refilled continuously at `refillPerSecond`. */
export interface BucketSpec {
  readonly capacity: number;
  readonly refillPerSecond: number;
}

/** The answer to "may I send one request now?". */
export type TakeResult =
  | { readonly granted: true }
  | {
      readonly granted: false;
      /** How long until a token is expected (or the ban ends). */
      readonly waitMs: number;
      /** When the key is banned: the end of the ban (epoch ms); else `null`. */
      readonly bannedUntil: number | null;
    };

/**
 * Where token buckets and upstream bans live. One bucket per upstream credential, shared by every worker that
 * uses the credential: in-process ({@link MemoryRateLimitStore}, embedded mode) or in PostgreSQL (distributed
 * mode, `SqlRateLimitStore`). Keys are derived from credentials by hashing; a store never sees a secret.
 */
export interface RateLimitStore {
  /** Takes one token from bucket `key` when one is available and the key is not banned. Atomic across workers. */
  take(key: string, spec: BucketSpec, options?: StoreCallOptions): Promise<TakeResult>;
  /** Records a ban of `key` until `until` (epoch ms). A ban is only ever extended, never shortened. */
  ban(key: string, until: number, options?: StoreCallOptions): Promise<void>;
  /** The end of the current ban of `key`, or `null` when it is not banned. */
  bannedUntil(key: string, options?: StoreCallOptions): Promise<number | null>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
  bannedUntil: number | null;
}

/**
 * The in-process {@link RateLimitStore}: exact and atomic for every client of one process. Its state is lost on
 * restart; a process restarted within a minute of a burst could exceed the budget — use the SQL store (which also
 * works on the embedded PGlite database) where that matters.
 */
export class MemoryRateLimitStore implements RateLimitStore {
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();

  constructor(options: { readonly now?: () => number } = {}) {
    this.#now = options.now ?? Date.now;
  }

  take(key: string, spec: BucketSpec): Promise<TakeResult> {
    const now = this.#now();
    const bucket = this.#refill(key, spec, now);
    if (bucket.bannedUntil !== null && bucket.bannedUntil > now) {
      return Promise.resolve({ granted: false, waitMs: bucket.bannedUntil - now, bannedUntil: bucket.bannedUntil });
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return Promise.resolve({ granted: true });
    }
    const waitMs = Math.ceil(((1 - bucket.tokens) / spec.refillPerSecond) * 1000);
    return Promise.resolve({ granted: false, waitMs, bannedUntil: null });
  }

  ban(key: string, until: number): Promise<void> {
    const bucket = this.#buckets.get(key) ?? { tokens: 0, updatedAt: this.#now(), bannedUntil: null };
    bucket.bannedUntil = Math.max(bucket.bannedUntil ?? 0, until);
    // After a ban the upstream's own counter restarts; start from an empty bucket rather than a burst.
    bucket.tokens = 0;
    this.#buckets.set(key, bucket);
    return Promise.resolve();
  }

  bannedUntil(key: string): Promise<number | null> {
    const until = this.#buckets.get(key)?.bannedUntil ?? null;
    return Promise.resolve(until !== null && until > this.#now() ? until : null);
  }

  #refill(key: string, spec: BucketSpec, now: number): Bucket {
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: spec.capacity, updatedAt: now, bannedUntil: null };
      this.#buckets.set(key, bucket);
      return bucket;
    }
    // Nothing accrues during a ban, so the first requests after it are not a burst.
    const elapsed = Math.max(0, now - Math.max(bucket.updatedAt, bucket.bannedUntil ?? 0)) / 1000;
    const banned = bucket.bannedUntil !== null && bucket.bannedUntil > now;
    bucket.tokens = banned ? 0 : Math.min(spec.capacity, bucket.tokens + elapsed * spec.refillPerSecond);
    bucket.updatedAt = now;
    return bucket;
  }
}
