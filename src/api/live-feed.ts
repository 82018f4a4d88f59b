import type { Logger } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';

/** One series that got new or changed data: its newest slot and that slot's value. */
export interface SlotEvent {
  readonly zone: string;
  readonly metric: string;
  readonly production_type: string | null;
  readonly counterpart_zone: string | null;
  readonly qualifier: string | null;
  readonly unit: string;
  readonly slot: string;
  readonly value: number | null;
  readonly updated_at: string;
}

type Listener = (events: readonly SlotEvent[]) => void;

/**
 * Tells subscribers about newly stored slots, in embedded and distributed mode alike: one poller per process reads
 * the small per-series table `grid_series` (maintained by the store with each batch) for rows updated since the
 * last look. It looks a few seconds back each time, because a transaction that started earlier can commit later
 * with an older `updated_at`; what was already announced is not announced again.
 */
export class LiveFeed {
  readonly #db: Db;
  readonly #logger: Logger;
  readonly #intervalMs: number;
  readonly #listeners = new Set<Listener>();
  readonly #announced = new Map<string, number>();
  /** Slots stored before the feed started are not news: they are remembered, not announced. */
  readonly #startedAt = Date.now();
  #cursor = new Date(this.#startedAt);
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #polling = false;

  constructor(db: Db, logger: Logger, intervalMs = 1000) {
    this.#db = db;
    this.#logger = logger;
    this.#intervalMs = intervalMs;
  }

  /** Subscribes; returns the unsubscribe function. Polling runs only while someone listens. */
  subscribe(listener: Listener): () => void {
    this.#listeners.add(listener);
    this.#schedule();
    return () => {
      this.#listeners.delete(listener);
    };
  }

  get subscribers(): number {
    return this.#listeners.size;
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
    if (this.#polling) return;
    this.#polling = true;
    try {
      const since = new Date(this.#cursor.getTime() - 5_000);
      const { rows } = await this.#db.query<{
        zone: string;
        metric: string;
        production_type: string;
        counterpart_zone: string;
        qualifier: string;
        unit: string;
        last_slot: Date;
        updated_at: Date;
        value: number | null;
      }>(
        `SELECT s.zone, s.metric, s.production_type, s.counterpart_zone, s.qualifier, s.unit, s.last_slot, s.updated_at, o.value
         FROM grid_series s
         LEFT JOIN grid_observations o ON o.zone = s.zone AND o.metric = s.metric AND o.production_type = s.production_type
           AND o.counterpart_zone = s.counterpart_zone AND o.qualifier = s.qualifier AND o.slot_start = s.last_slot
         WHERE s.updated_at > $1 ORDER BY s.updated_at LIMIT 2000`,
        [since],
      );
      const events: SlotEvent[] = [];
      for (const r of rows) {
        const key = `${r.zone}|${r.metric}|${r.production_type}|${r.counterpart_zone}|${r.qualifier}`;
        const at = r.updated_at.getTime();
        if ((this.#announced.get(key) ?? 0) >= at) continue;
        this.#announced.set(key, at);
        if (r.updated_at > this.#cursor) this.#cursor = r.updated_at;
        if (at < this.#startedAt) continue;
        events.push({
          zone: r.zone,
          metric: r.metric,
          production_type: r.production_type === '' ? null : r.production_type,
          counterpart_zone: r.counterpart_zone === '' ? null : r.counterpart_zone,
          qualifier: r.qualifier === '' ? null : r.qualifier,
          unit: r.unit,
          slot: r.last_slot.toISOString(),
          value: r.value,
          updated_at: r.updated_at.toISOString(),
        });
      }
      if (this.#announced.size > 200_000) this.#announced.clear();
      if (events.length > 0) for (const listener of this.#listeners) listener(events);
    } catch (error) {
      this.#logger.warn({ err: error }, 'live feed poll failed; trying again');
    } finally {
      this.#polling = false;
    }
  }
}
