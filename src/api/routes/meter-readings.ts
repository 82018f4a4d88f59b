import type { Context, Hono } from 'hono';
import { z } from 'zod';
import { MeterGroupSchema, MeterIdSchema, MeterSchema } from '../../meters/index.ts';
import type { Db, MeterRegistryRow, MeterResolution, MeterWindow } from '../../storage/index.ts';
import {
  METER_QUALITIES,
  METER_QUANTITIES,
  METER_RESOLUTIONS,
  groupLoad,
  listMeterReads,
  listReadableMeters,
  meterGroupInfo,
  meterValidities,
  meterWatermark,
  meterWindows,
  readMeterAudited,
  METER_READ_LIMITS,
} from '../../storage/index.ts';
import { DAY_MS } from '../../time/index.ts';
import { PLATFORM_WIDE, mayAccess } from '../access-scope.ts';
import type { Principal } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import type { DateParam } from '../params.ts';
import { DATE_EXAMPLES, dateOrInstant, placeDate, positiveInt, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';

/** The longest range one request reads (about 13 months: a year with its neighbours' edges). */
export const MAX_METER_RANGE_DAYS = METER_READ_LIMITS.days;
/** The most points one answer holds. */
export const MAX_METER_POINTS = METER_READ_LIMITS.points;

const isoInstant = z.string().meta({ example: '2026-10-24T22:00:00Z' });

const PointSchema = z.object({
  ts: isoInstant.meta({ description: 'Window start, UTC' }),
  value: z
    .string()
    .nullable()
    .meta({ description: 'Exact decimal kWh (sum of the window); null: no slot of the window has a value' }),
  quality: z.enum(METER_QUALITIES).meta({
    description: 'Worst quality of the slots summed, in the order measured < substituted < estimated < missing',
  }),
  final: z.boolean().meta({ description: "The window ended at or before the meters job's watermark" }),
});

const SeriesHead = {
  quantity: z.enum(METER_QUANTITIES),
  unit: z.literal('kWh'),
  time_zone: z.string().meta({ description: 'The calendar of P1D and P1M windows' }),
  resolution: z.enum(METER_RESOLUTIONS),
  watermark: isoInstant.nullable().meta({ description: 'Windows ending at or before it are final; null: none is' }),
};

const MeterReadingsSchema = z.object({ meter_id: z.string(), ...SeriesHead, points: z.array(PointSchema) });

const GroupLoadSchema = z.object({
  group: z.string(),
  ...SeriesHead,
  points: z.array(PointSchema.extend({ count: z.number().int().meta({ description: 'Interval values summed' }) })),
});

const AuditRowSchema = z.object({
  id: z.number().int(),
  at: isoInstant,
  principal: z.string().meta({ description: '`key:<id>` or `cli:<os user>`' }),
  path: z.string(),
  meter_id: z.string(),
  from: isoInstant.nullable(),
  to: isoInstant.nullable(),
  detail: z.string().nullable(),
});

const rangeQuery = {
  from: dateOrInstant.meta({
    description: "Start of the range (a bare date is 00:00 in the meter's time zone); must start a window",
    examples: DATE_EXAMPLES,
  }),
  to: dateOrInstant.meta({ description: 'End of the range (exclusive); must end a window', examples: DATE_EXAMPLES }),
  resolution: z.enum(METER_RESOLUTIONS).default('PT15M').meta({
    description: 'Window: PT15M and PT1H on the UTC line; P1D and P1M on the local calendar (25 h days in autumn)',
  }),
  quantity: z.enum(METER_QUANTITIES).default('energy_import').meta({ description: 'Which energy' }),
};

export const readableMetersRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters',
  operationId: 'meters',
  summary: "Meters the key may read (zones and groups), by meter id: each meter's latest registry row",
  access: 'reader',
  query: {
    group: MeterGroupSchema.optional().meta({ description: 'Only meters of this group' }),
    zone: zoneCode.optional().meta({ description: 'Only meters of this zone' }),
    after: MeterIdSchema.optional().meta({ description: 'Only meters after this meter id (the next page)' }),
    limit: positiveInt(10_000).default(1000).meta({ description: 'Most meters' }),
  },
  response: z.object({ meters: z.array(MeterSchema) }),
});

const idParam = { id: MeterIdSchema.meta({ description: 'The meter id' }) };

export const meterRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}',
  operationId: 'meter',
  summary: "A meter's latest registry row (404 also for a meter the key may not see)",
  access: 'reader',
  params: idParam,
  query: {},
  response: MeterSchema,
  errors: [404],
});

