import { Secret } from '../config/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from './db.ts';
import { SCHEMA_NAME } from './db.ts';
import { StorageError } from './errors.ts';
import { openPgliteDb } from './pglite-db.ts';
import { openPostgresDb } from './postgres-db.ts';

/** Options of {@link openDb}. */
export interface OpenDbOptions {
  /**
   * PostgreSQL connection string (`Config.databaseUrl`). `null`/absent opens the embedded PGlite database under
   * `<dataDir>/pglite` instead.
   */
  readonly url?: Secret | string | null;
  /** gridstream's data dir (`Config.dataDir`); used only by the embedded database. */
  readonly dataDir: string;
  /**
   * Schema holding every gridstream table (lower-case identifier). Tests use a fresh one each; deployments may
   * share one database between environments. Created by {@link migrate} when missing.
   * @default the server's search path (`public`)
   */
  readonly schema?: string | null;
  readonly logger: Logger;
  /** PostgreSQL only: most pooled connections. @default 10 */
  readonly poolSize?: number;
  /** PostgreSQL only: wait for a free or new connection before `db_unavailable`. @default 10 000 */
  readonly connectTimeoutMs?: number;
}

/**
 * Opens the database gridstream is configured for: PostgreSQL when a URL is given, else PGlite. Run
 * {@link migrate} before using the tables.
 *
 * @example
 * const db = await openDb({ url: config.databaseUrl, dataDir: config.dataDir, logger });
 * await migrate(db, { logger });
 */
export async function openDb(options: OpenDbOptions): Promise<Db> {
  const schema = options.schema ?? null;
  if (schema !== null && !SCHEMA_NAME.test(schema)) {
    throw new StorageError('db.query_failed', `invalid schema name ${JSON.stringify(schema)}`, { retryable: false });
  }
  const url = options.url instanceof Secret ? options.url.reveal() : (options.url ?? null);
  if (url === null || url === '') return openPgliteDb({ dataDir: options.dataDir, schema, logger: options.logger });
  return openPostgresDb({
    url,
    schema,
    logger: options.logger,
    ...(options.poolSize === undefined ? {} : { poolSize: options.poolSize }),
    ...(options.connectTimeoutMs === undefined ? {} : { connectTimeoutMs: options.connectTimeoutMs }),
  });
}

/**
 * Which database a configuration points at, for humans: `PostgreSQL at host:5432/db` (never the user or password)
 * or `embedded PGlite in <dataDir>/pglite`.
 */
export function describeDatabase(url: Secret | string | null | undefined, dataDir: string): string {
  const text = url instanceof Secret ? url.reveal() : (url ?? '');
  if (text === '') return `embedded PGlite in ${dataDir}/pglite`;
  try {
    const u = new URL(text);
    return `PostgreSQL at ${u.hostname}${u.port === '' ? '' : `:${u.port}`}${u.pathname}`;
  } catch {
    return 'PostgreSQL';
  }
}
