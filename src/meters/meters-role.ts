import type { Component, ErrorCode } from '../common/index.ts';
import { periodic, phaseTimer } from '../common/index.ts';
import type { MeterSettings } from '../config/index.ts';
import type { DeadLetter, RawMeterRecord } from '../contracts/index.ts';
import { canonicalOfRaw, rawMetersTopic } from '../contracts/index.ts';
import type { ConsumedRecord, Log, PartitionOffset } from '../log/index.ts';
import { buildDeadLetter, createProcessor, processorMetrics, produceDeadLetters } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Db, DbTransaction, MeterWriteCounts } from '../storage/index.ts';
import {
  DirectCopy,
  ensureMeterPartitions,
  loadJobWatermark,
  loadOffsets,
  lockJobWatermark,
  loadWatermarks,
  lockOffsets,
  markPending,
  offsetKey,
  saveJobWatermark,
  saveOffsets,
  saveWatermarks,
  writeMeterData,
} from '../storage/index.ts';
import { PendingMarks, WatermarkTracker } from '../streams/index.ts';
import type { MeterPendingWindow } from './meter-emission.ts';
import { emitDueWindows, pendingWindowsOf } from './meter-emission.ts';
import { insertMeter, meterAt } from './meter-store.ts';
import { MeterRegistryCache } from './registry-cache.ts';
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
  const registry = new MeterRegistryCache();
  const marks = new PendingMarks();
  const direct = new DirectCopy();

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
    maxBatchRecords: 20000,
    maxWaitMs: 200,
    externalOffsets: { load: ({ signal }) => loadOffsets(db, METERS_GROUP, rawMetersTopic.name, { signal }) },
    async handle(items, ctx) {
      const o = { signal: ctx.signal };
      // Where a batch's time goes (debug log): planning, the write, the watermark and the windows emitted.
      const { lap, phases } = phaseTimer();
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
      lap('decode');
      // The plan is made outside the transaction: partitions must be created before it (creating one locks its
      // parent until commit). A watermark read a moment early only makes a window's first emission count as a
      // restatement, never loses one: emission compares with the stored result.
      const stored0 = await loadJobWatermark(db, METERS_JOB, o);
      const watermarkMs = stored0 === null ? undefined : Date.parse(stored0);
      const smartIds = [...new Set(all.filter((i) => i.reading.kind === 'smart_meter').map((i) => i.reading.meter_id))];
      const meters = await registry.lookup(db, smartIds, o);
      lap('registry');
      const plan = planReadings(all, {
        meters,
        watermarkMs,
        allowedLatenessMs: settings.allowedLatenessMs,
        latePolicy: settings.latePolicy,
        unknownMeter: settings.unknownMeter,
      });
      lap('plan');
      await ensureMeterPartitions(db, plan, o);
      lap('partitions');
      for (const m of plan.register) meters.set(m.meter_id, [m]);

      const committed = await db.transaction(async (tx) => {
        const offsets = await lockOffsets(tx, METERS_GROUP, uniquePartitions(items.map((i) => i.record)), o);
        // Below the stored offset: applied by an earlier transaction (a redelivery after a crash).
        const fresh = (p: { readonly topic: string; readonly partition: number; readonly offset: number }): boolean =>
          p.offset >= (offsets.get(offsetKey(p.topic, p.partition)) ?? 0);
        const input = {
          intervals: plan.intervals.filter((i) => fresh(i.position)),
          registerReads: plan.registerReads.filter((i) => fresh(i.position)),
          deviceReadings: plan.deviceReadings.filter((i) => fresh(i.position)),
        };
        const registering = new Set(
          [...input.intervals, ...input.registerReads, ...input.deviceReadings].map((i) =>
            'meterId' in i ? i.meterId : i.deviceId,
          ),
        );
        for (const m of plan.register) if (registering.has(m.meter_id)) await insertMeter(tx, m);
        // Dead letters go out before the commit: a crash after it must not lose them (a crash before it may
        // repeat them: dead letters are at least once).
        const letters: DeadLetter[] = [
          ...invalid.filter((i) => fresh(i.record)).map((i) => letter(i.record, i.reason, i.message)),
          ...plan.rejects
            .filter((r) => fresh(r.item.position))
            .map((r) => letter((r.item as PlanItem & { record: ConsumedRecord }).record, r.reason, r.message)),
        ];
        if (letters.length > 0) await produceDeadLetters(log, letters, o);

        lap('lock');
        const result = await writeMeterData(tx, input, { ...o, direct });
        lap('write');
        countStored('interval', result.intervals);
        countStored('register', result.registers);
        countStored('device', result.devices);
        const windows = pendingWindowsOf(
          result.changed,
          (meterId, tsMs) => meterAt(meters.get(meterId), tsMs)?.time_zone ?? 'UTC',
        );
        // From here on the job's watermark is locked: it cannot move, nor a window be emitted, until this commits.
        // A window it has passed is restated; one it has not, and that this process marked before, is still
        // pending (see PendingMarks).
        const lockedWatermark = await lockJobWatermark(tx, METERS_JOB, o);
        const before = lockedWatermark === null ? undefined : Date.parse(lockedWatermark);
        const passed = (w: MeterPendingWindow): boolean => before !== undefined && w.endMs <= before;
        const toMark = windows
          .filter((w) => passed(w) || !marks.has(w.id, w.endMs, before))
          .map((w) => (passed(w) ? { ...w, restate: true } : w));
        await markPending(tx, METERS_JOB, toMark, o);
        lap('pending');
        const restated = toMark.filter((w) => w.restate).length;
        if (restated > 0) metrics.streamLate(METERS_JOB, 'restated', restated);
        if (plan.tooLate.deadLettered > 0) metrics.streamLate(METERS_JOB, 'dead-lettered', plan.tooLate.deadLettered);
        if (plan.tooLate.dropped > 0) metrics.streamLate(METERS_JOB, 'dropped', plan.tooLate.dropped);

        // Watermark: the greatest event time per partition, clamped to receipt plus the clock tolerance.
        const maxima = new Map<string, { topic: string; partition: number; max: number }>();
        let clamped = 0;
        for (const i of all) {
          if (!fresh(i.position)) continue;
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
          o,
        );
        await saveOffsets(tx, METERS_GROUP, ctx.nextOffsets, o);
        lap('offsets');
        const after = await advanceWatermark(tx, before);
        lap('state');
        const more = await emit(tx, after);
        lap('emit');
        return { more, marked: toMark.filter((w) => !w.restate), after };
      }, o);
      lap('commit');
      marks.add(
        committed.marked.map((w) => ({ id: w.id, endMs: w.endMs })),
        committed.after,
      );
      logger.debug({ records: items.length, ms: phases }, 'meters batch');
      if (committed.more) ticker.wake();
      return undefined;
    },
  });

  function countStored(what: string, counts: MeterWriteCounts): void {
    for (const outcome of ['inserted', 'updated', 'unchanged', 'kept'] as const)
      if (counts[outcome] > 0) metrics.meterValuesStored(what, outcome, counts[outcome]);
  }

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
      const more = await db.transaction(
        async (tx) => {
          const before = await lockJobWatermark(tx, METERS_JOB);
          const after = await advanceWatermark(tx, before === null ? undefined : Date.parse(before));
          return emit(tx, after);
        },
        { signal },
      );
      return more ? 0 : TICK_MS;
    },
  });
  return [ticker, sink];
}

function uniquePartitions(records: readonly ConsumedRecord[]): PartitionOffset[] {
  const seen = new Map<string, PartitionOffset>();
  for (const r of records)
    seen.set(offsetKey(r.topic, r.partition), { topic: r.topic, partition: r.partition, offset: 0 });
  return [...seen.values()];
}
