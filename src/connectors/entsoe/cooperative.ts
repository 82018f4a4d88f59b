/**
 * Long pure computations (reading a big document, expanding and standardising millions of steps) written once as
 * generators that `yield` at checkpoints: {@link runSync} drives one to its end in one go, {@link runCooperatively}
 * gives the event loop a turn whenever a slice of work has taken `sliceMs`, so that a process that also answers
 * HTTP (`/healthz`) or signals stays responsive, and stops at a checkpoint when its signal is aborted.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A computation that may pause wherever it yields (nothing is yielded but the pause). */
export type Steps<T> = Generator<void, T, void>;

/** Runs `steps` to its end without pausing. */
export function runSync<T>(steps: Steps<T>): T {
  for (;;) {
    const r = steps.next();
    if (r.done === true) return r.value;
  }
}

export interface CooperativeOptions {
  /** Stops at the next checkpoint with the signal's reason. */
  readonly signal?: AbortSignal | undefined;
  /** Longest stretch of work between two turns of the event loop. @default 20 ms */
  readonly sliceMs?: number;
}

/** Runs `steps`, giving the event loop a turn every `sliceMs` of work; rejects with the reason when aborted. */
export async function runCooperatively<T>(steps: Steps<T>, options: CooperativeOptions = {}): Promise<T> {
  const { signal } = options;
  const sliceMs = options.sliceMs ?? 20;
  signal?.throwIfAborted();
  let sliceStart = performance.now();
  try {
    for (;;) {
      const r = steps.next();
      if (r.done === true) return r.value;
      if (performance.now() - sliceStart >= sliceMs) {
        await nextTurn();
        signal?.throwIfAborted();
        sliceStart = performance.now();
      }
    }
  } finally {
    steps.return(undefined as never);
  }
}
