import type { ServerType } from '@hono/node-server';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { ApiError, KeyVerifier, problem, roleAtLeast } from '../api/index.ts';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';
import { parseReadingLines, storeReadings } from './meter-readings.ts';

/** Largest request body the gateway reads (NDJSON lines of device readings). */
const MAX_BODY_BYTES = 8 * 1024 * 1024;

/**
 * The `ingest` role's input gateway: `POST /ingest/meters` with newline-delimited JSON readings (smart meters,
 * SCADA, PMU) and an API key of role operator or admin. Valid lines go to raw.meters; a line that is not JSON or
 * not a reading goes to dlq-ingestion with its line number — the rest of the body still goes through. Answers
 * with the counts once everything is durable.
 */
export function ingestGateway(infra: Infrastructure): Component {
  const { db, logger, config, scrub } = infra;
  const verifier = new KeyVerifier(db);
  const app = new Hono();
  app.onError((error, c) => problem(c, error));
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.post('/ingest/meters', async (c) => {
    const auth = c.req.header('authorization');
    const key = /^Bearer\s+(\S+)$/i.exec(auth ?? '')?.[1] ?? c.req.header('x-api-key');
    const principal = key === undefined ? undefined : await verifier.verify(key);
    if (principal === undefined) throw new ApiError('unauthorized', 'an API key with role operator is required');
    if (!roleAtLeast(principal.role, 'operator')) throw new ApiError('forbidden', 'ingesting needs the operator role');
    const body = await c.req.arrayBuffer();
    if (body.byteLength > MAX_BODY_BYTES)
      throw new ApiError('bad_request', `body larger than ${MAX_BODY_BYTES} bytes`, { param: 'body' });
    const parsed = parseReadingLines(Buffer.from(body).toString('utf8'), { endpoint: '/ingest/meters' }, scrub);
    await storeReadings(infra, parsed, c.req.raw.signal);
    const { readings, letters } = parsed;
    return c.json(
      { accepted: readings.length, rejected: letters.length },
      letters.length > 0 && readings.length === 0 ? 400 : 200,
    );
  });
  let server: ServerType | undefined;
  let stopping: Promise<void> | undefined;
  return {
    name: 'ingest',
    async start() {
      await new Promise<void>((resolve, reject) => {
        server = serve({ fetch: app.fetch, port: config.ingestPort, hostname: config.host }, () => {
          resolve();
        });
        server.once('error', reject);
      });
      logger.info(
        { port: config.ingestPort },
        `ingest gateway on http://${config.host}:${config.ingestPort}/ingest/meters`,
      );
    },
    stop: (options = {}) =>
      (stopping ??= new Promise<void>((resolve) => {
        if (server === undefined) {
          resolve();
          return;
        }
        const timer = setTimeout(resolve, options.graceMs ?? 10_000);
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
      })),
  };
}
