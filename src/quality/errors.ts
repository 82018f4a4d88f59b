import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const QUALITY_ERROR_CODES = [
  'quality.rules_invalid',
  'quality.edit_invalid',
] as const satisfies readonly ErrorCode[];
export type QualityErrorCode = (typeof QUALITY_ERROR_CODES)[number];

/** A rule file or an edit the quality module refuses (never retryable: the same input fails the same way). */
export class QualityError extends GridstreamError<QualityErrorCode> {
  constructor(code: QualityErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
  }
}
