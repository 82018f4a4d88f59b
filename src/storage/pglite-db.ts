import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Transaction } from '@electric-sql/pglite';
import type { Logger } from '../observability/index.ts';
import { copyStatement, copyTextPieces } from './copy-text.ts';
import type { CopyValue, Db, DbCallOptions, DbTransaction, QueryResult } from './db.ts';
import { StorageError, isSqlError, toStorageError } from './errors.ts';
import { LockHeldError, acquireDirLock } from '../common/index.ts';

/** Options of {@link openPgliteDb}. */
export interface PgliteDbOptions {
  /** gridstream's data dir; the database lives in `<dataDir>/pglite`. */
  readonly dataDir: string;
  readonly schema: string | null;
  readonly logger: Logger;
}

type PgliteRunner = Pick<Transaction, 'query' | 'exec'>;

/**
 * Opens (creating on first use) the embedded PostgreSQL under the data dir. PGlite is one single-user backend:
 * statements and transactions are serialised by PGlite itself, and only one process may open a directory at a
 * time, which a lock file next to it enforces.
 */
export async function openPgliteDb(options: PgliteDbOptions): Promise<Db> {
  await mkdir(options.dataDir, { recursive: true });
  const lock = await acquireDirLock(join(options.dataDir, 'pglite.lock'), {
    what: 'the embedded database',
  }).catch((error: unknown) => {
    throw error instanceof LockHeldError
      ? new StorageError('db.locked', error.message, { retryable: false, cause: error, details: error.details })
      : error;
  });
  let pglite: PGlite;
  try {
    pglite = await PGlite.create(join(options.dataDir, 'pglite'));
    if (options.schema !== null) await pglite.exec(`SET search_path TO ${options.schema}`);
  } catch (error) {
    await lock.release();
    throw mapError(error, 'cannot open the embedded database');
  }
  options.logger.debug({ dataDir: options.dataDir }, 'embedded PostgreSQL (PGlite) opened');
  let closed = false;

  const checkOpen = (signal: AbortSignal | undefined): void => {
    if (closed) throw new StorageError('db.closed', 'the database has been closed');
    signal?.throwIfAborted();
  };

  // PGlite cannot interrupt a running statement; an abort takes effect before the next one.
  function handle(runner: PgliteRunner): DbTransaction {
    // The caller states the row type (see Queryable.query); PGlite returns plain objects.
    const query = (async (sql: string, params?: readonly unknown[], o?: DbCallOptions) => {
      checkOpen(o?.signal);
      try {
        const result = await runner.query<Record<string, unknown>>(sql, params === undefined ? [] : [...params]);
        const rowCount = result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0);
        return { rows: result.rows, rowCount } satisfies QueryResult<Record<string, unknown>>;
      } catch (error) {
        throw mapError(error, 'PGlite statement failed', pglite);
      }
    }) as DbTransaction['query'];
    const exec = async (sql: string, o?: DbCallOptions): Promise<void> => {
      checkOpen(o?.signal);
      try {
        await runner.exec(sql);
      } catch (error) {
        throw mapError(error, 'PGlite script failed', pglite);
      }
    };
    const copyText = async (table: string, columns: readonly string[], pieces: Iterable<string>, o?: DbCallOptions) => {
      checkOpen(o?.signal);
      const blob = new Blob([...pieces]);
      try {
        const result = await runner.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob });
        return result.affectedRows ?? 0;
      } catch (error) {
        throw mapError(error, `COPY into ${table} failed`, pglite);
      }
    };
    const copyRows = (
      table: string,
      columns: readonly string[],
      rows: Iterable<readonly CopyValue[]>,
      o?: DbCallOptions,
    ) => copyText(table, columns, copyTextPieces(rows), o);
    return { query, exec, copyText, copyRows };
  }

  const outside = handle(pglite);
  return {
    kind: 'pglite',
    schema: options.schema,
    query: (sql, params, o) => outside.query(sql, params, o),
    exec: (sql, o) => outside.exec(sql, o),
    async transaction<T>(fn: (tx: DbTransaction) => Promise<T>, o?: DbCallOptions): Promise<T> {
      checkOpen(o?.signal);
      // What `fn` itself threw goes back to the caller as it is (a caller's own error is not the database's).
      let own: { readonly error: unknown } | undefined;
      try {
        return await pglite.transaction((tx) =>
          fn(handle(tx)).catch((error: unknown) => {
            own = { error };
            throw error;
          }),
        );
      } catch (error) {
        if (own?.error === error && !isSqlError(error)) throw error;
        throw mapError(error, 'transaction failed', pglite);
      }
    },
    // In-process: a NOTIFY from any statement of this PGlite reaches its listeners; only one process opens it.
    async listen(channel, handlers) {
      checkOpen(undefined);
      let active = true;
      const unlisten = await pglite.listen(channel, (payload) => {
        handlers.onNotify(payload);
      });
      return {
        get live() {
          return active && !closed;
        },
        async close() {
          if (!active) return;
          active = false;
          if (!closed) await unlisten().catch(() => undefined);
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await pglite.close();
      } finally {
        await lock.release();
      }
    },
  };
}

/** PGlite runs in this process: an error without a SQLSTATE is a fault of the engine, not a network blip. */
function mapError(error: unknown, what: string, engine?: PGlite): unknown {
  if (error instanceof StorageError) return error;
  if (isSqlError(error)) return toStorageError(error, what);
  if (error instanceof DOMException) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = engine?.closed === true ? 'db.closed' : 'db.error';
  return new StorageError(code, `${what}: ${message}`, { cause: error, retryable: false });
}
