import type { ServerType } from '@hono/node-server';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';

/**
 * `/metrics` and `/healthz` on GRIDSTREAM_METRICS_PORT for worker processes that do not run the api role (the
 * api role serves them on GRIDSTREAM_PORT itself), so every process of a distributed deployment can be scraped.
 */
export function metricsServer(infra: Infrastructure, port: number): Component {
  const app = new Hono();
  app.get('/healthz', (c) => c.json({ status: 'ok' }));
  app.get('/metrics', async (c) =>
    c.body(await infra.metrics.registry.metrics(), 200, { 'content-type': infra.metrics.registry.contentType }),
  );
  let server: ServerType | undefined;
  let stopping: Promise<void> | undefined;
  return {
    name: 'metrics-server',
    start: () =>
      new Promise<void>((resolve, reject) => {
        server = serve({ fetch: app.fetch, port, hostname: infra.config.host }, () => {
          resolve();
        });
        server.once('error', reject);
      }),
    stop: () =>
      (stopping ??= new Promise<void>((resolve) => {
        if (server === undefined) resolve();
        else
          server.close(() => {
            resolve();
          });
      })),
  };
}
