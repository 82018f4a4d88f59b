import type { EntsoeIngestor, EntsoeItem } from '../connectors/entsoe/index.ts';
import { ENTSOE_ITEMS, entsoeRequest, isBorderItem, isEntsoeItem } from '../connectors/entsoe/index.ts';
import type { EntsoeRequest } from '../contracts/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import type { JobConfig, SchedulerConfig } from './scheduler-config.ts';
import type { ScheduledJob } from './scheduler.ts';
import { addLocalDays, startOfLocalDay } from '../time/index.ts';
import { AHEAD_ITEMS } from './default-zones.ts';
import type { Window } from './windows.ts';

/** What to fetch: zones, the borders between them, document items. */
export interface FetchScope {
  readonly zones: readonly string[];
  readonly borders: readonly (readonly [string, string])[];
  readonly documents: readonly string[];
}

/** The period of a forecast item ({@link AHEAD_ITEMS}) of a job run: widened to the end of the zone's next local day. */
export function aheadPeriod(period: Window, timeZone: string): Window {
  return {
    start: period.start,
    end: Math.max(period.end, addLocalDays(startOfLocalDay(period.end, timeZone), timeZone, 2)),
  };
}

/**
 * The ENTSO-E requests of a scope over a period: one per zone for zone items (A75, A65, A44…), one per border and
 * direction for border items (A11, A09, A61) on every border that touches one of the zones. With `ahead` (a job
 * run), forecast items ({@link AHEAD_ITEMS}) reach to the end of the zone's next local day ({@link aheadPeriod}).
 */
export function scopeRequests(
  scope: FetchScope,
  period: Window,
  reference: ReferenceData,
  options: { readonly ahead?: boolean } = {},
): EntsoeRequest[] {
  const zones = new Set(scope.zones);
  const borders = scope.borders.filter(([a, b]) => zones.has(a) || zones.has(b));
  const requests: EntsoeRequest[] = [];
  for (const name of scope.documents) {
    if (!isEntsoeItem(name)) continue;
    const item: EntsoeItem = name;
    if (isBorderItem(item)) {
      for (const [a, b] of borders) {
        requests.push(entsoeRequest(item, a, period, reference, b), entsoeRequest(item, b, period, reference, a));
      }
    } else {
      const ahead = options.ahead === true && AHEAD_ITEMS.includes(item);
      for (const zone of scope.zones) {
        const p = ahead ? aheadPeriod(period, reference.zone(zone).timeZone) : period;
        requests.push(entsoeRequest(item, zone, p, reference));
      }
    }
  }
  return requests;
}

/** The scope of a configured job: its own zones and documents, else the configuration's. */
export function jobScope(job: JobConfig, config: SchedulerConfig): FetchScope {
  return { zones: job.zones ?? config.zones, borders: config.borders, documents: job.documents ?? config.documents };
}

/**
 * A scheduler job that fetches its scope's ENTSO-E data over the run's window and publishes it (through the
 * ingestor: `raw.entsoe`, failures to `dlq-ingestion`).
 */
export function entsoeJob(
  job: JobConfig,
  config: SchedulerConfig,
  ingestor: EntsoeIngestor,
  reference: ReferenceData,
): ScheduledJob {
  const scope = jobScope(job, config);
  return {
    name: job.name,
    cron: job.cron,
    timeZone: job.timeZone,
    window: { lookbackHours: job.lookbackHours, lookaheadHours: job.lookaheadHours, align: job.align },
    async run({ window, signal }) {
      const requests = scopeRequests(scope, window, reference, { ahead: true });
      const report = await ingestor.ingestAll(requests, { signal, concurrency: config.concurrency });
      return {
        requests: report.requests,
        documents: report.documents,
        points: report.points,
        errors: report.deadLetters.length,
        details: {
          // The zones a run is about: zone-limited API keys see only the runs of their zones.
          zones: [...scope.zones],
          exchanges: report.exchanges,
          noData: report.noData,
          documentTypes: [...new Set(requests.map((r) => r.documentType))],
          titles: scope.documents.filter(isEntsoeItem).map((d) => ENTSOE_ITEMS[d].title),
        },
      };
    },
  };
}

/** Every configured ENTSO-E job. */
export function entsoeJobs(
  config: SchedulerConfig,
  ingestor: EntsoeIngestor,
  reference: ReferenceData,
): ScheduledJob[] {
  return config.jobs.map((job) => entsoeJob(job, config, ingestor, reference));
}
