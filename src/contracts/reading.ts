import { z } from 'zod';
import type { Decimal } from '../common/index.ts';
import { normaliseDecimal, shiftDecimal } from '../common/index.ts';

/**
 * The one reading contract: what every input format (NDJSON of the old device schema or of this shape, a JSON
 * array, CSV, the common `{meter_id, timestamp, consumption}` shape) becomes, and what `raw.meters` carries from
 * schema version 2 on. The input formats and their mapping are in README.md ("Device input").
 */

/** How a quantity is measured: energy over an interval, a cumulative counter at an instant, or an instant value. */
export type QuantityKind = 'interval' | 'register' | 'instant';

/**
 * The fixed list of quantities, each with its one unit. Interval quantities cover
 * `[ts, ts + interval)`; register quantities are a counter read at `ts` (they become intervals by difference:
 * `src/readings`); instant quantities are a value at `ts`.
 */
export const QUANTITIES = {
  energy_import: { unit: 'kWh', kind: 'interval' },
  energy_export: { unit: 'kWh', kind: 'interval' },
  register_import: { unit: 'kWh', kind: 'register' },
  register_export: { unit: 'kWh', kind: 'register' },
  power: { unit: 'kW', kind: 'instant' },
  voltage: { unit: 'V', kind: 'instant' },
  frequency: { unit: 'Hz', kind: 'instant' },
} as const satisfies Record<string, { readonly unit: string; readonly kind: QuantityKind }>;
export type Quantity = keyof typeof QUANTITIES;
export const QuantitySchema = z.enum(Object.keys(QUANTITIES) as [Quantity, ...Quantity[]]);

/** The device kinds: only smart meters are windowed and need the meter registry. */
export const DEVICE_KINDS = ['smart_meter', 'scada', 'pmu'] as const;
export type DeviceKind = (typeof DEVICE_KINDS)[number];

/** The version `raw.meters` records carry from the canonical reading on (records without `v` are version 1). */
export const READING_SCHEMA_VERSION = 2;

/** A UTC instant as the canonical reading writes it: seconds, or milliseconds when there are any, and `Z`. */
const UTC_TEXT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{3})?Z$/;
/** A normalised decimal (see `normaliseDecimal`). */
const DECIMAL_TEXT = /^-?(?:0|[1-9]\d*)(?:\.\d*[1-9])?$/;
/** An interval as the canonical reading writes it: whole hours `PTnH`, otherwise whole minutes `PTnM`. */
const INTERVAL_TEXT = /^PT[1-9]\d*[HM]$/;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const idText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    .refine((s) => !CONTROL.test(s), 'holds a control character');

/**
 * The canonical reading (schema version 2).
 * - `v`: 2, the schema version (records of `raw.meters` without it are the old device schema, version 1).
 * - `meter_id`: the device (meter, SCADA point, PMU), 1–100 characters, no control characters.
 * - `kind`: `smart_meter`, `scada` or `pmu`.
 * - `quantity`: one of {@link QUANTITIES}; its unit is fixed (kWh, kW, V, Hz) and not repeated in the reading.
 * - `ts`: event time in UTC (`2026-10-25T01:00:00Z`); for interval quantities the interval START.
 * - `value`: an exact decimal as normalised text (`"0.25"`, `"-3"`), never a float.
 * - `interval`: for `energy_import`/`energy_export` only: `PT15M`, `PT1H`…; absent: the meter's interval in the
 *   registry (the common shape and the old device schema do not say it; the meters role reads the registry).
 * - `recorded_at`: optional, when the device or head-end measured or issued the value (UTC); decides which of two
 *   readings of one interval wins (`src/readings`).
 * - `group`: optional aggregation group (feeder, substation, portfolio).
 */
export const CanonicalReadingSchema = z
  .object({
    v: z.literal(READING_SCHEMA_VERSION),
    meter_id: idText(100),
    kind: z.enum(DEVICE_KINDS),
    quantity: QuantitySchema,
    ts: z.string().regex(UTC_TEXT),
    value: z.string().regex(DECIMAL_TEXT),
    interval: z.string().regex(INTERVAL_TEXT).optional(),
    recorded_at: z.string().regex(UTC_TEXT).optional(),
    group: idText(100).optional(),
  })
  .refine((r) => r.interval === undefined || QUANTITIES[r.quantity].kind === 'interval', {
    message: 'only energy_import/energy_export readings have an interval',
    path: ['interval'],
  });
export type CanonicalReading = z.infer<typeof CanonicalReadingSchema>;

/** The unit of a canonical reading's value. */
export const quantityUnit = (q: Quantity): string => QUANTITIES[q].unit;

