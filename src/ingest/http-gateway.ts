import type { Context } from 'hono';
import { Hono } from 'hono';
import type { HttpServer, ReadinessCheck } from '../api/index.ts';
import { ApiError, Authenticator, healthRoutes, httpServer, problem, roleAtLeast } from '../api/index.ts';
import { isRetryable } from '../common/index.ts';
import type { ReadingRules } from '../contracts/index.ts';
import { DEFAULT_READING_RULES } from '../contracts/index.ts';
import { IncomingMessage } from 'node:http';
import { BodyRefused, checkHeaders, lingerOnUnreadBody, readBody } from './body.ts';
import { MeterGroups } from './meter-groups.ts';
import type { IngestDeps } from './readings.ts';
import { parseReadingBody, readingFormatOf, storeReadings } from './readings.ts';

/** Body limits, concurrency and reading rules of the gateway (`GRIDSTREAM_INGEST_*`, `GRIDSTREAM_READINGS_*`). */
export interface IngestLimits {
  /** Largest body as sent. @default 8 MiB */
  readonly maxBodyBytes: number;
  /** Largest gzip body once decompressed. @default 64 MiB */
  readonly maxDecodedBytes: number;
  /** Bodies read and parsed at once; further requests wait. @default 4 */
  readonly concurrency: number;
  /** Readings timed before this are refused. @default 2000-01-01T00:00:00Z */
  readonly earliestReading: string;
  /** Readings timed more than this many ms after receipt are refused. @default one day */
  readonly maxAheadMs: number;
}

export const DEFAULT_INGEST_LIMITS: IngestLimits = {
  maxBodyBytes: 8 * 1024 * 1024,
  maxDecodedBytes: 64 * 1024 * 1024,
  concurrency: 4,
  earliestReading: DEFAULT_READING_RULES.earliest,
  maxAheadMs: DEFAULT_READING_RULES.maxAheadMs,
};

export interface IngestGatewayOptions {
  readonly host: string;
  /** `GRIDSTREAM_INGEST_PORT`. */
  readonly port: number;
  /** What `/readyz` answers (the process's readiness). */
  readonly readiness: ReadinessCheck;
  /** @default {@link DEFAULT_INGEST_LIMITS} */
  readonly limits?: Partial<IngestLimits>;
  /** `GRIDSTREAM_TRUSTED_PROXIES`: whose `X-Forwarded-For` names the client (failed-key throttle). @default none */
  readonly trustedProxies?: readonly string[];
}

