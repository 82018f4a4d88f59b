import type { ErrorCode } from '../../common/index.ts';
import { GridstreamError } from '../../common/index.ts';

export const ELECTRICITYMAPS_ERROR_CODES = [
  /** 401/403: the token is invalid, or not entitled to the zone (free tokens cover one zone). */
  'electricitymaps.unauthorized',
  /** 429: the plan's rate limit; the token is paused. */
  'electricitymaps.rate_limited',
  /** Any other non-success status (5xx retryable). */
  'electricitymaps.http_error',
  /** A 200 body that is not JSON, or not a response shape gridstream knows. */
  'electricitymaps.invalid_body',
  /** No token configured for the zone. */
  'electricitymaps.no_token',
  /** The tokens file cannot be read. */
  'electricitymaps.invalid_tokens',
] as const satisfies readonly ErrorCode[];
export type ElectricityMapsErrorCode = (typeof ELECTRICITYMAPS_ERROR_CODES)[number];

/** A failure talking to the Electricity Maps API. Messages never contain a token. */
export class ElectricityMapsError extends GridstreamError<ElectricityMapsErrorCode> {
  constructor(
    code: ElectricityMapsErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
