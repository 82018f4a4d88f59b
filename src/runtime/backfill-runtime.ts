import type { BackfillRuntimeFactory } from '../cli/commands/backfill.ts';
import { SqlRateLimitStore } from '../connectors/http/index.ts';
import { gridCarbonTopic, gridObservationsTopic, rawEntsoeTopic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { createMetrics } from '../observability/index.ts';
import type { Metrics } from '../observability/index.ts';
import { SqlBackfillProgressStore } from '../scheduler/index.ts';
import { openInfrastructure } from './infrastructure.ts';
import { PROCESS_GROUPS } from './process-role.ts';
import { deadLetterSink, topicPublisher } from './publishers.ts';
import { startRuntime } from './runtime.ts';
import { STORE_GROUP } from './store-role.ts';

/** True once `group` has committed everything currently in `topic`. */
async function caughtUp(log: Log, group: string, topic: string): Promise<boolean> {
  const [offsets, committed] = await Promise.all([log.offsets(topic), log.committed(group, topic)]);
  return offsets.every((o) => o.next === o.earliest || (committed[o.partition] ?? o.earliest) >= o.next);
}

/**
 * Where `gridstream backfill` runs. Embedded (no KAFKA_BROKERS): the process and store roles run in this process,
 * and the backfill ends only when everything it published is stored or dead-lettered. Distributed: it publishes
 * to Kafka for the deployment's workers and ends when publishing is done; the shared request budget lives in
 * PostgreSQL.
 */
export const openBackfillRuntime: BackfillRuntimeFactory = async ({ config, logger, signal }) => {
  let stored = 0;
  const base = createMetrics({ defaultMetrics: false });
  const metrics: Metrics = {
    ...base,
    observationsStored(outcome, count) {
      base.observationsStored(outcome, count);
      if (outcome !== 'unchanged') stored += count;
    },
  };
  if (config.kafkaBrokers === null) {
    const runtime = await startRuntime({ config, logger, roles: ['store', 'process'], metrics });
    const { log, db, scrub } = runtime.infra;
    return {
      publisher: topicPublisher(log, rawEntsoeTopic, scrub),
      deadLetters: deadLetterSink(log),
      progress: new SqlBackfillProgressStore(db),
      rateLimits: new SqlRateLimitStore(db),
      async waitUntilDrained(options) {
        const checks: [string, string][] = [
          [PROCESS_GROUPS.entsoe, rawEntsoeTopic.name],
          [STORE_GROUP, gridObservationsTopic.name],
          [STORE_GROUP, gridCarbonTopic.name],
        ];
        for (;;) {
          if (options.signal.aborted || signal.aborted) return { pointsStored: stored };
          let drained = true;
          // In order: once processing has caught up, what it produced is in grid.* before the store's check.
          for (const [group, topic] of checks) if (!(await caughtUp(log, group, topic))) drained = false;
          if (drained) return { pointsStored: stored };
          await new Promise((resolve) => setTimeout(resolve, 250));
        }
      },
      pointsStored: () => stored,
      close: () => runtime.stop(),
    };
  }
  const infra = await openInfrastructure(config, logger, metrics);
  return {
    publisher: topicPublisher(infra.log, rawEntsoeTopic, infra.scrub),
    deadLetters: deadLetterSink(infra.log),
    progress: new SqlBackfillProgressStore(infra.db),
    rateLimits: new SqlRateLimitStore(infra.db),
    waitUntilDrained: () => Promise.resolve(undefined),
    close: () => infra.close(),
  };
};
