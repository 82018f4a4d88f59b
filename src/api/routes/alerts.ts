import type { Hono } from 'hono';
import { z } from 'zod';
import type { AlertRules, AlertScope, PublicationExpectation } from '../../alerts/index.ts';
import {
  DEFAULT_ALERT_RULES,
  countAlerts,
  expectedBy,
  getAlert,
  learnPublication,
  listAlerts,
  operatorTransition,
} from '../../alerts/index.ts';
import type { Alert } from '../../contracts/index.ts';
import { ALERT_STATES, AlertSchema, DETECTORS, SEVERITIES } from '../../contracts/index.ts';
import type { Db } from '../../storage/index.ts';
import { recordMeterRead } from '../../storage/index.ts';
import type { Principal } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import { positiveInt, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone } from '../permissions.ts';
import { defineRoute, handle } from '../route.ts';
import { principalName } from './meter-scope.ts';

const csvOf = <T extends string>(values: readonly [T, ...T[]], what: string): z.ZodType<T[] | undefined> =>
  z
    .string()
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
    )
    .pipe(z.array(z.enum(values, { message: `expected ${what}: ${values.join(', ')}` })).min(1))
    .optional()
    .meta({ description: `Comma-separated ${what} (${values.join(', ')})` });

const AlertListSchema = z.object({ alerts: z.array(AlertSchema) });
const AlertDetailSchema = z.object({
  alert: AlertSchema,
  events: z.array(
    z.object({
      event_id: z.string(),
      transition: z.string(),
      at: z.string(),
    }),
  ),
});
const ExpectationSchema = z.object({
  source: z.string(),
  metric: z.string(),
  zone: z.string(),
  resolution: z.string(),
  samples: z.number().int().meta({ description: 'Arrival batches the delay was learnt from' }),
  usual_delay_s: z.number().nullable().meta({
    description: 'Usual delay after the end of the first new slot of a batch (95th percentile); negative: ahead',
  }),
  median_delay_s: z.number().nullable(),
  margin_s: z.number(),
  expected: z.boolean().meta({ description: 'false: not expected on a schedule (never idle)' }),
  overridden: z.boolean().meta({ description: 'The delay comes from the rule file' }),
  last_slot: z.string().nullable(),
  due_by: z.string().nullable().meta({ description: 'When the next slot is due at the latest (null: unknown)' }),
});

export const alertsListRoute = defineRoute({
  method: 'get',
  path: '/api/v1/alerts',
  operationId: 'alerts',
  summary: 'Alerts the key may see, newest change first',
  description:
    'Meter alerts (outage of a group, reverse flow, possible tampering, validation failures) are personal data: they need a key, are limited to its groups, and every meter alert answered is written to the meter read audit. Grid alerts are limited to the zones of the key.',
  access: 'reader',
  query: {
    state: csvOf(ALERT_STATES, 'states'),
    severity: csvOf(SEVERITIES, 'severities'),
    detector: csvOf(DETECTORS, 'detectors'),
    zone: zoneCode.optional(),
    group: z.string().min(1).max(100).optional().meta({ description: 'Only alerts of this meter group' }),
    limit: positiveInt(1000).default(100).meta({ description: 'Most alerts' }),
  },
  response: AlertListSchema,
});

const alertIdParam = {
  id: z
    .string()
    .regex(/^\d{1,18}$/, 'expected an alert id')
    .meta({ description: 'Alert id' }),
};

export const alertCountsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/alerts/counts',
  operationId: 'alertCounts',
  summary: 'Unresolved alerts the key may see, per state and severity (the dashboard badge; nothing audited)',
  access: 'reader',
  query: {},
  response: z.object({
    counts: z.array(
      z.object({ state: z.enum(ALERT_STATES), severity: z.enum(SEVERITIES), count: z.number().int().min(0) }),
    ),
  }),
});

export const alertRoute = defineRoute({
  method: 'get',
  path: '/api/v1/alerts/{id}',
  operationId: 'alert',
  summary: 'One alert with its transitions',
  access: 'reader',
  params: alertIdParam,
  query: {},
  response: AlertDetailSchema,
  errors: [404],
});

const transitionRoute = (action: 'acknowledge' | 'resolve') =>
  defineRoute({
    method: 'post',
    path: `/api/v1/alerts/{id}/${action}`,
    operationId: action === 'acknowledge' ? 'acknowledgeAlert' : 'resolveAlert',
    summary:
      action === 'acknowledge'
        ? 'Acknowledge an open alert (someone is on it)'
        : 'Resolve an alert by hand; an anomaly that goes on opens a new alert after its minimum duration',
    access: 'operator',
    params: alertIdParam,
    query: {},
    response: z.object({ alert: AlertSchema, changed: z.boolean() }),
    errors: [404],
  });
export const acknowledgeAlertRoute = transitionRoute('acknowledge');
export const resolveAlertRoute = transitionRoute('resolve');

