import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const METER_ERROR_CODES = [
  'meters.invalid',
  'meters.overlap',
  'meters.not_found',
] as const satisfies readonly ErrorCode[];
export type MeterErrorCode = (typeof METER_ERROR_CODES)[number];

/** A registry change the data refuses (never retryable: the same request fails the same way). */
export class MeterError extends GridstreamError<MeterErrorCode> {
  /** The field at fault, when one is. */
  readonly field: string | undefined;

  constructor(code: MeterErrorCode, message: string, options: { field?: string; cause?: unknown } = {}) {
    super(code, message, { retryable: false, cause: options.cause });
    this.field = options.field;
  }
}
