import type { Hono } from 'hono';
import type { Gap } from '../../completeness/index.ts';
import { listGaps } from '../../completeness/index.ts';
import { z } from 'zod';
import type { ReferenceData } from '../../reference/index.ts';
import type { Db, SeriesData } from '../../storage/index.ts';
import { completeness, generationMix, querySeries, zoneCoverage } from '../../storage/index.ts';
import { HOUR_MS, SLOT_MS, addLocalDays, startOfLocalDay } from '../../time/index.ts';
import { ApiError } from '../errors.ts';
import { roundForUnit } from '../numbers.ts';
import type { DateParam } from '../params.ts';
import {
  DATE_EXAMPLES,
  checkRange,
  dateOrInstant,
  knownZone,
  metric,
  placeDate,
  productionTypeCodes,
  productionTypes,
  resolution,
  timeZoneParam,
  zoneCode,
} from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone, visibleZones } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import type { GapSchema } from '../schemas.ts';
import { CarbonIntensitySchema, CompletenessSchema, MixSchema, SeriesSchema, ZonesSchema } from '../schemas.ts';

/** Longest range per resolution (keeps any one answer to a few hundred thousand points at most). */
const MAX_DAYS = { PT15M: 93, PT1H: 400, P1D: 3700 } as const;

const DATES =
  'A bare date (`2025-10-21`) is 00:00 in the time zone of the zone asked for (or of `tz=`), at every resolution; `to` is exclusive.';
const from = dateOrInstant.meta({ description: `Start (inclusive). ${DATES}`, examples: DATE_EXAMPLES });
const to = dateOrInstant.meta({
  description: 'End (exclusive): a date or an ISO 8601 timestamp with offset',
  examples: ['2025-10-22', '2025-10-22T06:00:00Z'],
});

export const zonesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/zones',
  operationId: 'zones',
  summary: 'Zones with data, with their time zone, range and metrics',
  access: 'reader',
  query: {},
  response: ZonesSchema,
});

export const seriesRoute = defineRoute({
  method: 'get',
  path: '/api/v1/series',
  operationId: 'series',
  summary: 'Time series of one zone and metric, one or several production types',
  description: DATES,
  access: 'reader',
  query: {
    zone: zoneCode,
    metric,
    production_type: productionTypes.optional(),
    counterpart_zone: zoneCode
      .optional()
      .meta({ description: 'For flows and exchanges: the other zone (zone → counterpart)' }),
    qualifier: z.string().max(200).optional().meta({ description: 'e.g. sequence=1, contract=A01, factors=direct' }),
    from,
    to,
    tz: timeZoneParam.optional(),
    resolution: resolution.default('PT15M'),
    as_of: dateOrInstant
      .optional()
      .meta({ description: 'Values as known at this past moment (before later corrections)' }),
  },
  response: SeriesSchema,
  errors: [404],
});

export const carbonIntensityRoute = defineRoute({
  method: 'get',
  path: '/api/v1/carbon-intensity',
  operationId: 'carbonIntensity',
  summary: 'Carbon intensity (gCO2eq/kWh), production- or consumption-based (flow tracing)',
  description: DATES,
  access: 'reader',
  query: {
    zone: zoneCode,
    from,
    to,
    tz: timeZoneParam.optional(),
    basis: z
      .enum(['production', 'consumption'], { message: 'expected production or consumption' })
      .default('production')
      .meta({ description: 'production: of what the zone generates; consumption: of what it uses, imports traced' }),
    factors: z.enum(['lifecycle', 'direct'], { message: 'expected lifecycle or direct' }).default('lifecycle').meta({
      description: 'Emission factors: lifecycle (IPCC, with construction and fuel chain) or direct (burning)',
    }),
    resolution: resolution.default('PT15M'),
    source: z
      .enum(['gridstream', 'electricitymaps'], { message: 'expected gridstream or electricitymaps' })
      .default('gridstream')
      .meta({ description: "gridstream's computation or Electricity Maps' published figures" }),
  },
  response: CarbonIntensitySchema,
  errors: [404],
});

