import type { SqlClient, StoreCallOptions } from '../common/index.ts';
import { sqlOptions, toMs } from '../common/index.ts';
import type { Lease, LeaseStore } from './lease-store.ts';

/*
 * Table (storage migration 0003_operations.sql):
 *   leases (name text PK, holder text, expires_at timestamptz, acquired_at timestamptz, renewed_at timestamptz)
 */

const INSERT = `INSERT INTO leases (name, holder, expires_at, acquired_at, renewed_at)
VALUES ($1, $2, clock_timestamp() + $3 * interval '1 millisecond', clock_timestamp(), clock_timestamp())
ON CONFLICT (name) DO NOTHING
RETURNING name, holder, expires_at, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000 AS remaining_ms`;

// Take it when expired, renew it when ours: one statement, so two contenders can never both win.
const TAKE_OR_RENEW = `UPDATE leases
SET holder = $2,
    expires_at = clock_timestamp() + $3 * interval '1 millisecond',
    renewed_at = clock_timestamp(),
    acquired_at = CASE WHEN holder = $2 THEN acquired_at ELSE clock_timestamp() END
WHERE name = $1 AND (expires_at < clock_timestamp() OR holder = $2)
RETURNING name, holder, expires_at, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000 AS remaining_ms`;

const RELEASE = `UPDATE leases SET expires_at = clock_timestamp() - interval '1 millisecond'
WHERE name = $1 AND holder = $2`;

const CURRENT = `SELECT name, holder, expires_at, EXTRACT(EPOCH FROM (expires_at - clock_timestamp())) * 1000 AS remaining_ms
FROM leases WHERE name = $1 AND expires_at > clock_timestamp()`;

interface LeaseRow {
  name: string;
  holder: string;
  expires_at: Date;
  remaining_ms: number | string;
}

function toLease(row: LeaseRow | undefined): Lease | null {
  if (row === undefined) return null;
  return {
    name: row.name,
    holder: row.holder,
    expiresAt: toMs(row.expires_at) ?? 0,
    remainingMs: Math.max(0, Number(row.remaining_ms)),
  };
}

/**
 * The PostgreSQL {@link LeaseStore} on the `leases` table. The database clock decides expiry, so the holders'
 * clocks need not agree; each holder converts `remainingMs` to its own clock.
 */
export class SqlLeaseStore implements LeaseStore {
  readonly #db: SqlClient;

  constructor(db: SqlClient) {
    this.#db = db;
  }

  async acquire(name: string, holder: string, ttlMs: number, options: StoreCallOptions = {}): Promise<Lease | null> {
    const o = sqlOptions(options.signal);
    const inserted = await this.#db.query<LeaseRow>(INSERT, [name, holder, ttlMs], o);
    if (inserted.rows.length > 0) return toLease(inserted.rows[0]);
    const taken = await this.#db.query<LeaseRow>(TAKE_OR_RENEW, [name, holder, ttlMs], o);
    return toLease(taken.rows[0]);
  }

  async release(name: string, holder: string, options: StoreCallOptions = {}): Promise<void> {
    await this.#db.query(RELEASE, [name, holder], sqlOptions(options.signal));
  }

  async current(name: string, options: StoreCallOptions = {}): Promise<Lease | null> {
    const result = await this.#db.query<LeaseRow>(CURRENT, [name], sqlOptions(options.signal));
    return toLease(result.rows[0]);
  }
}
