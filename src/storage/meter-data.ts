import type { Decimal } from '../common/index.ts';
import { formatUtcText } from '../contracts/index.ts';
import type { RegisterRead } from '../readings/index.ts';
import { registerToIntervals } from '../readings/index.ts';
import type { CopyValue, Db, DbCallOptions, DbTransaction } from './db.ts';
import type { UpsertCounts, UpsertRow, UpsertSpec } from './meter-upsert.ts';
import type { DirectCopy } from './meter-upsert.ts';
import { extent, upsertWithRevisions } from './meter-upsert.ts';
import { ensurePartitions } from './partitions.ts';

/** Where a reading sits in the log: its offset orders readings of one meter (one meter, one partition). */
export interface LogPosition {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

export type EnergyQuantity = 'energy_import' | 'energy_export';
export type RegisterQuantity = 'register_import' | 'register_export';

/** Interval energy of one meter: `[ts, ts + intervalS)`. */
export interface IntervalInput {
  readonly meterId: string;
  readonly quantity: EnergyQuantity;
  /** Interval start, canonical UTC text. */
  readonly ts: string;
  readonly intervalS: number;
  readonly value: Decimal;
  readonly quality?: 'measured' | 'estimated' | 'substituted';
  /** The registry's group of the meter at `ts`. */
  readonly groupId: string | null;
  readonly recordedAt: string | null;
  readonly position: LogPosition;
}

/** A cumulative register read; `intervalS`, `groupId` and `capacity` are the meter's (from the registry). */
export interface RegisterReadInput {
  readonly meterId: string;
  readonly quantity: RegisterQuantity;
  readonly ts: string;
  readonly value: Decimal;
  readonly recordedAt: string | null;
  readonly position: LogPosition;
  readonly intervalS: number;
  readonly groupId: string | null;
  /** The largest value the register shows; unknown: a counter going backwards is a reset. */
  readonly capacity?: Decimal;
}

/** An instant value of any device, or any reading of a SCADA point or PMU. */
export interface DeviceReadingInput {
  readonly deviceId: string;
  readonly kind: 'smart_meter' | 'scada' | 'pmu';
  readonly quantity: string;
  readonly ts: string;
  readonly value: Decimal;
  readonly recordedAt: string | null;
  readonly position: LogPosition;
}

export interface MeterDataInput {
  readonly intervals: readonly IntervalInput[];
  readonly registerReads: readonly RegisterReadInput[];
  readonly deviceReadings: readonly DeviceReadingInput[];
}

export type { UpsertCounts as MeterWriteCounts } from './meter-upsert.ts';

/** A stored interval whose value was inserted or changed (its windows must be recomputed). */
export interface ChangedInterval {
  readonly meterId: string;
  readonly quantity: EnergyQuantity;
  readonly ts: string;
  readonly groupId: string | null;
}

/** A span where a register went backwards with no capacity known: no energy is derived from it. */
export interface RegisterResetSpan {
  readonly meterId: string;
  readonly quantity: RegisterQuantity;
  readonly from: string;
  readonly to: string;
}

/** What {@link writeMeterData} did. Interval counts include the intervals derived from register reads. */
export interface MeterWriteResult {
  readonly intervals: UpsertCounts;
  readonly registers: UpsertCounts;
  readonly devices: UpsertCounts;
  /** Intervals inserted, changed or removed (register-derived ones included): mark their windows pending. */
  readonly changed: readonly ChangedInterval[];
  /** Reset spans found in the re-derived spans (again each time a span around one is re-derived). */
  readonly resets: readonly RegisterResetSpan[];
}

const POSITION: readonly (readonly [string, string])[] = [
  ['log_topic', 'text'],
  ['log_partition', 'integer'],
  ['log_offset', 'bigint'],
];
const LOG = ['log_topic', 'log_partition', 'log_offset'];

const INTERVALS: UpsertSpec = {
  table: 'meter_intervals',
  revisions: 'meter_interval_revisions',
  staging: 'gridstream_interval_staging',
  key: ['meter_id', 'quantity', 'ts'],
  columns: [
    ['meter_id', 'text'],
    ['quantity', 'text'],
    ['ts', 'timestamptz'],
    ['interval_s', 'integer'],
    ['value', 'numeric'],
    ['quality', 'text'],
    ['flags', 'text[]'],
    ['source', 'text'],
    ['group_id', 'text'],
    ['recorded_at', 'timestamptz'],
    ...POSITION,
  ],
  same: ['value', 'quality', 'flags', 'recorded_at', 'interval_s'],
  revisionColumns: ['meter_id', 'quantity', 'ts', 'value', 'quality', 'flags', 'recorded_at', ...LOG],
  revisionSame: ['value', 'quality', 'flags', 'recorded_at'],
  // Intervals derived from register reads are a function of the stored reads: a recomputation always replaces
  // what an earlier one derived (its log position may be older, when a late read split a span).
  forceWin: `s.source = 'register' AND t.source = 'register'`,
  // ...and one whose value did not change is a no-op, whichever read it now takes its recorded_at from.
  alsoSame: `s.source = 'register' AND t.source = 'register' AND s.value = t.value AND s.flags = t.flags
    AND s.quality = t.quality AND s.interval_s = t.interval_s`,
};

const REGISTERS: UpsertSpec = {
  table: 'meter_register_reads',
  revisions: 'meter_register_read_revisions',
  staging: 'gridstream_register_staging',
  key: ['meter_id', 'quantity', 'ts'],
  columns: [
    ['meter_id', 'text'],
    ['quantity', 'text'],
    ['ts', 'timestamptz'],
    ['value', 'numeric'],
    ['recorded_at', 'timestamptz'],
    ...POSITION,
  ],
  same: ['value', 'recorded_at'],
  revisionColumns: ['meter_id', 'quantity', 'ts', 'value', 'recorded_at', ...LOG],
  revisionSame: ['value', 'recorded_at'],
};

const DEVICES: UpsertSpec = {
  table: 'device_readings',
  revisions: 'device_reading_revisions',
  staging: 'gridstream_device_staging',
  key: ['device_id', 'quantity', 'ts'],
  columns: [
    ['device_id', 'text'],
    ['kind', 'text'],
    ['quantity', 'text'],
    ['ts', 'timestamptz'],
    ['value', 'numeric'],
    ['recorded_at', 'timestamptz'],
    ...POSITION,
  ],
  same: ['value', 'recorded_at', 'kind'],
  revisionColumns: ['device_id', 'quantity', 'ts', 'kind', 'value', 'recorded_at', ...LOG],
  revisionSame: ['value', 'recorded_at', 'kind'],
};

/**
 * Consecutive register reads farther apart than this are not differenced: the energy between them is not spread
 * over the (tens of thousands of) intervals in between, and no partitions are created for them.
 */
const MAX_READ_GAP = '400 days';
const MAX_READ_GAP_MS = 400 * 86_400_000;

const pos = (p: LogPosition): CopyValue[] => [p.topic, p.partition, String(p.offset)];
const keyOf = (...parts: readonly string[]): string => parts.join('\u0000');
const ms = (ts: string): number => Date.parse(ts);
const energyOf = (q: RegisterQuantity): EnergyQuantity => (q === 'register_import' ? 'energy_import' : 'energy_export');

/**
 * Creates the partitions the batch will write to (intervals, register reads, device readings, and the intervals
 * derived from register reads back to each meter's previous stored read). Call it BEFORE the writing
 * transaction: creating a partition locks the parent table until commit.
 */
export async function ensureMeterPartitions(db: Db, input: MeterDataInput, options: DbCallOptions = {}): Promise<void> {
  const range = async (table: 'meter_intervals' | 'meter_register_reads' | 'device_readings', ts: number[]) => {
    if (ts.length === 0) return;
    const [lo, hi] = extent(ts);
    await ensurePartitions(db, table, new Date(lo), new Date(hi), options);
  };
  const regTs = input.registerReads.map((r) => ms(r.ts));
  const intervalTs = input.intervals.map((r) => ms(r.ts));
  if (regTs.length > 0) {
    // Derived intervals reach back to the read before the earliest one of the batch.
    const { rows } = await db.query<{ prev: Date | null }>(
      `SELECT min(p.ts) AS prev FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(m, q, lo)
       CROSS JOIN LATERAL (SELECT max(r.ts) AS ts FROM meter_register_reads r
         WHERE r.meter_id = u.m AND r.quantity = u.q AND r.ts < u.lo AND r.ts >= u.lo - $4::interval) p`,
      [...pairMinima(input.registerReads), MAX_READ_GAP],
      options,
    );
    const prev = rows[0]?.prev;
    const [lo, hi] = extent(regTs);
    if (prev instanceof Date) intervalTs.push(prev.getTime());
    intervalTs.push(lo, hi);
  }
  await range('meter_intervals', intervalTs);
  await range('meter_register_reads', regTs);
  await range(
    'device_readings',
    input.deviceReadings.map((r) => ms(r.ts)),
  );
}

function pairMinima(reads: readonly RegisterReadInput[]): [string[], string[], string[]] {
  const lo = new Map<string, RegisterReadInput>();
  for (const r of reads) {
    const k = keyOf(r.meterId, r.quantity);
    const cur = lo.get(k);
    if (cur === undefined || ms(r.ts) < ms(cur.ts)) lo.set(k, r);
  }
  const list = [...lo.values()];
  return [list.map((r) => r.meterId), list.map((r) => r.quantity), list.map((r) => r.ts)];
}

/**
 * Stores a batch of meter data idempotently inside the caller's transaction (commit it with the consumer offsets):
 * - intervals, register reads and device readings: several values for one key are resolved first; against the
 *   stored row the same value is a no-op, a winning value replaces it (the old row becomes a revision), a losing
 *   one is kept as a revision (once: a replay adds nothing). Which wins: the latest `recorded_at` when both carry
 *   one, else the later log offset (`src/readings`).
 * - for each (meter, register) with a changed read, the intervals between the read before the earliest changed
 *   read and the read after the latest one are derived again from the stored reads (`registerToIntervals`) and
 *   upserted as `energy_import`/`energy_export` with source `register` by the same rule; a derived interval no
 *   longer derivable there (a late read revealed a reset) is removed and kept as a revision. A recomputed derived
 *   interval always replaces an earlier derived one (it is a function of the stored reads), unless its value,
 *   flags and quality are unchanged (a no-op). Derived intervals take the group, interval and capacity of the
 *   meter's latest read in the batch, and the recorded_at and log position of the read that ends them. Reads more
 *   than 400 days apart are not differenced.
 * The same batch twice changes nothing the second time and reports everything unchanged. Log offsets are compared
 * as numbers whatever their partition: one meter's readings share a partition.
 */
export async function writeMeterData(
  tx: DbTransaction,
  input: MeterDataInput,
  options: DbCallOptions & { readonly direct?: DirectCopy } = {},
): Promise<MeterWriteResult> {
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const registers = await upsertWithRevisions(
    tx,
    REGISTERS,
    input.registerReads.map((r) => ({
      key: keyOf(r.meterId, r.quantity, String(ms(r.ts))),
      values: [r.meterId, r.quantity, r.ts, r.value, r.recordedAt, ...pos(r.position)],
      recordedAt: r.recordedAt,
      position: BigInt(r.position.offset),
      of: r,
    })),
    o,
  );
  const derived = await deriveIntervals(
    tx,
    input.registerReads,
    registers.changed.map((c) => c.of),
    o,
  );
  const intervalRows: UpsertRow<ChangedInterval>[] = input.intervals.map((r) => ({
    key: keyOf(r.meterId, r.quantity, String(ms(r.ts))),
    values: [
      r.meterId,
      r.quantity,
      r.ts,
      r.intervalS,
      r.value,
      r.quality ?? 'measured',
      [],
      'interval',
      r.groupId,
      r.recordedAt,
      ...pos(r.position),
    ],
    recordedAt: r.recordedAt,
    position: BigInt(r.position.offset),
    of: { meterId: r.meterId, quantity: r.quantity, ts: r.ts, groupId: r.groupId },
  }));
  const intervals = await upsertWithRevisions(tx, INTERVALS, [...intervalRows, ...derived.rows], o, options.direct);
  const removed = await removeUnderivable(tx, derived.spans, derived.rows, o);
  const devices = await upsertWithRevisions(
    tx,
    DEVICES,
    input.deviceReadings.map((r) => ({
      key: keyOf(r.deviceId, r.quantity, String(ms(r.ts))),
      values: [r.deviceId, r.kind, r.quantity, r.ts, r.value, r.recordedAt, ...pos(r.position)],
      recordedAt: r.recordedAt,
      position: BigInt(r.position.offset),
      of: r,
    })),
    o,
  );
  const changed = [
    ...intervals.changed.map((c) => c.of),
    ...removed.map((c) => ({
      meterId: c.meter_id,
      quantity: c.quantity,
      ts: formatUtcText(c.ts.getTime()),
      groupId: c.group_id,
    })),
  ];
  return {
    intervals: intervals.counts,
    registers: registers.counts,
    devices: devices.counts,
    changed,
    resets: derived.resets,
  };
}

/** A stored register read, as the derivation reads it. */
interface StoredRead {
  readonly ts: Date;
  readonly value: string;
  readonly recorded_at: Date | null;
  readonly log_topic: string;
  readonly log_partition: number;
  readonly log_offset: string;
}

/** Reads in time order, cut where two consecutive ones are more than {@link MAX_READ_GAP} apart. */
function chains(reads: readonly StoredRead[]): StoredRead[][] {
  const out: StoredRead[][] = [];
  let chain: StoredRead[] = [];
  for (const r of reads) {
    const prev = chain.at(-1);
    if (prev !== undefined && r.ts.getTime() - prev.ts.getTime() > MAX_READ_GAP_MS) {
      out.push(chain);
      chain = [];
    }
    chain.push(r);
  }
  if (chain.length > 0) out.push(chain);
  return out;
}

interface Span {
  readonly meterId: string;
  readonly quantity: EnergyQuantity;
  readonly from: string;
  readonly to: string;
}

/**
 * Derives the intervals of each (meter, register) with changed reads from the stored reads around them: from the
 * read before the earliest changed one to the read after the latest one.
 */
async function deriveIntervals(
  tx: DbTransaction,
  inputs: readonly RegisterReadInput[],
  changed: readonly RegisterReadInput[],
  o: DbCallOptions,
): Promise<{ rows: UpsertRow<ChangedInterval>[]; spans: Span[]; resets: RegisterResetSpan[] }> {
  if (changed.length === 0) return { rows: [], spans: [], resets: [] };
  const pairs = new Map<string, { meterId: string; quantity: RegisterQuantity; lo: number; hi: number }>();
  for (const c of changed) {
    const k = keyOf(c.meterId, c.quantity);
    const t = ms(c.ts);
    const p = pairs.get(k);
    if (p === undefined) pairs.set(k, { meterId: c.meterId, quantity: c.quantity, lo: t, hi: t });
    else [p.lo, p.hi] = [Math.min(p.lo, t), Math.max(p.hi, t)];
  }
  // The meter's settings: those of its latest read in the batch.
  const settings = new Map<string, RegisterReadInput>();
  for (const r of inputs) {
    const k = keyOf(r.meterId, r.quantity);
    const s = settings.get(k);
    if (s === undefined || ms(r.ts) >= ms(s.ts)) settings.set(k, r);
  }
  const list = [...pairs.values()];
  const { rows } = await tx.query<StoredRead & { i: number }>(
    `SELECT u.i::integer AS i, r.ts, r.value::text AS value, r.recorded_at, r.log_topic, r.log_partition,
       r.log_offset::text AS log_offset
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS u(m, q, lo, hi, i)
     CROSS JOIN LATERAL (
       SELECT coalesce((SELECT max(p.ts) FROM meter_register_reads p
                        WHERE p.meter_id = u.m AND p.quantity = u.q AND p.ts < u.lo
                          AND p.ts >= u.lo - $5::interval), u.lo) AS lo,
              coalesce((SELECT min(n.ts) FROM meter_register_reads n
                        WHERE n.meter_id = u.m AND n.quantity = u.q AND n.ts > u.hi
                          AND n.ts <= u.hi + $5::interval), u.hi) AS hi
     ) b
     JOIN meter_register_reads r ON r.meter_id = u.m AND r.quantity = u.q AND r.ts BETWEEN b.lo AND b.hi
     ORDER BY u.i, r.ts`,
    [
      list.map((p) => p.meterId),
      list.map((p) => p.quantity),
      list.map((p) => new Date(p.lo).toISOString()),
      list.map((p) => new Date(p.hi).toISOString()),
      MAX_READ_GAP,
    ],
    o,
  );
  const byPair = new Map<number, StoredRead[]>();
  for (const r of rows) {
    const l = byPair.get(r.i);
    if (l === undefined) byPair.set(r.i, [r]);
    else l.push(r);
  }
  const out: UpsertRow<ChangedInterval>[] = [];
  const spans: Span[] = [];
  const resets: RegisterResetSpan[] = [];
  list.forEach((p, index) => {
    const s = settings.get(keyOf(p.meterId, p.quantity));
    if (s === undefined) return;
    for (const reads of chains(byPair.get(index + 1) ?? [])) {
      const first = reads[0];
      const last = reads.at(-1);
      if (first === undefined || last === undefined) continue;
      const quantity = energyOf(p.quantity);
      spans.push({
        meterId: p.meterId,
        quantity,
        from: formatUtcText(first.ts.getTime()),
        to: formatUtcText(last.ts.getTime()),
      });
      if (reads.length < 2) continue;
      const result = registerToIntervals(
        reads.map((r): RegisterRead => ({ ts: formatUtcText(r.ts.getTime()), value: r.value as Decimal })),
        { intervalMs: s.intervalS * 1000, ...(s.capacity === undefined ? {} : { capacity: s.capacity }) },
      );
      for (const reset of result.resets)
        resets.push({ meterId: p.meterId, quantity: p.quantity, from: reset.from, to: reset.to });
      let k = 0;
      for (const iv of result.intervals) {
        // The interval's value comes from the reads around it: it carries the later one's recorded_at and position.
        const endMs = ms(iv.end);
        while (k < reads.length - 1 && (reads[k] as StoredRead).ts.getTime() < endMs) k++;
        const later = reads[k] as StoredRead;
        const recordedAt = later.recorded_at === null ? null : formatUtcText(later.recorded_at.getTime());
        out.push({
          key: keyOf(p.meterId, quantity, String(ms(iv.start))),
          values: [
            p.meterId,
            quantity,
            iv.start,
            s.intervalS,
            iv.value,
            'measured',
            [...iv.flags],
            'register',
            s.groupId,
            recordedAt,
            later.log_topic,
            later.log_partition,
            later.log_offset,
          ],
          recordedAt,
          position: BigInt(later.log_offset),
          of: { meterId: p.meterId, quantity, ts: iv.start, groupId: s.groupId },
        });
      }
    }
  });
  return { rows: out, spans, resets };
}

/**
 * Removes register-derived intervals inside a recomputed span that the stored reads no longer yield (a late read
 * revealed a reset there); each goes to the revisions table and counts as changed.
 */
async function removeUnderivable(
  tx: DbTransaction,
  spans: readonly Span[],
  derived: readonly UpsertRow[],
  o: DbCallOptions,
): Promise<{ meter_id: string; quantity: EnergyQuantity; ts: Date; group_id: string | null }[]> {
  if (spans.length === 0) return [];
  const { rows } = await tx.query<{ meter_id: string; quantity: EnergyQuantity; ts: Date; group_id: string | null }>(
    `WITH gone AS (
       DELETE FROM meter_intervals t
       USING unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) AS u(m, q, lo, hi)
       WHERE t.meter_id = u.m AND t.quantity = u.q AND t.ts >= u.lo AND t.ts < u.hi AND t.source = 'register'
         AND (t.meter_id, t.quantity, t.ts) NOT IN (SELECT * FROM unnest($5::text[], $6::text[], $7::timestamptz[]))
       RETURNING t.*
     ), kept AS (
       INSERT INTO meter_interval_revisions (meter_id, quantity, ts, value, quality, flags, recorded_at, received_at,
         log_topic, log_partition, log_offset)
       SELECT meter_id, quantity, ts, value, quality, flags, recorded_at, received_at, log_topic, log_partition,
         log_offset FROM gone
     )
     SELECT meter_id, quantity, ts, group_id FROM gone`,
    [
      spans.map((s) => s.meterId),
      spans.map((s) => s.quantity),
      spans.map((s) => s.from),
      spans.map((s) => s.to),
      derived.map((r) => r.values[0]),
      derived.map((r) => r.values[1]),
      derived.map((r) => r.values[2]),
    ],
    o,
  );
  return rows;
}
