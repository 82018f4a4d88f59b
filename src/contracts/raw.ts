import { z } from 'zod';

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

/** One device reading (smart meter, SCADA, PMU) as taken in by the input gateway. */
export const MeterReadingSchema = z.object({
  deviceId: z.string().min(1).max(100),
  kind: z.enum(['smart_meter', 'scada', 'pmu']),
  /** Measurement time, UTC. */
  ts: isoInstant,
  quantity: z.string().min(1).max(60),
  value: z.number(),
  unit: z.string().min(1).max(20),
  /** Aggregation group (feeder, substation, zone) for `meters.aggregates`. */
  group: z.string().max(100).optional(),
});
export type MeterReading = z.infer<typeof MeterReadingSchema>;

/** A windowed aggregate of device readings; settlement relies on these, so their topic is exactly-once. */
export const MeterAggregateSchema = z.object({
  group: z.string().min(1).max(100),
  quantity: z.string().min(1).max(60),
  unit: z.string().min(1).max(20),
  windowStart: isoInstant,
  windowEnd: isoInstant,
  count: z.number().int().nonnegative(),
  sum: z.number(),
  min: z.number(),
  max: z.number(),
});
export type MeterAggregate = z.infer<typeof MeterAggregateSchema>;

/** An anomaly or operational alert. */
export const AlertSchema = z.object({
  id: z.string().min(1).max(200),
  kind: z.string().min(1).max(60),
  severity: z.enum(['info', 'warning', 'critical']),
  zone: z.string().max(40).optional(),
  metric: z.string().max(60).optional(),
  slotStart: isoInstant.optional(),
  message: z.string().max(2000),
  detectedAt: isoInstant,
  value: z.number().optional(),
  expected: z.number().optional(),
});
export type Alert = z.infer<typeof AlertSchema>;
