import { fileURLToPath } from 'node:url';
import type { ReadinessCheck } from '../api/index.ts';
import { ApiServer, dashboardFiles, replayClock } from '../api/index.ts';
import { PROCESS_GROUPS } from '../processing/index.ts';
import { METERS_GROUP } from '../meters/index.ts';
import type { SchedulerRole } from '../scheduler/index.ts';
import { STORE_GROUP } from '../storage/index.ts';
import { loadAlertRules } from '../alerts/index.ts';
import type { Infrastructure } from './infrastructure.ts';

/** Where the built dashboard lives (`npm run build:web`). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** The consumer groups of this codebase and their inputs (reported as lag by the admin API). */
export const CONSUMER_GROUPS = [
  { group: PROCESS_GROUPS.entsoe, topics: ['raw.entsoe'] },
  { group: PROCESS_GROUPS.electricitymaps, topics: ['raw.electricitymaps'] },
  { group: STORE_GROUP, topics: ['grid.observations', 'grid.carbon'] },
  { group: METERS_GROUP, topics: ['raw.meters'] },
] as const;

/** The `api` role: REST API, live feed, dashboard, admin and /metrics on GRIDSTREAM_PORT. */
export function apiComponent(
  infra: Infrastructure,
  scheduler: SchedulerRole | undefined,
  options: {
    readonly readiness: ReadinessCheck;
    readonly onGeneratedAdminKey?: (key: string) => void;
    readonly dashboardDir?: string;
  },
): ApiServer {
  const { config } = infra;
  return new ApiServer({
    db: infra.db,
    log: infra.log,
    logger: infra.logger.child({ component: 'api' }),
    metrics: infra.metrics,
    reference: infra.reference,
    host: config.host,
    port: config.port,
    adminKey: config.adminKey?.reveal() ?? null,
    publicRead: config.publicRead,
    defaultRatePerMinute: config.rateLimitPerMinute,
    trustedProxies: config.trustedProxies,
    readingRules: { earliest: config.ingest.earliestReading, maxAheadMs: config.ingest.maxAheadMs },
    alertRules: loadAlertRules(config.alerts.rulesFile),
    version: '0.1.0',
    consumerGroups: CONSUMER_GROUPS,
    readiness: options.readiness,
    staticFiles: dashboardFiles(options.dashboardDir ?? DASHBOARD_DIR),
    // The data clock follows the wiring: the offline replay of bundled historic documents has no real "now".
    ...(scheduler?.mode === 'offline-replay' ? { clock: replayClock(infra.db) } : {}),
    ...(scheduler === undefined
      ? {}
      : {
          refetch: async (letter, o) => {
            await scheduler.replay(letter, o);
          },
          connectorStatus: () => scheduler.status(),
        }),
    ...(options.onGeneratedAdminKey === undefined ? {} : { onGeneratedAdminKey: options.onGeneratedAdminKey }),
  });
}