export const mixRoute = defineRoute({
  method: 'get',
  path: '/api/v1/mix',
  operationId: 'mix',
  summary: 'Generation mix of one 15-minute slot with shares (default: the latest slot)',
  description:
    '`at` off a slot boundary is snapped down to the slot that contains it, explicitly: the answer gives `slot` and `requested_at`. A bare date is 00:00 in the zone (or `tz=`).',
  access: 'reader',
  query: {
    zone: zoneCode,
    at: dateOrInstant.optional().meta({ description: 'A moment in the slot wanted (default: the latest slot)' }),
    tz: timeZoneParam.optional(),
  },
  response: MixSchema,
  errors: [404],
});

/** Gaps in one completeness answer at most (newest first); `gaps_truncated` says when the range holds more. */
const GAPS_LIMIT = 500;

export const completenessRoute = defineRoute({
  method: 'get',
  path: '/api/v1/completeness',
  operationId: 'completeness',
  summary: 'Expected vs present slots per metric and local day, and the gaps found with their self-healing state',
  description: `${DATES} \`gaps\`: ranges of expected slots (the expected-publication model) missing after their usual delay, and where their targeted backfill stands.`,
  access: 'reader',
  query: { zone: zoneCode, from, to, tz: timeZoneParam.optional(), metric: metric.optional() },
  response: CompletenessSchema,
  errors: [404],
});

export const DATA_ROUTES: readonly RouteContract[] = [
  zonesRoute,
  seriesRoute,
  carbonIntensityRoute,
  mixRoute,
  completenessRoute,
];

interface DataDeps {
  readonly db: Db;
  readonly reference: ReferenceData;
}

