import { configSecrets, loadConfig } from '../../config/index.ts';
import { EntsoeClient, EntsoeIngestor, isEntsoeItem } from '../../connectors/entsoe/index.ts';
import { MemoryRateLimitStore } from '../../connectors/http/index.ts';
import { createLogger } from '../../observability/index.ts';
import { loadReference } from '../../reference/index.ts';
import type { BackfillRuntimeFactory } from '../../runtime/index.ts';
import {
  BackfillDisplay,
  backfillSplit,
  DEFAULT_BORDERS,
  DEFAULT_DOCUMENTS,
  DEFAULT_ZONES,
  parseBackfillDate,
  planBackfill,
  runBackfill,
  summaryLines,
} from '../../scheduler/index.ts';
import type { Command, CommandContext, ParsedArgs } from '../command.ts';
import { EXIT, UsageError, listOption, stringOption } from '../command.ts';

const notWired: BackfillRuntimeFactory = () =>
  Promise.reject(new Error('this build of gridstream has no event log wired to the backfill command'));

function scopeOf(args: ParsedArgs) {
  const reference = loadReference();
  const zones = listOption(args, 'zones') ?? [...DEFAULT_ZONES];
  const unknownZones = zones.filter((z) => !reference.hasZone(z));
  if (unknownZones.length > 0) throw new UsageError(`unknown zone(s): ${unknownZones.join(', ')}`);
  const documents = listOption(args, 'documents') ?? [...DEFAULT_DOCUMENTS];
  const unknownDocs = documents.filter((d) => !isEntsoeItem(d));
  if (unknownDocs.length > 0) throw new UsageError(`unknown document item(s): ${unknownDocs.join(', ')}`);
  return { reference, scope: { zones, borders: DEFAULT_BORDERS, documents } };
}

function bound(args: ParsedArgs, name: 'from' | 'to', timeZone: string): number {
  const text = stringOption(args, name);
  if (text === undefined) throw new UsageError(`--${name} is required`);
  try {
    return parseBackfillDate(text, timeZone);
  } catch (error) {
    throw new UsageError(`--${name}: ${error instanceof Error ? error.message : String(error)}`);
  }
}

