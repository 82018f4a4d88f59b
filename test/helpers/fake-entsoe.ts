/**
 * A fake ENTSO-E Transparency Platform for tests and benchmarks: a local `node:http` server that answers from the
 * real documents in `data/entsoe` by request parameters (documentType, processType, domains, period overlap),
 * pages A44 with `offset`, and injects faults per request or per rule. It records every request (time, token,
 * parameters) so tests can assert what the client did — including how many requests per token per minute.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { Secret } from '../../src/config/index.ts';
import { EntsoeClient, EntsoeIngestor } from '../../src/connectors/entsoe/index.ts';
import { MemoryRateLimitStore } from '../../src/connectors/http/index.ts';
import type { DeadLetter, MemoryPublisher, RawEntsoeDocument } from '../../src/contracts/index.ts';
import { createLogger } from '../../src/observability/index.ts';
import type { Logger } from '../../src/observability/index.ts';
import { DATA } from './fixtures.ts';

/** The token the fake accepts by default; tests search every log line and dead letter for it. */
export const TEST_TOKEN = 'test-token-0123456789';

/**
 * A trace-level logger that keeps every line, created WITHOUT the logger's secret scrubbing, so a test can prove
 * that the code itself never logs the token.
 */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  return { logger: createLogger({ level: 'trace', destination: { write: (l: string) => lines.push(l) } }), lines };
}

export type Fault =
  | 'timeout' // never answer
  | 'reset' // destroy the connection
  | 'truncated' // announce a longer body than sent, then close
  | 'html' // HTTP 200 with an HTML maintenance page
  | 'zip' // the matching document, zipped (application/zip)
  | 'no-data' // the real "No matching data found" acknowledgement
  | 'too-large' // HTTP 400 acknowledgement "larger than maximum allowed period"
  | 'unauthorized' // HTTP 401 with the real HTML body
  | 'ban-page' // HTTP 429 with the old "Max allowed requests per minute" page, no end time
  | { readonly status: number; readonly body?: string; readonly contentType?: string } // default: HTML maintenance page
  | { readonly banUntil: number }; // HTTP 429 "Requester banned until '<ISO time>'.", the real R3 body

export interface FakeRequest {
  readonly at: number;
  readonly token: string | null;
  readonly params: Readonly<Record<string, string>>;
  /** What the fake answered: a file name, `no-data`, or the fault. */
  answer: string;
}

interface Rule {
  readonly fault: Fault;
  remaining: number;
  readonly match: (r: FakeRequest) => boolean;
}

interface Doc {
  readonly file: string;
  readonly text: string;
  readonly type: string;
  readonly processType: string | null;
  readonly domains: ReadonlyMap<string, ReadonlySet<string>>;
  readonly start: number;
  readonly end: number;
}

export interface FakeEntsoeOptions {
  /** Tokens accepted (others get the real 401 page). @default ['test-token-0123456789'] */
  readonly tokens?: readonly string[];
  /** TimeSeries per A44 page. @default 100 */
  readonly pageSize?: number;
  /** Answer any period with the type's and domains' document (benchmarks over long ranges). @default false */
  readonly ignorePeriod?: boolean;
  /** Behave like the real service: more than `limit` requests of a token in `windowMs` bans it for `banMs`. */
  readonly enforce?: { readonly limit: number; readonly windowMs: number; readonly banMs: number };
  /** A body for a request before the bundled documents are looked at (`undefined`: fall through). */
  readonly respond?: (params: Readonly<Record<string, string>>) => string | undefined;
}

const NO_DATA = readFileSync(join(DATA, 'entsoe', 'ACK_999_no-matching-data_A44_NL_2023-02-19.xml'), 'utf8');
const UNAUTHORIZED = readFileSync(join(DATA, 'entsoe', 'HTTP401_unauthorized_html-body.xml'), 'utf8');
const SKIP = /^(ACK_|HTTP401|A80_)|two-concatenated/;

function loadDocs(): Doc[] {
  const dir = join(DATA, 'entsoe');
  return readdirSync(dir)
    .filter((f) => f.endsWith('.xml') && !SKIP.test(f))
    .sort()
    .map((file) => {
      const text = readFileSync(join(dir, file), 'utf8');
      const domains = new Map<string, Set<string>>();
      for (const m of text.matchAll(/<(in|out|inBiddingZone|outBiddingZone)_Domain\.mRID[^>]*>([^<]+)</g)) {
        const role = m[1] === 'inBiddingZone' ? 'in' : m[1] === 'outBiddingZone' ? 'out' : (m[1] ?? '');
        domains.set(role, (domains.get(role) ?? new Set()).add((m[2] ?? '').trim()));
        if (m[1] === 'outBiddingZone')
          domains.set('outBiddingZone', (domains.get('outBiddingZone') ?? new Set()).add((m[2] ?? '').trim()));
      }
      const interval = /<(?:period|time_Period)\.timeInterval>\s*<start>([^<]+)<\/start>\s*<end>([^<]+)<\/end>/.exec(
        text,
      );
      return {
        file,
        text,
        type: /<type>([^<]+)<\/type>/.exec(text)?.[1] ?? '',
        processType: /<process\.processType>([^<]+)</.exec(text)?.[1] ?? null,
        domains,
        start: Date.parse(interval?.[1] ?? ''),
        end: Date.parse(interval?.[2] ?? ''),
      };
    });
}

