import { z } from 'zod';
import type { Variable } from './variable.ts';
import { milliseconds, variable } from './variable.ts';

/** The `alerts` role: detector settings and webhook delivery. */
export interface AlertSettings {
  /** `GRIDSTREAM_ALERT_RULES`: a JSON file of detector settings and publication expectations. @default none */
  readonly rulesFile: string | null;
  /** `GRIDSTREAM_ALERTS_INTERVAL_MS`: how often the detectors look at new data. @default 5 s */
  readonly intervalMs: number;
  /** `GRIDSTREAM_WEBHOOK_MAX_ATTEMPTS`: attempts of one webhook delivery before it is dead-lettered. @default 8 */
  readonly webhookMaxAttempts: number;
  /** `GRIDSTREAM_WEBHOOK_TIMEOUT_MS`: time one webhook request may take. @default 5 s */
  readonly webhookTimeoutMs: number;
}

const path = z
  .string()
  .min(1)
  .refine((p) => !Array.from(p, (c) => c.charCodeAt(0)).some((code) => code < 32), 'expected the path of a JSON file');

/** The alert settings' declarations (part of `VARIABLES`, in this order). */
export const ALERT_VARIABLES = {
  alertRulesFile: variable<string | null>({
    name: 'GRIDSTREAM_ALERT_RULES',
    schema: path,
    fallback: null,
    shown: 'none',
    description:
      'A JSON file of detector settings (`{"detectors": {"meter_outage": {...}}, "groups": {"feeder-7": {"deliveryLatency": "PT30M"}}, "publication": [...]}`) overriding the documented defaults of the `alerts` role (docs/ALERTS.md); its `publication` entries also tell the scheduler\'s gap healer which slots are expected. Unset: the defaults.',
  }),
  alertsIntervalMs: variable({
    name: 'GRIDSTREAM_ALERTS_INTERVAL_MS',
    schema: milliseconds.min(100).max(3_600_000),
    fallback: 5_000,
    shown: '5000',
    description: 'How often the `alerts` role runs its detectors over what arrived since their last look.',
  }),
  webhookMaxAttempts: variable({
    name: 'GRIDSTREAM_WEBHOOK_MAX_ATTEMPTS',
    schema: z.coerce.number({ message: 'expected a whole number' }).int('expected a whole number').min(1).max(50),
    fallback: 8,
    shown: '8',
    description:
      'Attempts of one webhook delivery (exponential backoff from 1 s, at most 10 min apart) before it is marked dead and dead-lettered to dlq-processing with reason `alerts.webhook_failed`.',
  }),
  webhookTimeoutMs: variable({
    name: 'GRIDSTREAM_WEBHOOK_TIMEOUT_MS',
    schema: milliseconds.min(100).max(120_000),
    fallback: 5_000,
    shown: '5000',
    description: 'Time one webhook request may take (connect, send, answer) before it counts as a failed attempt.',
  }),
} as const;

/** Reads the alert settings with the loader's `read`. */
export function readAlertSettings(read: <T>(v: Variable<T>) => T): AlertSettings {
  const V = ALERT_VARIABLES;
  return {
    rulesFile: read(V.alertRulesFile),
    intervalMs: read(V.alertsIntervalMs),
    webhookMaxAttempts: read(V.webhookMaxAttempts),
    webhookTimeoutMs: read(V.webhookTimeoutMs),
  };
}
