import { GridstreamError } from '../common/index.ts';

export const RUNTIME_ERROR_CODES = ['role_unavailable', 'unknown_role', 'component_failed'] as const;
export type RuntimeErrorCode = (typeof RUNTIME_ERROR_CODES)[number];

export class RuntimeError extends GridstreamError<RuntimeErrorCode> {
  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, { retryable: false, ...options });
  }
}
