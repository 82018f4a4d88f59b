import type { ErrorCode } from '../common/index.ts';
import type { GridSeriesChunk, ObservationPoint } from '../contracts/index.ts';
import { FLAGS, METRICS, SOURCES, UNITS } from '../contracts/index.ts';

/** Why an observation was not stored. */
export const OBSERVATION_REJECT_REASONS = [
  /** The chunk's key fields (zone, metric, production type, counterpart, qualifier, source, document) are invalid. */
  'store.invalid_key',
  /** The unit is not one gridstream knows (`UNITS`). */
  'store.unknown_unit',
  /** The slot is not a UTC quarter hour that exists on the calendar. */
  'store.invalid_slot',
  /** The value is not a finite number, or a flag is unknown. */
  'store.invalid_value',
  /** The database refused the row: a CHECK constraint. */
  'store.constraint_violation',
  /** The database refused the row: a number out of range. */
  'store.value_out_of_range',
  /** The database refused the row for another data reason (SQLSTATE class 22 or 23). */
  'store.rejected_by_database',
] as const satisfies readonly ErrorCode[];
export type ObservationRejectReason = (typeof OBSERVATION_REJECT_REASONS)[number];

/** An observation that was not stored, with what the caller needs to dead-letter it. */
export interface ObservationReject {
  /** Index of the chunk in the written batch. */
  readonly chunk: number;
  /** Index of the point in its chunk; `null` when the whole chunk was refused. */
  readonly point: number | null;
  readonly reason: ObservationRejectReason;
  readonly message: string;
  /** SQLSTATE when the database refused it. */
  readonly sqlState?: string;
  /** The refused value as a chunk holding just that point (or the whole chunk): the dead letter's payload. */
  readonly payload: GridSeriesChunk;
}

/**
 * One database row: a point of a chunk. It refers to its chunk (key fields, unit, source, document) and point
 * (slot, value, flags) rather than copying them: a batch has tens of thousands of rows, and the fewer fields each
 * row object has, the less the sink spends allocating them.
 */
export interface ObservationRow {
  readonly chunk: GridSeriesChunk;
  readonly point: ObservationPoint;
  /** The slot start as epoch ms. */
  readonly slotMs: number;
  /** The series (every key field but the slot), `\u0001`-joined: groups rows of one series. */
  readonly seriesKey: string;
  readonly chunkIndex: number;
  readonly pointIndex: number;
}

export interface PreparedObservations {
  /** Valid rows, one per key (duplicates inside the batch resolved). */
  readonly rows: ObservationRow[];
  readonly rejected: ObservationReject[];
  /** Rows dropped because a row with the same key and a higher (or equal, later) revision was in the batch. */
  readonly superseded: number;
}

const ZONE = /^[A-Z][A-Z0-9_]{0,39}$/;
const COUNTERPART = /^([A-Z][A-Z0-9_]{0,39})?$/;
const PRODUCTION_TYPE = /^([AB]\d{2}|[a-z][a-z_]{0,39})?$/; // psrType or an Electricity Maps mode slug
const SLOT = /^\d{4}-\d{2}-\d{2}T\d{2}:(00|15|30|45):00Z$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z$/;
const METRIC_SET: ReadonlySet<string> = new Set(METRICS);
const UNIT_SET: ReadonlySet<string> = new Set(UNITS);
const SOURCE_SET: ReadonlySet<string> = new Set(SOURCES);
const FLAG_SET: ReadonlySet<string> = new Set(FLAGS);
const MAX_INT4 = 2_147_483_647;

const cleanText = (s: unknown, max: number): s is string =>
  typeof s === 'string' && s.length <= max && !s.includes('\0');

