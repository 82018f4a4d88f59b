import type { Hono } from 'hono';
import { z } from 'zod';
import type { SqlClient } from '../../common/index.ts';
import { findError } from '../../common/index.ts';
import {
  DELIVERY_STATES,
  WebhookError,
  WebhookRuleInputSchema,
  createWebhookRule,
  deleteWebhookRule,
  getWebhookAllowlist,
  listWebhookDeliveries,
  listWebhookRules,
  setWebhookAllowlist,
} from '../../alerts/index.ts';
import { DETECTORS, SEVERITIES } from '../../contracts/index.ts';
import { ApiError } from '../errors.ts';
import { positiveInt } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';

export interface WebhookRoutesDeps {
  readonly db: SqlClient;
}

const isoInstant = z.iso.datetime({ offset: false });
const nullableList = (description: string) => z.array(z.string()).nullable().meta({ description });

const AllowlistSchema = z
  .object({
    origins: z.array(z.string()).meta({ description: 'Origins webhooks may be sent to: `scheme://host:port`' }),
  })
  .meta({ id: 'WebhookAllowlist' });

const WebhookRuleSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    url: z.string(),
    min_severity: z.enum(SEVERITIES),
    detectors: z.array(z.enum(DETECTORS)).nullable().meta({ description: 'Only these detectors (null: every one)' }),
    zones: nullableList('Only alerts in these zones (null: any)'),
    groups: nullableList('Only alerts of these meter groups (null: any)'),
    enabled: z.boolean(),
    created_by: z.string().meta({ description: 'The name of the API key that made the rule' }),
    created_at: isoInstant,
  })
  .meta({ id: 'WebhookRule', description: 'A webhook rule (never its secret)' });

const WebhookDeliverySchema = z.object({
  id: z.string(),
  rule_id: z.string(),
  rule: z.string().meta({ description: "The rule's name" }),
  event_id: z.string().meta({ description: 'The alert event (`x-gridstream-event-id`)' }),
  state: z.enum(DELIVERY_STATES),
  attempts: z.number().int(),
  next_at: isoInstant,
  last_status: z.number().int().nullable(),
  last_error: z.string().nullable(),
  created_at: isoInstant,
  delivered_at: isoInstant.nullable(),
});

export const getAllowlistRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks/allowlist',
  operationId: 'webhookAllowlist',
  summary: 'The origins webhooks may be sent to',
  access: 'admin',
  query: {},
  response: AllowlistSchema,
});

export const setAllowlistRoute = defineRoute({
  method: 'put',
  path: '/api/v1/admin/webhooks/allowlist',
  operationId: 'setWebhookAllowlist',
  summary: 'Replace the webhook allowlist (origins as `https://host[:port]`); rules off it are refused from then on',
  access: 'admin',
  query: {},
  body: z.object({ origins: z.array(z.string().min(1).max(300)).max(1000) }),
  response: AllowlistSchema,
});

export const listRulesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks',
  operationId: 'webhookRules',
  summary: 'Webhook rules (never their secrets)',
  access: 'admin',
  query: {},
  response: z.object({ rules: z.array(WebhookRuleSchema) }),
});

export const createRuleRoute = defineRoute({
  method: 'post',
  path: '/api/v1/admin/webhooks',
  operationId: 'createWebhookRule',
  summary: 'Create a webhook rule for a URL on the allowlist; the secret is in the response once',
  description:
    'Alert events whose severity is at least `min_severity` and whose detector, zone and group are in the lists (absent or null: any) are POSTed to `url`, signed with HMAC-SHA256 (docs/WEBHOOKS.md). A URL whose origin is not on the allowlist is refused with code `alerts.webhook_not_allowed`.',
  access: 'admin',
  query: {},
  body: WebhookRuleInputSchema,
  response: z.object({
    rule: WebhookRuleSchema,
    secret: z.string().meta({ description: 'The shared secret: shown this once, never again' }),
  }),
  status: 201,
  errors: [409],
});

export const deleteRuleRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/admin/webhooks/{id}',
  operationId: 'deleteWebhookRule',
  summary: 'Delete a webhook rule and its deliveries (pending ones are not sent)',
  access: 'admin',
  params: {
    id: z
      .string()
      .regex(/^\d{1,18}$/, 'expected a rule id')
      .meta({ description: 'The rule id' }),
  },
  query: {},
  status: 204,
  errors: [404],
});

export const deliveriesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/webhooks/deliveries',
  operationId: 'webhookDeliveries',
  summary: 'Webhook deliveries, newest first: state, attempts, next attempt, last status and error',
  access: 'admin',
  query: {
    state: z.enum(DELIVERY_STATES).optional().meta({ description: 'Only deliveries in this state' }),
    limit: positiveInt(1000).default(100).meta({ description: 'Most deliveries' }),
  },
  response: z.object({ deliveries: z.array(WebhookDeliverySchema) }),
});

export const WEBHOOK_ROUTES: readonly RouteContract[] = [
  getAllowlistRoute,
  setAllowlistRoute,
  listRulesRoute,
  createRuleRoute,
  deleteRuleRoute,
  deliveriesRoute,
];

/** A webhook refusal as the API answers it: a 400 naming the field, with the module's code. */
async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    const refused = findError(error, (e): e is WebhookError => e instanceof WebhookError);
    if (refused === undefined) throw error;
    throw new ApiError('api.bad_request', refused.message, {
      ...(refused.field === undefined ? {} : { param: refused.field }),
      problemCode: refused.code,
      cause: error,
    });
  }
}

/** Admin endpoints of signed webhooks: the allowlist, rules, deliveries. */
export function webhookRoutes(app: Hono<ApiEnv>, deps: WebhookRoutesDeps): void {
  const { db } = deps;
  const signal = (c: { req: { raw: Request } }) => ({ signal: c.req.raw.signal });

  handle(app, getAllowlistRoute, async (c) => ({
    origins: (await getWebhookAllowlist(db, signal(c))).map((e) => e.origin),
  }));

  handle(app, setAllowlistRoute, (c, { body }) =>
    answer(async () => {
      const entries = await setWebhookAllowlist(db, body.origins, c.get('principal').name, signal(c));
      return { origins: entries.map((e) => e.origin) };
    }),
  );

  handle(app, listRulesRoute, async (c) => ({ rules: await listWebhookRules(db, signal(c)) }));

  handle(app, createRuleRoute, (c, { body }) =>
    answer(async () => {
      const created = await createWebhookRule(db, body, c.get('principal').name, signal(c));
      if (!created.ok) throw new ApiError('api.conflict', `a webhook rule named "${body.name}" exists`);
      return { rule: created.rule, secret: created.secret };
    }),
  );

  handle(app, deleteRuleRoute, async (c, { params }) => {
    if (!(await deleteWebhookRule(db, params.id, signal(c)))) {
      throw new ApiError('api.not_found', `no webhook rule ${params.id}`);
    }
    return c.body(null, 204);
  });

  handle(app, deliveriesRoute, async (c, { query }) => ({
    deliveries: await listWebhookDeliveries(db, { state: query.state, limit: query.limit, signal: c.req.raw.signal }),
  }));
}
