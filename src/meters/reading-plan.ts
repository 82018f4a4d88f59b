import type { Decimal, ErrorCode } from '../common/index.ts';
import { normaliseDecimal } from '../common/index.ts';
import type { LateDataPolicy, UnknownMeterPolicy } from '../config/index.ts';
import type { CanonicalReading } from '../contracts/index.ts';
import { QUANTITIES, intervalMs } from '../contracts/index.ts';
import type { DeviceReadingInput, IntervalInput, LogPosition, RegisterReadInput } from '../storage/index.ts';
import { classifyLateness, windowOf } from '../streams/index.ts';
import { meterAt } from './meter-store.ts';
import type { Meter, MeterInterval } from './types.ts';
import { METER_INTERVALS } from './types.ts';

/** One canonical reading and where it sits in the log. */
export interface PlanItem {
  readonly reading: CanonicalReading;
  readonly position: LogPosition;
}

/** What the plan needs to know besides the readings. */
export interface PlanContext {
  /** Registry history of every smart meter of the batch. */
  readonly meters: ReadonlyMap<string, readonly Meter[]>;
  /** The job's watermark before this batch (undefined: nothing emitted yet). */
  readonly watermarkMs: number | undefined;
  readonly allowedLatenessMs: number;
  readonly latePolicy: LateDataPolicy;
  readonly unknownMeter: UnknownMeterPolicy;
}

/** A reading the role refuses: dead-lettered to dlq-processing with this reason. */
export interface PlanReject {
  readonly item: PlanItem;
  readonly reason: ErrorCode;
  readonly message: string;
}

/** What to store for a batch, and what not. */
export interface ReadingPlan {
  readonly intervals: IntervalInput[];
  readonly registerReads: RegisterReadInput[];
  readonly deviceReadings: DeviceReadingInput[];
  readonly rejects: PlanReject[];
  /** Meters to register in group `unassigned` before storing (unknown-meter policy `register`). */
  readonly register: Meter[];
  /** Readings later than the allowed lateness, by what the late policy did with them. */
  readonly tooLate: { restated: number; deadLettered: number; dropped: number };
}

/** A value the contract has checked already (a normalised decimal text) as a {@link Decimal}. */
const exact = (text: string): Decimal => normaliseDecimal(text) ?? (text as Decimal);

/** The group (and zone) readings of meters registered by the `register` policy land in, for an admin to complete. */
export const UNASSIGNED = 'unassigned';

/** The registry's interval names (`PT60M`) in the canonical reading's form (`PT1H`) and back, by length. */
const REGISTRY_INTERVAL_BY_MS = new Map<number, MeterInterval>(METER_INTERVALS.map((i) => [intervalMs(canon(i)), i]));
function canon(i: MeterInterval): string {
  return i === 'PT60M' ? 'PT1H' : i;
}

/**
 * Decides, without I/O, what happens to each reading of a batch: smart-meter readings need the meter in the
 * registry at their time (else the unknown-meter policy), interval readings must match the meter's interval and
 * start on its grid; register reads become intervals in storage; instant values and every SCADA/PMU reading are
 * stored per device without windows. A reading whose local day was emitted longer than the allowed lateness ago
 * follows the late policy.
 */
