import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { errorCode, errorMessage, isRetryable } from '../../common/index.ts';
import { configSecrets, loadConfig } from '../../config/index.ts';
import { METRICS } from '../../contracts/index.ts';
import { secretScrubber } from '../../observability/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import { loadReference } from '../../reference/index.ts';
import type {
  Db,
  DbCallOptions,
  ExportFormat,
  MeterExportAudit,
  MeterExportQuery,
  MeterExportRow,
  Queryable,
  SettlementExportQuery,
  SettlementExportRow,
} from '../../storage/index.ts';
import { fromLocal, isValidTimeZone } from '../../time/index.ts';
import {
  EXPORT_CSV_HEADER,
  EXPORT_FORMATS,
  exportCsvLine,
  exportJsonLine,
  METER_EXPORT_CSV_HEADER,
  exportMeterIds,
  exportMeterIntervals,
  exportObservations,
  exportSettlement,
  METER_QUANTITIES,
  meterCsvLine,
  meterJsonLine,
  meterValidities,
  SETTLEMENT_EXPORT_CSV_HEADER,
  settlementCsvLine,
  settlementJsonLine,
  sqlStateOf,
  writeMeterParquet,
  writeParquet,
  writeSettlementParquet,
} from '../../storage/index.ts';
import type { Command, CommandContext, ParsedArgs } from '../command.ts';
import { Checkpoint, EXIT, UsageError, choiceOption, cliPrincipal, listOption, stringOption } from '../command.ts';
import { commandLogger, withDb } from '../data.ts';
import { LineWriter } from '../output.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * `--from`/`--to` as an instant. A bare date (`2025-10-21`) is 00:00 in `timeZone` — the time zone of the one zone
 * exported, or `--tz` — like everywhere in gridstream; anything else must be an ISO instant with an offset.
 */
function instantOption(args: ParsedArgs, name: string, timeZone: () => string): string {
  const text = stringOption(args, name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  if (DAY.test(text) && Number.isFinite(Date.parse(`${text}T00:00:00Z`)))
    return new Date(fromLocal(Date.parse(`${text}T00:00:00Z`), timeZone())).toISOString();
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(text) || !Number.isFinite(Date.parse(text))) {
    throw new UsageError(`--${name} must be a date (2025-10-21) or an ISO instant with an offset (got "${text}")`);
  }
  return new Date(Date.parse(text)).toISOString();
}

/** The time zone bare dates are read in: `--tz`, else that of the one zone asked for; several zones need `--tz`. */
function timeZoneFor(args: ParsedArgs, zones: readonly string[], reference: ReferenceData): string {
  const tz = stringOption(args, 'tz');
  if (tz !== undefined) {
    if (!isValidTimeZone(tz))
      throw new UsageError(`--tz must be an IANA time zone such as Europe/Paris or UTC (got "${tz}")`);
    return tz;
  }
  const [only, ...others] = zones;
  if (only === undefined || others.length > 0)
    throw new UsageError(
      `a bare date is midnight in the zone's time zone: with ${only === undefined ? 'all zones' : `zones ${zones.join(', ')}`}, give --tz (e.g. --tz UTC) or ISO instants`,
    );
  return reference.zone(only).timeZone;
}

/** Zones and metrics that exist, or a usage error naming the ones that do not. */
function checkNames(zones: readonly string[], metrics: readonly string[], reference: ReferenceData): void {
  const unknownMetrics = metrics.filter((m) => !(METRICS as readonly string[]).includes(m));
  if (unknownMetrics.length > 0)
    throw new UsageError(`unknown metric(s) ${unknownMetrics.join(', ')}; metrics are ${METRICS.join(', ')}`);
  const unknownZones = zones.filter((z) => !reference.hasZone(z));
  if (unknownZones.length > 0) throw new UsageError(`unknown zone(s) ${unknownZones.join(', ')}`);
}

function formatOf(args: ParsedArgs, out: string | undefined): ExportFormat {
  const byExtension: Record<string, ExportFormat> = {
    '.csv': 'csv',
    '.ndjson': 'ndjson',
    '.jsonl': 'ndjson',
    '.parquet': 'parquet',
  };
  const fallback = out === undefined ? 'csv' : (byExtension[extname(out).toLowerCase()] ?? 'csv');
  return choiceOption(args, 'format', EXPORT_FORMATS, fallback);
}

