import type { ErrorCode } from './error-codes.ts';

/**
 * Base class of every gridstream error. Each module defines its own subclass with a stable `code` from an
 * `as const` list; `retryable` says whether the same operation may succeed later (a network blip) or never will
 * (a malformed document). Callers decide retry vs dead-letter with {@link isRetryable}, never from message text.
 */
export class GridstreamError<Code extends ErrorCode = ErrorCode> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  /** Structured, secret-free context for logs and DLQ envelopes. */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(
    code: Code,
    message: string,
    options: { retryable?: boolean; cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...options.details });
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable, ...this.details };
  }
}

/** Walks `error` and its `cause` chain (cycle-safe), yielding every link. */
export function* causeChain(error: unknown): Generator<unknown, void> {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    seen.add(current);
    yield current;
    current = current instanceof Error ? current.cause : undefined;
  }
}

/**
 * The first value in `error`'s whole tree — its `cause` chain and the `errors` of aggregate errors, breadth first,
 * cycle-safe — that satisfies `predicate`. Client libraries nest the socket error that really failed in both
 * (a retry series of connection errors, each with its cause).
 */
export function findInErrorTree(error: unknown, predicate: (e: unknown) => boolean): unknown {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const e = pending.shift();
    if (e === null || typeof e !== 'object' || seen.has(e)) continue;
    seen.add(e);
    if (predicate(e)) return e;
    if ('cause' in e) pending.push(e.cause);
    if ('errors' in e && Array.isArray(e.errors)) pending.push(...(e.errors as unknown[]));
  }
  return undefined;
}

/** The first error in the cause chain that satisfies `predicate`. */
export function findError<T>(error: unknown, predicate: (e: unknown) => e is T): T | undefined {
  for (const link of causeChain(error)) if (predicate(link)) return link;
  return undefined;
}

/**
 * True when any error in the cause chain is marked retryable. An error without a gridstream code anywhere in the
 * chain (a bug, an unexpected library error) is not retryable: retrying a bug forever helps nobody.
 */
export function isRetryable(error: unknown): boolean {
  for (const link of causeChain(error)) if (link instanceof GridstreamError && link.retryable) return true;
  return false;
}

/** The code of the first GridstreamError in the chain, or `internal.error` (an error without a code: a bug). */
export function errorCode(error: unknown): ErrorCode {
  return codedError(error)?.code ?? 'internal.error';
}

/** The first GridstreamError in the chain: an expected failure with a code, as opposed to a bug. */
export function codedError(error: unknown): GridstreamError | undefined {
  return findError(error, (e): e is GridstreamError => e instanceof GridstreamError);
}

/** A one-line, secret-free message for any thrown value. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  return typeof error === 'string' ? error : JSON.stringify(error);
}
