/*
 * What an ENTSO-E answer means (docs/upstream-apis.md §1, §4): branch on the HTTP status first (401/429/503 bodies
 * are HTML), then on the content (ZIP or XML), then on the XML root.
 *
 *   200 + Publication_/GL_MarketDocument   data
 *   200|4xx + Acknowledgement "No matching data found"   empty result, not a failure
 *   4xx + Acknowledgement "… larger than maximum allowed period …" / "number of instances … exceeds …"   too large
 *   Acknowledgement "Unexpected error occurred" / "502 Bad Gateway"   transient
 *   429, or any body "Requester banned until '<time>'." / "Max allowed requests per minute …"   ban of the token
 *   3xx to port 81 or 8443 (the old guide's ban redirect)   ban of the token
 *   401/403 HTML "Unauthorized. Missing or invalid security token"   unauthorized
 *   5xx, HTML maintenance pages   transient
 */
import { unzipSync } from 'fflate';
import { HttpError } from '../http/index.ts';
import type { HttpResponse } from '../http/index.ts';
import { EntsoeError } from './errors.ts';

/** The bodies of a successful answer (one per XML file of a ZIP), or an empty result. */
export type EntsoeAnswer =
  | { readonly kind: 'documents'; readonly bodies: readonly { readonly text: string; readonly entry: string | null }[] }
  | { readonly kind: 'no_data'; readonly reason: string };

/*
 * Bans, as documented and as seen (quoted verbatim):
 * - Old RESTful API guide §1.8 (quoted in EnergieID/entsoe-py#70): "Reaching of 400 query/minute limit through an
 *   unique IP address or security token will result in a temporary ban of 10 minutes. When a user reaches the
 *   limit, requests coming from the user will be redirected to the different port 81 (8443) which returns "HTTP
 *   Status 429 - TOO MANY REQUESTS" with message text "Max allowed requests per minute from each unique IP is max up
 *   to 400 only"." Whether that redirect is an HTTP 3xx or done in the network is not said: both are bans here.
 * - Help centre, "API Rate Limit Part 1" (transparencyplatform.zendesk.com/hc/en-us/articles/12783148966036): "the
 *   system may temporarily ban the token"; "users are automatically unbanned after approximately 10 minutes".
 * - Seen from the R3 service (BerriJ/entsoe-apy#99, 2025-11-25), HTTP 429:
 *   `<html><body><p>Requester banned until '2025-11-25T10:01:55.545Z'.</p></body></html>` — the end is quoted,
 *   an ISO instant with milliseconds and `Z`. No other wording or date format was found.
 */
