import type { Hono } from 'hono';
import { z } from 'zod';
import type { Decimal } from '../../common/index.ts';
import { csvField, normaliseDecimal } from '../../common/index.ts';
import { roundHalfEven, sumDecimals } from '../../settlement/index.ts';
import type { Db, MeterResolution, MeterWindow, Queryable } from '../../storage/index.ts';
import {
  METER_QUANTITIES,
  METER_READ_LIMITS,
  METER_RESOLUTIONS,
  meterWindows,
  recordMeterRead,
} from '../../storage/index.ts';
import { ApiError } from '../errors.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import {
  groupParam,
  isoInstant,
  isoOf,
  meterIdParam,
  principalName,
  quantityQuery,
  rangeOf,
  rangeQuery,
  requireRangeVisible,
  visibleGroup,
  visibleMeter,
} from './meter-scope.ts';

/** The most windows one settlement answer holds. */
export const MAX_SETTLEMENT_WINDOWS = METER_READ_LIMITS.points;

const SETTLEMENT_STATUSES = ['final', 'pending'] as const;
const QUALITIES = ['measured', 'estimated', 'substituted', 'missing'] as const;

const exact = (what: string) =>
  z
    .string()
    .nullable()
    .meta({ description: `${what}, exact decimal; null: none` });

const SettlementRowSchema = z.object({
  start: isoInstant.meta({ description: 'Window start, UTC' }),
  end: isoInstant.meta({ description: 'Window end (exclusive), UTC' }),
  energy_kwh: exact('Energy (kWh)'),
  cost: exact('Cost in `units.cost`'),
  emissions_lifecycle_g: exact('Lifecycle emissions (gCO2eq)'),
  emissions_direct_g: exact('Direct emissions (gCO2eq)'),
  status: z.enum(SETTLEMENT_STATUSES).meta({ description: 'pending: a settlement period inside is pending' }),
  periods: z.number().int().meta({ description: 'Settlement periods (15 minutes per meter) summed' }),
  quality: z
    .object(
      Object.fromEntries(QUALITIES.map((q) => [q, z.number().int()])) as Record<
        (typeof QUALITIES)[number],
        z.ZodNumber
      >,
    )
    .meta({ description: 'Settlement periods per quality of their energy' }),
});

const TotalsSchema = z.object({
  energy_kwh: z.string().meta({ description: 'kWh (never rounded)' }),
  cost: z.string(),
  emissions_lifecycle_g: z.string(),
  emissions_direct_g: z.string(),
});

const SettlementHead = {
  quantity: z.enum(METER_QUANTITIES),
  resolution: z.enum(METER_RESOLUTIONS),
  time_zone: z.string().meta({ description: 'The calendar of P1D and P1M windows' }),
  units: z.object({
    energy: z.literal('kWh'),
    cost: z.string().nullable().meta({ description: 'Currency of the costs (e.g. EUR); null: nothing is priced' }),
    emissions: z.literal('gCO2eq'),
  }),
  status: z.enum(SETTLEMENT_STATUSES).meta({ description: 'pending: any window is pending' }),
  totals: TotalsSchema.meta({
    description: 'Over the range, rounded half to even: cost to 0.01, emissions to whole grams (energy exact)',
  }),
  exact_totals: TotalsSchema.meta({ description: 'Over the range, exact sums of the rows' }),
  rows: z.array(SettlementRowSchema).meta({ description: 'Windows holding settlement periods; exact, unrounded' }),
};

type SettlementAnswer = z.input<z.ZodObject<typeof SettlementHead>>;

const settlementQuery = {
  ...rangeQuery,
  resolution: z.enum(METER_RESOLUTIONS).default('P1D').meta({
    description: "Window: PT15M and PT1H on the UTC line; P1D and P1M on the meter's (group's) local calendar",
  }),
  quantity: quantityQuery,
  format: z.enum(['json', 'csv']).default('json').meta({ description: 'csv: the exact rows as text/csv' }),
};

export const meterSettlementRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}/settlement',
  operationId: 'meterSettlement',
  summary: "A meter's settlement per window: energy, cost, emissions, exact sums with units and totals (audited)",
  description:
    '`from` and `to` must fall on window edges. Rows are exact sums in SQL numerics; `totals` are rounded half to ' +
    'even only at the end. `format=csv` answers the same rows as text/csv (Parquet is not offered).',
  access: 'reader',
  params: meterIdParam,
  query: settlementQuery,
  response: z.object({ meter_id: z.string(), ...SettlementHead }),
  alternateContentTypes: ['text/csv'],
  errors: [404],
});

