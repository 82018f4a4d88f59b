import type { ElectricityMapsIngestor } from '../connectors/electricitymaps/index.ts';
import type { SchedulerConfig } from './scheduler-config.ts';
import type { ScheduledJob } from './scheduler.ts';

/**
 * The Electricity Maps poll: every configured endpoint for every configured zone, on its own cron (hourly by
 * default: the free `history` endpoints cover the last 24 hours, so an hourly poll never leaves a gap).
 */
export function electricityMapsJob(config: SchedulerConfig, ingestor: ElectricityMapsIngestor): ScheduledJob {
  const { zones, cron, endpoints } = config.electricityMaps;
  return {
    name: 'electricitymaps',
    cron,
    timeZone: 'UTC',
    window: { lookbackHours: 24, align: 'hour' },
    async run({ signal }) {
      const report = await ingestor.poll(zones, endpoints, { signal });
      return {
        requests: report.requests,
        documents: report.responses,
        points: 0,
        errors: report.deadLetters.length,
        details: { zones, endpoints },
      };
    },
  };
}