export const meterReadingsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}/readings',
  operationId: 'meterReadings',
  summary: "A meter's energy per window, exact decimals with quality and finality; every read is audited",
  description:
    'Every window of [from, to) is listed: one without any value has value null and quality missing. Values are ' +
    `sums in exact decimals. At most ${MAX_METER_RANGE_DAYS} days and ${MAX_METER_POINTS} points (api.range_too_large).`,
  access: 'reader',
  params: idParam,
  query: rangeQuery,
  response: MeterReadingsSchema,
  errors: [404],
});

export const groupLoadRoute = defineRoute({
  method: 'get',
  path: '/api/v1/groups/{group}/load',
  operationId: 'groupLoad',
  summary: "A group's summed energy per window: emitted aggregates, or provisional sums of the stored intervals",
  access: 'reader',
  params: { group: MeterGroupSchema.meta({ description: 'The group' }) },
  query: rangeQuery,
  response: GroupLoadSchema,
  errors: [404],
});

export const meterReadAuditRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/audit/meter-reads',
  operationId: 'meterReadAudit',
  summary: "Who read which meter's data, newest first (keys without limits only)",
  access: 'admin',
  query: {
    meter: MeterIdSchema.optional().meta({ description: 'Only reads of this meter' }),
    principal: z.string().min(1).max(200).optional().meta({ description: 'Only reads by `key:<id>` or `cli:<user>`' }),
    from: dateOrInstant.optional().meta({ description: 'Reads at or after (bare date: UTC)', examples: DATE_EXAMPLES }),
    to: dateOrInstant.optional().meta({ description: 'Reads before (bare date: UTC)', examples: DATE_EXAMPLES }),
    limit: positiveInt(10_000).default(100).meta({ description: 'Most rows' }),
  },
  response: z.object({ reads: z.array(AuditRowSchema) }),
});

export const METER_READ_ROUTES: readonly RouteContract[] = [
  readableMetersRoute,
  meterRoute,
  meterReadingsRoute,
  groupLoadRoute,
  meterReadAuditRoute,
];

/**
 * Meter data is personal data: an anonymous caller (public read of grid data) never reads it, whatever the
 * deployment's public-read setting.
 */
function requireKey(principal: Principal): void {
  if (principal.keyId === null)
    throw new ApiError('api.unauthorized', 'meter data needs an API key', {
      headers: { 'www-authenticate': 'Bearer' },
    });
}

/** A meter is the key's iff its zone and its group pass {@link mayAccess}. */
function meterVisible(principal: Principal, row: Pick<MeterRegistryRow, 'zone' | 'group'>): boolean {
  return mayAccess(principal, { zones: [row.zone], groups: [row.group] });
}

/** The principal as the audit log names it. */
export function auditPrincipal(principal: Principal): string {
  return `key:${principal.keyId ?? 'anonymous'}`;
}

/** Minutes of a registry interval (`PT15M` → 15). */
function intervalMinutes(interval: string): number {
  return Number(/^PT(\d+)M$/.exec(interval)?.[1] ?? 15);
}

const RESOLUTION_MINUTES: Readonly<Record<MeterResolution, number>> = { PT15M: 15, PT1H: 60, P1D: 1440, P1M: 1440 };

/** The windows of a read, or the coded 400 that refuses it. */
function windowsOf(
  q: { from: DateParam; to: DateParam; resolution: MeterResolution },
  timeZone: string,
): { from: number; to: number; windows: MeterWindow[] } {
  const from = placeDate(q.from, timeZone).getTime();
  const to = placeDate(q.to, timeZone).getTime();
  if (to > from && to - from > MAX_METER_RANGE_DAYS * DAY_MS)
    throw new ApiError('api.range_too_large', `the range may span at most ${MAX_METER_RANGE_DAYS} days`, {
      param: 'to',
    });
  const result = meterWindows(from, to, q.resolution, timeZone, MAX_METER_POINTS);
  if ('refused' in result) {
    const { tooLarge, message, param } = result.refused;
    throw new ApiError(tooLarge ? 'api.range_too_large' : 'api.bad_request', message, { param });
  }
  return { from, to, windows: result.windows };
}

function finality(watermark: number | null): (end: number) => boolean {
  return (end) => watermark !== null && end <= watermark;
}

function isoOf(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString().replace('.000Z', 'Z');
}

/**
 * The meter read API: the meters a key may see, one meter, its readings per window (audited), a group's load, and
 * the audit log. A meter the key may not see is answered 404 like one that does not exist, so that meter ids of
 * other zones and groups do not leak.
 */
