import type { Log } from '../log/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { Db } from '../storage/index.ts';
import { latestSlots } from '../storage/index.ts';
import { SLOT_MS } from '../time/index.ts';
import type { Component } from './component.ts';

/**
 * Keeps the gauges that no single batch can update: consumer lag per group, topic and partition (high watermark
 * minus committed offset) and the watermark delay per zone (now minus the end of the newest actual-generation slot
 * stored). Polls every `intervalMs`; failures are logged and retried at the next tick.
 */
export function metricsMonitor(
  deps: { readonly log: Log; readonly db: Db; readonly metrics: Metrics; readonly logger: Logger },
  groups: readonly { readonly group: string; readonly topics: readonly string[] }[],
  intervalMs = 15_000,
): Component & { tick(): Promise<void> } {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const tick = async (): Promise<void> => {
    try {
      for (const { group, topics } of groups) {
        for (const topic of topics) {
          const [offsets, committed] = await Promise.all([deps.log.offsets(topic), deps.log.committed(group, topic)]);
          for (const o of offsets)
            deps.metrics.consumerLag(group, topic, o.partition, o.next - (committed[o.partition] ?? o.earliest));
        }
      }
      const now = Date.now();
      for (const { zone, slot } of await latestSlots(deps.db, { metrics: ['generation_actual'] })) {
        deps.metrics.watermarkDelay('store', zone, Math.max(0, (now - (Date.parse(slot) + SLOT_MS)) / 1000));
      }
    } catch (error) {
      deps.logger.warn({ err: error }, 'metrics monitor tick failed');
    }
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      void tick().finally(schedule);
    }, intervalMs);
  };
  return {
    name: 'metrics-monitor',
    tick,
    async start() {
      await tick();
      schedule();
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      return Promise.resolve();
    },
  };
}
