import type { Hono } from 'hono';
import type { Metrics } from '../../observability/index.ts';
import type { ReadinessCheck } from '../health.ts';
import { healthRoutes } from '../health.ts';
import { docsPage, openApiDocument } from '../openapi.ts';

/** Liveness, readiness, Prometheus metrics and the API description: no key needed. */
export function systemRoutes(app: Hono, deps: { metrics: Metrics; version: string; readiness: ReadinessCheck }): void {
  const doc = openApiDocument(deps.version);
  const docs = docsPage(doc);
  healthRoutes(app, deps.readiness);
  app.get('/metrics', async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  app.get('/api/openapi.json', (c) => c.json(doc));
  app.get('/api/docs', (c) => c.html(docs));
}
