import type { Hono } from 'hono';
import { z } from 'zod';
import type { DlqEntry, Refetcher } from '../../dlq/index.ts';
import {
  DLQ_TOPIC_NAMES,
  deadLetterZones,
  listDeadLetters,
  recordReplay,
  replayCounts,
  replayDeadLetters,
  showDeadLetter,
  summarizeDeadLetters,
} from '../../dlq/index.ts';
import type { ReadingRules } from '../../contracts/index.ts';
import { GAP_STATES, gapSummary, listGaps } from '../../completeness/index.ts';
import type { Gap, GapState } from '../../completeness/index.ts';
import type { Log } from '../../log/index.ts';
import { consumerLag } from '../../log/index.ts';
import type { Db } from '../../storage/index.ts';
import { MeterGroupSchema } from '../../meters/index.ts';
import type { ItemScope } from '../access-scope.ts';
import { PLATFORM_WIDE, accessible, mayAccess, requireAccess, requireGrantable } from '../access-scope.ts';
import type { ApiKeyRecord, Principal } from '../api-keys.ts';
import { ROLES, createApiKey, listApiKeys, revokeApiKey } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import { gapBody } from './data.ts';
import { positiveInt, zoneCode } from '../params.ts';
import type { ApiEnv, Permissions } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import type { ReadinessCheck } from '../health.ts';
import type { ConnectorLive } from '../schemas.ts';
import type { Clock } from '../clock.ts';
import { clockBody, liveClock } from '../clock.ts';
import {
  ApiKeysSchema,
  ConnectorsSchema,
  CreatedKeySchema,
  DlqEntriesSchema,
  DlqEntrySchema,
  DlqSummarySchema,
  JobRunsSchema,
  LagSchema,
  MeSchema,
  ReplaySchema,
  StatusSchema,
} from '../schemas.ts';

export interface AdminDeps {
  readonly db: Db;
  readonly log: Log;
  readonly permissions: Permissions;
  /** Consumer groups to report lag for, with their input topics. */
  readonly consumerGroups: readonly { readonly group: string; readonly topics: readonly string[] }[];
  /** Re-fetches an ingestion dead letter (absent when this process has no upstream client). */
  readonly refetch?: Refetcher;
  /** Live status of in-process connectors (replay or polling), if this process runs the scheduler. */
  readonly connectorStatus?: () => ConnectorLive;
  /** The process's readiness: its device inputs (`ingest-…` components) are listed with the connectors. */
  readonly readiness?: ReadinessCheck;
  /** What replayed refused readings are checked against (the ingest rules). @default DEFAULT_READING_RULES */
  readonly readingRules?: ReadingRules;
  readonly version?: string;
  /** Anonymous callers may read (GRIDSTREAM_PUBLIC_READ). */
  readonly publicRead?: boolean;
  /** The data clock (`clock` of the status). @default the wall clock */
  readonly clock?: Clock;
}

const dlqTopic = z
  .enum(DLQ_TOPIC_NAMES as [string, ...string[]], { message: `expected one of ${DLQ_TOPIC_NAMES.join(', ')}` })
  .meta({ description: 'A dead-letter topic' });
const reasonFilter = z
  .string()
  .max(100)
  .optional()
  .meta({ description: 'Only this reason (an error code; old names such as `db_unavailable` are accepted too)' });

export const statusRoute = defineRoute({
  method: 'get',
  path: '/api/v1/status',
  operationId: 'status',
  summary: 'Platform status for any key: version, and whether ingestion is live or an offline replay',
  access: 'reader',
  query: {},
  response: StatusSchema,
});

export const meRoute = defineRoute({
  method: 'get',
  path: '/api/v1/me',
  operationId: 'me',
  summary: 'The calling key: id, name, role and zone allow-list',
  access: 'reader',
  query: {},
  response: MeSchema,
});

export const dlqSummaryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/dlq',
  operationId: 'dlqSummary',
  summary: 'Dead letters per topic and reason: exact counts of what the key may see',
  access: 'operator',
  query: {},
  response: DlqSummarySchema,
});

