/**
 * The roles a gridstream process can take. `gridstream start` runs all of them in one process (embedded);
 * `gridstream run <role[,role…]>` runs the given ones (any number of processes per role: they share the work
 * through consumer groups, and the scheduler elects one leader).
 */
export const ROLES = [
  'store',
  'meters',
  'quality',
  'settle',
  'alerts',
  'process',
  'scheduler',
  'ingest',
  'api',
] as const;
export type Role = (typeof ROLES)[number];

export const ROLE_DESCRIPTIONS: Readonly<Record<Role, string>> = {
  store: 'database sink: grid.observations and grid.carbon → PostgreSQL/PGlite (idempotent upserts, revisions)',
  meters:
    'meter stream engine: raw.meters → stored intervals (which value wins, revisions), register reads, device readings; day rows and group aggregates when the event-time watermark passes (exactly once)',
  quality:
    'validation, estimation and editing (VEE) of every meter day the meters role compacted: the validated series with quality codes, rule failures and estimates (exactly once, recomputed per day)',
  settle:
    'settlement of validated meter days: energy × day-ahead price and × carbon intensity of the bidding zone per 15-minute period, pending until prices arrive, restated when they change (exactly once, recomputed per day)',
  alerts:
    'detectors on meters (outage per group, reverse flow, possible tampering, validation failures) and grid signals (idle sources against the expected-publication model, actuals against their forecast, negative and extreme prices, carbon intensity out of range); the alert lifecycle, produced to the alerts topic, and signed webhooks',
  process: 'stream processors: raw.entsoe / raw.electricitymaps → grid.observations + grid.carbon',
  scheduler: 'cron jobs with lookbacks and backfills (one leader per deployment), or the offline replay',
  ingest: 'input gateways for device readings (HTTP NDJSON; MQTT when GRIDSTREAM_MQTT_URL is set) → raw.meters',
  api: 'REST API, live feed, dashboard, admin and /metrics',
};

/** Parses `store,process` (in start order, duplicates removed); unknown names are returned separately. */
export function parseRoles(text: string): { roles: Role[]; unknown: string[] } {
  const names = text
    .split(',')
    .map((r) => r.trim())
    .filter((r) => r !== '');
  const unknown = names.filter((n) => !(ROLES as readonly string[]).includes(n));
  const roles = ROLES.filter((r) => names.includes(r));
  return { roles, unknown };
}
