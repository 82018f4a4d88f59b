import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { SqlClient, SqlQueryable, StoreCallOptions } from '../common/index.ts';
import { sqlOptions } from '../common/index.ts';
import type { Detector, Severity } from '../contracts/index.ts';
import { DETECTORS, SEVERITIES, SeveritySchema } from '../contracts/index.ts';
import { WebhookError } from './webhook-errors.ts';
import { allowlistOrigin, originOf } from './webhook-sign.ts';

/** One origin on the admin's allowlist, and who put it there. */
export interface WebhookAllowlistEntry {
  /** `scheme://host:port`, the port explicit. */
  readonly origin: string;
  /** The name of the API key that added it. */
  readonly added_by: string;
  readonly added_at: string;
}

/** A webhook rule as listed: never its secret. */
export interface WebhookRule {
  readonly id: string;
  readonly name: string;
  readonly url: string;
  readonly min_severity: Severity;
  /** `null`: every detector (zone, group). */
  readonly detectors: Detector[] | null;
  readonly zones: string[] | null;
  readonly groups: string[] | null;
  readonly enabled: boolean;
  readonly created_by: string;
  readonly created_at: string;
}

/** A new rule, as the API takes it (the same schema validates the body). */
export const WebhookRuleInputSchema = z.object({
  name: z.string().trim().min(1).max(100),
  url: z.string().trim().min(1).max(2000).meta({ description: 'Where to POST; its origin must be on the allowlist' }),
  secret: z.string().min(16).max(200).optional().meta({
    description: 'The shared secret the requests are signed with (at least 16 characters); generated when absent',
  }),
  min_severity: SeveritySchema.optional().meta({ description: 'The least severity sent (default warning)' }),
  detectors: z.array(z.enum(DETECTORS)).min(1).max(DETECTORS.length).nullable().optional(),
  zones: z.array(z.string().min(1).max(40)).min(1).max(200).nullable().optional(),
  groups: z.array(z.string().min(1).max(100)).min(1).max(1000).nullable().optional(),
});
export type WebhookRuleInput = z.input<typeof WebhookRuleInputSchema>;

/** What creating a rule did: the rule and its secret (shown this once), or why not. */
export type CreatedWebhookRule =
  | { readonly ok: true; readonly rule: WebhookRule; readonly secret: string }
  | { readonly ok: false; readonly reason: 'name_taken' };

