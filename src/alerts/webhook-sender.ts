import type { BackoffOptions, PeriodicTask, SqlClient, SqlQueryable } from '../common/index.ts';
import { backoffDelay, errorMessage, isAborted, periodic, sqlOptions } from '../common/index.ts';
import type { AlertEvent, DeadLetterSink } from '../contracts/index.ts';
import { AlertEventSchema } from '../contracts/index.ts';
import { buildDeadLetter } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { WebhookErrorCode } from './webhook-errors.ts';
import { WEBHOOK_HEADERS, originOf, signWebhook } from './webhook-sign.ts';

export interface WebhookSenderDeps {
  readonly db: SqlClient;
  readonly logger: Logger;
  readonly metrics: Metrics;
  /** The `dlq-processing` publisher: deliveries that are dead (last attempt failed, or origin refused). */
  readonly deadLetters: DeadLetterSink;
  /** Attempts of one delivery before it is dead (`GRIDSTREAM_WEBHOOK_MAX_ATTEMPTS`). */
  readonly maxAttempts: number;
  /** Time one request may take (`GRIDSTREAM_WEBHOOK_TIMEOUT_MS`). */
  readonly timeoutMs: number;
  /** Pause when nothing is due. @default 1000 */
  readonly intervalMs?: number;
  /** Requests in flight at once (also the deliveries claimed per round). @default 4 */
  readonly concurrency?: number;
  /** Spacing of attempts. @default full jitter from 1 s, doubling, at most 10 min */
  readonly backoff?: BackoffOptions;
  /** How long a claim outlives the request's timeout before another worker may take the delivery. @default 30 s */
  readonly claimMarginMs?: number;
  /** Processing time in epoch milliseconds (tests). @default Date.now */
  readonly now?: () => number;
  /** @default globalThis.fetch */
  readonly fetchImpl?: typeof fetch;
}

/** One claimed delivery with what it needs to be sent. */
interface Claimed {
  readonly id: string;
  readonly attempts: number;
  readonly ruleId: string;
  readonly ruleName: string;
  readonly url: string;
  readonly secret: string;
  readonly eventId: string;
  readonly payload: unknown;
}

/** How one attempt went. */
type Attempt =
  | { readonly kind: 'delivered'; readonly status: number }
  | { readonly kind: 'failed'; readonly status: number | null; readonly error: string }
  | { readonly kind: 'refused'; readonly error: string }
  | { readonly kind: 'invalid'; readonly error: string };

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, maxMs: 600_000, jitter: 1 };
const MAX_ERROR_CHARS = 300;

/**
 * The webhook sender, a component of its own (the alerts pipeline never waits for a receiver): each round claims
 * up to `concurrency` due deliveries (`FOR UPDATE SKIP LOCKED` in a short transaction that moves their `next_at`
 * past the request timeout, so a crashed worker's claim expires and any number of senders share the work), checks
 * each URL's origin against the allowlist again, and POSTs the alert event signed with the rule's secret. A 2xx is
 * delivered; anything else (a 3xx is never followed, a timeout, a network error) is retried with full-jitter
 * exponential backoff until `maxAttempts`, then the delivery is dead and dead-lettered to `dlq-processing` with
 * reason `alerts.webhook_failed`. An origin no longer on the allowlist is refused at once (no request), dead and
 * dead-lettered with reason `alerts.webhook_not_allowed`. Delivery is at least once: receivers deduplicate on
 * `x-gridstream-event-id`.
 */