export function planReadings(items: readonly PlanItem[], ctx: PlanContext): ReadingPlan {
  const plan: ReadingPlan = {
    intervals: [],
    registerReads: [],
    deviceReadings: [],
    rejects: [],
    register: [],
    tooLate: { restated: 0, deadLettered: 0, dropped: 0 },
  };
  const registered = new Map<string, Meter>();
  for (const item of items) {
    const r = item.reading;
    const kind = QUANTITIES[r.quantity].kind;
    if (r.kind !== 'smart_meter' || kind === 'instant') {
      if (r.kind === 'smart_meter' && meterFor(item, ctx, registered, plan) === undefined) continue;
      plan.deviceReadings.push({
        deviceId: r.meter_id,
        kind: r.kind,
        quantity: r.quantity,
        ts: r.ts,
        value: exact(r.value),
        recordedAt: r.recorded_at ?? null,
        position: item.position,
      });
      continue;
    }
    const meter = meterFor(item, ctx, registered, plan);
    if (meter === undefined) continue;
    const ts = Date.parse(r.ts);
    const meterMs = intervalMs(canon(meter.interval));
    // A reading without an interval (the common shape, the old device schema) has its meter's.
    if (kind === 'interval' && r.interval !== undefined && intervalMs(r.interval) !== meterMs) {
      plan.rejects.push({
        item,
        reason: 'meters.interval_mismatch',
        message: `reading interval ${r.interval} differs from meter ${r.meter_id}'s interval ${meter.interval}`,
      });
      continue;
    }
    if (kind === 'interval' && ts % meterMs !== 0) {
      plan.rejects.push({
        item,
        reason: 'meters.misaligned',
        message: `interval start ${r.ts} is not on meter ${r.meter_id}'s ${meter.interval} grid`,
      });
      continue;
    }
    if (!lateAllowed(item, meter, ctx, plan)) continue;
    const group = meter.group === UNASSIGNED ? null : meter.group;
    if (kind === 'interval')
      plan.intervals.push({
        meterId: r.meter_id,
        quantity: r.quantity === 'energy_export' ? 'energy_export' : 'energy_import',
        ts: r.ts,
        intervalS: meterMs / 1000,
        value: exact(r.value),
        groupId: group,
        recordedAt: r.recorded_at ?? null,
        position: item.position,
      });
    else
      plan.registerReads.push({
        meterId: r.meter_id,
        quantity: r.quantity === 'register_export' ? 'register_export' : 'register_import',
        ts: r.ts,
        value: exact(r.value),
        recordedAt: r.recorded_at ?? null,
        position: item.position,
        intervalS: meterMs / 1000,
        groupId: group,
        ...(meter.register_capacity_kwh === null ? {} : { capacity: exact(meter.register_capacity_kwh) }),
      });
  }
  plan.register.push(...registered.values());
  return plan;
}

/** The meter in force at the reading's time, or the unknown-meter policy's answer (a reject or a new registration). */
function meterFor(
  item: PlanItem,
  ctx: PlanContext,
  registered: Map<string, Meter>,
  plan: ReadingPlan,
): Meter | undefined {
  const r = item.reading;
  const history = ctx.meters.get(r.meter_id);
  const meter = meterAt(history, Date.parse(r.ts)) ?? registered.get(r.meter_id);
  if (meter !== undefined) return meter;
  if (ctx.unknownMeter === 'register' && (history === undefined || history.length === 0)) {
    const interval =
      r.interval === undefined ? 'PT15M' : (REGISTRY_INTERVAL_BY_MS.get(intervalMs(r.interval)) ?? undefined);
    if (interval !== undefined) {
      const m: Meter = {
        meter_id: r.meter_id,
        zone: UNASSIGNED,
        group: UNASSIGNED,
        time_zone: 'UTC',
        register_type: r.quantity.endsWith('export') ? 'export' : 'import',
        interval,
        annual_consumption_kwh: '0',
        profile: 'H0',
        lat: null,
        lon: null,
        register_capacity_kwh: null,
        simulated: false,
        valid_from: null,
        valid_to: null,
      };
      registered.set(r.meter_id, m);
      return m;
    }
  }
  plan.rejects.push({
    item,
    reason: 'meters.unknown_meter',
    message:
      history === undefined || history.length === 0
        ? `meter ${r.meter_id} is not in the registry`
        : `meter ${r.meter_id} has no registry validity at ${r.ts}`,
  });
  return undefined;
}

/** Whether a reading is stored: on time, late within the allowed lateness, or too late under policy `restate`. */
function lateAllowed(item: PlanItem, meter: Meter, ctx: PlanContext, plan: ReadingPlan): boolean {
  const day = windowOf(Date.parse(item.reading.ts), 'P1D', meter.time_zone);
  if (classifyLateness(day.end, ctx.watermarkMs, ctx.allowedLatenessMs) !== 'too-late') return true;
  switch (ctx.latePolicy) {
    case 'restate':
      plan.tooLate.restated++;
      return true;
    case 'dead-letter':
      plan.tooLate.deadLettered++;
      plan.rejects.push({
        item,
        reason: 'meters.late',
        message: `reading of ${item.reading.ts} is later than the allowed lateness: its day ended ${new Date(day.end).toISOString()}, the watermark is ${new Date(ctx.watermarkMs ?? 0).toISOString()}`,
      });
      return false;
    case 'count-and-drop':
      plan.tooLate.dropped++;
      return false;
    default:
      return ctx.latePolicy satisfies never;
  }
}
