import type { Hono } from 'hono';
import type { Log } from '../../log/index.ts';
import type { Metrics } from '../../observability/index.ts';
import type { Db } from '../../storage/index.ts';
import { ApiError } from '../errors.ts';
import { docsPage, openApiDocument } from '../openapi.ts';

/** Liveness, readiness, Prometheus metrics and the API description: no key needed. */
export function systemRoutes(app: Hono, deps: { db: Db; log: Log; metrics: Metrics; version: string }): void {
  const doc = openApiDocument(deps.version);
  const docs = docsPage(doc);
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/readyz', async (c) => {
    const signal = AbortSignal.timeout(3_000);
    const checks = await Promise.allSettled([deps.db.query('SELECT 1', [], { signal }), deps.log.topics({ signal })]);
    const [db, log] = checks.map((r) => r.status === 'fulfilled');
    if (db !== true || log !== true) {
      throw new ApiError(
        'unavailable',
        `not ready: database ${db === true ? 'reachable' : 'unreachable'}, event log ${log === true ? 'reachable' : 'unreachable'}`,
      );
    }
    return c.json({ status: 'ready', database: 'ok', log: 'ok' });
  });
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  app.get('/api/openapi.json', (c) => c.json(doc));
  app.get('/api/docs', (c) => c.html(docs));
}
