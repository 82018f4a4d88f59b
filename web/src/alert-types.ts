/**
 * Answers of the alerts API (`/api/v1/alerts…`) and the stream's `alert` events, narrowed from `unknown`.
 * Instants stay ISO strings (the page shows them, and compares `updated_at` to keep the newest state of a row).
 */
import type { Decoder } from './decode.ts';
import { DecodeError, array, bool, field, nullable, num, record, str } from './decode.ts';

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const ALERT_STATES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertState = (typeof ALERT_STATES)[number];

/** The detectors, in words (the API's codes are the keys). */
export const DETECTOR_NAMES = {
  meter_outage: 'Meter outage',
  meter_reverse_flow: 'Reverse flow',
  meter_tamper: 'Possible tampering',
  meter_vee: 'Validation failures',
  idle_source: 'Source not publishing',
  forecast_deviation: 'Forecast deviation',
  price_negative: 'Negative price',
  price_extreme: 'Extreme price',
  carbon_out_of_range: 'Carbon intensity out of range',
} as const;
export type Detector = keyof typeof DETECTOR_NAMES;
export const DETECTORS = Object.keys(DETECTOR_NAMES) as Detector[];

/** A detector in words; a code this dashboard does not know yet is shown as it is. */
export function detectorName(detector: string): string {
  return (DETECTOR_NAMES as Readonly<Record<string, string>>)[detector] ?? detector;
}

export interface AlertEvidence {
  readonly from: string;
  readonly to: string;
  readonly values: Readonly<Record<string, number | string | null>>;
}

export interface Alert {
  readonly id: string;
  readonly detector: string;
  readonly subject: string;
  readonly severity: Severity;
  readonly state: AlertState;
  readonly zone: string | null;
  readonly group: string | null;
  readonly meter: string | null;
  readonly message: string;
  readonly evidence: AlertEvidence;
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly occurrences: number;
  readonly updatedAt: string;
  readonly acknowledgedAt: string | null;
  readonly acknowledgedBy: string | null;
  readonly resolvedAt: string | null;
  readonly resolvedBy: string | null;
}

export interface AlertTransitionRecord {
  readonly eventId: string;
  readonly transition: string;
  readonly at: string;
}

export interface AlertDetail {
  readonly alert: Alert;
  readonly events: readonly AlertTransitionRecord[];
}

/** One `alert` event of the live stream. */
export interface AlertEvent extends AlertTransitionRecord {
  readonly alert: Alert;
}

/** One row of the expected-publication model. */
export interface PublicationExpectation {
  readonly source: string;
  readonly metric: string;
  readonly zone: string;
  readonly resolution: string;
  /** Seconds after the end of a slot; negative: published ahead. Null: not learnt yet. */
  readonly usualDelayS: number | null;
  readonly expected: boolean;
  readonly overridden: boolean;
  readonly dueBy: string | null;
}

function oneOf<T extends string>(values: readonly T[]): Decoder<T> {
  return (value, at) => {
    const text = str(value, at);
    if (!(values as readonly string[]).includes(text))
      throw new DecodeError(`${at}: expected one of ${values.join(', ')}, got ${JSON.stringify(text)}`);
    return text as T;
  };
}

const evidenceValue: Decoder<number | string | null> = (value, at) =>
  value === null ? null : typeof value === 'number' ? num(value, at) : str(value, at);

function decodeEvidence(value: unknown, at: string): AlertEvidence {
  const o = record(value, at);
  const window = field(o, 'window', record, at);
  const values = field(o, 'values', record, at);
  const out: Record<string, number | string | null> = {};
  for (const name of Object.keys(values)) out[name] = field(values, name, evidenceValue, `${at}.values`);
  return {
    from: field(window, 'from', str, `${at}.window`),
    to: field(window, 'to', str, `${at}.window`),
    values: out,
  };
}

export const decodeAlert: Decoder<Alert> = (value, at) => {
  const o = record(value, at);
  return {
    id: field(o, 'id', str, at),
    detector: field(o, 'detector', str, at),
    subject: field(o, 'subject', str, at),
    severity: field(o, 'severity', oneOf(SEVERITIES), at),
    state: field(o, 'state', oneOf(ALERT_STATES), at),
    zone: field(o, 'zone', nullable(str), at),
    group: field(o, 'group', nullable(str), at),
    meter: field(o, 'meter', nullable(str), at),
    message: field(o, 'message', str, at),
    evidence: field(o, 'evidence', decodeEvidence, at),
    firstSeen: field(o, 'first_seen', str, at),
    lastSeen: field(o, 'last_seen', str, at),
    occurrences: field(o, 'occurrences', num, at),
    updatedAt: field(o, 'updated_at', str, at),
    acknowledgedAt: field(o, 'acknowledged_at', nullable(str), at),
    acknowledgedBy: field(o, 'acknowledged_by', nullable(str), at),
    resolvedAt: field(o, 'resolved_at', nullable(str), at),
    resolvedBy: field(o, 'resolved_by', nullable(str), at),
  };
};

const decodeTransition: Decoder<AlertTransitionRecord> = (value, at) => {
  const o = record(value, at);
  return {
    eventId: field(o, 'event_id', str, at),
    transition: field(o, 'transition', str, at),
    at: field(o, 'at', str, at),
  };
};

/** `GET /api/v1/alerts`. */
export const decodeAlertList: Decoder<Alert[]> = (value, at) =>
  field(record(value, at), 'alerts', array(decodeAlert), at);

/** `GET /api/v1/alerts/{id}`. */
export const decodeAlertDetail: Decoder<AlertDetail> = (value, at) => {
  const o = record(value, at);
  return { alert: field(o, 'alert', decodeAlert, at), events: field(o, 'events', array(decodeTransition), at) };
};

/** `POST /api/v1/alerts/{id}/acknowledge` and `/resolve`. */
export const decodeAlertChange: Decoder<{ alert: Alert; changed: boolean }> = (value, at) => {
  const o = record(value, at);
  return { alert: field(o, 'alert', decodeAlert, at), changed: field(o, 'changed', bool, at) };
};

/** The stream's `alert` event. */
export const decodeAlertEvent: Decoder<AlertEvent> = (value, at) => {
  const o = record(value, at);
  return { ...decodeTransition(value, at), alert: field(o, 'alert', decodeAlert, at) };
};

/** `GET /api/v1/alerts/publication`. */
export const decodePublication: Decoder<PublicationExpectation[]> = (value, at) =>
  field(
    record(value, at),
    'expectations',
    array((e, a) => {
      const o = record(e, a);
      return {
        source: field(o, 'source', str, a),
        metric: field(o, 'metric', str, a),
        zone: field(o, 'zone', str, a),
        resolution: field(o, 'resolution', str, a),
        usualDelayS: field(o, 'usual_delay_s', nullable(num), a),
        expected: field(o, 'expected', bool, a),
        overridden: field(o, 'overridden', bool, a),
        dueBy: field(o, 'due_by', nullable(str), a),
      };
    }),
    at,
  );

/** `GET /api/v1/alerts/counts`: unresolved alerts per state and severity. */
export const decodeAlertCounts: Decoder<{ state: string; severity: string; count: number }[]> = (value, at) =>
  field(
    record(value, at),
    'counts',
    array((e, a) => {
      const o = record(e, a);
      return {
        state: field(o, 'state', str, a),
        severity: field(o, 'severity', str, a),
        count: field(o, 'count', num, a),
      };
    }),
    at,
  );
