import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import {
  ENTSOE_CSV_HEADER,
  entsoeCsvRow,
  entsoeJsonRow,
  entsoeSteps,
  parseEntsoeDocumentAsync,
} from '../../connectors/entsoe/index.ts';
import { loadConfig } from '../../config/index.ts';
import type { Command } from '../command.ts';
import { Checkpoint, EXIT, choiceOption } from '../command.ts';
import { LineWriter } from '../output.ts';

export const entsoeParseCommand: Command = {
  name: 'entsoe parse',
  summary: 'Parse an ENTSO-E Transparency Platform response into one row per (TimeSeries, time step)',
  usage: 'entsoe parse <file> [--format csv|ndjson]',
  details: [
    'Prints rows in document order. CSV header:',
    `  ${ENTSOE_CSV_HEADER}`,
    'NDJSON rows carry every field of the canonical record (document, series, period and step).',
    'An acknowledgement ("no matching data") prints no rows, its reason on stderr, and exits 0.',
    'A document type gridstream does not model prints its type on stderr and exits 0.',
    'Rejected points or periods are reported on stderr (the rest is printed) and exit 1.',
    'An unreadable body (HTML, not XML, malformed, DOCTYPE, too large, more steps than',
    'ENTSOE_MAX_STEPS_PER_DOCUMENT) exits 2. SIGTERM/SIGINT stop it at once (exit 143/130).',
  ].join('\n'),
  options: { format: { type: 'string', short: 'f' } },
  positionals: [1, 1],
  async run(ctx, args) {
    const format = choiceOption(args, 'format', ['csv', 'ndjson'] as const, 'csv');
    const { maxStepsPerDocument } = loadConfig(ctx.env).entsoe;
    const file = resolve(ctx.cwd, args.positionals[0] ?? '');
    let body: Buffer;
    try {
      body = await readFile(file);
    } catch (error) {
      ctx.stderr.write(
        `gridstream entsoe parse: cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}\n`,
      );
      return EXIT.usage;
    }
    const outcome = await parseEntsoeDocumentAsync(body, { signal: ctx.signal, maxStepsPerDocument });
    switch (outcome.kind) {
      case 'invalid':
        ctx.stderr.write(`gridstream entsoe parse: ${file}: ${outcome.error.code}: ${outcome.error.message}\n`);
        return EXIT.usage;
      case 'no_data':
        ctx.stderr.write(`no data (acknowledgement, reason ${outcome.reasonCode}): ${outcome.reasonText}\n`);
        return EXIT.ok;
      case 'unsupported':
        ctx.stderr.write(
          `unsupported document: ${outcome.root} of type ${outcome.documentType ?? '?'} is not modelled by gridstream\n`,
        );
        return EXIT.ok;
      case 'series': {
        const out = new LineWriter(ctx.stdout);
        const checkpoint = new Checkpoint(ctx.signal);
        if (format === 'csv') await out.line(ENTSOE_CSV_HEADER);
        for (const [s, p, step] of entsoeSteps(outcome.series)) {
          if (!out.open) break;
          await checkpoint.pass();
          await out.line(format === 'csv' ? entsoeCsvRow(s, p, step) : JSON.stringify(entsoeJsonRow(s, p, step)));
        }
        await out.flush();
        for (const r of outcome.rejects) {
          const where = [
            `document ${r.documentIndex}`,
            `series ${r.seriesIndex}`,
            r.periodIndex === null ? '' : `period ${r.periodIndex}`,
            r.position === null ? '' : `position ${r.position}`,
            r.line === null ? '' : `line ${r.line}`,
          ]
            .filter((s) => s !== '')
            .join(', ');
          ctx.stderr.write(`rejected (${r.code}) at ${where}: ${r.message}\n`);
        }
        return outcome.rejects.length > 0 ? EXIT.failure : EXIT.ok;
      }
      default:
        return outcome satisfies never;
    }
  },
};
