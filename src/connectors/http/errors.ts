import type { ErrorCode } from '../../common/index.ts';
import { GridstreamError, findError } from '../../common/index.ts';

export const HTTP_ERROR_CODES = [
  /** No complete answer within the attempt's time limit. Retryable. */
  'http.timeout',
  /** Connection refused, reset or closed early, DNS failure. Retryable. */
  'http.network_error',
  /** The body ended before its announced length. Retryable. */
  'http.truncated_body',
  /** An HTTP status that is not a success; retryable for 5xx (and what the client marks so). */
  'http.status',
  /** The upstream refuses this credential for a while (HTTP 429 ban); retried after the ban. */
  'http.banned',
  /** The host has failed repeatedly; requests are held back until the circuit breaker lets one through. */
  'http.circuit_open',
  /** The body is larger than allowed. Never retryable. */
  'http.body_too_large',
  /** The caller cancelled. Never retryable, never dead-lettered. */
  'http.aborted',
] as const satisfies readonly ErrorCode[];
export type HttpErrorCode = (typeof HTTP_ERROR_CODES)[number];

/**
 * A failure of an HTTP exchange. Messages and details only ever hold redacted URLs: credentials are added to a URL
 * at the point of use and never leave the function that sends it.
 */
export class HttpError extends GridstreamError<HttpErrorCode> {
  /** HTTP status of the answer, `null` when there was none. */
  readonly status: number | null;
  /** For `banned`: when the ban ends (epoch ms), `null` when the upstream did not say. */
  readonly bannedUntil: number | null;
  /** A `Retry-After` the upstream asked for, in milliseconds. */
  readonly retryAfterMs: number | null;

  constructor(
    code: HttpErrorCode,
    message: string,
    options: {
      retryable?: boolean;
      cause?: unknown;
      status?: number | null;
      bannedUntil?: number | null;
      retryAfterMs?: number | null;
      details?: Record<string, unknown>;
    } = {},
  ) {
    super(code, message, {
      retryable: options.retryable ?? defaultRetryable(code, options.status ?? null),
      cause: options.cause,
      details: { ...options.details, ...(options.status == null ? {} : { status: options.status }) },
    });
    this.status = options.status ?? null;
    this.bannedUntil = options.bannedUntil ?? null;
    this.retryAfterMs = options.retryAfterMs ?? null;
  }
}

function defaultRetryable(code: HttpErrorCode, status: number | null): boolean {
  switch (code) {
    case 'http.timeout':
    case 'http.network_error':
    case 'http.truncated_body':
    case 'http.banned':
    case 'http.circuit_open':
      return true;
    case 'http.status':
      return status !== null && status >= 500;
    case 'http.body_too_large':
    case 'http.aborted':
      return false;
    default:
      return code satisfies never;
  }
}

/** The first {@link HttpError} in the cause chain of `error`. */
export function findHttpError(error: unknown): HttpError | undefined {
  return findError(error, (e): e is HttpError => e instanceof HttpError);
}

/**
 * True when `error` says the host itself is unwell (no answer, broken connection, 5xx) — what a circuit breaker
 * counts. A 4xx or a ban is the host answering properly and does not count.
 */
export function isHostFailure(error: unknown): boolean {
  const http = findHttpError(error);
  if (http === undefined) return false;
  if (http.code === 'http.timeout' || http.code === 'http.network_error' || http.code === 'http.truncated_body')
    return true;
  return http.code === 'http.status' && http.status !== null && http.status >= 500;
}
