import { formatClock } from '../format.ts';
import { h } from '../dom.ts';

/**
 * Reloads an admin view every `intervalMs` while the tab is visible, with a "Refresh" button and an "updated at"
 * line. A load never overlaps the previous one.
 */
export class Refresher {
  readonly el: HTMLElement;
  readonly #status: HTMLElement;
  readonly #load: (signal: AbortSignal) => Promise<void>;
  readonly #intervalMs: number;
  readonly #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #busy = false;

  constructor(load: (signal: AbortSignal) => Promise<void>, intervalMs: number) {
    this.#load = load;
    this.#intervalMs = intervalMs;
    this.#status = h('span', { class: 'refresh-status', attrs: { 'aria-live': 'off' } });
    this.el = h('div', { class: 'refresher' }, [
      h('button', {
        class: 'button button-secondary',
        attrs: { type: 'button' },
        text: 'Refresh',
        on: {
          click: () => {
            void this.run();
          },
        },
      }),
      this.#status,
    ]);
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  readonly #onVisibility = (): void => {
    if (document.visibilityState === 'visible') void this.run();
  };

  async run(): Promise<void> {
    if (this.#busy || this.#controller.signal.aborted) return;
    this.#busy = true;
    clearTimeout(this.#timer);
    this.#status.textContent = 'Loading…';
    try {
      await this.#load(this.#controller.signal);
      this.#status.textContent = `Updated ${formatClock(Date.now())} · every ${Math.round(this.#intervalMs / 1000)} s`;
    } catch {
      // The view shows what failed; this line only says when.
      this.#status.textContent = `Update failed at ${formatClock(Date.now())}`;
    } finally {
      this.#busy = false;
      if (!this.#stopped()) {
        this.#timer = setTimeout(() => {
          if (document.visibilityState === 'visible') void this.run();
        }, this.#intervalMs);
      }
    }
  }

  #stopped(): boolean {
    return this.#controller.signal.aborted;
  }

  stop(): void {
    this.#controller.abort();
    clearTimeout(this.#timer);
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }
}
