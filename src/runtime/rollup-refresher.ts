import { errorMessage } from '../common/index.ts';
import { refreshRollups } from '../storage/index.ts';
import type { Component } from './component.ts';
import type { Infrastructure } from './infrastructure.ts';

/**
 * Keeps the hourly and daily rollups up to date in the store role: recomputes series the writer marked dirty,
 * straight away while there is work, then every `intervalMs`. Any number of store workers may run it: each series is
 * recomputed in its own transaction and cleared by compare-and-set.
 */
export function rollupRefresher(infra: Infrastructure, intervalMs = 1000): Component {
  const { db, logger, reference } = infra;
  const timeZoneOf = (zone: string): string => (reference.hasZone(zone) ? reference.zone(zone).timeZone : 'UTC');
  const controller = new AbortController();
  // Read through a function: the loop awaits in between, so a narrowed `signal.aborted` would be stale.
  const stopped = (): boolean => controller.signal.aborted;
  let loop: Promise<void> | undefined;
  let failures = 0;
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      controller.signal.addEventListener(
        'abort',
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
  return {
    name: 'rollup-refresher',
    start() {
      loop = (async () => {
        while (!stopped()) {
          try {
            const r = await refreshRollups(db, timeZoneOf, { signal: controller.signal });
            failures = 0;
            if (r.series > 0) logger.debug({ series: r.series, buckets: r.buckets }, 'rollups refreshed');
            if (!r.remaining) await sleep(intervalMs);
          } catch (error) {
            if (stopped()) break;
            failures++;
            logger.warn({ err: errorMessage(error), failures }, 'rollup refresh failed; retrying');
            await sleep(Math.min(30_000, intervalMs * 2 ** Math.min(failures, 5)));
          }
        }
      })();
      return Promise.resolve();
    },
    async stop() {
      controller.abort();
      await loop;
    },
  };
}
