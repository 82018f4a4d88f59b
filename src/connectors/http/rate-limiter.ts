import { createHash } from 'node:crypto';
import { sleep } from '../../common/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { BucketSpec, RateLimitStore } from './rate-limit-store.ts';

/** A request budget. */
export interface RateLimit {
  /** Most requests in any sliding 60-second window. */
  readonly requestsPerMinute: number;
  /**
   * Requests that may go out back to back. The bucket refills at `(requestsPerMinute − burst) / 60` per second, so
   * that burst plus refill never exceed the budget in any 60-second window.
   * @default max(1, ceil(requestsPerMinute / 100))
   */
  readonly burst?: number;
}

/** The token bucket that keeps `limit` in every sliding minute: capacity + 60 s × refill = requestsPerMinute. */
export function bucketFor(limit: RateLimit): BucketSpec {
  const rpm = limit.requestsPerMinute;
  if (!(rpm >= 2)) throw new RangeError(`requestsPerMinute must be at least 2 (got ${rpm})`);
  const burst = Math.min(Math.max(1, Math.floor(limit.burst ?? Math.ceil(rpm / 100))), Math.floor(rpm / 2));
  return { capacity: burst, refillPerSecond: (rpm - burst) / 60 };
}

/**
 * A store key for a credential: a hash, so that neither the store nor a log line ever holds the credential.
 * @example rateLimitKey('entsoe', token.reveal()) // 'entsoe:3f7a…'
 */
export function rateLimitKey(scope: string, credential: string): string {
  return `${scope}:${createHash('sha256').update(credential).digest('hex').slice(0, 20)}`;
}

export interface RateLimiterOptions {
  readonly store: RateLimitStore;
  readonly logger: Logger;
  /** Longest single wait before the store is asked again (a ban can be extended by another worker). @default 30 000 */
  readonly maxWaitMs?: number;
  /** Source of jitter in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/**
 * Waits for permission to send: a token from the key's bucket, and no ban in force. Several limiters (several
 * clients, several processes) sharing one store share one budget.
 */
export class RateLimiter {
  readonly #store: RateLimitStore;
  readonly #logger: Logger;
  readonly #maxWaitMs: number;
  readonly #random: () => number;
  readonly #announcedBans = new Map<string, number>();

  constructor(options: RateLimiterOptions) {
    this.#store = options.store;
    this.#logger = options.logger;
    this.#maxWaitMs = options.maxWaitMs ?? 30_000;
    this.#random = options.random ?? Math.random;
  }

  get store(): RateLimitStore {
    return this.#store;
  }

  /** Resolves once one request may be sent for `key`; rejects when `signal` aborts. */
  async acquire(
    key: string,
    limit: RateLimit,
    options: { readonly signal?: AbortSignal | undefined } = {},
  ): Promise<void> {
    const spec = bucketFor(limit);
    for (;;) {
      options.signal?.throwIfAborted();
      const result = await this.#store.take(key, spec, options);
      if (result.granted) return;
      if (result.bannedUntil !== null && this.#announcedBans.get(key) !== result.bannedUntil) {
        this.#announcedBans.set(key, result.bannedUntil);
        this.#logger.warn(
          { limitKey: key, bannedUntil: new Date(result.bannedUntil).toISOString() },
          'upstream ban in force: every request for this credential waits until it ends',
        );
      }
      // A little jitter so that workers woken by the same refill do not all ask at the same instant.
      const jitter = result.bannedUntil === null ? Math.floor(this.#random() * Math.min(50, result.waitMs + 1)) : 0;
      await sleep(Math.min(this.#maxWaitMs, Math.max(1, result.waitMs) + jitter), options);
    }
  }

  /** Pauses every request for `key` until `until` (shared with every limiter on the same store). */
  async ban(key: string, until: number, options: { readonly signal?: AbortSignal | undefined } = {}): Promise<void> {
    await this.#store.ban(key, until, options);
  }
}