/** `yyyyMMddHHmm` → epoch ms. */
function entsoeTime(text: string | undefined): number {
  const m = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})$/.exec(text ?? '');
  return m === null ? Number.NaN : Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
}

export class FakeEntsoe {
  readonly requests: FakeRequest[] = [];
  readonly #server: Server;
  readonly #docs = loadDocs();
  readonly #rules: Rule[] = [];
  readonly #options: FakeEntsoeOptions;
  readonly #bans = new Map<string, number>();
  #url = '';

  private constructor(options: FakeEntsoeOptions) {
    this.#options = options;
    this.#server = createServer((req, res) => {
      this.#handle(req, res);
    });
  }

  /** Starts a fake on a free local port. */
  static async start(options: FakeEntsoeOptions = {}): Promise<FakeEntsoe> {
    const fake = new FakeEntsoe(options);
    await new Promise<void>((resolve) => fake.#server.listen(0, '127.0.0.1', resolve));
    fake.#url = `http://127.0.0.1:${(fake.#server.address() as AddressInfo).port}/api`;
    return fake;
  }

  /** Base URL to give the client (`ENTSOE_BASE_URL`). */
  get url(): string {
    return this.#url;
  }

  /** Injects `fault` into the next `times` requests that `match` (default: every request). */
  fail(fault: Fault, options: { times?: number; match?: (r: FakeRequest) => boolean } = {}): void {
    this.#rules.push({ fault, remaining: options.times ?? 1, match: options.match ?? (() => true) });
  }

  /** Removes every remaining fault rule. */
  heal(): void {
    this.#rules.length = 0;
  }

  /** The most requests of `token` that arrived within any sliding window of `windowMs`. */
  maxInWindow(token: string, windowMs = 60_000): number {
    const times = this.requests.filter((r) => r.token === token).map((r) => r.at);
    let best = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while ((times[i] ?? 0) - (times[j] ?? 0) >= windowMs) j++;
      best = Math.max(best, i - j + 1);
    }
    return best;
  }

  async close(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) =>
      this.#server.close(() => {
        resolve();
      }),
    );
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const params = Object.fromEntries(url.searchParams);
    const header = req.headers['security_token'];
    const token = params['securityToken'] ?? (typeof header === 'string' ? header : null);
    const record: FakeRequest = { at: Date.now(), token, params, answer: '' };
    this.requests.push(record);
    const rule = this.#rules.find((r) => r.remaining > 0 && r.match(record));
    if (rule !== undefined) {
      rule.remaining--;
      record.answer = typeof rule.fault === 'string' ? rule.fault : JSON.stringify(rule.fault);
      this.#fault(rule.fault, record, res);
      return;
    }
    if (token === null || !(this.#options.tokens ?? [TEST_TOKEN]).includes(token)) {
      record.answer = 'unauthorized';
      this.#send(res, 401, 'text/html', UNAUTHORIZED);
      return;
    }
    if (this.#enforce(record, res)) return;
    const custom = this.#options.respond?.(params);
    if (custom !== undefined) {
      record.answer = 'custom';
      this.#send(res, 200, 'text/xml', custom);
      return;
    }
    const doc = this.#match(params);
    if (doc === undefined) {
      record.answer = 'no-data';
      this.#send(res, 200, 'text/xml', NO_DATA);
      return;
    }
    const body = this.#page(doc, params);
    record.answer = body === undefined ? 'no-data' : doc.file;
    this.#send(res, 200, 'text/xml', body ?? NO_DATA);
  }

  /** The real service's rule: too many requests in the window bans the token. */
  #enforce(record: FakeRequest, res: ServerResponse): boolean {
    const rule = this.#options.enforce;
    if (rule === undefined || record.token === null) return false;
    const banned = this.#bans.get(record.token) ?? 0;
    if (banned <= record.at && this.#countSince(record.token, record.at - rule.windowMs) > rule.limit) {
      this.#bans.set(record.token, record.at + rule.banMs);
    }
    const until = this.#bans.get(record.token) ?? 0;
    if (until <= record.at) return false;
    record.answer = 'banned';
    this.#send(res, 429, 'text/html', banPage(until));
    return true;
  }

  #countSince(token: string, since: number): number {
    return this.requests.filter((r) => r.token === token && r.at > since).length;
  }

  #match(params: Record<string, string>): Doc | undefined {
    const start = entsoeTime(params['periodStart']);
    const end = entsoeTime(params['periodEnd']);
    return this.#docs.find((d) => {
      if (d.type !== params['documentType']) return false;
      if (params['processType'] !== undefined && d.processType !== null && d.processType !== params['processType']) {
        return false;
      }
      for (const [name, eic] of Object.entries(params)) {
        if (!name.endsWith('_Domain')) continue;
        const role = name === 'in_Domain' ? 'in' : name === 'out_Domain' ? 'out' : name.replace('_Domain', '');
        if (!(d.domains.get(role)?.has(eic) ?? false)) return false;
      }
      return this.#options.ignorePeriod === true || (d.start < end && start < d.end);
    });
  }

  /** A44 paging: the TimeSeries from `offset` on, `pageSize` of them; `undefined` past the last one. */
  #page(doc: Doc, params: Record<string, string>): string | undefined {
    if (doc.type !== 'A44' || params['offset'] === undefined) return doc.text;
    const size = this.#options.pageSize ?? 100;
    const offset = Number(params['offset']);
    const blocks = [...doc.text.matchAll(/\s*<TimeSeries>[\s\S]*?<\/TimeSeries>/g)].map((m) => m[0]);
    if (offset >= blocks.length) return undefined;
    const head = doc.text.slice(0, doc.text.indexOf('<TimeSeries>')).trimEnd();
    const tail = doc.text.slice(doc.text.lastIndexOf('</TimeSeries>') + '</TimeSeries>'.length);
    return head + blocks.slice(offset, offset + size).join('') + tail;
  }

  #fault(fault: Fault, record: FakeRequest, res: ServerResponse): void {
    if (typeof fault !== 'string') {
      if ('banUntil' in fault) this.#send(res, 429, 'text/html', banPage(fault.banUntil));
      else
        this.#send(
          res,
          fault.status,
          fault.contentType ?? 'text/html',
          fault.body ??
            '<html><body><h1>Service Temporarily Unavailable</h1><p>Scheduled maintenance is currently underway. Please check back soon.</p></body></html>',
        );
      return;
    }
    const doc = this.#match(record.params) ?? this.#docs[0]!;
    switch (fault) {
      case 'timeout':
        return; // the socket stays open until the client gives up or the server closes
      case 'reset':
        res.socket?.destroy();
        return;
      case 'truncated': {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(Buffer.byteLength(doc.text)) });
        res.write(doc.text.slice(0, Math.floor(doc.text.length / 2)));
        setTimeout(() => res.socket?.destroy(), 10);
        return;
      }
      case 'html':
        this.#send(res, 200, 'text/html', '<!DOCTYPE html><html><body>Maintenance</body></html>');
        return;
      case 'zip':
        this.#send(res, 200, 'application/zip', Buffer.from(zipSync({ [doc.file]: Buffer.from(doc.text) })));
        return;
      case 'no-data':
        this.#send(res, 200, 'text/xml', NO_DATA);
        return;
      case 'too-large':
        this.#send(
          res,
          400,
          'text/xml',
          NO_DATA.replace(
            /<text>[^<]*<\/text>/,
            "<text>Provided time interval is larger than maximum allowed period 'P1M' for 'ACTUAL_TOTAL_LOAD_R3:XML' export.</text>",
          ),
        );
        return;
      case 'unauthorized':
        this.#send(res, 401, 'text/html', UNAUTHORIZED);
        return;
      case 'ban-page':
        this.#send(
          res,
          429,
          'text/html',
          '<html><body><h1>HTTP Status 429 - TOO MANY REQUESTS</h1><p>Max allowed requests per minute from each unique IP is max up to 400 only</p></body></html>',
        );
        return;
      default:
        fault satisfies never;
    }
  }

  #send(res: ServerResponse, status: number, type: string, body: string | Buffer): void {
    res.writeHead(status, { 'content-type': type, 'content-length': String(Buffer.byteLength(body)) });
    res.end(body);
  }
}

/** The body the R3 service sends a banned token, as reported in BerriJ/entsoe-apy#99 (2025-11-25). */
function banPage(until: number): string {
  return `<html><body><p>Requester banned until '${new Date(until).toISOString()}'.</p></body></html>`;
}

/**
 * An ingestor fetching from a {@link FakeEntsoe} at `url` with {@link TEST_TOKEN}, no rate limit to speak of and fast
 * retries (two attempts), publishing to `published` and `deadLetters`.
 */
export function fakeEntsoeIngestor(
  url: string,
  logger: Logger,
  published: MemoryPublisher<RawEntsoeDocument>,
  deadLetters: MemoryPublisher<DeadLetter>,
): EntsoeIngestor {
  return new EntsoeIngestor({
    client: new EntsoeClient({
      baseUrl: url,
      token: new Secret(TEST_TOKEN),
      logger,
      rateLimits: new MemoryRateLimitStore(),
      limit: { requestsPerMinute: 60_000 },
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 2 },
    }),
    publisher: published,
    deadLetters,
    logger,
  });
}
