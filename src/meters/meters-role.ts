import type { Component, ErrorCode } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { MeterSettings } from '../config/index.ts';
import type { DeadLetter, RawMeterRecord } from '../contracts/index.ts';
import { canonicalOfRaw, rawMetersTopic } from '../contracts/index.ts';
import type { ConsumedRecord, Log, PartitionOffset } from '../log/index.ts';
import { buildDeadLetter, createProcessor, processorMetrics, produceDeadLetters } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Db, DbTransaction } from '../storage/index.ts';
import {
  ensureMeterPartitions,
  loadJobWatermark,
  loadOffsets,
  loadWatermarks,
  lockOffsets,
  markPending,
  offsetKey,
  saveJobWatermark,
  saveOffsets,
  saveWatermarks,
  writeMeterData,
} from '../storage/index.ts';
import { WatermarkTracker } from '../streams/index.ts';
import { emitDueWindows, pendingWindowsOf } from './meter-emission.ts';
import { insertMeter, meterAt, metersByIds } from './meter-store.ts';
import type { PlanItem } from './reading-plan.ts';
import { planReadings } from './reading-plan.ts';

/** The event-time job of the meters role (its state rows in stream_watermarks, stream_jobs, stream_pending_windows). */
export const METERS_JOB = 'meters';
/** The consumer group of the meters role; its offsets are stored with its output (exactly once). */
export const METERS_GROUP = 'gridstream-meters';

/** What the meters role is built from (the runtime's infrastructure has all of it). */
export interface MetersRoleDeps {
  readonly log: Log;
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly scrub: (text: string) => string;
  readonly settings: MeterSettings;
  /** Processing time (tests). @default Date.now */
  readonly now?: () => number;
}

/** Windows emitted per transaction at most; the rest is emitted by the next batch or tick. */
const EMIT_LIMIT = 2000;
/** How often the role looks for windows the watermark has passed while no input arrives. */
const TICK_MS = 2000;

/**
 * The `meters` role: raw.meters → stored intervals, register reads and device readings, and window results (per
 * meter local-day rows, group aggregates per 15 minutes, hour, local day and month) emitted when the event-time
 * watermark passes their end. One database transaction per batch holds everything: the stored values (which value
 * wins, revisions), the windows marked pending, the watermark state, the windows emitted, and the input offsets —
 * so a crash at any point neither loses nor double-counts, and a restart rebuilds the state from the database and
 * the log. Window results are recomputed from the stored intervals they cover, never added to.
 */