export function meterReadRoutes(app: Hono<ApiEnv>, deps: { readonly db: Db }): void {
  const { db } = deps;

  const visibleMeter = async (c: Context<ApiEnv>, id: string): Promise<MeterRegistryRow[]> => {
    const principal = c.get('principal');
    requireKey(principal);
    const validities = await meterValidities(db, id);
    const latest = validities.at(-1);
    if (latest === undefined || !meterVisible(principal, latest)) throw new ApiError('api.not_found', `no meter ${id}`);
    return validities;
  };

  handle(app, readableMetersRoute, async (c, { query: q }) => {
    const principal = c.get('principal');
    requireKey(principal);
    const meters = await listReadableMeters(db, {
      ...(q.group === undefined ? {} : { group: q.group }),
      ...(q.zone === undefined ? {} : { zone: q.zone }),
      ...(q.after === undefined ? {} : { after: q.after }),
      zones: principal.zones === null ? null : [...principal.zones],
      groups: principal.groups === null ? null : [...principal.groups],
      limit: q.limit,
    });
    return { meters: meters.map((m) => MeterSchema.parse(m)) };
  });

  handle(app, meterRoute, async (c, { params: { id } }) => {
    const latest = (await visibleMeter(c, id)).at(-1);
    if (latest === undefined) throw new ApiError('api.not_found', `no meter ${id}`);
    return MeterSchema.parse(latest);
  });

  handle(app, meterReadingsRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    const validities = await visibleMeter(c, id);
    const latest = validities.at(-1);
    if (latest === undefined) throw new ApiError('api.not_found', `no meter ${id}`);
    const { from, to, windows } = windowsOf(q, latest.time_zone);
    // Every validity the range touches must be the key's: a meter that moved from another group keeps that
    // group's past.
    const touched = validities.filter(
      (v) =>
        (v.valid_from === null || Date.parse(v.valid_from) < to) &&
        (v.valid_to === null || Date.parse(v.valid_to) > from),
    );
    if (!touched.every((v) => meterVisible(principal, v)))
      throw new ApiError(
        'api.forbidden',
        `part of the range of meter ${id} belongs to a zone or group the key may not read`,
      );
    const finest = Math.max(...touched.map((v) => intervalMinutes(v.interval)), 0);
    if (RESOLUTION_MINUTES[q.resolution] < finest)
      throw new ApiError(
        'api.bad_request',
        `meter ${id} reports every ${finest} minutes: ask for a coarser resolution`,
        {
          param: 'resolution',
        },
      );
    // Audited before answering: a read whose audit row cannot be written is not answered.
    const { points, watermark } = await readMeterAudited(
      db,
      { meterId: id, quantity: q.quantity, resolution: q.resolution, windows },
      { principal: auditPrincipal(principal), path: 'api', from, to },
    );
    return {
      meter_id: id,
      quantity: q.quantity,
      unit: 'kWh' as const,
      time_zone: latest.time_zone,
      resolution: q.resolution,
      watermark: isoOf(watermark),
      points: points.map((p) => ({ ts: p.ts, value: p.value, quality: p.quality, final: p.final })),
    };
  });

  handle(app, groupLoadRoute, async (c, { params: { group }, query: q }) => {
    const principal = c.get('principal');
    requireKey(principal);
    const info = await meterGroupInfo(db, group);
    if (info === undefined || !mayAccess(principal, { zones: info.zones, groups: [group] }))
      throw new ApiError('api.not_found', `no group ${group}`);
    const { windows } = windowsOf(q, info.timeZone);
    const points = await groupLoad(db, { group, quantity: q.quantity, resolution: q.resolution, windows });
    const watermark = await meterWatermark(db);
    const final = finality(watermark);
    return {
      group,
      quantity: q.quantity,
      unit: 'kWh' as const,
      time_zone: info.timeZone,
      resolution: q.resolution,
      watermark: isoOf(watermark),
      points: points.map((p) => ({
        ts: p.ts,
        value: p.value,
        quality: p.quality,
        final: final(p.end),
        count: p.count,
      })),
    };
  });

  handle(app, meterReadAuditRoute, async (c, { query: q }) => {
    // The log names meters of every zone and group: only a key without limits reads it.
    if (!mayAccess(c.get('principal'), PLATFORM_WIDE))
      throw new ApiError('api.forbidden', 'the meter-read audit log is for keys without zone or group limits');
    const reads = await listMeterReads(db, {
      ...(q.meter === undefined ? {} : { meterId: q.meter }),
      ...(q.principal === undefined ? {} : { principal: q.principal }),
      ...(q.from === undefined ? {} : { from: placeDate(q.from, 'UTC').getTime() }),
      ...(q.to === undefined ? {} : { to: placeDate(q.to, 'UTC').getTime() }),
      limit: q.limit,
    });
    return { reads };
  });
}
