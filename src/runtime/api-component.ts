import { fileURLToPath } from 'node:url';
import { ApiServer, dashboardFiles } from '../api/index.ts';
import type { SchedulerRole } from '../scheduler/index.ts';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';
import { PROCESS_GROUPS } from './process-role.ts';
import { STORE_GROUP } from './store-role.ts';

/** Where the built dashboard lives (`npm run build:web`). */
export const DASHBOARD_DIR = fileURLToPath(new URL('../../web/dist', import.meta.url));

/** The consumer groups of this codebase and their inputs (reported as lag by the admin API). */
export const CONSUMER_GROUPS = [
  { group: PROCESS_GROUPS.entsoe, topics: ['raw.entsoe'] },
  { group: PROCESS_GROUPS.electricitymaps, topics: ['raw.electricitymaps'] },
  { group: STORE_GROUP, topics: ['grid.observations', 'grid.carbon'] },
] as const;

/** The `api` role: REST API, live feed, dashboard, admin and /metrics on GRIDSTREAM_PORT. */
export function apiComponent(
  infra: Infrastructure,
  scheduler: SchedulerRole | undefined,
  options: { readonly onGeneratedAdminKey?: (key: string) => void; readonly dashboardDir?: string } = {},
): Component & { readonly server: ApiServer } {
  const { config } = infra;
  const server = new ApiServer({
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
    version: '0.1.0',
    consumerGroups: CONSUMER_GROUPS,
    staticFiles: dashboardFiles(options.dashboardDir ?? DASHBOARD_DIR),
    ...(scheduler === undefined
      ? {}
      : {
          refetch: async (letter, o) => {
            await scheduler.replay(letter, o);
          },
          connectorStatus: () => ({ mode: scheduler.mode, leader: scheduler.scheduler?.isLeader ?? null }),
        }),
    ...(options.onGeneratedAdminKey === undefined ? {} : { onGeneratedAdminKey: options.onGeneratedAdminKey }),
  });
  return { name: 'api', server, start: () => server.start(), stop: (o) => server.stop(o) };
}
