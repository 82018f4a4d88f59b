import type { UtcMs } from '../time/index.ts';
import { StreamsError, requireFinite } from './errors.ts';

/** How a {@link WatermarkTracker} reads event time. All values are milliseconds. */
export interface WatermarkOptions {
  /** Out-of-orderness allowed within a partition: its watermark is its greatest event time minus this. */
  readonly boundMs: number;
  /** Processing time without a record after which a partition no longer holds the watermark back. */
  readonly idleTimeoutMs: number;
  /** How far after its receipt a record's event time may lie before it is clamped to receipt + this. */
  readonly clockToleranceMs: number;
}

/** One partition's persisted state (a row of `stream_watermarks`). */
export interface PartitionWatermarkRow {
  readonly partitionKey: string;
  /** Greatest (clamped) event time seen on the partition. */
  readonly maxEventMs: number;
  /** Processing time of the partition's last record. */
  readonly seenAtMs: number;
}

/** What {@link WatermarkTracker.observe} did with one record. */
export interface ObserveResult {
  /** True when the event time lay beyond receipt + tolerance (a skewed device clock): count it. */
  readonly clamped: boolean;
  /** The event time the watermark used: the record's, or receipt + tolerance when clamped. */
  readonly eventMs: number;
}

interface PartitionState {
  /** Undefined for an assigned partition that has delivered nothing yet: it holds the watermark where it is. */
  maxEventMs: number | undefined;
  seenAtMs: number;
}

/**
 * Event-time watermarks of one stream job over the partitions it consumes.
 *
 * A partition's watermark is its greatest event time minus `boundMs`; it never goes back. The job's watermark is
 * the minimum over partitions that are not idle, because any of them may still deliver a record that old. A
 * partition is idle after `idleTimeoutMs` of processing time (`nowMs`) without a record, and then stops holding
 * the watermark back. When every partition is idle the watermark is the greatest partition watermark: it does
 * not advance with the wall clock, so after a complete stop of input the last windows stay open until input
 * resumes; moving with the clock instead would make the whole backlog of an ingest outage late.
 *
 * The combined value never goes back either: a newly assigned partition, or one waking from idleness behind the
 * others, holds it where it is instead of lowering it.
 */
export class WatermarkTracker {
  readonly #options: WatermarkOptions;
  readonly #partitions = new Map<string, PartitionState>();
  #last: number | undefined;

  /** Takes the three options from any object that has them, such as a job's `StreamJobSettings`. */
  constructor(options: WatermarkOptions) {
    const { boundMs, idleTimeoutMs, clockToleranceMs } = options;
    for (const [name, value] of Object.entries({ boundMs, idleTimeoutMs, clockToleranceMs })) {
      requireFinite(name, value);
      if (value < 0) throw new StreamsError('streams.invalid_argument', `${name} must not be negative`);
    }
    if (idleTimeoutMs <= 0) throw new StreamsError('streams.invalid_argument', 'idleTimeoutMs must be positive');
    this.#options = { boundMs, idleTimeoutMs, clockToleranceMs };
  }

  /**
   * Records one record's event time on a partition (assigning the partition when it is new). The event time is
   * clamped to `receivedMs + clockToleranceMs`, so a device whose clock runs ahead cannot drag the watermark
   * forward and make everybody else's data late.
   */
  observe(partitionKey: string, eventMs: number, receivedMs: number, nowMs: number): ObserveResult {
    requireFinite('eventMs', eventMs);
    requireFinite('receivedMs', receivedMs);
    requireFinite('nowMs', nowMs);
    const limit = receivedMs + this.#options.clockToleranceMs;
    const clamped = eventMs > limit;
    const used = clamped ? limit : eventMs;
    const state = this.#partitions.get(partitionKey);
    if (state === undefined) {
      this.#partitions.set(partitionKey, { maxEventMs: used, seenAtMs: nowMs });
    } else {
      state.maxEventMs = state.maxEventMs === undefined ? used : Math.max(state.maxEventMs, used);
      state.seenAtMs = Math.max(state.seenAtMs, nowMs);
    }
    return { clamped, eventMs: used };
  }

