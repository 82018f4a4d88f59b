import { GridstreamError } from '../common/index.ts';

export const REFERENCE_ERROR_CODES = [
  'unknown_area',
  'unknown_zone',
  'unknown_production_type',
  'no_emission_factor',
  'unknown_code',
  'reference_data_invalid',
] as const;
export type ReferenceErrorCode = (typeof REFERENCE_ERROR_CODES)[number];

/** A look-up in the shipped reference tables failed. Never retryable: the tables do not change at run time. */
export class ReferenceDataError extends GridstreamError<ReferenceErrorCode> {
  constructor(code: ReferenceErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { retryable: false, details });
  }
}
