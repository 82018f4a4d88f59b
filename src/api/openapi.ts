import { z } from 'zod';
import type { RouteContract } from './route.ts';
import { ProblemSchema } from './schemas.ts';

type JsonSchema = Record<string, unknown>;

/** A zod schema as the JSON Schema (2020-12) OpenAPI 3.1 embeds: the side a client sends or receives. */
function jsonSchema(schema: z.core.$ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema;
  delete out['$schema'];
  return out;
}

// Public routes refuse unknown parameters too (400).
const ERRORS_BY_ACCESS = { public: [400, 500], reader: [400, 401, 403, 429, 500, 503] } as const;
const PROBLEM = { $ref: '#/components/responses/Problem' };

function operation(route: RouteContract): Record<string, unknown> {
  const parameters = [
    ...Object.entries(route.params ?? {}).map(([name, schema]) => ({ name, in: 'path', schema })),
    ...Object.entries(route.query).map(([name, schema]) => ({ name, in: 'query', schema })),
  ].map(({ name, in: where, schema }) => {
    const js = jsonSchema(schema, 'input');
    // A transformed parameter (a date read into an instant) loses its examples on the way: take them from its meta.
    const { description, examples = z.globalRegistry.get(schema)?.examples, ...rest } = js;
    return {
      name,
      in: where,
      required: where === 'path' || !z.safeParse(schema, undefined).success,
      ...(typeof description === 'string' ? { description } : {}),
      schema: rest,
      ...(Array.isArray(examples) && examples.length > 0
        ? { examples: Object.fromEntries(examples.map((e, i) => [`example${i + 1}`, { value: e as unknown }])) }
        : {}),
    };
  });
  const status = String(route.status ?? 200);
  const success =
    route.response !== undefined
      ? {
          description: 'OK',
          content: {
            'application/json': { schema: jsonSchema(route.response, 'output') },
            ...Object.fromEntries((route.alternateContentTypes ?? []).map((t) => [t, { schema: { type: 'string' } }])),
          },
        }
      : route.contentType !== undefined
        ? { description: 'OK', content: { [route.contentType]: { schema: { type: 'string' } } } }
        : { description: 'No content' };
  const errors = [
    ...(route.access === 'public' ? ERRORS_BY_ACCESS.public : ERRORS_BY_ACCESS.reader),
    ...(route.errors ?? []),
  ];
  return {
    operationId: route.operationId,
    summary: route.summary,
    ...(route.description === undefined ? {} : { description: route.description }),
    ...(route.access === 'public' ? { security: [] } : {}),
    ...(route.access === 'operator' || route.access === 'admin'
      ? { 'x-gridstream-role': route.access, summary: `${route.summary} (${route.access})` }
      : {}),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(route.events === undefined
      ? {}
      : {
          'x-gridstream-events': Object.fromEntries(
            Object.entries(route.events).map(([name, schema]) => [name, jsonSchema(schema, 'output')]),
          ),
        }),
    ...(route.body === undefined
      ? {}
      : {
          requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(route.body, 'input') } } },
        }),
    responses: {
      [status]: success,
      ...Object.fromEntries(
        [...new Set(errors)]
          .filter((code) => String(code) !== status)
          .sort()
          .map((code) =>
            code === 503 && route.path === '/readyz' && route.response !== undefined
              ? [
                  String(code),
                  {
                    description: 'Not ready',
                    content: { 'application/json': { schema: jsonSchema(route.response, 'output') } },
                  },
                ]
              : [String(code), PROBLEM],
          ),
      ),
    },
  };
}

/**
 * The OpenAPI 3.1 description of the HTTP API (`/api/openapi.json`), generated from the route contracts: the same
 * zod schemas that validate each route's parameters and body and type its answer.
 */
export function openApiDocument(version: string, routes: readonly RouteContract[]): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) (paths[route.path] ??= {})[route.method] = operation(route);
  return {
    openapi: '3.1.0',
    info: {
      title: 'gridstream API',
      version,
      description: [
        'Clean 15-minute European grid data: generation per type, load, prices, flows, forecasts, carbon intensity.',
        'Every request needs an API key (`Authorization: Bearer <key>` or `X-API-Key`), except in public read-only mode.',
        'Errors are `application/problem+json`; a bad parameter is a 400 that names it, an unknown zone a 404 that suggests the closest ones.',
        'A bare date in `from`/`to` is 00:00 in the time zone of the zone asked for (or of `tz=`); `to` is exclusive.',
        'Values are rounded by unit (MW and MWh to 3 decimals, prices to 2, gCO2eq/kWh to 1); shares are fractions 0–1.',
      ].join(' '),
      license: { name: 'Apache-2.0' },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      responses: {
        Problem: {
          description: 'An error (RFC 9457)',
          content: { 'application/problem+json': { schema: jsonSchema(ProblemSchema, 'output') } },
        },
      },
    },
  };
}

/** A small, dependency-free HTML page listing the operations of the OpenAPI document. */
export function docsPage(doc: Record<string, unknown>): string {
  const paths = doc['paths'] as Record<
    string,
    Record<
      string,
      { summary?: string; parameters?: { name: string; in: string; required?: boolean; description?: string }[] }
    >
  >;
  const escape = (s: string) =>
    s.replace(/[&<>"]/g, (ch) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[ch] ?? ch);
  const rows = Object.entries(paths)
    .flatMap(([path, ops]) =>
      Object.entries(ops).map(
        ([method, op]) =>
          `<section><h2><code>${method.toUpperCase()} ${escape(path)}</code></h2><p>${escape(op.summary ?? '')}</p>${
            op.parameters === undefined || op.parameters.length === 0
              ? ''
              : `<ul>${op.parameters.map((p) => `<li><code>${escape(p.name)}</code> (${p.in}${p.required === true ? ', required' : ''}) ${escape(p.description ?? '')}</li>`).join('')}</ul>`
          }</section>`,
      ),
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><title>gridstream API</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}h2{font-size:1rem;margin:1.5rem 0 .25rem}code{background:#f1f3f5;padding:0 .25rem;border-radius:3px}section{border-top:1px solid #e3e6ea}</style></head>
<body><h1>gridstream API</h1><p>Machine-readable description: <a href="/api/openapi.json">/api/openapi.json</a> (OpenAPI 3.1). Send your key as <code>Authorization: Bearer &lt;key&gt;</code>.</p>${rows}</body></html>`;
}
