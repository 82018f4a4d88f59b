import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { extname, join, resolve } from 'node:path';
import { finished, pipeline } from 'node:stream/promises';
import { errorCode, errorMessage, isRetryable } from '../../common/index.ts';
import type { ExportFormat } from '../../storage/index.ts';
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
import { EXIT, UsageError, choiceOption, listOption, stringOption } from '../command.ts';
import { commandLogger, withDb } from '../data.ts';
import { LineWriter } from '../output.ts';

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** `2025-10-21` is midnight UTC of that day; anything else must be an ISO instant with a zone. */
function instantOption(args: ParsedArgs, name: string): string {
  const text = stringOption(args, name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  const iso = DAY.test(text) ? `${text}T00:00:00Z` : text;
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(iso) || !Number.isFinite(Date.parse(iso))) {
    throw new UsageError(`--${name} must be a date (2025-10-21) or an ISO instant with a zone (got "${text}")`);
  }
  return new Date(Date.parse(iso)).toISOString();
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
    'export --from <date> --to <date> [--zones FI,NO_5] [--metrics generation_actual] [--format csv|ndjson|parquet] [--out <file>]',
  details: [
    'Writes every stored observation of the zones and metrics with a slot start in [--from, --to), in key order',
    '(zone, metric, production type, counterpart zone, qualifier, slot). --from/--to take a date (midnight UTC) or',
    'an ISO instant with a zone; --to is exclusive. Without --zones or --metrics: all of them.',
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
    schema: { type: 'string' },
  },
  async run(ctx, args) {
    const from = instantOption(args, 'from');
    const to = instantOption(args, 'to');
    if (Date.parse(to) <= Date.parse(from)) throw new UsageError('--to must be after --from');
    const outOption = stringOption(args, 'out');
    const out = outOption === undefined ? undefined : resolve(ctx.cwd, outOption);
    const format = formatOf(args, out);
    const query = { zones: listOption(args, 'zones') ?? [], metrics: listOption(args, 'metrics') ?? [], from, to };
    try {
      return await withDb(
        ctx,
        { schema: stringOption(args, 'schema') ?? null, logger: commandLogger(ctx) },
        async (db) => {
          const rows = exportObservations(db, query, { signal: ctx.signal });
          const count = format === 'parquet' ? await parquetTo(rows, out, ctx) : await textTo(rows, format, out, ctx);
          ctx.stderr.write(`exported ${count} observations\n`);
          return EXIT.ok;
        },
      );
    } catch (error) {
      if (error instanceof UsageError) throw error;
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
  let count = 0;
  if (format === 'csv') await writer.line(EXPORT_CSV_HEADER);
  for await (const r of rows) {
    if (!writer.open) break;
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
