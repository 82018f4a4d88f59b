import type { Hono } from 'hono';
import { z } from 'zod';
import type { Meter } from '../../meters/index.ts';
import {
  InstantSchema,
  MeterError,
  MeterChangesSchema,
  MeterGroupSchema,
  MeterIdSchema,
  MeterInputSchema,
  MeterPatchSchema,
  MeterSchema,
  exchangeMeter,
  insertMeter,
  listMeters,
  resolveMeter,
  updateMeter,
} from '../../meters/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import type { Db } from '../../storage/index.ts';
import { accessible, requireAccess } from '../access-scope.ts';
import type { Principal } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import { positiveInt, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';

export interface MeterRouteDeps {
  readonly db: Db;
  readonly reference: ReferenceData;
}

const MetersSchema = z.object({ meters: z.array(MeterSchema) });
const ExchangeSchema = z.object({ closed: MeterSchema, opened: MeterSchema });
const meterIdParam = { id: MeterIdSchema.meta({ description: 'The meter id' }) };

export const listMetersRoute = defineRoute({
  method: 'get',
  path: '/api/v1/admin/meters',
  operationId: 'listMeters',
  summary: "The meter registry: every validity of every meter in the key's zones, by meter id",
  access: 'operator',
  query: {
    group: MeterGroupSchema.optional().meta({ description: 'Only meters of this group' }),
    zone: zoneCode.optional().meta({ description: 'Only meters of this zone' }),
    meter_id: MeterIdSchema.optional().meta({ description: 'Only this meter (all its validities)' }),
    current: z.enum(['true', 'false']).optional().meta({ description: 'Only validities open now' }),
    after: MeterIdSchema.optional().meta({ description: 'Only meters after this meter id (the next page)' }),
    limit: positiveInt(10_000).default(1000).meta({ description: 'Most meters (each with all its validities)' }),
  },
  response: MetersSchema,
});

export const createMeterRoute = defineRoute({
  method: 'post',
  path: '/api/v1/admin/meters',
  operationId: 'createMeter',
  summary: "Register a meter (one validity); the time zone defaults to the zone's, the interval to PT15M",
  access: 'admin',
  query: {},
  body: MeterInputSchema,
  response: MeterSchema,
  status: 201,
  errors: [409],
});

export const updateMeterRoute = defineRoute({
  method: 'patch',
  path: '/api/v1/admin/meters/{id}',
  operationId: 'updateMeter',
  summary: 'Change fields of a validity of a meter (the latest unless valid_from names another); valid_to closes it',
  access: 'admin',
  params: meterIdParam,
  query: {
    valid_from: InstantSchema.optional().meta({ description: 'The validity to change (by its start)' }),
  },
  body: MeterPatchSchema,
  response: MeterSchema,
  errors: [404, 409],
});

export const exchangeMeterRoute = defineRoute({
  method: 'post',
  path: '/api/v1/admin/meters/{id}/exchange',
  operationId: 'exchangeMeter',
  summary: 'Meter exchange: close the validity open at `at` and open the next from `at` (fields given change)',
  access: 'admin',
  params: meterIdParam,
  query: {},
  body: MeterChangesSchema.extend({ at: InstantSchema.meta({ description: 'When the new device took over' }) }),
  response: ExchangeSchema,
  status: 201,
  errors: [404, 409],
});

export const METER_ROUTES: readonly RouteContract[] = [
  listMetersRoute,
  createMeterRoute,
  updateMeterRoute,
  exchangeMeterRoute,
];

/** A registry refusal as the API answers it: 400 naming the field, 409 for an overlap, 404 for no such row. */
function asApiError(error: unknown): unknown {
  if (!(error instanceof MeterError)) return error;
  switch (error.code) {
    case 'meters.invalid':
      return new ApiError('api.bad_request', error.message, {
        ...(error.field === undefined ? {} : { param: error.field }),
        cause: error,
      });
    case 'meters.overlap':
      return new ApiError('api.conflict', error.message, { cause: error });
    case 'meters.not_found':
      return new ApiError('api.not_found', error.message, { cause: error });
    default:
      return error.code satisfies never;
  }
}

async function answer<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw asApiError(error);
  }
}

