import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import { csvField } from '../common/index.ts';
import type { ExportRow } from './queries/export-rows.ts';
import type { MeterExportRow } from './queries/meter-export.ts';
import type { SettlementExportRow } from './queries/settlement-export.ts';

/** Formats `gridstream export` writes. */
export const EXPORT_FORMATS = ['csv', 'ndjson', 'parquet'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Columns of every export format, in order. */
export const EXPORT_COLUMNS = [
  'zone',
  'metric',
  'production_type',
  'counterpart_zone',
  'slot_start_utc',
  'value',
  'unit',
  'qualifier',
  'source',
  'document_id',
  'revision',
  'issued_at',
  'flags',
  'first_seen',
  'last_updated',
] as const;

export const EXPORT_CSV_HEADER = EXPORT_COLUMNS.join(',');

/** One CSV line (no newline). Flags are joined with `;` so that the field needs no quoting. */
export function exportCsvLine(r: ExportRow): string {
  return [
    r.zone,
    r.metric,
    r.productionType,
    r.counterpartZone,
    r.slotStart,
    String(r.value),
    r.unit,
    csvField(r.qualifier),
    r.source,
    csvField(r.documentId),
    String(r.revision),
    r.issuedAt ?? '',
    r.flags.join(';'),
    r.firstSeen,
    r.lastUpdated,
  ].join(',');
}

/** One NDJSON line (no newline), keyed like the CSV columns. */
export function exportJsonLine(r: ExportRow): string {
  return JSON.stringify({
    zone: r.zone,
    metric: r.metric,
    production_type: r.productionType,
    counterpart_zone: r.counterpartZone,
    slot_start_utc: r.slotStart,
    value: r.value,
    unit: r.unit,
    qualifier: r.qualifier,
    source: r.source,
    document_id: r.documentId,
    revision: r.revision,
    issued_at: r.issuedAt,
    flags: r.flags,
    first_seen: r.firstSeen,
    last_updated: r.lastUpdated,
  });
}

const micros = (iso: string): DuckDBTimestampTZValue => new DuckDBTimestampTZValue(BigInt(Date.parse(iso)) * 1000n);

function append(a: DuckDBAppender, r: ExportRow): void {
  a.appendVarchar(r.zone);
  a.appendVarchar(r.metric);
  a.appendVarchar(r.productionType);
  a.appendVarchar(r.counterpartZone);
  a.appendTimestampTZ(micros(r.slotStart));
  a.appendDouble(r.value);
  a.appendVarchar(r.unit);
  a.appendVarchar(r.qualifier);
  a.appendVarchar(r.source);
  a.appendVarchar(r.documentId);
  a.appendInteger(r.revision);
  if (r.issuedAt === null) a.appendNull();
  else a.appendTimestampTZ(micros(r.issuedAt));
  a.appendVarchar(r.flags.join(';'));
  a.appendTimestampTZ(micros(r.firstSeen));
  a.appendTimestampTZ(micros(r.lastUpdated));
}

/**
 * Writes rows to a Parquet file through DuckDB (a scratch DuckDB database in a temp dir, so that exports larger
 * than memory spill to disk): timestamps as UTC-adjusted TIMESTAMP, value as DOUBLE, flags as a list of strings,
 * zstd-compressed. Returns the number of rows.
 */
export function writeParquet(rows: AsyncIterable<ExportRow>, path: string): Promise<number> {
  return writeDuckParquet(
    rows,
    path,
    `zone VARCHAR, metric VARCHAR, production_type VARCHAR, counterpart_zone VARCHAR, slot_start_utc TIMESTAMPTZ,
     value DOUBLE, unit VARCHAR, qualifier VARCHAR, source VARCHAR, document_id VARCHAR, revision INTEGER,
     issued_at TIMESTAMPTZ, flags VARCHAR, first_seen TIMESTAMPTZ, last_updated TIMESTAMPTZ`,
    append,
    `SELECT * REPLACE (CASE WHEN flags = '' THEN []::VARCHAR[] ELSE string_split(flags, ';') END AS flags) FROM rows`,
  );
}

/** Columns of every meter export format (`gridstream export --meters`), in order. */
export const METER_EXPORT_COLUMNS = [
  'meter_id',
  'quantity',
  'ts',
  'interval_s',
  'value',
  'quality',
  'flags',
  'recorded_at',
  'received_at',
] as const;

export const METER_EXPORT_CSV_HEADER = METER_EXPORT_COLUMNS.join(',');

/** One CSV line of a meter export (no newline): the value as stored, exact; flags joined with `;`. */
export function meterCsvLine(r: MeterExportRow): string {
  return [
    csvField(r.meterId),
    r.quantity,
    r.ts,
    String(r.intervalS),
    r.value,
    r.quality,
    r.flags.join(';'),
    r.recordedAt ?? '',
    r.receivedAt,
  ].join(',');
}

/** One NDJSON line of a meter export (no newline): the value as a decimal string, never a JSON number. */
export function meterJsonLine(r: MeterExportRow): string {
  return JSON.stringify({
    meter_id: r.meterId,
    quantity: r.quantity,
    ts: r.ts,
    interval_s: r.intervalS,
    value: r.value,
    quality: r.quality,
    flags: r.flags,
    recorded_at: r.recordedAt,
    received_at: r.receivedAt,
  });
}

/**
 * Writes rows to a Parquet file through DuckDB: a scratch DuckDB database in a temp dir (so that exports larger
 * than memory spill to disk) with the table `rows` of `columns`, each row appended by `append`, then `select`
 * (a query of `rows`) copied out zstd-compressed. Returns the number of rows.
 */
async function writeDuckParquet<R>(
  rows: AsyncIterable<R>,
  path: string,
  columns: string,
  append: (a: DuckDBAppender, r: R) => void,
  select: string,
): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  const instance = await DuckDBInstance.create(join(dir, 'export.duckdb'));
  const connection = await instance.connect();
  let count = 0;
  try {
    await connection.run(`CREATE TABLE rows (${columns})`);
    const a = await connection.createAppender('rows');
    for await (const r of rows) {
      append(a, r);
      a.endRow();
      if (++count % 100_000 === 0) a.flushSync();
    }
    a.closeSync();
    const target = path.replaceAll("'", "''");
    await connection.run(`COPY (${select}) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return count;
}

const appendText = (a: DuckDBAppender, text: string | null): void => {
  if (text === null) a.appendNull();
  else a.appendVarchar(text);
};

/**
 * Writes meter intervals to a Parquet file through DuckDB, like {@link writeParquet}: times as UTC-adjusted
 * TIMESTAMP (microseconds), flags as a list of strings, zstd-compressed. The value is a VARCHAR column holding the
 * exact decimal text: PostgreSQL numeric has no fixed scale, and a Parquet DECIMAL would have to round some values.
 * Times go in as text and are cast by DuckDB: that keeps their microseconds, which a JS Date would drop.
 * Returns the number of rows.
 */
export function writeMeterParquet(rows: AsyncIterable<MeterExportRow>, path: string): Promise<number> {
  return writeDuckParquet(
    rows,
    path,
    `meter_id VARCHAR, quantity VARCHAR, ts VARCHAR, interval_s INTEGER, value VARCHAR, quality VARCHAR,
     flags VARCHAR, recorded_at VARCHAR, received_at VARCHAR`,
    (a, r) => {
      a.appendVarchar(r.meterId);
      a.appendVarchar(r.quantity);
      a.appendVarchar(r.ts);
      a.appendInteger(r.intervalS);
      a.appendVarchar(r.value);
      a.appendVarchar(r.quality);
      a.appendVarchar(r.flags.join(';'));
      appendText(a, r.recordedAt);
      a.appendVarchar(r.receivedAt);
    },
    `SELECT meter_id, quantity, ts::TIMESTAMPTZ AS ts, interval_s, value, quality,
       CASE WHEN flags = '' THEN []::VARCHAR[] ELSE string_split(flags, ';') END AS flags,
       recorded_at::TIMESTAMPTZ AS recorded_at, received_at::TIMESTAMPTZ AS received_at
     FROM rows`,
  );
}

/** Columns of every settlement export format (`gridstream export --settlement`), in order: meter_settlement's. */
export const SETTLEMENT_EXPORT_COLUMNS = [
  'meter_id',
  'quantity',
  'period',
  'local_day',
  'time_zone',
  'group_id',
  'bidding_zone',
  'energy_kwh',
  'quality',
  'price',
  'price_unit',
  'currency',
  'cost',
  'intensity_lifecycle',
  'intensity_direct',
  'emissions_lifecycle_g',
  'emissions_direct_g',
  'status',
  'revision',
  'computed_at',
] as const satisfies readonly (keyof SettlementExportRow)[];

export const SETTLEMENT_EXPORT_CSV_HEADER = SETTLEMENT_EXPORT_COLUMNS.join(',');

/** One CSV line of a settlement export (no newline): numerics exact as stored; a null is an empty field. */
export function settlementCsvLine(r: SettlementExportRow): string {
  return SETTLEMENT_EXPORT_COLUMNS.map((c) => {
    const v = r[c];
    return v === null ? '' : csvField(String(v));
  }).join(',');
}

/** One NDJSON line of a settlement export (no newline): numerics as decimal strings (never JSON numbers), nulls kept. */
export function settlementJsonLine(r: SettlementExportRow): string {
  return JSON.stringify(Object.fromEntries(SETTLEMENT_EXPORT_COLUMNS.map((c) => [c, r[c]])));
}

const SETTLEMENT_TYPES: Partial<Record<(typeof SETTLEMENT_EXPORT_COLUMNS)[number], string>> = {
  period: 'TIMESTAMPTZ',
  local_day: 'DATE',
  revision: 'INTEGER',
  computed_at: 'TIMESTAMPTZ',
};

/**
 * Writes settlement rows to a Parquet file through DuckDB, like {@link writeMeterParquet}: numerics as VARCHAR
 * columns of exact decimal text (nulls kept), period and computed_at as UTC-adjusted TIMESTAMP (microseconds),
 * local_day as DATE, revision as INTEGER. Returns the number of rows.
 */
export function writeSettlementParquet(rows: AsyncIterable<SettlementExportRow>, path: string): Promise<number> {
  const typed = SETTLEMENT_EXPORT_COLUMNS.map((c) => {
    const type = SETTLEMENT_TYPES[c];
    return type === undefined || type === 'INTEGER' ? c : `${c}::${type} AS ${c}`;
  });
  return writeDuckParquet(
    rows,
    path,
    SETTLEMENT_EXPORT_COLUMNS.map((c) => `${c} ${c === 'revision' ? 'INTEGER' : 'VARCHAR'}`).join(', '),
    (a, r) => {
      for (const c of SETTLEMENT_EXPORT_COLUMNS) {
        const v = r[c];
        if (typeof v === 'number') a.appendInteger(v);
        else appendText(a, v);
      }
    },
    `SELECT ${typed.join(', ')} FROM rows`,
  );
}