/** The read endpoints: zones, series, carbon intensity, generation mix, completeness. */
export function dataRoutes(app: Hono<ApiEnv>, deps: DataDeps): void {
  const { db, reference } = deps;
  // Zones with data, for telling an unknown zone from one that has nothing yet; a few seconds old at most.
  let known: { at: number; zones: Promise<readonly string[]> } | undefined;
  const zonesWithData = (): Promise<readonly string[]> => {
    if (known === undefined || Date.now() - known.at > 5_000) {
      known = { at: Date.now(), zones: zoneCoverage(db).then((c) => c.map((z) => z.zone)) };
    }
    return known.zones;
  };
  const timeZoneOf = (zone: string, tz: string | undefined): string =>
    tz ?? (reference.hasZone(zone) ? reference.zone(zone).timeZone : 'UTC');
  /** The zone (or a 404 with suggestions), the caller's right to it, and the time zone of its bare dates. */
  const zoneAndTimeZone = async (
    c: { get(k: 'principal'): ApiEnv['Variables']['principal'] },
    zone: string,
    tz?: string,
  ) => {
    await knownZone(reference, zone, zonesWithData);
    allowZone(c.get('principal'), zone);
    return timeZoneOf(zone, tz);
  };

  handle(app, zonesRoute, async (c) => {
    const coverage = visibleZones(c.get('principal'), await zoneCoverage(db, { signal: c.req.raw.signal }));
    return {
      zones: coverage.map((z) => {
        const area = reference.hasZone(z.zone) ? reference.zone(z.zone) : undefined;
        return {
          code: z.zone,
          name: area?.name ?? z.zone,
          country: area?.countries[0] ?? null,
          countries: [...(area?.countries ?? [])],
          area_type: area?.primaryType ?? null,
          time_zone: area?.timeZone ?? null,
          eic: area?.eic ?? null,
          first_slot: new Date(z.firstSlot).toISOString(),
          last_slot: new Date(z.lastSlot).toISOString(),
          metrics: [...z.metrics],
        };
      }),
    };
  });

  handle(app, seriesRoute, async (c, { query: q }) => {
    const timeZone = await zoneAndTimeZone(c, q.zone, q.tz);
    if (q.counterpart_zone !== undefined) {
      await knownZone(reference, q.counterpart_zone, zonesWithData, 'counterpart_zone');
      allowZone(c.get('principal'), q.counterpart_zone, 'counterpart_zone');
    }
    const range = bucketRange(q.from, q.to, q.resolution, timeZone);
    checkRange(range.from, range.to, MAX_DAYS[q.resolution]);
    const asOf = q.as_of === undefined ? undefined : placeDate(q.as_of, timeZone);
    const types = q.production_type === undefined ? undefined : productionTypeCodes(reference, q.production_type);
    const series = await querySeries(
      db,
      {
        zone: q.zone,
        metric: q.metric,
        ...(types === undefined ? {} : { productionTypes: types }),
        ...(q.counterpart_zone === undefined ? {} : { counterpartZone: q.counterpart_zone }),
        ...(q.qualifier === undefined ? {} : { qualifier: q.qualifier }),
        from: range.from,
        to: range.to,
        resolution: q.resolution,
        timeZone,
        ...(asOf === undefined ? {} : { asOf }),
      },
      { signal: c.req.raw.signal },
    );
    return {
      zone: q.zone,
      metric: q.metric,
      resolution: q.resolution,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      time_zone: timeZone,
      as_of: asOf?.toISOString() ?? null,
      series: series.map((s) => seriesBody(reference, s)),
    };
  });

  handle(app, carbonIntensityRoute, async (c, { query: q }) => {
    const timeZone = await zoneAndTimeZone(c, q.zone, q.tz);
    const range = bucketRange(q.from, q.to, q.resolution, timeZone);
    checkRange(range.from, range.to, MAX_DAYS[q.resolution]);
    const qualifier =
      q.source === 'gridstream' ? `factors=${q.factors}` : `factors=${q.factors};source=electricitymaps`;
    const [series] = await querySeries(
      db,
      {
        zone: q.zone,
        metric: q.basis === 'production' ? 'carbon_intensity_production' : 'carbon_intensity_consumption',
        qualifier,
        from: range.from,
        to: range.to,
        resolution: q.resolution,
        timeZone,
      },
      { signal: c.req.raw.signal },
    );
    return {
      zone: q.zone,
      basis: q.basis,
      factors: q.factors,
      source: q.source,
      resolution: q.resolution,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      time_zone: timeZone,
      unit: 'gCO2eq/kWh' as const,
      points: series === undefined ? [] : series.points.map((p) => pointBody(p, 'gCO2eq/kWh')),
    };
  });

  handle(app, mixRoute, async (c, { query: q }) => {
    const timeZone = await zoneAndTimeZone(c, q.zone, q.tz);
    const requested = q.at === undefined ? undefined : placeDate(q.at, timeZone);
    const slot = requested === undefined ? undefined : new Date(Math.floor(requested.getTime() / SLOT_MS) * SLOT_MS);
    const mix = await generationMix(db, q.zone, slot, { signal: c.req.raw.signal });
    if (mix === null)
      throw new ApiError(
        'api.not_found',
        `no generation data for ${q.zone}${slot === undefined ? '' : ` at ${slot.toISOString()}`}`,
      );
    return {
      zone: mix.zone,
      slot: new Date(mix.slot).toISOString(),
      requested_at:
        requested !== undefined && slot !== undefined && requested.getTime() !== slot.getTime()
          ? requested.toISOString()
          : null,
      unit: mix.unit,
      total: roundForUnit(mix.total, mix.unit),
      entries: mix.entries.map((e) => ({
        production_type: e.productionType,
        name: reference.hasProductionType(e.productionType)
          ? reference.productionType(e.productionType).name
          : e.productionType,
        category: reference.hasProductionType(e.productionType)
          ? reference.productionType(e.productionType).category
          : null,
        value: roundForUnit(e.value, mix.unit),
        share: roundForUnit(e.share, 'fraction'),
      })),
      missing: [...mix.missing],
    };
  });

  handle(app, completenessRoute, async (c, { query: q }) => {
    const timeZone = await zoneAndTimeZone(c, q.zone, q.tz);
    const range = { from: placeDate(q.from, timeZone), to: placeDate(q.to, timeZone) };
    checkRange(range.from, range.to, 400);
    const metrics = q.metric === undefined ? {} : { metrics: [q.metric] };
    const [rows, found] = await Promise.all([
      completeness(db, { zones: [q.zone], ...metrics, ...range, timeZone }, { signal: c.req.raw.signal }),
      listGaps(
        db,
        { zones: [q.zone], ...metrics, from: range.from.getTime(), to: range.to.getTime(), limit: GAPS_LIMIT + 1 },
        { signal: c.req.raw.signal },
      ),
    ]);
    return {
      zone: q.zone,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      time_zone: timeZone,
      gaps: found.slice(0, GAPS_LIMIT).map(gapBody),
      gaps_truncated: found.length > GAPS_LIMIT,
      days: rows.map((r) => ({
        metric: r.metric,
        day: r.day,
        expected_slots: r.expectedSlots,
        present_slots: r.presentSlots,
        series: r.series,
        expected_values: r.expectedValues,
        present_values: r.presentValues,
        completeness: r.expectedValues === 0 ? null : roundForUnit(r.presentValues / r.expectedValues, 'fraction'),
      })),
    };
  });
}

