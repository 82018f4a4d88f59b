import { abortReason, errorCode, errorMessage, isAborted, isRetryable, sleep } from '../../common/index.ts';
import type { Logger } from '../../observability/index.ts';
import type { RetryOptions } from './retry.ts';
import { DEFAULT_RETRY, retryDelay } from './retry.ts';
import type { CircuitBreakers } from './circuit-breaker.ts';
import { HttpError, findHttpError, isHostFailure } from './errors.ts';
import type { RateLimit, RateLimiter } from './rate-limiter.ts';

/** Everything that makes requests to one upstream polite: a shared budget, bans, retries and a circuit breaker. */
export interface Politeness {
  readonly limiter: RateLimiter;
  /** The bucket of the credential in use (see `rateLimitKey`). */
  readonly limitKey: string;
  readonly limit: RateLimit;
  readonly breakers: CircuitBreakers;
  readonly retry?: RetryOptions;
  readonly logger: Logger;
  /** Ban length when a ban does not say when it ends. @default 600 000 ms (ENTSO-E: "approximately 10 minutes") */
  readonly defaultBanMs?: number;
  /** A ban end further away than this is not believed (a misread date); it is cut to this. @default 3 600 000 ms */
  readonly maxBanMs?: number;
  readonly now?: () => number;
  /** Told about every attempt's outcome and every wait for the limiter (metrics). */
  readonly observer?: RequestObserver;
}

/** Hooks for metrics: attempts by outcome (`200`, `503`, `timeout`, `banned`…) and time spent waiting for a token. */
export interface RequestObserver {
  attempt?(host: string, outcome: string): void;
  limiterWait?(host: string, seconds: number): void;
}

/** How a request went: its value, or why it finally failed (an expected outcome, not an exception). */
export type PoliteResult<T> =
  | { readonly ok: true; readonly value: T; readonly attempts: number }
  | {
      readonly ok: false;
      readonly error: unknown;
      readonly attempts: number;
      readonly firstFailureAt: number;
      readonly lastFailureAt: number;
      /** Status of the last answer, `null` when none came back. */
      readonly httpStatus: number | null;
    };

/**
 * Sends one logical request through the limiter, the circuit breaker of `host` and the retry policy. `send` makes
 * one attempt and throws on failure; errors are classified from their cause chain: a `banned` {@link HttpError}
 * records the ban for every worker of the credential and waits it out (up to `maxBanWaits` times, not counted as
 * attempts); retryable errors are retried with full-jitter backoff (honouring `Retry-After`) up to `maxAttempts`;
 * anything else fails at once. Cancellation rejects with the signal's reason and is never reported as a failure.
 */
export async function requestPolitely<T>(
  host: string,
  send: (attempt: number, signal: AbortSignal | undefined) => Promise<T>,
  politeness: Politeness,
  options: { readonly signal?: AbortSignal | undefined; readonly context?: Record<string, unknown> } = {},
): Promise<PoliteResult<T>> {
  const { signal } = options;
  const retry = { ...DEFAULT_RETRY, ...politeness.retry };
  const now = politeness.now ?? Date.now;
  const log = politeness.logger.child({ host, ...options.context });
  const breaker = politeness.breakers.for(host);
  let attempts = 0;
  let bans = 0;
  let firstFailureAt: number | null = null;
  let lastFailureAt = 0;
  let httpStatus: number | null = null;
  const failed = (error: unknown): PoliteResult<T> => ({
    ok: false,
    error,
    attempts: Math.max(1, attempts),
    firstFailureAt: firstFailureAt ?? lastFailureAt,
    lastFailureAt,
    httpStatus,
  });

  for (;;) {
    if (isAborted(signal)) throw abortReason(signal);
    const decision = breaker.tryPass();
    if (!decision.allowed) {
      attempts++;
      lastFailureAt = now();
      firstFailureAt ??= lastFailureAt;
      const error = new HttpError('http.circuit_open', `circuit breaker open for ${host}: the host failed repeatedly`);
      if (attempts >= retry.maxAttempts) return failed(error);
      const delay = Math.max(decision.retryInMs, retryDelay(attempts, retry));
      log.warn({ attempt: attempts, delayMs: delay }, 'circuit open: holding the request back');
      await sleep(delay, { signal });
      continue;
    }
    const waitStarted = now();
    try {
      await politeness.limiter.acquire(politeness.limitKey, politeness.limit, { signal });
    } catch (error) {
      breaker.release();
      throw error;
    }
    politeness.observer?.limiterWait?.(host, (now() - waitStarted) / 1000);
    attempts++;
    try {
      const value = await send(attempts, signal);
      politeness.observer?.attempt?.(host, 'ok');
      breaker.success();
      if (attempts > 1) log.info({ attempts }, 'request succeeded after retries');
      return { ok: true, value, attempts };
    } catch (error) {
      if (isAborted(signal)) {
        breaker.release();
        throw abortReason(signal);
      }
      lastFailureAt = now();
      firstFailureAt ??= lastFailureAt;
      const http = findHttpError(error);
      if (http?.status !== null && http?.status !== undefined) httpStatus = http.status;
      politeness.observer?.attempt?.(
        host,
        http?.status === null || http?.status === undefined ? errorCode(error) : String(http.status),
      );
      if (http?.code === 'http.banned') {
        breaker.success(); // the host answered: it is up, it just refuses us for a while
        const until = banEnd(http.bannedUntil, politeness, lastFailureAt);
        await politeness.limiter.ban(politeness.limitKey, until, { signal });
        log.warn(
          { bannedUntil: new Date(until).toISOString(), statedByUpstream: http.bannedUntil !== null },
          'upstream banned the credential: pausing every request for it',
        );
        attempts--; // waiting out a ban is not a failed attempt
        if (++bans > retry.maxBanWaits) return failed(error);
        continue;
      }
      if (isHostFailure(error)) breaker.failure();
      else breaker.success();
      const code = errorCode(error);
      if (!isRetryable(error) || attempts >= retry.maxAttempts) {
        log.warn(
          { attempt: attempts, code, status: http?.status ?? null, error: errorMessage(error) },
          'request failed',
        );
        return failed(error);
      }
      const delay = Math.max(retryDelay(attempts, retry), http?.retryAfterMs ?? 0);
      log.info({ attempt: attempts, code, status: http?.status ?? null, delayMs: delay }, 'request failed, retrying');
      await sleep(delay, { signal });
    }
  }
}

function banEnd(stated: number | null, politeness: Politeness, now: number): number {
  const max = politeness.maxBanMs ?? 3_600_000;
  if (stated === null) return now + (politeness.defaultBanMs ?? 600_000);
  // A stated end in the past (clock skew) still pauses briefly; one absurdly far away is cut.
  return Math.min(Math.max(stated, now + 1000), now + max);
}