const OFFSET_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:(Z)|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Reads an event time that carries `Z` or an offset (`+01:00`, `+0100`) and gives it in UTC, or says why not: a
 * time without an offset is refused (it would be read in some server's zone), as are impossible dates and times
 * finer than a millisecond.
 */
export function toUtcText(text: string): { readonly utc: string } | { readonly error: string } {
  // Readings of one body mostly share their time: the last answer is kept.
  if (text === lastTime.text) return lastTime.answer;
  const answer = utcTextOf(text);
  lastTime = { text, answer };
  return answer;
}

let lastTime: { text: string; answer: { readonly utc: string } | { readonly error: string } } = {
  text: '',
  answer: { error: '"" is not an ISO 8601 time with Z or an offset' },
};

/** A UTC time already written canonically (whole seconds, `Z`), checked with one Date instead of a parse. */
const CANONICAL_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function utcTextOf(text: string): { readonly utc: string } | { readonly error: string } {
  if (CANONICAL_SECONDS.test(text) && !text.startsWith('00')) {
    const ms = Date.parse(text);
    if (Number.isFinite(ms) && new Date(ms).toISOString().slice(0, 19) === text.slice(0, 19)) return { utc: text };
  }
  const m = OFFSET_TIME.exec(text);
  if (m === null) {
    return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
      ? { error: `${JSON.stringify(text)} has no offset (add Z or ±hh:mm)` }
      : { error: `${JSON.stringify(text).slice(0, 60)} is not an ISO 8601 time with Z or an offset` };
  }
  const [y, mo, d, h, mi] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [number, number, number, number, number];
  const s = m[6] === undefined ? 0 : Number(m[6]);
  const frac = m[7] ?? '';
  if (/[1-9]/.test(frac.slice(3))) return { error: `${text} is finer than a millisecond` };
  const ms = Number(frac.slice(0, 3).padEnd(3, '0'));
  // Date.UTC reads years 0–99 as 1900–1999: set the year on its own.
  const check = new Date(0);
  check.setUTCFullYear(y, mo - 1, d);
  check.setUTCHours(h, mi, s, ms);
  const local = check.getTime();
  if (
    check.getUTCFullYear() !== y ||
    check.getUTCMonth() !== mo - 1 ||
    check.getUTCDate() !== d ||
    check.getUTCHours() !== h ||
    check.getUTCMinutes() !== mi ||
    check.getUTCSeconds() !== s
  )
    return { error: `${text} is not a valid date and time` };
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (oh > 18 || om > 59) return { error: `${text} has an impossible offset` };
    offsetMin = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  return { utc: formatUtcText(local - offsetMin * 60_000) };
}

/** The canonical text of a UTC instant (epoch ms): seconds, milliseconds only when there are any. */
export function formatUtcText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.endsWith('.000Z') ? `${iso.slice(0, 19)}Z` : iso;
}

/** Largest number of digits before and after the point a value may have (more is refused, never rounded). */
export const VALUE_DIGITS = { integer: 20, fraction: 12 } as const;

const NUMBER_TEXT = /^([+-]?(?:\d+\.?\d*|\.\d+))(?:[eE]([+-]?\d+))?$/;

/**
 * Reads a value as an exact decimal from the text a source wrote (`"0.25"`, `"1.5e3"` → `"1500"`, a JSON number's
 * own source text), or says why not: not a number, or more digits than {@link VALUE_DIGITS} (`1e-400`, `1e400`:
 * refused, where a float would have become 0 or Infinity).
 */
export function toExactDecimal(
  text: string,
): { readonly value: Decimal } | { readonly error: string; readonly range: boolean } {
  const m = NUMBER_TEXT.exec(text.trim());
  if (m === null) return { error: `${JSON.stringify(text).slice(0, 40)} is not a decimal number`, range: false };
  const exponent = m[2] === undefined ? 0 : Number(m[2]);
  if (Math.abs(exponent) > 100) return { error: `${text.slice(0, 40)} is out of range`, range: true };
  const plain = normaliseDecimal(m[1] ?? '');
  if (plain === undefined) return { error: `${text.slice(0, 40)} is not a decimal number`, range: false };
  const value = exponent === 0 ? plain : shiftDecimal(plain, exponent);
  const [int = '', frac = ''] = value.replace('-', '').split('.');
  if (int.length > VALUE_DIGITS.integer || frac.length > VALUE_DIGITS.fraction)
    return {
      error: `${text.slice(0, 40)} has more than ${VALUE_DIGITS.integer} digits before or ${VALUE_DIGITS.fraction} after the point`,
      range: true,
    };
  return { value };
}

const INTERVAL_INPUT = /^PT(?:(\d+)H)?(?:(\d+)M)?$/;

/**
 * Reads an ISO 8601 interval of whole minutes (`PT15M`, `PT1H`, `PT1H30M`, `PT60M`) between one minute and one
 * day, and writes it canonically (`PT60M` → `PT1H`); `undefined` for anything else.
 */
export function normaliseInterval(text: string): string | undefined {
  const m = INTERVAL_INPUT.exec(text);
  if (m === null || (m[1] === undefined && m[2] === undefined)) return undefined;
  const minutes = Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0);
  if (minutes < 1 || minutes > 1440) return undefined;
  return minutes % 60 === 0 ? `PT${minutes / 60}H` : `PT${minutes}M`;
}

/** The length of a canonical interval (`PT15M` → 900 000). */
export function intervalMs(interval: string): number {
  const n = Number(interval.slice(2, -1));
  return n * (interval.endsWith('H') ? 3_600_000 : 60_000);
}
