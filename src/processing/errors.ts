import { GridstreamError } from '../common/index.ts';

/** Why a part of a source document did not become observations (a `dlq-processing` reason code). */
export const PROCESSING_REJECT_CODES = [
  'unmapped_area',
  'unmapped_metric',
  'unknown_unit',
  'unknown_production_type',
  'misaligned_step',
  'invalid_document',
  'invalid_value',
  'missing_value',
  'invalid_position',
  'duplicate_position',
  'position_out_of_range',
  'invalid_resolution',
  'invalid_interval',
  'period_too_long',
  'unsupported_curve_type',
  'unsupported_document',
] as const;
export type ProcessingRejectCode = (typeof PROCESSING_REJECT_CODES)[number];

/** A rejected part of an input, with where it was in the source. Goes to `dlq-processing`; the rest goes on. */
export interface ProcessingReject {
  readonly code: ProcessingRejectCode;
  readonly message: string;
  /** Source position: document/series/period/position indexes, line, the offending code… */
  readonly position: Readonly<Record<string, string | number | null>>;
}

export class ProcessingError extends GridstreamError<ProcessingRejectCode> {
  constructor(code: ProcessingRejectCode, message: string, details: Record<string, unknown> = {}) {
    super(code, message, { retryable: false, details });
  }
}
