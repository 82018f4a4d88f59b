import { eventsAfter, lastEventId } from '../alerts/index.ts';
import type { AlertEvent } from '../contracts/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';

type Listener = (events: readonly AlertEvent[]) => void;

/** How many ids before the newest seen each poll reads again (transactions that commit out of id order). */
const LOOK_BACK = 500;

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
  /** Events sent lately: ids are taken at insert, not at commit, so each poll looks back over the last ones. */
  readonly #sent = new Set<string>();
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
      // An event whose id was taken before an earlier-committed one's is found by looking back LOOK_BACK ids.
      const from = String(Math.max(0, Number(this.#after) - LOOK_BACK));
      const events = (await eventsAfter(this.#db, from, 1000 + LOOK_BACK)).filter((e) => !this.#sent.has(e.event_id));
      const last = events.at(-1);
      if (last === undefined) return;
      for (const e of events) this.#sent.add(e.event_id);
      if (Number(last.event_id) > Number(this.#after)) this.#after = last.event_id;
      if (this.#sent.size > 10 * LOOK_BACK)
        for (const id of [...this.#sent].slice(0, 5 * LOOK_BACK)) this.#sent.delete(id);
      for (const listener of this.#listeners) listener(events);
    } catch (error) {
      this.#logger.warn({ err: error }, 'alert feed poll failed; trying again');
    }
  }
}
