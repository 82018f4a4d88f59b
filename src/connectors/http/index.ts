/**
 * The connectors' HTTP client side: one GET with limits and timeouts, the retry policy of a request, a circuit
 * breaker per host, token-bucket rate limiting behind a store (in-process or PostgreSQL) with upstream bans, polite
 * requests that combine them, and the dead letter of a fetch that failed for good. Sleeps and backoff come from
 * `common/` (the async toolkit); the publisher ports from `contracts/`.
 */
export { HttpError, HTTP_ERROR_CODES, type HttpErrorCode, findHttpError, isHostFailure } from './errors.ts';
export { type RetryOptions, DEFAULT_RETRY, retryDelay, parseRetryAfter } from './retry.ts';
export {
  CircuitBreaker,
  CircuitBreakers,
  CIRCUIT_STATES,
  type CircuitState,
  type CircuitBreakerOptions,
  type CircuitDecision,
} from './circuit-breaker.ts';
export { type RateLimitStore, type BucketSpec, type TakeResult, MemoryRateLimitStore } from './rate-limit-store.ts';
export { SqlRateLimitStore } from './sql-rate-limit-store.ts';
export { RateLimiter, type RateLimit, type RateLimiterOptions, bucketFor, rateLimitKey } from './rate-limiter.ts';
export { httpGet, type HttpResponse, type HttpGetOptions } from './http-get.ts';
export { requestPolitely, type Politeness, type PoliteResult, type RequestObserver } from './polite-request.ts';
export { ingestionDeadLetter, type FetchFailure } from './dead-letter.ts';