/**
 * A meter belongs to its zone and its group: a key limited to zones or groups reads and changes only meters of
 * those. A change that leaves a field out keeps the row's value, which the check of the row before covers.
 */
function requireMeterAccess(principal: Principal, meter: Pick<Meter, 'zone' | 'meter_id'> & { group?: string }): void {
  requireAccess(
    principal,
    { zones: [meter.zone], ...(meter.group === undefined ? {} : { groups: [meter.group] }) },
    `meter ${meter.meter_id} (zone ${meter.zone}${meter.group === undefined ? '' : `, group ${meter.group}`})`,
  );
}

/** The zone or group a change moves a meter into must be the key's too (the one left out is checked on the row). */
function requireZoneAndGroup(principal: Principal, id: string, zone?: string, group?: string): void {
  if (zone !== undefined && principal.zones !== null && !principal.zones.has(zone))
    throw new ApiError('api.forbidden', `the API key may not move meter ${id} to zone ${zone}`, { param: 'zone' });
  if (group !== undefined && principal.groups !== null && !principal.groups.has(group))
    throw new ApiError('api.forbidden', `the API key may not move meter ${id} to group ${group}`, {
      param: 'group',
    });
}

/** Admin endpoints of the meter registry: list (operator), create, update and exchange (admin). */
export function meterRoutes(app: Hono<ApiEnv>, deps: MeterRouteDeps): void {
  const { db, reference } = deps;

  handle(app, listMetersRoute, async (c, { query: q }) => {
    const principal = c.get('principal');
    const page = (after: string | undefined): Promise<Meter[]> =>
      listMeters(db, {
        ...(q.group === undefined ? {} : { group: q.group }),
        ...(q.zone === undefined ? {} : { zone: q.zone }),
        ...(q.meter_id === undefined ? {} : { meterId: q.meter_id }),
        ...(after === undefined ? {} : { after }),
        zones: principal.zones === null ? null : [...principal.zones],
        current: q.current === 'true',
        limit: q.limit,
      });
    if (principal.groups === null) return { meters: await page(q.after) };
    // The registry's filter knows zones only: for a key limited to groups, pages are read on until `limit` meters
    // of its groups are found (or the registry ends), so that a short page still means the end.
    const out: Meter[] = [];
    const ids = new Set<string>();
    for (let after = q.after; ;) {
      const rows = await page(after);
      for (const m of accessible(principal, rows, (r) => ({ zones: [r.zone], groups: [r.group] }))) {
        if (!ids.has(m.meter_id) && ids.size === q.limit) break;
        ids.add(m.meter_id);
        out.push(m);
      }
      after = rows.at(-1)?.meter_id;
      if (ids.size >= q.limit || after === undefined || new Set(rows.map((r) => r.meter_id)).size < q.limit) break;
      c.req.raw.signal.throwIfAborted();
    }
    return { meters: out };
  });

  handle(app, createMeterRoute, (c, { body }) =>
    answer(async () => {
      const meter = resolveMeter(body, reference);
      requireMeterAccess(c.get('principal'), meter);
      await insertMeter(db, meter);
      return meter;
    }),
  );

  handle(app, updateMeterRoute, (c, { params: { id }, query: q, body }) =>
    answer(async () => {
      const principal = c.get('principal');
      if (body.zone !== undefined || body.group !== undefined)
        requireZoneAndGroup(principal, id, body.zone, body.group);
      const { after } = await updateMeter(db, reference, id, body, {
        ...(q.valid_from === undefined ? {} : { validFrom: q.valid_from }),
        check: (before) => {
          requireMeterAccess(principal, before);
        },
      });
      return after;
    }),
  );

  handle(app, exchangeMeterRoute, (c, { params: { id }, body }) =>
    answer(async () => {
      const principal = c.get('principal');
      const { at, ...changes } = body;
      return exchangeMeter(db, reference, id, at, changes, {
        check: (current, next) => {
          requireMeterAccess(principal, current);
          requireMeterAccess(principal, next);
        },
      });
    }),
  );
}
