import { createHmac, timingSafeEqual } from 'node:crypto';
import { WebhookError } from './webhook-errors.ts';

/** The version prefix of a signature: `v1=` + hex HMAC-SHA256 over `${timestamp}.${body}`. */
const VERSION = 'v1=';

/** Request headers of a webhook delivery. */
export const WEBHOOK_HEADERS = {
  eventId: 'x-gridstream-event-id',
  timestamp: 'x-gridstream-timestamp',
  signature: 'x-gridstream-signature',
} as const;

/**
 * The signature of one webhook request: `v1=` followed by the hex HMAC-SHA256, keyed with the rule's shared
 * secret, of the timestamp (unix seconds, as sent in `x-gridstream-timestamp`), a dot, and the body as sent.
 *
 * @example signWebhook('0123456789abcdef', 1767225600, '{"event_id":"1"}') // 'v1=5f…'
 */
export function signWebhook(secret: string, timestampSeconds: number, body: string): string {
  if (!Number.isSafeInteger(timestampSeconds) || timestampSeconds < 0) {
    throw new RangeError('the timestamp must be whole unix seconds');
  }
  return (
    VERSION +
    createHmac('sha256', secret)
      .update(`${String(timestampSeconds)}.${body}`)
      .digest('hex')
  );
}

export interface VerifyWebhookInput {
  readonly secret: string;
  /** The `x-gridstream-timestamp` header as received. */
  readonly timestamp: string | null | undefined;
  /** The body exactly as received (before any JSON parsing). */
  readonly body: string;
  /** The `x-gridstream-signature` header as received. */
  readonly signature: string | null | undefined;
  /** How far the timestamp may be from the receiver's clock, either way (replays of old requests fail). @default 300 */
  readonly toleranceSeconds?: number;
  /** The receiver's clock in unix seconds. @default Date.now() / 1000 */
  readonly nowSeconds?: number;
}

/**
 * True when `signature` is the signature of `body` at `timestamp` with `secret` and the timestamp is within the
 * tolerance window. The comparison takes the same time whatever the signature's content (timingSafeEqual).
 */
export function verifyWebhook(input: VerifyWebhookInput): boolean {
  const { timestamp, signature } = input;
  if (timestamp == null || signature == null || !/^\d{1,15}$/.test(timestamp)) return false;
  const seconds = Number(timestamp);
  const now = input.nowSeconds ?? Date.now() / 1000;
  if (Math.abs(now - seconds) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhook(input.secret, seconds, input.body), 'utf8');
  const given = Buffer.from(signature.trim(), 'utf8');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * The origin of a webhook URL as the allowlist holds it: `scheme://host:port`, the port always explicit
 * (`https://hooks.example.com` → `https://hooks.example.com:443`), the host in lower case (IDN in punycode).
 *
 * @throws WebhookError `alerts.webhook_not_allowed` for what cannot be a webhook target: not a URL, a scheme other
 *   than http(s), credentials in the URL (`https://user:pass@…`), or a fragment.
 */
export function originOf(url: string): string {
  const u = parseWebhookUrl(url);
  const port = u.port !== '' ? u.port : u.protocol === 'https:' ? '443' : '80';
  return `${u.protocol}//${u.hostname}:${port}`;
}

/**
 * An allowlist entry: an origin (`https://hooks.example.com`, `http://10.0.0.7:8080`), normalised by
 * {@link originOf}; a path or query is refused, so that an entry never looks narrower than it is.
 *
 * @throws WebhookError `alerts.webhook_not_allowed`
 */
export function allowlistOrigin(text: string): string {
  const u = parseWebhookUrl(text);
  if ((u.pathname !== '/' && u.pathname !== '') || u.search !== '') {
    throw refused('an allowlist entry is an origin (scheme://host[:port]) without a path or query');
  }
  return originOf(text);
}

function parseWebhookUrl(url: string): URL {
  let u: URL;
  try {
    u = new URL(url.trim());
  } catch (error) {
    throw new WebhookError('alerts.webhook_not_allowed', 'not an absolute URL', { field: 'url', cause: error });
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw refused(`the scheme ${u.protocol} is not http(s)`);
  // Userinfo would be sent as credentials and could leak through logs: refused, not stripped.
  if (u.username !== '' || u.password !== '') throw refused('credentials in the URL');
  if (url.includes('#')) throw refused('a fragment in the URL');
  if (u.hostname === '') throw refused('no host');
  return u;
}

/** The URL is not quoted in the message: it may hold credentials, which is one of the reasons for refusing it. */
function refused(why: string): WebhookError {
  return new WebhookError('alerts.webhook_not_allowed', `not a webhook URL: ${why}`, { field: 'url' });
}
