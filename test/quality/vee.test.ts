import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import type { VeeDayInput, VeeEdit } from '../../src/quality/index.ts';
import {
  DEFAULT_VEE_SETTINGS,
  VeeRuleFileSchema,
  VeeRules,
  estimateDay,
  profileEnergy,
  validateDay,
} from '../../src/quality/index.ts';

const Q = 900_000;
const START = Date.parse('2026-06-01T00:00:00Z');
const slots = Array.from({ length: 96 }, (_, i) => START + i * Q);
const d = (s: string): Decimal => s as Decimal;

/** A day of 0.10/0.12 alternating values, changed where `values` says (null: missing). */
function input(values: Record<number, string | null> = {}, extra: Partial<VeeDayInput> = {}): VeeDayInput {
  const measured = new Map<number, { value: Decimal; receivedAtMs: number }>();
  slots.forEach((ts, i) => {
    const v = i in values ? values[i] : i % 2 === 0 ? '0.1' : '0.12';
    if (v !== null && v !== undefined) measured.set(ts, { value: d(v), receivedAtMs: ts + Q });
  });
  return {
    registerType: 'import',
    quantity: 'energy_import',
    intervalMs: Q,
    slots,
    measured,
    previousRaw: new Map(),
    edits: new Map(),
    profileKwh: () => d('0.05'),
    profilePeakKwh: d('0.2'),
    registerSpans: [],
    settings: DEFAULT_VEE_SETTINGS,
    clockToleranceMs: 300_000,
    ...extra,
  };
}

const rulesAt = (i: VeeDayInput, slot: number): string[] =>
  (validateDay(i)[slot]?.failures ?? []).map((f) => f.rule).sort();

describe('validation rules', () => {
  it('passes a plain day', () => {
    assert.deepEqual(
      validateDay(input()).filter((v) => v.failures.length > 0),
      [],
    );
  });

  it('high limit: factor × the profile peak, never below the floor', () => {
    assert.deepEqual(rulesAt(input({ 20: '2.5' }), 20), ['high_limit', 'spike']);
    assert.deepEqual(rulesAt(input({ 20: '0.9' }), 20), ['spike']); // 10 × 0.2 = 2 and the floor 1 kWh
  });

  it('negative values fail only on import registers', () => {
    assert.deepEqual(rulesAt(input({ 7: '-0.2' }), 7), ['negative']);
    assert.deepEqual(rulesAt(input({ 7: '-0.2' }, { registerType: 'net' }), 7), []);
    assert.deepEqual(rulesAt(input({ 7: '-0.2' }, { registerType: 'export' }), 7), []);
  });

  it('frozen: 8 equal non-zero values; 7 are not; zeros are their own rule', () => {
    const eight = Object.fromEntries(Array.from({ length: 8 }, (_, k) => [30 + k, '0.3']));
    const seven = Object.fromEntries(Array.from({ length: 7 }, (_, k) => [30 + k, '0.3']));
    assert.equal(validateDay(input(eight)).filter((v) => v.failures.some((f) => f.rule === 'frozen')).length, 8);
    assert.equal(validateDay(input(seven)).filter((v) => v.failures.some((f) => f.rule === 'frozen')).length, 0);
    const zeros = Object.fromEntries(Array.from({ length: 40 }, (_, k) => [10 + k, '0']));
    const v = validateDay(input(zeros));
    assert.equal(v.filter((s) => s.failures.some((f) => f.rule === 'zero_run')).length, 40);
    assert.equal(v.filter((s) => s.failures.some((f) => f.rule === 'frozen')).length, 0);
    assert.equal(v.filter((s) => s.rejected).length, 0, 'a zero run is flagged, not rejected, by default');
  });

  it('spike: more than 5 × the median of the neighbours and more than the minimum delta', () => {
    assert.deepEqual(rulesAt(input({ 50: '0.56' }), 50), ['spike']);
    assert.deepEqual(rulesAt(input({ 50: '0.54' }), 50), []);
  });

  it('gaps, future timestamps, changed values after validation, sum check', () => {
    assert.deepEqual(rulesAt(input({ 3: null }), 3), ['gap']);
    const future = input();
    const m = future.measured as Map<number, { value: Decimal; receivedAtMs: number }>;
    m.set(slots[60] ?? 0, { value: d('0.1'), receivedAtMs: (slots[60] ?? 0) - 3_600_000 });
    assert.deepEqual(rulesAt(future, 60), ['future']);
    const changed = input({}, { previousRaw: new Map([[slots[5] ?? 0, d('0.5')]]) });
    assert.deepEqual(rulesAt(changed, 5), ['changed_after_validation']);
    // ...and it stays flagged when the day is validated again without a further change.
    const again = input(
      {},
      { previousRaw: new Map([[slots[5] ?? 0, d('0.12')]]), changedBefore: new Set([slots[5] ?? 0]) },
    );
    assert.deepEqual(rulesAt(again, 5), ['changed_after_validation']);
    const span = { fromMs: slots[0] ?? 0, toMs: (slots[8] ?? 0) + 0, delta: d('0.88') }; // 8 intervals: 0.88 kWh
    assert.equal(validateDay(input({}, { registerSpans: [span] })).filter((v) => v.failures.length > 0).length, 0);
    const off = { ...span, delta: d('1.2') };
    assert.equal(
      validateDay(input({}, { registerSpans: [off] })).filter((v) => v.failures.some((f) => f.rule === 'sum_check'))
        .length,
      8,
    );
  });
});

