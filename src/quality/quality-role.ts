import type { Component, Decimal } from '../common/index.ts';
import { addDecimals, periodic, phaseTimer } from '../common/index.ts';
import { intervalMs as intervalLength } from '../contracts/index.ts';
import type { Meter } from '../meters/index.ts';
import { METERS_JOB, meterAt, metersByIds, UNASSIGNED } from '../meters/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { BdewProfiles, BdewProfile } from '../simulator/index.ts';
import { BDEW_DAY_TYPES, BDEW_PERIODS, profileQuarter } from '../simulator/index.ts';
import type { Db, MeterWorkItem } from '../storage/index.ts';
import {
  enqueueMeterWork,
  finishMeterWork,
  loadJobWatermark,
  queueSilentDays,
  takeMeterWork,
} from '../storage/index.ts';
import { addLocalDays } from '../time/index.ts';
import type { DayInputs, StoredValidated, ValidatedRow } from './quality-store.ts';
import { loadDayInputs, loadHistory, writeValidated } from './quality-store.ts';
import type { VeeRules, VeeSettings } from './rules.ts';
import type { RegisterSpan, VeeDayInput, VeeSlotResult } from './vee.ts';
import { estimateDay, historyNeeded, profileEnergy, validateDay } from './vee.ts';

export interface QualityRoleDeps {
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly rules: VeeRules;
  readonly profiles: BdewProfiles;
  readonly clockToleranceMs: number;
  /** Meter days per transaction. @default 200 */
  readonly batchDays?: number;
  /** Pause when nothing is queued. @default 1000 */
  readonly idleMs?: number;
  /** How often days a meter sent nothing for are looked for. @default 5 min */
  readonly silentSweepMs?: number;
  /** How many days back the sweep looks. @default 3 */
  readonly silentSweepDays?: number;
}

const FIFTEEN_MIN = 900_000;

/**
 * The `quality` role: validates, estimates and applies edits to every meter day the meters role compacted (or an
 * edit touched), writes the validated series (meter_validated, revisions kept) and queues the day for settlement —
 * all in the transaction that takes the day off the queue, so a crash repeats a day's recomputation, never loses
 * or doubles it. Any number of workers: days are taken with SKIP LOCKED.
 */