/** Admits `n` holders at a time, in arrival order; a waiter whose request is gone leaves the queue. */
class Gate {
  #free: number;
  readonly #waiting: (() => void)[] = [];
  constructor(n: number) {
    this.#free = n;
  }
  async enter(signal: AbortSignal): Promise<() => void> {
    if (this.#free > 0) this.#free--;
    else {
      await new Promise<void>((resolve, reject) => {
        const admit = (): void => {
          signal.removeEventListener('abort', gone);
          resolve();
        };
        const gone = (): void => {
          const i = this.#waiting.indexOf(admit);
          if (i >= 0) this.#waiting.splice(i, 1);
          reject(new Error('the client went away'));
        };
        this.#waiting.push(admit);
        signal.addEventListener('abort', gone, { once: true });
      });
    }
    let left = false;
    return () => {
      if (left) return;
      left = true;
      const next = this.#waiting.shift();
      if (next === undefined) this.#free++;
      else next();
    };
  }
}

/** A problem document (like the API's) for what the gateway refuses before reading lines. */
function refusal(c: Context, e: BodyRefused): Response {
  const body = {
    type: `https://gridstream.dev/problems/${e.code.slice('ingest.'.length)}`,
    code: e.code,
    title: e.title,
    status: e.status,
    detail: e.message,
    instance: c.req.path,
  };
  // The rest of the body is read and dropped before the connection closes (see lingerOnUnreadBody), so that a
  // client still sending gets this answer instead of a reset.
  return new Response(JSON.stringify(body), {
    status: e.status,
    headers: { 'content-type': 'application/problem+json', connection: 'close' },
  });
}

/** The Node request under a Hono context (the HTTP adapter passes it as `env.incoming`). */
function incomingOf(c: Context): IncomingMessage | undefined {
  const env: unknown = c.env;
  if (typeof env !== 'object' || env === null || !('incoming' in env)) return undefined;
  return env.incoming instanceof IncomingMessage ? env.incoming : undefined;
}

/**
 * The `ingest` role's input gateway: `POST /ingest/meters` with readings (smart meters, SCADA, PMU) as NDJSON (no
 * Content-Type, `application/x-ndjson`, `text/plain`), a JSON array (`application/json`) or CSV with a header
 * (`text/csv`) — other types 415 — in any input shape of the reading contract, and an API key of role operator or
 * admin. A key limited to meter groups sends only readings of meters whose registry group at the reading's time is
 * one of its groups; the others (and unknown meters) are refused per line (`ingest.group_forbidden`). Each record becomes a canonical reading (`src/contracts/reading.ts`). The body is read as it arrives and never past its limit
 * (a longer declared length: 413 at once; a chunked body: 413 as soon as it passes it); `Content-Encoding: gzip`
 * is decompressed up to its own limit (a gzip bomb stops there, 413), other encodings are refused (415). Valid
 * lines go to raw.meters; the refused ones (not UTF-8, not JSON, not a reading, or a reading that would be
 * altered) go, verbatim and together, into one dead letter of dlq-ingestion with their line numbers, and the
 * answer names each (`rejects`: by reason, with why and the line numbers, runs as `[first, last]`) — the rest of
 * the body still goes through. Answers once
 * everything is durable. At most `concurrency` bodies are read and parsed at once, which bounds their memory.
 * `/healthz` and `/readyz` answer like on every gridstream server.
 */
export function ingestGateway(deps: IngestDeps, options: IngestGatewayOptions): HttpServer {
  const { db, logger, scrub } = deps;
  const limits: IngestLimits = { ...DEFAULT_INGEST_LIMITS, ...options.limits };
  const rules: ReadingRules = { earliest: limits.earliestReading, maxAheadMs: limits.maxAheadMs };
  const gate = new Gate(limits.concurrency);
  const auth = new Authenticator(db, {
    server: 'ingest',
    metrics: deps.metrics,
    ...(options.trustedProxies === undefined ? {} : { trustedProxies: options.trustedProxies }),
  });
  const meterGroups = new MeterGroups(db);
  const app = new Hono();
  app.onError((error, c) => {
    // An answer before the body was read to its end (413, 415, 401…): read and drop the rest, within bounds.
    const incoming = incomingOf(c);
    if (incoming !== undefined) lingerOnUnreadBody(incoming);
    if (error instanceof BodyRefused) return refusal(c, error);
    // Like the API, what is not a client error is logged (the answer says no more). Not news: a client gone, or a
    // retryable outage (answered 503, and reported by /readyz) — one line per request would flood the log.
    if (!(error instanceof ApiError) && !isRetryable(error) && !c.req.raw.signal.aborted)
      logger.error({ err: error, path: c.req.path }, 'ingest request failed');
    return problem(c, error);
  });
  healthRoutes(app, options.readiness);
  app.post('/ingest/meters', async (c) => {
    // The same rule, throttle and checks as the API port (src/api/authenticate.ts).
    const principal = await auth.authenticate(c);
    if (principal === undefined) throw new ApiError('api.unauthorized', 'an API key with role operator is required');
    if (!roleAtLeast(principal.role, 'operator'))
      throw new ApiError('api.forbidden', 'ingesting needs the operator role');
    const signal = c.req.raw.signal;
    checkHeaders(c.req.raw, limits);
    const format = readingFormatOf(c.req.header('content-type'));
    if (format === undefined)
      throw new BodyRefused(
        'ingest.unsupported_content_type',
        'send application/x-ndjson (or none), application/json (an array) or text/csv',
      );
    const release = await gate.enter(signal);
    try {
      const body = await readBody(c.req.raw, limits);
      const receivedAt = Date.now();
      const position = { endpoint: '/ingest/meters' };
      let parsed = parseReadingBody(body, position, { rules, receivedAt, scrub, format });
      // A key limited to groups (a device's, a portfolio's) sends only readings of its groups' meters: the body is
      // read again with the registry's verdict per reading, so that refused lines join the one dead letter.
      if (principal.groups !== null && parsed.readings.length > 0) {
        const admit = await meterGroups.admission(parsed.readings, principal.groups);
        parsed = parseReadingBody(body, position, { rules, receivedAt, scrub, format, admit });
      }
      await storeReadings(deps, parsed, signal);
      const { readings, rejected, rejects } = parsed;
      return c.json(
        { accepted: readings.length, rejected, rejects },
        rejected > 0 && readings.length === 0 ? 400 : 200,
      );
    } finally {
      release();
    }
  });
  return httpServer({
    name: 'ingest',
    app,
    host: options.host,
    port: options.port,
    portVariable: 'GRIDSTREAM_INGEST_PORT',
    logger,
    drainsUnreadBodies: true,
    // Stop following key changes (the verifier's LISTEN connection) once requests ended.
    afterClose: () => auth.stop(),
    onListening: (port) => {
      logger.info({ port }, `ingest gateway on http://${options.host}:${port}/ingest/meters`);
    },
  });
}