describe('estimation and precedence', () => {
  it('interpolates gaps up to an hour, falls back to history, then the profile', () => {
    const i = input({ 10: null, 11: null, 40: null, 41: null, 42: null, 43: null, 44: null });
    const history = new Map<number, Decimal[]>([
      [slots[40] ?? 0, [d('0.2'), d('0.3')]],
      [slots[41] ?? 0, [d('0.2')]], // fewer than history_min (2): the profile
    ]);
    const r = estimateDay(i, validateDay(i), history);
    // Between slot 9 (0.12) and slot 12 (0.1): 0.12 − 0.02 × 1/3 = 0.11333…, 0.12 − 0.02 × 2/3 = 0.10666…
    assert.deepEqual(
      [10, 11].map((k) => [r[k]?.value, r[k]?.method]),
      [
        ['0.1133', 'linear'],
        ['0.1067', 'linear'],
      ],
    );
    assert.deepEqual([r[40]?.value, r[40]?.method, r[40]?.quality], ['0.25', 'history', 'estimated']);
    assert.deepEqual([r[41]?.value, r[41]?.method], ['0.05', 'profile']);
  });

  it('override edit > measured > edit > estimate; a missing value without estimate stays missing', () => {
    const edits = new Map<number, VeeEdit>([
      [slots[1] ?? 0, { value: d('9'), override: true }],
      [slots[2] ?? 0, { value: d('8'), override: false }],
      [slots[3] ?? 0, { value: d('7'), override: false }],
    ]);
    const i = input(
      { 3: null, 70: null, 71: null, 72: null, 73: null, 74: null },
      { edits, profileKwh: () => undefined },
    );
    const r = estimateDay(i, validateDay(i), new Map());
    assert.deepEqual([r[1]?.value, r[1]?.quality, r[1]?.method], ['9', 'substituted', 'edit_override']);
    assert.deepEqual([r[2]?.value, r[2]?.quality, r[2]?.method], ['0.1', 'measured', 'measured']);
    assert.deepEqual([r[3]?.value, r[3]?.quality, r[3]?.method], ['7', 'substituted', 'edit']);
    assert.deepEqual([r[72]?.value, r[72]?.quality, r[72]?.method], [null, 'missing', 'none']);
  });

  it('a rejected value is estimated and its raw value kept', () => {
    const i = input({ 30: '-1' });
    const r = estimateDay(i, validateDay(i), new Map());
    assert.deepEqual([r[30]?.value, r[30]?.raw, r[30]?.quality], ['0.12', '-1', 'estimated']);
  });

  it('profile energy is exact and rounded half-even at 4 decimals', () => {
    assert.equal(profileEnergy(71, 900, d('1000')), '0.0178'); // 0.01775
    assert.equal(profileEnergy(78.2, 900, d('1000')), '0.0196'); // 0.01955
    assert.equal(profileEnergy(68.5, 900, d('1000')), '0.0171'); // 0.017125
  });
});

describe('rule settings', () => {
  it('merges default < profile < group, field by field', () => {
    const file = VeeRuleFileSchema.parse({
      default: { spike: { factor: 4 } },
      profiles: { G0: { spike: { factor: 8 }, frozen: { min_run: 12 } } },
      groups: { 'feeder-7': { spike: { enabled: false } } },
    });
    const rules = new VeeRules(file);
    assert.equal(rules.for('H0', null).spike.factor, 4);
    assert.equal(rules.for('G0', null).spike.factor, 8);
    assert.equal(rules.for('G0', null).frozen.min_run, 12);
    assert.equal(rules.for('G0', 'feeder-7').spike.enabled, false);
    assert.equal(rules.for('G0', 'feeder-7').spike.factor, 8);
    assert.equal(rules.for('H0', 'other').frozen.min_run, DEFAULT_VEE_SETTINGS.frozen.min_run);
  });

  it('refuses unknown rules and fields', () => {
    assert.equal(VeeRuleFileSchema.safeParse({ default: { nonsense: {} } }).success, false);
    assert.equal(VeeRuleFileSchema.safeParse({ default: { spike: { factr: 3 } } }).success, false);
    assert.equal(VeeRuleFileSchema.safeParse({ profiles: { X9: {} } }).success, false);
  });
});
