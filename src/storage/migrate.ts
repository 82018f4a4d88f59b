import { createHash } from 'node:crypto';
import { readFile, readdir } from 'node:fs/promises';
import type { Logger } from '../observability/index.ts';
import type { Db, DbTransaction } from './db.ts';
import { quoteIdent } from './db.ts';
import { StorageError } from './errors.ts';

/** One SQL migration file, `migrations/NNNN_name.sql`. */
export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
  readonly checksum: string;
}

/** What {@link migrate} did. */
export interface MigrateResult {
  /** The schema migrated (`null`: the server's default). */
  readonly schema: string | null;
  /** Migrations applied by this call, in order. */
  readonly applied: readonly { readonly version: number; readonly name: string; readonly ms: number }[];
  /** Highest version now applied. */
  readonly version: number;
  /** Versions recorded in the database that this code does not know (a newer release migrated it). */
  readonly unknown: readonly number[];
}

const MIGRATIONS_DIR = new URL('./migrations/', import.meta.url);
const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** The migration files shipped with this release, in version order. */
export async function loadMigrations(): Promise<Migration[]> {
  const files = (await readdir(MIGRATIONS_DIR)).filter((f) => f.endsWith('.sql')).sort();
  const migrations: Migration[] = [];
  for (const file of files) {
    const m = FILE_NAME.exec(file);
    if (m === null) throw new StorageError('db.migration_invalid', `migration file name ${file} is not NNNN_name.sql`);
    const sql = await readFile(new URL(file, MIGRATIONS_DIR), 'utf8');
    const version = Number(m[1]);
    if (version !== migrations.length + 1) {
      throw new StorageError(
        'db.migration_invalid',
        `migration ${file} breaks the sequence (expected version ${migrations.length + 1})`,
      );
    }
    migrations.push({ version, name: m[2] ?? '', sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  return migrations;
}

// Serialises migrators of one schema across processes. Transaction-scoped, so a crashed migrator cannot leave it
// held; each migration takes it again and re-checks what is applied, so concurrent starters apply each file once.
const LOCK = `SELECT pg_advisory_xact_lock(hashtext('gridstream.migrate:' || coalesce($1::text, current_schema(), 'public')))`;

async function lockAndPrepare(tx: DbTransaction, schema: string | null): Promise<Map<number, string>> {
  await tx.query(LOCK, [schema]);
  if (schema !== null) await tx.exec(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(schema)}`);
  await tx.exec(
    `CREATE TABLE IF NOT EXISTS gridstream_migrations (
       version integer PRIMARY KEY,
       name text NOT NULL,
       checksum text NOT NULL,
       applied_at timestamptz NOT NULL DEFAULT now(),
       duration_ms integer NOT NULL
     )`,
  );
  const { rows } = await tx.query<{ version: number; checksum: string }>(
    'SELECT version, checksum FROM gridstream_migrations ORDER BY version',
  );
  return new Map(rows.map((r) => [r.version, r.checksum]));
}

/**
 * Applies the pending migrations in order, each in its own transaction, recorded in `gridstream_migrations`.
 * Safe to call from many workers at once (a PostgreSQL advisory lock per schema serialises them; the losers find
 * nothing left to do) and on every start (applied migrations are skipped).
 * @throws StorageError `migration_invalid` when an applied migration's file has changed since.
 */
export async function migrate(
  db: Db,
  options: { readonly signal?: AbortSignal; readonly logger?: Logger; readonly migrations?: readonly Migration[] } = {},
): Promise<MigrateResult> {
  const migrations = options.migrations ?? (await loadMigrations());
  const signal = options.signal;
  let known = await db.transaction((tx) => lockAndPrepare(tx, db.schema), { signal });
  for (const m of migrations) {
    const applied = known.get(m.version);
    if (applied !== undefined && applied !== m.checksum) {
      throw new StorageError(
        'db.migration_invalid',
        `migration ${m.version} (${m.name}) was changed after it was applied; add a new migration instead`,
        { retryable: false, details: { version: m.version } },
      );
    }
  }
  const done: { version: number; name: string; ms: number }[] = [];
  for (const m of migrations) {
    if (known.has(m.version)) continue;
    const started = performance.now();
    const ran = await db.transaction(
      async (tx) => {
        known = await lockAndPrepare(tx, db.schema);
        if (known.has(m.version)) return false; // another worker applied it while we waited for the lock
        await tx.exec(m.sql, { signal });
        await tx.query(
          'INSERT INTO gridstream_migrations (version, name, checksum, duration_ms) VALUES ($1, $2, $3, $4)',
          [m.version, m.name, m.checksum, Math.round(performance.now() - started)],
        );
        return true;
      },
      { signal },
    );
    if (ran) {
      const ms = Math.round(performance.now() - started);
      done.push({ version: m.version, name: m.name, ms });
      options.logger?.info({ version: m.version, name: m.name, ms, schema: db.schema }, 'migration applied');
    }
  }
  const last = migrations.at(-1)?.version ?? 0;
  const unknown = [...known.keys()].filter((v) => v > last);
  if (unknown.length > 0) {
    options.logger?.warn({ unknown }, 'the database has migrations this release does not know (a newer release ran)');
  }
  return { schema: db.schema, applied: done, version: Math.max(last, ...known.keys()), unknown };
}