/** The first problem with a chunk's key fields, or `undefined`. */
function keyProblem(c: GridSeriesChunk): [ObservationRejectReason, string] | undefined {
  if (typeof c.zone !== 'string' || !ZONE.test(c.zone))
    return ['store.invalid_key', `invalid zone ${JSON.stringify(c.zone)}`];
  if (!METRIC_SET.has(c.metric)) return ['store.invalid_key', `unknown metric ${JSON.stringify(c.metric)}`];
  if (typeof c.productionType !== 'string' || !PRODUCTION_TYPE.test(c.productionType))
    return ['store.invalid_key', `invalid production type ${JSON.stringify(c.productionType)}`];
  if (typeof c.counterpartZone !== 'string' || !COUNTERPART.test(c.counterpartZone))
    return ['store.invalid_key', `invalid counterpart zone ${JSON.stringify(c.counterpartZone)}`];
  if (!cleanText(c.qualifier, 200)) return ['store.invalid_key', 'invalid qualifier'];
  if (!UNIT_SET.has(c.unit)) return ['store.unknown_unit', `unknown unit ${JSON.stringify(c.unit)}`];
  if (!SOURCE_SET.has(c.source)) return ['store.invalid_key', `unknown source ${JSON.stringify(c.source)}`];
  if (!cleanText(c.documentId, 200)) return ['store.invalid_key', 'invalid document id'];
  if (!Number.isInteger(c.revision) || c.revision < 0 || c.revision > MAX_INT4)
    return ['store.invalid_key', `invalid revision ${String(c.revision)}`];
  if (
    c.issuedAt !== undefined &&
    (typeof c.issuedAt !== 'string' || !INSTANT.test(c.issuedAt) || Number.isNaN(Date.parse(c.issuedAt)))
  )
    return ['store.invalid_key', `invalid issue time ${JSON.stringify(c.issuedAt)}`];
  if (!Array.isArray(c.points)) return ['store.invalid_key', 'points is not an array'];
  return undefined;
}

const digits = (t: string, at: number, n: number): number => {
  let v = 0;
  for (let i = at; i < at + n; i++) v = v * 10 + t.charCodeAt(i) - 48;
  return v;
};
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * Epoch ms of a valid slot, or `undefined` (wrong format, or a date like Feb 30 that does not exist and that
 * PostgreSQL would refuse). Parsed by hand: `Date.parse` is 4x slower and silently rolls Feb 30 over to Mar 1.
 */
function slotMs(t: unknown): number | undefined {
  if (typeof t !== 'string' || !SLOT.test(t)) return undefined;
  const y = digits(t, 0, 4);
  const mo = digits(t, 5, 2);
  const d = digits(t, 8, 2);
  const h = digits(t, 11, 2);
  if (mo < 1 || mo > 12 || d < 1 || h > 23) return undefined;
  const leap = mo === 2 && y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  if (d > (DAYS_IN_MONTH[mo - 1] ?? 31) + (leap ? 1 : 0)) return undefined;
  return Date.UTC(y, mo - 1, d, h, digits(t, 14, 2));
}

function pointProblem(p: ObservationPoint): [ObservationRejectReason, string] | undefined {
  if (typeof p !== 'object' || (p as unknown) === null) return ['store.invalid_value', 'point is not an object'];
  if (typeof p.v !== 'number' || !Number.isFinite(p.v))
    return ['store.invalid_value', `value ${String(p.v)} is not finite`];
  if (p.f !== undefined && (!Array.isArray(p.f) || !p.f.every((f) => FLAG_SET.has(f))))
    return ['store.invalid_value', `unknown flag in ${JSON.stringify(p.f)}`];
  return undefined;
}

/**
 * Flattens chunks into one row per point, validates every field the database checks (so that a bad value is
 * reported here, precisely, instead of failing a statement), and resolves duplicate keys inside the batch
 * deterministically: the later issued wins (when both issue times are known), else the higher document revision,
 * and among equal ones the later row.
 */
