import type { Decimal } from '../common/index.ts';
import { normaliseDecimal, toScaled } from '../common/index.ts';
import type { RuleId, VeeSettings } from './rules.ts';

/**
 * Validation, estimation and editing of one meter's local day: pure functions, no I/O (the quality role loads the
 * inputs and stores the results). Values are exact decimals; rules compare them as numbers (a decision, not an
 * amount); estimates are computed exactly and rounded half-even to 4 decimals (0.1 Wh).
 */

/** What a stored interval value is. */
export const VEE_QUALITIES = ['measured', 'estimated', 'substituted', 'missing'] as const;
export type VeeQuality = (typeof VEE_QUALITIES)[number];
/** What set it: the measurement, an estimation method, an operator's edit, or nothing. */
export const VEE_METHODS = ['measured', 'linear', 'history', 'profile', 'edit', 'edit_override', 'none'] as const;
export type VeeMethod = (typeof VEE_METHODS)[number];

/** Estimates are rounded to this many decimals of a kWh. */
export const ESTIMATE_SCALE = 4;

export interface MeasuredValue {
  readonly value: Decimal;
  /** When the value reached gridstream (for the `future` rule). */
  readonly receivedAtMs: number;
}

export interface VeeEdit {
  readonly value: Decimal;
  readonly override: boolean;
}

/** A register delta over a span of the day (the first and last register reads inside it). */
export interface RegisterSpan {
  readonly fromMs: number;
  readonly toMs: number;
  readonly delta: Decimal;
}

export interface VeeDayInput {
  readonly registerType: 'import' | 'export' | 'net';
  readonly quantity: 'energy_import' | 'energy_export';
  readonly intervalMs: number;
  /** Interval starts of the day, in order (92, 96 or 100 quarters on DST days). */
  readonly slots: readonly number[];
  /** Measured values by interval start: the day's and its neighbours' (context for spikes, runs, interpolation). */
  readonly measured: ReadonlyMap<number, MeasuredValue>;
  /** The raw value each slot had when it was last validated (absent: never validated). */
  readonly previousRaw: ReadonlyMap<number, Decimal | null>;
  /** Slots whose value changed after an earlier validation: the flag stays on them. */
  readonly changedBefore?: ReadonlySet<number>;
  /** Edits in force by interval start. */
  readonly edits: ReadonlyMap<number, VeeEdit>;
  /** The BDEW profile energy of an interval at the meter's annual consumption (absent: no profile applies). */
  readonly profileKwh: (ts: number) => Decimal | undefined;
  /** The profile's highest power over the year held for one whole interval of the meter (high limit base). */
  readonly profilePeakKwh: Decimal | undefined;
  readonly registerSpans: readonly RegisterSpan[];
  readonly settings: VeeSettings;
  readonly clockToleranceMs: number;
}

/** One failed rule on one interval, with what it compared. */
export interface RuleFailure {
  readonly rule: RuleId;
  readonly detail: Readonly<Record<string, string | number>>;
}

/** Validation of one slot: the rules its raw value failed, and whether a failure rejects it. */
export interface SlotValidation {
  readonly ts: number;
  readonly raw: Decimal | null;
  readonly failures: readonly RuleFailure[];
  readonly rejected: boolean;
}

/** The validated value of one slot. */
export interface VeeSlotResult {
  readonly ts: number;
  readonly value: Decimal | null;
  readonly quality: VeeQuality;
  readonly method: VeeMethod;
  readonly raw: Decimal | null;
  readonly failures: readonly RuleFailure[];
}

const num = (d: Decimal): number => Number(d);

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/**
 * Runs the validation rules on the day's raw values. A rule's `action` decides whether its failure rejects the
 * value (it will be estimated) or only flags it. A missing value fails `gap`.
 */
