import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const REFERENCE_ERROR_CODES = [
  'reference.unknown_area',
  'reference.unknown_zone',
  'reference.unknown_production_type',
  'reference.no_emission_factor',
  'reference.unknown_code',
  'reference.data_invalid',
] as const satisfies readonly ErrorCode[];
export type ReferenceErrorCode = (typeof REFERENCE_ERROR_CODES)[number];

/** A look-up in the shipped reference tables failed. Never retryable: the tables do not change at run time. */
export class ReferenceDataError extends GridstreamError<ReferenceErrorCode> {
  constructor(code: ReferenceErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { retryable: false, details });
  }
}
