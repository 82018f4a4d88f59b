import type { Hono } from 'hono';
import { z } from 'zod';
import type { Decimal } from '../../common/index.ts';
import { normaliseDecimal } from '../../common/index.ts';
import { InstantSchema } from '../../meters/index.ts';
import { RULE_IDS, VEE_METHODS, VEE_QUALITIES, insertEdit } from '../../quality/index.ts';
import type { VeeQuality } from '../../quality/index.ts';
import type { Db, MeterQuantity, Queryable } from '../../storage/index.ts';
import { METER_QUANTITIES, METER_READ_LIMITS, enqueueMeterWork, recordMeterRead } from '../../storage/index.ts';
import { MINUTE_MS, addLocalDays, startOfLocalDay, toLocal } from '../../time/index.ts';
import { ApiError } from '../errors.ts';
import { positiveInt } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';
import type { RouteContract } from '../route.ts';
import { defineRoute, handle } from '../route.ts';
import {
  ISO_SQL,
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

/** The most intervals one validated-series answer holds, and the most edits one edit listing holds. */
export const MAX_VALIDATED_INTERVALS = METER_READ_LIMITS.points;
export const MAX_EDITS = 10_000;

const decimalText = z.string().nullable().meta({ description: 'Exact decimal kWh; null: none' });

const ValidatedSchema = z.object({
  meter_id: z.string(),
  quantity: z.enum(METER_QUANTITIES),
  unit: z.literal('kWh'),
  intervals: z.array(
    z.object({
      ts: isoInstant.meta({ description: 'Interval start, UTC' }),
      value: decimalText.meta({ description: 'The value settlement uses, exact decimal kWh; null: missing' }),
      quality: z.enum(VEE_QUALITIES),
      method: z.enum(VEE_METHODS).meta({ description: 'What set the value' }),
      raw: decimalText.meta({ description: 'The measured value as stored; null: none arrived' }),
      rules: z
        .array(z.string())
        .meta({ description: `Ids of the rules the raw value failed (${RULE_IDS.join(', ')})` }),
      details: z.record(z.string(), z.unknown()).nullable().meta({ description: 'Per rule, what was compared' }),
    }),
  ),
});

const EditSchema = z.object({
  id: z.number().int(),
  meter_id: z.string(),
  quantity: z.enum(METER_QUANTITIES),
  ts: isoInstant.meta({ description: 'The interval edited (its start, UTC)' }),
  value: decimalText.meta({ description: 'The edited value, exact decimal kWh; null withdraws the edit before' }),
  override: z.boolean().meta({ description: 'The edit beats a measured value too' }),
  reason: z.string(),
  principal: z.string().meta({ description: '`key:<id>` of who edited' }),
  at: z.string().meta({ description: 'When the edit was made (UTC, microseconds)' }),
});

const EditBodySchema = z.strictObject({
  quantity: z.enum(METER_QUANTITIES),
  ts: InstantSchema.meta({ description: "Start of the interval; on the meter's interval grid, inside a validity" }),
  value: z
    .string()
    .max(40)
    .regex(/^-?\d+(\.\d+)?$/, 'expected a decimal such as "0.125"')
    .nullable()
    .meta({
      description: 'Exact decimal kWh (negative only on export and net registers); null withdraws the latest edit',
    }),
  override: z.boolean().default(false).meta({ description: 'Beat measured values too (default false)' }),
  reason: z.string().min(1).max(500).meta({ description: 'Why (1–500 characters), kept in the audit trail' }),
});

const CountsSchema = z.object(
  Object.fromEntries(VEE_QUALITIES.map((q) => [q, z.number().int()])) as Record<VeeQuality, z.ZodNumber>,
);
const SharesSchema = z
  .object(Object.fromEntries(VEE_QUALITIES.map((q) => [q, z.number()])) as Record<VeeQuality, z.ZodNumber>)
  .meta({ description: 'Each quality as a share of all intervals (0–1, 6 decimals); 0 when there is none' });
const RuleCountsSchema = z
  .array(z.object({ rule: z.string(), failures: z.number().int() }))
  .meta({ description: 'Intervals whose raw value failed each rule, by rule id' });
const QualitySummary = {
  intervals: z.number().int().meta({ description: 'Validated intervals in the range' }),
  counts: CountsSchema,
  shares: SharesSchema,
  rules: RuleCountsSchema,
};

const MeterQualitySchema = z.object({
  meter_id: z.string(),
  quantity: z.enum(METER_QUANTITIES),
  from: isoInstant,
  to: isoInstant,
  ...QualitySummary,
});

const GroupQualitySchema = z.object({
  group: z.string(),
  quantity: z.enum(METER_QUANTITIES),
  from: isoInstant,
  to: isoInstant,
  ...QualitySummary,
});

export const meterValidatedRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}/validated',
  operationId: 'meterValidated',
  summary: "A meter's validated series per interval: value, quality, method, raw value and failed rules (audited)",
  description: `Intervals of validated days only. At most ${MAX_VALIDATED_INTERVALS} intervals (api.range_too_large).`,
  access: 'reader',
  params: meterIdParam,
  query: { ...rangeQuery, quantity: quantityQuery },
  response: ValidatedSchema,
  errors: [404],
});

