import type { Component } from '../common/index.ts';
import type { DeadLetter, GridSeriesChunk } from '../contracts/index.ts';
import { dlqStorageTopic, gridCarbonTopic, gridObservationsTopic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { createProcessor, output, processorMetrics } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { Db } from './db.ts';
import { createObservationStore, storageDeadLetter } from './observation-store.ts';
import { rollupRefresher } from './rollup-refresher.ts';

export const STORE_GROUP = 'gridstream-store';

/** What the store role is built from (the runtime's infrastructure has all of it). */
export interface StoreRoleDeps {
  readonly log: Log;
  readonly db: Db;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly reference: ReferenceData;
  /** Scrubs secrets out of dead-letter messages. */
  readonly scrub: (text: string) => string;
}

/** Listeners told about every batch the store committed (the API's live feed listens in embedded mode). */
export type StoredListener = (chunks: readonly GridSeriesChunk[]) => void;

/**
 * The `store` role: grid.observations and grid.carbon → the database, one transaction per batch (COPY into
 * staging, then one idempotent upsert keeping revisions). Offsets are committed only after the transaction
 * commits. Rows the database refuses go to dlq-storage with their payload in base64 while the rest is written; a
 * database outage is a retryable error, so consumption pauses and resumes without dead-lettering anything.
 */
export function storeRole(deps: StoreRoleDeps, listeners: StoredListener[] = []): Component[] {
  const { log, db, logger, metrics, scrub, reference } = deps;
  const timeZoneOf = (zone: string): string => (reference.hasZone(zone) ? reference.zone(zone).timeZone : 'UTC');
  const store = createObservationStore(db, { logger: logger.child({ component: 'store' }) });
  const sink = createProcessor<GridSeriesChunk>({
    name: 'store-grid',
    log,
    groupId: STORE_GROUP,
    input: [gridObservationsTopic, gridCarbonTopic],
    stage: 'storage',
    logger: logger.child({ component: 'store-grid' }),
    metrics: processorMetrics(metrics, 'storage'),
    scrub,
    maxBatchRecords: 200,
    maxWaitMs: 250,
    async handle(items, ctx) {
      const chunks = items.map((i) => i.value);
      const result = await store.write(chunks, { signal: ctx.signal });
      metrics.observationsStored('inserted', result.inserted);
      metrics.observationsStored('updated', result.updated);
      metrics.observationsStored('unchanged', result.unchanged);
      const letters: DeadLetter[] = result.rejected.map((reject) => {
        const record = items[reject.chunk]?.record;
        return storageDeadLetter(
          reject,
          record === undefined
            ? null
            : { topic: record.topic, partition: record.partition, offset: record.offset, key: record.key },
        );
      });
      if (result.inserted + result.updated > 0) for (const listener of listeners) listener(chunks);
      return { outputs: [output(dlqStorageTopic, letters)] };
    },
  });
  return [rollupRefresher({ db, logger, timeZoneOf }), sink];
}