export function prepareObservationRows(chunks: readonly GridSeriesChunk[]): PreparedObservations {
  const rows: ObservationRow[] = [];
  const rejected: ObservationReject[] = [];
  const bySeries = new Map<string, SeriesSlots>();
  let superseded = 0;
  for (let chunkIndex = 0; chunkIndex < chunks.length; chunkIndex++) {
    const c = chunks[chunkIndex] as GridSeriesChunk;
    const problem = keyProblem(c);
    if (problem !== undefined) {
      rejected.push({ chunk: chunkIndex, point: null, reason: problem[0], message: problem[1], payload: c });
      continue;
    }
    const seriesKey = [c.zone, c.metric, c.productionType, c.counterpartZone, c.qualifier].join('\u0001');
    let series = bySeries.get(seriesKey);
    if (series === undefined) bySeries.set(seriesKey, (series = { rows: [], last: Number.NEGATIVE_INFINITY }));
    for (let pointIndex = 0; pointIndex < c.points.length; pointIndex++) {
      const p = c.points[pointIndex] as ObservationPoint;
      const ms = slotMs(p.t);
      const bad =
        ms === undefined ? (['store.invalid_slot', `invalid slot ${JSON.stringify(p.t)}`] as const) : pointProblem(p);
      if (bad !== undefined || ms === undefined) {
        const [reason, message] = bad ?? ['store.invalid_slot', 'invalid slot'];
        rejected.push({ chunk: chunkIndex, point: pointIndex, reason, message, payload: { ...c, points: [p] } });
        continue;
      }
      const row: ObservationRow = { chunk: c, point: p, slotMs: ms, seriesKey, chunkIndex, pointIndex };
      // Points usually come in slot order, each series once: a slot after every slot seen cannot be a duplicate,
      // and needs no lookup. The slot → row map is built only for a series that goes back in time.
      if (series.bySlot === undefined && ms > series.last) {
        series.last = ms;
        series.rows.push(rows.length);
        rows.push(row);
        continue;
      }
      series.bySlot ??= new Map(series.rows.map((i) => [(rows[i] as ObservationRow).slotMs, i]));
      const at = series.bySlot.get(ms);
      if (at === undefined) {
        series.bySlot.set(ms, rows.length);
        series.rows.push(rows.length);
        rows.push(row);
        continue;
      }
      superseded++;
      const previous = rows[at];
      if (previous !== undefined && !supersedes(previous.chunk, c)) rows[at] = row;
    }
  }
  return { rows, rejected, superseded };
}

/** Whether `a` wins over `b`, which came later in the batch, for the same key. */
function supersedes(a: GridSeriesChunk, b: GridSeriesChunk): boolean {
  const ia = issuedMicros(a);
  const ib = issuedMicros(b);
  if (ia !== null && ib !== null && ia !== ib) return ia > ib;
  return a.revision > b.revision;
}

/** A chunk's issue time in epoch microseconds (what the database compares), `null` when unknown. */
export function issuedMicros(c: GridSeriesChunk): number | null {
  if (c.issuedAt === undefined) return null;
  const seconds = Date.parse(`${c.issuedAt.slice(0, 19)}Z`);
  const fraction = /\.(\d{1,6})Z$/.exec(c.issuedAt)?.[1] ?? '';
  return (seconds / 1000) * 1_000_000 + Number(fraction.padEnd(6, '0'));
}

/** Rows of one series seen so far in a batch, for duplicate detection. */
interface SeriesSlots {
  /** Indexes (into the batch's rows) of the series' rows. */
  readonly rows: number[];
  /** Latest slot seen, while slots only increased. */
  last: number;
  /** Slot → row index, once a slot came out of order. */
  bySlot?: Map<number, number>;
}

/** The refused row as a one-point chunk, for its dead letter. */
export function rowPayload(chunks: readonly GridSeriesChunk[], row: ObservationRow): GridSeriesChunk {
  const chunk = chunks[row.chunkIndex];
  const point = chunk?.points[row.pointIndex];
  if (chunk === undefined || point === undefined) throw new Error('row does not belong to this batch');
  return { ...chunk, points: [point] };
}
