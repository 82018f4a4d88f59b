import { errorCode, errorMessage, isRetryable } from '../../common/index.ts';
import { loadConfig } from '../../config/index.ts';
import { describeDatabase, ensurePartitionsAhead, migrate } from '../../storage/index.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError, stringOption } from '../command.ts';
import { commandLogger, withDb } from '../data.ts';

/** `gridstream migrate`: applies the SQL migrations and creates the time partitions ahead. */
export const migrateCommand: Command = {
  name: 'migrate',
  summary: 'Create or upgrade the database schema (PostgreSQL with DATABASE_URL, else the embedded PGlite)',
  usage: 'migrate [--schema <name>]',
  details: [
    'Applies the SQL migrations this release ships that the database has not seen, in order, each in its own',
    'transaction, and records them in gridstream_migrations. Safe to run on every start and from several',
    'processes at once (an advisory lock per schema serialises them). Then creates the time partitions of the',
    'meter tables for the days ahead.',
    '',
    'Prints one line per migration applied, then the schema version. Exit 1 when the database is unreachable or a',
    'migration fails (nothing of a failed migration is kept); a retry is safe.',
    '',
    '  --schema <name>   put every table in this schema (created when missing) instead of the default',
    '',
    'Reads DATABASE_URL (PostgreSQL) or GRIDSTREAM_DATA_DIR (embedded PGlite in <dir>/pglite).',
  ].join('\n'),
  options: { schema: { type: 'string' } },
  usesData: true,
  async run(ctx, args) {
    const config = loadConfig(ctx.env);
    const logger = commandLogger(ctx);
    const schema = stringOption(args, 'schema') ?? null;
    try {
      return await withDb(ctx, { schema, logger }, async (db) => {
        const result = await migrate(db, { signal: ctx.signal, logger });
        for (const m of result.applied) {
          ctx.stdout.write(`applied ${String(m.version).padStart(4, '0')}_${m.name} (${m.ms} ms)\n`);
        }
        const partitions = await ensurePartitionsAhead(db, { signal: ctx.signal });
        const where = `${describeDatabase(config.databaseUrl, config.dataDir)}${schema === null ? '' : `, schema ${schema}`}`;
        ctx.stdout.write(
          result.applied.length === 0
            ? `${where}: up to date at version ${result.version}\n`
            : `${where}: now at version ${result.version} (${result.applied.length} applied)\n`,
        );
        if (partitions > 0) ctx.stdout.write(`created ${partitions} time partitions\n`);
        if (result.unknown.length > 0) {
          ctx.stderr.write(
            `warning: the database has newer migrations (${result.unknown.join(', ')}) than this release\n`,
          );
        }
        return EXIT.ok;
      });
    } catch (error) {
      if (error instanceof UsageError) throw error;
      const hint = isRetryable(error) ? ' (the database is unreachable or busy; try again)' : '';
      ctx.stderr.write(`gridstream migrate: ${errorCode(error)}: ${errorMessage(error)}${hint}\n`);
      return EXIT.failure;
    }
  },
};
