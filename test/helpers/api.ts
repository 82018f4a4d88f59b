import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { ApiServerOptions } from '../../src/api/index.ts';
import { ApiServer, createApiKey } from '../../src/api/index.ts';
import { parseEntsoeDocument } from '../../src/connectors/entsoe/index.ts';
import type { GridSeriesChunk } from '../../src/contracts/index.ts';
import { ALL_TOPICS } from '../../src/contracts/index.ts';
import type { EmbeddedLog } from '../../src/log/index.ts';
import { createEmbeddedLog, topicSpecOf } from '../../src/log/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import { CarbonState, carbonChunks, observationsFromEntsoe } from '../../src/processing/index.ts';
import { loadReference } from '../../src/reference/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { migrate, openDb, writeObservations } from '../../src/storage/index.ts';
import { entsoeFixture } from './fixtures.ts';
import { tempDir } from './services.ts';

export const ADMIN = 'test-admin-key-Ns5Kq9Vx3Lz7Pw2Rm8Ty4Hj';
export const reference = loadReference();

export function chunksOf(name: string): GridSeriesChunk[] {
  return observationsFromEntsoe(parseEntsoeDocument(entsoeFixture(name)), { reference, fallbackDocumentId: name })
    .chunks;
}

type OpenApi = {
  paths: Record<string, Record<string, { operationId: string; responses: Record<string, unknown> }>>;
  components: { responses: { Problem: { content: Record<string, { schema: object }> } } };
};

/**
 * The validator of every answer against the OpenAPI document the server serves: each answer is checked against the
 * schema of its operation and status (problems against the Problem schema), and the operations seen are counted.
 */
export class OpenApiChecker {
  readonly #doc: OpenApi;
  readonly #ajv = new Ajv2020({ strict: false, allErrors: true });
  readonly #compiled = new Map<string, ValidateFunction>();
  /** operationId → statuses answered. */
  readonly seen = new Map<string, Set<number>>();

