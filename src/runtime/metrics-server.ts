import { Hono } from 'hono';
import type { HttpServer, ReadinessCheck } from '../api/index.ts';
import { healthRoutes, httpServer } from '../api/index.ts';
import type { Infrastructure } from './infrastructure.ts';

/**
 * `/metrics`, `/healthz` and `/readyz` on GRIDSTREAM_METRICS_PORT for worker processes that do not run the api role
 * (the api role serves them on GRIDSTREAM_PORT itself), so every process of a distributed deployment can be scraped
 * and probed.
 */
export function metricsServer(infra: Infrastructure, port: number, readiness: ReadinessCheck): HttpServer {
  const app = new Hono();
  healthRoutes(app, readiness);
  app.get('/metrics', async (c) =>
    c.body(await infra.metrics.registry.metrics(), 200, { 'content-type': infra.metrics.registry.contentType }),
  );
  return httpServer({
    name: 'metrics-server',
    app,
    host: infra.config.host,
    port,
    portVariable: 'GRIDSTREAM_METRICS_PORT',
    logger: infra.logger,
  });
}
