import type { Hono } from 'hono';
import { z } from 'zod';
import type { DlqEntry, Refetcher } from '../../dlq/index.ts';
import {
  DLQ_TOPIC_NAMES,
  listDeadLetters,
  recordReplay,
  replayCounts,
  replayDeadLetters,
  showDeadLetter,
  summarizeDeadLetters,
} from '../../dlq/index.ts';
import type { Log } from '../../log/index.ts';
import { consumerLag } from '../../log/index.ts';
import type { Db } from '../../storage/index.ts';
import { ROLES, createApiKey, listApiKeys, revokeApiKey } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import { positiveInt, queryOf, zoneCode } from '../params.ts';
import type { ApiEnv, Permissions } from '../permissions.ts';
import { requireRole } from '../permissions.ts';

export interface AdminDeps {
  readonly db: Db;
  readonly log: Log;
  readonly permissions: Permissions;
  /** Consumer groups to report lag for, with their input topics. */
  readonly consumerGroups: readonly { readonly group: string; readonly topics: readonly string[] }[];
  /** Re-fetches an ingestion dead letter (absent when this process has no upstream client). */
  readonly refetch?: Refetcher;
  /** Live status of in-process connectors (replay or polling), if this process runs the scheduler. */
  readonly connectorStatus?: () => Record<string, unknown>;
  readonly version?: string;
}

const dlqTopic = z.enum(DLQ_TOPIC_NAMES as [string, ...string[]], {
  message: `expected one of ${DLQ_TOPIC_NAMES.join(', ')}`,
});