export function validateDay(input: VeeDayInput): SlotValidation[] {
  const { settings: s, slots, measured, intervalMs } = input;
  const failures = new Map<number, RuleFailure[]>();
  const rejected = new Set<number>();
  const fail = (ts: number, rule: RuleId, detail: Record<string, string | number>, reject: boolean): void => {
    let list = failures.get(ts);
    if (list === undefined) failures.set(ts, (list = []));
    list.push({ rule, detail });
    if (reject) rejected.add(ts);
  };
  const inDay = new Set(slots);
  const first = slots[0] ?? 0;
  const last = slots.at(-1) ?? 0;

  for (const ts of slots) {
    const m = measured.get(ts);
    if (m === undefined) {
      fail(ts, 'gap', {}, true);
      continue;
    }
    const v = num(m.value);
    if (s.negative.enabled && v < 0 && input.registerType === 'import')
      fail(ts, 'negative', { value: m.value }, s.negative.action === 'reject');
    if (s.high_limit.enabled && input.profilePeakKwh !== undefined) {
      const limit = Math.max(s.high_limit.factor * num(input.profilePeakKwh), s.high_limit.floor_kwh);
      if (v > limit) fail(ts, 'high_limit', { value: m.value, limit: round4(limit) }, s.high_limit.action === 'reject');
    }
    if (s.low_limit.enabled && s.low_limit.factor > 0) {
      const p = input.profileKwh(ts);
      if (p !== undefined) {
        const limit = s.low_limit.factor * num(p);
        if (v < limit) fail(ts, 'low_limit', { value: m.value, limit: round4(limit) }, s.low_limit.action === 'reject');
      }
    }
    if (s.future.enabled && ts > m.receivedAtMs + input.clockToleranceMs)
      fail(
        ts,
        'future',
        { received_at: new Date(m.receivedAtMs).toISOString(), tolerance_ms: input.clockToleranceMs },
        s.future.action === 'reject',
      );
    if (s.changed_after_validation.enabled) {
      const before = input.previousRaw.get(ts);
      if (before !== undefined && before !== null && before !== m.value)
        fail(ts, 'changed_after_validation', { before, after: m.value }, false);
      else if (input.changedBefore?.has(ts) === true) fail(ts, 'changed_after_validation', { after: m.value }, false);
    }
    if (s.spike.enabled) {
      const around: number[] = [];
      for (let k = 1; k <= s.spike.neighbours; k++) {
        for (const n of [measured.get(ts - k * intervalMs), measured.get(ts + k * intervalMs)])
          if (n !== undefined) around.push(num(n.value));
      }
      if (around.length >= 2) {
        const med = median(around);
        if (v > s.spike.factor * med && v - med > s.spike.min_delta_kwh)
          fail(
            ts,
            'spike',
            { value: m.value, median: round4(med), factor: s.spike.factor },
            s.spike.action === 'reject',
          );
      }
    }
  }

  // Runs of one value, looked for across the day's borders (a run may start the day before).
  const runRule = (rule: 'frozen' | 'zero_run', minRun: number, reject: boolean, zero: boolean): void => {
    let ts = first - minRun * intervalMs;
    const end = last + minRun * intervalMs;
    while (ts <= end) {
      const m = measured.get(ts);
      if (m === undefined || (num(m.value) === 0) !== zero) {
        ts += intervalMs;
        continue;
      }
      let stop = ts + intervalMs;
      while (measured.get(stop)?.value === m.value) stop += intervalMs;
      const length = (stop - ts) / intervalMs;
      if (length >= minRun)
        for (let t = ts; t < stop; t += intervalMs)
          if (inDay.has(t)) fail(t, rule, { value: m.value, run: length }, reject);
      ts = stop;
    }
  };
  if (s.frozen.enabled) runRule('frozen', s.frozen.min_run, s.frozen.action === 'reject', false);
  if (s.zero_run.enabled) runRule('zero_run', s.zero_run.min_run, s.zero_run.action === 'reject', true);

  if (s.sum_check.enabled) {
    for (const span of input.registerSpans) {
      const inside = slots.filter((t) => t >= span.fromMs && t + intervalMs <= span.toMs);
      if (inside.length === 0 || inside.some((t) => !measured.has(t))) continue;
      const sum = inside.reduce((a, t) => a + num(measured.get(t)?.value ?? ('0' as Decimal)), 0);
      const delta = num(span.delta);
      const tolerance = Math.max(s.sum_check.tolerance_kwh, s.sum_check.tolerance_share * Math.abs(delta));
      if (Math.abs(delta - sum) > tolerance)
        for (const t of inside) fail(t, 'sum_check', { register_delta: span.delta, interval_sum: round4(sum) }, false);
    }
  }

  return slots.map((ts) => ({
    ts,
    raw: measured.get(ts)?.value ?? null,
    failures: failures.get(ts) ?? [],
    rejected: rejected.has(ts),
  }));
}

/**
 * The slots whose estimate needs the meter's history: rejected or missing slots in runs longer than linear
 * interpolation covers (or without a good value on both sides), and no edit in force.
 */
export function historyNeeded(input: VeeDayInput, validation: readonly SlotValidation[]): number[] {
  return estimationRuns(input, validation)
    .filter((r) => r.method !== 'linear')
    .flatMap((r) => r.slots);
}

interface Run {
  readonly slots: number[];
  readonly method: 'linear' | 'later';
  readonly before?: Decimal;
  readonly after?: Decimal;
}

