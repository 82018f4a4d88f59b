/** Options of a call that can be cancelled. */
export interface StoreCallOptions {
  readonly signal?: AbortSignal | undefined;
}

/**
 * The part of the storage module's `Db` port the SQL-backed stores use (parameterised queries and transactions),
 * stated structurally so that these stores depend on the shape, not on the storage module's internals. A storage
 * `Db` (PostgreSQL or PGlite) satisfies it as is.
 */
export interface SqlQueryable {
  // `Row` is the caller's description of the result columns, exactly as in the storage module's Db port.
  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: readonly unknown[],
    options?: { readonly signal?: AbortSignal },
  ): Promise<{ readonly rows: Row[]; readonly rowCount: number }>;
}

/** A database connection (pool) with transactions: COMMIT when `fn` resolves, ROLLBACK when it throws. */
export interface SqlClient extends SqlQueryable {
  transaction<T>(fn: (tx: SqlQueryable) => Promise<T>, options?: { readonly signal?: AbortSignal }): Promise<T>;
}

/** Drops an undefined signal so that option objects stay valid under `exactOptionalPropertyTypes`. */
export function sqlOptions(signal: AbortSignal | undefined): { readonly signal?: AbortSignal } {
  return signal === undefined ? {} : { signal };
}

/** A `timestamptz` column value as epoch milliseconds (both Db implementations return `Date`). */
export function toMs(value: Date | string | number | null): number | null {
  if (value === null) return null;
  if (value instanceof Date) return value.getTime();
  return typeof value === 'number' ? value : Date.parse(value);
}
