import type { PeriodicTask } from '../common/index.ts';
import { periodic } from '../common/index.ts';
import type { Logger } from '../observability/index.ts';
import type { Db } from './db.ts';
import { refreshRollups } from './rollups.ts';

/**
 * Keeps the hourly and daily rollups up to date in the store role: recomputes series the writer marked dirty,
 * straight away while there is work, then every `intervalMs`. Any number of store workers may run it: each series is
 * recomputed in its own transaction and cleared by compare-and-set.
 */
export function rollupRefresher(
  deps: { readonly db: Db; readonly logger: Logger; readonly timeZoneOf: (zone: string) => string },
  intervalMs = 1000,
): PeriodicTask {
  return periodic({
    name: 'rollup-refresher',
    logger: deps.logger,
    intervalMs,
    backoff: { baseMs: intervalMs * 2, maxMs: 30_000 },
    run: async (signal) => {
      const r = await refreshRollups(deps.db, deps.timeZoneOf, { signal });
      if (r.series > 0) deps.logger.debug({ series: r.series, buckets: r.buckets }, 'rollups refreshed');
      return r.remaining ? 0 : intervalMs;
    },
  });
}
