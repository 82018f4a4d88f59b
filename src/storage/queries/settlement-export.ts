import { normaliseDecimal } from '../../common/index.ts';
import type { DbCallOptions, Queryable } from '../db.ts';
import type { MeterExportAudit, MeterExportQuery } from './meter-export.ts';
import { exportMeterIds } from './meter-export.ts';
import { recordMeterRead } from './meter-readings.ts';

/** Parameters of {@link exportSettlement}: the meters and range of {@link MeterExportQuery}, optionally one quantity. */
export interface SettlementExportQuery extends MeterExportQuery {
  /** Only this quantity (`energy_import`, …); absent: every quantity. */
  readonly quantity?: string;
}

/** Columns of meter_settlement that hold exact numerics: exported as decimal text, never floats. */
export const SETTLEMENT_NUMERIC_COLUMNS = [
  'energy_kwh',
  'price',
  'cost',
  'intensity_lifecycle',
  'intensity_direct',
  'emissions_lifecycle_g',
  'emissions_direct_g',
] as const;

/**
 * One settled period, as exported (keys are the meter_settlement columns): times as UTC ISO text, `local_day` as
 * `YYYY-MM-DD`, numerics as exact decimal text; `null` where the row holds none (a pending period has no cost).
 */
export interface SettlementExportRow {
  readonly meter_id: string;
  readonly quantity: string;
  /** 15-minute period start, UTC (`2026-03-01T06:00:00Z`). */
  readonly period: string;
  readonly local_day: string;
  readonly time_zone: string;
  readonly group_id: string | null;
  readonly bidding_zone: string | null;
  readonly energy_kwh: string | null;
  readonly quality: string;
  readonly price: string | null;
  readonly price_unit: string | null;
  readonly currency: string | null;
  readonly cost: string | null;
  readonly intensity_lifecycle: string | null;
  readonly intensity_direct: string | null;
  readonly emissions_lifecycle_g: string | null;
  readonly emissions_direct_g: string | null;
  readonly status: string;
  readonly revision: number;
  /** When the row was computed (microseconds, UTC). */
  readonly computed_at: string;
}

const US = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/**
 * The meter ids of the selection, by id and page by page; before each is yielded, one meter_read_audit row (path
 * `export`, the range, `audit.detail`) is written — meter data is personal, and its data is read next.
 */
export async function* auditedExportMeters(
  db: Queryable,
  q: MeterExportQuery,
  audit: MeterExportAudit,
  options: DbCallOptions & { readonly meterPageSize?: number } = {},
): AsyncGenerator<string> {
  const meterPageSize = options.meterPageSize ?? 1_000;
  let after: string | null = null;
  for (;;) {
    const meters = await exportMeterIds(db, q, { after, limit: meterPageSize }, options);
    for (const meterId of meters) {
      const { principal, detail } = audit;
      await recordMeterRead(db, { principal, path: 'export', meterId, from: q.from, to: q.to, detail });
      yield meterId;
    }
    const last = meters.at(-1);
    if (meters.length < meterPageSize || last === undefined) return;
    after = last;
  }
}

type StoredRow = Omit<SettlementExportRow, 'meter_id'>;

/**
 * Every meter_settlement row of the selected meters with a period in [from, to) (and of `quantity` when given),
 * in key order (meter, quantity, period), read page by page (keyset pagination on the primary key) so that memory
 * stays flat. Each meter is audited (see {@link auditedExportMeters}) before any of its rows is yielded.
 */
export async function* exportSettlement(
  db: Queryable,
  q: SettlementExportQuery,
  audit: MeterExportAudit,
  options: DbCallOptions & { readonly pageSize?: number; readonly meterPageSize?: number } = {},
): AsyncGenerator<SettlementExportRow> {
  const pageSize = options.pageSize ?? 10_000;
  const o = options.signal === undefined ? {} : { signal: options.signal };
  const from = new Date(q.from).toISOString();
  const to = new Date(q.to).toISOString();
  const numerics = SETTLEMENT_NUMERIC_COLUMNS.map((c) => `${c}::text AS ${c}`).join(', ');
  for await (const meterId of auditedExportMeters(db, q, audit, options)) {
    let after: { quantity: string; period: string } | null = null;
    for (;;) {
      const page: { rows: StoredRow[] } = await db.query<StoredRow>(
        `SELECT quantity, ${US('period')} AS period, to_char(local_day, 'YYYY-MM-DD') AS local_day, time_zone,
           group_id, bidding_zone, quality, price_unit, currency, status, revision, ${US('computed_at')} AS computed_at,
           ${numerics}
         FROM meter_settlement
         WHERE meter_id = $1 AND period >= $2::timestamptz AND period < $3::timestamptz
           AND ($4::text IS NULL OR quantity = $4)
           AND ($5::text IS NULL OR (quantity, period) > ($5::text, $6::timestamptz))
         ORDER BY quantity, period LIMIT $7`,
        [meterId, from, to, q.quantity ?? null, after?.quantity ?? null, after?.period ?? null, pageSize],
        o,
      );
      for (const r of page.rows) {
        const exact = (v: string | null): string | null => (v === null ? null : (normaliseDecimal(v) ?? v));
        yield {
          meter_id: meterId,
          quantity: r.quantity,
          period: r.period.replace(/\.000000Z$/, 'Z'),
          local_day: r.local_day,
          time_zone: r.time_zone,
          group_id: r.group_id,
          bidding_zone: r.bidding_zone,
          energy_kwh: exact(r.energy_kwh),
          quality: r.quality,
          price: exact(r.price),
          price_unit: r.price_unit,
          currency: r.currency,
          cost: exact(r.cost),
          intensity_lifecycle: exact(r.intensity_lifecycle),
          intensity_direct: exact(r.intensity_direct),
          emissions_lifecycle_g: exact(r.emissions_lifecycle_g),
          emissions_direct_g: exact(r.emissions_direct_g),
          status: r.status,
          revision: r.revision,
          computed_at: r.computed_at,
        };
      }
      const last = page.rows.at(-1);
      if (page.rows.length < pageSize || last === undefined) break;
      after = { quantity: last.quantity, period: last.period };
    }
  }
}
