import { basename } from 'node:path';
import { loadConfig } from '../../config/index.ts';
import { CARBON_CSV_HEADER, CarbonState, carbonCsvRow, processFileBodyAsync, slotIso } from '../../processing/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { Command } from '../command.ts';
import { Checkpoint, EXIT, choiceOption } from '../command.ts';
import { LineWriter } from '../output.ts';
import { readInput, reportRejects } from './process.ts';

export const carbonCommand: Command = {
  name: 'carbon',
  summary: 'Carbon intensity per zone and 15-minute slot from ENTSO-E generation (A75) and flow (A11) documents',
  usage: 'carbon <files…> [--format csv|ndjson]',
  details: [
    'Production-based intensity (lifecycle and direct factors, zone overrides first) from actual generation per',
    'type; consumption-based intensity by flow tracing where physical flows are present (empty otherwise);',
    "renewable and fossil-free shares; completeness = share of the zone's usual production types present",
    "(usual = reported in at least 80 % of the zone's slots in the input). CSV header:",
    `  ${CARBON_CSV_HEADER}`,
  ].join('\n'),
  options: { format: { type: 'string', short: 'f' } },
  positionals: [1, Number.MAX_SAFE_INTEGER],
  async run(ctx, args) {
    const format = choiceOption(args, 'format', ['csv', 'ndjson'] as const, 'csv');
    const reference = loadReference();
    const { maxStepsPerDocument } = loadConfig(ctx.env).entsoe;
    const state = new CarbonState(reference);
    const checkpoint = new Checkpoint(ctx.signal);
    let failed = false;
    for (const file of args.positionals) {
      const body = await readInput(ctx, file);
      if (body === undefined) return EXIT.usage;
      const result = await processFileBodyAsync(body, basename(file), reference, {
        signal: ctx.signal,
        maxStepsPerDocument,
      });
      for (const chunk of result.chunks) {
        state.add(chunk);
        await checkpoint.pass();
      }
      failed = reportRejects(ctx, file, result.rejects) || failed;
    }
    const out = new LineWriter(ctx.stdout);
    if (format === 'csv') await out.line(CARBON_CSV_HEADER);
    for (const r of state.compute()) {
      if (!out.open) break;
      await checkpoint.pass();
      await out.line(format === 'csv' ? carbonCsvRow(r) : JSON.stringify({ ...r, slot: slotIso(r.slot) }));
    }
    await out.flush();
    return failed ? EXIT.failure : EXIT.ok;
  },
};
