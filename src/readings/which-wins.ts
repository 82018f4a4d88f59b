import type { CanonicalReading } from '../contracts/index.ts';

/** A reading with its place in the log (the order it was received in: one meter's readings share a partition). */
export interface ReceivedReading {
  readonly reading: CanonicalReading;
  /** Its position in log order (the partition offset); a larger position was received later. */
  readonly position: bigint;
}

/** What one more reading of a (meter, quantity, interval) does to the value kept for it. */
export type ValueDecision =
  /** Nothing was kept yet: the incoming reading is the value. */
  | { readonly outcome: 'first'; readonly winner: ReceivedReading }
  /** The same value again (a retry, a duplicate): nothing changes and no revision is kept. */
  | { readonly outcome: 'duplicate'; readonly winner: ReceivedReading }
  /** The incoming reading wins; the value it replaces is kept as a revision. */
  | { readonly outcome: 'replaced'; readonly winner: ReceivedReading; readonly revision: ReceivedReading }
  /** The kept value stays (the incoming one was issued earlier); the incoming one is kept as a revision. */
  | { readonly outcome: 'kept'; readonly winner: ReceivedReading; readonly revision: ReceivedReading };

/**
 * True when `b` wins over `a` for the same (meter, quantity, interval): the later `recorded_at` when both carry one
 * (equal ones: the later received), otherwise the one received later in log order.
 */
export function isNewer(a: ReceivedReading, b: ReceivedReading): boolean {
  const ra = a.reading.recorded_at;
  const rb = b.reading.recorded_at;
  if (ra !== undefined && rb !== undefined) {
    const d = Date.parse(rb) - Date.parse(ra);
    if (d !== 0) return d > 0;
  }
  return b.position > a.position;
}

/** Same value, same `recorded_at`: the incoming reading changes nothing. */
const sameValue = (a: CanonicalReading, b: CanonicalReading): boolean =>
  a.value === b.value && a.recorded_at === b.recorded_at && a.interval === b.interval;

/**
 * Which value wins for one (meter, quantity, interval) when `incoming` arrives and `current` is kept (see
 * {@link isNewer}); the loser, when it differs, is returned as a revision so that no value is ever lost. Pure: the
 * caller stores the outcome.
 */
export function decideValue(current: ReceivedReading | undefined, incoming: ReceivedReading): ValueDecision {
  if (current === undefined) return { outcome: 'first', winner: incoming };
  if (sameValue(current.reading, incoming.reading)) return { outcome: 'duplicate', winner: current };
  return isNewer(current, incoming)
    ? { outcome: 'replaced', winner: incoming, revision: current }
    : { outcome: 'kept', winner: current, revision: incoming };
}

/** The winner of readings of one (meter, quantity, interval) and every other value as a revision, oldest first. */
export function resolveValues(readings: readonly ReceivedReading[]): {
  readonly winner: ReceivedReading | undefined;
  readonly revisions: ReceivedReading[];
} {
  let winner: ReceivedReading | undefined;
  const revisions: ReceivedReading[] = [];
  for (const r of readings) {
    const d = decideValue(winner, r);
    winner = d.winner;
    if (d.outcome === 'replaced' || d.outcome === 'kept') revisions.push(d.revision);
  }
  return { winner, revisions };
}
