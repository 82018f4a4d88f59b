import type { Context, Env, Hono } from 'hono';
import { z } from 'zod';
import type { ApiRole } from './api-keys.ts';
import { ApiError } from './errors.ts';
import type { ApiEnv } from './permissions.ts';
import { requireRole } from './permissions.ts';

/** Who may call a route: anyone (no key), or a key of at least this role. */
export type RouteAccess = 'public' | ApiRole;

/**
 * One HTTP route's contract: the same zod schemas validate its parameters and body, type its answer, and generate
 * its part of the OpenAPI document (`/api/openapi.json`). A route is declared once, next to its handler.
 */
export interface RouteContract<
  Q extends z.ZodRawShape = z.ZodRawShape,
  P extends z.ZodRawShape = z.ZodRawShape,
  B extends z.ZodType = z.ZodType,
  R extends z.ZodType = z.ZodType,
> {
  readonly method: 'get' | 'post' | 'put' | 'patch' | 'delete';
  /** OpenAPI-style path: `/api/v1/admin/dlq/{topic}`. */
  readonly path: string;
  readonly operationId: string;
  readonly summary: string;
  readonly description?: string;
  readonly access: RouteAccess;
  readonly query: Q;
  readonly params?: P;
  readonly body?: B;
  /** The success answer's JSON body (absent for 204 and for non-JSON answers). */
  readonly response?: R;
  /** @default 200 */
  readonly status?: 200 | 201 | 204;
  /** Other content types a JSON route answers on request (`text/csv` for `format=csv`), documented as text. */
  readonly alternateContentTypes?: readonly string[];
  /** A success answer that is not JSON (`text/event-stream`, `text/plain`, `text/html`). */
  readonly contentType?: string;
  /** For `text/event-stream`: the JSON `data` of each event type (documented as `x-gridstream-events`). */
  readonly events?: Readonly<Record<string, z.ZodType>>;
  /** Error statuses beyond the ones every route of its access level can answer. */
  readonly errors?: readonly number[];
}

/** Declares a route contract (an identity: it keeps the schema types for the handler). */
export function defineRoute<Q extends z.ZodRawShape, P extends z.ZodRawShape, B extends z.ZodType, R extends z.ZodType>(
  contract: RouteContract<Q, P, B, R>,
): RouteContract<Q, P, B, R> {
  return contract;
}

/** What a handler gets: the validated query, path parameters and body. */
export interface RouteInput<Q extends z.ZodRawShape, P extends z.ZodRawShape, B extends z.ZodType> {
  readonly query: z.output<z.ZodObject<Q>>;
  readonly params: z.output<z.ZodObject<P>>;
  readonly body: z.output<B>;
}

/** A handler's answer: the JSON body its contract describes, or a whole Response (streams, files, 204). */
export type RouteAnswer<R extends z.ZodType> = z.input<R> | Response;

/**
 * Mounts `handler` for `route` on `app`: checks the role, validates query (unknown parameters refused), path
 * parameters and body — each problem a 400 naming its parameter — and answers the handler's body as JSON with the
 * contract's status.
 */
export function handle<
  E extends Env,
  Q extends z.ZodRawShape,
  P extends z.ZodRawShape,
  B extends z.ZodType,
  R extends z.ZodType,
>(
  app: Hono<E>,
  route: RouteContract<Q, P, B, R>,
  handler: (c: Context<E>, input: RouteInput<Q, P, B>) => RouteAnswer<R> | Promise<RouteAnswer<R>>,
): void {
  const path = route.path.replace(/\{(\w+)\}/g, ':$1');
  app.on(route.method.toUpperCase(), path, async (c) => {
    if (route.access !== 'public') requireRole((c as unknown as Context<ApiEnv>).get('principal'), route.access);
    const query = queryOf(c, route.query);
    const params = parseParams(c, route.params ?? ({} as P));
    const body = route.body === undefined ? (undefined as z.output<B>) : await parseBody(c, route.body);
    const answer = await handler(c, { query, params, body });
    if (answer instanceof Response) return answer;
    if (route.status === 204) return c.body(null, 204);
    return c.json(answer as object, route.status ?? 200);
  });
}

/**
 * Validates the query string against `shape`; the first problem is a 400 naming its parameter. Unknown parameters
 * are refused too (a misspelt `form=` should not silently mean "no filter").
 */
export function queryOf<S extends z.ZodRawShape>(c: Context, shape: S): z.output<z.ZodObject<S>> {
  const raw = c.req.query();
  for (const name of Object.keys(raw)) {
    if (!(name in shape)) {
      const known = Object.keys(shape);
      throw new ApiError(
        'api.bad_request',
        `unknown parameter "${name}"${known.length === 0 ? ' (this endpoint takes none)' : `; parameters are ${known.join(', ')}`}`,
        { param: name },
      );
    }
  }
  return parseOr400(z.object(shape), raw, (param, detail) => `parameter "${param}" ${detail}`, raw);
}

function parseParams<P extends z.ZodRawShape>(c: Context, shape: P): z.output<z.ZodObject<P>> {
  const raw = c.req.param() as Record<string, string>;
  return parseOr400(z.object(shape), raw, (param, detail) => `path parameter "${param}" ${detail}`, raw);
}

async function parseBody<B extends z.ZodType>(c: Context, schema: B): Promise<z.output<B>> {
  const json: unknown = await c.req.json().catch(() => null);
  return parseOr400(schema, json, (param, detail) => (param === '' ? `body ${detail}` : `body.${param}: ${detail}`));
}

function parseOr400<T extends z.ZodType>(
  schema: T,
  value: unknown,
  describe: (param: string, detail: string) => string,
  raw?: Readonly<Record<string, string | undefined>>,
): z.output<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const param = issue?.path.map(String).join('.') ?? '';
  const missing = issue?.code === 'invalid_type' && raw !== undefined && raw[param] === undefined;
  throw new ApiError('api.bad_request', describe(param, missing ? 'is required' : (issue?.message ?? 'is invalid')), {
    param: param === '' ? 'body' : param,
  });
}
