import { LogError, abortedError, throwIfAborted } from '../errors.ts';

/**
 * Runs `operation` under a deadline and the caller's signal: whichever comes first settles the returned promise.
 * The client library has no cancellation, so an abandoned operation finishes (or fails) in the background; what
 * matters is that no caller ever waits forever on a broker that does not answer. A missed deadline is a retryable
 * `timeout`, a caller's abort an `aborted` error.
 */
export async function withDeadline<T>(
  what: string,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  operation: (deadline: AbortSignal) => Promise<T>,
): Promise<T> {
  throwIfAborted(signal, what);
  const deadline = new AbortController();
  const { promise: stopped, reject } = Promise.withResolvers<never>();
  const timer = setTimeout(() => {
    const error = new LogError('timeout', `${what} did not complete within ${timeoutMs} ms`, {
      details: { timeoutMs },
    });
    deadline.abort(error);
    reject(error);
  }, timeoutMs);
  const onAbort = () => {
    const error = abortedError(signal, what);
    deadline.abort(error);
    reject(error);
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    return await Promise.race([operation(deadline.signal), stopped]);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Waits `ms`, or less when `signal` aborts first (then resolves `false` instead of throwing). */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Resolves when `promise` settles or `signal` aborts, whichever is first; never rejects. */
export async function settledOrAborted(promise: Promise<unknown>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) return;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<undefined>((resolve) => {
    onAbort = () => {
      resolve(undefined);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([promise.then(noop, noop), aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

/**
 * Reads `signal.aborted` through a call, so that the compiler does not assume it unchanged across an `await`
 * (it narrows the property after a first check).
 */
export function isAborted(signal: AbortSignal): boolean {
  return signal.aborted;
}

function noop(): void {
  // Settlement is all that matters here.
}
