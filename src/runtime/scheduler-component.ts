import { readFile } from 'node:fs/promises';
import { ElectricityMapsTokens } from '../connectors/electricitymaps/index.ts';
import { SqlRateLimitStore } from '../connectors/http/index.ts';
import { rawElectricityMapsTopic, rawEntsoeTopic } from '../contracts/index.ts';
import type { SchedulerRole } from '../scheduler/index.ts';
import {
  SqlJobRunStore,
  SqlLeaseStore,
  SqlReplayedDocumentStore,
  createSchedulerRole,
  parseSchedulerConfig,
} from '../scheduler/index.ts';
import type { Infrastructure } from './infrastructure.ts';
import { deadLetterSink, topicPublisher } from './publishers.ts';

/**
 * Builds the scheduler role on the infrastructure: its rate-limit budget, leader lease, job runs and what the
 * offline replay has published live in the database (PGlite in embedded mode too, so that the budget survives
 * restarts and a restarted replay does not publish the bundle again), its output goes to the raw topics.
 * Not started: `schedulerComponent` starts it; the API uses it unstarted to replay ingestion dead letters.
 */
export async function buildSchedulerRole(infra: Infrastructure): Promise<SchedulerRole> {
  const { config, db, log, logger, reference, scrub } = infra;
  const scheduleJson: unknown =
    config.schedulerConfigFile === null ? {} : JSON.parse(await readFile(config.schedulerConfigFile, 'utf8'));
  const schedule = parseSchedulerConfig(scheduleJson, reference);
  const effective =
    config.replayIntervalMs === null
      ? schedule
      : { ...schedule, replay: { ...schedule.replay, intervalMs: config.replayIntervalMs } };
  const tokens =
    config.electricityMapsTokensFile === null
      ? ElectricityMapsTokens.single(config.electricityMaps.token)
      : await ElectricityMapsTokens.fromFile(config.electricityMapsTokensFile, config.electricityMaps.token);
  return createSchedulerRole({
    config,
    schedule: effective,
    logger: logger.child({ component: 'scheduler' }),
    entsoe: topicPublisher(log, rawEntsoeTopic, scrub),
    electricityMaps: topicPublisher(log, rawElectricityMapsTopic, scrub),
    deadLetters: deadLetterSink(log),
    stores: {
      rateLimits: new SqlRateLimitStore(db),
      leases: new SqlLeaseStore(db),
      runs: new SqlJobRunStore(db),
      replayed: new SqlReplayedDocumentStore(db),
    },
    electricityMapsTokens: tokens,
    reference,
    observer: {
      attempt: (host, outcome) => {
        infra.metrics.upstreamRequest(host, outcome);
      },
      limiterWait: (host, seconds) => {
        infra.metrics.limiterWait(host, seconds);
      },
    },
  });
}
