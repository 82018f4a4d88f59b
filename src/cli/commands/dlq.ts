import type { DlqEntry, Refetcher } from '../../dlq/index.ts';
import {
  listDeadLetters,
  pageDeadLetters,
  parseFilter,
  recordReplay,
  replayDeadLetters,
  showDeadLetter,
} from '../../dlq/index.ts';
import { buildSchedulerRole } from '../../runtime/index.ts';
import type { Command, ParsedArgs } from '../command.ts';
import { EXIT, UsageError, stringOption } from '../command.ts';
import { withInfra } from '../data.ts';
import { LineWriter } from '../output.ts';

function filterOf(args: ParsedArgs) {
  try {
    return parseFilter(stringOption(args, 'filter'));
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

function describeEntry(e: DlqEntry): string {
  const l = e.letter;
  if (l === null)
    return `${e.topic}/${e.partition}/${e.offset}  ${e.timestamp}  (invalid envelope: ${e.invalid ?? ''})`;
  const source =
    l.source !== null
      ? `${l.source.topic}/${l.source.partition}/${l.source.offset}`
      : typeof l.position?.['mqttTopic'] === 'string'
        ? `mqtt ${l.position['mqttTopic']}`
        : typeof l.position?.['endpoint'] === 'string'
          ? `http ${l.position['endpoint']}`
          : 'fetch';
  return `${e.topic}/${e.partition}/${e.offset}  ${e.timestamp}  ${l.reason.padEnd(22)} from ${source.padEnd(24)} ${l.message.slice(0, 120)}`;
}

const options = {
  filter: { type: 'string', short: 'f' },
  limit: { type: 'string', short: 'n' },
  format: { type: 'string' },
} as const;

export const dlqListCommand: Command = {
  name: 'dlq list',
  summary: 'List dead letters of a DLQ topic (dlq-ingestion, dlq-processing, dlq-storage)',
  usage: 'dlq list <topic> [--filter reason=…,source=…,text=…] [--limit n] [--format text|ndjson]',
  options,
  positionals: [1, 1],
  usesData: true,
  run: (ctx, args) =>
    withInfra(ctx, async (infra) => {
      const topic = args.positionals[0] ?? '';
      const limit = Number(stringOption(args, 'limit') ?? '100');
      if (!Number.isInteger(limit) || limit < 1) throw new UsageError('--limit must be a positive whole number');
      // The scan goes on past the page to count every match (streamed, nothing held), so that a partial list says so.
      const { entries, matched } = await pageDeadLetters(infra.log, topic, {
        filter: filterOf(args),
        limit,
        count: true,
      }).catch((e: unknown) => {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      });
      const out = new LineWriter(ctx.stdout);
      for (const e of entries)
        await out.line(stringOption(args, 'format') === 'ndjson' ? JSON.stringify(e) : describeEntry(e));
      await out.flush();
      const total = matched ?? entries.length;
      const n = (x: number): string => x.toLocaleString('en-US');
      ctx.stderr.write(
        total > entries.length
          ? `showing ${n(entries.length)} of ${n(total)} dead letters (raise --limit to see more)\n`
          : `${n(total)} dead letter${total === 1 ? '' : 's'}\n`,
      );
      return EXIT.ok;
    }),
};

export const dlqShowCommand: Command = {
  name: 'dlq show',
  summary: 'Show one dead letter with its payload: dlq show <topic> <partition> <offset>',
  usage: 'dlq show <topic> <partition> <offset>',
  positionals: [3, 3],
  usesData: true,
  run: (ctx, args) =>
    withInfra(ctx, async (infra) => {
      const [topic = '', partition = '', offset = ''] = args.positionals;
      const entry = await showDeadLetter(infra.log, topic, Number(partition), Number(offset)).catch((e: unknown) => {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      });
      if (entry === undefined) {
        ctx.stderr.write(`no record at ${topic}/${partition}/${offset}\n`);
        return EXIT.failure;
      }
      ctx.stdout.write(`${JSON.stringify(entry, null, 2)}\n`);
      return EXIT.ok;
    }),
};

export const dlqReplayCommand: Command = {
  name: 'dlq replay',
  summary:
    'Replay dead letters to their source (ingestion failures are fetched again); replaying twice duplicates nothing',
  usage: 'dlq replay <topic> [--filter reason=…,source=…,text=…] [--limit n]',
  options,
  positionals: [1, 1],
  usesData: true,
  run: (ctx, args) =>
    withInfra(ctx, async (infra) => {
      const topic = args.positionals[0] ?? '';
      const entries = await listDeadLetters(infra.log, topic, {
        filter: filterOf(args),
        limit: Number(stringOption(args, 'limit') ?? '100000'),
      }).catch((e: unknown) => {
        throw new UsageError(e instanceof Error ? e.message : String(e));
      });
      let refetch: Refetcher | undefined;
      if (topic === 'dlq-ingestion') {
        const role = await buildSchedulerRole(infra);
        refetch = async (letter, o) => {
          await role.replay(letter, o);
        };
      }
      const result = await replayDeadLetters(infra.log, entries, {
        ...(refetch === undefined ? {} : { refetch }),
        record: (e) => recordReplay(infra.db, e),
        // Refused readings are checked again against this deployment's rules, like at ingest.
        readingRules: { earliest: infra.config.ingest.earliestReading, maxAheadMs: infra.config.ingest.maxAheadMs },
      });
      ctx.stdout.write(`selected ${entries.length}, replayed ${result.replayed}, failed ${result.failed.length}\n`);
      for (const f of result.failed) ctx.stderr.write(`  ${f.topic}/${f.partition}/${f.offset}: ${f.reason}\n`);
      return result.failed.length > 0 ? EXIT.failure : EXIT.ok;
    }),
};
