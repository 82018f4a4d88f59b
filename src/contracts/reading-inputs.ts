import { z } from 'zod';
import type { Decimal } from '../common/index.ts';
import { parseCsvRows } from '../common/index.ts';
import type { CanonicalReading, DeviceKind, Quantity } from './reading.ts';
import {
  DEVICE_KINDS,
  QUANTITIES,
  QuantitySchema,
  READING_SCHEMA_VERSION,
  normaliseInterval,
  toExactDecimal,
  toUtcText,
} from './reading.ts';

/**
 * The input shapes a reading may come in (one JSON object, one CSV row as strings), and how each becomes the
 * canonical reading. Which shape a record is, is told by its fields: `deviceId` → the old device schema;
 * `meter_id` with `consumption` → the common shape; `meter_id` with `quantity` → the canonical shape.
 */

/** What a reading must meet besides its shape, so that what is stored is what the device sent. */
export interface ReadingRules {
  /** Readings timed before this instant (ISO 8601, UTC) are refused. */
  readonly earliest: string;
  /** Readings timed more than this many ms after their receipt are refused. */
  readonly maxAheadMs: number;
}

/** Why a record is not taken in (registered codes of `dlq-ingestion`). */
export type ReadingRejectReason =
  | 'ingest.invalid_text'
  | 'ingest.not_json'
  | 'ingest.invalid_reading'
  | 'ingest.control_character'
  | 'ingest.number_out_of_range'
  | 'ingest.timestamp_out_of_range'
  | 'ingest.timestamp_without_offset'
  | 'ingest.unmapped_quantity';

/** One record read as a canonical reading, or why it was refused. */
export type CanonicalVerdict =
  | { readonly ok: true; readonly reading: CanonicalReading }
  | { readonly ok: false; readonly reason: ReadingRejectReason; readonly message: string };

/** A value as a source wrote it: a JSON number's source text (see `parseReadingLine`), or a string. */
const valueText = z.union([z.string().max(200), z.number().transform((n) => String(n))]);
const optionalText = z
  .string()
  .max(200)
  .optional()
  .transform((s) => (s === '' ? undefined : s));

/** Today's device schema (schema version 1 of `raw.meters`). */
const LegacyInputSchema = z.object({
  deviceId: z.string().min(1).max(100),
  kind: z.enum(DEVICE_KINDS),
  ts: z.string().max(60),
  quantity: z.string().min(1).max(60),
  value: valueText,
  unit: z.string().min(1).max(20),
  group: optionalText,
});

/** The canonical shape as input: `ts` may carry any offset, `value` may be a number, `kind` defaults to smart_meter. */
const CanonicalInputSchema = z.object({
  meter_id: z.string().min(1).max(100),
  kind: z.enum(DEVICE_KINDS).default('smart_meter'),
  quantity: QuantitySchema,
  ts: z.string().max(60),
  value: valueText,
  /** Optional; when given it must be the quantity's unit. */
  unit: optionalText,
  interval: optionalText,
  recorded_at: optionalText,
  group: optionalText,
});

/** The common shape: interval start, kWh consumed; the interval is the meter's registry interval. */
const CommonInputSchema = z.object({
  meter_id: z.string().min(1).max(100),
  timestamp: z.string().max(60),
  consumption: valueText,
  group: optionalText,
});

/**
 * How the old schema's free `quantity` strings map (compared lower-cased, with spaces and `-` as `_`). Anything
 * else is refused with `ingest.unmapped_quantity`, as is a unit that does not fit the quantity.
 */
export const LEGACY_QUANTITIES: Readonly<Record<string, Quantity>> = {
  energy: 'energy_import',
  energy_import: 'energy_import',
  import: 'energy_import',
  active_energy: 'energy_import',
  active_energy_import: 'energy_import',
  consumption: 'energy_import',
  energy_export: 'energy_export',
  export: 'energy_export',
  active_energy_export: 'energy_export',
  feed_in: 'energy_export',
  register: 'register_import',
  register_import: 'register_import',
  meter_reading: 'register_import',
  register_export: 'register_export',
  power: 'power',
  active_power: 'power',
  voltage: 'voltage',
  frequency: 'frequency',
};

