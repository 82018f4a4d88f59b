import { z } from 'zod';
import type { Decimal } from '../common/index.ts';
import { normaliseDecimal } from '../common/index.ts';

/** What a meter's register counts: energy taken from the grid, fed into it, or the balance of both. */
export const REGISTER_TYPES = ['import', 'export', 'net'] as const;
export type RegisterType = (typeof REGISTER_TYPES)[number];

/** The interval lengths a meter may report in (ISO 8601 durations). */
export const METER_INTERVALS = ['PT5M', 'PT15M', 'PT30M', 'PT60M'] as const;
export type MeterInterval = (typeof METER_INTERVALS)[number];
/** @default PT15M */
export const DEFAULT_METER_INTERVAL: MeterInterval = 'PT15M';

/** BDEW standard load profile classes: households, commerce, agriculture. */
export const LOAD_PROFILES = ['H0', 'G0', 'G1', 'G2', 'G3', 'G4', 'G5', 'G6', 'L0', 'L1', 'L2'] as const;
export type LoadProfile = (typeof LOAD_PROFILES)[number];

/** A meter id as devices and head-end systems send it. */
export const MeterIdSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .meta({ description: 'The meter id devices send' });

/** A group (feeder, substation, portfolio): the unit of access control and aggregation. */
export const MeterGroupSchema = z
  .string()
  .min(1)
  .max(100)
  .regex(/^[\x21-\x7e]+$/, 'printable ASCII without spaces')
  .meta({ description: 'Feeder, substation or portfolio the meter belongs to' });

/** An exact non-negative decimal in kWh (as text: never a float). */
export const KwhSchema = z
  .string()
  .transform((s, ctx): Decimal => {
    const d = normaliseDecimal(s);
    if (d === undefined || d.startsWith('-')) {
      ctx.addIssue({ code: 'custom', message: 'expected a non-negative decimal (e.g. 3500 or 4200.5)' });
      return z.NEVER;
    }
    return d;
  })
  .meta({ description: 'Annual consumption estimate in kWh, an exact decimal as text', example: '3500' });

const OFFSET_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(?:Z|[+-]\d{2}:\d{2})$/;

/** Milliseconds of an ISO 8601 instant that carries `Z` or an offset; `undefined` otherwise. */
export function parseInstant(text: string): number | undefined {
  const t = text.trim();
  if (!OFFSET_TIME.test(t)) return undefined;
  const ms = Date.parse(t);
  return Number.isFinite(ms) ? ms : undefined;
}

/** An instant with `Z` or an offset, normalised to UTC ISO 8601. */
export const InstantSchema = z
  .string()
  .transform((s, ctx): string => {
    const ms = parseInstant(s);
    if (ms === undefined) {
      ctx.addIssue({ code: 'custom', message: 'expected an ISO 8601 time with Z or an offset' });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  })
  .meta({ description: 'ISO 8601 instant with Z or an offset', example: '2026-01-01T00:00:00Z' });

/** What a caller gives to register a meter; zone and time zone are checked against the reference data after. */
export const MeterInputSchema = z.object({
  meter_id: MeterIdSchema,
  zone: z.string().min(1).max(40).meta({ description: 'gridstream zone code, e.g. DE_LU' }),
  group: MeterGroupSchema,
  time_zone: z.string().min(1).max(64).optional().meta({ description: "IANA time zone; default: the zone's" }),
  register_type: z.enum(REGISTER_TYPES),
  interval: z.enum(METER_INTERVALS).default(DEFAULT_METER_INTERVAL),
  annual_consumption_kwh: KwhSchema,
  profile: z.enum(LOAD_PROFILES).meta({ description: 'BDEW standard load profile class' }),
  lat: z.number().min(-90).max(90).nullable().optional(),
  lon: z.number().min(-180).max(180).nullable().optional(),
  register_capacity_kwh: KwhSchema.nullable().optional().meta({
    description:
      'Register meters: the largest value the counter shows (99999.9); past it the counter wraps (a rollover). Absent: a counter going back is a reset.',
    example: '99999.9',
  }),
  valid_from: InstantSchema.nullable().optional().meta({ description: 'Start of validity; absent: since ever' }),
  valid_to: InstantSchema.nullable().optional().meta({ description: 'End of validity (exclusive); absent: open' }),
});
export type MeterInput = z.input<typeof MeterInputSchema>;
export type ParsedMeterInput = z.output<typeof MeterInputSchema>;

/** Fields a change may set (the meter id and the start of validity identify the row); absent: kept. */
export const MeterChangesSchema = MeterInputSchema.omit({ meter_id: true, valid_from: true })
  .extend({ interval: z.enum(METER_INTERVALS).optional() })
  .partial();

/** A PATCH of one validity: at least one field. */
export const MeterPatchSchema = MeterChangesSchema.refine(
  (p) => Object.keys(p).length > 0,
  'give at least one field to change',
);
export type MeterPatch = z.output<typeof MeterPatchSchema>;

/** One validity row of the registry, as stored and answered. */
export const MeterSchema = z.object({
  meter_id: z.string(),
  zone: z.string(),
  group: z.string(),
  time_zone: z.string(),
  register_type: z.enum(REGISTER_TYPES),
  interval: z.enum(METER_INTERVALS),
  annual_consumption_kwh: z.string(),
  profile: z.enum(LOAD_PROFILES),
  lat: z.number().nullable(),
  lon: z.number().nullable(),
  register_capacity_kwh: z.string().nullable(),
  simulated: z.boolean().meta({ description: 'A meter of the simulated demo fleet, not a real device' }),
  valid_from: z.string().nullable().meta({ description: 'null: since ever' }),
  valid_to: z.string().nullable().meta({ description: 'null: open (the current row)' }),
});
export type Meter = z.infer<typeof MeterSchema>;