export function metersRole(deps: MetersRoleDeps): Component[] {
  const { log, db, logger, metrics, scrub, settings } = deps;
  const now = deps.now ?? Date.now;

  /**
   * Combines the stored per-partition state into the job's watermark (never below the stored one) and stores it.
   * A partition counts as idle only when it is caught up (its stored offset is the log's end) and has had no input
   * for the idle timeout: one with a backlog — after a restart, or while another worker owns it — always holds the
   * watermark back, and a partition with input but no state yet stops it from advancing at all.
   */
  async function advanceWatermark(tx: DbTransaction, before: number | undefined): Promise<number | undefined> {
    const [rows, stored, ends] = await Promise.all([
      loadWatermarks(tx, METERS_JOB),
      loadOffsets(tx, METERS_GROUP, rawMetersTopic.name),
      log.offsets(rawMetersTopic.name),
    ]);
    const t = now();
    const behind = new Set(
      ends
        .filter((e) => e.next > (stored.find((s) => s.partition === e.partition)?.offset ?? 0))
        .map((e) => e.partition),
    );
    const known = new Set(rows.filter((r) => r.topic === rawMetersTopic.name).map((r) => r.partition));
    if ([...behind].some((p) => !known.has(p))) return before;
    if (rows.length === 0) return before;
    const tracker = new WatermarkTracker({
      boundMs: settings.watermarkBoundMs,
      idleTimeoutMs: settings.idlePartitionMs,
      clockToleranceMs: settings.clockToleranceMs,
    });
    tracker.restore(
      rows.map((r) => ({
        partitionKey: `${r.topic}/${r.partition}`,
        maxEventMs: Date.parse(r.maxEventTs),
        seenAtMs: behind.has(r.partition) ? t : Date.parse(r.updatedAt),
      })),
      before === undefined ? {} : { watermarkMs: before },
    );
    const combined = tracker.watermark(t);
    const next = before === undefined || (combined !== undefined && combined > before) ? combined : before;
    if (next !== undefined && next !== before) await saveJobWatermark(tx, METERS_JOB, new Date(next).toISOString());
    if (next !== undefined) metrics.streamWatermarkLag(METERS_JOB, Math.max(0, (t - next) / 1000));
    return next;
  }

  async function emit(tx: DbTransaction, watermark: number | undefined): Promise<boolean> {
    if (watermark === undefined) return false;
    const r = await emitDueWindows(tx, METERS_JOB, watermark, EMIT_LIMIT);
    for (const [kind, counts] of Object.entries(r.byKind)) {
      metrics.streamWindows(METERS_JOB, kind, 'written', counts.written);
      metrics.streamWindows(METERS_JOB, kind, 'unchanged', counts.unchanged);
      metrics.streamWindows(METERS_JOB, kind, 'restated', counts.restated);
    }
    return r.remaining;
  }

  const sink = createProcessor<RawMeterRecord>({
    name: 'meters',
    log,
    groupId: METERS_GROUP,
    input: rawMetersTopic,
    stage: 'processing',
    logger: logger.child({ component: 'meters' }),
    metrics: processorMetrics(metrics, 'processing'),
    scrub,
    maxBatchRecords: 5000,
    maxWaitMs: 200,
    externalOffsets: { load: ({ signal }) => loadOffsets(db, METERS_GROUP, rawMetersTopic.name, { signal }) },
    async handle(items, ctx) {
      const o = { signal: ctx.signal };
      const all: (PlanItem & { record: ConsumedRecord })[] = [];
      const invalid: { record: ConsumedRecord; reason: ErrorCode; message: string }[] = [];
      for (const { value, record } of items) {
        const verdict = canonicalOfRaw(value);
        if (verdict.ok)
          all.push({
            reading: verdict.reading,
            position: { topic: record.topic, partition: record.partition, offset: record.offset },
            record,
          });
        else invalid.push({ record, reason: verdict.reason, message: verdict.message });
      }
      // Partitions are created outside the writing transaction (creating one locks its parent until commit).
      await ensureMeterPartitions(db, all.map((i) => i.reading.ts), o);
      let remaining = false;
      await db.transaction(async (tx) => {
        const partitions = uniquePartitions(items.map((i) => i.record));
        const stored = await lockOffsets(tx, METERS_GROUP, partitions, o);
        // Below the stored offset: applied by an earlier transaction (a redelivery after a crash).
        const fresh = all.filter((i) => i.position.offset >= (stored.get(offsetKey(i.record.topic, i.record.partition)) ?? 0));
        const freshInvalid = invalid.filter(
          (i) => i.record.offset >= (stored.get(offsetKey(i.record.topic, i.record.partition)) ?? 0),
        );
        const before = await loadJobWatermark(tx, METERS_JOB);
        const watermarkMs = before === null ? undefined : Date.parse(before);
        const smartIds = [...new Set(fresh.filter((i) => i.reading.kind === 'smart_meter').map((i) => i.reading.meter_id))];
        const meters = await metersByIds(tx, smartIds, o);
        const plan = planReadings(fresh, {
          meters,
          watermarkMs,
          allowedLatenessMs: settings.allowedLatenessMs,
          latePolicy: settings.latePolicy,
          unknownMeter: settings.unknownMeter,
        });
        for (const m of plan.register) await insertMeter(tx, m);
        // Dead letters go out before the commit: a crash after it must not lose them (a crash before it may
        // repeat them — dead letters are at least once).
        const letters: DeadLetter[] = [
          ...freshInvalid.map((i) => letter(i.record, i.reason, i.message)),
          ...plan.rejects.map((r) => letter((r.item as PlanItem & { record: ConsumedRecord }).record, r.reason, r.message)),
        ];
        if (letters.length > 0) await produceDeadLetters(log, letters, o);

        const result = await writeMeterData(
          tx,
          { intervals: plan.intervals, registerReads: plan.registerReads, deviceReadings: plan.deviceReadings },
          o,
        );
        const stored: Record<string, Readonly<Record<string, number>>> = {
          interval: result.intervals,
          register: result.registers,
          device: result.devices,
        };
        for (const [what, counts] of Object.entries(stored))
          for (const [outcome, n] of Object.entries(counts)) if (n > 0) metrics.meterValuesStored(what, outcome, n);
        for (const m of plan.register) meters.set(m.meter_id, [m]);
        const pending = pendingWindowsOf(
          result.changed,
          (meterId, tsMs) => meterAt(meters.get(meterId), tsMs)?.time_zone ?? 'UTC',
          watermarkMs,
        );
        await markPending(tx, METERS_JOB, pending.windows, o);
        if (pending.restated > 0) metrics.streamLate(METERS_JOB, 'restated', pending.restated);
        if (plan.tooLate.deadLettered > 0) metrics.streamLate(METERS_JOB, 'dead-lettered', plan.tooLate.deadLettered);
        if (plan.tooLate.dropped > 0) metrics.streamLate(METERS_JOB, 'dropped', plan.tooLate.dropped);

        // Watermark: the greatest event time per partition, clamped to receipt plus the clock tolerance.
        const maxima = new Map<string, { topic: string; partition: number; max: number }>();
        let clamped = 0;
        for (const i of fresh) {
          const event = Date.parse(i.reading.ts);
          const limit = i.record.timestamp + settings.clockToleranceMs;
          if (event > limit) clamped++;
          const e = Math.min(event, limit);
          const k = offsetKey(i.record.topic, i.record.partition);
          const m = maxima.get(k);
          if (m === undefined) maxima.set(k, { topic: i.record.topic, partition: i.record.partition, max: e });
          else if (e > m.max) m.max = e;
        }
        if (clamped > 0) metrics.streamClamped(METERS_JOB, clamped);
        await saveWatermarks(
          tx,
          METERS_JOB,
          [...maxima.values()].map((m) => ({
            topic: m.topic,
            partition: m.partition,
            maxEventTs: new Date(m.max).toISOString(),
          })),
        );
        const after = await advanceWatermark(tx, watermarkMs);
        remaining = await emit(tx, after);
        await saveOffsets(tx, METERS_GROUP, ctx.nextOffsets, o);
      }, o);
      if (remaining) ticker.wake();
      return undefined;
    },
  });

  function letter(record: ConsumedRecord, reason: ErrorCode, message: string): DeadLetter {
    return buildDeadLetter(
      {
        stage: 'processing',
        reason,
        message,
        source: { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key },
        payload: record.value,
      },
      { scrub },
    );
  }

  // Emits windows the watermark has passed while no batch arrives (idle partitions stop holding it back).
  const ticker = periodic({
    name: 'meters-windows',
    logger,
    intervalMs: TICK_MS,
    run: async (signal) => {
      const more = await db.transaction(async (tx) => {
        const before = await loadJobWatermark(tx, METERS_JOB);
        const after = await advanceWatermark(tx, before === null ? undefined : Date.parse(before));
        return emit(tx, after);
      }, { signal });
      return more ? 0 : TICK_MS;
    },
  });
  return [ticker, sink];
}

function uniquePartitions(records: readonly ConsumedRecord[]): PartitionOffset[] {
  const seen = new Map<string, PartitionOffset>();
  for (const r of records) seen.set(offsetKey(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: 0 });
  return [...seen.values()];
}
