import type { Component } from '../common/index.ts';
import { periodic, phaseTimer } from '../common/index.ts';
import { meterAt, metersByIds, UNASSIGNED } from '../meters/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db } from '../storage/index.ts';
import { deferMeterWork, finishMeterWork, takeMeterWork } from '../storage/index.ts';
import { biddingZoneOf } from './bidding-zone.ts';
import type { SettleDay } from './settlement-store.ts';
import { hasInputChanges, lockSettling, requeueChangedInputs, settleDays } from './settlement-store.ts';

export interface SettleRoleDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  /** How long a day waits for a missing price or intensity before its rows are written `pending`. */
  readonly waitMs: number;
  /** Meter days per transaction. @default 200 */
  readonly batchDays?: number;
  /** Pause when nothing is queued. @default 1000 */
  readonly idleMs?: number;
  /** Processing time (tests). @default Date.now */
  readonly now?: () => number;
}

/** How often a day still waiting for its prices looks again. */
const RECHECK_MS = 60_000;

/**
 * The `settle` role: prices every validated meter day (energy × day-ahead price of the meter's bidding zone, ×
 * consumption-based carbon intensity, lifecycle and direct) and re-prices settled days when a price or intensity
 * they used arrives or changes. Each transaction takes days off the queue, recomputes their rows from stored
 * inputs and writes the new or changed ones (revisions kept), so a crash repeats a recomputation and never loses
 * or doubles a cent or a gram. Any number of workers (SKIP LOCKED).
 */
export function settleRole(deps: SettleRoleDeps): Component[] {
  const { db, logger, metrics, reference } = deps;
  const batch = deps.batchDays ?? 200;
  const now = deps.now ?? Date.now;
  const zones = new Map<string, string | null>();
  const zoneOf = (zone: string): string | null => {
    let z = zones.get(zone);
    if (z === undefined) zones.set(zone, (z = biddingZoneOf(reference, zone) ?? null));
    return z;
  };

  const worker = periodic({
    name: 'settle',
    logger,
    intervalMs: deps.idleMs ?? 1000,
    run: async (signal) => {
      const o = { signal };
      const { lap, phases } = phaseTimer();
      // Price changes become queued days in a transaction of their own (it waits for settlements in flight).
      const changes = (await hasInputChanges(db, o))
        ? await db.transaction((tx) => requeueChangedInputs(tx, 1000, o), o)
        : 0;
      lap('requeue');
      const taken = await db.transaction(async (tx) => {
        await lockSettling(tx, o);
        const items = await takeMeterWork(tx, 'settle', batch, o);
        lap('take');
        if (items.length === 0) return changes;
        const meters = await metersByIds(tx, [...new Set(items.map((i) => i.meterId))], o);
        const t = now();
        const days: SettleDay[] = items.map((item) => {
          const meter = meterAt(meters.get(item.meterId), Date.parse(item.dayStart));
          return {
            ...item,
            biddingZone: meter === undefined ? null : zoneOf(meter.zone),
            groupId: meter === undefined || meter.group === UNASSIGNED ? null : meter.group,
            mayPend: Date.parse(item.since ?? '') + deps.waitMs <= t,
          };
        });
        const r = await settleDays(tx, days, o);
        lap('settle');
        const deferred = new Set(r.deferred);
        const waiting = days.filter((_, i) => deferred.has(i));
        const ready = days.filter((_, i) => !deferred.has(i));
        if (waiting.length > 0) {
          // Looked at again soon (a price may arrive any time), at the latest when its wait is over.
          const due = Math.min(
            t + RECHECK_MS,
            Math.max(...waiting.map((d) => Date.parse(d.since ?? '') + deps.waitMs)),
          );
          await deferMeterWork(tx, 'settle', waiting, new Date(due).toISOString(), o);
        }
        await finishMeterWork(tx, 'settle', ready, o);
        metrics.settlementRows('final', r.written - r.pending);
        metrics.settlementRows('pending', r.pending);
        metrics.settlementRows('restated', r.restated);
        return ready.length + changes;
      }, o);
      lap('commit');
      if (taken > 0) logger.debug({ days: taken, ms: phases }, 'settle batch');
      return taken >= batch ? 0 : undefined;
    },
  });
  return [worker];
}
