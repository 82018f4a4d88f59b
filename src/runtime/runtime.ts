import type { ReadinessCheck } from '../api/index.ts';
import { processReadiness } from '../api/index.ts';
import type { Component } from '../common/index.ts';
import { Lifecycle, problemLogger, settlesWithin } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import { ingestGateway, mqttIngest } from '../ingest/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { createMetrics } from '../observability/index.ts';
import { processRole } from '../processing/index.ts';
import type { SchedulerRole } from '../scheduler/index.ts';
import { loadJobWatermark, partitionMaintainer, storeRole } from '../storage/index.ts';
import { METERS_JOB, metersRole } from '../meters/index.ts';
import { loadVeeRules, qualityRole } from '../quality/index.ts';
import { settleRole } from '../settlement/index.ts';
import { alertsRole, loadAlertRules } from '../alerts/index.ts';
import { gapHealer } from '../completeness/index.ts';
import { loadBdewProfiles } from '../simulator/index.ts';
import { CONSUMER_GROUPS, apiComponent } from './api-component.ts';
import type { Infrastructure } from './infrastructure.ts';
import { openInfrastructure } from './infrastructure.ts';
import { withLogIntegrity } from './log-integrity.ts';
import { metricsMonitor } from './metrics-monitor.ts';
import { metricsServer } from './metrics-server.ts';
import type { Role } from './roles.ts';
import { buildSchedulerRole } from './scheduler-component.ts';
import { Supervisor } from './supervisor.ts';

/** A running gridstream process: its infrastructure and the supervisor of its components. */
export interface Runtime {
  readonly infra: Infrastructure;
  readonly supervisor: Supervisor;
  readonly roles: readonly Role[];
  /** What `/readyz` answers: every component runs, none is degraded, the database and the log answer. */
  readonly readiness: ReadinessCheck;
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
  /** Aborts the start (SIGTERM while starting): what was started is stopped and `startRuntime` rejects. */
  readonly signal?: AbortSignal;
  /** Components started last and stopped first, on the same infrastructure (the control socket of `start`). */
  readonly extra?: (infra: Infrastructure, readiness: ReadinessCheck) => readonly Component[];
}

