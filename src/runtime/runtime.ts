import type { Config } from '../config/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { createMetrics } from '../observability/index.ts';
import type { SchedulerRole } from '../scheduler/index.ts';
import { CONSUMER_GROUPS, apiComponent } from './api-component.ts';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';
import { openInfrastructure } from './infrastructure.ts';
import { ingestGateway } from './ingest-gateway.ts';
import { mqttIngest } from './mqtt-ingest.ts';
import { metricsMonitor } from './metrics-monitor.ts';
import { metricsServer } from './metrics-server.ts';
import { processRole } from './process-role.ts';
import type { Role } from './roles.ts';
import { buildSchedulerRole, schedulerComponent } from './scheduler-component.ts';
import { storeRole } from './store-role.ts';
import { Supervisor } from './supervisor.ts';

/** A running gridstream process: its infrastructure and the supervisor of its components. */
export interface Runtime {
  readonly infra: Infrastructure;
  readonly supervisor: Supervisor;
  readonly roles: readonly Role[];
  /** Stops every component (reverse order, within the grace time), then closes the log and the database. */
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  readonly config: Config;
  readonly logger: Logger;
  readonly roles: readonly Role[];
  readonly metrics?: Metrics;
  /** Told a generated first admin API key (print it once; it is stored only as a hash). */
  readonly onGeneratedAdminKey?: (key: string) => void;
  /** Dashboard files to serve (default: web/dist of the package). */
  readonly dashboardDir?: string;
}

/**
 * Builds and starts the components of the given roles on one infrastructure. Start order follows the data flow
 * backwards (store, process, scheduler, ingest, api) so that consumers are ready before producers; stop order is
 * the reverse.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger, roles } = options;
  const metrics = options.metrics ?? createMetrics();
  const infra = await openInfrastructure(config, logger, metrics);
  const supervisor = new Supervisor(logger);
  try {
    const scheduler =
      roles.includes('scheduler') || roles.includes('api') ? await buildSchedulerRole(infra) : undefined;
    if (!roles.includes('api') && config.metricsPort !== null) supervisor.add(metricsServer(infra, config.metricsPort));
    for (const role of roles) supervisor.add(...componentsOf(role, infra, scheduler, options));
    await supervisor.start();
  } catch (error) {
    await infra.close();
    throw error;
  }
  logger.info({ roles, mode: infra.mode }, `gridstream running: ${roles.join(', ')}`);
  let stopping: Promise<void> | undefined;
  return {
    infra,
    supervisor,
    roles,
    stop: () =>
      (stopping ??= (async () => {
        await supervisor.stop({ graceMs: config.shutdownGraceMs });
        await infra.close();
      })()),
  };
}

function componentsOf(
  role: Role,
  infra: Infrastructure,
  scheduler: SchedulerRole | undefined,
  options: RuntimeOptions,
): Component[] {
  switch (role) {
    case 'store':
      return storeRole(infra);
    case 'process':
      return processRole(infra);
    case 'scheduler':
      if (scheduler === undefined) throw new Error('scheduler role not built');
      return [schedulerComponent(scheduler, infra)];
    case 'ingest':
      return [
        ingestGateway(infra),
        ...(infra.config.mqttUrl === null
          ? []
          : [
              mqttIngest(infra, {
                url: infra.config.mqttUrl,
                topic: infra.config.mqttTopic,
                group: infra.config.namespace === null ? 'gridstream' : `gridstream_${infra.config.namespace}`,
              }),
            ]),
      ];
    case 'api':
      return [
        metricsMonitor(infra, CONSUMER_GROUPS),
        apiComponent(infra, scheduler, {
          ...(options.onGeneratedAdminKey === undefined ? {} : { onGeneratedAdminKey: options.onGeneratedAdminKey }),
          ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
        }),
      ];
    default:
      return role satisfies never;
  }
}