export const DELIVERY_STATES = ['pending', 'delivered', 'dead'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/** One delivery of one alert event to one rule. */
export interface WebhookDelivery {
  readonly id: string;
  readonly rule_id: string;
  readonly rule: string;
  readonly event_id: string;
  readonly state: DeliveryState;
  readonly attempts: number;
  readonly next_at: string;
  readonly last_status: number | null;
  /** Why the last attempt failed: a status, a timeout, a network error (never the secret or the signature). */
  readonly last_error: string | null;
  readonly created_at: string;
  readonly delivered_at: string | null;
}

/** The allowlist, by origin. */
export async function getWebhookAllowlist(
  db: SqlQueryable,
  options: StoreCallOptions = {},
): Promise<WebhookAllowlistEntry[]> {
  const r = await db.query<{ origin: string; added_by: string; added_at: Date }>(
    'SELECT origin, added_by, added_at FROM webhook_allowlist ORDER BY origin',
    [],
    sqlOptions(options.signal),
  );
  return r.rows.map((row) => ({ origin: row.origin, added_by: row.added_by, added_at: iso(row.added_at) }));
}

/**
 * Replaces the whole allowlist with `origins` (normalised by {@link allowlistOrigin}, duplicates merged). Origins
 * already on it keep who added them and when; new ones are recorded as added by `addedBy` (the admin key's name).
 * Rules whose origin leaves the list stay, but their deliveries are refused from then on.
 *
 * @throws WebhookError `alerts.webhook_not_allowed` for an entry that is not an http(s) origin
 */
export async function setWebhookAllowlist(
  db: SqlClient,
  origins: readonly string[],
  addedBy: string,
  options: StoreCallOptions = {},
): Promise<WebhookAllowlistEntry[]> {
  const normalised = [...new Set(origins.map((o) => allowlistOrigin(o)))].sort();
  const o = sqlOptions(options.signal);
  await db.transaction(async (tx) => {
    await tx.query('DELETE FROM webhook_allowlist WHERE NOT (origin = ANY($1::text[]))', [normalised], o);
    await tx.query(
      `INSERT INTO webhook_allowlist (origin, added_by)
       SELECT unnest($1::text[]), $2
       ON CONFLICT (origin) DO NOTHING`,
      [normalised, addedBy],
      o,
    );
  }, o);
  return getWebhookAllowlist(db, options);
}

/** Whether `origin` (as {@link originOf} gives it) is on the allowlist. */
export async function isOriginAllowed(
  db: SqlQueryable,
  origin: string,
  options: StoreCallOptions = {},
): Promise<boolean> {
  const r = await db.query('SELECT 1 FROM webhook_allowlist WHERE origin = $1', [origin], sqlOptions(options.signal));
  return r.rowCount > 0;
}

const RULE_COLUMNS = 'id, name, url, min_severity, detectors, zones, groups, enabled, created_by, created_at';

interface RuleRow {
  id: number | string;
  name: string;
  url: string;
  min_severity: Severity;
  detectors: Detector[] | null;
  zones: string[] | null;
  groups: string[] | null;
  enabled: boolean;
  created_by: string;
  created_at: Date;
}

function ruleOf(row: RuleRow): WebhookRule {
  return {
    id: String(row.id),
    name: row.name,
    url: row.url,
    min_severity: row.min_severity,
    detectors: row.detectors,
    zones: row.zones,
    groups: row.groups,
    enabled: row.enabled,
    created_by: row.created_by,
    created_at: iso(row.created_at),
  };
}

/**
 * Creates a rule. Its URL's origin must be on the allowlist now (and is checked again at every delivery). The
 * secret is generated (32 random bytes, base64url) when not given; it is returned here and never again.
 *
 * @throws WebhookError `alerts.webhook_not_allowed` when the URL is not an http(s) URL on the allowlist
 */
export async function createWebhookRule(
  db: SqlClient,
  input: WebhookRuleInput,
  createdBy: string,
  options: StoreCallOptions = {},
): Promise<CreatedWebhookRule> {
  const rule = WebhookRuleInputSchema.parse(input);
  const origin = originOf(rule.url);
  const secret = rule.secret ?? randomBytes(32).toString('base64url');
  const o = sqlOptions(options.signal);
  // Refusals leave the transaction as values: the PGlite Db wraps whatever a transaction throws in a StorageError.
  const created = await db.transaction(async (tx): Promise<CreatedWebhookRule | 'not_allowed'> => {
    if (!(await isOriginAllowed(tx, origin, options))) return 'not_allowed';
    const r = await tx.query<RuleRow>(
      `INSERT INTO webhook_rules (name, url, secret, min_severity, detectors, zones, groups, created_by)
       VALUES ($1, $2, $3, $4, $5::text[], $6::text[], $7::text[], $8)
       ON CONFLICT (name) DO NOTHING
       RETURNING ${RULE_COLUMNS}`,
      [
        rule.name,
        rule.url,
        secret,
        rule.min_severity ?? 'warning',
        rule.detectors ?? null,
        rule.zones ?? null,
        rule.groups ?? null,
        createdBy,
      ],
      o,
    );
    const row = r.rows[0];
    return row === undefined ? { ok: false, reason: 'name_taken' } : { ok: true, rule: ruleOf(row), secret };
  }, o);
  if (created === 'not_allowed') {
    throw new WebhookError('alerts.webhook_not_allowed', `the origin ${origin} is not on the webhook allowlist`, {
      field: 'url',
    });
  }
  return created;
}

/** Every rule, by id (never their secrets). */
export async function listWebhookRules(db: SqlQueryable, options: StoreCallOptions = {}): Promise<WebhookRule[]> {
  const r = await db.query<RuleRow>(
    `SELECT ${RULE_COLUMNS} FROM webhook_rules ORDER BY id`,
    [],
    sqlOptions(options.signal),
  );
  return r.rows.map(ruleOf);
}

/** Deletes a rule and its deliveries (pending ones are not sent). False when there was no such rule. */
export async function deleteWebhookRule(
  db: SqlQueryable,
  id: string,
  options: StoreCallOptions = {},
): Promise<boolean> {
  if (!/^\d{1,18}$/.test(id)) return false;
  const r = await db.query('DELETE FROM webhook_rules WHERE id = $1::bigint', [id], sqlOptions(options.signal));
  return r.rowCount > 0;
}

/**
 * Queues one delivery per matching enabled rule for each of the alert events `eventIds`, in the caller's
 * transaction (the outbox publisher's), so that an event's deliveries exist exactly when it does. A rule matches an
 * event when the alert's severity is at least the rule's `min_severity` (info < warning < critical) and its
 * detector, zone and group are in the rule's lists (a `NULL` list: any). Queuing twice adds nothing. Returns the
 * number of deliveries queued.
 */
export async function queueWebhookDeliveries(
  tx: SqlQueryable,
  eventIds: readonly string[],
  options: StoreCallOptions = {},
): Promise<number> {
  if (eventIds.length === 0) return 0;
  const r = await tx.query(
    `INSERT INTO webhook_deliveries (rule_id, event_id)
     SELECT r.id, e.id
     FROM alert_events e
     JOIN webhook_rules r ON r.enabled
       AND array_position($2::text[], e.payload->'alert'->>'severity') >= array_position($2::text[], r.min_severity)
       AND (r.detectors IS NULL OR e.payload->'alert'->>'detector' = ANY (r.detectors))
       AND (r.zones IS NULL OR e.payload->'alert'->>'zone' = ANY (r.zones))
       AND (r.groups IS NULL OR e.payload->'alert'->>'group' = ANY (r.groups))
     WHERE e.id = ANY ($1::bigint[])
     ORDER BY e.id, r.id
     ON CONFLICT (rule_id, event_id) DO NOTHING`,
    [eventIds, SEVERITIES],
    sqlOptions(options.signal),
  );
  return r.rowCount;
}

export interface ListDeliveriesOptions extends StoreCallOptions {
  readonly state?: DeliveryState | undefined;
  /** @default 100 */
  readonly limit?: number;
}

/** Deliveries, newest first. */
export async function listWebhookDeliveries(
  db: SqlQueryable,
  options: ListDeliveriesOptions = {},
): Promise<WebhookDelivery[]> {
  const r = await db.query<{
    id: number | string;
    rule_id: number | string;
    rule: string;
    event_id: number | string;
    state: DeliveryState;
    attempts: number;
    next_at: Date;
    last_status: number | null;
    last_error: string | null;
    created_at: Date;
    delivered_at: Date | null;
  }>(
    `SELECT d.id, d.rule_id, r.name AS rule, d.event_id, d.state, d.attempts, d.next_at, d.last_status,
            d.last_error, d.created_at, d.delivered_at
     FROM webhook_deliveries d JOIN webhook_rules r ON r.id = d.rule_id
     WHERE $1::text IS NULL OR d.state = $1
     ORDER BY d.id DESC
     LIMIT $2`,
    [options.state ?? null, options.limit ?? 100],
    sqlOptions(options.signal),
  );
  return r.rows.map((row) => ({
    id: String(row.id),
    rule_id: String(row.rule_id),
    rule: row.rule,
    event_id: String(row.event_id),
    state: row.state,
    attempts: row.attempts,
    next_at: iso(row.next_at),
    last_status: row.last_status,
    last_error: row.last_error,
    created_at: iso(row.created_at),
    delivered_at: row.delivered_at === null ? null : iso(row.delivered_at),
  }));
}

function iso(value: Date | string): string {
  return (value instanceof Date ? value : new Date(value)).toISOString();
}
