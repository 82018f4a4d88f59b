/**
 * When the zone page reloads what live events changed. Pure: no DOM, no timers, the clock is an argument. The page
 * tells it what happened (live changes, a reconnection, a load it started, the tab's visibility) and asks
 * {@link RefreshSchedule.poll} what to reload now, or when to ask again; it arms its one timer from that answer.
 *
 * The rule: changes are applied {@link RefreshTiming.debounceMs} after the last change of a burst, but no later than
 * {@link RefreshTiming.maxWaitMs} after the first one, so that a document stored as several events is fetched once
 * and a steady trickle still shows. A change that arrived before a card's last load is already shown by it. A hidden
 * tab reloads nothing; it catches up at once when shown.
 */

export interface RefreshTiming {
  /** Wait this long after the last change of a burst… @default 1000 */
  readonly debounceMs: number;
  /** …but no longer than this after its first change. @default 4000 */
  readonly maxWaitMs: number;
}

export const DEFAULT_REFRESH_TIMING: RefreshTiming = { debounceMs: 1_000, maxWaitMs: 4_000 };

/** What to reload now. */
export interface RefreshPlan<K extends string> {
  /** The cards whose data changed (every card after a reconnection), in the order the schedule was given them. */
  readonly cards: readonly K[];
  /** The newest slot that should move a range ending at the latest data, or null. */
  readonly anchor: number | null;
  /** Events may have been missed (the live stream reconnected): reload everything, not only `cards`. */
  readonly everything: boolean;
}

/** The answer to {@link RefreshSchedule.poll}: a plan to carry out now, or the time to ask again, or neither. */
export interface RefreshStep<K extends string> {
  readonly refresh: RefreshPlan<K> | null;
  /** Ask again at this time (epoch ms); null when nothing waits (or the tab is hidden). */
  readonly wakeAt: number | null;
}

/** Changes not shown yet: when the first and the last of them arrived. */
interface Unshown {
  readonly first: number;
  readonly last: number;
}

function widen(unshown: Unshown | undefined, now: number): Unshown {
  return unshown === undefined
    ? { first: now, last: now }
    : { first: unshown.first, last: Math.max(unshown.last, now) };
}

export class RefreshSchedule<K extends string> {
  readonly #cards: readonly K[];
  readonly #timing: RefreshTiming;
  readonly #unshown = new Map<K, Unshown>();
  readonly #refreshedAt = new Map<K, number>();
  #anchor: { readonly slot: number; readonly times: Unshown } | null = null;
  #everything: Unshown | undefined;
  #visible = true;

  constructor(cards: readonly K[], timing: RefreshTiming = DEFAULT_REFRESH_TIMING) {
    this.#cards = [...cards];
    this.#timing = timing;
  }

  /** Live events changed the data of `cards` at `now`; `anchor` is the newest slot that moves a preset range. */
  changed(now: number, cards: Iterable<K>, anchor: number | null = null): void {
    for (const card of cards) this.#unshown.set(card, widen(this.#unshown.get(card), now));
    if (anchor !== null) {
      this.#anchor = { slot: Math.max(this.#anchor?.slot ?? anchor, anchor), times: widen(this.#anchor?.times, now) };
    }
  }

  /** The live stream reconnected at `now`: events may have been missed, so everything is reloaded. */
  resumed(now: number): void {
    this.#everything = widen(this.#everything, now);
  }

  /**
   * The page started loading `cards` (all of them when absent) at `now`: the changes that arrived until then are
   * shown by that load. A pending anchor stays: a load keeps the range it was given.
   */
  refreshed(now: number, cards: Iterable<K> = this.#cards): void {
    const all = new Set(cards);
    for (const card of all) {
      this.#refreshedAt.set(card, now);
      const unshown = this.#unshown.get(card);
      if (unshown !== undefined && unshown.last <= now) this.#unshown.delete(card);
    }
    if (this.#cards.every((c) => all.has(c)) && this.#everything !== undefined && this.#everything.last <= now)
      this.#everything = undefined;
  }

  /** When the card was last loaded (epoch ms), if it was. */
  refreshedAt(card: K): number | undefined {
    return this.#refreshedAt.get(card);
  }

  /** The tab was hidden or shown: a hidden tab reloads nothing. */
  setVisible(visible: boolean): void {
    this.#visible = visible;
  }

  /** Forgets every change not shown yet (the page shows another zone). */
  clear(): void {
    this.#unshown.clear();
    this.#anchor = null;
    this.#everything = undefined;
  }

  /** What to reload at `now` (taken off the schedule and counted as loaded), or when to ask again. */
  poll(now: number): RefreshStep<K> {
    const times = [...this.#unshown.values()];
    if (this.#anchor !== null) times.push(this.#anchor.times);
    if (this.#everything !== undefined) times.push(this.#everything);
    if (times.length === 0 || !this.#visible) return { refresh: null, wakeAt: null };
    const first = Math.min(...times.map((t) => t.first));
    const last = Math.max(...times.map((t) => t.last));
    const dueAt = Math.min(last + this.#timing.debounceMs, first + this.#timing.maxWaitMs);
    if (now < dueAt) return { refresh: null, wakeAt: dueAt };
    const everything = this.#everything !== undefined;
    const plan: RefreshPlan<K> = {
      cards: this.#cards.filter((c) => everything || this.#unshown.has(c)),
      anchor: this.#anchor?.slot ?? null,
      everything,
    };
    this.clear();
    for (const card of plan.cards) this.#refreshedAt.set(card, now);
    return { refresh: plan, wakeAt: null };
  }
}
