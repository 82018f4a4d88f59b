import { normaliseDecimal } from '../../common/index.ts';
import type { DbCallOptions, Queryable } from '../db.ts';
import { recordMeterRead } from './meter-readings.ts';

/** Which meters {@link exportMeterIntervals} exports: the intersection of the filters given (none: every meter). */
export interface MeterExportSelection {
  /** Meter ids; absent or empty: any. */
  readonly meterIds?: readonly string[];
  /** A registry group: meters with a validity in that group overlapping the range. */
  readonly group?: string;
  /** A zone: meters with a validity in that zone overlapping the range. */
  readonly zone?: string;
}

/** Parameters of {@link exportMeterIntervals}: the meters, the range of interval starts [from, to) in ms. */
export interface MeterExportQuery extends MeterExportSelection {
  readonly from: number;
  readonly to: number;
}

/** Who exports (written to meter_read_audit before any row of a meter is handed out). */
export interface MeterExportAudit {
  /** `cli:<os user>` or `key:<id>`. */
  readonly principal: string;
  /** What is exported (the format), stored as the audit row's detail. */
  readonly detail: string;
}

/** One stored interval, as exported: times as UTC ISO text, the value as exact decimal text. */
export interface MeterExportRow {
  readonly meterId: string;
  readonly quantity: string;
  /** Interval start, UTC (`2026-10-24T22:00:00Z`). */
  readonly ts: string;
  readonly intervalS: number;
  /** Exact decimal text (never a float). */
  readonly value: string;
  readonly quality: string;
  readonly flags: readonly string[];
  /** When the device recorded the reading (microseconds, UTC); `null` when it did not say. */
  readonly recordedAt: string | null;
  readonly receivedAt: string;
}

const US = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** Whole seconds lose their `.000000` (interval starts are on the minute grid). */
const trimZeroMicros = (text: string): string => text.replace(/\.000000Z$/, 'Z');

/**
 * Meter ids matching the selection, by id, `limit` after `after`. With a group or zone: meters with a registry
 * validity of that group or zone that overlaps [from, to); with ids only: those of them the registry knows.
 */
export async function exportMeterIds(
  db: Queryable,
  q: MeterExportQuery,
  page: { readonly after: string | null; readonly limit: number },
  options: DbCallOptions = {},
): Promise<string[]> {
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const { rows } = await db.query<{ meter_id: string }>(
    `SELECT DISTINCT meter_id FROM meters
     WHERE ($1::text[] IS NULL OR meter_id = ANY($1::text[]))
       AND ($2::text IS NULL OR group_id = $2) AND ($3::text IS NULL OR zone = $3)
       AND (($2::text IS NULL AND $3::text IS NULL)
            OR ((valid_from IS NULL OR valid_from < $5::timestamptz) AND (valid_to IS NULL OR valid_to > $4::timestamptz)))
       AND ($6::text IS NULL OR meter_id > $6)
     ORDER BY meter_id LIMIT $7`,
    [
      q.meterIds === undefined || q.meterIds.length === 0 ? null : [...q.meterIds],
      q.group ?? null,
      q.zone ?? null,
      new Date(q.from).toISOString(),
      new Date(q.to).toISOString(),
      page.after,
      page.limit,
    ],
    o,
  );
  return rows.map((r) => r.meter_id);
}

interface IntervalRow {
  quantity: string;
  ts: string;
  interval_s: number;
  value: string;
  quality: string;
  flags: string[] | null;
  recorded_at: string | null;
  received_at: string;
}

/**
 * Every stored interval of the selected meters with a start in [from, to), in key order (meter, quantity, ts),
 * read page by page (keyset pagination on the primary key; meters paged by id too) so that memory stays flat
 * however much is exported. Meter data is personal: before the first row of each meter is yielded, one
 * meter_read_audit row (path `export`, the range, `audit.detail`) is written — also for a meter with no interval
 * in the range, since its data was read.
 */
export async function* exportMeterIntervals(
  db: Queryable,
  q: MeterExportQuery,
  audit: MeterExportAudit,
  options: DbCallOptions & { readonly pageSize?: number; readonly meterPageSize?: number } = {},
): AsyncGenerator<MeterExportRow> {
  const pageSize = options.pageSize ?? 10_000;
  const meterPageSize = options.meterPageSize ?? 1_000;
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const from = new Date(q.from).toISOString();
  const to = new Date(q.to).toISOString();
  let afterMeter: string | null = null;
  for (;;) {
    const meters = await exportMeterIds(db, q, { after: afterMeter, limit: meterPageSize }, options);
    for (const meterId of meters) {
      await recordMeterRead(db, {
        principal: audit.principal,
        path: 'export',
        meterId,
        from: q.from,
        to: q.to,
        detail: audit.detail,
      });
      let after: { quantity: string; ts: string } | null = null;
      for (;;) {
        const page: { rows: IntervalRow[] } = await db.query<IntervalRow>(
          `SELECT quantity, ${US('ts')} AS ts, interval_s, value::text AS value, quality, flags,
             ${US('recorded_at')} AS recorded_at, ${US('received_at')} AS received_at
           FROM meter_intervals
           WHERE meter_id = $1 AND ts >= $2::timestamptz AND ts < $3::timestamptz
             AND ($4::text IS NULL OR (quantity, ts) > ($4::text, $5::timestamptz))
           ORDER BY quantity, ts LIMIT $6`,
          [meterId, from, to, after?.quantity ?? null, after?.ts ?? null, pageSize],
          o,
        );
        for (const r of page.rows) {
          yield {
            meterId,
            quantity: r.quantity,
            ts: trimZeroMicros(r.ts),
            intervalS: r.interval_s,
            value: normaliseDecimal(r.value) ?? r.value,
            quality: r.quality,
            flags: r.flags ?? [],
            recordedAt: r.recorded_at,
            receivedAt: r.received_at,
          };
        }
        const last = page.rows.at(-1);
        if (page.rows.length < pageSize || last === undefined) break;
        after = { quantity: last.quantity, ts: last.ts };
      }
    }
    const last = meters.at(-1);
    if (meters.length < meterPageSize || last === undefined) break;
    afterMeter = last;
  }
}
