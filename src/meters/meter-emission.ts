import type { ChangedInterval, DbTransaction, EnergyQuantity, PendingWindow } from '../storage/index.ts';
import { emitGroupWindows, emitMeterDays, meterWindowKey, takeDuePending } from '../storage/index.ts';
import type { Window } from '../streams/index.ts';
import { localDayOf, windowOf } from '../streams/index.ts';
import { intervalMs } from '../contracts/index.ts';
import { UNASSIGNED } from './reading-plan.ts';
import { meterAt, metersByIds } from './meter-store.ts';

/** Window kinds of the meters job: a meter's local day (its day row), a group's local day and local month. */
export const METER_WINDOW_KINDS = ['meter_day', 'group_day', 'group_month'] as const;
export type MeterWindowKind = (typeof METER_WINDOW_KINDS)[number];

/** A window to mark pending, with its identity in the batch and in {@link PendingMarks}, and its end. */
export interface MeterPendingWindow extends PendingWindow {
  readonly id: string;
  readonly endMs: number;
}

/**
 * The windows a batch's changed intervals fall in, deduplicated: the meter's local day, and its group's local day
 * and month (a group's calendar is its meters' time zone: the groups of one deployment are assumed to lie in one
 * time zone each). None is marked to restate: that takes the watermark, which the role reads under its lock.
 */
export function pendingWindowsOf(
  changed: readonly ChangedInterval[],
  timeZoneOf: (meterId: string, tsMs: number) => string,
): MeterPendingWindow[] {
  const windows = new Map<string, MeterPendingWindow>();
  const isoOf = new Map<number, string>();
  const iso = (ms: number): string => {
    let text = isoOf.get(ms);
    if (text === undefined) isoOf.set(ms, (text = new Date(ms).toISOString()));
    return text;
  };
  // Most ids repeat within a batch (a group's day, a meter's day): the window is built once per id.
  const add = (kind: MeterWindowKind, who: string, quantity: string, w: Window, timeZone: string): void => {
    const id = `${kind}\u0000${who}\u0000${quantity}\u0000${w.start}`;
    if (windows.has(id)) return;
    windows.set(id, {
      id,
      endMs: w.end,
      kind,
      key: meterWindowKey(who, quantity),
      windowStart: iso(w.start),
      windowEnd: iso(w.end),
      timeZone,
      restate: false,
    });
  };
  for (const c of changed) {
    const ts = Date.parse(c.ts);
    const tz = timeZoneOf(c.meterId, ts);
    const day = windowOf(ts, 'P1D', tz);
    add('meter_day', c.meterId, c.quantity, day, tz);
    if (c.groupId === null || c.groupId === UNASSIGNED) continue;
    add('group_day', c.groupId, c.quantity, day, tz);
    add('group_month', c.groupId, c.quantity, windowOf(ts, 'P1M', tz), tz);
  }
  return [...windows.values()];
}

/** What {@link emitDueWindows} did, per window kind. */
export interface EmitResult {
  readonly byKind: Record<MeterWindowKind, { written: number; unchanged: number; restated: number }>;
  /** More windows were due than the limit: call again. */
  readonly remaining: boolean;
}

/**
 * Emits (at most `limit`) pending windows whose end the watermark has passed, in the caller's transaction: each
 * result is recomputed from the stored intervals it covers. Windows are taken with SKIP LOCKED, so workers never
 * emit one window at once, and deleted from the pending set in the same transaction. The caller holds the job's
 * watermark lock (`lockJobWatermark`): the role's PendingMarks rely on no window being emitted without it.
 */
export async function emitDueWindows(
  tx: DbTransaction,
  job: string,
  watermarkMs: number,
  limit: number,
): Promise<EmitResult> {
  const due = await takeDuePending(tx, job, new Date(watermarkMs).toISOString(), limit);
  const byKind: EmitResult['byKind'] = {
    meter_day: { written: 0, unchanged: 0, restated: 0 },
    group_day: { written: 0, unchanged: 0, restated: 0 },
    group_month: { written: 0, unchanged: 0, restated: 0 },
  };
  const days = due.filter((w) => w.kind === 'meter_day');
  if (days.length > 0) {
    const keys = days.map((w) => JSON.parse(w.key) as [string, EnergyQuantity]);
    const meters = await metersByIds(tx, [...new Set(keys.map(([id]) => id))]);
    const r = await emitMeterDays(
      tx,
      days.map((w, i) => {
        const [meterId, quantity] = keys[i] ?? ['', 'energy_import'];
        const start = Date.parse(w.windowStart);
        const meter = meterAt(meters.get(meterId), start);
        const interval = meter === undefined ? 'PT15M' : meter.interval === 'PT60M' ? 'PT1H' : meter.interval;
        return {
          meterId,
          quantity,
          localDay: localDayOf(start, w.timeZone),
          timeZone: w.timeZone,
          dayStart: w.windowStart,
          dayEnd: w.windowEnd,
          intervalS: intervalMs(interval) / 1000,
          groupId: meter === undefined || meter.group === UNASSIGNED ? null : meter.group,
          restate: w.restate,
        };
      }),
    );
    byKind.meter_day = { written: r.written, unchanged: r.unchanged, restated: r.restated };
  }
  for (const kind of ['group_day', 'group_month'] as const) {
    const windows = due.filter((w) => w.kind === kind);
    if (windows.length === 0) continue;
    const r = await emitGroupWindows(
      tx,
      windows.map((w) => {
        const [groupId, quantity] = JSON.parse(w.key) as [string, EnergyQuantity];
        return {
          groupId,
          quantity,
          resolution: kind === 'group_day' ? ('P1D' as const) : ('P1M' as const),
          start: w.windowStart,
          end: w.windowEnd,
          timeZone: w.timeZone,
          restate: w.restate,
        };
      }),
    );
    byKind[kind] = { written: r.written, unchanged: r.unchanged, restated: r.restated };
  }
  return { byKind, remaining: due.length >= limit };
}
