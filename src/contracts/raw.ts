import { z } from 'zod';
import type { CanonicalVerdict, ReadingRejectReason, ReadingRules } from './reading-inputs.ts';
import { readingFromRecord } from './reading-inputs.ts';
import { CanonicalReadingSchema } from './reading.ts';

const isoInstant = z.iso.datetime({ offset: false });

/**
 * What was asked of the ENTSO-E API: enough to ask again (`gridstream dlq replay dlq-ingestion`). Never the token.
 */
export const EntsoeRequestSchema = z.object({
  documentType: z.string().regex(/^A\d{2}$/),
  processType: z
    .string()
    .regex(/^A\d{2}$/)
    .optional(),
  businessType: z
    .string()
    .regex(/^[AB]\d{2}$/)
    .optional(),
  psrType: z
    .string()
    .regex(/^[AB]\d{2}$/)
    .optional(),
  contractType: z
    .string()
    .regex(/^A\d{2}$/)
    .optional(),
  /** Domain parameters by name (`in_Domain`, `out_Domain`, `outBiddingZone_Domain`…) → EIC. */
  domains: z.record(z.string(), z.string().min(1).max(32)),
  periodStart: isoInstant,
  periodEnd: isoInstant,
  offset: z.number().int().nonnegative().optional(),
  /** Zone codes the request is about, for humans and the admin UI. */
  zones: z.array(z.string()).default([]),
});
export type EntsoeRequest = z.infer<typeof EntsoeRequestSchema>;

/** A raw ENTSO-E response document, as fetched (or replayed from a bundled file). */
export const RawEntsoeDocumentSchema = z.object({
  id: z.string().min(1).max(100),
  origin: z.enum(['api', 'replay', 'file', 'dlq-replay']),
  fetchedAt: isoInstant,
  request: EntsoeRequestSchema.nullable(),
  httpStatus: z.number().int().nullable(),
  /** The response body as text (XML). */
  body: z.string(),
  /** File name when `origin` is `replay` or `file`. */
  fileName: z.string().optional(),
});
export type RawEntsoeDocument = z.infer<typeof RawEntsoeDocumentSchema>;

/** A raw Electricity Maps response. */
export const RawElectricityMapsSchema = z.object({
  id: z.string().min(1).max(100),
  origin: z.enum(['api', 'replay', 'file', 'dlq-replay']),
  fetchedAt: isoInstant,
  endpoint: z.enum([
    'power-breakdown/latest',
    'power-breakdown/history',
    'carbon-intensity/latest',
    'carbon-intensity/history',
    'carbon-intensity/past-range',
  ]),
  zone: z.string().min(1).max(40),
  httpStatus: z.number().int().nullable(),
  body: z.unknown(),
  fileName: z.string().optional(),
});
export type RawElectricityMaps = z.infer<typeof RawElectricityMapsSchema>;

/** One device reading (smart meter, SCADA, PMU) in the old device schema (input, and `raw.meters` version 1). */
export const MeterReadingSchema = z.object({
  deviceId: z.string().min(1).max(100),
  kind: z.enum(['smart_meter', 'scada', 'pmu']),
  /** Measurement time, UTC. */
  ts: isoInstant,
  quantity: z.string().min(1).max(60),
  value: z.number(),
  unit: z.string().min(1).max(20),
  /** Aggregation group (feeder, substation, portfolio); the registry's group decides where a meter's values count. */
  group: z.string().max(100).optional(),
});
export type MeterReading = z.infer<typeof MeterReadingSchema>;

/** `GRIDSTREAM_READINGS_EARLIEST` and `GRIDSTREAM_READINGS_MAX_AHEAD_MS` as documented. */
export const DEFAULT_READING_RULES: ReadingRules = { earliest: '2000-01-01T00:00:00Z', maxAheadMs: 86_400_000 };

/** One line read as a canonical reading, or why it was refused. */
export type ReadingVerdict = CanonicalVerdict;

/**
 * What `raw.meters` holds: canonical readings (schema version 2, `v: 2`) and, from before, readings of the old
 * device schema (version 1, no `v`), which still decode; {@link canonicalOfRaw} reads both as canonical.
 */
export const RawMeterRecordSchema = z.union([CanonicalReadingSchema, MeterReadingSchema]);
export type RawMeterRecord = z.infer<typeof RawMeterRecordSchema>;

