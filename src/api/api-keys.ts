import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Db, DbSubscription } from '../storage/index.ts';

export const ROLES = ['reader', 'operator', 'admin'] as const;
export type ApiRole = (typeof ROLES)[number];
const RANK: Readonly<Record<ApiRole, number>> = { reader: 0, operator: 1, admin: 2 };

/** Whether `role` may do what `needed` may. */
export function roleAtLeast(role: ApiRole, needed: ApiRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** An API key as stored (never its secret). */
export interface ApiKeyRecord {
  readonly id: string;
  readonly name: string;
  readonly role: ApiRole;
  /** Zones the key may read; `null` = all. */
  readonly zones: readonly string[] | null;
  /** Meter groups the key may read and write; `null` = all. */
  readonly groups: readonly string[] | null;
  readonly rateLimitPerMinute: number | null;
  readonly createdAt: string;
  readonly revokedAt: string | null;
  readonly requestCount: number;
  readonly lastUsedAt: string | null;
}

/** The key whose secret comes from GRIDSTREAM_ADMIN_KEY (any string of 16+ characters). */
export const ENV_ADMIN_KEY_ID = 'admin-env';
const KEY_FORMAT = /^gs_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;

/**
 * API keys are random 256-bit secrets, so a salted SHA-256 is enough to store them (a slow password hash guards
 * low-entropy passwords, not random keys): nothing that lets anyone recover a key is kept.
 */
function hashOf(salt: string, secret: string): string {
  return createHash('sha256').update(`${salt}:${secret}`).digest('hex');
}

interface KeyRow {
  id: string;
  name: string;
  role: ApiRole;
  zones: string[] | null;
  groups: string[] | null;
  salt: string;
  hash: string;
  created_at: Date;
  revoked_at: Date | null;
  rate_limit_per_minute: number | null;
  request_count: number | string;
  last_used_at: Date | null;
}

function toRecord(r: KeyRow): ApiKeyRecord {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    zones: r.zones,
    groups: r.groups,
    rateLimitPerMinute: r.rate_limit_per_minute,
    createdAt: r.created_at.toISOString(),
    revokedAt: r.revoked_at?.toISOString() ?? null,
    requestCount: Number(r.request_count),
    lastUsedAt: r.last_used_at?.toISOString() ?? null,
  };
}

/** Creates a key; the returned `key` is shown once and never stored. */
export async function createApiKey(
  db: Db,
  spec: {
    name: string;
    role: ApiRole;
    zones?: readonly string[] | null;
    groups?: readonly string[] | null;
    rateLimitPerMinute?: number | null;
  },
): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = randomBytes(8).toString('hex').slice(0, 12);
  const secret = randomBytes(32).toString('base64url');
  const salt = randomBytes(16).toString('hex');
  const { rows } = await db.query<KeyRow>(
    `INSERT INTO api_keys (id, name, role, zones, salt, hash, rate_limit_per_minute, groups)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING *`,
    [
      id,
      spec.name,
      spec.role,
      spec.zones ?? null,
      salt,
      hashOf(salt, secret),
      spec.rateLimitPerMinute ?? null,
      spec.groups ?? null,
    ],
  );
  const row = rows[0];
  if (row === undefined) throw new Error('api key insert returned nothing');
  // A verifier that cached "no such key" for this id (a guess) must not refuse the new key.
  await announce(db, id);
  return { key: `gs_${id}_${secret}`, record: toRecord(row) };
}

export async function listApiKeys(db: Db): Promise<ApiKeyRecord[]> {
  const { rows } = await db.query<KeyRow>('SELECT * FROM api_keys ORDER BY created_at, id');
  return rows.map(toRecord);
}

/** Revokes a key; returns false when there is no such (unrevoked) key. */
export async function revokeApiKey(db: Db, id: string): Promise<boolean> {
  const { rowCount } = await db.query('UPDATE api_keys SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL', [
    id,
  ]);
  // Announced even when nothing changed: a verifier that cached the row an instant ago forgets it either way.
  await announce(db, id);
  return rowCount > 0;
}

/** What {@link ensureAdminKey} did. */
export interface EnsuredAdminKey {
  /** A generated first admin key, to print once (first start without GRIDSTREAM_ADMIN_KEY). */
  readonly generated: string | null;
  /** The key of a GRIDSTREAM_ADMIN_KEY given before was revoked because the variable is now unset. */
  readonly envKeyRevoked: boolean;
}

/**
 * Makes the stored admin keys follow the environment. With GRIDSTREAM_ADMIN_KEY, its key is stored (its hash
 * updated if the variable changed). Without it, a key stored from it on an earlier start is revoked — removing
 * the variable removes the key — and on the very first start a key is generated, returned to be printed once.
 * Every process that runs the API of one deployment must therefore be given the same variable (or none).
 */