export const createMeterEditRoute = defineRoute({
  method: 'post',
  path: '/api/v1/meters/{id}/edits',
  operationId: 'createMeterEdit',
  summary: "Edit an interval value (or withdraw an edit with value null); the meter's local day is revalidated",
  description:
    "The interval must be on the meter's interval grid and inside a registry validity (400 quality.edit_invalid). " +
    'The edit and the revalidation of its day are queued in one transaction.',
  access: 'admin',
  params: meterIdParam,
  query: {},
  body: EditBodySchema,
  response: EditSchema,
  status: 201,
  errors: [404],
});

export const meterEditsRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}/edits',
  operationId: 'meterEdits',
  summary: "The audit trail of a meter's edits in [from, to) of interval time: who, when, why, value (audited)",
  description: `Oldest first, at most ${MAX_EDITS} by default.`,
  access: 'reader',
  params: meterIdParam,
  query: {
    ...rangeQuery,
    quantity: z.enum(METER_QUANTITIES).optional().meta({ description: 'Only edits of this energy' }),
    limit: positiveInt(MAX_EDITS).default(MAX_EDITS).meta({ description: 'Most edits' }),
  },
  response: z.object({ meter_id: z.string(), edits: z.array(EditSchema) }),
  errors: [404],
});

export const meterQualityRoute = defineRoute({
  method: 'get',
  path: '/api/v1/meters/{id}/quality',
  operationId: 'meterQuality',
  summary: "A meter's data quality: measured/estimated/substituted/missing intervals and rule failures (audited)",
  access: 'reader',
  params: meterIdParam,
  query: { ...rangeQuery, quantity: quantityQuery },
  response: MeterQualitySchema,
  errors: [404],
});

export const groupQualityRoute = defineRoute({
  method: 'get',
  path: '/api/v1/groups/{group}/quality',
  operationId: 'groupQuality',
  summary: "A group's data quality over all its meters (totals only; per meter: the meter's own route, audited)",
  access: 'reader',
  params: groupParam,
  query: { ...rangeQuery, quantity: quantityQuery },
  response: GroupQualitySchema,
  errors: [404],
});

export const METER_QUALITY_ROUTES: readonly RouteContract[] = [
  meterValidatedRoute,
  createMeterEditRoute,
  meterEditsRoute,
  meterQualityRoute,
  groupQualityRoute,
];

const dec = (text: string | null): Decimal | null => (text === null ? null : (normaliseDecimal(text) ?? null));

type Summary = z.output<z.ZodObject<typeof QualitySummary>>;

/** Counts, shares and rule failures of the validated rows matching `where` ($1… are `params`), per `key`. */
async function summaries(
  q: Queryable,
  where: string,
  params: readonly unknown[],
  key: string,
): Promise<Map<string, Summary>> {
  const counts = await q.query<{ k: string; quality: VeeQuality; n: number }>(
    `SELECT ${key} AS k, quality, count(*)::integer AS n FROM meter_validated v WHERE ${where} GROUP BY 1, 2`,
    [...params],
  );
  const rules = await q.query<{ k: string; rule: string; n: number }>(
    `SELECT ${key} AS k, r.rule, count(*)::integer AS n
     FROM meter_validated v CROSS JOIN LATERAL unnest(v.rules) AS r(rule) WHERE ${where} GROUP BY 1, 2 ORDER BY 1, 2`,
    [...params],
  );
  const out = new Map<string, Summary>();
  const of = (k: string): Summary => {
    let s = out.get(k);
    if (s === undefined) {
      const zero = { measured: 0, estimated: 0, substituted: 0, missing: 0 };
      s = { intervals: 0, counts: { ...zero }, shares: { ...zero }, rules: [] };
      out.set(k, s);
    }
    return s;
  };
  for (const r of counts.rows) {
    const s = of(r.k);
    s.counts[r.quality] += r.n;
    s.intervals += r.n;
  }
  for (const s of out.values())
    for (const quality of VEE_QUALITIES)
      s.shares[quality] = s.intervals === 0 ? 0 : Math.round((s.counts[quality] / s.intervals) * 1e6) / 1e6;
  for (const r of rules.rows) of(r.k).rules.push({ rule: r.rule, failures: r.n });
  return out;
}

