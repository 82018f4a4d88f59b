import { Hono } from 'hono';
import { routePath } from 'hono/route';
import type { Log } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db } from '../storage/index.ts';
import { ApiError, problem } from './errors.ts';
import { rejectMalformed } from './malformed.ts';
import type { ReadinessCheck } from './health.ts';
import type { AlertFeed } from './alert-feed.ts';
import type { LiveFeed } from './live-feed.ts';
import type { ApiEnv, Permissions } from './permissions.ts';
import type { AdminDeps } from './routes/admin.ts';
import type { RouteContract } from './route.ts';
import { ADMIN_ROUTES, adminRoutes } from './routes/admin.ts';
import type { CarbonAwarePorts } from './routes/carbon-aware.ts';
import { CARBON_AWARE_ROUTES, carbonAwareRoutes } from './routes/carbon-aware.ts';
import { DATA_ROUTES, dataRoutes } from './routes/data.ts';
import { FORECAST_ROUTES, forecastRoutes } from './routes/forecast.ts';
import type { Clock } from './clock.ts';
import { liveClock } from './clock.ts';
import { intensityForecastOf } from '../forecast/index.ts';
import { DEVICE_READ_ROUTES, deviceReadRoutes } from './routes/device-readings.ts';
import { METER_READ_ROUTES, meterReadRoutes } from './routes/meter-readings.ts';
import { METER_QUALITY_ROUTES, meterQualityRoutes } from './routes/meter-quality.ts';
import { METER_SETTLEMENT_ROUTES, meterSettlementRoutes } from './routes/meter-settlement.ts';
import { METER_ROUTES, meterRoutes } from './routes/meters.ts';
import { streamRoute, streamRoutes } from './routes/stream.ts';
import { ALERT_ROUTES, alertRoutes } from './routes/alerts.ts';
import type { AlertRules } from '../alerts/index.ts';
import { SYSTEM_ROUTES, systemRoutes } from './routes/system.ts';
import { WEBHOOK_ROUTES, webhookRoutes } from './routes/webhooks.ts';

/** Every route of the API, in the order the OpenAPI document lists them. */
export const API_ROUTES: readonly RouteContract[] = [
  ...DATA_ROUTES,
  ...CARBON_AWARE_ROUTES,
  ...FORECAST_ROUTES,
  streamRoute,
  ...ADMIN_ROUTES,
  ...WEBHOOK_ROUTES,
  ...METER_ROUTES,
  ...METER_READ_ROUTES,
  ...METER_QUALITY_ROUTES,
  ...METER_SETTLEMENT_ROUTES,
  ...DEVICE_READ_ROUTES,
  ...ALERT_ROUTES,
  ...SYSTEM_ROUTES,
];

export interface ApiAppDeps {
  readonly db: Db;
  readonly log: Log;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  readonly permissions: Permissions;
  readonly feed: LiveFeed;
  readonly alertFeed: AlertFeed;
  readonly version: string;
  readonly consumerGroups: AdminDeps['consumerGroups'];
  readonly refetch?: AdminDeps['refetch'];
  readonly connectorStatus?: AdminDeps['connectorStatus'];
  readonly readingRules?: AdminDeps['readingRules'];
  /** The alert settings (default: the documented defaults). */
  readonly alertRules?: AlertRules;
  /** The data clock and the intensity forecast of the best-window route (default: the wall clock, no forecast). */
  readonly carbonAware?: CarbonAwarePorts;
  /** What `/readyz` answers. */
  readonly readiness: ReadinessCheck;
  /** The data clock: the replayed data's in the offline demo. @default the wall clock */
  readonly clock?: Clock;
  /** Aborted when the server stops (ends live streams). */
  readonly shutdown: AbortSignal;
  /** Serves the dashboard and its assets (mounted last, for everything not under /api). */
  readonly staticFiles?: (app: Hono) => void;
}

/**
 * The HTTP API as a Hono app: system routes without a key, `/api/v1` behind the permission proxy, every error as
 * problem+json, request latency per route in the metrics.
 */
export function createApiApp(deps: ApiAppDeps): Hono {
  const app = new Hono();
  app.use(async (c, next) => {
    const started = performance.now();
    await next();
    deps.metrics.httpRequest(c.req.method, routePath(c), c.res.status, (performance.now() - started) / 1000);
  });
  app.onError((error, c) => {
    // A malformed escape that slipped past rejectMalformed is the client's fault too: 400, nothing logged.
    const e = error instanceof URIError ? new ApiError('api.bad_request', 'malformed percent-encoding') : error;
    if (!(e instanceof ApiError)) deps.logger.error({ err: e, path: c.req.path }, 'request failed');
    return problem(c, e);
  });
  app.use(rejectMalformed());
  app.notFound((c) => problem(c, new ApiError('api.not_found', `no route ${c.req.method} ${c.req.path}`)));
  systemRoutes(app, { metrics: deps.metrics, version: deps.version, readiness: deps.readiness, routes: API_ROUTES });

  const v1 = new Hono<ApiEnv>();
  // Only the API needs a key: the dashboard and its assets (mounted after) are public files.
  v1.use('/api/v1/*', deps.permissions.middleware());
  const clock = deps.clock ?? liveClock();
  dataRoutes(v1, { db: deps.db, reference: deps.reference });
  // The best window's "now" is the data clock's; slots after the newest actual come from the carbon-intensity
  // forecast (both replaceable, for tests).
  carbonAwareRoutes(v1, {
    db: deps.db,
    reference: deps.reference,
    clock: async () => {
      const c = await clock.now();
      return { mode: c.mode, now: c.now, basis: c.basis };
    },
    forecast: intensityForecastOf(deps.db, deps.reference),
    ...deps.carbonAware,
  });
  forecastRoutes(v1, { db: deps.db, reference: deps.reference, clock });
  streamRoutes(v1, { db: deps.db, feed: deps.feed, alerts: deps.alertFeed }, deps.shutdown);
  adminRoutes(v1, {
    db: deps.db,
    log: deps.log,
    permissions: deps.permissions,
    consumerGroups: deps.consumerGroups,
    version: deps.version,
    publicRead: deps.permissions.publicRead,
    ...(deps.refetch === undefined ? {} : { refetch: deps.refetch }),
    ...(deps.connectorStatus === undefined ? {} : { connectorStatus: deps.connectorStatus }),
    ...(deps.readingRules === undefined ? {} : { readingRules: deps.readingRules }),
    readiness: deps.readiness,
    clock,
  });
  webhookRoutes(v1, { db: deps.db });
  meterRoutes(v1, { db: deps.db, reference: deps.reference });
  meterReadRoutes(v1, { db: deps.db });
  meterQualityRoutes(v1, { db: deps.db });
  meterSettlementRoutes(v1, { db: deps.db });
  deviceReadRoutes(v1, { db: deps.db });
  alertRoutes(v1, { db: deps.db, ...(deps.alertRules === undefined ? {} : { rules: deps.alertRules }) });
  app.route('/', v1);
  deps.staticFiles?.(app);
  return app;
}
