import type { Db } from '../storage/index.ts';
import { latestCompleteGenerationSlot } from '../storage/index.ts';
import { SLOT_MS } from '../time/index.ts';
import { ApiError } from './errors.ts';

/** Which clock "now" comes from. */
export type ClockMode = 'live' | 'demo';

export const CLOCK_BASIS = { live: 'wall clock', demo: 'latest complete replayed slot' } as const;

/**
 * The data clock: what "now", "next 24 h" and "tomorrow" mean. Live: the wall clock. Demo (the embedded default's
 * offline replay of bundled historic documents, where there is no real "now"): the end of the newest complete
 * replayed quarter hour — the newest slot up to which every zone with actual generation in the 24 hours before
 * the newest stored generation slot has a value of each of its active production types (a type more than a day
 * behind its zone's newest has stopped reporting and is not waited for).
 */
export interface DataClock {
  readonly mode: ClockMode;
  /** Epoch milliseconds. */
  readonly now: number;
  readonly basis: (typeof CLOCK_BASIS)[ClockMode];
}

/** The clock port of the API: every route that says "now" asks it. */
export interface Clock {
  readonly mode: ClockMode;
  /** @throws ApiError `api.unavailable` (503, retryable) in demo mode before any generation is stored */
  now(options?: { readonly signal?: AbortSignal }): Promise<DataClock>;
}

/** The wall clock (live mode). */
export function liveClock(wallClock: () => number = Date.now): Clock {
  return {
    mode: 'live',
    now: () => Promise.resolve({ mode: 'live', now: wallClock(), basis: CLOCK_BASIS.live }),
  };
}

/**
 * The demo clock of the offline replay: the end of the newest complete replayed slot, read from the database
 * (cached for a second: a page asks several routes at once).
 */
export function replayClock(db: Db, wallClock: () => number = Date.now): Clock {
  let cached: { at: number; clock: Promise<DataClock> } | undefined;
  // One small query shared by the callers of a second: not tied to any one request's signal, so that a caller
  // that goes away does not fail the others.
  const read = async (): Promise<DataClock> => {
    const latest = await latestCompleteGenerationSlot(db);
    if (latest === null) {
      throw new ApiError(
        'api.unavailable',
        'demo clock: no replayed actual generation is stored yet (the offline replay is still starting); try again shortly',
      );
    }
    return { mode: 'demo', now: latest.slot + SLOT_MS, basis: CLOCK_BASIS.demo };
  };
  return {
    mode: 'demo',
    now: () => {
      const at = wallClock();
      if (cached === undefined || at - cached.at > 1_000) {
        const clock = read();
        cached = { at, clock };
        clock.catch(() => {
          if (cached?.clock === clock) cached = undefined;
        });
      }
      return cached.clock;
    },
  };
}

/** The clock as the API answers it. */
export function clockBody(clock: DataClock): { mode: ClockMode; now: string; basis: DataClock['basis'] } {
  return { mode: clock.mode, now: new Date(clock.now).toISOString(), basis: clock.basis };
}
