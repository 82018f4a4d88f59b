import type { Hono } from 'hono';
import { z } from 'zod';
import type { ReferenceData } from '../../reference/index.ts';
import type { Db, SeriesData } from '../../storage/index.ts';
import { completeness, generationMix, querySeries, zoneCoverage } from '../../storage/index.ts';
import { HOUR_MS, addLocalDays, startOfLocalDay } from '../../time/index.ts';
import { ApiError } from '../errors.ts';
import { checkRange, instant, metric, productionTypes, queryOf, resolution, zoneCode } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import { allowZone, visibleZones } from '../permissions.ts';

/** Longest range per resolution (keeps any one answer to a few hundred thousand points at most). */
const MAX_DAYS = { PT15M: 93, PT1H: 400, P1D: 3700 } as const;

interface DataDeps {
  readonly db: Db;
  readonly reference: ReferenceData;
}

/** The read endpoints: zones, series, carbon intensity, generation mix, completeness. */
export function dataRoutes(app: Hono<ApiEnv>, deps: DataDeps): void {
  const { db, reference } = deps;

  app.get('/api/v1/zones', async (c) => {
    queryOf(c, {});
    const coverage = visibleZones(c.get('principal'), await zoneCoverage(db, { signal: c.req.raw.signal }));
    return c.json({
      zones: coverage.map((z) => {
        const area = reference.hasZone(z.zone) ? reference.zone(z.zone) : undefined;
        return {
          code: z.zone,
          name: area?.name ?? z.zone,
          country: area?.countries[0] ?? null,
          countries: area?.countries ?? [],
          area_type: area?.primaryType ?? null,
          time_zone: area?.timeZone ?? null,
          eic: area?.eic ?? null,
          first_slot: z.firstSlot,
          last_slot: z.lastSlot,
          metrics: z.metrics,
        };
      }),
    });
  });

  app.get('/api/v1/series', async (c) => {
    const q = queryOf(c, {
      zone: zoneCode,
      metric,
      production_type: productionTypes.optional(),
      counterpart_zone: zoneCode.optional(),
      qualifier: z.string().max(200).optional(),
      from: instant,
      to: instant,
      resolution: resolution.default('PT15M'),
      as_of: instant.optional(),
    });
    allowZone(c.get('principal'), q.zone);
    if (q.counterpart_zone !== undefined) allowZone(c.get('principal'), q.counterpart_zone, 'counterpart_zone');
    checkRange(q.from, q.to, MAX_DAYS[q.resolution]);
    const range = bucketRange(q.from, q.to, q.resolution, timeZoneOf(reference, q.zone));
    const series = await querySeries(
      db,
      {
        zone: q.zone,
        metric: q.metric,
        ...(q.production_type === undefined ? {} : { productionTypes: q.production_type }),
        ...(q.counterpart_zone === undefined ? {} : { counterpartZone: q.counterpart_zone }),
        ...(q.qualifier === undefined ? {} : { qualifier: q.qualifier }),
        from: range.from,
        to: range.to,
        resolution: q.resolution,
        timeZone: timeZoneOf(reference, q.zone),
        ...(q.as_of === undefined ? {} : { asOf: q.as_of }),
      },
      { signal: c.req.raw.signal },
    );
    return c.json({
      zone: q.zone,
      metric: q.metric,
      resolution: q.resolution,
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      as_of: q.as_of?.toISOString() ?? null,
      series: series.map((s) => seriesBody(reference, s)),
    });
  });

  app.get('/api/v1/carbon-intensity', async (c) => {
    const q = queryOf(c, {
      zone: zoneCode,
      from: instant,
      to: instant,
      basis: z
        .enum(['production', 'consumption'], { message: 'expected production or consumption' })
        .default('production'),
      factors: z.enum(['lifecycle', 'direct'], { message: 'expected lifecycle or direct' }).default('lifecycle'),
      resolution: resolution.default('PT15M'),
      source: z
        .enum(['gridstream', 'electricitymaps'], { message: 'expected gridstream or electricitymaps' })
        .default('gridstream'),
    });
    allowZone(c.get('principal'), q.zone);
    checkRange(q.from, q.to, MAX_DAYS[q.resolution]);
    const range = bucketRange(q.from, q.to, q.resolution, timeZoneOf(reference, q.zone));
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
        timeZone: timeZoneOf(reference, q.zone),
      },
      { signal: c.req.raw.signal },
    );
    return c.json({
      zone: q.zone,
      basis: q.basis,
      factors: q.factors,
      source: q.source,
      resolution: q.resolution,
      unit: 'gCO2eq/kWh',
      points: series === undefined ? [] : series.points.map(pointBody),
    });
  });

  app.get('/api/v1/mix', async (c) => {
    const q = queryOf(c, { zone: zoneCode, at: instant.optional() });
    allowZone(c.get('principal'), q.zone);
    const mix = await generationMix(db, q.zone, q.at, { signal: c.req.raw.signal });
    if (mix === null)
      throw new ApiError(
        'not_found',
        `no generation data for ${q.zone}${q.at === undefined ? '' : ` at ${q.at.toISOString()}`}`,
      );
    return c.json({
      zone: mix.zone,
      slot: mix.slot,
      unit: mix.unit,
      total: mix.total,
      entries: mix.entries.map((e) => ({
        production_type: e.productionType,
        name: reference.hasProductionType(e.productionType)
          ? reference.productionType(e.productionType).name
          : e.productionType,
        category: reference.hasProductionType(e.productionType)
          ? reference.productionType(e.productionType).category
          : null,
        value: e.value,
        share: e.share,
      })),
      missing: mix.missing,
    });
  });

  app.get('/api/v1/completeness', async (c) => {
    const q = queryOf(c, { zone: zoneCode, from: instant, to: instant, metric: metric.optional() });
    allowZone(c.get('principal'), q.zone);
    checkRange(q.from, q.to, 400);
    const rows = await completeness(
      db,
      {
        zones: [q.zone],
        ...(q.metric === undefined ? {} : { metrics: [q.metric] }),
        from: q.from,
        to: q.to,
        timeZone: timeZoneOf(reference, q.zone),
      },
      { signal: c.req.raw.signal },
    );
    return c.json({
      zone: q.zone,
      from: q.from.toISOString(),
      to: q.to.toISOString(),
      days: rows.map((r) => ({
        metric: r.metric,
        day: r.day,
        expected_slots: r.expectedSlots,
        present_slots: r.presentSlots,
        series: r.series,
        expected_values: r.expectedValues,
        present_values: r.presentValues,
        completeness: r.expectedValues === 0 ? null : r.presentValues / r.expectedValues,
      })),
    });
  });
}

/**
 * Downsampled ranges cover whole buckets: PT1H widens to whole UTC hours, P1D to whole local days of the zone
 * (the days a user of a daily chart means, and what the rollups hold).
 */
function bucketRange(from: Date, to: Date, resolution: 'PT15M' | 'PT1H' | 'P1D', tz: string): { from: Date; to: Date } {
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

function timeZoneOf(reference: ReferenceData, zone: string): string {
  return reference.hasZone(zone) ? reference.zone(zone).timeZone : 'UTC';
}

function pointBody(p: SeriesData['points'][number]): Record<string, unknown> {
  return {
    ts: p.ts,
    value: p.value,
    ...(p.flags.length === 0 ? {} : { flags: p.flags }),
    ...(p.slots === p.expectedSlots ? {} : { slots: p.slots, expected_slots: p.expectedSlots }),
  };
}

function seriesBody(reference: ReferenceData, s: SeriesData): Record<string, unknown> {
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
    points: s.points.map(pointBody),
  };
}
