import { METRICS } from '../contracts/index.ts';

const problem = { $ref: '#/components/responses/Problem' };
const errors = { '400': problem, '401': problem, '403': problem, '429': problem };
const q = (name: string, description: string, schema: Record<string, unknown>, required = false) => ({
  name,
  in: 'query',
  required,
  description,
  schema,
});
const zone = q(
  'zone',
  'Zone code, e.g. DE_LU, FR, IT_NORD, LU',
  { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' },
  true,
);
const from = q('from', 'Start (inclusive): YYYY-MM-DD or ISO 8601 with offset', { type: 'string' }, true);
const to = q('to', 'End (exclusive)', { type: 'string' }, true);
const resolution = q(
  'resolution',
  'Bucket size: averages for intensive units (MW, prices, intensities, %), sums for MWh',
  { type: 'string', enum: ['PT15M', 'PT1H', 'P1D'], default: 'PT15M' },
);
const point = {
  type: 'object',
  required: ['ts', 'value'],
  properties: {
    ts: { type: 'string', format: 'date-time' },
    value: { type: 'number' },
    flags: { type: 'array', items: { type: 'string' } },
    slots: { type: 'integer', description: 'Slots with a value in the bucket (only when not all of them)' },
    expected_slots: { type: 'integer' },
  },
};
const json = (schema: Record<string, unknown>, description = 'OK') => ({
  description,
  content: { 'application/json': { schema } },
});
const operator = [{ apiKey: [] }, { bearer: [] }];

/** The OpenAPI 3.1 description of the HTTP API, served at `/api/openapi.json`. */
export function openApiDocument(version: string): Record<string, unknown> {
  return {
    openapi: '3.1.0',
    info: {
      title: 'gridstream API',
      version,
      description:
        'Clean 15-minute European grid data: generation per type, load, prices, flows, forecasts, carbon intensity. Every request needs an API key (`Authorization: Bearer <key>` or `X-API-Key`), except in public read-only mode. Errors are `application/problem+json`; a bad parameter is a 400 that names it.',
      license: { name: 'Apache-2.0' },
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/api/v1/zones': {
        get: {
          summary: 'Zones with data',
          operationId: 'zones',
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/series': {
        get: {
          summary: 'Time series of one zone and metric, one or several production types',
          operationId: 'series',
          parameters: [
            zone,
            q('metric', 'Metric', { type: 'string', enum: [...METRICS] }, true),
            q('production_type', 'Comma-separated production types (B16,B19)', { type: 'string' }),
            q('counterpart_zone', 'For flows and exchanges: the other zone (direction zone → counterpart)', {
              type: 'string',
            }),
            q('qualifier', 'e.g. sequence=1, contract=A01, factors=direct', { type: 'string' }),
            from,
            to,
            resolution,
            q('as_of', 'Values as known at this past moment (before later corrections)', { type: 'string' }),
          ],
          responses: {
            '200': json({
              type: 'object',
              properties: {
                zone: { type: 'string' },
                metric: { type: 'string' },
                resolution: { type: 'string' },
                series: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      production_type: { type: ['string', 'null'] },
                      unit: { type: 'string' },
                      aggregation: { enum: ['avg', 'sum'] },
                      points: { type: 'array', items: point },
                    },
                  },
                },
              },
            }),
            ...errors,
          },
        },
      },
      '/api/v1/carbon-intensity': {
        get: {
          summary: 'Carbon intensity (gCO2eq/kWh), production- or consumption-based (flow tracing)',
          operationId: 'carbonIntensity',
          parameters: [
            zone,
            from,
            to,
            q('basis', 'production or consumption', {
              type: 'string',
              enum: ['production', 'consumption'],
              default: 'production',
            }),
            q('factors', 'lifecycle or direct emission factors', {
              type: 'string',
              enum: ['lifecycle', 'direct'],
              default: 'lifecycle',
            }),
            resolution,
            q('source', "gridstream's computation or Electricity Maps' published figures", {
              type: 'string',
              enum: ['gridstream', 'electricitymaps'],
              default: 'gridstream',
            }),
          ],
          responses: {
            '200': json({
              type: 'object',
              properties: { unit: { const: 'gCO2eq/kWh' }, points: { type: 'array', items: point } },
            }),
            ...errors,
          },
        },
      },
      '/api/v1/mix': {
        get: {
          summary: 'Generation mix of a slot with shares (default: the latest slot)',
          operationId: 'mix',
          parameters: [zone, q('at', 'Slot (default: latest)', { type: 'string' })],
          responses: { '200': json({ type: 'object' }), '404': problem, ...errors },
        },
      },
      '/api/v1/completeness': {
        get: {
          summary: 'Expected vs present slots per metric and local day',
          operationId: 'completeness',
          parameters: [zone, from, to, q('metric', 'Only this metric', { type: 'string', enum: [...METRICS] })],
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/stream': {
        get: {
          summary: 'Server-Sent Events: one `slot` event per series with a newly stored slot',
          operationId: 'stream',
          parameters: [q('zones', 'Comma-separated zones (default: all the key may read)', { type: 'string' })],
          responses: {
            '200': {
              description: 'text/event-stream',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
            ...errors,
          },
        },
      },
      '/api/v1/me': {
        get: {
          summary: 'The calling key: id, name, role and zone allow-list',
          operationId: 'me',
          responses: {
            '200': json({
              type: 'object',
              properties: {
                key_id: { type: ['string', 'null'] },
                name: { type: 'string' },
                role: { enum: ['reader', 'operator', 'admin'] },
                zones: { type: ['array', 'null'], items: { type: 'string' } },
              },
            }),
            ...errors,
          },
        },
      },
      '/api/v1/status': {
        get: {
          summary:
            'Platform status for any key: version, and whether ingestion is live or an offline replay of bundled documents',
          operationId: 'status',
          responses: {
            '200': json({
              type: 'object',
              properties: {
                version: { type: 'string' },
                ingestion: { enum: ['live', 'offline-replay', 'unknown'] },
                role: { type: 'string' },
              },
            }),
            ...errors,
          },
        },
      },
      '/api/v1/admin/dlq': {
        get: {
          summary: 'Dead letters per topic and reason (operator)',
          security: operator,
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/dlq/{topic}': {
        get: {
          summary: 'Dead letters of a topic (operator)',
          parameters: [
            {
              name: 'topic',
              in: 'path',
              required: true,
              schema: { enum: ['dlq-ingestion', 'dlq-processing', 'dlq-storage'] },
            },
            q('reason', 'Filter by reason', { type: 'string' }),
            q('limit', 'Most entries', { type: 'integer', default: 100 }),
          ],
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/dlq/{topic}/{partition}/{offset}': {
        get: {
          summary: 'One dead letter (operator)',
          parameters: ['topic', 'partition', 'offset'].map((name) => ({
            name,
            in: 'path',
            required: true,
            schema: { type: 'string' },
          })),
          responses: { '200': json({ type: 'object' }), '404': problem, ...errors },
        },
      },
      '/api/v1/admin/dlq/{topic}/replay': {
        post: {
          summary: 'Replay dead letters to their source (operator); replaying twice duplicates nothing',
          parameters: [{ name: 'topic', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  properties: { offsets: { type: 'array' }, reason: { type: 'string' }, all: { type: 'boolean' } },
                },
              },
            },
          },
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/jobs': {
        get: {
          summary: 'Job runs (operator)',
          parameters: [q('job', 'Job name', { type: 'string' }), q('limit', 'Most runs', { type: 'integer' })],
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/connectors': {
        get: {
          summary: 'Connector status: last runs, rate limits and bans, leader lease (operator)',
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/lag': {
        get: {
          summary: 'Consumer lag per group, topic and partition (operator)',
          responses: { '200': json({ type: 'object' }), ...errors },
        },
      },
      '/api/v1/admin/keys': {
        get: { summary: 'API keys (admin)', responses: { '200': json({ type: 'object' }), ...errors } },
        post: {
          summary: 'Create an API key (admin); the key is in the response once',
          requestBody: {
            content: {
              'application/json': {
                schema: {
                  type: 'object',
                  required: ['name', 'role'],
                  properties: {
                    name: { type: 'string' },
                    role: { enum: ['reader', 'operator', 'admin'] },
                    zones: { type: ['array', 'null'], items: { type: 'string' } },
                    rate_limit_per_minute: { type: ['integer', 'null'] },
                  },
                },
              },
            },
          },
          responses: { '201': json({ type: 'object' }, 'Created'), ...errors },
        },
      },
      '/api/v1/admin/keys/{id}': {
        delete: {
          summary: 'Revoke an API key (admin)',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          responses: { '204': { description: 'Revoked' }, '404': problem, ...errors },
        },
      },
      '/healthz': { get: { summary: 'Liveness', security: [], responses: { '200': json({ type: 'object' }) } } },
      '/readyz': {
        get: {
          summary: 'Readiness: database and event log reachable',
          security: [],
          responses: { '200': json({ type: 'object' }), '503': problem },
        },
      },
      '/metrics': {
        get: {
          summary: 'Prometheus metrics',
          security: [],
          responses: { '200': { description: 'text/plain; version=0.0.4' } },
        },
      },
    },
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
      responses: {
        Problem: {
          description: 'An error (RFC 9457)',
          content: {
            'application/problem+json': {
              schema: {
                type: 'object',
                properties: {
                  type: { type: 'string' },
                  title: { type: 'string' },
                  status: { type: 'integer' },
                  detail: { type: 'string' },
                  instance: { type: 'string' },
                  param: { type: 'string' },
                },
              },
            },
          },
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
