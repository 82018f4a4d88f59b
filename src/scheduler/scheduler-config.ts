import { z } from 'zod';
import { isEntsoeItem } from '../connectors/entsoe/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { isValidTimeZone } from '../time/index.ts';
import { parseCron } from './cron.ts';
import { DEFAULT_BORDERS, DEFAULT_DOCUMENTS, DEFAULT_ELECTRICITYMAPS_ZONES, DEFAULT_ZONES } from './default-zones.ts';
import { SchedulerError } from './errors.ts';
import { ALIGNMENTS } from './windows.ts';

const cron = z.string().refine((s) => {
  try {
    parseCron(s);
    return true;
  } catch {
    return false;
  }
}, 'expected a five-field cron expression');

const JobSchema = z.object({
  name: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'lower-case letters, digits, . _ -'),
  cron,
  timeZone: z.string().refine(isValidTimeZone, 'unknown time zone').default('UTC'),
  lookbackHours: z
    .number()
    .positive()
    .max(24 * 366),
  lookaheadHours: z
    .number()
    .nonnegative()
    .max(24 * 14)
    .default(0),
  align: z.enum(Object.keys(ALIGNMENTS) as ['hour', 'quarter-hour']).default('hour'),
  /** Defaults to the configuration's zones and documents. */
  zones: z.array(z.string()).optional(),
  documents: z.array(z.string().refine(isEntsoeItem, 'unknown ENTSO-E document item')).optional(),
});
export type JobConfig = z.infer<typeof JobSchema>;

/**
 * The scheduler configuration (a JSON file; every field optional). Defaults: the zones of `default-zones.ts`,
 * documents A75, A65, A44, A11 and the forecasts A69, A69:A40, A71, A65:A01 (see `DEFAULT_DOCUMENTS`); an hourly job fetching the trailing 3 hours, a daily job fetching the trailing 72
 * hours, and a day-ahead job that fetches today's and tomorrow's prices after the day-ahead auction.
 */
export const SchedulerConfigSchema = z.object({
  zones: z.array(z.string()).default([...DEFAULT_ZONES]),
  borders: z
    .array(z.tuple([z.string(), z.string()]))
    .default(DEFAULT_BORDERS.map(([a, b]) => [a, b] as [string, string])),
  documents: z.array(z.string().refine(isEntsoeItem, 'unknown ENTSO-E document item')).default([...DEFAULT_DOCUMENTS]),
  /** ENTSO-E requests in flight at once (the rate limiter sets the pace). */
  concurrency: z.number().int().min(1).max(32).default(4),
  /** Budget of the ENTSO-E token across all workers. */
  requestsPerMinute: z.number().int().min(2).max(400).default(400),
  jobs: z.array(JobSchema).default([
    { name: 'entsoe-hourly', cron: '5 * * * *', timeZone: 'UTC', lookbackHours: 3, lookaheadHours: 0, align: 'hour' },
    {
      name: 'entsoe-daily',
      cron: '30 3 * * *',
      timeZone: 'Europe/Brussels',
      lookbackHours: 72,
      lookaheadHours: 0,
      align: 'hour',
    },
    {
      name: 'entsoe-day-ahead-prices',
      cron: '15 13,17 * * *',
      timeZone: 'Europe/Brussels',
      lookbackHours: 1,
      lookaheadHours: 36,
      align: 'hour',
      documents: ['A44'],
    },
  ]),
  electricityMaps: z
    .object({
      zones: z.array(z.string()).default([...DEFAULT_ELECTRICITYMAPS_ZONES]),
      cron: cron.default('10 * * * *'),
      endpoints: z
        .array(
          z.enum([
            'power-breakdown/latest',
            'power-breakdown/history',
            'carbon-intensity/latest',
            'carbon-intensity/history',
          ]),
        )
        .default(['power-breakdown/history', 'carbon-intensity/history']),
      requestsPerMinute: z.number().int().min(2).default(30),
    })
    .prefault({}),
  replay: z
    .object({
      /** Delay between two replayed documents. */
      intervalMs: z.number().int().min(10).default(5000),
    })
    .prefault({}),
});
export type SchedulerConfig = z.infer<typeof SchedulerConfigSchema>;

/**
 * Validates a scheduler configuration (parsed JSON, or `{}` for the defaults) and checks every zone against the
 * reference data.
 * @throws SchedulerError `invalid_config`, listing every problem
 */
export function parseSchedulerConfig(json: unknown, reference: ReferenceData): SchedulerConfig {
  const parsed = SchedulerConfigSchema.safeParse(json ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new SchedulerError('scheduler.invalid_config', `invalid scheduler configuration: ${problems.join('; ')}`);
  }
  const config = parsed.data;
  const zones = [...config.zones, ...config.borders.flat(), ...config.jobs.flatMap((j) => j.zones ?? [])];
  const unknown = [...new Set(zones.filter((zone) => !reference.hasZone(zone)))];
  if (unknown.length > 0) {
    throw new SchedulerError(
      'scheduler.invalid_config',
      `unknown zone code(s) in the scheduler configuration: ${unknown.join(', ')}`,
    );
  }
  const names = config.jobs.map((j) => j.name);
  const twice = names.filter((n, i) => names.indexOf(n) !== i);
  if (twice.length > 0)
    throw new SchedulerError('scheduler.invalid_config', `job names used twice: ${twice.join(', ')}`);
  return config;
}
