import type { SlotEvent, Zone } from './api-types.ts';
import type { CardKind } from './zone-data.ts';
import { cardOf } from './zone-data.ts';

/** What live events can make the zone page reload: a chart card, or the latest mix. */
export type RefreshKey = CardKind | 'mix';

/** What the zone page is showing, as far as live events are concerned. */
export interface ShownZone {
  readonly zones: readonly Zone[];
  /** The zone on screen, if any. */
  readonly code: string | null;
  /** Where the preset range ends now (the latest slot it follows), or null before the first load. */
  readonly anchor: number | null;
  /** The range is a preset, which follows the latest data (custom dates do not move). */
  readonly followsData: boolean;
}

/** What a batch of live events changes on the zone page. */
export interface SlotChanges {
  /** The zone list, each zone's coverage widened and its metrics completed by the events. */
  readonly zones: Zone[];
  /** An event named a zone or a metric the list did not have: reload the list (names, time zones). */
  readonly stale: boolean;
  /** How many events were for the zone on screen. */
  readonly count: number;
  /** The one to show as "Last update": charted metrics before derived ones (shares), then the latest slot. */
  readonly newest: SlotEvent | undefined;
  /** What to reload. */
  readonly changed: ReadonlySet<RefreshKey>;
  /** A newer slot the preset range should end at, or null. */
  readonly anchor: number | null;
}

/** Pure: the changes `events` make to what `shown` shows. */
export function slotChanges(shown: ShownZone, events: readonly SlotEvent[]): SlotChanges {
  let zones = [...shown.zones];
  let stale = false;
  let count = 0;
  let newest: SlotEvent | undefined;
  let anchor: number | null = null;
  const changed = new Set<RefreshKey>();
  for (const e of events) {
    const zone = zones.find((z) => z.code === e.zone);
    let current = zone;
    if (zone === undefined) stale = true;
    else {
      const known = zone.metrics.includes(e.metric);
      if (!known) stale = true;
      current = {
        ...zone,
        lastSlot: Math.max(zone.lastSlot, e.slot),
        firstSlot: Math.min(zone.firstSlot, e.slot),
        metrics: known ? zone.metrics : [...zone.metrics, e.metric].sort(),
      };
      const updated = current;
      zones = zones.map((z) => (z === zone ? updated : z));
    }
    if (e.zone !== shown.code) continue;
    count += 1;
    const kind = cardOf(e.metric);
    const charted = kind !== undefined;
    const newestCharted = newest !== undefined && cardOf(newest.metric) !== undefined;
    if (newest === undefined || (charted && !newestCharted) || (charted === newestCharted && e.slot >= newest.slot))
      newest = e;
    if (kind !== undefined) changed.add(kind);
    if (e.metric === 'generation_actual') changed.add('mix');
    // A preset range ends at the zone's latest generation when it has some, else at its latest charted data.
    const moves =
      current?.metrics.includes('generation_actual') === true ? e.metric === 'generation_actual' : kind !== undefined;
    if (moves && shown.followsData && (shown.anchor === null || e.slot > shown.anchor))
      anchor = Math.max(anchor ?? 0, e.slot);
  }
  return { zones, stale, count, newest, changed, anchor };
}
