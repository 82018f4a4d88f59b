import type { AlertEvent } from './alert-types.ts';
import type { ApiProblem } from './api-client.ts';
import type { SlotEvent } from './api-types.ts';
import { h } from './dom.ts';
import type { LiveState } from './live-stream.ts';
import { LiveStream } from './live-stream.ts';

type SlotListener = (events: readonly SlotEvent[]) => void;
type AlertListener = (events: readonly AlertEvent[]) => void;

/**
 * One live stream for the whole app (all zones the key may read), fanned out to the pages, with the header's
 * connection badge (`data-live-state`, `data-events`).
 */
export class LiveHub {
  readonly badge: HTMLElement;
  readonly #label: HTMLElement;
  readonly #slotListeners = new Set<SlotListener>();
  readonly #alertListeners = new Set<AlertListener>();
  /** Event ids of alert transitions already handed out (delivery is at least once). */
  readonly #seenAlertEvents = new Set<string>();
  readonly #resumeListeners = new Set<() => void>();
  #stream: LiveStream | undefined;
  #events = 0;
  /** The data is an offline replay of bundled documents: a connected stream is not called "Live". */
  #replay = false;
  #state: LiveState = 'stopped';

  constructor() {
    this.#label = h('span', { class: 'live-label', text: 'Offline' });
    this.badge = h(
      'span',
      {
        class: 'live-badge',
        attrs: { role: 'status', title: 'Live updates' },
        data: { liveState: 'stopped', events: 0 },
      },
      [h('span', { class: 'live-dot', attrs: { 'aria-hidden': 'true' } }), this.#label],
    );
  }

  /** Follows the stream with `key` (null: anonymously), replacing the stream of an earlier key. */
  start(key: string | null, onUnauthorized: (problem: ApiProblem) => void): void {
    this.#stream?.stop();
    this.#stream = new LiveStream({
      key,
      onSlots: (events) => {
        this.#events += events.length;
        this.badge.dataset['events'] = String(this.#events);
        for (const listener of this.#slotListeners) listener(events);
      },
      onAlerts: (events) => {
        const fresh = events.filter((e) => !this.#seenAlertEvents.has(e.eventId));
        for (const e of fresh) this.#seenAlertEvents.add(e.eventId);
        if (this.#seenAlertEvents.size > 5000) this.#seenAlertEvents.clear();
        if (fresh.length === 0) return;
        this.badge.dataset['alertEvents'] = String(Number(this.badge.dataset['alertEvents'] ?? '0') + fresh.length);
        for (const listener of this.#alertListeners) listener(fresh);
      },
      onState: (state, detail) => {
        this.#setState(state, detail);
      },
      onResume: () => {
        for (const listener of this.#resumeListeners) listener();
      },
      onUnauthorized,
    });
    this.#stream.start();
  }

  stop(): void {
    this.#stream?.stop();
    this.#stream = undefined;
  }

  onSlots(listener: SlotListener): () => void {
    this.#slotListeners.add(listener);
    return () => this.#slotListeners.delete(listener);
  }

  /** Alert transitions as they arrive, each once. */
  onAlerts(listener: AlertListener): () => void {
    this.#alertListeners.add(listener);
    return () => this.#alertListeners.delete(listener);
  }

  onResume(listener: () => void): () => void {
    this.#resumeListeners.add(listener);
    return () => this.#resumeListeners.delete(listener);
  }

  /** Says "Replay" instead of "Live" while connected: the updates are replayed documents, not live data. */
  markReplay(): void {
    this.#replay = true;
    this.badge.dataset['feed'] = 'replay';
    this.#setState(this.#state);
  }

  #setState(state: LiveState, detail?: string): void {
    this.#state = state;
    this.badge.dataset['liveState'] = state;
    const text = ((): string => {
      switch (state) {
        case 'connecting':
          return 'Connecting…';
        case 'live':
          return this.#replay ? 'Replay' : 'Live';
        case 'reconnecting':
          return 'Reconnecting…';
        case 'stopped':
          return 'Offline';
        default:
          return state satisfies never;
      }
    })();
    this.#label.textContent = text;
    const what = this.#replay ? 'Updates of the offline replay (not live data)' : 'Live updates';
    this.badge.title = detail === undefined ? `${what}: ${text}` : `${what}: ${text} (${detail})`;
  }
}
