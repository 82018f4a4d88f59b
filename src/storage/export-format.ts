import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, DuckDBTimestampTZValue } from '@duckdb/node-api';
import type { DuckDBAppender } from '@duckdb/node-api';
import { csvField } from '../common/index.ts';
import type { ExportRow } from './queries/export-rows.ts';
import type { MeterExportRow } from './queries/meter-export.ts';

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
  a.endRow();
}

/**
 * Writes rows to a Parquet file through DuckDB (a scratch DuckDB database in a temp dir, so that exports larger
 * than memory spill to disk): timestamps as UTC-adjusted TIMESTAMP, value as DOUBLE, flags as a list of strings,
 * zstd-compressed. Returns the number of rows.
 */
export async function writeParquet(rows: AsyncIterable<ExportRow>, path: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  const instance = await DuckDBInstance.create(join(dir, 'export.duckdb'));
  const connection = await instance.connect();
  let count = 0;
  try {
    await connection.run(
      `CREATE TABLE rows (zone VARCHAR, metric VARCHAR, production_type VARCHAR, counterpart_zone VARCHAR,
         slot_start_utc TIMESTAMPTZ, value DOUBLE, unit VARCHAR, qualifier VARCHAR, source VARCHAR,
         document_id VARCHAR, revision INTEGER, issued_at TIMESTAMPTZ, flags VARCHAR, first_seen TIMESTAMPTZ, last_updated TIMESTAMPTZ)`,
    );
    const appender = await connection.createAppender('rows');
    for await (const r of rows) {
      append(appender, r);
      if (++count % 100_000 === 0) appender.flushSync();
    }
    appender.closeSync();
    const target = path.replaceAll("'", "''");
    await connection.run(
      `COPY (SELECT * REPLACE (CASE WHEN flags = '' THEN []::VARCHAR[] ELSE string_split(flags, ';') END AS flags)
             FROM rows) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return count;
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
 * Writes meter intervals to a Parquet file through DuckDB, like {@link writeParquet}: times as UTC-adjusted
 * TIMESTAMP (microseconds), flags as a list of strings, zstd-compressed. The value is a VARCHAR column holding the
 * exact decimal text: PostgreSQL numeric has no fixed scale, and a Parquet DECIMAL would have to round some values.
 * Returns the number of rows.
 */
export async function writeMeterParquet(rows: AsyncIterable<MeterExportRow>, path: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  const instance = await DuckDBInstance.create(join(dir, 'export.duckdb'));
  const connection = await instance.connect();
  let count = 0;
  try {
    // Times go in as text and are cast by DuckDB: that keeps their microseconds, which a JS Date would drop.
    await connection.run(
      `CREATE TABLE rows (meter_id VARCHAR, quantity VARCHAR, ts VARCHAR, interval_s INTEGER, value VARCHAR,
         quality VARCHAR, flags VARCHAR, recorded_at VARCHAR, received_at VARCHAR)`,
    );
    const a = await connection.createAppender('rows');
    for await (const r of rows) {
      a.appendVarchar(r.meterId);
      a.appendVarchar(r.quantity);
      a.appendVarchar(r.ts);
      a.appendInteger(r.intervalS);
      a.appendVarchar(r.value);
      a.appendVarchar(r.quality);
      a.appendVarchar(r.flags.join(';'));
      if (r.recordedAt === null) a.appendNull();
      else a.appendVarchar(r.recordedAt);
      a.appendVarchar(r.receivedAt);
      a.endRow();
      if (++count % 100_000 === 0) a.flushSync();
    }
    a.closeSync();
    const target = path.replaceAll("'", "''");
    await connection.run(
      `COPY (SELECT meter_id, quantity, ts::TIMESTAMPTZ AS ts, interval_s, value, quality,
               CASE WHEN flags = '' THEN []::VARCHAR[] ELSE string_split(flags, ';') END AS flags,
               recorded_at::TIMESTAMPTZ AS recorded_at, received_at::TIMESTAMPTZ AS received_at
             FROM rows) TO '${target}' (FORMAT parquet, COMPRESSION zstd)`,
    );
  } finally {
    connection.closeSync();
    instance.closeSync();
    await rm(dir, { recursive: true, force: true });
  }
  return count;
}