function estimationRuns(input: VeeDayInput, validation: readonly SlotValidation[]): Run[] {
  const { intervalMs, settings } = input;
  const bad = new Set(validation.filter((v) => v.rejected).map((v) => v.ts));
  const good = (ts: number): Decimal | undefined => {
    const m = input.measured.get(ts);
    if (m === undefined) return undefined;
    if (bad.has(ts)) return undefined;
    // Outside the day no validation ran: a neighbour counts as good unless it is negative on an import register.
    if (!validation.some((v) => v.ts === ts) && input.registerType === 'import' && num(m.value) < 0) return undefined;
    return m.value;
  };
  const runs: Run[] = [];
  let current: number[] = [];
  const close = (): void => {
    if (current.length === 0) return;
    const firstTs = current[0] ?? 0;
    const lastTs = current.at(-1) ?? 0;
    const before = good(firstTs - intervalMs) ?? input.edits.get(firstTs - intervalMs)?.value;
    const after = good(lastTs + intervalMs) ?? input.edits.get(lastTs + intervalMs)?.value;
    const short = current.length * intervalMs <= settings.estimation.linear_max_s * 1000;
    runs.push(
      short && before !== undefined && after !== undefined
        ? { slots: current, method: 'linear', before, after }
        : { slots: current, method: 'later' },
    );
    current = [];
  };
  for (const v of validation) {
    const needs = (v.rejected || v.raw === null) && !input.edits.has(v.ts);
    if (needs) current.push(v.ts);
    else close();
  }
  close();
  return runs;
}

/**
 * The validated values of the day: precedence override edit > measured (passing validation) > edit > estimate;
 * estimates are linear between the good values around a short gap, else the mean of the same weekday and local
 * time in past weeks (`history`: the measured values found, by slot), else the BDEW profile, else missing.
 */
export function estimateDay(
  input: VeeDayInput,
  validation: readonly SlotValidation[],
  history: ReadonlyMap<number, readonly Decimal[]>,
): VeeSlotResult[] {
  const estimates = new Map<number, { value: Decimal; method: VeeMethod }>();
  for (const run of estimationRuns(input, validation)) {
    if (run.method === 'linear' && run.before !== undefined && run.after !== undefined) {
      const a = scaled6(run.before);
      const b = scaled6(run.after);
      const n = BigInt(run.slots.length + 1);
      run.slots.forEach((ts, i) => {
        const k = BigInt(i + 1);
        // a + (b − a)·k/n at scale 6, rounded to scale 4.
        estimates.set(ts, { value: ratio(a * n + (b - a) * k, n * 100n), method: 'linear' });
      });
      continue;
    }
    for (const ts of run.slots) {
      const past = history.get(ts) ?? [];
      if (past.length >= input.settings.estimation.history_min) {
        const sum = past.reduce((acc, v) => acc + scaled6(v), 0n);
        estimates.set(ts, { value: ratio(sum, BigInt(past.length) * 100n), method: 'history' });
        continue;
      }
      const p = input.profileKwh(ts);
      if (p !== undefined) estimates.set(ts, { value: p, method: 'profile' });
    }
  }
  return validation.map((v): VeeSlotResult => {
    const edit = input.edits.get(v.ts);
    const base = { ts: v.ts, raw: v.raw, failures: v.failures };
    if (edit?.override === true) return { ...base, value: edit.value, quality: 'substituted', method: 'edit_override' };
    if (v.raw !== null && !v.rejected) return { ...base, value: v.raw, quality: 'measured', method: 'measured' };
    if (edit !== undefined) return { ...base, value: edit.value, quality: 'substituted', method: 'edit' };
    const e = estimates.get(v.ts);
    if (e !== undefined) return { ...base, value: e.value, quality: 'estimated', method: e.method };
    return { ...base, value: null, quality: 'missing', method: 'none' };
  });
}

/** The BDEW profile energy of an interval: watts (per 1 000 kWh a year) × hours × annual kWh / 10⁶, at scale 4. */
export function profileEnergy(watts: number, intervalS: number, annualKwh: Decimal): Decimal {
  const w = toScaled(normaliseDecimal(String(watts)) ?? ('0' as Decimal));
  const a = toScaled(annualKwh);
  const num = w.units * a.units * BigInt(intervalS) * 10n ** BigInt(ESTIMATE_SCALE);
  const den = 3600n * 1_000_000n * 10n ** BigInt(w.scale + a.scale);
  return ratio(num, den);
}

function scaled6(d: Decimal): bigint {
  const x = toScaled(d);
  return x.scale <= 6 ? x.units * 10n ** BigInt(6 - x.scale) : divHalfEven(x.units, 10n ** BigInt(x.scale - 6));
}

/** `num / den` rounded half-even, as a decimal of scale {@link ESTIMATE_SCALE} (num is already × 10^4). */
function ratio(num: bigint, den: bigint): Decimal {
  const units = divHalfEven(num, den);
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(ESTIMATE_SCALE + 1, '0');
  const text = `${negative ? '-' : ''}${digits.slice(0, -ESTIMATE_SCALE)}.${digits.slice(-ESTIMATE_SCALE)}`;
  return normaliseDecimal(text) as Decimal;
}

function divHalfEven(num: bigint, den: bigint): bigint {
  if (den < 0n) return divHalfEven(-num, -den);
  const q = num / den;
  const r = num - q * den;
  const twice = 2n * (r < 0n ? -r : r);
  if (twice < den) return q;
  const away = num < 0n ? q - 1n : q + 1n;
  if (twice > den) return away;
  return q % 2n === 0n ? q : away;
}

function round4(x: number): string {
  return (Math.round(x * 1e4) / 1e4).toString();
}