export function webhookSender(deps: WebhookSenderDeps): PeriodicTask {
  const { db, logger, metrics } = deps;
  const concurrency = Math.max(1, deps.concurrency ?? 4);
  const now = deps.now ?? Date.now;
  const fetchImpl = deps.fetchImpl ?? fetch;
  const backoff: BackoffOptions = { ...DEFAULT_BACKOFF, ...deps.backoff };
  const claimMs = deps.timeoutMs + (deps.claimMarginMs ?? 30_000);

  async function claim(signal: AbortSignal): Promise<Claimed[]> {
    const t = now();
    const r = await db.transaction(
      (tx) =>
        tx.query<{
          id: number | string;
          attempts: number;
          rule_id: number | string;
          name: string;
          url: string;
          secret: string;
          event_id: number | string;
          payload: unknown;
        }>(
          `WITH due AS (
             SELECT d.id FROM webhook_deliveries d
             JOIN webhook_rules r ON r.id = d.rule_id AND r.enabled
             WHERE d.state = 'pending' AND d.next_at <= $1
             ORDER BY d.next_at, d.id
             LIMIT $2
             FOR UPDATE OF d SKIP LOCKED
           )
           UPDATE webhook_deliveries d SET next_at = $3
           FROM due, webhook_rules r, alert_events e
           WHERE d.id = due.id AND r.id = d.rule_id AND e.id = d.event_id
           RETURNING d.id, d.attempts, r.id AS rule_id, r.name, r.url, r.secret, e.id AS event_id, e.payload`,
          [new Date(t), concurrency, new Date(t + claimMs)],
          sqlOptions(signal),
        ),
      sqlOptions(signal),
    );
    return r.rows.map((row) => ({
      id: String(row.id),
      attempts: row.attempts,
      ruleId: String(row.rule_id),
      ruleName: row.name,
      url: row.url,
      secret: row.secret,
      eventId: String(row.event_id),
      payload: row.payload,
    }));
  }

  async function attempt(d: Claimed, allowed: ReadonlySet<string>, signal: AbortSignal): Promise<Attempt> {
    let origin: string;
    try {
      origin = originOf(d.url);
    } catch (error) {
      return { kind: 'refused', error: errorMessage(error) };
    }
    if (!allowed.has(origin)) return { kind: 'refused', error: `the origin ${origin} is not on the webhook allowlist` };
    const event = AlertEventSchema.safeParse(d.payload);
    if (!event.success) return { kind: 'invalid', error: 'the stored payload is not an alert event' };
    const body = JSON.stringify(event.data satisfies AlertEvent);
    const timestamp = Math.floor(now() / 1000);
    const signature = signWebhook(d.secret, timestamp, body);
    try {
      const response = await fetchImpl(d.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          [WEBHOOK_HEADERS.eventId]: d.eventId,
          [WEBHOOK_HEADERS.timestamp]: String(timestamp),
          [WEBHOOK_HEADERS.signature]: signature,
        },
        body,
        // A redirect could lead anywhere, past the allowlist: it is a failed attempt, never followed.
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(deps.timeoutMs)]),
      });
      // The answer's body is not needed; cancelling frees the connection without waiting for it.
      await response.body?.cancel().catch(() => undefined);
      if (response.status >= 200 && response.status < 300) return { kind: 'delivered', status: response.status };
      return { kind: 'failed', status: response.status, error: `HTTP ${String(response.status)}` };
    } catch (error) {
      return { kind: 'failed', status: null, error: scrub(describe(error), [d.secret, signature]) };
    }
  }

  /** Records an attempt (unless another worker took the delivery over); dead letters go out before the commit. */
  async function record(d: Claimed, a: Attempt, signal: AbortSignal): Promise<void> {
    const o = sqlOptions(signal);
    const at = new Date(now());
    if (a.kind === 'delivered') {
      const r = await db.query(
        `UPDATE webhook_deliveries
         SET state = 'delivered', attempts = attempts + 1, last_status = $3, last_error = NULL, delivered_at = $4
         WHERE id = $1 AND state = 'pending' AND attempts = $2`,
        [d.id, d.attempts, a.status, at],
        o,
      );
      if (r.rowCount > 0) metrics.webhookDeliveries('delivered', 1);
      return;
    }
    const attempts = a.kind === 'failed' ? d.attempts + 1 : d.attempts;
    const dead = a.kind !== 'failed' || attempts >= deps.maxAttempts;
    const status = a.kind === 'failed' ? a.status : null;
    const error = a.error.slice(0, MAX_ERROR_CHARS);
    if (!dead) {
      const nextAt = new Date(at.getTime() + backoffDelay(attempts, backoff));
      const r = await db.query(
        `UPDATE webhook_deliveries SET attempts = $3, next_at = $4, last_status = $5, last_error = $6
         WHERE id = $1 AND state = 'pending' AND attempts = $2`,
        [d.id, d.attempts, attempts, nextAt, status, error],
        o,
      );
      if (r.rowCount > 0) metrics.webhookDeliveries('failed', 1);
      return;
    }
    const reason: WebhookErrorCode = a.kind === 'refused' ? 'alerts.webhook_not_allowed' : 'alerts.webhook_failed';
    await db.transaction(async (tx: SqlQueryable) => {
      const r = await tx.query(
        `UPDATE webhook_deliveries SET state = 'dead', attempts = $3, last_status = $4, last_error = $5
         WHERE id = $1 AND state = 'pending' AND attempts = $2`,
        [d.id, d.attempts, attempts, status, error],
        o,
      );
      if (r.rowCount === 0) return;
      const letter = buildDeadLetter(
        {
          stage: 'processing',
          reason,
          message:
            `webhook delivery ${d.id} of alert event ${d.eventId} to rule "${d.ruleName}" (id ${d.ruleId}) ` +
            (a.kind === 'refused'
              ? `refused: ${error}; no request was made`
              : `is dead after ${String(attempts)} attempt(s); last: ${status === null ? '' : `status ${String(status)}, `}${error}`),
          position: { delivery_id: d.id, event_id: d.eventId, rule_id: d.ruleId, rule: d.ruleName },
          attempts: Math.max(1, attempts),
          lastFailureAt: at,
          payload: d.payload,
          httpStatus: status,
        },
        { scrub: (text) => scrub(text, [d.secret]), now: () => at },
      );
      await deps.deadLetters.publish([letter], { signal });
      metrics.webhookDeliveries(a.kind === 'refused' ? 'refused' : 'dead', 1);
      logger.warn(
        { delivery: d.id, event: d.eventId, rule: d.ruleName, ruleId: d.ruleId, attempts, status, reason },
        'webhook delivery dead-lettered',
      );
    }, o);
  }

  return periodic({
    name: 'webhook-sender',
    logger,
    intervalMs: deps.intervalMs ?? 1000,
    run: async (signal) => {
      const claimed = await claim(signal);
      if (claimed.length === 0) return undefined;
      const allowlist = await db.query<{ origin: string }>(
        'SELECT origin FROM webhook_allowlist',
        [],
        sqlOptions(signal),
      );
      const allowed = new Set(allowlist.rows.map((row) => row.origin));
      const results = await Promise.allSettled(
        claimed.map(async (d) => {
          const a = await attempt(d, allowed, signal);
          // Stopped mid-request: the claim expires and another round (or process) sends it again.
          if (isAborted(signal)) return;
          await record(d, a, signal);
        }),
      );
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
      // A full round: more may be due at once.
      return claimed.length >= concurrency ? 0 : undefined;
    },
  });
}

/** A short, secret-free description of a failed request: the timeout, or the network error and its cause. */
function describe(error: unknown): string {
  if (error instanceof DOMException && error.name === 'TimeoutError') return 'timed out';
  const cause = error instanceof Error ? error.cause : undefined;
  const base = errorMessage(error);
  if (cause instanceof Error) {
    const code = (cause as Error & { code?: unknown }).code;
    return `${base}: ${cause.message}${typeof code === 'string' ? ` (${code})` : ''}`;
  }
  return base;
}

/** Removes the given values wherever they appear (a second line of defence: no error should quote them). */
function scrub(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s.length > 0) out = out.split(s).join('[redacted]');
  return out;
}
