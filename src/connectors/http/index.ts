/**
 * Shared HTTP plumbing of the connectors: abortable sleeps, exponential backoff with full jitter, a circuit breaker
 * per host, token-bucket rate limiting behind a store (in-process or PostgreSQL) with upstream bans, polite
 * requests that combine them, and the publisher ports fetched data and dead letters go to.
 */
export { HttpError, HTTP_ERROR_CODES, type HttpErrorCode, findHttpError, isHostFailure } from './errors.ts';
export { sleep, abortReason, isAbortError, withTimeout } from './sleep.ts';
export { type RetryOptions, DEFAULT_RETRY, backoffDelay, parseRetryAfter } from './backoff.ts';
export {
  CircuitBreaker,
  CircuitBreakers,
  CIRCUIT_STATES,
  type CircuitState,
  type CircuitBreakerOptions,
  type CircuitDecision,
} from './circuit-breaker.ts';
export {
  type RateLimitStore,
  type BucketSpec,
  type TakeResult,
  type StoreCallOptions,
  MemoryRateLimitStore,
} from './rate-limit-store.ts';
export { SqlRateLimitStore } from './sql-rate-limit-store.ts';
export { RateLimiter, type RateLimit, type RateLimiterOptions, bucketFor, rateLimitKey } from './rate-limiter.ts';
export { httpGet, type HttpResponse, type HttpGetOptions } from './http-get.ts';
export { requestPolitely, type Politeness, type PoliteResult, type RequestObserver } from './polite-request.ts';
export { type Publisher, type DeadLetterSink, MemoryPublisher } from './publisher.ts';
export { ingestionDeadLetter, type FetchFailure } from './dead-letter.ts';
export { type SqlClient, type SqlQueryable, sqlOptions, toMs } from './sql-client.ts';
