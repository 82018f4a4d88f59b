import { z } from 'zod';
import { LIFECYCLE_STATES } from '../common/index.ts';
import { DeadLetterSchema, METRICS } from '../contracts/index.ts';
import { GAP_STATES } from '../completeness/index.ts';

/**
 * The JSON bodies the API answers, as zod schemas: handlers are type-checked against them and the OpenAPI document
 * is generated from them (tests validate real answers against that document).
 */

const isoInstant = z.string().meta({ format: 'date-time', examples: ['2025-10-21T06:00:00.000Z'] });
const nullableString = z.string().nullable();

export const ProblemSchema = z
  .object({
    type: z.string().meta({ description: 'URI naming the error code, e.g. https://gridstream.dev/problems/not_found' }),
    code: z.string().meta({ description: 'The error code (docs/ERROR-CODES.md), e.g. api.not_found' }),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z.string(),
    param: z.string().optional().meta({ description: 'The parameter at fault (400, 403, 404)' }),
  })
  .meta({ description: 'An error (RFC 9457 problem details)' });

export const HealthSchema = z.object({ status: z.literal('ok') });

export const ReadinessSchema = z.object({
  status: z.enum(['ready', 'not_ready']),
  ready: z.boolean(),
  state: z.enum(['idle', 'starting', 'running', 'stopping', 'stopped', 'failed']),
  components: z.array(
    z.object({
      name: z.string(),
      state: z.enum(['idle', 'starting', 'running', 'stopping', 'stopped', 'failed']),
      degraded: nullableString.meta({ description: 'Why a running part cannot work right now' }),
      error: nullableString.meta({ description: 'Why a failed part failed' }),
    }),
  ),
  checks: z.record(z.string(), z.string()).optional().meta({ description: '`ok` or why not, per dependency' }),
});

export const ZonesSchema = z.object({
  zones: z.array(
    z.object({
      code: z.string(),
      name: z.string(),
      country: nullableString,
      countries: z.array(z.string()),
      area_type: nullableString,
      time_zone: nullableString,
      eic: nullableString,
      first_slot: isoInstant,
      last_slot: isoInstant,
      metrics: z.array(z.string()),
    }),
  ),
});

export const PointSchema = z.object({
  ts: isoInstant.meta({ description: 'Start of the bucket (UTC)' }),
  value: z.number().meta({ description: 'Rounded by unit: MW/MWh 3 decimals, prices 2, gCO2eq/kWh 1, shares 4' }),
  flags: z.array(z.string()).optional(),
  slots: z.number().int().optional().meta({ description: 'Slots with a value in the bucket (only when not all)' }),
  expected_slots: z.number().int().optional(),
});

export const SeriesSchema = z.object({
  zone: z.string(),
  metric: z.enum(METRICS),
  resolution: z.enum(['PT15M', 'PT1H', 'P1D']),
  from: isoInstant,
  to: isoInstant,
  time_zone: z.string().meta({ description: 'Time zone bare dates and daily buckets were read in' }),
  as_of: isoInstant.nullable(),
  series: z.array(
    z.object({
      production_type: nullableString,
      production_type_name: nullableString,
      carbon_mode: nullableString,
      counterpart_zone: nullableString,
      qualifier: nullableString,
      unit: z.string(),
      aggregation: z.enum(['avg', 'sum']),
      points: z.array(PointSchema),
    }),
  ),
});

export const CarbonIntensitySchema = z.object({
  zone: z.string(),
  basis: z.enum(['production', 'consumption']),
  factors: z.enum(['lifecycle', 'direct']),
  source: z.enum(['gridstream', 'electricitymaps']),
  resolution: z.enum(['PT15M', 'PT1H', 'P1D']),
  from: isoInstant,
  to: isoInstant,
  time_zone: z.string(),
  unit: z.literal('gCO2eq/kWh'),
  points: z.array(PointSchema),
});

export const MixSchema = z.object({
  zone: z.string(),
  slot: isoInstant,
  requested_at: isoInstant.nullable().meta({
    description: 'The `at` asked for, when it was not a slot boundary: the answer is the slot that contains it',
  }),
  unit: z.string(),
  total: z.number(),
  entries: z.array(
    z.object({
      production_type: z.string(),
      name: z.string(),
      category: nullableString,
      value: z.number(),
      share: z.number().min(0).max(1).meta({ description: 'Fraction of the total, 0–1' }),
    }),
  ),
  missing: z.array(z.string()),
});

