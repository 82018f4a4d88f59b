/**
 * A one-waiter wake-up signal: `wait()` sleeps until `notify()` (or the timeout). A notify that comes while nobody
 * waits is remembered, so a consumer that checks for data, finds none and then waits never misses an append that
 * landed in between. This is what lets consumers block without busy looping.
 */
export class Wakeup {
  #pending = false;
  #wake: (() => void) | undefined;

  notify(): void {
    const wake = this.#wake;
    if (wake === undefined) {
      this.#pending = true;
      return;
    }
    this.#wake = undefined;
    wake();
  }

  /** Forgets a remembered notify (call before checking for work, then `wait()` if there is none). */
  clear(): void {
    this.#pending = false;
  }

  /** Resolves on the next notify, or after `timeoutMs` when given. Never rejects. */
  wait(timeoutMs?: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const done = (): void => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      if (timeoutMs !== undefined) timer = setTimeout(done, Math.max(0, timeoutMs));
      this.#wake = done;
    });
  }
}