const EMPTY: Summary = {
  intervals: 0,
  counts: { measured: 0, estimated: 0, substituted: 0, missing: 0 },
  shares: { measured: 0, estimated: 0, substituted: 0, missing: 0 },
  rules: [],
};

/** The meter's local day containing `ts`, as the `quality` job queues it. */
export function localDayOf(ts: number, timeZone: string): { localDay: string; dayStart: string; dayEnd: string } {
  const start = startOfLocalDay(ts, timeZone);
  return {
    localDay: new Date(toLocal(start, timeZone)).toISOString().slice(0, 10),
    dayStart: new Date(start).toISOString(),
    dayEnd: new Date(addLocalDays(start, timeZone, 1)).toISOString(),
  };
}

const editInvalid = (message: string, param = 'ts'): ApiError =>
  new ApiError('api.bad_request', message, { param, problemCode: 'quality.edit_invalid' });

interface EditRow {
  id: string;
  meter_id: string;
  quantity: MeterQuantity;
  ts: string;
  value: string | null;
  override: boolean;
  reason: string;
  principal: string;
  at: string;
}

const EDIT_COLUMNS = `id::text AS id, meter_id, quantity, ${ISO_SQL('ts')} AS ts, value::text AS value, override,
  reason, principal, to_char(at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS at`;

const editOf = (r: EditRow): z.input<typeof EditSchema> => ({ ...r, id: Number(r.id), value: dec(r.value) });

/**
 * Validated series, operators' edits and data quality of meters and groups (issue #14), scoped and audited like
 * the meter readings: every answer naming one meter's values writes its meter_read_audit row in the transaction
 * that reads them.
 */
