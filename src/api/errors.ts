import type { Context } from 'hono';
import { GridstreamError, errorCode, isRetryable } from '../common/index.ts';

export const API_ERROR_CODES = [
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'rate_limited',
  'conflict',
  'unavailable',
  'internal_error',
] as const;
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

const STATUS: Readonly<Record<ApiErrorCode, number>> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  rate_limited: 429,
  conflict: 409,
  unavailable: 503,
  internal_error: 500,
};
const TITLE: Readonly<Record<ApiErrorCode, string>> = {
  bad_request: 'Bad request',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  not_found: 'Not found',
  rate_limited: 'Too many requests',
  conflict: 'Conflict',
  unavailable: 'Service unavailable',
  internal_error: 'Internal server error',
};

/** An HTTP error answered as `application/problem+json` (RFC 9457). */
export class ApiError extends GridstreamError<ApiErrorCode> {
  readonly status: number;
  /** The query/path parameter at fault, for 400s. */
  readonly param: string | undefined;
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    code: ApiErrorCode,
    detail: string,
    options: { param?: string; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(code, detail, { retryable: code === 'rate_limited' || code === 'unavailable', cause: options.cause });
    this.status = STATUS[code];
    this.param = options.param;
    this.headers = options.headers ?? {};
  }
}

/** Seconds a client is asked to wait after a 503 caused by a retryable failure (a database or log outage). */
const RETRY_AFTER_SECONDS = 5;

/**
 * A problem document for an error. A retryable failure anywhere in the cause chain (the database or the log is
 * unreachable) is a 503 with `Retry-After`: the same request may succeed shortly. Anything else unexpected is a 500
 * without internals.
 */
export function problem(c: Context, error: unknown): Response {
  const e =
    error instanceof ApiError
      ? error
      : isRetryable(error)
        ? new ApiError('unavailable', `temporarily unavailable (${errorCode(error)}); try again shortly`, {
            headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
            cause: error,
          })
        : new ApiError('internal_error', 'the server could not answer this request');
  const body = {
    type: `https://gridstream.dev/problems/${e.code}`,
    title: TITLE[e.code],
    status: e.status,
    detail: e.message,
    instance: c.req.path,
    ...(e.param === undefined ? {} : { param: e.param }),
  };
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { 'content-type': 'application/problem+json', ...e.headers },
  });
}