function entryBody(e: DlqEntry, replays: Map<string, number>): Record<string, unknown> {
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
  app.get('/api/v1/status', (c) => {
    queryOf(c, {});
    const live = deps.connectorStatus?.() ?? null;
    return c.json({
      version: deps.version ?? null,
      ingestion: live === null ? 'unknown' : (live['mode'] ?? 'unknown'),
      role: c.get('principal').role,
    });
  });

  // Who the key is: name, role and zones (the dashboard shows what the role allows).
  app.get('/api/v1/me', (c) => {
    queryOf(c, {});
    const p = c.get('principal');
    return c.json({
      key_id: p.keyId,
      name: p.name,
      role: p.role,
      zones: p.zones === null ? null : [...p.zones].sort(),
    });
  });

  app.get('/api/v1/admin/dlq', async (c) => {
    requireRole(c.get('principal'), 'operator');
    queryOf(c, {});
    return c.json({ topics: await summarizeDeadLetters(log, { signal: c.req.raw.signal }) });
  });

  app.get('/api/v1/admin/dlq/:topic', async (c) => {
    requireRole(c.get('principal'), 'operator');
    const topic = parsePath(dlqTopic, c.req.param('topic'), 'topic');
    const q = queryOf(c, {
      reason: z.string().max(100).optional(),
      source: z.string().max(100).optional(),
      limit: positiveInt(1000).default(100),
    });
    const entries = await listDeadLetters(log, topic, {
      limit: q.limit,
      filter: {
        ...(q.reason === undefined ? {} : { reason: q.reason }),
        ...(q.source === undefined ? {} : { source: q.source }),
      },
      signal: c.req.raw.signal,
    });
    const replays = await replayCounts(
      db,
      entries.flatMap((e) => (e.letter === null ? [] : [e.letter.id])),
    );
    return c.json({ topic, entries: entries.map((e) => entryBody(e, replays)) });
  });

  app.get('/api/v1/admin/dlq/:topic/:partition/:offset', async (c) => {
    requireRole(c.get('principal'), 'operator');
    queryOf(c, {});
    const topic = parsePath(dlqTopic, c.req.param('topic'), 'topic');
    const partition = parsePath(positiveInt(10_000), c.req.param('partition'), 'partition');
    const offset = parsePath(positiveInt(Number.MAX_SAFE_INTEGER), c.req.param('offset'), 'offset');
    const entry = await showDeadLetter(log, topic, partition, offset);
    if (entry === undefined) throw new ApiError('not_found', `no record at ${topic}/${partition}/${offset}`);
    const replays = await replayCounts(db, entry.letter === null ? [] : [entry.letter.id]);
    return c.json(entryBody(entry, replays));
  });

  app.post('/api/v1/admin/dlq/:topic/replay', async (c) => {
    requireRole(c.get('principal'), 'operator');
    queryOf(c, {});
    const topic = parsePath(dlqTopic, c.req.param('topic'), 'topic');
    const body = z
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
      )
      .safeParse(await c.req.json().catch(() => null));
    if (!body.success)
      throw new ApiError('bad_request', `body: ${body.error.issues[0]?.message ?? 'invalid'}`, { param: 'body' });
    let entries: DlqEntry[];
    if (body.data.offsets !== undefined) {
      entries = [];
      for (const o of body.data.offsets) {
        const e = await showDeadLetter(log, topic, o.partition, o.offset);
        if (e !== undefined) entries.push(e);
      }
    } else {
      entries = await listDeadLetters(log, topic, {
        limit: 100_000,
        filter: body.data.reason === undefined ? {} : { reason: body.data.reason },
      });
    }
    const result = await replayDeadLetters(log, entries, {
      ...(deps.refetch === undefined ? {} : { refetch: deps.refetch }),
      record: (e) => recordReplay(db, e),
      signal: c.req.raw.signal,
    });
    return c.json({ topic, selected: entries.length, replayed: result.replayed, failed: result.failed });
  });

  app.get('/api/v1/admin/jobs', async (c) => {
    requireRole(c.get('principal'), 'operator');
    const q = queryOf(c, { job: z.string().max(200).optional(), limit: positiveInt(1000).default(100) });
    const { rows } = await db.query(
      `SELECT id, job, window_start, window_end, status, started_at, finished_at, documents, points, errors, duration_ms, error
       FROM job_runs WHERE ($1::text IS NULL OR job = $1) ORDER BY started_at DESC LIMIT $2`,
      [q.job ?? null, q.limit],
    );
    return c.json({ runs: rows });
  });

  app.get('/api/v1/admin/connectors', async (c) => {
    requireRole(c.get('principal'), 'operator');
    queryOf(c, {});
    const [jobs, limits, leases] = await Promise.all([
      db.query(
        `SELECT DISTINCT ON (job) job, status, started_at, finished_at, documents, points, errors, error
         FROM job_runs ORDER BY job, started_at DESC`,
      ),
      db.query(
        'SELECT key, tokens, capacity, refill_per_s, updated_at, banned_until FROM rate_limit_buckets ORDER BY key',
      ),
      db.query('SELECT name, holder, expires_at, acquired_at, renewed_at FROM leases ORDER BY name'),
    ]);
    return c.json({
      jobs: jobs.rows,
      rate_limits: limits.rows,
      leases: leases.rows,
      live: deps.connectorStatus?.() ?? null,
    });
  });

  app.get('/api/v1/admin/lag', async (c) => {
    requireRole(c.get('principal'), 'operator');
    queryOf(c, {});
    const groups = [];
    for (const { group, topics } of deps.consumerGroups) {
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
    return c.json({ groups });
  });

  app.get('/api/v1/admin/keys', async (c) => {
    requireRole(c.get('principal'), 'admin');
    queryOf(c, {});
    return c.json({ keys: await listApiKeys(db) });
  });

  app.post('/api/v1/admin/keys', async (c) => {
    requireRole(c.get('principal'), 'admin');
    queryOf(c, {});
    const body = z
      .object({
        name: z.string().min(1).max(200),
        role: z.enum(ROLES),
        zones: z.array(zoneCode).max(200).nullable().optional(),
        rate_limit_per_minute: z.number().int().positive().max(1_000_000).nullable().optional(),
      })
      .safeParse(await c.req.json().catch(() => null));
    if (!body.success) {
      const issue = body.error.issues[0];
      throw new ApiError('bad_request', `body.${String(issue?.path[0] ?? '')}: ${issue?.message ?? 'invalid'}`, {
        param: String(issue?.path[0] ?? 'body'),
      });
    }
    const { key, record } = await createApiKey(db, {
      name: body.data.name,
      role: body.data.role,
      zones: body.data.zones ?? null,
      rateLimitPerMinute: body.data.rate_limit_per_minute ?? null,
    });
    return c.json({ key, record, note: 'the key is shown once; store it now' }, 201);
  });

  app.delete('/api/v1/admin/keys/:id', async (c) => {
    requireRole(c.get('principal'), 'admin');
    queryOf(c, {});
    const id = c.req.param('id');
    if (!(await revokeApiKey(db, id))) throw new ApiError('not_found', `no active key ${id}`);
    deps.permissions.verifier.invalidate(id);
    return c.body(null, 204);
  });
}

function parsePath<T>(schema: z.ZodType<T>, value: string, name: string): T {
  const r = schema.safeParse(value);
  if (!r.success)
    throw new ApiError('bad_request', `path parameter "${name}": ${r.error.issues[0]?.message ?? 'invalid'}`, {
      param: name,
    });
  return r.data;
}