/** One gap of the self-healing completeness (`completeness_gaps`). */
export const GapSchema = z.object({
  source: z.string(),
  metric: z.string(),
  zone: z.string(),
  resolution: z.enum(['PT15M', 'PT60M']),
  start: isoInstant,
  end: isoInstant.meta({ description: 'Exclusive' }),
  slots: z.number().int().meta({ description: 'Quarter hours in the gap' }),
  state: z.enum(GAP_STATES).meta({
    description:
      '`pending`: found, not asked for yet; `backfilling`: asked for, waiting for its data or its next try; `filled`; `source_has_none`: asked for GRIDSTREAM_GAP_MAX_TRIES times and never published, not asked for again',
  }),
  tries: z.number().int().meta({
    description:
      'Requests the source answered while the gap stayed open; a gap continuing a source_has_none range starts at GRIDSTREAM_GAP_MAX_TRIES − 1 (asked once more)',
  }),
  failures: z.number().int().meta({ description: 'Requests that failed (retried, not counted as tries)' }),
  next_attempt_at: isoInstant
    .nullable()
    .meta({ description: 'When it is looked at and asked for next; null once closed' }),
  last_attempt_at: isoInstant.nullable(),
  last_outcome: nullableString.meta({ description: 'What the last request came back with' }),
  detected_at: isoInstant,
  closed_at: isoInstant.nullable().meta({ description: 'When it was filled or marked source_has_none' }),
});

export const CompletenessSchema = z.object({
  zone: z.string(),
  from: isoInstant,
  to: isoInstant,
  time_zone: z.string(),
  gaps: z.array(GapSchema).meta({
    description:
      'Ranges of expected slots (the expected-publication model) found missing in the range, newest first, with their self-healing state, at most 500 (see `gaps_truncated`). Only looked for where the scheduler polls ENTSO-E (live mode), for the zone items (generation, load, forecasts, prices); empty in offline replay.',
  }),
  gaps_truncated: z.boolean().meta({
    description:
      'true when the range holds more than 500 gaps: `gaps` lists the newest 500; ask for a shorter range or one `metric` to see the rest',
  }),
  days: z.array(
    z.object({
      metric: z.string(),
      day: z.string().meta({ description: 'Local calendar day of the zone, YYYY-MM-DD' }),
      expected_slots: z.number().int(),
      present_slots: z.number().int(),
      series: z.number().int(),
      expected_values: z.number().int(),
      present_values: z.number().int(),
      completeness: z.number().min(0).max(1).nullable().meta({ description: 'Fraction present, 0–1' }),
    }),
  ),
});

/** The data clock: what "now" means (`GET /api/v1/clock`, `clock` of the status and of forecasts). */
export const ClockSchema = z
  .object({
    mode: z.enum(['live', 'demo']).meta({ description: 'demo: the offline replay of bundled historic documents' }),
    now: isoInstant,
    basis: z.enum(['wall clock', 'latest complete replayed slot']),
  })
  .meta({
    description:
      'Live: the wall clock. Demo: the end of the newest quarter hour for which every zone with actual generation in the last 24 h of stored data has a value of each of its active production types.',
    examples: [{ mode: 'demo', now: '2025-10-23T10:00:00.000Z', basis: 'latest complete replayed slot' }],
  });

export const StatusSchema = z.object({
  version: nullableString,
  ingestion: z.enum(['live', 'offline-replay', 'unknown']),
  role: z.enum(['reader', 'operator', 'admin']),
  public_read: z.boolean().meta({ description: 'Anonymous callers may read (the dashboard opens without a key)' }),
  clock: ClockSchema.nullable().meta({ description: 'The data clock; null in demo mode before any replayed data' }),
});

export const MeSchema = z.object({
  key_id: nullableString,
  name: z.string(),
  role: z.enum(['reader', 'operator', 'admin']),
  zones: z.array(z.string()).nullable(),
  groups: z
    .array(z.string())
    .optional()
    .meta({ description: 'The meter groups the key is limited to; absent: every group' }),
});

export const DlqSummarySchema = z.object({
  topics: z.array(z.object({ topic: z.string(), total: z.number().int(), byReason: z.record(z.string(), z.number()) })),
});

export const DlqEntrySchema = z.object({
  topic: z.string(),
  partition: z.number().int(),
  offset: z.number().int(),
  timestamp: isoInstant,
  letter: DeadLetterSchema.nullable(),
  invalid: nullableString,
  replays: z.number().int(),
});