  /**
   * Takes a partition on (a rebalance gave it to this instance). Until it delivers a record or goes idle it holds
   * the job's watermark where it is, since it may still hold older data. Assigning a known partition changes
   * nothing. Restore its persisted state with {@link restore} when there is one.
   */
  assign(partitionKey: string, nowMs: number): void {
    requireFinite('nowMs', nowMs);
    if (!this.#partitions.has(partitionKey))
      this.#partitions.set(partitionKey, { maxEventMs: undefined, seenAtMs: nowMs });
  }

  /** Lets a partition go (a rebalance took it away): it no longer holds the watermark back. */
  revoke(partitionKey: string): void {
    this.#partitions.delete(partitionKey);
  }

  /** The partition keys tracked, in the order they were first seen. */
  partitions(): string[] {
    return [...this.#partitions.keys()];
  }

  /** A partition's watermark (its greatest event time minus the bound); undefined before its first record. */
  partitionWatermark(partitionKey: string): UtcMs | undefined {
    const max = this.#partitions.get(partitionKey)?.maxEventMs;
    return max === undefined ? undefined : ((max - this.#options.boundMs) as UtcMs);
  }

  /**
   * The job's watermark at processing time `nowMs`: windows ending at or before it are final. Undefined until
   * some partition has delivered a record. Never less than a value returned before.
   */
  watermark(nowMs: number): UtcMs | undefined {
    requireFinite('nowMs', nowMs);
    let activeMin = Infinity;
    let active = 0;
    let idleMax = -Infinity;
    for (const state of this.#partitions.values()) {
      const wm = state.maxEventMs === undefined ? -Infinity : state.maxEventMs - this.#options.boundMs;
      if (nowMs - state.seenAtMs >= this.#options.idleTimeoutMs) {
        idleMax = Math.max(idleMax, wm);
      } else {
        active += 1;
        activeMin = Math.min(activeMin, wm);
      }
    }
    const candidate = active > 0 ? activeMin : idleMax;
    if (Number.isFinite(candidate) && (this.#last === undefined || candidate > this.#last)) this.#last = candidate;
    return this.#last as UtcMs | undefined;
  }

  /** The last value {@link watermark} returned (or restored), without looking at the partitions again. */
  lastWatermark(): UtcMs | undefined {
    return this.#last as UtcMs | undefined;
  }

  /** How far the watermark trails processing time (the `watermark delay` gauge); undefined without a watermark. */
  lagMs(nowMs: number): number | undefined {
    const wm = this.watermark(nowMs);
    return wm === undefined ? undefined : nowMs - wm;
  }

  /** The partitions' state to persist (partitions that have not delivered a record have none). */
  snapshot(): PartitionWatermarkRow[] {
    const rows: PartitionWatermarkRow[] = [];
    for (const [partitionKey, state] of this.#partitions) {
      if (state.maxEventMs !== undefined)
        rows.push({ partitionKey, maxEventMs: state.maxEventMs, seenAtMs: state.seenAtMs });
    }
    return rows;
  }

  /**
   * Rebuilds state after a restart or a rebalance from persisted rows, merged into what is tracked (the greater
   * event time and the later sighting win, so restoring never moves anything back).
   *
   * @param options.watermarkMs the job's last combined watermark (`stream_jobs.watermark`): keeps it monotonic
   *   across the restart even where the partitions alone would give less (an idle partition has woken up).
   * @param options.nowMs when given, each restored partition counts as seen now: downtime is not idleness, and a
   *   partition with a backlog must get its idle timeout to deliver it before the others move the watermark on.
   */
  restore(rows: readonly PartitionWatermarkRow[], options: { watermarkMs?: number; nowMs?: number } = {}): void {
    for (const row of rows) {
      requireFinite('maxEventMs', row.maxEventMs);
      requireFinite('seenAtMs', row.seenAtMs);
    }
    if (options.watermarkMs !== undefined) requireFinite('watermarkMs', options.watermarkMs);
    if (options.nowMs !== undefined) requireFinite('nowMs', options.nowMs);
    for (const row of rows) {
      const seenAtMs = Math.max(row.seenAtMs, options.nowMs ?? -Infinity);
      const state = this.#partitions.get(row.partitionKey);
      if (state === undefined) {
        this.#partitions.set(row.partitionKey, { maxEventMs: row.maxEventMs, seenAtMs });
      } else {
        state.maxEventMs = state.maxEventMs === undefined ? row.maxEventMs : Math.max(state.maxEventMs, row.maxEventMs);
        state.seenAtMs = Math.max(state.seenAtMs, seenAtMs);
      }
    }
    const wm = options.watermarkMs;
    if (wm !== undefined && (this.#last === undefined || wm > this.#last)) this.#last = wm;
  }
}
