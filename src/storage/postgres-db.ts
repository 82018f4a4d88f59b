import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { Logger } from '../observability/index.ts';
import { copyStatement, copyTextPieces } from './copy-text.ts';
import type { CopyValue, Db, DbCallOptions, DbSubscription, DbTransaction, QueryResult } from './db.ts';
import { StorageError, isSqlError, toStorageError } from './errors.ts';
import { listenPostgres } from './pg-listener.ts';

/** Options of {@link openPostgresDb}. */
export interface PostgresDbOptions {
  readonly url: string;
  readonly schema: string | null;
  readonly logger: Logger;
  /** Most connections the pool opens. @default 10 */
  readonly poolSize?: number;
  /** How long to wait for a connection before failing with a retryable `db_unavailable`. @default 10 000 */
  readonly connectTimeoutMs?: number;
}

const INT8_OID = 20;

// int8 holds counts and offsets here, all far below 2^53; numbers are simpler to use than strings and are what
// PGlite returns too.
const defaultParser = pg.types.getTypeParser.bind(pg.types) as (oid: number, format: string) => unknown;
const types = {
  getTypeParser: (oid: number, format: string) => (oid === INT8_OID ? Number : defaultParser(oid, format)),
} as unknown as pg.CustomTypesConfig;

/** Opens a node-postgres pool. Connections are made lazily, so an unreachable server fails the first call. */
export function openPostgresDb(options: PostgresDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    idleTimeoutMillis: 30_000,
    application_name: 'gridstream',
    // search_path set at connection start, so every statement (and every function without its own path) of
    // every pooled connection resolves names in the configured schema.
    ...(options.schema === null ? {} : { options: `-c search_path=${options.schema}` }),
    types,
  });
  // An idle connection the server drops (restart, admin shutdown) emits 'error' on the pool; without a listener
  // Node would crash the process. The next checkout simply opens a new connection.
  pool.on('error', (error) => {
    options.logger.warn({ err: error.message }, 'idle PostgreSQL connection lost');
  });
  let closed = false;
  const subscriptions = new Set<DbSubscription>();

  const checkOpen = (): void => {
    if (closed) throw new StorageError('db.closed', 'the database has been closed');
  };

  // A checked-out client whose connection dies emits 'error' on itself, and the pool only listens while the
  // client is idle: without this listener the process would crash. The failing query rejects on its own.
  const lost = new WeakSet<pg.PoolClient>();
  const onClientError = new WeakMap<pg.PoolClient, (error: Error) => void>();

  async function connect(signal: AbortSignal | undefined): Promise<pg.PoolClient> {
    checkOpen();
    signal?.throwIfAborted();
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      throw toStorageError(error, 'cannot connect to PostgreSQL');
    }
    const listener = (error: Error): void => {
      lost.add(client);
      options.logger.warn({ err: error.message }, 'PostgreSQL connection lost');
    };
    onClientError.set(client, listener);
    client.on('error', listener);
    return client;
  }

  /** Returns a client to the pool, or destroys it when its connection is (or may be) broken. */
  function release(client: pg.PoolClient, broken: boolean): void {
    const listener = onClientError.get(client);
    if (listener !== undefined) client.off('error', listener);
    client.release(broken || lost.has(client));
  }

  /** Runs a statement on `client`; on abort, asks the server to cancel it and throws the abort reason. */
  async function run<Row>(
    client: pg.PoolClient,
    sql: string,
    params: readonly unknown[] | undefined,
    signal: AbortSignal | undefined,
    name?: string,
  ): Promise<QueryResult<Row>> {
    signal?.throwIfAborted();
    const onAbort = (): void => {
      const pid = (client as unknown as { processID: number | null }).processID;
      if (pid !== null) pool.query('SELECT pg_cancel_backend($1)', [pid]).catch(() => undefined);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const values = params === undefined ? undefined : [...params];
      const out = (await client.query<pg.QueryResultRow>(
        name === undefined ? { text: sql, values } : { name, text: sql, values },
      )) as pg.QueryResult | pg.QueryResult[];
      // A script of several statements (simple protocol) answers with one result per statement.
      const result = Array.isArray(out) ? out[out.length - 1] : out;
      const rows = (result?.rows ?? []) as Row[];
      return { rows, rowCount: result?.rowCount ?? rows.length };
    } catch (error) {
      signal?.throwIfAborted();
      throw toStorageError(error, 'PostgreSQL statement failed');
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  function transactionHandle(client: pg.PoolClient): DbTransaction {
    const copyText = async (table: string, columns: readonly string[], pieces: Iterable<string>, o?: DbCallOptions) => {
      o?.signal?.throwIfAborted();
      const stream = client.query(copyFrom(copyStatement(table, columns, 'STDIN')));
      try {
        await pipeline(Readable.from(pieces), stream, o?.signal === undefined ? {} : { signal: o.signal });
      } catch (error) {
        o?.signal?.throwIfAborted();
        throw toStorageError(error, `COPY into ${table} failed`);
      }
      return stream.rowCount;
    };
    return {
      query: <Row>(sql: string, params?: readonly unknown[], o?: DbCallOptions) =>
        run<Row>(client, sql, params, o?.signal, o?.name),
      exec: async (sql, o) => {
        await run(client, sql, undefined, o?.signal);
      },
      copyText,
      copyRows: (table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>, o?: DbCallOptions) =>
        copyText(table, columns, copyTextPieces(rows), o),
    };
  }

  const query = async <Row>(sql: string, params?: readonly unknown[], o?: DbCallOptions) => {
    const client = await connect(o?.signal);
    let broken = false;
    try {
      return await run<Row>(client, sql, params, o?.signal, o?.name);
    } catch (error) {
      broken = isConnectionLost(error);
      throw error;
    } finally {
      release(client, broken);
    }
  };

  return {
    kind: 'postgres',
    schema: options.schema,
    query,
    async exec(sql, o) {
      await query(sql, undefined, o);
    },
    async transaction<T>(fn: (tx: DbTransaction) => Promise<T>, o?: DbCallOptions): Promise<T> {
      const client = await connect(o?.signal);
      let broken = false;
      // What `fn` itself threw goes back to the caller as it is (a caller's own error is not the database's).
      let own: { readonly error: unknown } | undefined;
      try {
        await run(client, 'BEGIN', undefined, o?.signal);
        const result = await fn(transactionHandle(client)).catch((error: unknown) => {
          own = { error };
          throw error;
        });
        // A COMMIT whose answer is lost (connection gone) leaves the outcome unknown: the retryable error makes
        // the caller write the batch again, which is safe because every write here is idempotent or fenced by
        // stored offsets.
        await run(client, 'COMMIT', undefined, undefined);
        return result;
      } catch (error) {
        broken = isConnectionLost(error);
        if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
        if (own?.error === error && !isSqlError(error)) throw error;
        throw toStorageError(error, 'transaction failed');
      } finally {
        release(client, broken);
      }
    },
    async listen(channel, handlers) {
      checkOpen();
      const subscription = await listenPostgres(
        { connectionString: options.url, connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000 },
        channel,
        handlers,
        options.logger,
      );
      // Closed while the LISTEN connection was being made: close() did not see it, so it must not stay open.
      if (closed) {
        await subscription.close();
        throw new StorageError('db.closed', 'the database has been closed');
      }
      subscriptions.add(subscription);
      return {
        get live() {
          return subscription.live;
        },
        async close() {
          subscriptions.delete(subscription);
          await subscription.close();
        },
      };
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([...subscriptions].map((s) => s.close()));
      subscriptions.clear();
      await pool.end();
    },
  };
}

function isConnectionLost(error: unknown): boolean {
  return error instanceof StorageError && error.code === 'db.unavailable';
}
