import type { PeriodicTask } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { Log } from '../log/index.ts';
import { consumerLag } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';
import { latestSlots } from '../storage/index.ts';
import { SLOT_MS } from '../time/index.ts';

/**
 * Keeps the gauges that no single batch can update: consumer lag per group, topic and partition (high watermark
 * minus committed offset) and the watermark delay per zone (now minus the end of the newest actual-generation slot
 * stored). A periodic task: the first tick runs in `start()`, failures are logged and retried with backoff, and
 * `stop()` waits for a tick in progress, so that no tick runs against a database the process has closed.
 */
export function metricsMonitor(
  deps: { readonly log: Log; readonly db: Db; readonly metrics: Metrics; readonly logger: Logger },
  groups: readonly { readonly group: string; readonly topics: readonly string[] }[],
  intervalMs = 15_000,
): PeriodicTask {
  return periodic({
    name: 'metrics-monitor',
    logger: deps.logger,
    intervalMs,
    firstRunInStart: true,
    run: async (signal) => {
      for (const { group, topics } of groups) {
        for (const topic of topics) {
          for (const p of await consumerLag(deps.log, group, topic, { signal }))
            deps.metrics.consumerLag(group, topic, p.partition, p.lag);
        }
      }
      const now = Date.now();
      for (const { zone, slot } of await latestSlots(deps.db, { metrics: ['generation_actual'] }, { signal })) {
        deps.metrics.watermarkDelay('store', zone, Math.max(0, (now - (Date.parse(slot) + SLOT_MS)) / 1000));
      }
      return undefined;
    },
  });
}