/** `gridstream export`: stored observations as CSV, NDJSON or Parquet. */
export const exportCommand: Command = {
  name: 'export',
  summary:
    'Export stored grid observations, meter intervals (--meters) or settlement (--settlement), as CSV, NDJSON or Parquet',
  usage:
    'export --from <date> --to <date> [--zones FI] [--tz Europe/Helsinki] [--metrics generation_actual] [--format csv|ndjson|parquet] [--out <file>]\n' +
    '   or: gridstream export --meters [--meter id,...] [--group g] [--zone z] --from <date|time> --to <date|time> [--tz UTC] [--format csv|ndjson|parquet] [--out <file>]\n' +
    '   or: gridstream export --settlement [--meter id,...] [--group g] [--zone z] [--quantity energy_import] --from <date|time> --to <date|time> [--tz UTC] [--format csv|ndjson|parquet] [--out <file>]',
  details: [
    'Writes every stored observation of the zones and metrics with a slot start in [--from, --to), in key order',
    '(zone, metric, production type, counterpart zone, qualifier, slot). --from/--to take a date (00:00 in the time',
    'zone of the one zone exported, or of --tz; several zones need --tz) or an ISO instant with an offset; --to is',
    'exclusive. Without --zones or --metrics: all of them. Values are exported exactly as stored, never rounded.',
    'An unknown zone or metric is a usage error (exit 2) that names it.',
    '',
    'CSV header:',
    `  ${EXPORT_CSV_HEADER}`,
    'Flags are joined with ";". NDJSON has the same fields (flags as an array). Parquet (through DuckDB): UTC',
    'timestamps, DOUBLE values, flags as a list, zstd-compressed.',
    '',
    'The format defaults to the --out extension (.csv, .ndjson/.jsonl, .parquet), else CSV; without --out the',
    'rows go to stdout. Reads DATABASE_URL (PostgreSQL) or GRIDSTREAM_DATA_DIR (embedded PGlite).',
    'Exit 1 when the database fails; 2 for a usage error.',
    '',
    'With --meters: the stored meter intervals (meter_intervals) of the meters selected by --meter (ids), --group',
    'and --zone (a registry validity in that group or zone overlapping the range; several filters intersect; none:',
    'every meter), with an interval start in [--from, --to), in key order (meter, quantity, ts). --from and --to',
    'are both required (meters.unbounded_export otherwise). A bare date is 00:00 in the time zone of the meter when',
    'exactly one --meter is given, else UTC (--tz overrides both). Values are exact decimal text, never floats',
    '(NDJSON: strings; Parquet: a VARCHAR column). Each exported meter is written to the meter-read audit log',
    '(cli:<os user>, path export, the range, the format) before any of its rows is handed out.',
    'CSV header:',
    `  ${METER_EXPORT_CSV_HEADER}`,
    '',
    'With --settlement (not with --meters): the settled 15-minute periods (meter_settlement) of the meters selected',
    'as with --meters (--quantity: one quantity only), with a period start in [--from, --to), in key order (meter,',
    'quantity, period), for billing: every numeric (energy, price, cost, intensities, emissions) is exact decimal',
    'text, never rounded nor a float (NDJSON: strings; Parquet: VARCHAR columns; period and computed_at TIMESTAMPTZ,',
    'local_day DATE). Nulls are kept (a pending period has no cost nor emissions: an empty CSV field, JSON null).',
    'The range, its time zone and the meter-read audit are those of --meters.',
    'CSV header:',
    `  ${SETTLEMENT_EXPORT_CSV_HEADER}`,
  ].join('\n'),
  usesData: true,
  options: {
    zones: { type: 'string' },
    metrics: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    format: { type: 'string', short: 'f' },
    out: { type: 'string', short: 'o' },
    tz: { type: 'string' },
    schema: { type: 'string' },
    meters: { type: 'boolean' },
    settlement: { type: 'boolean' },
    quantity: { type: 'string' },
    meter: { type: 'string' },
    group: { type: 'string' },
    zone: { type: 'string' },
  },
  async run(ctx, args) {
    const meters = args.values['meters'] === true;
    const settlement = args.values['settlement'] === true;
    if (meters && settlement)
      throw new UsageError('--meters and --settlement exclude each other: export one at a time');
    if (settlement) return exportMeterData(ctx, args, SETTLEMENT_EXPORT);
    if (stringOption(args, 'quantity') !== undefined) throw new UsageError('--quantity needs --settlement');
    if (meters) return exportMeterData(ctx, args, METER_EXPORT);
    for (const name of ['meter', 'group', 'zone'])
      if (stringOption(args, name) !== undefined)
        throw new UsageError(`--${name} selects meters: it needs --meters or --settlement`);
    const reference = loadReference();
    const zones = listOption(args, 'zones') ?? [];
    const metrics = listOption(args, 'metrics') ?? [];
    checkNames(zones, metrics, reference);
    const timeZone = () => timeZoneFor(args, zones, reference);
    const from = instantOption(args, 'from', timeZone);
    const to = instantOption(args, 'to', timeZone);
    if (Date.parse(to) <= Date.parse(from)) throw new UsageError('--to must be after --from');
    const outOption = stringOption(args, 'out');
    const out = outOption === undefined ? undefined : resolve(ctx.cwd, outOption);
    const format = formatOf(args, out);
    const query = { zones, metrics, from, to };
    return reportFailure(ctx, () =>
      withDb(ctx, { schema: stringOption(args, 'schema') ?? null, logger: commandLogger(ctx) }, async (db) => {
        const scrub = secretScrubber(configSecrets(loadConfig(ctx.env)));
        const rows = exportObservations(db, query, { signal: ctx.signal, scrub });
        const count =
          format === 'parquet'
            ? await parquetTo(rows, writeParquet, out, ctx)
            : await textTo(
                rows,
                format === 'csv' ? EXPORT_CSV_HEADER : null,
                format === 'csv' ? exportCsvLine : exportJsonLine,
                out,
                ctx,
              );
        ctx.stderr.write(`exported ${count} observations\n`);
        return EXIT.ok;
      }),
    );
  },
};