/** The units (exact spelling) accepted per canonical unit, as the power of ten that converts them exactly. */
export const LEGACY_UNITS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  kWh: { Wh: -3, kWh: 0, MWh: 3 },
  kW: { W: -3, kW: 0, MW: 3 },
  V: { V: 0, kV: 3 },
  Hz: { Hz: 0, mHz: -3 },
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const refuse = (reason: ReadingRejectReason, message: string): CanonicalVerdict => ({ ok: false, reason, message });

const issues = (error: z.ZodError): string => error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ');

interface Draft {
  readonly meter_id: string;
  readonly kind: DeviceKind;
  readonly quantity: Quantity;
  readonly ts: string;
  readonly value: string;
  /** Power of ten the value is scaled by to reach the quantity's unit. */
  readonly shift: number;
  readonly interval: string | undefined;
  readonly recorded_at: string | undefined;
  readonly group: string | undefined;
}

/** Which input shape a record is in, or why none. */
function draftOf(record: Record<string, unknown>): Draft | CanonicalVerdict {
  if ('deviceId' in record) {
    const p = LegacyInputSchema.safeParse(record);
    if (!p.success) return refuse('ingest.invalid_reading', issues(p.error));
    const r = p.data;
    const key = r.quantity
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_');
    const quantity = LEGACY_QUANTITIES[key];
    if (quantity === undefined)
      return refuse('ingest.unmapped_quantity', `quantity ${JSON.stringify(r.quantity)} has no canonical quantity`);
    const unit = QUANTITIES[quantity].unit;
    const shift = LEGACY_UNITS[unit]?.[r.unit.trim()];
    if (shift === undefined)
      return refuse(
        'ingest.unmapped_quantity',
        `unit ${JSON.stringify(r.unit)} does not fit quantity ${JSON.stringify(r.quantity)} (${quantity}, ${unit})`,
      );
    // The interval is the meter's (from the registry, by the meters role): today's schema does not say it.
    return { ...r, meter_id: r.deviceId, quantity, shift, interval: undefined, recorded_at: undefined };
  }
  if ('meter_id' in record && 'consumption' in record) {
    const p = CommonInputSchema.safeParse(record);
    if (!p.success) return refuse('ingest.invalid_reading', issues(p.error));
    const r = p.data;
    return {
      meter_id: r.meter_id,
      kind: 'smart_meter',
      quantity: 'energy_import',
      ts: r.timestamp,
      value: r.consumption,
      shift: 0,
      interval: undefined,
      recorded_at: undefined,
      group: r.group,
    };
  }
  const p = CanonicalInputSchema.safeParse(record);
  if (!p.success) return refuse('ingest.invalid_reading', issues(p.error));
  const r = p.data;
  const unit = QUANTITIES[r.quantity].unit;
  if (r.unit !== undefined && r.unit !== unit)
    return refuse('ingest.unmapped_quantity', `unit ${JSON.stringify(r.unit)} is not ${r.quantity}'s unit ${unit}`);
  return { ...r, shift: 0 };
}

/**
 * Reads one input record (a parsed JSON object, or a CSV row as strings) as a canonical reading, refusing instead
 * of altering: ids with control characters, quantities and units with no canonical mapping, values that are not
 * exact decimals within range, times without `Z` or an offset, times before `rules.earliest` or more than
 * `rules.maxAheadMs` after `receivedAt` (epoch ms).
 */
