import type { ErrorCode } from '../common/index.ts';
import { GridstreamError, tlsFailure } from '../common/index.ts';

/** Stable codes of {@link StorageError}; the first three are retryable. */
export const STORAGE_ERROR_CODES = [
  /** The database cannot be reached or is shutting down, restarting, or out of connections. Retryable. */
  'db.unavailable',
  /** The database's disk is full (SQLSTATE 53100, or ENOSPC under PGlite). Retryable. */
  'db.disk_full',
  /** The server is out of a resource (disk, memory) that may come back. Retryable. */
  'db.resources',
  /** A serialization failure, deadlock, lock or statement timeout: the same work may succeed next time. */
  'db.conflict',
  /** The database rejected the data: a constraint, a value out of range, an invalid input. Never retryable. */
  'db.rejected',
  /** A statement the database could not run (missing table, syntax): a bug or a missing migration. */
  'db.query_failed',
  /** The Db was closed before or while the operation ran. */
  'db.closed',
  /** Another process holds the embedded database directory. */
  'db.locked',
  /** Any other database error. */
  'db.error',
  /** TLS to the server failed: an untrusted certificate, a host name it does not name, or no TLS offered. */
  'db.tls_failed',
  /** A migration file changed after it was applied, or the migration files are inconsistent. */
  'db.migration_invalid',
  /** A partition range that would create an unreasonable number of partitions. */
  'db.partition_range_invalid',
  /** A query's parameters are invalid (a time zone, a range, a resolution): the caller's mistake. */
  'db.invalid_query',
] as const satisfies readonly ErrorCode[];
export type StorageErrorCode = (typeof STORAGE_ERROR_CODES)[number];

/** A storage failure. `retryable` says whether the caller should pause and try the same work again. */
export class StorageError extends GridstreamError<StorageErrorCode> {
  /** SQLSTATE of the underlying database error, when there is one. */
  readonly sqlState: string | undefined;

  constructor(
    code: StorageErrorCode,
    message: string,
    options: { retryable?: boolean; cause?: unknown; sqlState?: string; details?: Record<string, unknown> } = {},
  ) {
    super(code, message, {
      retryable: options.retryable ?? RETRYABLE_CODES.has(code),
      cause: options.cause,
      details: { ...options.details, ...(options.sqlState === undefined ? {} : { sqlState: options.sqlState }) },
    });
    this.sqlState = options.sqlState;
  }
}

const RETRYABLE_CODES: ReadonlySet<StorageErrorCode> = new Set([
  'db.unavailable',
  'db.disk_full',
  'db.resources',
  'db.conflict',
]);

/** Socket-level failures of a connection to the server (Node system error codes). */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ENOENT', // a Unix socket path that is not there (yet)
]);

interface SqlError {
  readonly code: string;
  readonly message: string;
  readonly severity?: string;
  readonly constraint?: string;
  readonly column?: string;
  readonly table?: string;
}

/** A server error report (node-postgres `DatabaseError`, PGlite's): it carries a five-character SQLSTATE. */
export function isSqlError(error: unknown): error is SqlError {
  return (
    error instanceof Error &&
    'code' in error &&
    typeof error.code === 'string' &&
    /^[0-9A-Z]{5}$/.test(error.code) &&
    'severity' in error
  );
}

/** The SQLSTATE of `error` (a server error report, or a StorageError made from one). */
export function sqlStateOf(error: unknown): string | undefined {
  if (error instanceof StorageError) return error.sqlState;
  return isSqlError(error) ? error.code : undefined;
}

/** SQLSTATE classes 22 (data exception) and 23 (integrity constraint violation): the row is at fault. */
export function isDataError(error: unknown): boolean {
  const state = sqlStateOf(error);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

/** Maps a SQLSTATE (PostgreSQL appendix A) to a storage error code. */
function codeForState(state: string): StorageErrorCode {
  if (state.startsWith('08')) return 'db.unavailable'; // connection exception
  if (state === '57P01' || state === '57P02' || state === '57P03') return 'db.unavailable'; // shutdown, starting up
  if (state === '53300' || state === '53400') return 'db.unavailable'; // too many connections
  if (state === '53100') return 'db.disk_full';
  if (state.startsWith('53') || state.startsWith('58')) return 'db.resources'; // out of memory, I/O
  if (state === '40001' || state === '40P01' || state === '55P03' || state === '57014') return 'db.conflict';
  if (state.startsWith('22') || state.startsWith('23')) return 'db.rejected';
  if (state.startsWith('42') || state.startsWith('0A') || state.startsWith('25')) return 'db.query_failed';
  return 'db.error';
}

/**
 * Turns anything a driver threw into a {@link StorageError}. Server errors are classified by SQLSTATE; socket
 * errors and node-postgres's own connection errors (plain `Error`s, which it only throws for connection problems:
 * "Connection terminated unexpectedly", connect timeouts) are `db_unavailable`; programming errors (`TypeError`…)
 * are not retryable. An abort is passed through untouched.
 */
export function toStorageError(error: unknown, what: string): unknown {
  if (error instanceof StorageError) return error;
  if (error instanceof DOMException && (error.name === 'AbortError' || error.name === 'TimeoutError')) return error;
  if (isSqlError(error)) {
    const code = codeForState(error.code);
    return new StorageError(code, `${what}: ${error.message}`, {
      cause: error,
      sqlState: error.code,
      details: {
        ...(error.constraint === undefined ? {} : { constraint: error.constraint }),
        ...(error.table === undefined ? {} : { table: error.table }),
      },
    });
  }
  const tls = tlsFailure(error);
  if (tls !== undefined)
    return new StorageError('db.tls_failed', `${what}: ${tls.reason}`, {
      cause: error,
      details: { tlsError: tls.code },
    });
  // node-postgres's only report of a server that refuses TLS is this plain Error; a retry cannot change the answer.
  if (error instanceof Error && error.message === 'The server does not support SSL connections')
    return new StorageError('db.tls_failed', `${what}: the server does not offer TLS (sslmode asks for it)`, {
      cause: error,
    });
  if (error instanceof Error) {
    const sysCode = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
    if (sysCode !== undefined && NETWORK_CODES.has(sysCode)) {
      return new StorageError('db.unavailable', `${what}: ${sysCode}`, { cause: error });
    }
    // PGlite writes its files from JavaScript: a full device surfaces as the file system's own error.
    if (sysCode === 'ENOSPC' || sysCode === 'EDQUOT') {
      return new StorageError('db.disk_full', `${what}: no space left on the device holding the database`, {
        cause: error,
      });
    }
    if (error.constructor === Error && sysCode === undefined) {
      return new StorageError('db.unavailable', `${what}: ${error.message}`, { cause: error });
    }
    return new StorageError('db.error', `${what}: ${error.message}`, { cause: error, retryable: false });
  }
  return new StorageError('db.error', `${what}: ${String(error)}`, { cause: error, retryable: false });
}
