import type { DataClock } from './analyst-types.ts';
import { formatDateTime } from './format.ts';

/**
 * The data clock in words: "Demo data clock: …" in the offline replay (its now is the end of the newest complete
 * replayed slot, not the time of day), "Live clock: …" otherwise, and a plain statement where the server has none.
 */
export function clockText(clock: DataClock | null): string {
  if (clock === null) return 'Data clock: not available on this server (yet).';
  const when = formatDateTime(clock.now, 'UTC');
  return clock.mode === 'demo'
    ? `Demo data clock: ${when} (${clock.basis}) — replayed documents, not live data.`
    : `Live clock: ${when} (${clock.basis}).`;
}