export const dlqEntriesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/dlq/{topic}',
  operationId: 'dlqEntries',
  summary: 'Dead letters of a topic',
  access: 'operator',
  params: { topic: dlqTopic },
  query: {
    reason: reasonFilter,
    source: z.string().max(100).optional().meta({ description: 'Only letters from this source topic' }),
    limit: positiveInt(1000).default(100).meta({ description: 'Most entries' }),
  },
  response: DlqEntriesSchema,
});

export const dlqEntryRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/dlq/{topic}/{partition}/{offset}',
  operationId: 'dlqEntry',
  summary: 'One dead letter with its payload',
  access: 'operator',
  params: {
    topic: dlqTopic,
    partition: positiveInt(10_000).meta({ description: 'Partition of the dead-letter topic' }),
    offset: positiveInt(Number.MAX_SAFE_INTEGER).meta({ description: 'Offset of the dead letter in its partition' }),
  },
  query: {},
  response: DlqEntrySchema,
  errors: [404],
});

export const dlqReplayRoute = defineRoute({
  method: 'post',
  path: '/api/v1/admin/dlq/{topic}/replay',
  operationId: 'dlqReplay',
  summary: 'Replay dead letters to their source; replaying twice duplicates nothing',
  access: 'operator',
  params: { topic: dlqTopic },
  query: {},
  body: z
    .object({
      offsets: z
        .array(z.object({ partition: z.number().int().min(0), offset: z.number().int().min(0) }))
        .max(10_000)
        .optional(),
      reason: z.string().max(100).optional(),
      all: z.boolean().optional(),
    })
    .refine(
      (b) => b.offsets !== undefined || b.reason !== undefined || b.all === true,
      'give offsets, a reason, or all: true',
    ),
  response: ReplaySchema,
});

export const jobsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/jobs',
  operationId: 'jobs',
  summary: 'Job runs of the scheduler',
  access: 'operator',
  query: {
    job: z.string().max(200).optional().meta({ description: 'Only this job' }),
    limit: positiveInt(1000).default(100).meta({ description: 'Most runs' }),
  },
  response: JobRunsSchema,
});

export const connectorsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/connectors',
  operationId: 'connectors',
  summary: 'Connector status: last runs, rate limits and bans, leader lease, live replay or polling',
  access: 'operator',
  query: {},
  response: ConnectorsSchema,
});

export const lagRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/lag',
  operationId: 'lag',
  summary: 'Consumer lag per group, topic and partition',
  access: 'operator',
  query: {},
  response: LagSchema,
});

export const keysRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/keys',
  operationId: 'keys',
  summary: 'API keys (never their secrets)',
  access: 'admin',
  query: {},
  response: ApiKeysSchema,
});

export const createKeyRoute = defineRoute({
  method: 'post',
  path: '/api/v1/admin/keys',
  operationId: 'createKey',
  summary: 'Create an API key; the key is in the response once',
  access: 'admin',
  query: {},
  body: z.object({
    name: z.string().min(1).max(200),
    role: z.enum(ROLES),
    zones: z.array(zoneCode).max(200).nullable().optional(),
    groups: z.array(MeterGroupSchema).min(1).max(1000).nullable().optional().meta({
      description: 'Meter groups the key may read and ingest (absent or null: every group)',
    }),
    rate_limit_per_minute: z.number().int().positive().max(1_000_000).nullable().optional(),
  }),
  response: CreatedKeySchema,
  status: 201,
});

export const revokeKeyRoute = defineRoute({
  method: 'delete',
  path: '/api/v1/admin/keys/{id}',
  operationId: 'revokeKey',
  summary: 'Revoke an API key (refused by every process within a second)',
  access: 'admin',
  params: { id: z.string().min(1).max(100).meta({ description: 'The key id (not the secret)' }) },
  query: {},
  status: 204,
  errors: [404],
});

export const ADMIN_ROUTES: readonly RouteContract[] = [
  statusRoute,
  meRoute,
  dlqSummaryRoute,
  dlqEntriesRoute,
  dlqEntryRoute,
  dlqReplayRoute,
  jobsRoute,
  connectorsRoute,
  lagRoute,
  keysRoute,
  createKeyRoute,
  revokeKeyRoute,
];