export function readingFromRecord(record: unknown, rules: ReadingRules, receivedAt: number): CanonicalVerdict {
  if (typeof record !== 'object' || record === null || Array.isArray(record))
    return refuse('ingest.invalid_reading', 'a reading is a JSON object');
  const rec = record as Record<string, unknown>;
  for (const field of ['deviceId', 'meter_id', 'kind', 'quantity', 'unit', 'group'] as const) {
    const value = rec[field];
    if (typeof value === 'string' && CONTROL.test(value))
      return refuse('ingest.control_character', `${field} holds a control character`);
  }
  const draft = draftOf(rec);
  if ('ok' in draft) return draft;
  const exact = toExactDecimal(draft.value);
  if ('error' in exact)
    return refuse(exact.range ? 'ingest.number_out_of_range' : 'ingest.invalid_reading', `value: ${exact.error}`);
  const value = shiftValue(exact.value, draft.shift);
  if (value === undefined) return refuse('ingest.number_out_of_range', `value: ${draft.value} is out of range`);
  const ts = toUtcText(draft.ts);
  if ('error' in ts) return refuse(timeReason(draft.ts), `ts: ${ts.error}`);
  const at = Date.parse(ts.utc);
  if (!(at >= Date.parse(rules.earliest)))
    return refuse('ingest.timestamp_out_of_range', `ts is before ${rules.earliest}`);
  if (at > receivedAt + rules.maxAheadMs)
    return refuse(
      'ingest.timestamp_out_of_range',
      `ts is more than ${rules.maxAheadMs} ms after receipt (${new Date(receivedAt).toISOString()})`,
    );
  let recordedAt: string | undefined;
  if (draft.recorded_at !== undefined) {
    const r = toUtcText(draft.recorded_at);
    if ('error' in r) return refuse(timeReason(draft.recorded_at), `recorded_at: ${r.error}`);
    recordedAt = r.utc;
  }
  let interval: string | undefined;
  if (draft.interval !== undefined) {
    interval = normaliseInterval(draft.interval);
    if (interval === undefined)
      return refuse('ingest.invalid_reading', `interval: ${draft.interval} is not PTnM/PTnH of 1 minute to 1 day`);
  }
  if (interval !== undefined && QUANTITIES[draft.quantity].kind !== 'interval')
    return refuse('ingest.invalid_reading', 'interval: only energy_import/energy_export readings have one');
  // Built field by field from checked parts, so it meets CanonicalReadingSchema (the topic checks it on produce).
  const reading: CanonicalReading = {
    v: READING_SCHEMA_VERSION,
    meter_id: draft.meter_id,
    kind: draft.kind,
    quantity: draft.quantity,
    ts: ts.utc,
    value,
    ...(interval === undefined ? {} : { interval }),
    ...(recordedAt === undefined ? {} : { recorded_at: recordedAt }),
    ...(draft.group === undefined ? {} : { group: draft.group }),
  };
  return { ok: true, reading };
}

function shiftValue(value: Decimal, shift: number): Decimal | undefined {
  if (shift === 0) return value;
  const again = toExactDecimal(`${value}e${shift}`);
  return 'value' in again ? again.value : undefined;
}

const timeReason = (text: string): ReadingRejectReason =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
    ? 'ingest.timestamp_without_offset'
    : 'ingest.invalid_reading';

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });

/** The columns of a CSV header line, or why it cannot head readings (it names no meter). */
export function readingCsvHeader(line: Uint8Array): { readonly columns: string[] } | { readonly error: string } {
  let text: string;
  try {
    text = strictUtf8.decode(line).replace(/\r$/, '');
  } catch {
    return { error: 'the CSV header is not valid UTF-8' };
  }
  const columns = (parseCsvRows(text)[0] ?? []).map((c) => c.trim());
  if (!columns.includes('deviceId') && !columns.includes('meter_id'))
    return { error: 'the CSV header names neither a meter_id nor a deviceId column' };
  return { columns };
}

/**
 * Reads one CSV line (bytes, without its newline; one row per line, quoted fields without newlines) under its
 * header's columns as a reading ({@link readingFromRecord}; empty fields are absent fields, values are read
 * exactly from their text).
 */
export function parseReadingCsvRow(
  line: Uint8Array,
  columns: readonly string[],
  rules: ReadingRules,
  receivedAt: number,
): CanonicalVerdict {
  let text: string;
  try {
    text = strictUtf8.decode(line).replace(/\r$/, '');
  } catch {
    return refuse('ingest.invalid_text', 'the line is not valid UTF-8');
  }
  const rows = parseCsvRows(text);
  const fields = rows[0] ?? [];
  if (rows.length !== 1 || fields.length !== columns.length)
    return refuse('ingest.invalid_reading', `${fields.length} field(s) where the header has ${columns.length}`);
  const record: Record<string, string> = {};
  columns.forEach((name, i) => {
    const value = fields[i] ?? '';
    if (value !== '') record[name] = value;
  });
  return readingFromRecord(record, rules, receivedAt);
}
