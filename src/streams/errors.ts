import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const STREAMS_ERROR_CODES = [
  'streams.invalid_argument',
  'streams.invalid_time_zone',
  'streams.too_many_windows',
  'streams.invalid_settings',
] as const satisfies readonly ErrorCode[];
export type StreamsErrorCode = (typeof STREAMS_ERROR_CODES)[number];

/** Bad input to the windowing engine (never retryable: the same call fails the same way). */
export class StreamsError extends GridstreamError<StreamsErrorCode> {
  constructor(code: StreamsErrorCode, message: string, options: { details?: Record<string, unknown> } = {}) {
    super(code, message, { retryable: false, ...(options.details === undefined ? {} : { details: options.details }) });
  }
}

/** Throws `streams.invalid_argument` unless `value` is a finite number (NaN would poison every comparison). */
export function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new StreamsError('streams.invalid_argument', `${name} must be a finite number`);
}
