import type { ErrorCode } from '../common/index.ts';
import { GridstreamError } from '../common/index.ts';

export const RUNTIME_ERROR_CODES = [
  'runtime.role_unavailable',
  'runtime.unknown_role',
  'runtime.component_failed',
] as const satisfies readonly ErrorCode[];
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

export class RuntimeError extends GridstreamError<RuntimeErrorCode> {
  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, ...options });
  }
}
