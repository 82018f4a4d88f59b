import type { Hono } from 'hono';
import { z } from 'zod';
import type { Metrics } from '../../observability/index.ts';
import type { ReadinessCheck } from '../health.ts';
import { healthRoutes, healthzRoute, readyzRoute } from '../health.ts';
import { docsPage, openApiDocument } from '../openapi.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';

export const metricsRoute = defineRoute({
  method: 'get',
  path: '/metrics',
  operationId: 'metrics',
  summary: 'Prometheus metrics (text exposition format 0.0.4)',
  access: 'public',
  query: {},
  contentType: 'text/plain',
});

export const openApiRoute = defineRoute({
  method: 'get',
  path: '/api/openapi.json',
  operationId: 'openapi',
  summary: 'This description (OpenAPI 3.1), generated from the schemas that validate the routes',
  access: 'public',
  query: {},
  response: z.looseObject({ openapi: z.literal('3.1.0'), paths: z.record(z.string(), z.unknown()) }),
});

export const docsRoute = defineRoute({
  method: 'get',
  path: '/api/docs',
  operationId: 'docs',
  summary: 'A readable page of the operations',
  access: 'public',
  query: {},
  contentType: 'text/html',
});

export const SYSTEM_ROUTES: readonly RouteContract[] = [
  healthzRoute,
  readyzRoute,
  metricsRoute,
  openApiRoute,
  docsRoute,
];

/** Liveness, readiness, Prometheus metrics and the API description: no key needed. */
export function systemRoutes(
  app: Hono,
  deps: { metrics: Metrics; version: string; readiness: ReadinessCheck; routes: readonly RouteContract[] },
): void {
  const doc = openApiDocument(deps.version, deps.routes);
  const docs = docsPage(doc);
  healthRoutes(app, deps.readiness);
  handle(app, metricsRoute, async (c) =>
    c.body(await deps.metrics.registry.metrics(), 200, { 'content-type': deps.metrics.registry.contentType }),
  );
  handle(app, openApiRoute, (c) => c.json(doc));
  handle(app, docsRoute, (c) => c.html(docs));
}