export function meterQualityRoutes(app: Hono<ApiEnv>, deps: { readonly db: Db }): void {
  const { db } = deps;

  handle(app, meterValidatedRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    const { validities, latest } = await visibleMeter(db, c, id);
    const { from, to } = rangeOf(q, latest.time_zone);
    requireRangeVisible(principal, id, validities, from, to);
    const rows = await db.transaction(async (tx) => {
      const audit = { principal: principalName(principal), path: 'api', meterId: id, from, to } as const;
      await recordMeterRead(tx, { ...audit, detail: `validated ${q.quantity}` });
      const result = await tx.query<{
        ts: string;
        value: string | null;
        quality: VeeQuality;
        method: (typeof VEE_METHODS)[number];
        raw: string | null;
        rules: string[];
        details: Record<string, unknown> | null;
      }>(
        `SELECT ${ISO_SQL('ts')} AS ts, value::text AS value, quality, method, raw::text AS raw, rules, details
         FROM meter_validated WHERE meter_id = $1 AND quantity = $2 AND ts >= $3 AND ts < $4
         ORDER BY ts LIMIT $5`,
        [id, q.quantity, new Date(from).toISOString(), new Date(to).toISOString(), MAX_VALIDATED_INTERVALS + 1],
      );
      return result.rows;
    });
    if (rows.length > MAX_VALIDATED_INTERVALS)
      throw new ApiError('api.range_too_large', `the range holds more than ${MAX_VALIDATED_INTERVALS} intervals`, {
        param: 'to',
      });
    return {
      meter_id: id,
      quantity: q.quantity,
      unit: 'kWh' as const,
      intervals: rows.map((r) => ({ ...r, value: dec(r.value), raw: dec(r.raw) })),
    };
  });

  handle(app, createMeterEditRoute, async (c, { params: { id }, body }) => {
    const principal = c.get('principal');
    const { validities } = await visibleMeter(db, c, id);
    const ts = Date.parse(body.ts);
    const validity = validities.find(
      (v) =>
        (v.valid_from === null || Date.parse(v.valid_from) <= ts) &&
        (v.valid_to === null || Date.parse(v.valid_to) > ts),
    );
    if (validity === undefined) throw editInvalid(`${body.ts} is outside every registry validity of meter ${id}`);
    requireRangeVisible(principal, id, [validity], ts, ts + 1);
    const minutes = Number(/^PT(\d+)M$/.exec(validity.interval)?.[1] ?? 15);
    const dayStart = startOfLocalDay(ts, validity.time_zone);
    if ((ts - dayStart) % (minutes * MINUTE_MS) !== 0)
      throw editInvalid(`${body.ts} is not on the ${validity.interval} interval grid of meter ${id}`);
    const measures: Readonly<Record<string, readonly string[]>> = {
      import: ['energy_import'],
      export: ['energy_export'],
      net: ['energy_import', 'energy_export'],
    };
    if (measures[validity.register_type]?.includes(body.quantity) !== true)
      throw editInvalid(`meter ${id} is an ${validity.register_type} register: it has no ${body.quantity}`, 'quantity');
    if (body.value?.startsWith('-') === true && validity.register_type === 'import')
      throw editInvalid(`meter ${id} is an import register: an edit cannot make its energy negative`, 'value');
    const day = localDayOf(ts, validity.time_zone);
    const value = body.value === null ? null : dec(body.value);
    const edit = {
      meterId: id,
      quantity: body.quantity,
      ts: body.ts,
      value,
      override: body.override,
      reason: body.reason,
      principal: principalName(principal),
    };
    const stored = await db.transaction(async (tx) => {
      const { id: editId } = await insertEdit(tx, edit);
      await enqueueMeterWork(tx, 'quality', [
        { meterId: id, quantity: body.quantity, timeZone: validity.time_zone, ...day },
      ]);
      const { rows } = await tx.query<EditRow>(`SELECT ${EDIT_COLUMNS} FROM meter_interval_edits WHERE id = $1`, [
        editId,
      ]);
      return rows[0];
    });
    if (stored === undefined) throw new ApiError('api.internal_error', 'the edit was not stored');
    return editOf(stored);
  });

  handle(app, meterEditsRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    const { validities, latest } = await visibleMeter(db, c, id);
    const { from, to } = rangeOf(q, latest.time_zone);
    requireRangeVisible(principal, id, validities, from, to);
    const rows = await db.transaction(async (tx) => {
      const audit = { principal: principalName(principal), path: 'api', meterId: id, from, to } as const;
      await recordMeterRead(tx, { ...audit, detail: `edits${q.quantity === undefined ? '' : ` ${q.quantity}`}` });
      const result = await tx.query<EditRow>(
        `SELECT ${EDIT_COLUMNS} FROM meter_interval_edits
         WHERE meter_id = $1 AND ($2::text IS NULL OR quantity = $2) AND ts >= $3 AND ts < $4
         ORDER BY id LIMIT $5`,
        [id, q.quantity ?? null, new Date(from).toISOString(), new Date(to).toISOString(), q.limit],
      );
      return result.rows;
    });
    return { meter_id: id, edits: rows.map(editOf) };
  });

  handle(app, meterQualityRoute, async (c, { params: { id }, query: q }) => {
    const principal = c.get('principal');
    const { validities, latest } = await visibleMeter(db, c, id);
    const { from, to } = rangeOf(q, latest.time_zone);
    requireRangeVisible(principal, id, validities, from, to);
    const summary = await db.transaction(async (tx) => {
      const audit = { principal: principalName(principal), path: 'api', meterId: id, from, to } as const;
      await recordMeterRead(tx, { ...audit, detail: `quality ${q.quantity}` });
      const found = await summaries(
        tx,
        'v.meter_id = $1 AND v.quantity = $2 AND v.ts >= $3 AND v.ts < $4',
        [id, q.quantity, new Date(from).toISOString(), new Date(to).toISOString()],
        'v.meter_id',
      );
      return found.get(id) ?? EMPTY;
    });
    return {
      meter_id: id,
      quantity: q.quantity,
      from: isoOf(from),
      to: isoOf(to),
      ...summary,
    };
  });

  handle(app, groupQualityRoute, async (c, { params: { group }, query: q }) => {
    const info = await visibleGroup(db, c, group);
    const { from, to } = rangeOf(q, info.timeZone);
    const params = [group, q.quantity, new Date(from).toISOString(), new Date(to).toISOString()];
    const where = 'v.group_id = $1 AND v.quantity = $2 AND v.ts >= $3 AND v.ts < $4';
    // The group's totals only: a per-meter list would show one household's data (a vacant home's zero run) to a
    // key that may not read that meter, without an audit row.
    const total = (await summaries(db, where, params, 'v.group_id')).get(group) ?? EMPTY;
    return { group, quantity: q.quantity, from: isoOf(from), to: isoOf(to), ...total };
  });
}