const ANY_TIME: ReadingRules = { earliest: '0000-01-01T00:00:00Z', maxAheadMs: Number.POSITIVE_INFINITY };

/** A `raw.meters` record as a canonical reading (a version-1 record is mapped as at ingest, without time bounds). */
export function canonicalOfRaw(record: RawMeterRecord): CanonicalVerdict {
  if ('v' in record) return { ok: true, reading: record };
  return readingFromRecord({ ...record, value: String(record.value) }, ANY_TIME, 0);
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true });
/** Keys whose number is a reading's value: kept as the exact text the source wrote, never as a float. */
const VALUE_KEYS = new Set(['value', 'consumption']);
/** A JSON number literal with a non-zero digit in its mantissa (so it is not 0, whatever its exponent says). */
const NONZERO_MANTISSA = /^-?(?:0*\.0*[1-9]|0*[1-9])/;

/** Text that may hold a number JSON.parse would alter: a digit then an exponent, or a run of 300 digits. */
const RISKY_NUMBER = /\d[eE]|\d{300}/;

/** `"value"` occurs once in `text`, as `needle` followed by the end of a JSON value (so `needle` is the key's). */
function exactlyOnce(text: string, needle: string): boolean {
  const key = text.indexOf('"value"');
  if (key === -1 || text.indexOf('"value"', key + 1) !== -1) return false;
  const at = text.indexOf(needle);
  if (at !== key) return false;
  const next = text.charAt(at + needle.length);
  return next === ',' || next === '}' || next === ' ' || next === '\t' || next === '\r' || next === '';
}

/** Bytes as JSON, refusing instead of altering (see {@link parseReadingLine}); values stay their source text. */
export function parseReadingJson(
  bytes: Uint8Array,
): { readonly json: unknown } | { readonly reason: ReadingRejectReason; readonly message: string } {
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    return { reason: 'ingest.invalid_text', message: 'the line is not valid UTF-8' };
  }
  // Fast path: one object whose only `value` number is written in its shortest form (what a float prints back
  // exactly), and no number that could overflow or underflow. Anything else goes through the reviver.
  if (!RISKY_NUMBER.test(text)) {
    try {
      const plain: unknown = JSON.parse(text);
      if (typeof plain === 'object' && plain !== null && !Array.isArray(plain)) {
        const o = plain as Record<string, unknown>;
        const v = o['value'];
        if (typeof v !== 'number' && !('consumption' in o)) return { json: plain };
        if (typeof v === 'number' && !('consumption' in o) && exactlyOnce(text, `"value":${String(v)}`))
          return { json: { ...o, value: String(v) } };
      }
    } catch (error) {
      return { reason: 'ingest.not_json', message: error instanceof Error ? error.message : String(error) };
    }
  }
  let altered: string | undefined;
  let json: unknown;
  try {
    json = JSON.parse(text, (key: string, value: unknown, context?: { source?: string }) => {
      if (typeof value !== 'number') return value;
      if (VALUE_KEYS.has(key) && context?.source !== undefined) return context.source;
      if (altered === undefined) {
        if (!Number.isFinite(value)) altered = `${key}: ${context?.source ?? 'number'} is not a finite number`;
        else if (value === 0 && context?.source !== undefined && NONZERO_MANTISSA.test(context.source))
          altered = `${key}: ${context.source} underflows to 0`;
      }
      return value;
    });
  } catch (error) {
    return { reason: 'ingest.not_json', message: error instanceof Error ? error.message : String(error) };
  }
  if (altered !== undefined) return { reason: 'ingest.number_out_of_range', message: altered };
  return { json };
}

/**
 * Reads one line (bytes, without its newline) as a reading in any JSON input shape ({@link readingFromRecord}),
 * refusing instead of altering: bytes that are not UTF-8 (never replaced by U+FFFD), numbers that are not finite or
 * that underflow to 0 (`1e-400`), values read exactly from their source text (never through a float), control
 * characters in ids, times without an offset, and timestamps before `rules.earliest` or more than
 * `rules.maxAheadMs` after `receivedAt` (epoch ms).
 */
export function parseReadingLine(line: Uint8Array, rules: ReadingRules, receivedAt: number): ReadingVerdict {
  const parsed = parseReadingJson(line);
  if ('reason' in parsed) return { ok: false, reason: parsed.reason, message: parsed.message };
  return readingFromRecord(parsed.json, rules, receivedAt);
}
