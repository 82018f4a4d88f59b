import { isAborted, sleep } from '../common/index.ts';
import type { Config } from '../config/index.ts';
import type { RateLimitStore } from '../connectors/http/index.ts';
import { SqlRateLimitStore } from '../connectors/http/index.ts';
import type { DeadLetterSink, Publisher, RawEntsoeDocument } from '../contracts/index.ts';
import { gridCarbonTopic, gridObservationsTopic, rawEntsoeTopic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { totalLag } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import { createMetrics } from '../observability/index.ts';
import { PROCESS_GROUPS } from '../processing/index.ts';
import type { BackfillProgressStore } from '../scheduler/index.ts';
import { SqlBackfillProgressStore } from '../scheduler/index.ts';
import { STORE_GROUP } from '../storage/index.ts';
import type { Infrastructure } from './infrastructure.ts';
import { openInfrastructure } from './infrastructure.ts';
import { deadLetterSink, topicPublisher } from './publishers.ts';
import { startRuntime } from './runtime.ts';

/** What the backfill needs from the running platform: where fetched data goes and how to know it has landed. */
export interface BackfillRuntime {
  /** `raw.entsoe` on the event log. */
  readonly publisher: Publisher<RawEntsoeDocument>;
  /** `dlq-ingestion` on the event log. */
  readonly deadLetters: DeadLetterSink;
  /** Persistent progress (the `backfill_chunks` table: `new SqlBackfillProgressStore(db)`), for resuming. */
  readonly progress: BackfillProgressStore;
  /** The deployment's shared budget (`new SqlRateLimitStore(db)` in distributed mode). @default in-process */
  readonly rateLimits?: RateLimitStore;
  /**
   * Embedded mode: resolves once everything published so far is stored or dead-lettered (the in-process pipeline
   * has drained). Distributed mode: resolves at once (the workers store it). Resolves with the points stored, when
   * known.
   */
  waitUntilDrained(options: { readonly signal: AbortSignal }): Promise<{ readonly pointsStored?: number } | undefined>;
  /** Points stored so far, for the progress bar (embedded mode). */
  pointsStored?(): number | undefined;
  /** Stops what the runtime started (the embedded pipeline, log, database). */
  close(): Promise<void>;
}

/** Opens the runtime the backfill runs in; the lead wires it to the event log and the database. */
export type BackfillRuntimeFactory = (context: {
  readonly config: Config;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** The running instance the command runs inside (its process and store roles store what is fetched). */
  readonly instance?: Infrastructure;
}) => Promise<BackfillRuntime>;

/** True once `group` has committed everything currently in `topic`. */
async function caughtUp(log: Log, group: string, topic: string): Promise<boolean> {
  return (await totalLag(log, group, [topic])) === 0;
}

/** Resolves once processing and storing have caught up with everything in the log (or a signal aborts). */
async function drained(log: Log, signals: readonly AbortSignal[]): Promise<void> {
  const checks: [string, string][] = [
    [PROCESS_GROUPS.entsoe, rawEntsoeTopic.name],
    [STORE_GROUP, gridObservationsTopic.name],
    [STORE_GROUP, gridCarbonTopic.name],
  ];
  const signal = AbortSignal.any([...signals]);
  while (!isAborted(signal)) {
    let done = true;
    // In order: once processing has caught up, what it produced is in grid.* before the store's check.
    for (const [group, topic] of checks) if (!(await caughtUp(log, group, topic))) done = false;
    if (done) return;
    await sleep(250, { signal });
  }
}

/**
 * Where `gridstream backfill` runs. Embedded (no KAFKA_BROKERS): the process and store roles run in this process,
 * and the backfill ends only when everything it published is stored or dead-lettered. Distributed: it publishes
 * to Kafka for the deployment's workers and ends when publishing is done; the shared request budget lives in
 * PostgreSQL.
 */
export const openBackfillRuntime: BackfillRuntimeFactory = async ({ config, logger, signal, instance }) => {
  if (instance !== undefined) {
    return {
      publisher: topicPublisher(instance.log, rawEntsoeTopic, instance.scrub),
      deadLetters: deadLetterSink(instance.log),
      progress: new SqlBackfillProgressStore(instance.db),
      rateLimits: new SqlRateLimitStore(instance.db),
      async waitUntilDrained(options) {
        await drained(instance.log, [options.signal, signal]);
        return undefined;
      },
      close: () => Promise.resolve(),
    };
  }
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
        await drained(log, [options.signal, signal]);
        return { pointsStored: stored };
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