/**
 * Builds and starts the components of the given roles on one infrastructure. Start order follows the data flow
 * backwards (store, meters, quality, settle, alerts, process, scheduler, ingest, api) so that consumers are ready before producers; stop order is
 * the reverse.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, logger, roles } = options;
  const metrics = options.metrics ?? createMetrics();
  const infra = await openInfrastructure(config, logger, metrics);
  const supervisor = new Supervisor(logger);
  const readiness = infra.diskFull.readiness(
    withLogIntegrity(
      processReadiness(infra, () => supervisor.readiness()),
      infra,
    ),
  );
  try {
    const scheduler =
      roles.includes('scheduler') || roles.includes('api') ? await buildSchedulerRole(infra) : undefined;
    if (!roles.includes('api') && config.metricsPort !== null)
      supervisor.add(metricsServer(infra, config.metricsPort, readiness));
    for (const role of roles) supervisor.add(...componentsOf(role, infra, scheduler, readiness, options));
    supervisor.add(...(options.extra?.(infra, readiness) ?? []));
    const onAbort = (): void => void supervisor.stop({ graceMs: config.shutdownGraceMs });
    options.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      await supervisor.start();
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
    }
    if (options.signal?.aborted === true) throw new Error('stopped while starting');
  } catch (error) {
    await supervisor.stop({ graceMs: 5_000 });
    await afterComponents(supervisor, logger);
    await infra.close();
    throw error;
  }
  logger.info({ roles, mode: infra.mode }, `gridstream running: ${roles.join(', ')}`);
  // The process as a whole: the components within the shutdown grace, then the log and the database.
  const life = new Lifecycle(
    'gridstream',
    {
      stop: async () => {
        await supervisor.stop({ graceMs: config.shutdownGraceMs });
        await afterComponents(supervisor, logger);
        await infra.close();
      },
    },
    { graceMs: config.shutdownGraceMs + 10_000, onProblem: problemLogger(logger) },
  );
  await life.start();
  return { infra, supervisor, roles, readiness, stop: () => life.stop() };
}

function componentsOf(
  role: Role,
  infra: Infrastructure,
  scheduler: SchedulerRole | undefined,
  readiness: ReadinessCheck,
  options: RuntimeOptions,
): Component[] {
  const { config } = infra;
  switch (role) {
    case 'store':
      return storeRole(infra);
    case 'meters':
      return metersRole({ ...infra, settings: config.meters });
    case 'quality':
      return qualityRole({
        ...infra,
        rules: loadVeeRules(config.meters.veeRulesFile),
        profiles: loadBdewProfiles(),
        clockToleranceMs: config.meters.clockToleranceMs,
        batchDays: dayBatch(infra),
      });
    case 'settle':
      return settleRole({ ...infra, waitMs: config.meters.settlementWaitMs, batchDays: dayBatch(infra) });
    case 'alerts':
      return alertsRole({
        ...infra,
        rules: loadAlertRules(config.alerts.rulesFile),
        profiles: loadBdewProfiles(),
        intervalMs: config.alerts.intervalMs,
        webhooks: { maxAttempts: config.alerts.webhookMaxAttempts, timeoutMs: config.alerts.webhookTimeoutMs },
      });
    case 'process':
      return processRole(infra);
    case 'scheduler':
      if (scheduler === undefined) throw new Error('scheduler role not built');
      // Time partitions of meter data: created ahead at start and daily, expired ones dropped when a retention is set.
      return [
        scheduler,
        ...gapHealerOf(infra, scheduler),
        partitionMaintainer({ db: infra.db, logger: infra.logger }, undefined, {
          meterRetentionMs: config.meters.retentionMs,
          // Raw partitions go only once the meters job's watermark minus the allowed lateness is past them.
          dropHorizon: async (signal) => {
            const watermark = await loadJobWatermark(infra.db, METERS_JOB, { signal });
            return watermark === null ? null : new Date(Date.parse(watermark) - config.meters.allowedLatenessMs);
          },
        }),
      ];
    case 'ingest':
      return [
        ingestGateway(infra, {
          host: config.host,
          port: config.ingestPort,
          readiness,
          limits: config.ingest,
          trustedProxies: config.trustedProxies,
        }),
        ...(config.mqttUrl === null
          ? []
          : [
              mqttIngest(infra, {
                url: config.mqttUrl,
                ca: config.transport.mqttCa,
                topic: config.mqttTopic,
                group: config.namespace === null ? 'gridstream' : `gridstream_${config.namespace}`,
                rules: { earliest: config.ingest.earliestReading, maxAheadMs: config.ingest.maxAheadMs },
              }),
            ]),
      ];
    case 'api':
      return [
        metricsMonitor(infra, CONSUMER_GROUPS),
        apiComponent(infra, scheduler, {
          readiness,
          ...(options.onGeneratedAdminKey === undefined ? {} : { onGeneratedAdminKey: options.onGeneratedAdminKey }),
          ...(options.dashboardDir === undefined ? {} : { dashboardDir: options.dashboardDir }),
        }),
      ];
    default:
      return role satisfies never;
  }
}

/**
 * The gap healer of a live scheduler (none in offline replay: the bundled documents are historic and there is no
 * token to ask with). It runs on the leader only, each pass within the leader's term (stopped when it ends), and asks through the scheduler's ENTSO-E ingestor, so its requests
 * share the jobs' rate limit, circuit breakers and dead letters.
 */
function gapHealerOf(infra: Infrastructure, scheduler: SchedulerRole): Component[] {
  const ingestor = scheduler.entsoe;
  if (ingestor === undefined) return [];
  const { config } = infra;
  return [
    gapHealer({
      db: infra.db,
      logger: infra.logger.child({ component: 'completeness-gaps' }),
      reference: infra.reference,
      rules: loadAlertRules(config.alerts.rulesFile),
      ingest: (request, o) => ingestor.ingest(request, o),
      settings: config.gaps,
      leaderTerm: () => scheduler.leaderTerm(),
    }),
  ];
}

/**
 * Meter days per transaction of the quality and settle roles. PGlite has one connection for every role of the
 * process: short transactions let the store, the meters role and the API take their turns in between.
 */
function dayBatch(infra: Infrastructure): number {
  return infra.db.kind === 'pglite' ? 20 : 200;
}

/**
 * Waits (a few seconds at most) until every component has ended before the log and the database close under them:
 * a component left behind by its grace time must not find them closed while it winds down.
 */
async function afterComponents(supervisor: Supervisor, logger: Logger): Promise<void> {
  const ended = Promise.all(supervisor.components.map((c) => c.finished));
  if (!(await settlesWithin(ended, 5_000))) {
    const left = supervisor.components.filter((c) => c.state !== 'stopped' && c.state !== 'failed').map((c) => c.name);
    logger.error(
      { components: left },
      'components still running after the stop; closing the log and the database anyway',
    );
  }
}
