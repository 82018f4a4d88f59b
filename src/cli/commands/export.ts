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
import type { ExportFormat } from '../../storage/index.ts';
import { fromLocal, isValidTimeZone } from '../../time/index.ts';
import {
  EXPORT_CSV_HEADER,
  EXPORT_FORMATS,
  exportCsvLine,
  exportJsonLine,
  exportObservations,
  sqlStateOf,
  writeParquet,
} from '../../storage/index.ts';
import type { Command, CommandContext, ParsedArgs } from '../command.ts';
import { Checkpoint, EXIT, UsageError, choiceOption, listOption, stringOption } from '../command.ts';
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
  summary: 'Export stored grid observations as CSV, NDJSON or Parquet',
  usage:
    'export --from <date> --to <date> [--zones FI] [--tz Europe/Helsinki] [--metrics generation_actual] [--format csv|ndjson|parquet] [--out <file>]',
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
  },
  async run(ctx, args) {
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
    try {
      return await withDb(
        ctx,
        { schema: stringOption(args, 'schema') ?? null, logger: commandLogger(ctx) },
        async (db) => {
          const scrub = secretScrubber(configSecrets(loadConfig(ctx.env)));
          const rows = exportObservations(db, query, { signal: ctx.signal, scrub });
          const count = format === 'parquet' ? await parquetTo(rows, out, ctx) : await textTo(rows, format, out, ctx);
          ctx.stderr.write(`exported ${count} observations\n`);
          return EXIT.ok;
        },
      );
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
  },
};

async function textTo(
  rows: AsyncIterable<Parameters<typeof exportCsvLine>[0]>,
  format: 'csv' | 'ndjson',
  out: string | undefined,
  ctx: CommandContext,
): Promise<number> {
  const file = out === undefined ? undefined : createWriteStream(out);
  const writer = new LineWriter(file ?? ctx.stdout);
  const checkpoint = new Checkpoint(ctx.signal);
  let count = 0;
  if (format === 'csv') await writer.line(EXPORT_CSV_HEADER);
  for await (const r of rows) {
    if (!writer.open) break;
    await checkpoint.pass();
    await writer.line(format === 'csv' ? exportCsvLine(r) : exportJsonLine(r));
    count++;
  }
  await writer.flush();
  if (file !== undefined) {
    file.end();
    await finished(file);
  }
  return count;
}

async function parquetTo(
  rows: AsyncIterable<Parameters<typeof exportCsvLine>[0]>,
  out: string | undefined,
  ctx: CommandContext,
): Promise<number> {
  if (out !== undefined) return writeParquet(rows, out);
  // Parquet is written whole (its footer comes last): build it aside, then stream it out.
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-export-'));
  try {
    const path = join(dir, 'export.parquet');
    const count = await writeParquet(rows, path);
    await pipeline(createReadStream(path), ctx.stdout, { end: false });
    return count;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