/** A dead letter belongs to the zones it is about ({@link deadLetterZones}); none = platform-wide. */
function letterScope(entry: DlqEntry): ItemScope {
  return { zones: deadLetterZones(entry) };
}

/** The dead letters `principal` may see, or undefined (all) for an unlimited key — no payload is decoded then. */
function letterVisibleTo(principal: Principal): ((entry: DlqEntry) => boolean) | undefined {
  return mayAccess(principal, PLATFORM_WIDE) ? undefined : (entry) => mayAccess(principal, letterScope(entry));
}

type JobRow = Record<string, unknown> & { details?: unknown };

/** A job run belongs to the zones its details name (`details.zones`); a run without them fetched for every zone. */
function jobScope(row: JobRow): ItemScope {
  const zones = (row.details as { zones?: unknown } | null | undefined)?.zones;
  return { zones: Array.isArray(zones) ? zones.filter((z): z is string => typeof z === 'string') : [] };
}

/**
 * The connectors page's gaps: the counts per state (platform-wide keys: of every gap; zone-limited keys: of the
 * open gaps of their zones) and the open gaps the key may see.
 */
function gapsBody(
  platform: boolean,
  totals: { readonly states: Record<GapState, number>; readonly requestsLastHour: number },
  open: readonly Gap[],
): z.input<typeof ConnectorsSchema>['gaps'] {
  const states = platform
    ? totals.states
    : (Object.fromEntries(GAP_STATES.map((s) => [s, open.filter((g) => g.state === s).length])) as Record<
        GapState,
        number
      >);
  return {
    states,
    requests_last_hour: platform ? totals.requestsLastHour : 0,
    open: open.slice(0, 100).map(gapBody),
  };
}

function withoutDetails(row: JobRow): Record<string, unknown> {
  const { details: _details, ...rest } = row;
  return rest;
}

/**
 * A key belongs to its zones and groups; a dimension it is not limited in names none, so only keys unlimited in
 * it see or revoke it (an unlimited key is platform-wide).
 */
function keyScope(key: ApiKeyRecord): ItemScope {
  return { zones: key.zones ?? [], groups: key.groups ?? [] };
}

/** A key as answered (arrays copied: the record's are read-only). */
function keyBody(k: ApiKeyRecord): ApiKeyRecord & { zones: string[] | null; groups: string[] | null } {
  return { ...k, zones: k.zones === null ? null : [...k.zones], groups: k.groups === null ? null : [...k.groups] };
}

/**
 * Up to `limit` rows `principal` may access, read page by page (`fetch(limit, offset)`, newest first) so that a
 * limited key still gets its `limit` newest runs; an unlimited key costs one query.
 */
async function scopedPages(
  principal: Principal,
  limit: number,
  fetch: (limit: number, offset: number) => Promise<JobRow[]>,
): Promise<JobRow[]> {
  if (mayAccess(principal, PLATFORM_WIDE)) return fetch(limit, 0);
  const out: JobRow[] = [];
  const page = 1000;
  for (let offset = 0; out.length < limit; offset += page) {
    const rows = await fetch(page, offset);
    out.push(...accessible(principal, rows, jobScope).slice(0, limit - out.length));
    if (rows.length < page) break;
  }
  return out;
}

function entryBody(e: DlqEntry, replays: Map<string, number>): z.input<typeof DlqEntrySchema> {
  return {
    topic: e.topic,
    partition: e.partition,
    offset: e.offset,
    timestamp: e.timestamp,
    letter: e.letter,
    invalid: e.invalid ?? null,
    replays: e.letter === null ? 0 : (replays.get(e.letter.id) ?? 0),
  };
}