export const groupSettlementRoute = defineRoute({
  method: 'get',
  path: '/api/v1/groups/{group}/settlement',
  operationId: 'groupSettlement',
  summary: "A group's settlement per window over all its meters: energy, cost, emissions, exact sums and totals",
  description: "Windows follow the group's time zone; otherwise as /api/v1/meters/{id}/settlement.",
  access: 'reader',
  params: groupParam,
  query: settlementQuery,
  response: z.object({ group: z.string(), ...SettlementHead }),
  alternateContentTypes: ['text/csv'],
  errors: [404],
});

export const METER_SETTLEMENT_ROUTES: readonly RouteContract[] = [meterSettlementRoute, groupSettlementRoute];

type SettlementRow = z.output<typeof SettlementRowSchema>;
type Totals = z.output<typeof TotalsSchema>;

interface Summed {
  readonly rows: SettlementRow[];
  readonly currency: string | null;
}

const dec = (text: string | null): Decimal | null => (text === null ? null : (normaliseDecimal(text) ?? null));

/** Windows of a settlement read, or the coded 400 that refuses the range. */
function windowsOf(from: number, to: number, resolution: MeterResolution, timeZone: string): MeterWindow[] {
  const result = meterWindows(from, to, resolution, timeZone, MAX_SETTLEMENT_WINDOWS);
  if ('refused' in result) {
    const { tooLarge, message, param } = result.refused;
    throw new ApiError(tooLarge ? 'api.range_too_large' : 'api.bad_request', message, { param });
  }
  return result.windows;
}

/**
 * Sums meter_settlement rows matching `filter` (`s.` columns; $1 and $2 its parameters) per window, exactly in
 * SQL numerics. Only windows holding rows are answered.
 */
async function sumWindows(
  q: Queryable,
  filter: string,
  params: readonly [string, string],
  windows: readonly MeterWindow[],
): Promise<Summed> {
  const { rows } = await q.query<{
    i: number;
    energy: string | null;
    cost: string | null;
    lifecycle: string | null;
    direct: string | null;
    pending: boolean;
    n: number;
    measured: number;
    estimated: number;
    substituted: number;
    missing: number;
    currencies: string[] | null;
  }>(
    `SELECT w.i::integer AS i, sum(s.energy_kwh)::text AS energy, sum(s.cost)::text AS cost,
       sum(s.emissions_lifecycle_g)::text AS lifecycle, sum(s.emissions_direct_g)::text AS direct,
       bool_or(s.status = 'pending') AS pending, count(*)::integer AS n,
       count(*) FILTER (WHERE s.quality = 'measured')::integer AS measured,
       count(*) FILTER (WHERE s.quality = 'estimated')::integer AS estimated,
       count(*) FILTER (WHERE s.quality = 'substituted')::integer AS substituted,
       count(*) FILTER (WHERE s.quality NOT IN ('measured', 'estimated', 'substituted'))::integer AS missing,
       array_agg(DISTINCT s.currency) FILTER (WHERE s.currency IS NOT NULL) AS currencies
     FROM unnest($3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS w(ws, we, i)
     JOIN meter_settlement s ON ${filter} AND s.period >= w.ws AND s.period < w.we
     GROUP BY w.i ORDER BY w.i`,
    [...params, windows.map((w) => new Date(w.start).toISOString()), windows.map((w) => new Date(w.end).toISOString())],
  );
  const currencies = new Set(rows.flatMap((r) => r.currencies ?? []));
  if (currencies.size > 1)
    throw new ApiError('api.bad_request', `the range is priced in ${[...currencies].sort().join(' and ')}`, {
      param: 'from',
    });
  const out: SettlementRow[] = [];
  for (const r of rows) {
    const w = windows[r.i - 1];
    if (w === undefined) continue;
    out.push({
      start: isoOf(w.start),
      end: isoOf(w.end),
      energy_kwh: dec(r.energy),
      cost: dec(r.cost),
      emissions_lifecycle_g: dec(r.lifecycle),
      emissions_direct_g: dec(r.direct),
      status: r.pending ? 'pending' : 'final',
      periods: r.n,
      quality: { measured: r.measured, estimated: r.estimated, substituted: r.substituted, missing: r.missing },
    });
  }
  return { rows: out, currency: [...currencies][0] ?? null };
}

