import { LogError, abortedError, throwLogErrorIfAborted } from '../errors.ts';

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
  throwLogErrorIfAborted(signal, what);
  const deadline = new AbortController();
  const { promise: stopped, reject } = Promise.withResolvers<never>();
  const timer = setTimeout(() => {
    const error = new LogError('kafka.timeout', `${what} did not complete within ${timeoutMs} ms`, {
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