  constructor(doc: unknown) {
    this.#doc = doc as OpenApi;
    addFormats.default(this.#ajv);
  }

  get operations(): string[] {
    return Object.values(this.#doc.paths).flatMap((ops) => Object.values(ops).map((o) => o.operationId));
  }

  /** The operation `method path` answers, matching `{param}` segments. */
  operation(method: string, path: string): { id: string; template: string } | undefined {
    const clean = path.split('?')[0] ?? path;
    for (const [template, ops] of Object.entries(this.#doc.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{\w+\}/g, '[^/]+')}$`);
      const op = ops[method.toLowerCase()];
      if (op !== undefined && pattern.test(clean)) return { id: op.operationId, template };
    }
    return undefined;
  }

  /** Asserts that `body` (already parsed) is what the document promises for this answer. */
  check(method: string, path: string, status: number, contentType: string, body: unknown): void {
    const op = this.operation(method, path);
    if (op === undefined) return; // the dashboard's files and unknown routes (404 problems) are not operations
    const operation = this.#doc.paths[op.template]?.[method.toLowerCase()];
    const response = operation?.responses[String(status)] as
      { content?: Record<string, { schema: object }>; $ref?: string } | undefined;
    assert.ok(response !== undefined, `${method} ${path}: status ${status} is not in the OpenAPI document`);
    const statuses = this.seen.get(op.id) ?? new Set<number>();
    statuses.add(status);
    this.seen.set(op.id, statuses);
    const content = response.$ref !== undefined ? this.#doc.components.responses.Problem.content : response.content;
    if (content === undefined) return;
    const type = contentType.split(';')[0]?.trim() ?? '';
    const schema = content[type]?.schema;
    assert.ok(schema !== undefined, `${method} ${path} → ${status}: content type ${type} is not documented`);
    if (!type.includes('json')) return;
    const key = `${op.id} ${status} ${type}`;
    let validate = this.#compiled.get(key);
    if (validate === undefined) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(key, validate);
    }
    assert.ok(
      validate(body),
      `${method} ${path} → ${status} does not match its OpenAPI schema: ${this.#ajv.errorsText(validate.errors)}`,
    );
  }
}

export interface TestApi {
  readonly server: ApiServer;
  readonly db: Db;
  readonly log: EmbeddedLog;
  readonly readerFi: string;
  readonly operator: string;
  readonly limited: string;
  readonly openapi: OpenApiChecker;
  /** A request answered in-process (`app.request`, no socket); every answer is checked against OpenAPI. */
  request(
    path: string,
    init?: { key?: string | null; method?: string; body?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  /** `request` and its JSON body. */
  json(
    path: string,
    init?: Parameters<TestApi['request']>[1],
  ): Promise<{ status: number; body: Record<string, unknown> }>;
  close(): Promise<void>;
}

/**
 * An API on PGlite and an embedded log with real data (FI generation and carbon, NL prices across the 2016 spring
 * DST change, a DK_2 load forecast), the admin key, a FI-only reader, an operator and a rate-limited reader.
 */
export async function startTestApi(
  options: Partial<ApiServerOptions> & { readonly wrapDb?: (db: Db) => Db } = {},
): Promise<TestApi> {
  const dir = await tempDir();
  const db = await openDb({ dataDir: dir.path, logger: silentLogger() });
  await migrate(db);
  const log = await createEmbeddedLog({ dir: join(dir.path, 'log') });
  await log.createTopics(ALL_TOPICS.map((t) => topicSpecOf(t)));
  const fi = chunksOf('A75_FI_PT60M_A01_2023-05-08.xml');
  const state = new CarbonState(reference);
  for (const c of fi) state.add(c);
  await writeObservations(db, [
    ...fi,
    ...chunksOf('A44_NL_PT60M_A01_DST-spring-23h_2016-03-27.xml'),
    ...chunksOf('A65_A01_DK2_PT60M_forecast_2023-12-28.xml'),
    ...carbonChunks(state.compute(), 'carbon'),
  ]);
  const { wrapDb, ...serverOptions } = options;
  const server = new ApiServer({
    db: wrapDb === undefined ? db : wrapDb(db),
    log,
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    reference,
    host: '127.0.0.1',
    port: 0,
    adminKey: ADMIN,
    publicRead: false,
    defaultRatePerMinute: 10_000,
    version: 'test',
    consumerGroups: [{ group: 'gridstream-store', topics: ['grid.observations'] }],
    feedIntervalMs: 100,
    ...serverOptions,
  });
  await server.start();
  const openapi = new OpenApiChecker(await (await server.app.request('/api/openapi.json')).json());
  const request: TestApi['request'] = async (path, init = {}) => {
    const key = init.key === undefined ? ADMIN : init.key;
    const headers: Record<string, string> = { ...init.headers };
    if (key !== null) headers['authorization'] = `Bearer ${key}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const method = init.method ?? 'GET';
    const response = await server.app.request(path, {
      method,
      headers,
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const type = response.headers.get('content-type') ?? '';
    if (type.includes('json')) {
      const text = await response.clone().text();
      openapi.check(method, path, response.status, type, text === '' ? undefined : (JSON.parse(text) as unknown));
    } else if (!type.includes('event-stream')) {
      openapi.check(method, path, response.status, type, undefined);
    }
    return response;
  };
  return {
    server,
    db,
    log,
    readerFi: (await createApiKey(db, { name: 'fi reader', role: 'reader', zones: ['FI'] })).key,
    operator: (await createApiKey(db, { name: 'ops', role: 'operator' })).key,
    limited: (await createApiKey(db, { name: 'limited', role: 'reader', rateLimitPerMinute: 3 })).key,
    openapi,
    request,
    async json(path, init) {
      const r = await request(path, init);
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    },
    async close() {
      await server.stop({ graceMs: 1000 });
      await log.close();
      await db.close();
      await dir.remove();
    },
  };
}

/**
 * Reads a Server-Sent Events body as text: `until(pattern)` reads on until the text seen so far matches, and fails
 * when the stream ends or `timeoutMs` passes between reads without it.
 */
export function sseReader(
  body: ReadableStream<Uint8Array>,
  timeoutMs = 15_000,
): { readonly text: () => string; until(pattern: RegExp): Promise<void>; cancel(): Promise<void> } {
  const reader = body.getReader();
  let text = '';
  return {
    text: () => text,
    async until(pattern) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(text)) {
        if (Date.now() > deadline) throw new Error(`no ${String(pattern)} in ${text}`);
        const { value, done } = await reader.read();
        if (done) throw new Error(`stream ended without ${String(pattern)}: ${text}`);
        text += Buffer.from(value).toString('utf8');
      }
    },
    cancel: () => reader.cancel(),
  };
}

/** A DK_2 actual load of `v` MW at `t`: a slot the live feed reports as news once stored. */
export function liveLoadChunk(t: string, v: number): GridSeriesChunk {
  return {
    zone: 'DK_2',
    metric: 'load_actual',
    productionType: '',
    counterpartZone: '',
    qualifier: '',
    unit: 'MW',
    source: 'entsoe',
    documentId: 'live',
    revision: 1,
    points: [{ t, v }],
  };
}
