export {
  GridstreamError,
  causeChain,
  findError,
  findInErrorTree,
  isRetryable,
  errorCode,
  codedError,
  errorMessage,
} from './errors.ts';
export {
  ERROR_CODES,
  type ErrorCode,
  type CodesOf,
  isErrorCode,
  defaultRetryable,
  codesForAlias,
  codeMatches,
  errorCodesMarkdown,
} from './error-codes.ts';
export type { Brand } from './brand.ts';
export { parseCsv, parseCsvRows, csvField } from './csv.ts';
export {
  normaliseDecimal,
  type Decimal,
  type ScaledDecimal,
  toScaled,
  fromScaled,
  rescale,
  addDecimals,
  subtractDecimals,
  compareDecimals,
  shiftDecimal,
} from './decimal.ts';
export {
  sleep,
  backoffDelay,
  type BackoffOptions,
  isAborted,
  abortReason,
  throwIfAborted,
  isAbortError,
  withTimeout,
  settlesWithin,
} from './async.ts';
export {
  Lifecycle,
  LIFECYCLE_STATES,
  type LifecycleState,
  type LifecycleHooks,
  type LifecycleOptions,
  type Component,
  type StopOptions,
  type ComponentHealth,
  type Readiness,
  withLifecycle,
} from './lifecycle.ts';
export { periodic, problemLogger, type PeriodicOptions, type PeriodicTask, type ProblemLogger } from './periodic.ts';
export { acquireDirLock, lockHolder, LockHeldError, type DirLock, type LockOwner } from './dir-lock.ts';
export { syncDir, writeFileAtomic, hasErrno } from './fs.ts';
export { type SqlClient, type SqlQueryable, type StoreCallOptions, sqlOptions, toMs } from './sql-client.ts';
export { phaseTimer, type PhaseTimer } from './phases.ts';
export { tlsFailure, type TlsFailure } from './tls.ts';
