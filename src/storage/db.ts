/**
 * The Db port: what gridstream needs from a relational database, reduced to parameterised queries, transactions
 * and bulk COPY. Exactly two implementations: PostgreSQL through node-postgres (distributed mode) and PGlite,
 * PostgreSQL compiled to WebAssembly, under the data dir (embedded mode). One contract test suite runs against both.
 *
 * Values come back the same way from both: `int8` and `float8` as `number`, `numeric` as `string` (exact),
 * `timestamptz` as `Date`, arrays as arrays, `NULL` as `null`.
 */

/** Which implementation a {@link Db} is. */
export const DB_KINDS = ['postgres', 'pglite'] as const;
export type DbKind = (typeof DB_KINDS)[number];

/** Options of every I/O call. */
export interface DbCallOptions {
  /** Aborts the call: a running PostgreSQL statement is cancelled; PGlite stops before the next statement. */
  readonly signal?: AbortSignal;
  /**
   * Prepares the statement under this name on each PostgreSQL connection, which then plans it once rather than on
   * every call (PGlite ignores it). Only for a hot statement whose text never changes: one name, one text.
   */
  readonly name?: string;
}

/** Rows of a statement and how many it returned or affected. */
export interface QueryResult<Row> {
  readonly rows: Row[];
  /** Rows returned, or affected by an INSERT/UPDATE/DELETE/COPY. */
  readonly rowCount: number;
}

/** A value a row of {@link DbTransaction.copyRows} may hold. `null`/`undefined` become SQL `NULL`. */
export type CopyValue = string | number | boolean | Date | readonly string[] | null | undefined;

/** What can run statements: a {@link Db} (each call on any pooled connection) or a {@link DbTransaction}. */
export interface Queryable {
  /**
   * Runs one statement with `$1…$n` parameters. `Row` is the caller's description of the result columns; it is
   * not checked at run time, so keep it next to the SQL that produces it.
   * @throws StorageError (see `errors.ts` for which codes are retryable)
   */
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: DbCallOptions,
  ): Promise<QueryResult<Row>>;
  /** Runs a script of several statements without parameters (migrations, DDL). */
  exec(sql: string, options?: DbCallOptions): Promise<void>;
}

/** A transaction in progress: every statement runs on one connection, committed or rolled back together. */
export interface DbTransaction extends Queryable {
  /**
   * Bulk-loads rows with `COPY table (columns) FROM STDIN` (node-postgres through pg-copy-streams; PGlite through
   * its `/dev/blob` device). Much faster than INSERT for thousands of rows. Returns the number of rows copied.
   * `table` and `columns` are SQL identifiers written by gridstream itself, never user input.
   */
  copyRows(
    table: string,
    columns: readonly string[],
    rows: Iterable<readonly CopyValue[]>,
    options?: DbCallOptions,
  ): Promise<number>;
  /**
   * {@link copyRows} for rows already encoded in COPY text format (tab-separated, `\N` for NULL, backslash
   * escapes, each row ending in a newline), in pieces of any size: for hot paths with a specialised encoder.
   */
  copyText(
    table: string,
    columns: readonly string[],
    pieces: Iterable<string>,
    options?: DbCallOptions,
  ): Promise<number>;
}

/** What a {@link Db.listen} subscriber is told. */
export interface DbNotificationHandlers {
  /** A NOTIFY on the channel, with its payload. */
  onNotify(payload: string): void;
  /**
   * Notifications may have been missed: the listening connection was lost (and again once it is back). Forget
   * whatever the notifications keep fresh.
   */
  onGap?(): void;
}

/** A LISTEN subscription. */
export interface DbSubscription {
  /** Whether notifications arrive now (false while the listening connection is down and being re-made). */
  readonly live: boolean;
  /** Stops listening. Idempotent. */
  close(): Promise<void>;
}

/** A database connection (pool) of either kind. */
export interface Db extends Queryable {
  readonly kind: DbKind;
  /** The schema every gridstream table lives in; `null` means the server's default search path (`public`). */
  readonly schema: string | null;
  /**
   * Runs `fn` in a transaction: COMMIT when it resolves, ROLLBACK when it throws (the error is rethrown, mapped to
   * a StorageError when it came from the database). Nothing of a transaction is visible before its commit, and a
   * process killed before the commit leaves nothing behind.
   */
  transaction<T>(fn: (tx: DbTransaction) => Promise<T>, options?: DbCallOptions): Promise<T>;
  /**
   * LISTEN on `channel` (PostgreSQL: one dedicated connection per subscription, re-made with backoff when lost;
   * PGlite: in-process). `NOTIFY`/`pg_notify` from any process on the same database reaches every subscriber once
   * the notifying transaction commits. Optional, so that wrappers of a Db need not forward it.
   */
  listen?(channel: string, handlers: DbNotificationHandlers): Promise<DbSubscription>;
  /** Closes the pool or the embedded database. Idempotent; calls after it fail with `db_closed`. */
  close(): Promise<void>;
}

/** Quotes an SQL identifier (schema or table name). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Names a schema may have: a plain lower-case identifier, so that it can be used unquoted in search paths. */
export const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