export function qualityRole(deps: QualityRoleDeps): Component[] {
  const { db, logger, metrics, rules, profiles } = deps;
  const batch = deps.batchDays ?? 200;
  const peaks = new Map<string, number>();
  const peakWatts = (profile: BdewProfile): number => {
    let peak = peaks.get(profile);
    if (peak === undefined) {
      peak = 0;
      for (const period of BDEW_PERIODS)
        for (const day of BDEW_DAY_TYPES) for (const w of profiles.day(profile, period, day)) peak = Math.max(peak, w);
      peaks.set(profile, peak);
    }
    return peak;
  };

  const worker = periodic({
    name: 'quality',
    logger,
    intervalMs: deps.idleMs ?? 1000,
    run: async (signal) => {
      const o = { signal };
      // Where a batch's time goes (debug log).
      const { lap, phases } = phaseTimer();
      const done = await db.transaction(async (tx) => {
        const items = await takeMeterWork(tx, 'quality', batch, o);
        if (items.length === 0) return 0;
        const meters = await metersByIds(tx, [...new Set(items.map((i) => i.meterId))], o);
        lap('take');
        const chosen = items.map((item) => {
          const meter = meterAt(meters.get(item.meterId), Date.parse(item.dayStart));
          return meter === undefined ? undefined : { meter, settings: rules.for(meter.profile, meter.group) };
        });
        // A day whose meter has no registry row at its start (the row was removed since) cannot be validated:
        // said in the log, and left as it is (its intervals stay queryable, unvalidated).
        const orphans = items.filter((_, i) => chosen[i] === undefined);
        if (orphans.length > 0)
          logger.warn(
            {
              days: orphans.slice(0, 10).map((d) => `${d.meterId} ${d.quantity} ${d.localDay}`),
              count: orphans.length,
            },
            'meter days without a registry row at their start: not validated',
          );
        // The values around each day that its rules look at: the longest run any rule counts, or the neighbours.
        let contextMs = 0;
        for (const c of chosen) {
          if (c === undefined) continue;
          const span = Math.max(c.settings.frozen.min_run, c.settings.zero_run.min_run, c.settings.spike.neighbours);
          contextMs = Math.max(contextMs, (span + 1) * intervalLength(c.meter.interval));
        }
        const inputs = await loadDayInputs(tx, items, contextMs, o);
        lap('inputs');
        const days = items.map((item, index) => {
          const c = chosen[index];
          if (c === undefined) return undefined;
          const { meter, settings } = c;
          const input = dayInput(item, meter, settings, index, inputs);
          const validation = validateDay(input);
          // The same weekday and local time in past weeks, for the slots only history can estimate (most days: none).
          const weeksBack = new Map<number, number[]>();
          for (const ts of historyNeeded(input, validation))
            weeksBack.set(
              ts,
              Array.from({ length: settings.estimation.history_weeks }, (_, w) =>
                addLocalDays(ts, meter.time_zone, -7 * (w + 1)),
              ),
            );
          return { item, meter, input, validation, index, weeksBack };
        });
        const wanted: { index: number; meterId: string; quantity: string; ts: number }[] = [];
        for (const d of days) {
          if (d === undefined) continue;
          for (const past of d.weeksBack.values())
            for (const ts of past)
              wanted.push({ index: d.index, meterId: d.item.meterId, quantity: d.item.quantity, ts });
        }
        lap('validate');
        const history = await loadHistory(tx, wanted, o);
        lap('history');
        const rows: ValidatedRow[] = [];
        const changedDays: MeterWorkItem[] = [];
        for (const d of days) {
          if (d === undefined) continue;
          const found = history.get(d.index);
          const byTs = new Map<number, Decimal[]>();
          for (const [ts, past] of d.weeksBack) {
            const values = past.map((t) => found?.get(t)).filter((v) => v !== undefined);
            if (values.length > 0) byTs.set(ts, values);
          }
          const results = estimateDay(d.input, d.validation, byTs);
          const previous = inputs.previous.get(d.index);
          const changed = results.filter((r) => !same(previous?.get(r.ts), r));
          if (changed.length === 0) continue;
          changedDays.push(d.item);
          const groupId = d.meter.group === UNASSIGNED ? null : d.meter.group;
          for (const r of changed) {
            rows.push({
              meterId: d.item.meterId,
              quantity: d.item.quantity,
              ts: r.ts,
              intervalS: d.input.intervalMs / 1000,
              localDay: d.item.localDay,
              value: r.value,
              quality: r.quality,
              method: r.method,
              raw: r.raw,
              failures: r.failures,
              groupId,
            });
            const before = new Set(previous?.get(r.ts)?.rules ?? []);
            for (const f of r.failures) if (!before.has(f.rule)) metrics.veeRuleFailures(f.rule, 1);
            metrics.veeValues(r.quality, r.method, 1);
          }
        }
        lap('estimate');
        await writeValidated(tx, rows, o);
        lap('write');
        await enqueueMeterWork(tx, 'settle', changedDays, o);
        await finishMeterWork(tx, 'quality', items, o);
        lap('queue');
        return items.length;
      }, o);
      lap('commit');
      if (done > 0) logger.debug({ days: done, ms: phases }, 'quality batch');
      return done >= batch ? 0 : undefined;
    },
  });

  // Days a meter sent nothing for never get a day row: queue them once the watermark has passed them.
  const sweep = periodic({
    name: 'quality-silent-days',
    logger,
    intervalMs: deps.silentSweepMs ?? 300_000,
    run: async (signal) => {
      const watermark = await loadJobWatermark(db, METERS_JOB, { signal });
      if (watermark === null) return undefined;
      const queued = await queueSilentDays(db, watermark, deps.silentSweepDays ?? 3, { signal });
      if (queued > 0) {
        logger.info({ days: queued }, 'meter days without any reading queued for estimation');
        worker.wake();
      }
      return undefined;
    },
  });

  function dayInput(
    item: MeterWorkItem,
    meter: Meter,
    settings: VeeSettings,
    index: number,
    inputs: DayInputs,
  ): VeeDayInput {
    const intervalMs = intervalLength(meter.interval);
    const start = Date.parse(item.dayStart);
    const end = Date.parse(item.dayEnd);
    const slots: number[] = [];
    for (let t = start; t < end; t += intervalMs) slots.push(t);
    const tz = meter.time_zone;
    const profile = meter.profile;
    const consumption = item.quantity === 'energy_import';
    const profileKwh = (ts: number): Decimal | undefined => {
      if (!consumption) return undefined;
      if (intervalMs <= FIFTEEN_MIN) {
        const q = profileQuarter(ts, tz);
        return profileEnergy(profiles.watts(profile, q.period, q.dayType, q.quarter), intervalMs / 1000, annual(meter));
      }
      let sum = '0' as Decimal;
      for (let t = ts; t < ts + intervalMs; t += FIFTEEN_MIN) {
        const q = profileQuarter(t, tz);
        sum = addDecimals(
          sum,
          profileEnergy(profiles.watts(profile, q.period, q.dayType, q.quarter), 900, annual(meter)),
        );
      }
      return sum;
    };
    const reads = inputs.registers.get(index) ?? [];
    const spans: RegisterSpan[] = [];
    const firstRead = reads[0];
    const lastRead = reads.at(-1);
    if (firstRead !== undefined && lastRead !== undefined && lastRead.ts > firstRead.ts) {
      const delta = Number(lastRead.value) - Number(firstRead.value);
      // A counter that went back (rollover, reset) has no plain delta over the day: no sum check.
      if (delta >= 0)
        spans.push({
          fromMs: firstRead.ts,
          toMs: lastRead.ts,
          delta: addDecimals(lastRead.value, `-${firstRead.value}` as Decimal),
        });
    }
    const previousRaw = new Map<number, Decimal | null>();
    const changedBefore = new Set<number>();
    for (const [ts, v] of inputs.previous.get(index) ?? []) {
      previousRaw.set(ts, v.raw);
      if (v.rules.includes('changed_after_validation')) changedBefore.add(ts);
    }
    return {
      registerType: meter.register_type,
      quantity: item.quantity,
      intervalMs,
      slots,
      measured: inputs.measured.get(index) ?? new Map(),
      previousRaw,
      changedBefore,
      edits: inputs.edits.get(index) ?? new Map(),
      profileKwh,
      profilePeakKwh: consumption ? profileEnergy(peakWatts(profile), intervalMs / 1000, annual(meter)) : undefined,
      registerSpans: spans,
      settings,
      clockToleranceMs: deps.clockToleranceMs,
    };
  }
  return [worker, sweep];
}

function annual(meter: Meter): Decimal {
  return meter.annual_consumption_kwh as Decimal;
}

function same(stored: StoredValidated | undefined, r: VeeSlotResult): boolean {
  if (stored === undefined) return false;
  const rules = [...new Set(r.failures.map((f) => f.rule))];
  return (
    stored.value === r.value &&
    stored.quality === r.quality &&
    stored.method === r.method &&
    stored.raw === r.raw &&
    stored.rules.length === rules.length &&
    stored.rules.every((x, i) => x === rules[i])
  );
}
