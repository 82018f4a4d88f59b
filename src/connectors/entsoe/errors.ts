import type { ErrorCode } from '../../common/index.ts';
import { GridstreamError } from '../../common/index.ts';

export const ENTSOE_ERROR_CODES = [
  // the body is not a document we can read
  'entsoe.empty_body',
  'entsoe.body_too_large',
  'entsoe.not_xml',
  'entsoe.html_body',
  'entsoe.zip_body',
  'entsoe.unsupported_encoding',
  'entsoe.malformed_xml',
  'entsoe.doctype_refused',
  'entsoe.too_many_steps',
  // talking to the service (connector client)
  'entsoe.http_error',
  'entsoe.unauthorized',
  'entsoe.rate_limited',
  'entsoe.banned',
  'entsoe.timeout',
  'entsoe.network_error',
  'entsoe.circuit_open',
  'entsoe.invalid_request',
  'entsoe.aborted',
] as const satisfies readonly ErrorCode[];
export type EntsoeErrorCode = (typeof ENTSOE_ERROR_CODES)[number];

/** Something went wrong reading or fetching an ENTSO-E document. Messages never contain the security token. */
export class EntsoeError extends GridstreamError<EntsoeErrorCode> {
  constructor(
    code: EntsoeErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, options);
  }
}
