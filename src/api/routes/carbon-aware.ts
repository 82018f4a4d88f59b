import type { Hono } from 'hono';
import { z } from 'zod';
import type { ReferenceData } from '../../reference/index.ts';
import type { Db } from '../../storage/index.ts';
import { latestSlots, querySeries, zoneCoverage } from '../../storage/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS, parseResolution } from '../../time/index.ts';
import type { IntensitySlot, ScoredWindow } from '../best-window.ts';
import { ceilToSlot, floorToSlot, savingOf, searchWindows } from '../best-window.ts';
import { ApiError } from '../errors.ts';
import { roundForUnit } from '../numbers.ts';
import { dateOrInstant, knownZone, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';

/** Most zones per request. */
export const MAX_WINDOW_ZONES = 10;
/** Longest range `[earliest, latest]`. */
export const MAX_WINDOW_RANGE_DAYS = 31;
/** Most windows per zone. */
export const MAX_WINDOW_TOP = 100;

/**
 * The forecast port: the carbon intensity (production basis, lifecycle factors, gCO2eq/kWh) a forecast gives each
 * 15-minute slot of `[from, to)` of `zone` (UTC ms). Slots it has no forecast for are left out (an empty list when
 * it has none at all); slots outside `[from, to)` or off a quarter hour are ignored. Only slots after the newest
 * stored actual are asked for. A throw fails the request (503 when the error is retryable, else 500).
 */
export type IntensityForecast = (
  zone: string,
  from: number,
  to: number,
  options?: { readonly signal?: AbortSignal },
) => Promise<readonly IntensitySlot[]>;

/** The data clock an answer carries and whose `now` is the default `earliest`. */
export interface ClockReading {
  readonly mode: 'live' | 'demo';
  /** An ISO 8601 instant or UTC ms. */
  readonly now: string | number;
  readonly basis: string;
}

/** Where the best-window route gets "now" and future slots. */
export interface CarbonAwarePorts {
  /** @default the wall clock: `{ mode: 'live', now: Date.now(), basis: 'wall clock' }` */
  readonly clock?: () => Promise<ClockReading>;
  /** @default none: only stored actuals are searched */
  readonly forecast?: IntensityForecast;
}

/** The last instant a range may reach: the end of 9998 (a window's slots are read as timestamps up to 9999). */
const LAST_INSTANT = Date.UTC(9999, 0, 1);

const wallClock = (): Promise<ClockReading> => Promise.resolve({ mode: 'live', now: Date.now(), basis: 'wall clock' });

const instant = dateOrInstant.refine((d) => d.kind === 'instant', {
  message: 'expected an ISO 8601 timestamp with an offset (…Z or …+02:00): a bare date has no one time zone here',
});

const zones = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(
    z
      .array(zoneCode)
      .min(1, 'expected at least one zone')
      .max(MAX_WINDOW_ZONES, `at most ${MAX_WINDOW_ZONES} zones per request`)
      .refine((list) => new Set(list).size === list.length, 'names a zone twice'),
  )
  .meta({ description: `Comma-separated zone codes (at most ${MAX_WINDOW_ZONES})`, examples: ['DE_LU,FR', 'FI'] });

const duration = z
  .string()
  .max(40)
  .transform((s, ctx) => {
    const r = /^PT(?=\d)(\d+H)?(\d+M)?$/.test(s) ? parseResolution(s) : undefined;
    if (r === undefined || r.kind !== 'fixed') {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 duration in hours and minutes such as PT2H' });
      return z.NEVER;
    }
    if (r.ms % SLOT_MS !== 0) {
      ctx.addIssue({ code: 'custom', message: 'must be a whole number of 15-minute slots (PT15M, PT1H, PT2H45M…)' });
      return z.NEVER;
    }
    return { text: s, ms: r.ms };
  })
  .meta({
    description:
      "The job's run time, an ISO 8601 duration that is a whole number of quarter hours (at most latest − earliest)",
    examples: ['PT2H', 'PT15M', 'PT1H45M'],
  });

const isoOrNull = z.string().nullable();
const DataKind = z
  .enum(['actual', 'forecast', 'actual+forecast'])
  .meta({ description: 'Where the slots come from: stored actuals, the forecast, or both' });
const SavingSchema = z
  .object({
    g_per_kwh: z.number().meta({ description: 'Mean intensity of the window at `earliest` minus this one' }),
    percent: z.number().nullable().meta({ description: 'That difference in % of the mean at `earliest`' }),
  })
  .nullable()
  .meta({ description: 'Against starting at the first start; null when that window misses a slot' });

/**
 * The documented example: the answer to {@link BEST_WINDOW_EXAMPLE_QUERY} on the bundled ENTSO-E document
 * `A75_LU_PT15M_A01_2024-05-21.xml` (a past range, so actuals only), read on the wall clock at `clock.now`.
 * `test/api/carbon-aware.test.ts` asserts that the API gives exactly this answer.
 */
export const BEST_WINDOW_EXAMPLE_QUERY =
  'zones=LU&duration=PT2H&earliest=2024-05-21T10:00:00Z&latest=2024-05-22T10:00:00Z&top=1';
export const BEST_WINDOW_EXAMPLE = {
  clock: { mode: 'live', now: '2026-12-06T10:00:00.000Z', basis: 'wall clock' },
  basis: 'production',
  factors: 'lifecycle',
  unit: 'gCO2eq/kWh',
  duration: 'PT2H',
  earliest: '2024-05-21T10:00:00.000Z',
  latest: '2024-05-22T10:00:00.000Z',
  zones: [
    {
      zone: 'LU',
      data: 'actual',
      actual_until: '2024-05-24T10:00:00.000Z',
      slots: { actual: 96, forecast: 0, missing: 0 },
      candidates: { fitting: 89, complete: 89 },
      earliest_start: { start: '2024-05-21T10:00:00.000Z', end: '2024-05-21T12:00:00.000Z', mean_intensity: 123.3 },
      windows: [
        {
          start: '2024-05-22T02:00:00.000Z',
          end: '2024-05-22T04:00:00.000Z',
          mean_intensity: 79.4,
          data: 'actual',
          saving: { g_per_kwh: 43.9, percent: 35.59 },
        },
      ],
    },
  ],
} as const;

export const BestWindowSchema = z
  .object({
    clock: z
      .object({ mode: z.enum(['live', 'demo']), now: z.string(), basis: z.string() })
      .meta({ description: 'The data clock whose `now` is the default `earliest`' }),
    basis: z.enum(['production', 'consumption']),
    factors: z.enum(['lifecycle', 'direct']),
    unit: z.literal('gCO2eq/kWh'),
    duration: z.string(),
    earliest: z.string(),
    latest: z.string(),
    zones: z.array(
      z.object({
        zone: z.string(),
        data: DataKind,
        actual_until: isoOrNull.meta({ description: 'End of the newest stored actual slot of the zone (any range)' }),
        slots: z
          .object({ actual: z.number().int(), forecast: z.number().int(), missing: z.number().int() })
          .meta({ description: 'Slots of the searched range by where their value comes from' }),
        candidates: z.object({
          fitting: z.number().int().meta({ description: 'Quarter-hour starts whose window fits in the range' }),
          complete: z.number().int().meta({ description: 'Of those, windows without a missing slot (scored)' }),
        }),
        earliest_start: z
          .object({ start: z.string(), end: z.string(), mean_intensity: z.number().nullable() })
          .meta({ description: 'The window at the first start (run now); mean null when it misses a slot' }),
        windows: z.array(
          z.object({
            start: z.string(),
            end: z.string(),
            mean_intensity: z.number(),
            data: DataKind,
            saving: SavingSchema,
          }),
        ),
      }),
    ),
  })
  .meta({ examples: [BEST_WINDOW_EXAMPLE] });

const SEMANTICS = [
  'Candidate starts are the quarter hours from the first one at or after `earliest` whose window `[start, start + duration)` ends at or before `latest` (UTC: DST changes play no part).',
  "A window's score is the time-weighted mean of its 15-minute intensities; a window missing any slot is not a candidate.",
  'Per zone: the best `top` windows (lowest mean, ties to the earliest start) and the saving against starting at the first start.',
  'Stored actuals are used up to the newest one; later slots come from the forecast (production basis, lifecycle factors) where the server has one. `data` says which.',
  '422 when a zone has no data for the basis in the range (`api.no_data`) or no window without a gap (`api.no_complete_window`).',
  `The example answer is the one to \`?${BEST_WINDOW_EXAMPLE_QUERY}\` on the bundled ENTSO-E document A75_LU_PT15M_A01_2024-05-21.xml.`,
].join(' ');

export const bestWindowRoute = defineRoute({
  method: 'get',
  path: '/api/v1/carbon-aware/best-window',
  operationId: 'bestWindow',
  summary: 'The best time to run a job of a given duration: the windows with the lowest carbon intensity per zone',
  description: SEMANTICS,
  access: 'reader',
  query: {
    zones,
    duration,
    earliest: instant.optional().meta({
      description: 'No window starts before this (default: the data clock now); off a quarter hour, the next one',
      examples: ['2024-05-21T10:00:00Z', '2024-05-21T12:00:00+02:00'],
    }),
    latest: instant.optional().meta({
      description: `No window ends after this (default: earliest + 24 h; at most ${MAX_WINDOW_RANGE_DAYS} days after earliest)`,
      examples: ['2024-05-22T10:00:00Z'],
    }),
    basis: z
      .enum(['production', 'consumption'], { message: 'expected production or consumption' })
      .default('production')
      .meta({ description: 'production: of what the zone generates; consumption: of what it uses, imports traced' }),
    factors: z
      .enum(['lifecycle', 'direct'], { message: 'expected lifecycle or direct' })
      .default('lifecycle')
      .meta({ description: 'Emission factors: lifecycle (IPCC, with construction and fuel chain) or direct' }),
    top: z.coerce
      .number({ message: 'expected a number' })
      .int('expected a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_WINDOW_TOP, `must be at most ${MAX_WINDOW_TOP}`)
      .default(3)
      .meta({ description: 'Windows per zone, best first', examples: [3] }),
  },
  response: BestWindowSchema,
  errors: [404, 422],
});

export const CARBON_AWARE_ROUTES: readonly RouteContract[] = [bestWindowRoute];

interface CarbonAwareDeps extends CarbonAwarePorts {
  readonly db: Db;
  readonly reference: ReferenceData;
}

type Kind = z.infer<typeof DataKind>;
const kindOf = (actual: number, forecast: number): Kind =>
  actual > 0 && forecast > 0 ? 'actual+forecast' : forecast > 0 ? 'forecast' : 'actual';
const iso = (t: number): string => new Date(t).toISOString();
const bad = (param: string, detail: string): ApiError => new ApiError('api.bad_request', detail, { param });

/** `GET /api/v1/carbon-aware/best-window`: the carbon-aware SDK's best window, on stored actuals and forecasts. */
export function carbonAwareRoutes(app: Hono<ApiEnv>, deps: CarbonAwareDeps): void {
  const { db, reference } = deps;
  const clock = deps.clock ?? wallClock;

  handle(app, bestWindowRoute, async (c, { query: q }) => {
    const signal = c.req.raw.signal;
    let withData: Promise<readonly string[]> | undefined;
    const zonesWithData = () => (withData ??= zoneCoverage(db, { signal }).then((cov) => cov.map((z) => z.zone)));
    for (const zone of q.zones) {
      await knownZone(reference, zone, zonesWithData, 'zones');
      allowZone(c.get('principal'), zone, 'zones');
    }
    const reading = await clock();
    const now = typeof reading.now === 'number' ? reading.now : Date.parse(reading.now);
    if (!Number.isFinite(now)) throw new Error(`the clock gave no instant: ${String(reading.now)}`);
    const earliest = q.earliest?.kind === 'instant' ? q.earliest.at.getTime() : now;
    const latest = q.latest?.kind === 'instant' ? q.latest.at.getTime() : earliest + 24 * HOUR_MS;
    // The database's timestamps end with the year 9999 (and a default latest is a day after earliest).
    if (earliest < 0 || earliest >= LAST_INSTANT) throw bad('earliest', 'parameter "earliest" must lie in 1970–9998');
    if (latest < 0 || latest > LAST_INSTANT) throw bad('latest', 'parameter "latest" must lie in 1970–9998');
    if (latest <= earliest) throw bad('latest', 'parameter "latest" must be after "earliest"');
    if (latest - earliest > MAX_WINDOW_RANGE_DAYS * DAY_MS)
      throw bad('latest', `parameter "latest": at most ${MAX_WINDOW_RANGE_DAYS} days after earliest`);
    if (q.duration.ms > latest - earliest)
      throw bad('duration', 'parameter "duration" is longer than the range from earliest to latest');
    const metric = q.basis === 'production' ? 'carbon_intensity_production' : 'carbon_intensity_consumption';
    const qualifier = `factors=${q.factors}`;
    const forecast = q.basis === 'production' && q.factors === 'lifecycle' ? deps.forecast : undefined;
    const search = { earliest, latest, durationMs: q.duration.ms, top: q.top };
    const firstStart = ceilToSlot(earliest);
    const lastEnd = floorToSlot(latest);
    if (firstStart + q.duration.ms > lastEnd)
      throw bad(
        'latest',
        `parameter "latest": no window of ${q.duration.text} on quarter hours fits between ${iso(firstStart)} (the first quarter hour at or after earliest) and latest`,
      );

    const answers = [];
    const empty: string[] = [];
    const gappy: string[] = [];
    for (const zone of q.zones) {
      const [series] = await querySeries(
        db,
        { zone, metric, qualifier, from: iso(firstStart), to: iso(lastEnd), resolution: 'PT15M' },
        { signal },
      );
      const [newest] = await latestSlots(db, { metrics: [metric], zones: [zone], qualifiers: [qualifier] }, { signal });
      // Actuals are known up to the clock's now: in the offline demo a zone's replayed data may run past the data
      // clock, and advice "for the next 24 h" must not be read off values that are still to come.
      const actualUntil = newest === undefined ? null : Math.min(Date.parse(newest.slot) + SLOT_MS, now);
      const actual: IntensitySlot[] = (series?.points ?? [])
        .map((p) => ({ start: Date.parse(p.ts), value: p.value }))
        .filter((s) => actualUntil !== null && s.start + SLOT_MS <= actualUntil);
      const forecastFrom = Math.max(firstStart, actualUntil ?? firstStart);
      const predicted =
        forecast === undefined || forecastFrom >= lastEnd
          ? []
          : (await forecast(zone, forecastFrom, lastEnd, { signal })).filter(
              (s) =>
                s.start >= forecastFrom && s.start < lastEnd && s.start % SLOT_MS === 0 && Number.isFinite(s.value),
            );
      const forecastStarts = new Set(predicted.map((s) => s.start));
      const slots = [...actual, ...predicted];
      const span = Math.max(0, (lastEnd - firstStart) / SLOT_MS);
      const present = new Set(slots.map((s) => s.start)).size;
      if (present === 0) {
        empty.push(zone);
        continue;
      }
      const result = searchWindows(slots, search);
      if (result.windows.length === 0) {
        gappy.push(zone);
        continue;
      }
      const windowKind = (w: ScoredWindow): Kind => {
        let fromForecast = 0;
        for (let t = w.start; t < w.end; t += SLOT_MS) if (forecastStarts.has(t)) fromForecast++;
        return kindOf((w.end - w.start) / SLOT_MS - fromForecast, fromForecast);
      };
      answers.push({
        zone,
        data: kindOf(present - forecastStarts.size, forecastStarts.size),
        actual_until: actualUntil === null ? null : iso(actualUntil),
        slots: { actual: present - forecastStarts.size, forecast: forecastStarts.size, missing: span - present },
        candidates: { fitting: result.candidates, complete: result.complete },
        earliest_start: {
          start: iso(result.firstStart),
          end: iso(result.firstStart + q.duration.ms),
          mean_intensity: result.atEarliest === null ? null : roundForUnit(result.atEarliest.mean, 'gCO2eq/kWh'),
        },
        windows: result.windows.map((w) => {
          const saving = savingOf(result.atEarliest, w);
          return {
            start: iso(w.start),
            end: iso(w.end),
            mean_intensity: roundForUnit(w.mean, 'gCO2eq/kWh'),
            data: windowKind(w),
            saving:
              saving === null
                ? null
                : {
                    g_per_kwh: roundForUnit(saving.gPerKwh, 'gCO2eq/kWh'),
                    percent: saving.percent === null ? null : roundForUnit(saving.percent, '%'),
                  },
          };
        }),
      });
    }
    if (empty.length > 0)
      throw new ApiError(
        'api.no_data',
        `no ${q.basis}-based carbon intensity (factors=${q.factors}) from ${iso(earliest)} to ${iso(latest)} for ${empty.join(', ')}${forecast === undefined ? '' : ' (stored or forecast)'}`,
        { param: 'zones' },
      );
    if (gappy.length > 0)
      throw new ApiError(
        'api.no_complete_window',
        `no window of ${q.duration.text} without a missing slot from ${iso(earliest)} to ${iso(latest)} for ${gappy.join(', ')}`,
        { param: 'zones' },
      );
    return {
      clock: { mode: reading.mode, now: iso(now), basis: reading.basis },
      basis: q.basis,
      factors: q.factors,
      unit: 'gCO2eq/kWh' as const,
      duration: q.duration.text,
      earliest: iso(earliest),
      latest: iso(latest),
      zones: answers,
    };
  });
}
