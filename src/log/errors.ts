import type { ErrorCode } from '../common/index.ts';
import { GridstreamError, defaultRetryable } from '../common/index.ts';

/**
 * Stable codes of {@link LogError}. Each has a default `retryable` flag in the code registry (`ERROR_CODES`); a call site
 * may override it when it knows better (an I/O error from a full disk is retryable, a corrupt file is not).
 */
export const LOG_ERROR_CODES = [
  /** The topic does not exist (topics are created explicitly, never on first use). */
  'log.unknown_topic',
  /** The partition number is outside the topic's partitions. */
  'log.unknown_partition',
  /** Topic name, partition count or another argument is invalid. */
  'log.invalid_argument',
  /** A record is larger than the topic's `maxMessageBytes`. */
  'log.record_too_large',
  /** The consumer does not own the partition (it was reassigned by a rebalance). */
  'log.not_owner',
  /** The log or consumer has been closed. */
  'log.closed',
  /** The operation was cancelled through its `AbortSignal`. */
  'log.aborted',
  /** Reading or writing the embedded log's files failed. */
  'log.io_error',
  /** The device holding the embedded log is full (ENOSPC or EDQUOT): retryable, nothing of the failed write remains. */
  'log.disk_full',
  /** A data file failed its integrity check somewhere other than a torn tail. */
  'log.corrupt',
  /** Another live process owns the embedded log's data directory. */
  'log.locked',
  /** Quarantined corruption awaits an operator's acknowledgement (`gridstream log quarantine ack`). */
  'log.quarantine_pending',
  /** No Kafka broker could be reached. */
  'kafka.broker_unavailable',
  /** The broker did not answer in time. */
  'kafka.timeout',
  /** A value failed its topic's schema (or is not JSON / UTF-8). */
  'log.invalid_message',
  /** A processor was configured so that a DLQ would feed its own source. */
  'log.dlq_loop',
  /** The broker or client failed in a way with no better code. */
  'kafka.failure',
  /** TLS to a broker failed (an untrusted certificate, a host name it does not name, a plaintext port). */
  'kafka.tls_failed',
] as const satisfies readonly ErrorCode[];
export type LogErrorCode = (typeof LOG_ERROR_CODES)[number];

/**
 * A failure of the event log (either implementation) or of the typed layer over it.
 *
 * @example
 * throw new LogError('unknown_topic', `topic ${name} does not exist`, { details: { topic: name } });
 */
export class LogError extends GridstreamError<LogErrorCode> {
  constructor(
    code: LogErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, { ...options, retryable: options.retryable ?? defaultRetryable(code) });
  }
}

/** True for a {@link LogError} with the given code. */
export function isLogError(error: unknown, code?: LogErrorCode): error is LogError {
  return error instanceof LogError && (code === undefined || error.code === code);
}

/** Turns an abort (`signal.reason` or a DOMException) into a typed `aborted` error, keeping the cause. */
export function abortedError(signal: AbortSignal | undefined, what: string): LogError {
  const reason: unknown = signal?.reason;
  // A timeout signal aborts with a TimeoutError: that is a timeout (retryable), not a cancellation.
  if (reason instanceof DOMException && reason.name === 'TimeoutError') {
    return new LogError('kafka.timeout', `${what} timed out`, { cause: reason });
  }
  return new LogError('log.aborted', `${what} was aborted`, { cause: reason });
}

/** Throws the typed abort error when `signal` has aborted. */
export function throwLogErrorIfAborted(signal: AbortSignal | undefined, what: string): void {
  if (signal?.aborted === true) throw abortedError(signal, what);
}

/** Errno codes of a full device: no space left, or the user's disk quota used up. */
const DISK_FULL_ERRNOS: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT']);

/**
 * Wraps a Node.js file-system error as a retryable `io_error` (or `disk_full` when the device is full), keeping the
 * errno code for logs.
 */
export function ioError(message: string, cause: unknown): LogError {
  const errno = cause instanceof Error && 'code' in cause ? String(cause.code) : undefined;
  const details = errno === undefined ? {} : { errno };
  if (errno !== undefined && DISK_FULL_ERRNOS.has(errno))
    return new LogError('log.disk_full', `${message}: no space left on the device holding the log`, { cause, details });
  return new LogError('log.io_error', message, { cause, details });
}