/** Runs an export; a database failure is a message and exit 1 (a usage error or a stop goes to the CLI). */
async function reportFailure(ctx: CommandContext, fn: () => Promise<number>): Promise<number> {
  try {
    return await fn();
  } catch (error) {
    if (error instanceof UsageError || ctx.signal.aborted) throw error; // a stop is reported by the CLI
    const hint = isRetryable(error)
      ? ' (the database is unreachable or busy; try again)'
      : sqlStateOf(error) === '42P01'
        ? ' (no gridstream tables here: run "gridstream migrate" first)'
        : '';
    ctx.stderr.write(`gridstream export: ${errorCode(error)}: ${errorMessage(error)}${hint}\n`);
    return EXIT.failure;
  }
}

/**
 * The time zone of bare dates in a meter export: --tz, else that of the one meter asked for (its latest
 * validity), else UTC — a selection of several meters may span time zones, and its range must mean one thing.
 */
async function meterTimeZone(db: Db, args: ParsedArgs, ids: readonly string[]): Promise<string> {
  const tz = stringOption(args, 'tz');
  if (tz !== undefined) {
    if (!isValidTimeZone(tz))
      throw new UsageError(`--tz must be an IANA time zone such as Europe/Paris or UTC (got "${tz}")`);
    return tz;
  }
  const [only, ...others] = ids;
  if (only === undefined || others.length > 0) return 'UTC';
  const latest = (await meterValidities(db, only)).at(-1);
  if (latest === undefined) throw new UsageError(`meters.not_found: no meter ${only}`);
  return latest.time_zone;
}

/** What a meter export (`--meters`, `--settlement`) reads and how it writes it. */
interface MeterDataExport<R> {
  /** The flag that asks for it, without `--`. */
  readonly flag: 'meters' | 'settlement';
  /** What the rows are, for the closing count (`exported 3 meter intervals`). */
  readonly noun: string;
  readonly csvHeader: string;
  readonly csvLine: (r: R) => string;
  readonly jsonLine: (r: R) => string;
  readonly parquet: (rows: AsyncIterable<R>, path: string) => Promise<number>;
  /** The rows of the query, each meter audited before its rows; `args` gives the export's own options. */
  readonly rows: (
    db: Queryable,
    q: MeterExportQuery,
    args: ParsedArgs,
    audit: MeterExportAudit,
    options: DbCallOptions,
  ) => AsyncIterable<R>;
}

const METER_EXPORT: MeterDataExport<MeterExportRow> = {
  flag: 'meters',
  noun: 'meter intervals',
  csvHeader: METER_EXPORT_CSV_HEADER,
  csvLine: meterCsvLine,
  jsonLine: meterJsonLine,
  parquet: writeMeterParquet,
  rows: (db, q, _args, audit, options) => exportMeterIntervals(db, q, audit, options),
};

const SETTLEMENT_EXPORT: MeterDataExport<SettlementExportRow> = {
  flag: 'settlement',
  noun: 'settlement rows',
  csvHeader: SETTLEMENT_EXPORT_CSV_HEADER,
  csvLine: settlementCsvLine,
  jsonLine: settlementJsonLine,
  parquet: writeSettlementParquet,
  rows: (db, q, args, audit, options) => {
    const quantity = stringOption(args, 'quantity');
    const query: SettlementExportQuery = { ...q, ...(quantity === undefined ? {} : { quantity }) };
    return exportSettlement(db, query, audit, options);
  },
};