/** Operator and admin endpoints: dead letters, jobs, connectors, consumer lag, API keys. */
export function adminRoutes(app: Hono<ApiEnv>, deps: AdminDeps): void {
  const { db, log } = deps;

  // For every key (not only operators): whether the platform is live or replaying bundled documents, so the
  // dashboard can say so.
  handle(app, statusRoute, async (c) => {
    const ingestion: z.infer<typeof StatusSchema>['ingestion'] = deps.connectorStatus?.().mode ?? 'unknown';
    const clock = deps.clock ?? liveClock();
    return {
      version: deps.version ?? null,
      ingestion,
      role: c.get('principal').role,
      public_read: deps.publicRead ?? false,
      // Null only while the demo clock has no replayed data to stand on.
      clock: await clock.now({ signal: c.req.raw.signal }).then(clockBody, () => null),
    };
  });

  // Who the key is: name, role and zones (the dashboard shows what the role allows).
  handle(app, meRoute, (c) => {
    const p = c.get('principal');
    return {
      key_id: p.keyId,
      name: p.name,
      role: p.role,
      zones: p.zones === null ? null : [...p.zones].sort(),
      // Only for a key limited to groups (a key without them answers as before).
      ...(p.groups === null ? {} : { groups: [...p.groups].sort() }),
    };
  });

  handle(app, dlqSummaryRoute, async (c) => ({
    topics: await summarizeDeadLetters(log, { visible: letterVisibleTo(c.get('principal')), signal: c.req.raw.signal }),
  }));

  handle(app, dlqEntriesRoute, async (c, { params, query: q }) => {
    const entries = await listDeadLetters(log, params.topic, {
      limit: q.limit,
      filter: {
        ...(q.reason === undefined ? {} : { reason: q.reason }),
        ...(q.source === undefined ? {} : { source: q.source }),
      },
      visible: letterVisibleTo(c.get('principal')),
      signal: c.req.raw.signal,
    });
    const replays = await replayCounts(
      db,
      entries.flatMap((e) => (e.letter === null ? [] : [e.letter.id])),
    );
    return { topic: params.topic, entries: entries.map((e) => entryBody(e, replays)) };
  });

  handle(app, dlqEntryRoute, async (c, { params: { topic, partition, offset } }) => {
    const entry = await showDeadLetter(log, topic, partition, offset);
    if (entry === undefined) throw new ApiError('api.not_found', `no record at ${topic}/${partition}/${offset}`);
    requireAccess(c.get('principal'), letterScope(entry), `the dead letter ${topic}/${partition}/${offset}`);
    const replays = await replayCounts(db, entry.letter === null ? [] : [entry.letter.id]);
    return entryBody(entry, replays);
  });

  handle(app, dlqReplayRoute, async (c, { params: { topic }, body }) => {
    const principal = c.get('principal');
    let entries: DlqEntry[];
    if (body.offsets !== undefined) {
      entries = [];
      for (const o of body.offsets) {
        const e = await showDeadLetter(log, topic, o.partition, o.offset);
        if (e === undefined) continue;
        // Refused as a whole before anything is replayed: no partial replay of a request that names others' letters.
        requireAccess(principal, letterScope(e), `the dead letter ${topic}/${o.partition}/${o.offset}`);
        entries.push(e);
      }
    } else {
      entries = await listDeadLetters(log, topic, {
        limit: 100_000,
        filter: body.reason === undefined ? {} : { reason: body.reason },
        visible: letterVisibleTo(principal),
      });
    }
    const result = await replayDeadLetters(log, entries, {
      ...(deps.refetch === undefined ? {} : { refetch: deps.refetch }),
      record: (e) => recordReplay(db, e),
      signal: c.req.raw.signal,
      ...(deps.readingRules === undefined ? {} : { readingRules: deps.readingRules }),
    });
    return { topic, selected: entries.length, replayed: result.replayed, failed: [...result.failed] };
  });

  handle(app, jobsRoute, async (c, { query: q }) => {
    const principal = c.get('principal');
    const runs = await scopedPages(principal, q.limit, async (limit, offset) => {
      const { rows } = await db.query<JobRow>(
        `SELECT id, job, window_start, window_end, status, started_at, finished_at, documents, points, errors, duration_ms, error,
           details
         FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC, id DESC LIMIT $2 OFFSET $3`,
        [q.job ?? null, limit, offset],
      );
      return rows;
    });
    return { runs: runs.map(withoutDetails) };
  });

  handle(app, connectorsRoute, async (c) => {
    const principal = c.get('principal');
    const [jobs, limits, leases, openGaps, gapTotals] = await Promise.all([
      db.query<JobRow>(
        `SELECT DISTINCT ON (job) job, status, started_at, finished_at, documents, points, errors, error, details
         FROM job_runs ORDER BY job, started_at DESC`,
      ),
      db.query(
        'SELECT key, tokens, capacity, refill_per_s, updated_at, banned_until FROM rate_limit_buckets ORDER BY key',
      ),
      db.query('SELECT name, holder, expires_at, acquired_at, renewed_at FROM leases ORDER BY name'),
      listGaps(
        db,
        {
          states: ['pending', 'backfilling', 'source_has_none'],
          // A zone-limited key's gaps are selected in the database: the limit must not be spent on other zones.
          ...(principal.zones === null ? {} : { zones: [...principal.zones] }),
          limit: 1000,
        },
        { signal: c.req.raw.signal },
      ),
      gapSummary(db, Date.now(), { signal: c.req.raw.signal }),
    ]);
    // Upstream rate limits, leader leases and the in-process connectors serve every zone: platform-wide.
    const platform = mayAccess(principal, PLATFORM_WIDE);
    return {
      jobs: accessible(principal, jobs.rows, jobScope).map(withoutDetails),
      rate_limits: platform ? limits.rows : [],
      leases: platform ? leases.rows : [],
      live: platform ? (deps.connectorStatus?.() ?? null) : null,
      gaps: gapsBody(
        platform,
        gapTotals,
        accessible(principal, openGaps, (g) => ({ zones: [g.zone] })),
      ),
      inputs:
        platform && deps.readiness !== undefined
          ? (await deps.readiness({ signal: c.req.raw.signal })).components
              .filter((x) => x.name.startsWith('ingest-'))
              .map((x) => ({ name: x.name, state: x.state, degraded: x.degraded }))
          : [],
    };
  });

  handle(app, lagRoute, async (c) => {
    const groups = [];
    // Consumer groups read every zone's records: their lag is platform-wide.
    const consumerGroups = mayAccess(c.get('principal'), PLATFORM_WIDE) ? deps.consumerGroups : [];
    for (const { group, topics } of consumerGroups) {
      for (const topic of topics) {
        const partitions = (await consumerLag(log, group, topic, { signal: c.req.raw.signal })).map((p) => ({
          partition: p.partition,
          end: p.end,
          committed: p.committed,
          lag: p.lag,
        }));
        groups.push({ group, topic, lag: partitions.reduce((n, p) => n + p.lag, 0), partitions });
      }
    }
    return { groups };
  });

  handle(app, keysRoute, async (c) => ({
    keys: accessible(c.get('principal'), await listApiKeys(db), keyScope).map(keyBody),
  }));

  handle(app, createKeyRoute, async (c, { body }) => {
    requireGrantable(c.get('principal'), { role: body.role, zones: body.zones ?? null, groups: body.groups ?? null });
    const { key, record } = await createApiKey(db, {
      name: body.name,
      role: body.role,
      zones: body.zones ?? null,
      groups: body.groups ?? null,
      rateLimitPerMinute: body.rate_limit_per_minute ?? null,
    });
    return {
      key,
      record: keyBody(record),
      note: 'the key is shown once; store it now',
    };
  });

  handle(app, revokeKeyRoute, async (c, { params: { id } }) => {
    const principal = c.get('principal');
    if (!mayAccess(principal, PLATFORM_WIDE)) {
      const target = (await listApiKeys(db)).find((k) => k.id === id && k.revokedAt === null);
      if (target === undefined) throw new ApiError('api.not_found', `no active key ${id}`);
      requireAccess(principal, keyScope(target), `the key ${id}`);
    }
    if (!(await revokeApiKey(db, id))) throw new ApiError('api.not_found', `no active key ${id}`);
    deps.permissions.verifier.invalidate(id);
    return c.body(null, 204);
  });
}
