import { GridstreamError } from '../../common/index.ts';

export const ENTSOE_ERROR_CODES = [
  // the body is not a document we can read
  'empty_body',
  'body_too_large',
  'not_xml',
  'html_body',
  'zip_body',
  'unsupported_encoding',
  'malformed_xml',
  'doctype_refused',
  // talking to the service (connector client)
  'http_error',
  'unauthorized',
  'rate_limited',
  'banned',
  'timeout',
  'network_error',
  'circuit_open',
  'invalid_request',
  'aborted',
] as const;
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
