import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

/** Why a part of a source document did not become observations (a `dlq-processing` reason code). */
export const PROCESSING_REJECT_CODES = [
  'processing.unmapped_area',
  'processing.unmapped_metric',
  'processing.unknown_unit',
  'processing.unknown_production_type',
  'processing.misaligned_step',
  'processing.invalid_document',
  'processing.invalid_value',
  'processing.missing_value',
  'processing.invalid_position',
  'processing.duplicate_position',
  'processing.position_out_of_range',
  'processing.invalid_resolution',
  'processing.invalid_interval',
  'processing.period_too_long',
  'processing.too_many_steps',
  'processing.unsupported_curve_type',
  'processing.unsupported_document',
] as const satisfies readonly ErrorCode[];
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
