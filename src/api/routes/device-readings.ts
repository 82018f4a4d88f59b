import type { Hono } from 'hono';
import { z } from 'zod';
import { MeterIdSchema } from '../../meters/index.ts';
import type { Db } from '../../storage/index.ts';
import { deviceReadings, meterValidities, recordMeterRead, storedDevice } from '../../storage/index.ts';
import { DAY_MS } from '../../time/index.ts';
import { PLATFORM_WIDE, mayAccess } from '../access-scope.ts';
import { ApiError } from '../errors.ts';
import { DATE_EXAMPLES, dateOrInstant, placeDate, positiveInt } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import { auditPrincipal } from './meter-readings.ts';

/** The longest range one device read spans (PMU values come many per second: ask for less). */
export const MAX_DEVICE_RANGE_DAYS = 31;

const isoInstant = z.string().meta({ example: '2026-10-24T10:00:00.020Z' });

export const deviceReadingsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/devices/{id}/readings',
  operationId: 'deviceReadings',
  summary:
    "A device's stored values of one quantity as they came (SCADA, PMU, a smart meter's instant values): no windows",
  description:
    'SCADA and PMU devices need no registry: their readings are stored per device and quantity and read here by keys ' +
    "without zone or group limits. A smart meter's instant values (power, voltage, frequency) are its meter data: " +
    'they follow the meter’s zone and group, and every read is audited like its readings.',
  access: 'reader',
  params: { id: MeterIdSchema.meta({ description: 'The device (or meter) id' }) },
  query: {
    quantity: z.string().min(1).max(60).meta({ description: 'The quantity, e.g. frequency, voltage, power' }),
    from: dateOrInstant.meta({ description: 'Start (a bare date: 00:00 UTC)', examples: DATE_EXAMPLES }),
    to: dateOrInstant.meta({ description: 'End, exclusive (a bare date: 00:00 UTC)', examples: DATE_EXAMPLES }),
    limit: positiveInt(100_000).default(10_000).meta({ description: 'Most values, oldest first' }),
  },
  response: z.object({
    device_id: z.string(),
    kind: z.string().meta({ description: 'smart_meter, scada or pmu' }),
    quantity: z.string(),
    quantities: z.array(z.string()).meta({ description: 'Every quantity the device has values of' }),
    points: z.array(
      z.object({
        ts: isoInstant.meta({ description: 'The instant, UTC' }),
        value: z.string().meta({ description: 'Exact decimal' }),
        recorded_at: isoInstant.nullable(),
      }),
    ),
  }),
  errors: [404],
});

export const DEVICE_READ_ROUTES: readonly RouteContract[] = [deviceReadingsRoute];

/** Device values without windows: SCADA and PMU readings, and smart meters' instant values (scoped and audited). */
export function deviceReadRoutes(app: Hono<ApiEnv>, deps: { readonly db: Db }): void {
  const { db } = deps;
  handle(app, deviceReadingsRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    if (principal.keyId === null)
      throw new ApiError('api.unauthorized', 'device data needs an API key', {
        headers: { 'www-authenticate': 'Bearer' },
      });
    const device = await storedDevice(db, id);
    const meter = (await meterValidities(db, id)).at(-1);
    // A registered meter follows its zone and group; other devices are platform-wide. 404 either way, so that
    // ids the key may not see do not leak.
    const visible =
      meter === undefined
        ? mayAccess(principal, PLATFORM_WIDE)
        : mayAccess(principal, { zones: [meter.zone], groups: [meter.group] });
    if (device === undefined || !visible) throw new ApiError('api.not_found', `no device ${id}`);
    const from = placeDate(q.from, 'UTC');
    const to = placeDate(q.to, 'UTC');
    if (to.getTime() - from.getTime() > MAX_DEVICE_RANGE_DAYS * DAY_MS)
      throw new ApiError('api.range_too_large', `the range may span at most ${MAX_DEVICE_RANGE_DAYS} days`, {
        param: 'to',
      });
    const points = await deviceReadings(db, { deviceId: id, quantity: q.quantity, from, to, limit: q.limit });
    if (meter !== undefined)
      await recordMeterRead(db, {
        principal: auditPrincipal(principal),
        path: 'api',
        meterId: id,
        from: from.getTime(),
        to: to.getTime(),
        detail: q.quantity,
      });
    return { device_id: id, kind: device.kind, quantity: q.quantity, quantities: [...device.quantities], points };
  });
}