async function run(ctx: CommandContext, args: ParsedArgs, open: BackfillRuntimeFactory): Promise<number> {
  const config = loadConfig(ctx.env);
  const timeZone = stringOption(args, 'time-zone') ?? 'Europe/Brussels';
  const from = bound(args, 'from', timeZone);
  const to = bound(args, 'to', timeZone);
  const concurrency = Number(stringOption(args, 'concurrency') ?? '4');
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 32) {
    throw new UsageError('--concurrency must be an integer from 1 to 32');
  }
  const rpm = Number(stringOption(args, 'requests-per-minute') ?? '400');
  if (!Number.isInteger(rpm) || rpm < 2 || rpm > 400) {
    throw new UsageError('--requests-per-minute must be an integer from 2 to 400 (the ENTSO-E limit per token)');
  }
  const { reference, scope } = scopeOf(args);
  const tty = (ctx.stderr as { isTTY?: boolean }).isTTY === true;
  // On a terminal the progress bar owns stderr: only warnings and errors are logged next to it.
  const level = tty && ['info', 'debug', 'trace'].includes(config.logLevel) ? 'warn' : config.logLevel;
  const logger = createLogger({
    level,
    destination: ctx.stderr,
    format: config.logFormat,
    secrets: configSecrets(config),
  });
  const token = config.entsoe.token;
  const dryRun = args.values['dry-run'] === true;
  if (token === null && !dryRun) {
    ctx.stderr.write('gridstream backfill: ENTSOE_TOKEN is not set (the backfill fetches from the ENTSO-E API)\n');
    return EXIT.usage;
  }
  const plan = planBackfill({ from, to, scope, reference, split: backfillSplit });
  const head = `backfill ${plan.id}: ${plan.chunks.length} requests, ${new Date(from).toISOString()} to ${new Date(to).toISOString()}, zones ${scope.zones.join(',')}, documents ${scope.documents.join(',')}`;
  ctx.stdout.write(`${head}\n`);
  if (dryRun || token === null) {
    for (const c of plan.chunks) ctx.stdout.write(`${c.id}\n`);
    return EXIT.ok;
  }
  const runtime = await open({
    config,
    logger,
    signal: ctx.signal,
    ...(ctx.instance === undefined ? {} : { instance: ctx.instance.infra }),
  });
  try {
    const client = new EntsoeClient({
      baseUrl: config.entsoe.baseUrl,
      token,
      logger,
      rateLimits: runtime.rateLimits ?? new MemoryRateLimitStore(),
      limit: { requestsPerMinute: rpm },
    });
    const ingestor = new EntsoeIngestor({
      client,
      publisher: runtime.publisher,
      deadLetters: runtime.deadLetters,
      logger,
    });
    const display = new BackfillDisplay(ctx.stderr, {
      pointsStored: () => runtime.pointsStored?.(),
    });
    const summary = await runBackfill({
      plan,
      ingestor,
      progress: runtime.progress,
      logger,
      concurrency,
      fresh: args.values['fresh'] === true,
      signal: ctx.signal,
      onProgress: (p) => {
        display.update(p);
      },
    });
    display.finish();
    if (!summary.interrupted) {
      ctx.stderr.write('waiting until everything fetched is stored or dead-lettered…\n');
      const drained = await runtime.waitUntilDrained({ signal: ctx.signal });
      if (drained?.pointsStored !== undefined) ctx.stdout.write(`${drained.pointsStored} points stored\n`);
    }
    for (const line of summaryLines(summary)) ctx.stdout.write(`${line}\n`);
    return summary.failed === 0 && !summary.interrupted ? EXIT.ok : EXIT.failure;
  } finally {
    await runtime.close();
  }
}

/**
 * `gridstream backfill` with the runtime `open` gives it (the lead wires the event log and database).
 * @example createBackfillCommand(async ({ config, logger }) => ({ publisher, deadLetters, progress, waitUntilDrained, close }))
 */
export function createBackfillCommand(open: BackfillRuntimeFactory): Command {
  return {
    name: 'backfill',
    usesData: true,
    summary: 'Fetch a past period from the ENTSO-E API, politely, resumable, with progress',
    usage:
      'backfill --from <date> --to <date> [--zones DE_LU,FR] [--documents A75,A65,A44,A11] [--concurrency 4] [--requests-per-minute 400] [--fresh] [--dry-run]',
    details: [
      'Plans one request per zone (or border), document item and calendar month (within the service limits),',
      'fetches them within the token budget, publishes them to raw.entsoe and',
      'records each finished request: run the same command again after an interruption and finished requests',
      'are not fetched again (--fresh fetches everything). Requests that still fail go to dlq-ingestion.',
      'The token budget (--requests-per-minute, default 400) is shared with every worker using the same store.',
      'Dates are local midnights in --time-zone (default Europe/Brussels, ENTSO-E market time); UTC times such as',
      '2024-01-01T00:00Z are taken as they are. --dry-run prints the plan. Exit 0 when every request succeeded,',
      '1 when some failed or the run was interrupted, 2 for a usage error or a missing ENTSOE_TOKEN.',
    ].join('\n'),
    options: {
      from: { type: 'string' },
      to: { type: 'string' },
      zones: { type: 'string' },
      documents: { type: 'string' },
      concurrency: { type: 'string' },
      'requests-per-minute': { type: 'string' },
      'time-zone': { type: 'string' },
      fresh: { type: 'boolean' },
      'dry-run': { type: 'boolean' },
    },
    run: (ctx, args) => run(ctx, args, open),
  };
}

/** The command as registered before the lead wires a runtime: plans (`--dry-run`) and says what is missing. */
export const backfillCommand: Command = createBackfillCommand(notWired);
