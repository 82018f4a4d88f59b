import type { MiddlewareHandler } from 'hono';
import type { Metrics } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';
import type { ApiRole, KeyVerifier, Principal } from './api-keys.ts';
import { roleAtLeast } from './api-keys.ts';
import type { AuthThrottleOptions } from './authenticate.ts';
import { Authenticator } from './authenticate.ts';
import { ApiError } from './errors.ts';

export interface PermissionOptions {
  /** Anonymous callers read (role reader, all zones) — for open-data demos. @default false */
  readonly publicRead: boolean;
  /** Requests per minute of a key without its own limit (and of each anonymous address). @default 600 */
  readonly defaultRatePerMinute: number;
  /** Where failed and throttled authentication is counted. */
  readonly metrics?: Metrics;
  /** Backoff of addresses that present wrong keys. @default {@link AuthThrottle}'s */
  readonly authThrottle?: AuthThrottleOptions;
  /** Reverse proxies whose `X-Forwarded-For` names the client. @default none */
  readonly trustedProxies?: readonly string[];
}

/** Token buckets per key (or per address for anonymous callers); per process. */
class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();

  /** Takes a token; returns 0 when allowed, else the seconds until one is available. */
  take(key: string, perMinute: number, now = Date.now()): number {
    const rate = perMinute / 60_000;
    const bucket = this.#buckets.get(key) ?? { tokens: perMinute, at: now };
    bucket.tokens = Math.min(perMinute, bucket.tokens + (now - bucket.at) * rate);
    bucket.at = now;
    if (this.#buckets.size > 100_000) this.#buckets.clear();
    this.#buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rate / 1000));
  }
}

/** Requests per key, written to the database in the background (not on the request path). */
class UsageCounter {
  readonly #pending = new Map<string, number>();
  readonly #db: Db;
  #timer: NodeJS.Timeout | undefined;

  constructor(db: Db) {
    this.#db = db;
  }

  count(keyId: string): void {
    this.#pending.set(keyId, (this.#pending.get(keyId) ?? 0) + 1);
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, 2_000);
  }

  async flush(): Promise<void> {
    const entries = [...this.#pending];
    this.#pending.clear();
    for (const [id, n] of entries) {
      await this.#db
        .query('UPDATE api_keys SET request_count = request_count + $2, last_used_at = now() WHERE id = $1', [id, n])
        .catch(() => undefined);
    }
  }

  async stop(): Promise<void> {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}

export type ApiEnv = { Variables: { principal: Principal } };

/**
 * The permission proxy in front of every `/api/v1` route: the key ({@link Authenticator}: one rule for every port,
 * failed keys throttled per address), checked against salted hashes; per-key rate limits (429 with Retry-After);
 * usage counters. Routes then call {@link requireRole}, {@link allowZone} and the access-scope checks.
 */
export class Permissions {
  readonly auth: Authenticator;
  readonly usage: UsageCounter;
  readonly #limiter = new RateLimiter();
  readonly #options: PermissionOptions;

  /** Anonymous callers may read. */
  get publicRead(): boolean {
    return this.#options.publicRead;
  }

  /** The key verifier (shared by the routes that change keys). */
  get verifier(): KeyVerifier {
    return this.auth.verifier;
  }

  constructor(db: Db, options: PermissionOptions) {
    this.auth = new Authenticator(db, {
      server: 'api',
      ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
      ...(options.authThrottle === undefined ? {} : { throttle: options.authThrottle }),
      ...(options.trustedProxies === undefined ? {} : { trustedProxies: options.trustedProxies }),
    });
    this.usage = new UsageCounter(db);
    this.#options = options;
  }

  middleware(): MiddlewareHandler<ApiEnv> {
    return async (c, next) => {
      let principal = await this.auth.authenticate(c);
      if (principal === undefined) {
        if (!this.#options.publicRead || c.req.method !== 'GET' || c.req.path.startsWith('/api/v1/admin'))
          throw new ApiError(
            'api.unauthorized',
            'an API key is required: send "Authorization: Bearer <key>" or "X-API-Key: <key>"',
            { headers: { 'www-authenticate': 'Bearer' } },
          );
        principal = {
          keyId: null,
          name: 'anonymous',
          role: 'reader',
          zones: null,
          groups: null,
          rateLimitPerMinute: null,
        };
      }
      // Anonymous callers per client address (a forwarded header only from a trusted proxy: never spoofable).
      const bucket = principal.keyId ?? `anon:${this.auth.clientAddress(c)}`;
      const wait = this.#limiter.take(bucket, principal.rateLimitPerMinute ?? this.#options.defaultRatePerMinute);
      if (wait > 0)
        throw new ApiError(
          'api.rate_limited',
          `rate limit of ${principal.rateLimitPerMinute ?? this.#options.defaultRatePerMinute} requests per minute exceeded`,
          { headers: { 'retry-after': String(wait) } },
        );
      if (principal.keyId !== null) this.usage.count(principal.keyId);
      c.set('principal', principal);
      await next();
    };
  }
}

/** 403 unless the caller's role is at least `role`. */
export function requireRole(principal: Principal, role: ApiRole): void {
  if (!roleAtLeast(principal.role, role))
    throw new ApiError('api.forbidden', `this needs the ${role} role; the key has ${principal.role}`);
}

/** 403 when the caller may not read `zone`. */
export function allowZone(principal: Principal, zone: string, param = 'zone'): void {
  if (principal.zones !== null && !principal.zones.has(zone))
    throw new ApiError('api.forbidden', `the API key may not read zone ${zone}`, { param });
}

/** The zones of a list the caller may read. */
export function visibleZones<T extends { zone: string }>(principal: Principal, items: readonly T[]): T[] {
  const zones = principal.zones;
  return zones === null ? [...items] : items.filter((i) => zones.has(i.zone));
}
