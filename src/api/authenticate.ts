import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import type { Context } from 'hono';
import type { Metrics } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';
import type { Principal } from './api-keys.ts';
import { KeyVerifier } from './api-keys.ts';
import { ApiError } from './errors.ts';

/** How failed authentication is throttled per client address. */
export interface AuthThrottleOptions {
  /** Failures from one address before it waits. @default 10 */
  readonly maxFailures?: number;
  /** The first wait; each further failure doubles it. @default 1000 */
  readonly baseMs?: number;
  /** The longest wait. @default 900 000 (15 minutes) */
  readonly maxMs?: number;
  /** An address whose last failure is this old starts afresh. @default 900 000 */
  readonly forgetAfterMs?: number;
  /** Addresses tracked at most (the oldest are forgotten first). @default 100 000 */
  readonly maxAddresses?: number;
}

interface AddressState {
  failures: number;
  lastFailure: number;
  blockedUntil: number;
}

/**
 * Failed authentication per client address, with exponential backoff: after `maxFailures` failures an address
 * waits `baseMs`, and every failure after that doubles the wait (up to `maxMs`). While it waits, every key it
 * presents — right or wrong — is answered 429 without being checked, so guessing costs time, not just requests.
 * A success resets the address; so does `forgetAfterMs` without failures. Per process (like the rate limits).
 */
export class AuthThrottle {
  readonly #states = new Map<string, AddressState>();
  readonly #maxFailures: number;
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #forgetAfterMs: number;
  readonly #maxAddresses: number;

  constructor(options: AuthThrottleOptions = {}) {
    this.#maxFailures = options.maxFailures ?? 10;
    this.#baseMs = options.baseMs ?? 1000;
    this.#maxMs = options.maxMs ?? 900_000;
    this.#forgetAfterMs = options.forgetAfterMs ?? 900_000;
    this.#maxAddresses = options.maxAddresses ?? 100_000;
  }

  /** Seconds `address` must still wait (0: it may try). */
  waitSeconds(address: string, now = Date.now()): number {
    const state = this.#state(address, now);
    return state === undefined || state.blockedUntil <= now ? 0 : Math.ceil((state.blockedUntil - now) / 1000);
  }

  /** Counts a failure; returns the seconds the address must now wait (0 while under the threshold). */
  failure(address: string, now = Date.now()): number {
    const state = this.#state(address, now) ?? { failures: 0, lastFailure: now, blockedUntil: 0 };
    state.failures++;
    state.lastFailure = now;
    const over = state.failures - this.#maxFailures;
    if (over >= 0) state.blockedUntil = now + Math.min(this.#maxMs, this.#baseMs * 2 ** Math.min(over, 30));
    // Re-inserted last: the map's order is the order of last failure, so the oldest is forgotten first.
    this.#states.delete(address);
    this.#states.set(address, state);
    if (this.#states.size > this.#maxAddresses) {
      const oldest = this.#states.keys().next().value;
      if (oldest !== undefined) this.#states.delete(oldest);
    }
    return this.waitSeconds(address, now);
  }

  success(address: string): void {
    this.#states.delete(address);
  }

  #state(address: string, now: number): AddressState | undefined {
    const state = this.#states.get(address);
    if (state !== undefined && now - state.lastFailure > this.#forgetAfterMs && state.blockedUntil <= now) {
      this.#states.delete(address);
      return undefined;
    }
    return state;
  }
}

/**
 * The one rule for presented keys, on every port: `Authorization: Bearer <key>` when the header is there (anything
 * else in it is a 401 — never a fallback to another header), else `X-API-Key: <key>`, else no key (`undefined`).
 */
export function presentedKey(headers: { header(name: string): string | undefined }): string | undefined {
  const auth = headers.header('authorization');
  if (auth !== undefined) {
    const m = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(auth);
    if (m?.[1] === undefined) throw unauthorized('the Authorization header must be "Bearer <key>"');
    return m[1];
  }
  const key = headers.header('x-api-key');
  if (key === undefined) return undefined;
  if (!/^\S+$/.test(key)) throw unauthorized('the X-API-Key header must hold the key alone');
  return key;
}

