import { createHash } from 'node:crypto';
import type { Secret } from '../../config/index.ts';
import type { EntsoeRequest, RawEntsoeDocument } from '../../contracts/index.ts';
import type { Logger } from '../../observability/index.ts';
import { secretScrubber } from '../../observability/index.ts';
import type { TimeZone } from '../../time/index.ts';
import type {
  FetchFailure,
  Politeness,
  RateLimit,
  RateLimitStore,
  RequestObserver,
  RetryOptions,
} from '../http/index.ts';
import { CircuitBreakers, RateLimiter, httpGet, rateLimitKey, requestPolitely } from '../http/index.ts';
import type { EntsoeLimit } from './client-limits.ts';
import {
  MAX_OFFSET,
  halveRequest,
  limitFor,
  planRequest,
  referenceTimeZone,
  requestTimeZone,
} from './client-limits.ts';
import { ENTSOE_BAN_MS, ENTSOE_MAX_BAN_MS, readEntsoeAnswer } from './client-response.ts';
import { EntsoeError } from './errors.ts';
import { parseEntsoeDocument } from './parse.ts';
import { entsoeQuery, requestKey } from './requests.ts';

export interface EntsoeClientOptions {
  /** `Config.entsoe.baseUrl`, e.g. `https://web-api.tp.entsoe.eu/api`. */
  readonly baseUrl: string;
  /** `Config.entsoe.token`; revealed only to build each request. */
  readonly token: Secret;
  readonly logger: Logger;
  /** Shared budget and bans of the token: in-process (embedded) or PostgreSQL (distributed). */
  readonly rateLimits: RateLimitStore;
  /** @default 400 requests per minute (the service's limit per token) */
  readonly limit?: RateLimit;
  /** Share one instance between clients of a process. @default a new one */
  readonly breakers?: CircuitBreakers;
  readonly retry?: RetryOptions;
  /** Time limit of one HTTP exchange. @default 120 000 ms (a year of PT15M data takes a while) */
  readonly timeoutMs?: number;
  /** Wait when a ban states no end. @default {@link ENTSOE_BAN_MS}, 600 000 ms: the documented "ban of 10 minutes" */
  readonly defaultBanMs?: number;
  /** Overrides of {@link ENTSOE_LIMITS} per document type. */
  readonly limits?: Readonly<Record<string, Partial<EntsoeLimit>>>;
  /**
   * Where the token goes: the documented `securityToken` query parameter, or the `SECURITY_TOKEN` header of the
   * Postman collection's variant (unconfirmed, keeps the token out of any URL log on the way). @default 'query'
   */
  readonly tokenIn?: 'query' | 'header';
  /** @default 'gridstream/0.1 (+https://github.com/gridstream)' */
  readonly userAgent?: string;
  /** Time zone of an area, for calendar chunks and whole days. @default the reference data's */
  readonly timeZoneOf?: (eic: string) => TimeZone | undefined;
  readonly now?: () => number;
  /** Metrics hooks: attempts by outcome, limiter waits. */
  readonly observer?: RequestObserver;
}

/** A request (or one page or part of it) that failed for good. */
export interface EntsoeFetchFailure extends FetchFailure {
  readonly request: EntsoeRequest;
}

/** Everything one {@link EntsoeClient.fetch} got: documents, and the parts that failed. */
export interface EntsoeFetchResult {
  readonly documents: RawEntsoeDocument[];
  /** Values (expanded time steps) in the documents. */
  points: number;
  /** HTTP exchanges made, retries included. */
  exchanges: number;
  /** Pages the service answered with "no matching data". */
  noData: number;
  readonly failures: EntsoeFetchFailure[];
}

interface Page {
  readonly documents: RawEntsoeDocument[];
  readonly points: number;
  readonly timeSeries: number;
  readonly empty: boolean;
}

const TIME_SERIES = /<(?:\w+:)?TimeSeries[\s>]/g;

/**
 * The ENTSO-E Transparency Platform client: splits requests to the service's limits, follows `offset` pages,
 * unpacks ZIP answers, and sends every exchange through the shared rate limit, ban handling, retries and circuit
 * breaker. The security token is revealed only where a request is built; logs and errors only ever see redacted
 * URLs and scrubbed text.
 */
export class EntsoeClient {
  readonly #options: EntsoeClientOptions;
  readonly #base: URL;
  readonly #politeness: Politeness;
  readonly #scrub: (text: string) => string;
  readonly #timeZoneOf: (eic: string) => TimeZone | undefined;
  readonly #now: () => number;