export const DlqEntriesSchema = z.object({ topic: z.string(), entries: z.array(DlqEntrySchema) });

export const ReplaySchema = z.object({
  topic: z.string(),
  selected: z.number().int(),
  replayed: z.number().int(),
  failed: z.array(z.object({ topic: z.string(), partition: z.number(), offset: z.number(), reason: z.string() })),
});

const row = z.record(z.string(), z.unknown());

export const JobRunsSchema = z.object({ runs: z.array(row) });

/** Where the offline replay stands, since the process running it started it. */
export const ReplayProgressSchema = z.object({
  state: z.enum(LIFECYCLE_STATES).meta({ description: "The replay task's lifecycle state" }),
  documents: z.number().int().meta({ description: 'Bundled documents found by the last scan of the directory' }),
  published: z.number().int(),
  skipped: z.number().int().meta({ description: 'Passed over because their content was published before' }),
  pending: z.number().int().meta({ description: 'Left to publish in the current pass' }),
  cycles: z.number().int().meta({ description: 'Finished passes over the directory' }),
  last_file: nullableString,
  last_published_at: isoInstant.nullable(),
  idle: z.boolean().meta({ description: 'Everything bundled is published: nothing is replayed until a file changes' }),
  interval_ms: z.number().int(),
});

/** The in-process connectors of the process answering (`live` of `GET /api/v1/admin/connectors`). */
export const ConnectorLiveSchema = z.object({
  mode: z
    .enum(['live', 'offline-replay'])
    .meta({ description: '`live` with an ENTSO-E token, `offline-replay` without' }),
  leader: z.boolean().nullable().meta({ description: 'Whether this process leads the cron jobs; null without them' }),
  replay: ReplayProgressSchema.nullable().meta({ description: 'null unless this process runs the offline replay' }),
});
export type ConnectorLive = z.input<typeof ConnectorLiveSchema>;

export const ConnectorsSchema = z.object({
  jobs: z.array(row),
  rate_limits: z.array(row),
  leases: z.array(row),
  live: ConnectorLiveSchema.nullable().meta({
    description: 'In-process connectors: replay or polling (null where this process runs no scheduler)',
  }),
  gaps: z
    .object({
      states: z.record(z.enum(GAP_STATES), z.number().int()).meta({ description: 'Gaps per state (every zone)' }),
      requests_last_hour: z.number().int().meta({ description: 'Targeted gap requests in the last hour (the budget)' }),
      open: z.array(GapSchema).meta({ description: 'Gaps not filled, newest first (at most 100)' }),
    })
    .meta({ description: 'Self-healing completeness: gaps and their targeted backfills' }),
  inputs: z
    .array(
      z.object({
        name: z.string().meta({ description: 'The input component (`ingest-mqtt`: the MQTT subscriber)' }),
        state: z.string(),
        degraded: z.string().nullable().meta({ description: 'Why it cannot work right now (broker unreachable…)' }),
      }),
    )
    .meta({ description: 'Device inputs running in the process answering (empty where it runs none)' }),
});

export const LagSchema = z.object({
  groups: z.array(
    z.object({
      group: z.string(),
      topic: z.string(),
      lag: z.number().int(),
      partitions: z.array(
        z.object({
          partition: z.number().int(),
          end: z.number().int(),
          committed: z.number().int().nullable(),
          lag: z.number().int(),
        }),
      ),
    }),
  ),
});

export const ApiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(['reader', 'operator', 'admin']),
  zones: z.array(z.string()).nullable(),
  groups: z.array(z.string()).nullable().meta({ description: 'Meter groups the key is limited to; null: all' }),
  rateLimitPerMinute: z.number().int().nullable(),
  createdAt: z.string(),
  revokedAt: nullableString,
  requestCount: z.number().int(),
  lastUsedAt: nullableString,
});

export const ApiKeysSchema = z.object({ keys: z.array(ApiKeySchema) });

export const CreatedKeySchema = z.object({ key: z.string(), record: ApiKeySchema, note: z.string() });

/** The `slot` event of `GET /api/v1/stream` (Server-Sent Events: `event: slot`, `data:` this JSON). */
export const SlotEventSchema = z.object({
  zone: z.string(),
  metric: z.string(),
  production_type: nullableString,
  counterpart_zone: nullableString,
  qualifier: nullableString,
  unit: z.string(),
  slot: isoInstant.meta({ description: 'The newest slot stored for the series' }),
  value: z.number().nullable(),
  updated_at: isoInstant,
});
