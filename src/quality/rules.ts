import { z } from 'zod';
import { LOAD_PROFILES } from '../meters/index.ts';

/**
 * The validation rules of VEE, by id. Each rule has a documented default (below, and in the README's table) that a
 * rule file (`GRIDSTREAM_VEE_RULES`) changes per load profile class or per meter group.
 */
export const RULE_IDS = [
  'high_limit',
  'low_limit',
  'negative',
  'frozen',
  'zero_run',
  'spike',
  'gap',
  'future',
  'changed_after_validation',
  'sum_check',
] as const;
export type RuleId = (typeof RULE_IDS)[number];

/**
 * What a failed rule does to the value: `reject` replaces it with an estimate (the raw value is kept), `flag` keeps
 * it and records the failure.
 */
export const RULE_ACTIONS = ['reject', 'flag'] as const;
export type RuleAction = (typeof RULE_ACTIONS)[number];

const action = z.enum(RULE_ACTIONS);
const share = z.number().min(0);
const kwh = z.number().min(0);
const count = z.number().int().min(1);

/** The settings of every rule and of estimation, complete (the defaults merged with any overrides). */
export const VeeSettingsSchema = z.strictObject({
  high_limit: z.strictObject({
    enabled: z.boolean(),
    action,
    /** Limit = factor × the highest interval energy of the meter's BDEW profile at its annual consumption. */
    factor: share,
    /** The limit is never below this (kWh per interval): small or zero annual estimates. */
    floor_kwh: kwh,
  }),
  low_limit: z.strictObject({
    enabled: z.boolean(),
    action,
    /** Limit = factor × the BDEW profile energy of the interval at the meter's annual consumption. */
    factor: share,
  }),
  negative: z.strictObject({ enabled: z.boolean(), action }),
  frozen: z.strictObject({ enabled: z.boolean(), action, min_run: count }),
  zero_run: z.strictObject({ enabled: z.boolean(), action, min_run: count }),
  spike: z.strictObject({
    enabled: z.boolean(),
    action,
    /** A value more than factor × the median of its neighbours... */
    factor: share,
    /** ...and more than this above it (kWh: a quiet night's 0.01 next to 0.001 is no spike). */
    min_delta_kwh: kwh,
    /** Neighbours on each side. */
    neighbours: count,
  }),
  future: z.strictObject({ enabled: z.boolean(), action }),
  changed_after_validation: z.strictObject({ enabled: z.boolean() }),
  sum_check: z.strictObject({
    enabled: z.boolean(),
    /** Allowed difference between the register delta and the interval sum: the larger of the two. */
    tolerance_kwh: kwh,
    tolerance_share: share,
  }),
  estimation: z.strictObject({
    /** Gaps up to this long (seconds) are interpolated linearly between the values around them. */
    linear_max_s: z.number().int().min(0),
    /** Longer gaps: the mean of the same weekday and local time in the last `history_weeks` weeks... */
    history_weeks: z.number().int().min(1).max(12),
    /** ...when at least this many of those weeks have a measured value; else the BDEW profile. */
    history_min: z.number().int().min(1),
  }),
});
export type VeeSettings = z.infer<typeof VeeSettingsSchema>;

/** The documented defaults (README, "Validation rules"). */
export const DEFAULT_VEE_SETTINGS: VeeSettings = {
  high_limit: { enabled: true, action: 'reject', factor: 10, floor_kwh: 1 },
  low_limit: { enabled: false, action: 'flag', factor: 0 },
  negative: { enabled: true, action: 'reject' },
  frozen: { enabled: true, action: 'reject', min_run: 8 },
  zero_run: { enabled: true, action: 'flag', min_run: 32 },
  spike: { enabled: true, action: 'reject', factor: 5, min_delta_kwh: 0.05, neighbours: 4 },
  future: { enabled: true, action: 'reject' },
  changed_after_validation: { enabled: true },
  sum_check: { enabled: true, tolerance_kwh: 0.01, tolerance_share: 0.01 },
  estimation: { linear_max_s: 3600, history_weeks: 4, history_min: 2 },
};

/** Overrides of some settings: any rule, any of its fields. */
const PartialRuleSchema = z.strictObject(
  Object.fromEntries(
    Object.entries(VeeSettingsSchema.shape).map(([k, v]) => [k, (v as z.ZodObject).partial().optional()]),
  ),
);

/**
 * A rule file: the defaults overridden for everyone, per load profile class, and per group (the most specific
 * wins: group over profile over `default`).
 */
export const VeeRuleFileSchema = z.strictObject({
  default: PartialRuleSchema.optional(),
  profiles: z.partialRecord(z.enum(LOAD_PROFILES), PartialRuleSchema).optional(),
  groups: z.record(z.string().min(1).max(100), PartialRuleSchema).optional(),
});
export type VeeRuleFile = z.infer<typeof VeeRuleFileSchema>;

/** Which rules apply to a meter of a profile class and group. */
export class VeeRules {
  readonly #file: VeeRuleFile;
  readonly #cache = new Map<string, VeeSettings>();

  constructor(file: VeeRuleFile = {}) {
    this.#file = file;
  }

  /** The settings of a meter: the defaults, then `default`, then its profile's, then its group's overrides. */
  for(profile: string, group: string | null): VeeSettings {
    const key = `${profile}\u0000${group ?? ''}`;
    let settings = this.#cache.get(key);
    if (settings === undefined) {
      const layers = [
        this.#file.default,
        (this.#file.profiles as Record<string, unknown> | undefined)?.[profile],
        group === null ? undefined : this.#file.groups?.[group],
      ];
      settings = structuredClone(DEFAULT_VEE_SETTINGS);
      for (const layer of layers) {
        if (layer === undefined || layer === null) continue;
        for (const [rule, fields] of Object.entries(layer as Record<string, object | undefined>)) {
          if (fields === undefined) continue;
          const target = (settings as Record<string, object>)[rule];
          (settings as Record<string, object>)[rule] = { ...target, ...fields };
        }
      }
      settings = VeeSettingsSchema.parse(settings);
      this.#cache.set(key, settings);
    }
    return settings;
  }
}
