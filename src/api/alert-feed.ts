import { eventsAfter, lastEventId } from '../alerts/index.ts';
import type { AlertEvent } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';

type Listener = (events: readonly AlertEvent[]) => void;

/**
 * Tells subscribers about alert transitions as they are written (the `alert_events` outbox, in id order), in
 * embedded and distributed mode alike: one poller per process, only while someone listens. Transitions written
 * before the feed's first look are not news.
 */
export class AlertFeed {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #listeners = new Set<Listener>();
  #after: string | null = null;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(db: Db, logger: Logger, intervalMs = 1000) {
    this.#db = db;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#schedule();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#listeners.clear();
  }

  #schedule(): void {
    if (this.#timer !== undefined || this.#stopped || this.#listeners.size === 0) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.#poll().finally(() => {
        this.#schedule();
      });
    }, this.#intervalMs);
  }

  async #poll(): Promise<void> {
    try {
      if (this.#after === null) {
        this.#after = await lastEventId(this.#db);
        return;
      }
      const events = await eventsAfter(this.#db, this.#after, 1000);
      const last = events.at(-1);
      if (last === undefined) return;
      this.#after = last.event_id;
      for (const listener of this.#listeners) listener(events);
    } catch (error) {
      this.#logger.warn({ err: error }, 'alert feed poll failed; trying again');
    }
  }
}