/** A stored gap as the API answers it (`GapSchema`). */
export function gapBody(g: Gap): z.input<typeof GapSchema> {
  const iso = (t: number | null): string | null => (t === null ? null : new Date(t).toISOString());
  const closed = g.state === 'filled' || g.state === 'source_has_none';
  return {
    source: g.source,
    metric: g.metric,
    zone: g.zone,
    resolution: g.resolution,
    start: new Date(g.start).toISOString(),
    end: new Date(g.end).toISOString(),
    slots: Math.round((g.end - g.start) / SLOT_MS),
    state: g.state,
    tries: g.tries,
    failures: g.failures,
    next_attempt_at: closed ? null : iso(g.nextAttemptAt),
    last_attempt_at: iso(g.lastAttemptAt),
    last_outcome: g.lastOutcome,
    detected_at: new Date(g.detectedAt).toISOString(),
    closed_at: iso(g.closedAt),
  };
}

/**
 * The range asked for, placed in the time zone (bare dates are local midnight), widened to whole buckets: PT1H to
 * whole UTC hours, P1D to whole local days of the zone (the days a user of a daily chart means, and what the
 * rollups hold).
 */
function bucketRange(
  fromParam: DateParam,
  toParam: DateParam,
  resolution: 'PT15M' | 'PT1H' | 'P1D',
  tz: string,
): { from: Date; to: Date } {
  const from = placeDate(fromParam, tz);
  const to = placeDate(toParam, tz);
  if (resolution === 'PT15M') return { from, to };
  if (resolution === 'PT1H') {
    return {
      from: new Date(Math.floor(from.getTime() / HOUR_MS) * HOUR_MS),
      to: new Date(Math.ceil(to.getTime() / HOUR_MS) * HOUR_MS),
    };
  }
  const start = startOfLocalDay(from.getTime(), tz);
  const endDay = startOfLocalDay(to.getTime(), tz);
  return { from: new Date(start), to: new Date(endDay === to.getTime() ? endDay : addLocalDays(endDay, tz, 1)) };
}

function pointBody(
  p: SeriesData['points'][number],
  unit: string,
): z.input<typeof SeriesSchema>['series'][number]['points'][number] {
  return {
    ts: p.ts,
    value: roundForUnit(p.value, unit),
    ...(p.flags.length === 0 ? {} : { flags: [...p.flags] }),
    ...(p.slots === p.expectedSlots ? {} : { slots: p.slots, expected_slots: p.expectedSlots }),
  };
}

function seriesBody(reference: ReferenceData, s: SeriesData): z.input<typeof SeriesSchema>['series'][number] {
  const type =
    s.productionType !== '' && reference.hasProductionType(s.productionType)
      ? reference.productionType(s.productionType)
      : undefined;
  return {
    production_type: s.productionType === '' ? null : s.productionType,
    production_type_name: type?.name ?? null,
    carbon_mode: type?.mode ?? null,
    counterpart_zone: s.counterpartZone === '' ? null : s.counterpartZone,
    qualifier: s.qualifier === '' ? null : s.qualifier,
    unit: s.unit,
    aggregation: s.aggregation,
    points: s.points.map((p) => pointBody(p, s.unit)),
  };
}