export async function ensureAdminKey(db: Db, envKey: string | null): Promise<EnsuredAdminKey> {
  if (envKey !== null) {
    const salt = randomBytes(16).toString('hex');
    await db.query(
      `INSERT INTO api_keys (id, name, role, salt, hash) VALUES ($1, 'GRIDSTREAM_ADMIN_KEY', 'admin', $2, $3)
       ON CONFLICT (id) DO UPDATE SET salt = EXCLUDED.salt, hash = EXCLUDED.hash, revoked_at = NULL, role = 'admin',
         zones = NULL, groups = NULL`,
      [ENV_ADMIN_KEY_ID, salt, hashOf(salt, envKey)],
    );
    await announce(db, ENV_ADMIN_KEY_ID);
    return { generated: null, envKeyRevoked: false };
  }
  const envKeyRevoked = await revokeApiKey(db, ENV_ADMIN_KEY_ID);
  const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM api_keys WHERE role = 'admin'");
  if ((rows[0]?.n ?? 0) > 0) return { generated: null, envKeyRevoked };
  const { key } = await createApiKey(db, { name: 'first admin key (generated)', role: 'admin' });
  return { generated: key, envKeyRevoked };
}

/** A verified caller. */
export interface Principal {
  readonly keyId: string | null;
  readonly name: string;
  readonly role: ApiRole;
  readonly zones: ReadonlySet<string> | null;
  /** The meter groups the key is limited to (`null`: every group) — see access-scope.ts. */
  readonly groups: ReadonlySet<string> | null;
  readonly rateLimitPerMinute: number | null;
}

/** The channel key changes are announced on (per schema: deployments sharing a database stay apart). */
export function keyChannel(db: Db): string {
  return `gridstream_api_keys_${db.schema ?? 'public'}`;
}

/** Tells every process's verifiers that key `id` changed (delivered when the statement's transaction commits). */
async function announce(db: Db, id: string): Promise<void> {
  await db.query('SELECT pg_notify($1, $2)', [keyChannel(db), id]);
}

export interface KeyVerifierOptions {
  /** How long a checked key row is reused while change notifications arrive. @default 10 000 */
  readonly ttlMs?: number;
  /** How long it is reused while they do not (no LISTEN support, or its connection lost). @default 1000 */
  readonly fallbackTtlMs?: number;
}

/**
 * Verifies presented keys against the database, caching rows briefly. Revocation reaches every process at once:
 * a change to a key is announced with NOTIFY ({@link keyChannel}) and every verifier LISTENs and forgets that key's
 * row. While notifications do not arrive (the listening connection lost, or a Db without LISTEN), rows are kept
 * for `fallbackTtlMs` only, and everything is forgotten when notifications may have been missed.
 */
export class KeyVerifier {
  readonly #db: Db;
  readonly #ttlMs: number;
  readonly #fallbackTtlMs: number;
  readonly #cache = new Map<string, { row: KeyRow | undefined; at: number }>();
  #subscription: Promise<DbSubscription | undefined> | undefined;
  #stopped = false;

  constructor(db: Db, options: KeyVerifierOptions = {}) {
    this.#db = db;
    this.#ttlMs = options.ttlMs ?? 10_000;
    this.#fallbackTtlMs = options.fallbackTtlMs ?? 1000;
  }

  /** The principal of a presented key, or `undefined` when it is unknown, wrong or revoked. */
  async verify(presented: string): Promise<Principal | undefined> {
    const m = KEY_FORMAT.exec(presented);
    const id = m?.[1] ?? ENV_ADMIN_KEY_ID;
    const secret = m?.[2] ?? presented;
    const row = await this.#row(id);
    if (row === undefined || row.revoked_at !== null) return undefined;
    const expected = Buffer.from(row.hash, 'hex');
    const actual = Buffer.from(hashOf(row.salt, secret), 'hex');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
    return {
      keyId: row.id,
      name: row.name,
      role: row.role,
      zones: row.zones === null ? null : new Set(row.zones),
      groups: row.groups === null ? null : new Set(row.groups),
      rateLimitPerMinute: row.rate_limit_per_minute,
    };
  }

  /** Forgets cached rows (after a revocation through this instance). */
  invalidate(id?: string): void {
    if (id === undefined) this.#cache.clear();
    else this.#cache.delete(id);
  }

  /** Whether change notifications arrive now (rows are then kept `ttlMs`, else `fallbackTtlMs`). */
  async listening(): Promise<boolean> {
    return (await this.#subscribe())?.live ?? false;
  }

  /** Stops listening for key changes. Idempotent. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cache.clear();
    const subscription = this.#subscription;
    this.#subscription = undefined;
    await (await subscription?.catch(() => undefined))?.close();
  }

  /** Subscribes on first use (a verifier that never verifies holds no connection). */
  #subscribe(): Promise<DbSubscription | undefined> {
    if (this.#stopped || this.#db.listen === undefined) return Promise.resolve(undefined);
    this.#subscription ??= this.#db
      .listen(keyChannel(this.#db), {
        onNotify: (id) => {
          this.invalidate(id === '' ? undefined : id);
        },
        onGap: () => {
          this.invalidate();
        },
      })
      .catch(() => {
        // Retried on a later verify; meanwhile the fallback freshness applies.
        this.#subscription = undefined;
        return undefined;
      });
    return this.#subscription;
  }

  async #row(id: string): Promise<KeyRow | undefined> {
    const live = (await this.#subscribe())?.live ?? false;
    const ttl = live ? this.#ttlMs : this.#fallbackTtlMs;
    const hit = this.#cache.get(id);
    if (hit !== undefined && Date.now() - hit.at < ttl) return hit.row;
    const { rows } = await this.#db.query<KeyRow>('SELECT * FROM api_keys WHERE id = $1', [id]);
    const row = rows[0];
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(id, { row, at: Date.now() });
    return row;
  }
}