/** Exact totals of the rows, and the same rounded half to even (cost 0.01, grams 1). */
function totalsOf(rows: readonly SettlementRow[]): { exact: Totals; rounded: Totals } {
  const sum = (pick: (r: SettlementRow) => string | null): Decimal =>
    sumDecimals(rows.flatMap((r) => (pick(r) === null ? [] : [pick(r) as Decimal])));
  const exactTotals = {
    energy_kwh: sum((r) => r.energy_kwh),
    cost: sum((r) => r.cost),
    emissions_lifecycle_g: sum((r) => r.emissions_lifecycle_g),
    emissions_direct_g: sum((r) => r.emissions_direct_g),
  };
  return {
    exact: exactTotals,
    rounded: {
      energy_kwh: exactTotals.energy_kwh,
      cost: roundHalfEven(exactTotals.cost, 2),
      emissions_lifecycle_g: roundHalfEven(exactTotals.emissions_lifecycle_g, 0),
      emissions_direct_g: roundHalfEven(exactTotals.emissions_direct_g, 0),
    },
  };
}

export const SETTLEMENT_CSV_HEADER =
  'start,end,energy_kwh,cost,currency,emissions_lifecycle_g,emissions_direct_g,status,periods';

/** The exact rows as CSV (header, one line per window, CRLF-free). */
export function settlementCsv(rows: readonly SettlementRow[], currency: string | null): string {
  const lines = rows.map((r) =>
    [
      r.start,
      r.end,
      r.energy_kwh ?? '',
      r.cost ?? '',
      r.cost === null ? '' : csvField(currency),
      r.emissions_lifecycle_g ?? '',
      r.emissions_direct_g ?? '',
      r.status,
      String(r.periods),
    ].join(','),
  );
  return `${[SETTLEMENT_CSV_HEADER, ...lines].join('\n')}\n`;
}

function answer(
  summed: Summed,
  head: { quantity: (typeof METER_QUANTITIES)[number]; resolution: MeterResolution; time_zone: string },
): SettlementAnswer {
  const { exact: exactTotals, rounded } = totalsOf(summed.rows);
  return {
    ...head,
    units: { energy: 'kWh', cost: summed.currency, emissions: 'gCO2eq' },
    status: summed.rows.some((r) => r.status === 'pending') ? 'pending' : 'final',
    totals: rounded,
    exact_totals: exactTotals,
    rows: summed.rows,
  };
}

function csvResponse(summed: Summed, name: string): Response {
  return new Response(settlementCsv(summed.rows, summed.currency), {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${name.replace(/[^A-Za-z0-9._-]/g, '_')}.csv"`,
    },
  });
}

/**
 * Settlement of meters and groups (issue #14): meter_settlement rows summed exactly per window. A meter's answer is
 * a read of its personal data (scoped, audited in the reading transaction); a group's answer is an aggregate,
 * scoped like the group's load.
 */
export function meterSettlementRoutes(app: Hono<ApiEnv>, deps: { readonly db: Db }): void {
  const { db } = deps;

  handle(app, meterSettlementRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    const { validities, latest } = await visibleMeter(db, c, id);
    const timeZone = latest.time_zone;
    const { from, to } = rangeOf(q, timeZone);
    requireRangeVisible(principal, id, validities, from, to);
    const windows = windowsOf(from, to, q.resolution, timeZone);
    const summed = await db.transaction(async (tx) => {
      await recordMeterRead(tx, {
        principal: principalName(principal),
        path: 'api',
        meterId: id,
        from,
        to,
        detail: `settlement ${q.quantity} ${q.resolution}`,
      });
      return sumWindows(tx, 's.meter_id = $1 AND s.quantity = $2', [id, q.quantity], windows);
    });
    if (q.format === 'csv') return csvResponse(summed, `settlement-${id}`);
    return { meter_id: id, ...answer(summed, { quantity: q.quantity, resolution: q.resolution, time_zone: timeZone }) };
  });

  handle(app, groupSettlementRoute, async (c, { params: { group }, query: q }) => {
    const info = await visibleGroup(db, c, group);
    const { from, to } = rangeOf(q, info.timeZone);
    const windows = windowsOf(from, to, q.resolution, info.timeZone);
    const summed = await sumWindows(db, 's.group_id = $1 AND s.quantity = $2', [group, q.quantity], windows);
    if (q.format === 'csv') return csvResponse(summed, `settlement-${group}`);
    return {
      group,
      ...answer(summed, { quantity: q.quantity, resolution: q.resolution, time_zone: info.timeZone }),
    };
  });
}
