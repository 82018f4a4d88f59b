/*
 * Electricity Maps API v3 (docs/upstream-apis.md, "Electricity Maps API v3"):
 *
 *   GET <base>/v3/power-breakdown/latest|history?zone=DE&shouldUseFallbackCallerLookup=false
 *   GET <base>/v3/carbon-intensity/latest|history?zone=DE&shouldUseFallbackCallerLookup=false
 *   header  auth-token: <token>
 *   401 {"error":"Invalid auth-token"} — also sent by design when throttled: retried once after a pause
 *   403/401 for a zone outside the token's plan; 429 when throttled; 5xx transient
 */
import type { RawElectricityMaps } from '../../contracts/index.ts';
import type { Logger } from '../../observability/index.ts';
import { secretScrubber } from '../../observability/index.ts';
import type { PoliteResult, RateLimit, RateLimitStore, RequestObserver, RetryOptions } from '../http/index.ts';
import { CircuitBreakers, HttpError, RateLimiter, httpGet, rateLimitKey, requestPolitely } from '../http/index.ts';
import { ElectricityMapsError } from './client-errors.ts';
import type { ElectricityMapsTokens } from './client-tokens.ts';
import { parseElectricityMaps } from './parse.ts';

/** The endpoints gridstream polls. */
export const ELECTRICITYMAPS_ENDPOINTS = [
  'power-breakdown/latest',
  'power-breakdown/history',
  'carbon-intensity/latest',
  'carbon-intensity/history',
] as const;
export type ElectricityMapsEndpoint = (typeof ELECTRICITYMAPS_ENDPOINTS)[number];

export interface ElectricityMapsClientOptions {
  /** `Config.electricityMaps.baseUrl` (with or without `/v3`). */
  readonly baseUrl: string;
  readonly tokens: ElectricityMapsTokens;
  readonly logger: Logger;
  readonly rateLimits: RateLimitStore;
  /** Per token; plans' limits are not published. @default 30 requests per minute */
  readonly limit?: RateLimit;
  readonly breakers?: CircuitBreakers;
  /** @default 4 attempts */
  readonly retry?: RetryOptions;
  /** @default 30 000 ms */
  readonly timeoutMs?: number;
  /** Pause after a 429 without Retry-After. @default 60 000 ms */
  readonly defaultBanMs?: number;
  /** Pause before the one retry of a 401 (throttling can look like a bad token). @default 30 000 ms */
  readonly unauthorizedPauseMs?: number;
  readonly now?: () => number;
  /** Metrics hooks: attempts by outcome, limiter waits. */
  readonly observer?: RequestObserver;
}

/** The request a raw response answers, as kept in dead letters for replay. */
export interface ElectricityMapsRequest {
  readonly source: 'electricitymaps';
  readonly endpoint: ElectricityMapsEndpoint;
  readonly zone: string;
}

/**
 * The Electricity Maps client: one GET per endpoint and zone, with the zone's token in the `auth-token` header,
 * through the shared per-token rate limit, retries and circuit breaker. `fetch` never throws for upstream
 * failures: they come back as a failed {@link PoliteResult} for the dead-letter queue.
 */
export class ElectricityMapsClient {
  readonly #options: ElectricityMapsClientOptions;
  readonly #base: URL;
  readonly #limiter: RateLimiter;
  readonly #breakers: CircuitBreakers;
  readonly #scrub: (text: string) => string;

  constructor(options: ElectricityMapsClientOptions) {
    this.#options = options;
    this.#base = new URL(options.baseUrl.replace(/\/+$/, '').replace(/\/v3$/, ''));
    this.#limiter = new RateLimiter({ store: options.rateLimits, logger: options.logger });
    this.#breakers = options.breakers ?? new CircuitBreakers();
    this.#scrub = secretScrubber(options.tokens.all().map((t) => t.reveal()));
  }

  get scrub(): (text: string) => string {
    return this.#scrub;
  }

