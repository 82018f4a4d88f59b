import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { csvField } from '../../common/index.ts';
import type { GridSeriesChunk } from '../../contracts/index.ts';
import { loadConfig } from '../../config/index.ts';
import { processFileBodyAsync } from '../../processing/index.ts';
import type { ProcessingReject } from '../../processing/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { Checkpoint, EXIT, choiceOption } from '../command.ts';
import { LineWriter } from '../output.ts';

/** The CSV header of `gridstream process`. */
export const OBSERVATION_CSV_HEADER =
  'zone,metric,production_type,counterpart_zone,slot_start_utc,value,unit,qualifier,flags,source,document_id,revision,issued_at';

export const processCommand: Command = {
  name: 'process',
  summary: 'Turn ENTSO-E documents and Electricity Maps JSON files into 15-minute grid observations',
  usage: 'process <files…> [--format csv|ndjson]',
  details: [
    'Each file is read as an Electricity Maps response when it holds JSON, else as an ENTSO-E document.',
    'Prints one row per observation (zone, metric, production type or counterpart zone, 15-minute slot):',
    `  ${OBSERVATION_CSV_HEADER}`,
    'Rejected parts (unknown areas, unmodelled document types…) are reported on stderr with their source',
    'position; everything else is printed. Exit 0 when nothing was rejected (documents gridstream does not',
    'model only warn), 1 when something was, 2 when a file cannot be read; 143/130 when stopped by',
    'SIGTERM/SIGINT (at once, also in the middle of a big document).',
  ].join('\n'),
  options: { format: { type: 'string', short: 'f' } },
  positionals: [1, Number.MAX_SAFE_INTEGER],
  async run(ctx, args) {
    const format = choiceOption(args, 'format', ['csv', 'ndjson'] as const, 'csv');
    const reference = loadReference();
    const { maxStepsPerDocument } = loadConfig(ctx.env).entsoe;
    const out = new LineWriter(ctx.stdout);
    const checkpoint = new Checkpoint(ctx.signal);
    if (format === 'csv') await out.line(OBSERVATION_CSV_HEADER);
    let failed = false;
    for (const file of args.positionals) {
      const body = await readInput(ctx, file);
      if (body === undefined) return EXIT.usage;
      const result = await processFileBodyAsync(body, basename(file), reference, {
        signal: ctx.signal,
        maxStepsPerDocument,
      });
      for (const chunk of result.chunks) {
        if (!out.open) break;
        await checkpoint.pass();
        await writeChunk(out, chunk, format);
      }
      failed = reportRejects(ctx, file, result.rejects) || failed;
    }
    await out.flush();
    return failed ? EXIT.failure : EXIT.ok;
  },
};

export async function readInput(ctx: CommandContext, file: string): Promise<Buffer | undefined> {
  const path = resolve(ctx.cwd, file);
  try {
    return await readFile(path);
  } catch (error) {
    ctx.stderr.write(`gridstream: cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`);
    return undefined;
  }
}

/** Prints rejects; returns whether any of them is a failure (not just an unmodelled document). */
export function reportRejects(ctx: CommandContext, file: string, rejects: readonly ProcessingReject[]): boolean {
  let failed = false;
  for (const r of rejects) {
    const where = Object.entries(r.position)
      .filter(([, v]) => v !== null)
      .map(([k, v]) => `${k}=${String(v)}`)
      .join(' ');
    const kind = r.code === 'processing.unsupported_document' ? 'skipped' : 'rejected';
    ctx.stderr.write(`${kind} (${r.code}) in ${file}${where === '' ? '' : ` [${where}]`}: ${r.message}\n`);
    if (r.code !== 'processing.unsupported_document') failed = true;
  }
  return failed;
}

async function writeChunk(out: LineWriter, c: GridSeriesChunk, format: 'csv' | 'ndjson'): Promise<void> {
  for (const p of c.points) {
    const flags = p.f?.join('|') ?? '';
    if (format === 'csv') {
      await out.line(
        [
          c.zone,
          c.metric,
          c.productionType,
          c.counterpartZone,
          p.t,
          String(p.v),
          c.unit,
          csvField(c.qualifier),
          flags,
          c.source,
          csvField(c.documentId),
          String(c.revision),
          c.issuedAt ?? '',
        ].join(','),
      );
    } else {
      await out.line(
        JSON.stringify({
          zone: c.zone,
          metric: c.metric,
          production_type: c.productionType,
          counterpart_zone: c.counterpartZone,
          slot_start_utc: p.t,
          value: p.v,
          unit: c.unit,
          qualifier: c.qualifier,
          flags: p.f ?? [],
          source: c.source,
          document_id: c.documentId,
          revision: c.revision,
          issued_at: c.issuedAt ?? null,
          attributes: c.attributes ?? {},
        }),
      );
    }
  }
}
