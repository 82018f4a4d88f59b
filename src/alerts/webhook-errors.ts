import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const WEBHOOK_ERROR_CODES = [
  'alerts.webhook_not_allowed',
  'alerts.webhook_failed',
] as const satisfies readonly ErrorCode[];
export type WebhookErrorCode = (typeof WEBHOOK_ERROR_CODES)[number];

/**
 * A webhook refusal: a URL that is not http(s), carries credentials or a fragment, or whose origin is not on the
 * admin's allowlist (`alerts.webhook_not_allowed`), or a delivery that failed its last attempt
 * (`alerts.webhook_failed`). Never retryable: the same request is refused the same way.
 */
export class WebhookError extends GridstreamError<WebhookErrorCode> {
  /** The field at fault (`url`, `origins`), when one is. */
  readonly field: string | undefined;

  constructor(code: WebhookErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
    this.field = options.field;
  }
}