  /** Fetches one endpoint for one zone (`origin` marks replays). @throws the signal's reason when cancelled */
  async fetch(
    request: ElectricityMapsRequest,
    options: { readonly signal?: AbortSignal | undefined; readonly origin?: RawElectricityMaps['origin'] } = {},
  ): Promise<PoliteResult<RawElectricityMaps | null>> {
    const token = this.#options.tokens.tokenFor(request.zone);
    const now = this.#options.now ?? Date.now;
    if (token === null) {
      const t = now();
      const error = new ElectricityMapsError(
        'electricitymaps.no_token',
        `no Electricity Maps token for zone ${request.zone}`,
      );
      return { ok: false, error, attempts: 1, firstFailureAt: t, lastFailureAt: t, httpStatus: null };
    }
    const url = new URL(`${this.#base.pathname.replace(/\/$/, '')}/v3/${request.endpoint}`, this.#base);
    url.searchParams.set('zone', request.zone);
    // Without it, an unknown zone silently answers with the zone of the caller's IP address.
    url.searchParams.set('shouldUseFallbackCallerLookup', 'false');
    return requestPolitely(
      this.#base.host,
      async (attempt, signal) => {
        const response = await httpGet(url, {
          headers: { 'auth-token': token.reveal(), accept: 'application/json', 'user-agent': 'gridstream/0.1' },
          signal,
          timeoutMs: this.#options.timeoutMs ?? 30_000,
          maxBodyBytes: 16 * 1024 * 1024,
          scrub: this.#scrub,
        });
        return this.#read(request, response, attempt, options.origin ?? 'api', now());
      },
      {
        limiter: this.#limiter,
        limitKey: rateLimitKey('electricitymaps', token.reveal()),
        limit: this.#options.limit ?? { requestsPerMinute: 30 },
        breakers: this.#breakers,
        logger: this.#options.logger,
        retry: { maxAttempts: 4, ...this.#options.retry },
        defaultBanMs: this.#options.defaultBanMs ?? 60_000,
        now,
        ...(this.#options.observer === undefined ? {} : { observer: this.#options.observer }),
      },
      {
        signal: options.signal,
        context: { source: 'electricitymaps', endpoint: request.endpoint, zone: request.zone },
      },
    );
  }

  #read(
    request: ElectricityMapsRequest,
    response: Awaited<ReturnType<typeof httpGet>>,
    attempt: number,
    origin: RawElectricityMaps['origin'],
    now: number,
  ): RawElectricityMaps | null {
    const { status } = response;
    const where = `${request.endpoint} for ${request.zone}`;
    const cause = new HttpError('http.status', `Electricity Maps ${where}: HTTP ${status}`, {
      status,
      retryable: status >= 500,
      ...(response.retryAfterMs === null ? {} : { retryAfterMs: response.retryAfterMs }),
    });
    if (status === 429) {
      throw new ElectricityMapsError('electricitymaps.rate_limited', `Electricity Maps throttled ${where}`, {
        retryable: true,
        cause: new HttpError('http.banned', `HTTP 429`, {
          status,
          bannedUntil: response.retryAfterMs === null ? null : now + response.retryAfterMs,
        }),
      });
    }
    if (status === 401 || status === 403) {
      // A 401 can be throttling in disguise (electricitymaps-contrib#8047): one more try after a pause.
      const again = status === 401 && attempt === 1;
      throw new ElectricityMapsError(
        'electricitymaps.unauthorized',
        `Electricity Maps refused the token for ${where} (HTTP ${status})`,
        {
          retryable: again,
          cause: new HttpError('http.status', `HTTP ${status}`, {
            status,
            retryable: again,
            retryAfterMs: again ? (this.#options.unauthorizedPauseMs ?? 30_000) : null,
          }),
        },
      );
    }
    if (status !== 200) {
      throw new ElectricityMapsError('electricitymaps.http_error', `Electricity Maps ${where}: HTTP ${status}`, {
        retryable: status >= 500,
        cause,
      });
    }
    let body: unknown;
    try {
      // Scrubbed before it is read: an echoed auth-token never reaches raw.electricitymaps or messages.
      body = JSON.parse(this.#scrub(new TextDecoder().decode(response.body)));
    } catch {
      throw new ElectricityMapsError(
        'electricitymaps.invalid_body',
        `Electricity Maps ${where}: the body is not JSON`,
        {
          retryable: true,
        },
      );
    }
    const outcome = parseElectricityMaps(body);
    if (outcome.kind === 'no_data') return null;
    if (outcome.kind === 'invalid' || outcome.kind === 'unsupported') {
      const why = outcome.kind === 'invalid' ? outcome.message : outcome.what;
      throw new ElectricityMapsError(
        'electricitymaps.invalid_body',
        `Electricity Maps ${where}: unexpected response (${why})`,
      );
    }
    return {
      id: `emaps-${request.endpoint.replace('/', '-')}-${request.zone}-${now}`.slice(0, 100),
      origin,
      fetchedAt: new Date(now).toISOString(),
      endpoint: request.endpoint,
      zone: request.zone,
      httpStatus: status,
      body,
    };
  }
}
