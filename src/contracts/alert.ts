import { z } from 'zod';

const isoInstant = z.iso.datetime({ offset: false });

/** The detectors of the `alerts` role (`docs/ALERTS.md`). */
export const DETECTORS = [
  'meter_outage',
  'meter_reverse_flow',
  'meter_tamper',
  'meter_vee',
  'idle_source',
  'forecast_deviation',
  'price_negative',
  'price_extreme',
  'carbon_out_of_range',
] as const;
export type Detector = (typeof DETECTORS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];
export const SeveritySchema = z.enum(SEVERITIES);

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

export const ALERT_TRANSITIONS = ['opened', 'escalated', 'acknowledged', 'resolved'] as const;
export type AlertTransition = (typeof ALERT_TRANSITIONS)[number];

/** What made an alert: the values the detector compared and the event-time window they cover. */
export const AlertEvidenceSchema = z.object({
  window: z.object({ from: isoInstant, to: isoInstant }),
  values: z.record(z.string(), z.union([z.number(), z.string(), z.null()])),
});
export type AlertEvidence = z.infer<typeof AlertEvidenceSchema>;

/** An alert as stored, answered by the API and carried by its events. */
export const AlertSchema = z.object({
  id: z.string().regex(/^\d+$/),
  key: z.string().min(1).max(400),
  detector: z.enum(DETECTORS),
  subject: z.string().min(1).max(300),
  /** A code of the registry (`docs/ERROR-CODES.md`), e.g. `alerts.meter_outage`. */
  reason: z.string().min(1).max(80),
  severity: SeveritySchema,
  state: z.enum(ALERT_STATES),
  zone: z.string().max(40).nullable(),
  group: z.string().max(100).nullable(),
  meter: z.string().max(100).nullable(),
  message: z.string().max(2000),
  evidence: AlertEvidenceSchema,
  /** Event time: start of the first and end of the last window the signal was active in. */
  first_seen: isoInstant,
  last_seen: isoInstant,
  /** How many times the signal came back within the hysteresis (1: it never flapped). */
  occurrences: z.number().int().min(1),
  opened_at: isoInstant,
  updated_at: isoInstant,
  acknowledged_at: isoInstant.nullable(),
  acknowledged_by: z.string().nullable(),
  resolved_at: isoInstant.nullable(),
  resolved_by: z.string().nullable(),
});
export type Alert = z.infer<typeof AlertSchema>;

/** One transition of an alert: what the `alerts` topic carries and webhooks receive. */
export const AlertEventSchema = z.object({
  /** Unique per event (deduplicate on it: delivery is at least once). */
  event_id: z.string().regex(/^\d+$/),
  transition: z.enum(ALERT_TRANSITIONS),
  at: isoInstant,
  alert: AlertSchema,
});
export type AlertEvent = z.infer<typeof AlertEventSchema>;