/** The documented ban length, waited when a ban does not state its end ("temporary ban of 10 minutes"). */
export const ENTSOE_BAN_MS = 600_000;
/** A stated end more than an hour (six documented bans) away is not believed, most likely a misread date: cut to it. */
export const ENTSOE_MAX_BAN_MS = 3_600_000;
const BAN_UNTIL = /banned\s+until\s*:?\s*['"]?\s*([0-9][0-9T:.\-+ Z/]*[0-9Z])/i;
const BAN_WORDING = /banned|too many requests|max allowed requests per minute/i;
const BAN_REDIRECT_PORTS = new Set(['81', '8443']);
const NO_DATA = /no matching data/i;
const TOO_LARGE =
  /larger than maximum allowed period|number of instances .*exceeds|exceeds (the )?allowed (maximum|limit)|amount of requested data exceeds/i;
const TRANSIENT = /unexpected error occurred|502 bad gateway/i;
const decoder = new TextDecoder('utf-8');

/**
 * Reads a ban's end from a body such as `Requester banned until '2025-11-25T10:01:55.545Z'.` (the one form seen).
 * Other ISO forms are accepted in case the service changes it: with or without quotes, `T`, seconds or a zone (a
 * missing zone is read as UTC). `null` when there is no readable time.
 */
export function parseBanUntil(body: string): number | null {
  const m = BAN_UNTIL.exec(body);
  if (m?.[1] === undefined) return null;
  let text = m[1].trim().replace(' ', 'T');
  if (!/(Z|[+-]\d{2}:?\d{2})$/.test(text)) text += 'Z';
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : at;
}

function isZip(response: HttpResponse): boolean {
  const b = response.body;
  return (
    response.contentType === 'application/zip' || (b[0] === 0x50 && b[1] === 0x4b && b[2] === 0x03 && b[3] === 0x04)
  );
}

/** The text of an Acknowledgement's first `<text>` reason, or `null` when the body is not an acknowledgement. */
function acknowledgementText(body: string): string | null {
  if (!/<(\w+:)?Acknowledgement_MarketDocument[\s>]/.test(body.slice(0, 4096))) return null;
  return /<(?:\w+:)?text>([\s\S]*?)<\/(?:\w+:)?text>/.exec(body)?.[1]?.trim() ?? '';
}

/**
 * Interprets one HTTP answer. Returns data or an empty result; throws an {@link EntsoeError} (with an
 * {@link HttpError} cause carrying the status, and for bans the end of the ban) for everything else. `scrub`
 * removes secrets from the text before anything reads it: a service (or a proxy) that echoes the request puts the
 * security token in documents and acknowledgements, which would otherwise be stored, hashed into ids and quoted.
 */
export function readEntsoeAnswer(
  response: HttpResponse,
  where: string,
  scrub: (text: string) => string = (text) => text,
): EntsoeAnswer {
  const { status } = response;
  const zip = isZip(response);
  const text = zip ? '' : scrub(decoder.decode(response.body));
  const http = (
    code: 'http.status' | 'http.banned',
    extra: { retryable?: boolean; bannedUntil?: number | null } = {},
  ) =>
    new HttpError(code, `GET ${where}: HTTP ${status}`, {
      status,
      ...extra,
      ...(response.retryAfterMs === null ? {} : { retryAfterMs: response.retryAfterMs }),
    });

  const looksLikeDocument = text.startsWith('<?xml') || /^\s*<(\w+:)?\w+_MarketDocument[\s>]/.test(text);
  if (
    status === 429 ||
    isBanRedirect(response) ||
    (!zip && (status >= 400 || !looksLikeDocument) && BAN_WORDING.test(text.slice(0, 4096)))
  ) {
    const until = parseBanUntil(text);
    throw new EntsoeError('entsoe.banned', `ENTSO-E refuses the token for now (HTTP ${status})`, {
      retryable: true,
      cause: http('http.banned', { bannedUntil: until }),
      details: { status, bannedUntil: until === null ? null : new Date(until).toISOString() },
    });
  }
  if (status === 401 || status === 403) {
    throw new EntsoeError('entsoe.unauthorized', `ENTSO-E rejected the security token (HTTP ${status})`, {
      cause: http('http.status', { retryable: false }),
      details: { status },
    });
  }
  if (zip) {
    if (status !== 200) throw httpError(status, where, http('http.status'));
    return unzipAnswer(response.body, where, scrub);
  }
  const ack = acknowledgementText(text);
  if (ack !== null) {
    if (NO_DATA.test(ack)) return { kind: 'no_data', reason: ack };
    if (TRANSIENT.test(ack)) {
      throw new EntsoeError('entsoe.http_error', `ENTSO-E answered a transient error: ${ack}`, {
        retryable: true,
        cause: http('http.status', { retryable: true }),
        details: { status, acknowledgement: ack },
      });
    }
    throw new EntsoeError('entsoe.invalid_request', `ENTSO-E refused the request: ${ack}`, {
      cause: http('http.status', { retryable: false }),
      details: { status, acknowledgement: ack, tooLarge: TOO_LARGE.test(ack) },
    });
  }
  if (status !== 200) throw httpError(status, where, http('http.status'));
  if (/^\s*(<!doctype html|<html)/i.test(text)) {
    // A 200 HTML page is a maintenance or proxy page, not an answer to the query: try again later.
    throw new EntsoeError('entsoe.html_body', `GET ${where}: HTTP 200 with an HTML page instead of a document`, {
      retryable: true,
      details: { status },
    });
  }
  return { kind: 'documents', bodies: [{ text, entry: null }] };
}

/** A redirect to the port the old guide sends banned requests to (see above); not followed, so read here. */
function isBanRedirect(response: HttpResponse): boolean {
  if (response.status < 300 || response.status >= 400) return false;
  const location = response.headers.get('location');
  // A relative location keeps the port: only an absolute one can point elsewhere.
  return location !== null && URL.canParse(location) && BAN_REDIRECT_PORTS.has(new URL(location).port);
}

function httpError(status: number, where: string, cause: HttpError): EntsoeError {
  const retryable = status >= 500;
  const code = status >= 500 || status === 404 ? 'entsoe.http_error' : 'entsoe.invalid_request';
  return new EntsoeError(code, `GET ${where}: HTTP ${status}`, { retryable, cause, details: { status } });
}

function unzipAnswer(bytes: Uint8Array, where: string, scrub: (text: string) => string): EntsoeAnswer {
  let files: Record<string, Uint8Array>;
  try {
    files = unzipSync(bytes);
  } catch (error) {
    // A broken archive is most likely a broken transfer.
    throw new EntsoeError('entsoe.zip_body', `GET ${where}: unreadable ZIP body`, {
      retryable: true,
      cause: new HttpError('http.truncated_body', error instanceof Error ? error.message : String(error)),
    });
  }
  const bodies = Object.entries(files)
    .filter(([name]) => name.toLowerCase().endsWith('.xml'))
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([entry, data]) => ({ text: scrub(decoder.decode(data)), entry }));
  // An empty archive is what the service sends when `offset` is past the last document.
  if (bodies.length === 0) return { kind: 'no_data', reason: 'empty ZIP archive' };
  const documents = bodies.filter((b) => {
    const ack = acknowledgementText(b.text);
    return ack === null || !NO_DATA.test(ack);
  });
  return documents.length === 0
    ? { kind: 'no_data', reason: 'no matching data' }
    : { kind: 'documents', bodies: documents };
}
