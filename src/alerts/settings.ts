import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { GridstreamError } from '../common/index.ts';
import type { Detector, Severity } from '../contracts/index.ts';
import { DETECTORS, SeveritySchema } from '../contracts/index.ts';
import { DAY_MS, parseResolution } from '../time/index.ts';
import type { Timing } from './lifecycle.ts';

/** `PT15M`, `PT2H`, `P1D`, `PT0S` → milliseconds (days are 24 h; months are refused). */
const IsoDurationMs = z.string().transform((text, ctx) => {
  if (/^PT0+[HMS]$/.test(text)) return 0;
  const r = parseResolution(text);
  if (r === undefined || (r.kind === 'calendar' && r.months > 0)) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 duration such as PT15M or P1D, got "${text}"` });
    return z.NEVER;
  }
  return r.kind === 'fixed' ? r.ms : r.days * DAY_MS;
});

/** A duration that may be negative (`-PT11H`: eleven hours ahead). */
const SignedDurationMs = z
  .string()
  .regex(/^-?P/, 'expected an ISO 8601 duration such as PT2H or -PT11H')
  .pipe(z.string().transform((t) => (t.startsWith('-') ? { sign: -1, text: t.slice(1) } : { sign: 1, text: t })))
  .pipe(z.object({ sign: z.number(), text: IsoDurationMs }))
  .transform((d) => d.sign * d.text);

const share = z.number().min(0).max(1);
const positive = z.number().positive();

const common = {
  enabled: z.boolean(),
  severity: SeveritySchema,
  minActive: IsoDurationMs,
  clearAfter: IsoDurationMs,
};

/** Every detector's settings, with the documented defaults (docs/ALERTS.md). */
const DetectorSettingsSchema = z.object({
  meter_outage: z.strictObject({
    ...common,
    /** A window is dark for a group when at least this share of its meters is silent or at zero… */
    darkShare: share,
    /** …and the alert stays while at least this share is (hysteresis on the share). */
    clearShare: share,
    /** Groups with fewer meters expected in a window are not judged. */
    minMeters: z.number().int().min(1),
    /** A window's energy at or below this many kWh counts as zero. */
    zeroKwh: z.number().min(0),
  }),
  meter_reverse_flow: z.strictObject({ ...common }),
  meter_tamper: z.strictObject({
    ...common,
    /** A meter's energy at or below this share of its profile's expectation counts as near zero… */
    ratio: share,
    /** …while the median meter of its group is at least at this share of its own (the group is normal). */
    groupNormal: share,
  }),
  meter_vee: z.strictObject({ ...common, rules: z.array(z.string().min(1)) }),
  idle_source: z.strictObject({
    ...common,
    /** Added to the learnt usual delay before a series counts as missing. */
    margin: IsoDurationMs,
    /** History the usual delay is learnt from. */
    lookback: IsoDurationMs,
    /** Slots of history a series needs before it has an expectation. */
    minSamples: z.number().int().min(1),
  }),
  forecast_deviation: z.strictObject({
    ...common,
    /** Deviation from the hour's median error, in robust standard deviations (1.4826·MAD). */
    k: positive,
    /** …and at least this share of the forecast (a series with a tiny MAD does not alert on noise). */
    minRelative: share,
    lookback: IsoDurationMs,
    /** Past errors an hour of day needs before it is judged. */
    minSamples: z.number().int().min(2),
  }),
  price_negative: z.strictObject({ ...common, below: z.number() }),
  price_extreme: z.strictObject({ ...common, /** EUR/MWh (other currencies are not judged). */ above: z.number() }),
  carbon_out_of_range: z.strictObject({
    ...common,
    k: positive,
    /** …and at least this far from the median, gCO2eq/kWh. */
    minAbsolute: z.number().min(0),
    lookback: IsoDurationMs,
    minSamples: z.number().int().min(2),
  }),
});
export type DetectorSettings = z.infer<typeof DetectorSettingsSchema>;

/** A fixed expectation for matching series, instead of or beside what the model learns. */
const PublicationOverrideSchema = z.strictObject({
  source: z.string().min(1).optional(),
  metric: z.string().min(1).optional(),
  zone: z.string().min(1).optional(),
  resolution: z.string().min(1).optional(),
  /** The usual delay after a slot's end (negative: published ahead, e.g. day-ahead prices). */
  delay: SignedDurationMs.optional(),
  margin: IsoDurationMs.optional(),
  /** false: never idle (a series that is published on demand only). */
  expected: z.boolean().optional(),
});
export type PublicationOverride = z.infer<typeof PublicationOverrideSchema>;

const D = (text: string): string => text;

/** The defaults, in the file's own notation (durations as ISO text). */
const DEFAULTS = {
  meter_outage: {
    enabled: true,
    severity: 'critical',
    minActive: D('PT15M'),
    clearAfter: D('PT30M'),
    darkShare: 0.5,
    clearShare: 0.2,
    minMeters: 5,
    zeroKwh: 0.0001,
  },
  meter_reverse_flow: { enabled: true, severity: 'warning', minActive: D('PT0S'), clearAfter: D('PT2H') },
  meter_tamper: {
    enabled: true,
    severity: 'warning',
    minActive: D('PT4H'),
    clearAfter: D('PT1H'),
    ratio: 0.1,
    groupNormal: 0.5,
  },
  meter_vee: {
    enabled: true,
    severity: 'info',
    minActive: D('PT0S'),
    clearAfter: D('PT0S'),
    rules: ['high_limit', 'low_limit', 'negative', 'frozen', 'spike', 'future', 'sum_check'],
  },
  idle_source: {
    enabled: true,
    severity: 'warning',
    minActive: D('PT0S'),
    clearAfter: D('PT0S'),
    margin: D('PT1H'),
    lookback: D('P14D'),
    minSamples: 8,
  },
  forecast_deviation: {
    enabled: true,
    severity: 'warning',
    minActive: D('PT1H'),
    clearAfter: D('PT1H'),
    k: 4,
    minRelative: 0.05,
    lookback: D('P28D'),
    minSamples: 7,
  },
  price_negative: { enabled: true, severity: 'info', minActive: D('PT0S'), clearAfter: D('PT1H'), below: 0 },
  price_extreme: { enabled: true, severity: 'warning', minActive: D('PT0S'), clearAfter: D('PT1H'), above: 500 },
  carbon_out_of_range: {
    enabled: true,
    severity: 'info',
    minActive: D('PT1H'),
    clearAfter: D('PT1H'),
    k: 5,
    minAbsolute: 50,
    lookback: D('P28D'),
    minSamples: 96,
  },
} as const;

const GroupSettingsSchema = z.strictObject({
  /**
   * How late this group's meters deliver at most: a window is silent for a meter only once this long has passed
   * after its end. Without it, silence never counts (data may just be late); zeros still do.
   */
  deliveryLatency: IsoDurationMs.optional(),
});

const RuleFileSchema = z.strictObject({
  detectors: z.partialRecord(z.enum(DETECTORS), z.record(z.string(), z.unknown())).optional(),
  /** Delivery latency of every group without its own. */
  deliveryLatency: IsoDurationMs.optional(),
  groups: z.record(z.string().min(1), GroupSettingsSchema).optional(),
  publication: z.array(PublicationOverrideSchema).optional(),
});

/** The alerts role's settings: every detector's, the groups' delivery latencies, publication overrides. */
export interface AlertRules {
  readonly detectors: DetectorSettings;
  readonly deliveryLatencyMs: number | null;
  readonly groups: ReadonlyMap<string, { readonly deliveryLatencyMs: number | null }>;
  readonly publication: readonly PublicationOverride[];
}

export class AlertRulesError extends GridstreamError {
  constructor(message: string) {
    super('alerts.rules_invalid', message);
  }
}

/** The rules of a parsed rule file (defaults where it says nothing); throws {@link AlertRulesError}. */
export function alertRulesOf(json: unknown): AlertRules {
  const file = RuleFileSchema.safeParse(json);
  if (!file.success) throw new AlertRulesError(issues(file.error));
  const merged = Object.fromEntries(DETECTORS.map((d) => [d, { ...DEFAULTS[d], ...(file.data.detectors?.[d] ?? {}) }]));
  const detectors = DetectorSettingsSchema.strict().safeParse(merged);
  if (!detectors.success) throw new AlertRulesError(issues(detectors.error, 'detectors.'));
  return {
    detectors: detectors.data,
    deliveryLatencyMs: file.data.deliveryLatency ?? null,
    groups: new Map(
      Object.entries(file.data.groups ?? {}).map(([g, s]) => [g, { deliveryLatencyMs: s.deliveryLatency ?? null }]),
    ),
    publication: file.data.publication ?? [],
  };
}

/** The defaults (no rule file). */
export const DEFAULT_ALERT_RULES: AlertRules = alertRulesOf({});

/** The rules of a rule file (`GRIDSTREAM_ALERT_RULES`), or the defaults without one; a bad file fails the start. */
export function loadAlertRules(path: string | null): AlertRules {
  if (path === null) return DEFAULT_ALERT_RULES;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AlertRulesError(`cannot read the alert rule file ${path}: ${(error as Error).message}`);
  }
  return alertRulesOf(json);
}

/** A group's delivery latency (ms), or null when silence does not count for it. */
export function deliveryLatencyOf(rules: AlertRules, group: string): number | null {
  return rules.groups.get(group)?.deliveryLatencyMs ?? rules.deliveryLatencyMs;
}

export function timingOf(rules: AlertRules, detector: Detector): Timing {
  const d = rules.detectors[detector];
  return { minActiveMs: d.minActive, clearAfterMs: d.clearAfter };
}

export function severityOf(rules: AlertRules, detector: Detector): Severity {
  return rules.detectors[detector].severity;
}

function issues(error: z.ZodError, prefix = ''): string {
  return error.issues.map((i) => `${prefix}${i.path.join('.')}: ${i.message}`).join('; ');
}
