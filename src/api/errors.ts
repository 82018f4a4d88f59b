import type { ErrorCode } from '../common/index.ts';
import type { Context } from 'hono';
import { GridstreamError, errorCode, isRetryable } from '../common/index.ts';

export const API_ERROR_CODES = [
  'api.bad_request',
  'api.range_too_large',
  'api.unauthorized',
  'api.forbidden',
  'api.not_found',
  'api.rate_limited',
  'api.conflict',
  'api.unavailable',
  'api.internal_error',
  'api.no_data',
  'api.no_complete_window',
] as const satisfies readonly ErrorCode[];
export type ApiErrorCode = (typeof API_ERROR_CODES)[number];

const STATUS: Readonly<Record<ApiErrorCode, number>> = {
  'api.bad_request': 400,
  'api.range_too_large': 400,
  'api.unauthorized': 401,
  'api.forbidden': 403,
  'api.not_found': 404,
  'api.rate_limited': 429,
  'api.conflict': 409,
  'api.unavailable': 503,
  'api.internal_error': 500,
  'api.no_data': 422,
  'api.no_complete_window': 422,
};
const TITLE: Readonly<Record<ApiErrorCode, string>> = {
  'api.bad_request': 'Bad request',
  'api.range_too_large': 'Range too large',
  'api.unauthorized': 'Unauthorized',
  'api.forbidden': 'Forbidden',
  'api.not_found': 'Not found',
  'api.rate_limited': 'Too many requests',
  'api.conflict': 'Conflict',
  'api.unavailable': 'Service unavailable',
  'api.internal_error': 'Internal server error',
  'api.no_data': 'No data',
  'api.no_complete_window': 'No complete window',
};

/** An HTTP error answered as `application/problem+json` (RFC 9457). */
export class ApiError extends GridstreamError<ApiErrorCode> {
  readonly status: number;
  /** The query/path parameter at fault, for 400s. */
  readonly param: string | undefined;
  readonly headers: Readonly<Record<string, string>>;
  /**
   * The code the problem document names: the API code, or a module's more precise code (`quality.edit_invalid`)
   * answered with the API code's status.
   */
  readonly problemCode: ErrorCode;

  constructor(
    code: ApiErrorCode,
    detail: string,
    options: { param?: string; headers?: Record<string, string>; cause?: unknown; problemCode?: ErrorCode } = {},
  ) {
    super(code, detail, { retryable: code === 'api.rate_limited' || code === 'api.unavailable', cause: options.cause });
    this.status = STATUS[code];
    this.param = options.param;
    this.headers = options.headers ?? {};
    this.problemCode = options.problemCode ?? code;
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
        ? new ApiError('api.unavailable', `temporarily unavailable (${errorCode(error)}); try again shortly`, {
            headers: { 'retry-after': String(RETRY_AFTER_SECONDS) },
            cause: error,
          })
        : new ApiError('api.internal_error', 'the server could not answer this request');
  const body = {
    // The problem type URI keeps its name from before codes were namespaced (clients may match on it).
    type: `https://gridstream.dev/problems/${e.problemCode.slice(e.problemCode.indexOf('.') + 1)}`,
    code: e.problemCode,
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