export const publicationRoute = defineRoute({
  method: 'get',
  path: '/api/v1/alerts/publication',
  operationId: 'publicationModel',
  summary: 'The expected-publication model: per source, metric and zone, its resolution and usual delay',
  access: 'reader',
  query: { zone: zoneCode.optional() },
  response: z.object({ expectations: z.array(ExpectationSchema) }),
});

export const ALERT_ROUTES = [
  alertsListRoute,
  alertCountsRoute,
  publicationRoute,
  alertRoute,
  acknowledgeAlertRoute,
  resolveAlertRoute,
] as const;

/** What a principal may see of alerts (anonymous public readers: grid alerts only). */
export function alertScope(principal: Principal): AlertScope & { readonly personal: boolean } {
  return { zones: principal.zones, groups: principal.groups, personal: principal.keyId !== null };
}

const isPersonal = (a: Pick<Alert, 'group' | 'meter'>): boolean => a.group !== null || a.meter !== null;

/** Writes one audit row per meter alert handed out (before it is handed out). */
export async function auditMeterAlerts(db: Db, principal: Principal, alerts: readonly Alert[]): Promise<void> {
  for (const a of alerts) {
    if (a.meter === null) continue;
    await recordMeterRead(db, {
      principal: principalName(principal),
      path: 'api',
      meterId: a.meter,
      from: Date.parse(a.first_seen),
      to: Date.parse(a.last_seen),
      detail: `alert ${a.id} ${a.detector}`,
    });
  }
}

export function alertRoutes(app: Hono<ApiEnv>, deps: { readonly db: Db; readonly rules?: AlertRules }): void {
  const { db } = deps;
  const rules = deps.rules ?? DEFAULT_ALERT_RULES;
  // The model aggregates 14 days of arrivals: learnt at most once a minute per process, whoever asks.
  let model: { at: number; value: Promise<PublicationExpectation[]> } | undefined;
  const publication = (): Promise<PublicationExpectation[]> => {
    const now = Date.now();
    if (model === undefined || now - model.at > 60_000) {
      const value = learnPublication(db, rules, now);
      model = { at: now, value };
      value.catch(() => {
        if (model?.value === value) model = undefined;
      });
    }
    return model.value;
  };
  handle(app, alertsListRoute, async (c, { query: q }) => {
    const principal = c.get('principal');
    if (q.zone !== undefined) allowZone(principal, q.zone, 'zone');
    if (q.group !== undefined && principal.groups !== null && !principal.groups.has(q.group))
      throw new ApiError('api.forbidden', `this key may not read group ${q.group}`);
    const scope = alertScope(principal);
    const alerts = await listAlerts(db, scope, {
      state: q.state,
      severity: q.severity,
      detector: q.detector,
      zone: q.zone,
      group: q.group,
      limit: q.limit,
    });
    await auditMeterAlerts(db, principal, alerts);
    return { alerts };
  });
  handle(app, alertCountsRoute, async (c) => ({ counts: await countAlerts(db, alertScope(c.get('principal'))) }));
  handle(app, publicationRoute, async (c, { query: q }) => {
    const principal = c.get('principal');
    if (q.zone !== undefined) allowZone(principal, q.zone, 'zone');
    const expectations = await publication();
    const s = (ms: number | null): number | null => (ms === null ? null : Math.round(ms / 1000));
    return {
      expectations: expectations
        .filter((e) => (q.zone === undefined || e.zone === q.zone) && (principal.zones?.has(e.zone) ?? true))
        .map((e) => {
          const due = expectedBy(e);
          return {
            source: e.source,
            metric: e.metric,
            zone: e.zone,
            resolution: e.resolution,
            samples: e.samples,
            usual_delay_s: s(e.delayMs),
            median_delay_s: s(e.medianDelayMs),
            margin_s: Math.round(e.marginMs / 1000),
            expected: e.expected,
            overridden: e.overridden,
            last_slot: e.lastSlot === null ? null : new Date(e.lastSlot).toISOString(),
            due_by: due === null ? null : new Date(due).toISOString(),
          };
        }),
    };
  });
  handle(app, alertRoute, async (c, { params }) => {
    const principal = c.get('principal');
    const scope = alertScope(principal);
    const found = await getAlert(db, scope, params.id);
    if (found === undefined || (!scope.personal && isPersonal(found.alert)))
      throw new ApiError('api.not_found', `no alert ${params.id}`);
    await auditMeterAlerts(db, principal, [found.alert]);
    return found;
  });
  for (const [route, transition] of [
    [acknowledgeAlertRoute, 'acknowledged'],
    [resolveAlertRoute, 'resolved'],
  ] as const) {
    handle(app, route, async (c, { params }) => {
      const principal = c.get('principal');
      const scope = alertScope(principal);
      const result = await db.transaction((tx) =>
        operatorTransition(tx, scope, params.id, transition, principalName(principal)),
      );
      if (result === undefined) throw new ApiError('api.not_found', `no alert ${params.id}`);
      await auditMeterAlerts(db, principal, [result.alert]);
      return result;
    });
  }
}