  constructor(options: EntsoeClientOptions) {
    this.#options = options;
    this.#base = new URL(options.baseUrl);
    this.#scrub = secretScrubber([options.token.reveal()]);
    this.#now = options.now ?? Date.now;
    this.#politeness = {
      limiter: new RateLimiter({ store: options.rateLimits, logger: options.logger }),
      // The bucket is keyed by a hash of the token: every client and worker using the token shares it.
      limitKey: rateLimitKey('entsoe', options.token.reveal()),
      limit: options.limit ?? { requestsPerMinute: 400 },
      breakers: options.breakers ?? new CircuitBreakers(),
      logger: options.logger,
      now: this.#now,
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      // Set here rather than left to the HTTP layer's defaults: these lengths are ENTSO-E's documented ban.
      defaultBanMs: options.defaultBanMs ?? ENTSOE_BAN_MS,
      maxBanMs: ENTSOE_MAX_BAN_MS,
      ...(options.observer === undefined ? {} : { observer: options.observer }),
    };
    this.#timeZoneOf = options.timeZoneOf ?? referenceTimeZone;
  }

  /** Removes the token from any text (for callers that build messages from errors). */
  get scrub(): (text: string) => string {
    return this.#scrub;
  }

  /** The time zone a request's calendar arithmetic uses: its first domain's, else ENTSO-E market time. */
  timeZoneOf(request: EntsoeRequest): TimeZone {
    return requestTimeZone(request, this.#timeZoneOf);
  }

  /** The parts `request` is sent as: split to the document type's span, widened to whole days where needed. */
  plan(request: EntsoeRequest): EntsoeRequest[] {
    return planRequest(request, {
      timeZoneOf: this.#timeZoneOf,
      ...(this.#options.limits === undefined ? {} : { limits: this.#options.limits }),
    });
  }

  /**
   * Fetches everything `request` asks for. Upstream failures are not thrown: each part that still failed after
   * its retries is listed in `failures` (for the dead-letter queue) next to the documents the other parts gave.
   * @throws the signal's reason when cancelled
   */
  async fetch(
    request: EntsoeRequest,
    options: { readonly signal?: AbortSignal | undefined; readonly origin?: RawEntsoeDocument['origin'] } = {},
  ): Promise<EntsoeFetchResult> {
    const result: EntsoeFetchResult = { documents: [], points: 0, exchanges: 0, noData: 0, failures: [] };
    const limit = limitFor(request.documentType, this.#options.limits);
    for (const part of this.plan(request)) await this.#fetchPart(part, limit, result, options, 0);
    return result;
  }

  async #fetchPart(
    part: EntsoeRequest,
    limit: EntsoeLimit,
    result: EntsoeFetchResult,
    options: { readonly signal?: AbortSignal | undefined; readonly origin?: RawEntsoeDocument['origin'] },
    depth: number,
  ): Promise<void> {
    let offset = limit.pageSize === null ? part.offset : (part.offset ?? 0);
    for (;;) {
      const page: EntsoeRequest = offset === undefined ? part : { ...part, offset };
      const outcome = await requestPolitely(
        this.#base.host,
        (_attempt, signal) => {
          result.exchanges++;
          return this.#exchange(page, options.origin ?? 'api', signal);
        },
        this.#politeness,
        { signal: options.signal, context: describe(page) },
      );
      if (!outcome.ok) {
        const halves = tooLarge(outcome.error) && depth < 8 ? halveRequest(page, this.timeZoneOf(page)) : null;
        if (halves !== null) {
          this.#options.logger.warn(describe(page), 'ENTSO-E found the request too large: fetching it in two halves');
          for (const half of halves) await this.#fetchPart(half, limit, result, options, depth + 1);
          return;
        }
        result.failures.push({ ...outcome, request: page, position: position(page) });
        return;
      }
      const got = outcome.value;
      result.documents.push(...got.documents);
      result.points += got.points;
      if (got.empty) result.noData++;
      if (limit.pageSize === null || offset === undefined || got.timeSeries < limit.pageSize) return;
      if (offset + limit.pageSize > MAX_OFFSET) {
        this.#options.logger.warn(
          describe(page),
          'ENTSO-E paging limit reached: the rest of this period is not fetched',
        );
        return;
      }
      offset += limit.pageSize;
    }
  }

  /** One HTTP exchange: build the URL (the only place the token is revealed), send, read, parse. */
  async #exchange(
    request: EntsoeRequest,
    origin: RawEntsoeDocument['origin'],
    signal: AbortSignal | undefined,
  ): Promise<Page> {
    const url = new URL(this.#base.href);
    for (const [k, v] of entsoeQuery(request)) url.searchParams.set(k, v);
    const where = `${this.#base.origin}${this.#base.pathname}?${entsoeQuery(request).toString()}`;
    const headers: Record<string, string> = {
      'user-agent': this.#options.userAgent ?? 'gridstream/0.1 (+https://github.com/gridstream)',
      accept: 'application/xml, text/xml, application/zip',
    };
    if ((this.#options.tokenIn ?? 'query') === 'query')
      url.searchParams.set('securityToken', this.#options.token.reveal());
    else headers['SECURITY_TOKEN'] = this.#options.token.reveal();
    const started = this.#now();
    const response = await httpGet(url, {
      headers,
      signal,
      timeoutMs: this.#options.timeoutMs ?? 120_000,
      scrub: this.#scrub,
    });
    // Scrubbed before anything reads it: an echoed token never reaches raw.entsoe, document ids or messages.
    const answer = readEntsoeAnswer(response, where, this.#scrub);
    const log = {
      ...describe(request),
      status: response.status,
      bytes: response.body.byteLength,
      ms: this.#now() - started,
    };
    if (answer.kind === 'no_data') {
      this.#options.logger.debug({ ...log, reason: answer.reason }, 'ENTSO-E: no matching data');
      return { documents: [], points: 0, timeSeries: 0, empty: true };
    }
    const fetchedAt = new Date(this.#now()).toISOString();
    const documents: RawEntsoeDocument[] = [];
    let points = 0;
    let timeSeries = 0;
    for (const body of answer.bodies) {
      const outcome = parseEntsoeDocument(body.text);
      if (outcome.kind === 'invalid') {
        // A 200 answer that does not parse is most often a transfer cut short: worth another attempt.
        throw new EntsoeError(outcome.error.code, `GET ${where}: ${outcome.error.message}`, {
          retryable: true,
          cause: outcome.error,
        });
      }
      if (outcome.kind === 'no_data') continue;
      if (outcome.kind === 'series') {
        points += outcome.stats.steps;
        this.#checkSequences(request, outcome.series);
      }
      timeSeries += body.text.match(TIME_SERIES)?.length ?? 0;
      const id = createHash('sha256')
        .update(`${requestKey(request)}|${body.entry ?? ''}|`)
        .update(body.text)
        .digest('hex');
      documents.push({
        id: `entsoe-${id.slice(0, 40)}`,
        origin,
        fetchedAt,
        request,
        httpStatus: response.status,
        body: body.text,
      });
    }
    this.#options.logger.debug({ ...log, documents: documents.length, points }, 'ENTSO-E: fetched');
    return { documents, points, timeSeries, empty: documents.length === 0 };
  }

  /** DE-LU and AT publish SDAC prices as sequence 1 and EXAA as 2; sequence 1 has been missing for days before. */
  #checkSequences(request: EntsoeRequest, series: readonly { readonly classificationSequence: string | null }[]): void {
    if (request.documentType !== 'A44') return;
    const sequences = new Set(series.map((s) => s.classificationSequence).filter((s) => s !== null));
    if (sequences.size > 0 && !sequences.has('1')) {
      this.#options.logger.warn(
        { ...describe(request), sequences: [...sequences] },
        'day-ahead prices without sequence 1 (SDAC): only other auctions were published',
      );
    }
  }
}

function tooLarge(error: unknown): boolean {
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    if (e instanceof EntsoeError && e.details['tooLarge'] === true) return true;
  }
  return false;
}

/** Log and dead-letter context of a request: never a URL, never the token. */
function describe(request: EntsoeRequest): Record<string, unknown> {
  return {
    documentType: request.documentType,
    ...(request.processType === undefined ? {} : { processType: request.processType }),
    zones: request.zones,
    periodStart: request.periodStart,
    periodEnd: request.periodEnd,
    ...(request.offset === undefined ? {} : { offset: request.offset }),
  };
}

function position(request: EntsoeRequest): Record<string, string | number | null> {
  return {
    documentType: request.documentType,
    zones: request.zones.join(','),
    periodStart: request.periodStart,
    periodEnd: request.periodEnd,
    offset: request.offset ?? null,
  };
}
