import { decodeAlertCounts } from './alert-types.ts';
import type { ApiClient } from './api-client.ts';
import { isAbort } from './api-client.ts';
import { h } from './dom.ts';
import type { LiveHub } from './live-hub.ts';

/** The most open alerts counted; more shows as `1000+`. */
/** Transitions often come in bursts (a detector run): one reload for a burst. */
const DEBOUNCE_MS = 400;

/**
 * The count of open alerts the key may see, as a badge in the navigation (`[data-open-alerts]`, hidden at 0): loaded
 * from `GET /api/v1/alerts?state=open` when the app signs in, and again after alert events of the live stream, a
 * reconnection, or a change made on the alerts page.
 */
export class OpenAlertCount {
  readonly el: HTMLElement;
  #client: ApiClient | undefined;
  #controller = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;

  constructor(live: LiveHub) {
    this.el = h('span', {
      class: 'nav-count',
      attrs: { hidden: true, 'aria-live': 'polite' },
      data: { openAlerts: '' },
    });
    live.onAlerts(() => {
      this.refresh();
    });
    live.onResume(() => {
      this.refresh();
    });
  }

  start(client: ApiClient): void {
    this.#client = client;
    this.el.hidden = true;
    this.el.dataset['openAlerts'] = '';
    this.refresh(0);
  }

  stop(): void {
    this.#client = undefined;
    this.#controller.abort();
    clearTimeout(this.#timer);
  }

  /** Reloads the count (after `delayMs`, once for calls that come meanwhile). */
  refresh(delayMs = DEBOUNCE_MS): void {
    if (this.#client === undefined) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      void this.#load();
    }, delayMs);
  }

  async #load(): Promise<void> {
    const client = this.#client;
    if (client === undefined) return;
    this.#controller.abort();
    const controller = new AbortController();
    this.#controller = controller;
    try {
      const counts = await client.get('/api/v1/alerts/counts', {}, decodeAlertCounts, controller.signal);
      if (controller.signal.aborted || this.#client !== client) return;
      const count = counts.filter((c) => c.state === 'open').reduce((a, c) => a + c.count, 0);
      this.el.dataset['openAlerts'] = String(count);
      this.el.textContent = String(count);
      this.el.title = `${count} open alert${count === 1 ? '' : 's'}`;
      this.el.setAttribute('aria-label', this.el.title);
      this.el.hidden = count === 0;
    } catch (error) {
      if (isAbort(error) || controller.signal.aborted) return;
      // A key that may not list alerts (or a network failure): no count rather than a wrong one.
      this.el.hidden = true;
      this.el.dataset['openAlerts'] = '';
    }
  }
}
