import { join } from 'node:path';
import { codedError, errorMessage, lockHolder } from '../../common/index.ts';
import type { Config } from '../../config/index.ts';
import { configSecrets, loadConfig } from '../../config/index.ts';
import { createLogger } from '../../observability/index.ts';
import type { Infrastructure, Role } from '../../runtime/index.ts';
import {
  ROLES,
  ROLE_DESCRIPTIONS,
  controlServer,
  forwardedEnv,
  instanceMismatch,
  parseRoles,
  startRuntime,
  simulatedFleet,
} from '../../runtime/index.ts';
import type { Command, CommandContext } from '../command.ts';
import { EXIT, UsageError } from '../command.ts';
import { ownsDataDir } from '../instance.ts';
import { runCli } from '../run-cli.ts';

/** The pid of a live gridstream that holds this configuration's data directory, if any. */
async function runningInstance(config: Config): Promise<number | undefined> {
  if (!ownsDataDir(config)) return undefined;
  const locks = [join(config.dataDir, 'pglite.lock'), join(config.dataDir, 'log', 'LOCK')];
  for (const lock of locks) {
    const holder = await lockHolder(lock);
    if (holder !== undefined) return holder.pid;
  }
  return undefined;
}

/**
 * The control socket of an embedded instance: the commands that need the data directory (`keys`, `dlq`, `export`,
 * `migrate`, `backfill`) run inside this process, on its open log and database.
 */
function controlSocket(ctx: CommandContext, config: Config, infra: Infrastructure) {
  const commands = ctx.commands ?? [];
  return controlServer({
    dataDir: config.dataDir,
    logger: infra.logger.child({ component: 'control-socket' }),
    check: (request) => instanceMismatch({ env: ctx.env, cwd: ctx.cwd }, request),
    handler: (request, io) =>
      runCli(request.argv, commands, {
        env: forwardedEnv(ctx.env, request.env),
        stdout: io.stdout,
        stderr: io.stderr,
        signal: io.signal,
        cwd: request.cwd,
        instance: { infra },
      }),
  });
}

/**
 * Runs roles until SIGTERM/SIGINT, then stops gracefully: no new work, in-flight batches finished and committed,
 * exit 0 within GRIDSTREAM_SHUTDOWN_GRACE_MS. A component failing on its own exits 1.
 */
export async function runRoles(ctx: CommandContext, roles: readonly Role[]): Promise<number> {
  const config = loadConfig(ctx.env);
  const logger = createLogger({
    level: config.logLevel,
    format: config.logFormat,
    destination: ctx.stderr,
    secrets: configSecrets(config),
  });
  const pid = await runningInstance(config);
  if (pid !== undefined) {
    ctx.stderr.write(
      `gridstream: already running in ${config.dataDir} (process ${pid}). Stop it first, or give this one its own GRIDSTREAM_DATA_DIR.\n` +
        'Commands such as "gridstream keys create" work while it runs: they go through the running instance.\n',
    );
    return EXIT.failure;
  }
  let runtime;
  try {
    runtime = await startRuntime({
      config,
      logger,
      roles,
      signal: ctx.signal,
      extra: (infra: Infrastructure) => [
        ...(ownsDataDir(config) ? [controlSocket(ctx, config, infra)] : []),
        // The embedded default without servers: a labelled simulated fleet keeps the meter pages alive.
        ...(roles.includes('ingest') &&
        config.databaseUrl === null &&
        config.kafkaBrokers === null &&
        config.meters.simulatedMeters > 0
          ? [simulatedFleet(infra, config.meters.simulatedMeters)]
          : []),
      ],
      onGeneratedAdminKey: (key) => {
        const host = config.host === '0.0.0.0' ? 'localhost' : config.host;
        ctx.stderr.write(
          [
            '',
            '  First admin API key (shown once, stored only as a hash: keep it):',
            '',
            `    ${key}`,
            '',
            `  Dashboard: http://${host}:${config.port}/#key=${key}`,
            '  (the key travels in the URL fragment, which the browser never sends to the server)',
            '  API: "Authorization: Bearer <key>". Set GRIDSTREAM_ADMIN_KEY to choose your own key instead.',
            '',
            '',
          ].join('\n'),
        );
      },
    });
  } catch (error) {
    if (ctx.signal.aborted) {
      logger.info('stopped while starting');
      return EXIT.ok;
    }
    // An expected condition (a port in use, a database that is down) is one clear line; only a bug logs its stack.
    const code = codedError(error)?.code;
    if (code === undefined) logger.fatal({ err: error }, 'gridstream could not start');
    ctx.stderr.write(
      `gridstream: could not start: ${code === undefined ? errorMessage(error) : `${code}: ${errorMessage(error)}`}\n`,
    );
    return EXIT.failure;
  }
  const aborted = new Promise<void>((resolve) => {
    if (ctx.signal.aborted) resolve();
    ctx.signal.addEventListener(
      'abort',
      () => {
        resolve();
      },
      { once: true },
    );
  });
  await Promise.race([aborted, runtime.supervisor.done]);
  const failed = runtime.supervisor.failure !== undefined;
  logger.info({ reason: failed ? 'component failure' : String(ctx.signal.reason) }, 'stopping');
  await runtime.stop();
  logger.info('stopped');
  logger.flush();
  return failed ? EXIT.failure : EXIT.ok;
}

export const runCommand: Command = {
  name: 'run',
  summary: 'Run one or more roles of a distributed deployment until stopped',
  usage: `run <role[,role…]>   roles: ${ROLES.join(', ')}`,
  details: [
    'Each role can run in any number of processes: processors share partitions through consumer groups, the',
    'scheduler elects one leader. Configure KAFKA_BROKERS and DATABASE_URL for a distributed deployment.',
    '',
    ...ROLES.map((r) => `  ${r.padEnd(10)} ${ROLE_DESCRIPTIONS[r]}`),
    '',
    'SIGTERM/SIGINT stop gracefully within GRIDSTREAM_SHUTDOWN_GRACE_MS; a second signal exits at once.',
  ].join('\n'),
  positionals: [1, 1],
  run(ctx, args) {
    const { roles, unknown } = parseRoles(args.positionals[0] ?? '');
    if (unknown.length > 0 || roles.length === 0) {
      throw new UsageError(`unknown role(s) ${unknown.join(', ') || '(none)'}; roles are ${ROLES.join(', ')}`);
    }
    return runRoles(ctx, roles);
  },
};

export const startCommand: Command = {
  name: 'start',
  summary: 'Run the whole platform in one process (embedded by default: PGlite + embedded log, dashboard on :8080)',
  usage: 'start',
  details: [
    'Runs every role in this process. Without KAFKA_BROKERS and DATABASE_URL nothing else is needed: state lives',
    'under GRIDSTREAM_DATA_DIR. Without ENTSOE_TOKEN the scheduler replays the bundled real ENTSO-E documents.',
  ].join('\n'),
  run(ctx) {
    return runRoles(ctx, ROLES);
  },
};
