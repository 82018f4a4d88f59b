import { join } from 'node:path';
import { errorCode, errorMessage } from '../../common/index.ts';
import { loadConfig } from '../../config/index.ts';
import type { QuarantineReport } from '../../log/index.ts';
import { acknowledgeQuarantine, listQuarantine, quarantineDir, verifyLogDir } from '../../log/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { EXIT, UsageError } from '../command.ts';

/**
 * The embedded log's directory, or a usage error in distributed mode (Kafka keeps its own checksums and replicas).
 * These commands read the files directly, without the lock: they work beside a running instance.
 */
function embeddedLogDir(ctx: CommandContext): string {
  const config = loadConfig(ctx.env);
  if (config.kafkaBrokers !== null)
    throw new UsageError('KAFKA_BROKERS is set: the log is Kafka, these commands check the embedded log only');
  return join(config.dataDir, 'log');
}

const range = (r: { offsetFrom: number | null; offsetTo: number | null }): string =>
  r.offsetFrom === null
    ? 'no offsets'
    : r.offsetFrom === r.offsetTo
      ? `offset ${r.offsetFrom}`
      : `offsets ${r.offsetFrom}-${r.offsetTo ?? '?'}`;

function reportLine(r: QuarantineReport): string {
  const state =
    r.kind === 'torn-tail'
      ? 'torn tail (never acknowledged)'
      : r.acknowledgedAt === null
        ? 'PENDING'
        : `acknowledged ${r.acknowledgedAt}`;
  return `${r.id}  ${r.topic}/${r.partition}  ${range(r)}  ${r.segment} bytes ${r.byteStart}-${r.byteEnd}  ${r.reason}  found at ${r.foundAt} ${r.detectedAt}  ${state}\n`;
}

async function failed(ctx: CommandContext, what: string, error: unknown): Promise<number> {
  if (error instanceof UsageError) throw error;
  ctx.stderr.write(`gridstream ${what}: ${errorCode(error)}: ${errorMessage(error)}\n`);
  return Promise.resolve(EXIT.failure);
}

/** `gridstream log verify`: checks every segment of the embedded log. */
export const logVerifyCommand: Command = {
  name: 'log verify',
  summary: 'Check every segment of the embedded log (frame lengths, CRCs, offsets)',
  usage: 'log verify',
  details: [
    'Reads every segment file of the embedded log under GRIDSTREAM_DATA_DIR/log and checks each record frame: its',
    'length, its CRC-32 and that offsets increase within and across segments. Ranges already moved to the quarantine',
    'are skipped. Changes nothing and takes no lock, so it can run beside a running instance.',
    '',
    'Prints a summary, then one line per problem. Exit 0 when every frame is valid and no quarantined corruption',
    'awaits acknowledgement; exit 1 on corruption (start the instance to quarantine it, see `gridstream log',
    'quarantine list`) or pending quarantine reports. An incomplete last frame of a partition (an append in',
    'progress, or a torn tail that the next start truncates) is shown but is not corruption.',
  ].join('\n'),
  async run(ctx) {
    const dir = embeddedLogDir(ctx);
    try {
      const report = await verifyLogDir(dir, { signal: ctx.signal });
      const corrupt = report.problems.filter((p) => p.kind === 'corruption');
      ctx.stdout.write(
        `${dir}: ${report.topics} topics, ${report.partitions} partitions, ${report.segments} segments, ${report.records} records, ${report.bytes} bytes` +
          `${report.quarantinedBytes > 0 ? ` (${report.quarantinedBytes} quarantined bytes skipped)` : ''}\n`,
      );
      for (const p of report.problems) {
        ctx.stdout.write(
          `${p.kind === 'corruption' ? 'CORRUPT' : 'torn tail'}  ${p.topic}/${p.partition}  ${p.segment} bytes ${p.byteStart}-${p.byteEnd}  after offset ${p.afterOffset ?? 'none'}  ${p.reason}\n`,
        );
      }
      for (const r of report.pending) ctx.stdout.write(`quarantine pending: ${reportLine(r)}`);
      const ok = corrupt.length === 0 && report.pending.length === 0;
      ctx.stdout.write(
        ok
          ? 'ok: every record frame is valid\n'
          : `${corrupt.length} corrupt range(s), ${report.pending.length} quarantine report(s) awaiting acknowledgement\n`,
      );
      return ok ? EXIT.ok : EXIT.failure;
    } catch (error) {
      return failed(ctx, 'log verify', error);
    }
  },
};

/** `gridstream log quarantine list`. */
export const logQuarantineListCommand: Command = {
  name: 'log quarantine list',
  summary: 'List the damaged byte ranges the embedded log moved to its quarantine',
  usage: 'log quarantine list',
  details: [
    'One line per report in GRIDSTREAM_DATA_DIR/log/quarantine: id, topic/partition, the offsets of the records',
    'lost with the damage, segment file and byte range, reason, when it was found and whether an operator has',
    'acknowledged it. The damaged bytes themselves are in <id>.bin beside the report (<id>.json).',
    'Exit 0 (also when the quarantine is empty).',
  ].join('\n'),
  async run(ctx) {
    const dir = embeddedLogDir(ctx);
    try {
      const reports = await listQuarantine(dir);
      if (reports.length === 0) ctx.stdout.write('the quarantine is empty\n');
      for (const r of reports) ctx.stdout.write(reportLine(r));
      if (reports.length > 0) ctx.stdout.write(`files: ${quarantineDir(dir)}\n`);
      return EXIT.ok;
    } catch (error) {
      return failed(ctx, 'log quarantine list', error);
    }
  },
};

/** `gridstream log quarantine ack`. */
export const logQuarantineAckCommand: Command = {
  name: 'log quarantine ack',
  summary: 'Acknowledge quarantined corruption, so that the instance reports ready again',
  usage: 'log quarantine ack (<id>… | --all)',
  details: [
    'Marks quarantine reports as seen by an operator. While a report of corruption is pending, /readyz answers 503',
    '(unless GRIDSTREAM_LOG_ON_CORRUPTION=continue); a running instance notices the acknowledgement at its next',
    'readiness check. The records of the damaged range are not recovered: replay them from their source if you',
    'can (see the offsets in `gridstream log quarantine list`). The files stay in the quarantine directory.',
    '',
    '  --all   every pending report',
    '',
    'Prints the ids acknowledged. Exit 1 when an id is unknown (nothing is acknowledged then).',
  ].join('\n'),
  options: { all: { type: 'boolean' } },
  positionals: [0, 100],
  async run(ctx, args) {
    const all = args.values['all'] === true;
    if (all === args.positionals.length > 0) throw new UsageError('give report ids or --all (one of the two)');
    const dir = embeddedLogDir(ctx);
    try {
      const acknowledged = await acknowledgeQuarantine(dir, args.positionals);
      for (const id of acknowledged) ctx.stdout.write(`acknowledged ${id}\n`);
      if (acknowledged.length === 0) ctx.stdout.write('nothing was pending\n');
      return EXIT.ok;
    } catch (error) {
      return failed(ctx, 'log quarantine ack', error);
    }
  },
};

export const LOG_COMMANDS: readonly Command[] = [logVerifyCommand, logQuarantineListCommand, logQuarantineAckCommand];