/**
 * `gridstream export --meters` / `--settlement`: stored meter data of the selected meters over a bounded range,
 * each exported meter audited first.
 */
async function exportMeterData<R>(ctx: CommandContext, args: ParsedArgs, kind: MeterDataExport<R>): Promise<number> {
  for (const name of ['zones', 'metrics'])
    if (stringOption(args, name) !== undefined)
      throw new UsageError(`--${name} selects grid data: not with --${kind.flag}`);
  if (stringOption(args, 'from') === undefined || stringOption(args, 'to') === undefined)
    throw new UsageError(
      `meters.unbounded_export: --from and --to are both required with --${kind.flag} (meter data is exported by range only)`,
    );
  const quantity = stringOption(args, 'quantity');
  if (quantity !== undefined && !(METER_QUANTITIES as readonly string[]).includes(quantity))
    throw new UsageError(`--quantity must be one of ${METER_QUANTITIES.join(', ')} (got "${quantity}")`);
  const ids = listOption(args, 'meter') ?? [];
  const group = stringOption(args, 'group');
  const zone = stringOption(args, 'zone');
  if (zone !== undefined && !loadReference().hasZone(zone)) throw new UsageError(`unknown zone ${zone}`);
  const outOption = stringOption(args, 'out');
  const out = outOption === undefined ? undefined : resolve(ctx.cwd, outOption);
  const format = formatOf(args, out);
  return reportFailure(ctx, () =>
    withDb(ctx, { schema: stringOption(args, 'schema') ?? null, logger: commandLogger(ctx) }, async (db) => {
      const timeZone = await meterTimeZone(db, args, ids);
      const from = Date.parse(instantOption(args, 'from', () => timeZone));
      const to = Date.parse(instantOption(args, 'to', () => timeZone));
      if (to <= from) throw new UsageError('--to must be after --from');
      const query: MeterExportQuery = {
        ...(ids.length === 0 ? {} : { meterIds: ids }),
        ...(group === undefined ? {} : { group }),
        ...(zone === undefined ? {} : { zone }),
        from,
        to,
      };
      await checkSelection(db, query, ids);
      const audit = { principal: cliPrincipal(ctx), detail: format };
      const rows = kind.rows(db, query, args, audit, { signal: ctx.signal });
      const count =
        format === 'parquet'
          ? await parquetTo(rows, kind.parquet, out, ctx)
          : await textTo(
              rows,
              format === 'csv' ? kind.csvHeader : null,
              format === 'csv' ? kind.csvLine : kind.jsonLine,
              out,
              ctx,
            );
      ctx.stderr.write(`exported ${count} ${kind.noun}\n`);
      return EXIT.ok;
    }),
  );
}

/** Meter ids the registry does not know, or a selection that matches no meter: a usage error naming it. */
async function checkSelection(db: Db, query: MeterExportQuery, ids: readonly string[]): Promise<void> {
  if (ids.length > 0) {
    const known = new Set(
      await exportMeterIds(db, { meterIds: ids, from: query.from, to: query.to }, { after: null, limit: ids.length }),
    );
    const unknown = [...new Set(ids)].filter((id) => !known.has(id));
    if (unknown.length > 0) throw new UsageError(`meters.not_found: no meter(s) ${unknown.join(', ')}`);
  }
  if ((await exportMeterIds(db, query, { after: null, limit: 1 })).length === 0)
    throw new UsageError('meters.not_found: no meter matches --meter, --group and --zone in that range');
}

async function textTo<R>(
  rows: AsyncIterable<R>,
  header: string | null,
  line: (r: R) => string,
  out: string | undefined,
  ctx: CommandContext,
): Promise<number> {
  const file = out === undefined ? undefined : createWriteStream(out);
  const writer = new LineWriter(file ?? ctx.stdout);
  const checkpoint = new Checkpoint(ctx.signal);
  let count = 0;
  if (header !== null) await writer.line(header);
  for await (const r of rows) {
    if (!writer.open) break;
    await checkpoint.pass();
    await writer.line(line(r));
    count++;
  }
  await writer.flush();
  if (file !== undefined) {
    file.end();
    await finished(file);
  }
  return count;
}

async function parquetTo<R>(
  rows: AsyncIterable<R>,
  write: (rows: AsyncIterable<R>, path: string) => Promise<number>,
  out: string | undefined,
  ctx: CommandContext,
): Promise<number> {
  if (out !== undefined) return write(rows, out);
  // Parquet is written whole (its footer comes last): build it aside, then stream it out.
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  try {
    const path = join(dir, 'export.parquet');
    const count = await write(rows, path);
    await pipeline(createReadStream(path), ctx.stdout, { end: false });
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
