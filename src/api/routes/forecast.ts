import type { Hono } from 'hono';
import { z } from 'zod';
import type { ForecastSlot, HorizonBucket } from '../../forecast/index.ts';
import { HISTORY_DAYS, HORIZON_BUCKETS, MAX_FORECAST_HOURS, backtest, zoneForecast } from '../../forecast/index.ts';
import type { ReferenceData } from '../../reference/index.ts';
import type { Db } from '../../storage/index.ts';
import { zoneCoverage } from '../../storage/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS } from '../../time/index.ts';
import type { Clock } from '../clock.ts';
import { clockBody } from '../clock.ts';
import { ApiError } from '../errors.ts';
import { roundForUnit } from '../numbers.ts';
import { checkRange, dateOrInstant, knownZone, placeDate, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import { ClockSchema } from '../schemas.ts';

const isoInstant = z.string().meta({ format: 'date-time' });
const OTHER_METHOD = `mean of the same quarter hour over the last ${HISTORY_DAYS} days`;

export const ForecastSchema = z
  .object({
    zone: z.string(),
    basis: z.literal('production'),
    unit: z.literal('gCO2eq/kWh'),
    factors: z.literal('lifecycle'),
    clock: ClockSchema,
    made_at: isoInstant.meta({
      description: "Issue time: the clock's now, or `from` when it is earlier (then only data known before it is used)",
    }),
    slots: z.array(
      z.object({
        start: isoInstant,
        end: isoInstant,
        value: z.number().meta({ description: 'Forecast production-based carbon intensity, gCO2eq/kWh' }),
        horizon_minutes: z.number().int().meta({ description: 'From made_at to the end of the slot' }),
        method: z.object({
          wind_solar: z.enum(['intraday', 'day-ahead', 'none']).meta({
            description:
              'Where wind and solar came from: the intraday forecast (A69 A40, preferred), the day-ahead one (A69 A01), or none (then from their 7-day mean like the other types)',
          }),
          other: z.string().meta({ description: 'How the other production types were made, with n = days averaged' }),
          scaled_to_load_forecast: z.boolean().meta({
            description: 'The other types were scaled so that total generation matches the day-ahead load forecast',
          }),
        }),
      }),
    ),
  })
  .meta({
    description: 'Example: the bundled offline demo (SE_4 at the demo clock).',
    examples: [
      {
        zone: 'SE_4',
        basis: 'production',
        unit: 'gCO2eq/kWh',
        factors: 'lifecycle',
        clock: { mode: 'demo', now: '2025-10-23T10:00:00.000Z', basis: 'latest complete replayed slot' },
        made_at: '2025-10-23T10:00:00.000Z',
        slots: [
          {
            start: '2025-10-23T10:00:00.000Z',
            end: '2025-10-23T10:15:00.000Z',
            value: 42.4,
            horizon_minutes: 15,
            method: { wind_solar: 'none', other: `${OTHER_METHOD} (n=2)`, scaled_to_load_forecast: false },
          },
        ],
      },
    ],
  });

export const ForecastAccuracySchema = z
  .object({
    zone: z.string(),
    from: isoInstant,
    to: isoInstant,
    method: z.string().meta({ description: 'How forecast against actual was recorded' }),
    issues: z.number().int().meta({ description: 'Forecasts issued (one per local midnight in the range)' }),
    rows: z.array(
      z.object({
        horizon: z.enum(HORIZON_BUCKETS.map((b) => b.name) as [HorizonBucket, ...HorizonBucket[]]),
        n: z.number().int().meta({ description: 'Slots compared' }),
        mae: z.number().meta({ description: 'Mean absolute error, gCO2eq/kWh' }),
        smape: z.number().meta({ description: 'Symmetric mean absolute percentage error, percent (0–200)' }),
        baseline: z.object({ name: z.literal('same slot yesterday'), mae: z.number(), smape: z.number() }),
      }),
    ),
  })
  .meta({
    description: 'Example: the bundled offline demo, SE_4 over the 30 days before the demo clock (2 of 4 rows).',
    examples: [
      {
        zone: 'SE_4',
        from: '2025-09-23T10:00:00.000Z',
        to: '2025-10-23T10:00:00.000Z',
        method: 'backtest',
        issues: 30,
        rows: [
          {
            horizon: '0-6h',
            n: 48,
            mae: 42.5,
            smape: 60.8,
            baseline: { name: 'same slot yesterday', mae: 40.1, smape: 56.15 },
          },
          {
            horizon: '24-48h',
            n: 92,
            mae: 43.9,
            smape: 70.15,
            baseline: { name: 'same slot yesterday', mae: 43.9, smape: 70.15 },
          },
        ],
      },
    ],
  });

const from = dateOrInstant.optional().meta({
  description: "First slot (default: the data clock's now); a bare date is 00:00 in the zone",
  examples: ['2025-10-23T10:00:00Z', '2025-10-22'],
});
const to = dateOrInstant.optional().meta({
  description: `End, exclusive (default: from + 24 h; at most ${MAX_FORECAST_HOURS} h after from)`,
  examples: ['2025-10-24T10:00:00Z'],
});

export const clockRoute = defineRoute({
  method: 'get',
  path: '/api/v1/clock',
  operationId: 'clock',
  summary: 'The data clock: the wall clock live, the latest complete replayed slot in the offline demo',
  access: 'reader',
  query: {},
  response: ClockSchema,
});

export const forecastRoute = defineRoute({
  method: 'get',
  path: '/api/v1/carbon-intensity/forecast',
  operationId: 'carbonIntensityForecast',
  summary: 'Production-based carbon-intensity forecast per 15-minute slot for the next 24–48 h',
  description: `Wind and solar from the ENTSO-E forecasts (intraday preferred over day-ahead), every other production type as the ${OTHER_METHOD} of actual generation, scaled to the day-ahead load forecast where there is one, lifecycle emission factors of the actuals. Only data known at made_at is used. 404 when nothing can be forecast.`,
  access: 'reader',
  query: { zone: zoneCode, from, to },
  response: ForecastSchema,
  errors: [404],
});

export const forecastAccuracyRoute = defineRoute({
  method: 'get',
  path: '/api/v1/carbon-intensity/forecast/accuracy',
  operationId: 'carbonIntensityForecastAccuracy',
  summary: 'Forecast against actual: MAE and sMAPE per horizon, against the baseline "same slot yesterday"',
  description:
    "A backtest over stored data: at every local midnight of the zone in [from, to) a forecast is issued for 48 h from what was known before it only (earlier actuals; forecasts issued before it, day-ahead ones from their 18:00 publication deadline), and compared with the stored actual production-based intensity. Defaults: the 30 days before the data clock's now; at most 93 days.",
  access: 'reader',
  query: {
    zone: zoneCode,
    from: dateOrInstant.optional().meta({ description: 'Start (default: to − 30 days)', examples: ['2025-10-20'] }),
    to: dateOrInstant
      .optional()
      .meta({ description: "End, exclusive (default: the data clock's now)", examples: ['2025-10-24'] }),
  },
  response: ForecastAccuracySchema,
  errors: [404],
});

export const FORECAST_ROUTES: readonly RouteContract[] = [clockRoute, forecastRoute, forecastAccuracyRoute];

interface ForecastDeps {
  readonly db: Db;
  readonly reference: ReferenceData;
  readonly clock: Clock;
}

function slotBody(s: ForecastSlot): z.input<typeof ForecastSchema>['slots'][number] {
  return {
    start: new Date(s.start).toISOString(),
    end: new Date(s.start + SLOT_MS).toISOString(),
    value: roundForUnit(s.value, 'gCO2eq/kWh'),
    horizon_minutes: s.horizonMinutes,
    method: {
      wind_solar: s.method.windSolar,
      other: s.method.otherDays === 0 ? 'none' : `${OTHER_METHOD} (n=${s.method.otherDays})`,
      scaled_to_load_forecast: s.method.scaledToLoadForecast,
    },
  };
}

/** The data clock, the carbon-intensity forecast and its accuracy. */
export function forecastRoutes(app: Hono<ApiEnv>, deps: ForecastDeps): void {
  const { db, reference, clock } = deps;
  /** A zone of the reference data (its time zone and emission factors are needed) the caller may read. */
  const forecastZone = async (principal: ApiEnv['Variables']['principal'], zone: string): Promise<string> => {
    await knownZone(reference, zone, async () => (await zoneCoverage(db)).map((z) => z.zone));
    allowZone(principal, zone);
    if (!reference.hasZone(zone))
      throw new ApiError('api.not_found', `no reference data (time zone, factors) for ${zone}`, { param: 'zone' });
    return reference.zone(zone).timeZone;
  };

  handle(app, clockRoute, async (c) => clockBody(await clock.now({ signal: c.req.raw.signal })));

  handle(app, forecastRoute, async (c, { query: q }) => {
    const timeZone = await forecastZone(c.get('principal'), q.zone);
    const now = await clock.now({ signal: c.req.raw.signal });
    const start = q.from === undefined ? now.now : placeDate(q.from, timeZone).getTime();
    const end = q.to === undefined ? start + 24 * HOUR_MS : placeDate(q.to, timeZone).getTime();
    checkRange(new Date(start), new Date(end), MAX_FORECAST_HOURS / 24);
    const madeAt = Math.floor(Math.min(now.now, start) / SLOT_MS) * SLOT_MS;
    const slots = await zoneForecast(
      db,
      reference,
      { zone: q.zone, madeAt, from: start, to: end },
      { signal: c.req.raw.signal },
    );
    if (slots.length === 0) {
      throw new ApiError(
        'api.not_found',
        `nothing to forecast for ${q.zone} from ${new Date(start).toISOString()}: no actual generation in the ${HISTORY_DAYS} days before ${new Date(madeAt).toISOString()} and no wind/solar forecast`,
      );
    }
    return {
      zone: q.zone,
      basis: 'production' as const,
      unit: 'gCO2eq/kWh' as const,
      factors: 'lifecycle' as const,
      clock: clockBody(now),
      made_at: new Date(madeAt).toISOString(),
      slots: slots.map(slotBody),
    };
  });

  handle(app, forecastAccuracyRoute, async (c, { query: q }) => {
    const timeZone = await forecastZone(c.get('principal'), q.zone);
    const end =
      q.to === undefined ? (await clock.now({ signal: c.req.raw.signal })).now : placeDate(q.to, timeZone).getTime();
    const start = q.from === undefined ? end - 30 * DAY_MS : placeDate(q.from, timeZone).getTime();
    checkRange(new Date(start), new Date(end), 93);
    const result = await backtest(db, reference, { zone: q.zone, from: start, to: end }, { signal: c.req.raw.signal });
    return {
      zone: q.zone,
      from: new Date(start).toISOString(),
      to: new Date(end).toISOString(),
      method: 'backtest',
      issues: result.issues.length,
      rows: result.rows.map((r) => ({
        horizon: r.horizon,
        n: r.n,
        mae: roundForUnit(r.mae, 'gCO2eq/kWh'),
        smape: roundForUnit(r.smape, '%'),
        baseline: {
          name: 'same slot yesterday' as const,
          mae: roundForUnit(r.baseline.mae, 'gCO2eq/kWh'),
          smape: roundForUnit(r.baseline.smape, '%'),
        },
      })),
    };
  });
}
