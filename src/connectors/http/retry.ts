import { backoffDelay } from '../../common/index.ts';

/** How a failed request is tried again. */
export interface RetryOptions {
  /** Attempts in total, the first one included. @default 5 */
  readonly maxAttempts?: number;
  /** Upper bound of the first retry's delay. @default 1 000 ms */
  readonly baseDelayMs?: number;
  /** Upper bound of any delay. @default 60 000 ms */
  readonly maxDelayMs?: number;
  /** How many bans a single request may wait out before it is given up. @default 2 */
  readonly maxBanWaits?: number;
  /** Source of randomness in [0, 1) (tests make it deterministic). @default Math.random */
  readonly random?: () => number;
}

export const DEFAULT_RETRY: Required<RetryOptions> = {
  maxAttempts: 5,
  baseDelayMs: 1000,
  maxDelayMs: 60_000,
  maxBanWaits: 2,
  random: Math.random,
};

/**
 * The delay before retry `retry` (1 for the first) of a request: the toolkit's {@link backoffDelay} with full
 * jitter, so that workers that failed together do not hit a recovering host in lockstep.
 */
export function retryDelay(retry: number, options: RetryOptions = {}): number {
  return backoffDelay(retry, {
    baseMs: options.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
    maxMs: options.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    random: options.random ?? DEFAULT_RETRY.random,
    jitter: 1,
  });
}

/**
 * Reads a `Retry-After` header: delta seconds or an HTTP date. Returns milliseconds from `now`, or `null` when the
 * header is missing or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  if (value === null || value === undefined || value.trim() === '') return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
