import { Hono } from 'hono';
import type { HttpServer, ReadinessCheck } from '../api/index.ts';
import { ApiError, Authenticator, healthRoutes, httpServer, problem, roleAtLeast } from '../api/index.ts';
import type { IngestDeps } from './readings.ts';
import { parseReadingLines, storeReadings } from './readings.ts';

/** Largest request body the gateway reads (NDJSON lines of device readings). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface IngestGatewayOptions {
  readonly host: string;
  /** `GRIDSTREAM_INGEST_PORT`. */
  readonly port: number;
  /** What `/readyz` answers (the process's readiness). */
  readonly readiness: ReadinessCheck;
}

/**
 * The `ingest` role's input gateway: `POST /ingest/meters` with newline-delimited JSON readings (smart meters,
 * SCADA, PMU) and an API key of role operator or admin. Valid lines go to raw.meters; a line that is not JSON or
 * not a reading goes to dlq-ingestion with its line number — the rest of the body still goes through. Answers
 * with the counts once everything is durable. `/healthz` and `/readyz` answer like on every gridstream server.
 */
export function ingestGateway(deps: IngestDeps, options: IngestGatewayOptions): HttpServer {
  const { db, logger, scrub } = deps;
  const auth = new Authenticator(db, { server: 'ingest', metrics: deps.metrics });
  const app = new Hono();
  app.onError((error, c) => problem(c, error));
  healthRoutes(app, options.readiness);
  app.post('/ingest/meters', async (c) => {
    // The same rule, throttle and checks as the API port (src/api/authenticate.ts).
    const principal = await auth.authenticate(c);
    if (principal === undefined) throw new ApiError('api.unauthorized', 'an API key with role operator is required');
    if (!roleAtLeast(principal.role, 'operator'))
      throw new ApiError('api.forbidden', 'ingesting needs the operator role');
    const body = await c.req.arrayBuffer();
    if (body.byteLength > MAX_BODY_BYTES)
      throw new ApiError('api.bad_request', `body larger than ${MAX_BODY_BYTES} bytes`, { param: 'body' });
    const parsed = parseReadingLines(Buffer.from(body).toString('utf8'), { endpoint: '/ingest/meters' }, scrub);
    await storeReadings(deps, parsed, c.req.raw.signal);
    const { readings, letters } = parsed;
    return c.json(
      { accepted: readings.length, rejected: letters.length },
      letters.length > 0 && readings.length === 0 ? 400 : 200,
    );
  });
  return httpServer({
    name: 'ingest',
    app,
    host: options.host,
    port: options.port,
    portVariable: 'GRIDSTREAM_INGEST_PORT',
    logger,
    onListening: (port) => {
      logger.info({ port }, `ingest gateway on http://${options.host}:${port}/ingest/meters`);
    },
  });
}
