import type { SqlClient, StoreCallOptions } from '../../common/index.ts';
import { sqlOptions, toMs } from '../../common/index.ts';
import type { BucketSpec, RateLimitStore, TakeResult } from './rate-limit-store.ts';

/*
 * Table (storage migration 0003_operations.sql):
 *   rate_limit_buckets (key text PK, tokens float8, capacity float8, refill_per_s float8, updated_at timestamptz,
 *                       banned_until timestamptz)
 */

const ENSURE = `INSERT INTO rate_limit_buckets (key, tokens, capacity, refill_per_s, updated_at)
VALUES ($1, $2, $2, $3, clock_timestamp()) ON CONFLICT (key) DO NOTHING`;

const LOCK = 'SELECT 1 FROM rate_limit_buckets WHERE key = $1 FOR UPDATE';

// Runs after LOCK in the same transaction: under READ COMMITTED this statement's snapshot already holds every
// earlier taker's commit, so the refill arithmetic reads the latest row. The database clock is the one clock all
// workers share.
const TAKE = `UPDATE rate_limit_buckets AS b
SET tokens = x.avail - CASE WHEN x.granted THEN 1 ELSE 0 END,
    capacity = $2, refill_per_s = $3, updated_at = GREATEST(b.updated_at, x.now)
FROM (
  SELECT y.key, y.now, y.banned_until, y.avail, (NOT y.banned AND y.avail >= 1) AS granted
  FROM (
    SELECT r.key, c.now, r.banned_until, coalesce(r.banned_until > c.now, false) AS banned,
      CASE WHEN coalesce(r.banned_until > c.now, false) THEN 0::float8
           ELSE LEAST($2::float8, r.tokens + GREATEST(0, EXTRACT(EPOCH FROM (c.now - GREATEST(r.updated_at, coalesce(r.banned_until, r.updated_at)))))::float8 * $3::float8)
      END AS avail
    FROM rate_limit_buckets r CROSS JOIN (SELECT clock_timestamp() AS now) c
    WHERE r.key = $1
  ) y
) x
WHERE b.key = x.key
RETURNING x.granted, x.avail, x.now, x.banned_until`;

const BAN = `INSERT INTO rate_limit_buckets (key, tokens, capacity, refill_per_s, updated_at, banned_until)
VALUES ($1, 0, 1, 1, clock_timestamp(), $2::timestamptz)
ON CONFLICT (key) DO UPDATE
SET banned_until = GREATEST(rate_limit_buckets.banned_until, EXCLUDED.banned_until), tokens = 0`;

const BANNED_UNTIL = `SELECT banned_until FROM rate_limit_buckets WHERE key = $1 AND banned_until > clock_timestamp()`;

interface TakeRow {
  granted: boolean;
  avail: number;
  now: Date;
  banned_until: Date | null;
}

/**
 * The PostgreSQL {@link RateLimitStore}: one row per bucket in `rate_limit_buckets`, taken under a row lock, so
 * every worker of a deployment (any number of processes) shares one budget and one ban per credential. Works on
 * PGlite too, where it survives restarts of the embedded process.
 */
export class SqlRateLimitStore implements RateLimitStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async take(key: string, spec: BucketSpec, options: StoreCallOptions = {}): Promise<TakeResult> {
    const o = sqlOptions(options.signal);
    const row = await this.#db.transaction(async (tx) => {
      await tx.query(ENSURE, [key, spec.capacity, spec.refillPerSecond], o);
      await tx.query(LOCK, [key], o);
      const result = await tx.query<TakeRow>(TAKE, [key, spec.capacity, spec.refillPerSecond], o);
      return result.rows[0];
    }, o);
    if (row === undefined) throw new Error(`rate limit bucket ${key} vanished during take`);
    if (row.granted) return { granted: true };
    const now = toMs(row.now) ?? Date.now();
    const bannedUntil = toMs(row.banned_until);
    if (bannedUntil !== null && bannedUntil > now) return { granted: false, waitMs: bannedUntil - now, bannedUntil };
    const waitMs = Math.ceil(((1 - row.avail) / spec.refillPerSecond) * 1000);
    return { granted: false, waitMs: Math.max(1, waitMs), bannedUntil: null };
  }

  async ban(key: string, until: number, options: StoreCallOptions = {}): Promise<void> {
    await this.#db.query(BAN, [key, new Date(until).toISOString()], sqlOptions(options.signal));
  }

  async bannedUntil(key: string, options: StoreCallOptions = {}): Promise<number | null> {
    const result = await this.#db.query<{ banned_until: Date }>(BANNED_UNTIL, [key], sqlOptions(options.signal));
    const row = result.rows[0];
    return row === undefined ? null : toMs(row.banned_until);
  }
}
