import type { AlertEvent } from './alert-types.ts';
import { decodeAlertEvent } from './alert-types.ts';
import { ApiProblem, delay, describeError, isAbort, problemOf } from './api-client.ts';
import type { SlotEvent } from './api-types.ts';
import { decodeSlotEvent } from './api-types.ts';
import { SseParser } from './sse-parser.ts';

export const LIVE_STATES = ['connecting', 'live', 'reconnecting', 'stopped'] as const;
export type LiveState = (typeof LIVE_STATES)[number];

export interface LiveStreamOptions {
  /** The API key; null reads anonymously (a server with public read). */
  readonly key: string | null;
  /** Zones to follow; all the key may read when absent. */
  readonly zones?: readonly string[];
  readonly onSlots: (events: readonly SlotEvent[]) => void;
  /** Alert transitions the key may see (`alert` events). */
  readonly onAlerts?: (events: readonly AlertEvent[]) => void;
  readonly onState: (state: LiveState, detail?: string) => void;
  /** Called after a reconnection: events may have been missed, reload what is shown. */
  readonly onResume: () => void;
  readonly onUnauthorized: (problem: ApiProblem) => void;
}

/** No byte for this long (the server comments every 15 s) means the connection is dead. */
const IDLE_TIMEOUT_MS = 45_000;
const BACKOFF_START_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;

/**
 * `GET /api/v1/stream` read with fetch (EventSource cannot send an Authorization header): the body is parsed as
 * Server-Sent Events; the connection is re-opened with exponential backoff (and jitter) after any failure, with
 * the last event id sent back; a reconnection asks the app to reload what it shows, since the server does not
 * replay what was missed.
 */
export class LiveStream {
  readonly #options: LiveStreamOptions;
  readonly #controller = new AbortController();
  #running = false;
  #lastEventId: string | undefined;

  constructor(options: LiveStreamOptions) {
    this.#options = options;
  }

  start(): void {
    if (this.#running) return;
    this.#running = true;
    void this.#loop();
  }

  stop(): void {
    this.#controller.abort();
    this.#options.onState('stopped');
  }

  async #loop(): Promise<void> {
    const signal = this.#controller.signal;
    let backoff = BACKOFF_START_MS;
    // Set from the connection's callback (an object, so that the loop sees the change).
    const seen = { connected: false };
    const aborted = (): boolean => signal.aborted;
    while (!aborted()) {
      this.#options.onState(seen.connected ? 'reconnecting' : 'connecting');
      let wait = backoff;
      try {
        const healthy = await this.#connect(signal, () => {
          if (seen.connected) this.#options.onResume();
          seen.connected = true;
          backoff = BACKOFF_START_MS;
          this.#options.onState('live');
        });
        if (healthy) wait = BACKOFF_START_MS;
        this.#options.onState('reconnecting', 'the stream ended');
      } catch (error) {
        if (aborted() || isAbort(error)) break;
        if (error instanceof ApiProblem && error.status === 401) {
          this.#options.onUnauthorized(error);
          break;
        }
        if (error instanceof ApiProblem && error.retryAfter !== undefined)
          wait = Math.max(wait, error.retryAfter * 1000);
        this.#options.onState('reconnecting', describeError(error));
      }
      const jittered = wait * (0.75 + Math.random() * 0.5);
      backoff = Math.min(BACKOFF_MAX_MS, backoff * 2);
      try {
        await delay(jittered, signal);
      } catch {
        break;
      }
    }
    this.#running = false;
  }

  /** One connection; resolves when the server ends it (true when it had been streaming). */
  async #connect(signal: AbortSignal, onOpen: () => void): Promise<boolean> {
    const url = new URL('/api/v1/stream', window.location.origin);
    if (this.#options.zones !== undefined) url.searchParams.set('zones', this.#options.zones.join(','));
    const attempt = new AbortController();
    const abort = (): void => {
      attempt.abort();
    };
    signal.addEventListener('abort', abort, { once: true });
    let idle = setTimeout(abort, IDLE_TIMEOUT_MS);
    try {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (this.#options.key !== null) headers['authorization'] = `Bearer ${this.#options.key}`;
      if (this.#lastEventId !== undefined) headers['last-event-id'] = this.#lastEventId;
      let response: Response;
      try {
        response = await fetch(url, { headers, cache: 'no-store', signal: attempt.signal });
      } catch (error) {
        if (signal.aborted) throw error;
        throw new ApiProblem(0, 'Network error', `the live stream could not connect (${describeError(error)})`);
      }
      if (!response.ok) throw await problemOf(response);
      if (response.body === null) throw new ApiProblem(0, 'Network error', 'the live stream has no body');
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      const parser = new SseParser();
      let opened = false;
      for (;;) {
        let chunk: ReadableStreamReadResult<string>;
        try {
          chunk = await reader.read();
        } catch (error) {
          if (signal.aborted) throw error;
          return opened;
        }
        if (chunk.done) return opened;
        clearTimeout(idle);
        idle = setTimeout(abort, IDLE_TIMEOUT_MS);
        const slots: SlotEvent[] = [];
        const alerts: AlertEvent[] = [];
        for (const message of parser.push(chunk.value)) {
          if (message.id !== undefined) this.#lastEventId = message.id;
          if (message.event === 'hello' && !opened) {
            opened = true;
            onOpen();
          } else if (message.event === 'slot') {
            try {
              slots.push(decodeSlotEvent(JSON.parse(message.data), 'slot event'));
            } catch (error) {
              console.warn('gridstream: ignored a malformed slot event', error);
            }
          } else if (message.event === 'alert') {
            try {
              alerts.push(decodeAlertEvent(JSON.parse(message.data), 'alert event'));
            } catch (error) {
              console.warn('gridstream: ignored a malformed alert event', error);
            }
          }
        }
        if (slots.length > 0) this.#options.onSlots(slots);
        if (alerts.length > 0) this.#options.onAlerts?.(alerts);
      }
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', abort);
      attempt.abort();
    }
  }
}
