/**
 * The async toolkit every module uses: one abortable sleep, one backoff formula, one way to read an abort across
 * awaits, one bounded wait. Nothing else in `src/` hand-rolls a timer promise.
 */

/**
 * Waits `ms` milliseconds. Resolves `true` when the time has passed and `false` as soon as `signal` aborts (it
 * never rejects: stopping is not a failure). The timer is cleared on abort, so a cancelled wait keeps nothing
 * alive; `unref` lets the process exit while the wait runs.
 *
 * @example
 * if (!(await sleep(delay, { signal }))) return; // stopping
 */
export function sleep(
  ms: number,
  options: { readonly signal?: AbortSignal | undefined; readonly unref?: boolean } = {},
): Promise<boolean> {
  const { signal } = options;
  if (signal?.aborted === true) return Promise.resolve(false);
  if (ms <= 0) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    // Past setTimeout's 32-bit limit (Infinity too) the wait ends only on abort: Node would fire at once instead.
    const timer =
      ms > MAX_TIMER_MS
        ? undefined
        : setTimeout(() => {
            signal?.removeEventListener('abort', onAbort);
            resolve(true);
          }, ms);
    if (options.unref === true) timer?.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** The longest delay `setTimeout` takes (2^31 − 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** How retries are spaced: exponential growth from `baseMs`, capped at `maxMs`, with a random share. */
export interface BackoffOptions {
  /** Ceiling of the first retry's delay. @default 1 000 */
  readonly baseMs?: number;
  /** Ceiling of any delay. @default 60 000 */
  readonly maxMs?: number;
  /** Growth per retry. @default 2 */
  readonly factor?: number;
  /**
   * Share of the delay that is random (0–1): 1 is full jitter (uniform in `[0, ceiling)`), 0.2 keeps each delay
   * within 80–100 % of its ceiling, 0 is deterministic. @default 1
   */
  readonly jitter?: number;
  /** Source of randomness in [0, 1) (tests make it deterministic). @default Math.random */
  readonly random?: () => number;
}

/**
 * The one backoff formula: `ceiling = min(maxMs, baseMs × factor^(retry−1))`, then
 * `delay = ceiling × (1 − jitter + jitter × random())`, rounded down. Full jitter (the default) spreads the retries
 * of many workers that failed together (the AWS architecture blog's "full jitter"), so they do not hit a recovering
 * service in lockstep.
 *
 * @param retry 1 for the first retry, 2 for the second, …
 */
export function backoffDelay(retry: number, options: BackoffOptions = {}): number {
  const base = options.baseMs ?? 1000;
  const max = options.maxMs ?? 60_000;
  const factor = options.factor ?? 2;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 1));
  const random = options.random ?? Math.random;
  const ceiling = Math.min(max, base * factor ** Math.max(0, retry - 1));
  return Math.floor(ceiling * (1 - jitter + jitter * random()));
}

/**
 * Reads `signal.aborted` through a call, so that the compiler does not keep it narrowed across an `await` (after a
 * first `if (signal.aborted) return`, TypeScript assumes it stays false).
 */
export function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

/** The reason of an aborted signal as an Error (an `AbortError` DOMException when none was given). */
export function abortReason(signal: AbortSignal | undefined): Error {
  const reason: unknown = signal?.reason;
  if (reason instanceof Error) return reason;
  return new DOMException(typeof reason === 'string' ? reason : 'The operation was aborted', 'AbortError');
}

/** Throws the signal's reason when it has aborted. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted === true) throw abortReason(signal);
}

/** True for what an aborted signal throws (AbortError, TimeoutError): cancellation, not a failure. */
export function isAbortError(error: unknown): boolean {
  return (
    (error instanceof DOMException || error instanceof Error) &&
    (error.name === 'AbortError' || error.name === 'TimeoutError')
  );
}

/** A signal that aborts when `signal` aborts or after `ms` milliseconds, whichever comes first. */
export function withTimeout(signal: AbortSignal | undefined, ms: number): AbortSignal {
  const timeout = AbortSignal.timeout(ms);
  return signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
}

/**
 * Waits for `promise` to settle, at most `ms` milliseconds (or until `signal` aborts). True when it settled in time;
 * never rejects (the caller decides what a timeout means).
 */
export async function settlesWithin(
  promise: Promise<unknown>,
  ms: number,
  options: { readonly signal?: AbortSignal } = {},
): Promise<boolean> {
  let settled = false;
  const watched = promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  const controller = new AbortController();
  const signal =
    options.signal === undefined ? controller.signal : AbortSignal.any([controller.signal, options.signal]);
  try {
    await Promise.race([watched, sleep(ms, { signal })]);
    return settled;
  } finally {
    controller.abort();
  }
}
