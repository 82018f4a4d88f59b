import { configSecrets, loadConfig } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import { createLogger, createMetrics } from '../observability/index.ts';
import type { Infrastructure } from '../runtime/index.ts';
import { openInfrastructure } from '../runtime/index.ts';
import type { Db } from '../storage/index.ts';
import { migrate, openDb } from '../storage/index.ts';
import type { CommandContext } from './command.ts';
import { UsageError } from './command.ts';

/** A logger for a command: to its stderr, secrets scrubbed, `info` lowered to `warn` unless asked for. */
export function commandLogger(ctx: CommandContext, options: { readonly quiet?: boolean } = {}): Logger {
  const config = loadConfig(ctx.env);
  const level = options.quiet === true && config.logLevel === 'info' ? 'warn' : config.logLevel;
  return createLogger({ level, destination: ctx.stderr, format: config.logFormat, secrets: configSecrets(config) });
}

/**
 * Runs `fn` with a database: the running instance's when the command runs inside one (it holds the data
 * directory), else one opened for this command (migrated when asked) and closed after.
 */
export async function withDb<T>(
  ctx: CommandContext,
  options: { readonly schema?: string | null; readonly migrate?: boolean; readonly logger?: Logger },
  fn: (db: Db) => Promise<T>,
): Promise<T> {
  const schema = options.schema ?? null;
  if (ctx.instance !== undefined) {
    if (schema !== null && schema !== ctx.instance.infra.config.namespace)
      throw new UsageError('--schema cannot be used while a running instance holds the data directory');
    return fn(ctx.instance.infra.db);
  }
  const config = loadConfig(ctx.env);
  const logger = options.logger ?? commandLogger(ctx, { quiet: true });
  const db = await openDb({
    url: config.databaseUrl,
    dataDir: config.dataDir,
    schema: schema ?? config.namespace,
    logger,
  });
  try {
    if (options.migrate === true) await migrate(db);
    return await fn(db);
  } finally {
    await db.close();
  }
}

/** Runs `fn` with the log and the database: the running instance's, or opened for this command and closed after. */
export async function withInfra<T>(ctx: CommandContext, fn: (infra: Infrastructure) => Promise<T>): Promise<T> {
  if (ctx.instance !== undefined) return fn(ctx.instance.infra);
  const config = loadConfig(ctx.env);
  const infra = await openInfrastructure(
    config,
    commandLogger(ctx, { quiet: true }),
    createMetrics({ defaultMetrics: false }),
  );
  try {
    return await fn(infra);
  } finally {
    await infra.close();
  }
}