function unauthorized(detail: string): ApiError {
  return new ApiError('api.unauthorized', detail, { headers: { 'www-authenticate': 'Bearer' } });
}

/**
 * The client address of a request served by @hono/node-server: the socket's peer, unless the peer is one of
 * `trustedProxies` — then the last `X-Forwarded-For` address that is not a trusted proxy (the entries left of it
 * were written by the client and prove nothing).
 */
export function clientAddress(c: Context, trustedProxies: ReadonlySet<string> = NO_PROXIES): string {
  const env: unknown = c.env;
  const incoming = (env as { incoming?: IncomingMessage } | undefined)?.incoming;
  return resolveClientAddress(incoming?.socket.remoteAddress, c.req.header('x-forwarded-for'), trustedProxies);
}

const NO_PROXIES: ReadonlySet<string> = new Set();

/** {@link clientAddress} from the socket's peer and the `X-Forwarded-For` header. */
export function resolveClientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: ReadonlySet<string>,
): string {
  const from = normalizeAddress(peer ?? 'unknown');
  if (!trustedProxies.has(from) || forwardedFor === undefined) return from;
  const hops = forwardedFor.split(',').map((x) => normalizeAddress(x.trim()));
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hops[i];
    if (hop === undefined || trustedProxies.has(hop)) continue;
    return isIP(hop) === 0 ? from : hop;
  }
  return from;
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) is `10.0.0.1`. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

export interface AuthenticatorOptions {
  /** Names the server in metrics (`api`, `ingest`). */
  readonly server: string;
  readonly metrics?: Metrics;
  readonly throttle?: AuthThrottleOptions;
  /** Reverse proxies whose `X-Forwarded-For` is believed ({@link clientAddress}). @default none */
  readonly trustedProxies?: readonly string[];
}

/**
 * Authentication for every gridstream port: the presented key ({@link presentedKey}), the per-address throttle
 * ({@link AuthThrottle}), the key checked ({@link KeyVerifier}), failures and throttled requests counted in metrics.
 */
export class Authenticator {
  readonly verifier: KeyVerifier;
  readonly #throttle: AuthThrottle;
  readonly #options: AuthenticatorOptions;
  readonly #proxies: ReadonlySet<string>;

  constructor(db: Db, options: AuthenticatorOptions) {
    this.verifier = new KeyVerifier(db);
    this.#throttle = new AuthThrottle(options.throttle);
    this.#options = options;
    this.#proxies = new Set(options.trustedProxies ?? []);
  }

  /** The request's client address ({@link clientAddress} with this port's trusted proxies). */
  clientAddress(c: Context): string {
    return clientAddress(c, this.#proxies);
  }

  /**
   * The caller's principal, or `undefined` when no key was presented (the caller decides whether anonymous
   * access is allowed). A malformed header or a key that is not valid is a 401; an address that failed too often
   * is a 429 with Retry-After.
   */
  async authenticate(c: Context): Promise<Principal | undefined> {
    const address = this.clientAddress(c);
    let presented: string | undefined;
    try {
      presented = presentedKey(c.req);
    } catch (error) {
      this.#refuseThrottled(address);
      this.#failed(address);
      throw error;
    }
    if (presented === undefined) return undefined;
    this.#refuseThrottled(address);
    const principal = await this.verifier.verify(presented);
    if (principal === undefined) {
      this.#failed(address);
      throw unauthorized('the API key is not valid (unknown, wrong or revoked)');
    }
    this.#throttle.success(address);
    return principal;
  }

  /** Stops following key changes (the verifier's notifications). */
  async stop(): Promise<void> {
    await this.verifier.stop();
  }

  #refuseThrottled(address: string): void {
    const wait = this.#throttle.waitSeconds(address);
    if (wait === 0) return;
    this.#options.metrics?.authThrottled(this.#options.server);
    throw new ApiError('api.rate_limited', `too many failed API keys from this address; try again in ${wait} s`, {
      headers: { 'retry-after': String(wait) },
    });
  }

  #failed(address: string): void {
    this.#options.metrics?.authFailure(this.#options.server);
    this.#throttle.failure(address);
  }
}
