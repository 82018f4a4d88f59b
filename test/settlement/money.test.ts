import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decimal } from '../../src/common/index.ts';
import { compareDecimals, normaliseDecimal, subtractDecimals } from '../../src/common/index.ts';
import {
  costOf,
  decimalOfFloat,
  emissionsOf,
  multiplyDecimals,
  roundHalfEven,
  sumDecimals,
} from '../../src/settlement/index.ts';

const d = (text: string): Decimal => {
  const value = normaliseDecimal(text);
  assert.ok(value !== undefined, text);
  return value;
};

/** |value|. */
const abs = (value: Decimal): Decimal => (value.startsWith('-') ? (value.slice(1) as Decimal) : value);

/** mulberry32: a small seeded PRNG, so a failing case can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A random scaled integer: up to 20 integer digits, up to 12 decimals, either sign. */
function randomScaled(next: () => number): { units: bigint; scale: number } {
  const digits = 1 + Math.floor(next() * 32);
  let text = '';
  for (let i = 0; i < digits; i++) text += String(Math.floor(next() * 10));
  const units = BigInt(text) * (next() < 0.3 ? -1n : 1n);
  return { units, scale: Math.floor(next() * 13) };
}

/** `units / 10^scale` as plain text, formatted here independently of src/common (not normalised). */
function plainText(units: bigint, scale: number): string {
  const sign = units < 0n ? '-' : '';
  const digits = (units < 0n ? -units : units).toString().padStart(scale + 1, '0');
  return scale === 0 ? `${sign}${digits}` : `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

/** The integer `text × 10^scale` read straight from the text (throws if it has more than `scale` decimals). */
function unitsAt(text: string, scale: number): bigint {
  const negative = text.startsWith('-');
  const [int = '0', frac = ''] = (negative ? text.slice(1) : text).split('.');
  assert.ok(frac.length <= scale, `${text} has more than ${scale} decimals`);
  const units = BigInt(int + frac.padEnd(scale, '0'));
  return negative ? -units : units;
}

describe('multiplyDecimals', () => {
  it('is exact where floats are not', () => {
    assert.equal(0.1 * 3, 0.30000000000000004);
    assert.equal(multiplyDecimals(d('0.1'), d('3')), '0.3');
    assert.equal(multiplyDecimals(d('1.5'), d('0.25')), '0.375');
    assert.equal(multiplyDecimals(d('-1.5'), d('0.2')), '-0.3');
    assert.equal(multiplyDecimals(d('-1.5'), d('-0.2')), '0.3');
    assert.equal(multiplyDecimals(d('0'), d('-7.25')), '0');
    assert.equal(multiplyDecimals(d('-0.001'), d('0')), '0');
  });
  it('agrees with bigint arithmetic on independently scaled integers (seeded)', () => {
    const next = prng(20_240_601);
    for (let i = 0; i < 2_000; i++) {
      const a = randomScaled(next);
      const b = randomScaled(next);
      const x = d(plainText(a.units, a.scale));
      const y = d(plainText(b.units, b.scale));
      const product = multiplyDecimals(x, y);
      const scale = a.scale + b.scale;
      assert.equal(unitsAt(product, scale), a.units * b.units, `${x} × ${y} = ${product}`);
      assert.equal(product, d(plainText(a.units * b.units, scale)));
      assert.equal(multiplyDecimals(y, x), product, 'commutes');
    }
  });
});

describe('sumDecimals', () => {
  it('adds exactly, across scales and signs', () => {
    assert.equal(0.1 + 0.2, 0.30000000000000004);
    assert.equal(sumDecimals([d('0.1'), d('0.2')]), '0.3');
    assert.equal(sumDecimals([]), '0');
    assert.equal(sumDecimals([d('1.005'), d('-1'), d('-0.005')]), '0');
    assert.equal(sumDecimals([d('12'), d('0.000001'), d('-3.5')]), '8.500001');
    assert.equal(sumDecimals(new Set([d('2.25'), d('0.75')])), '3', 'any iterable');
  });
  it('agrees with bigint arithmetic on independently scaled integers (seeded)', () => {
    const next = prng(7);
    for (let i = 0; i < 300; i++) {
      const parts = Array.from({ length: Math.floor(next() * 20) }, () => randomScaled(next));
      const scale = 12;
      const expected = parts.reduce((s, p) => s + p.units * 10n ** BigInt(scale - p.scale), 0n);
      const sum = sumDecimals(parts.map((p) => d(plainText(p.units, p.scale))));
      assert.equal(unitsAt(sum, scale), expected);
    }
  });
});

describe('roundHalfEven', () => {
  it('rounds ties to the even neighbour, symmetric around zero', () => {
    const cases: [string, number, string][] = [
      ['0.125', 2, '0.12'],
      ['0.135', 2, '0.14'],
      ['0.1251', 2, '0.13'],
      ['0.124999', 2, '0.12'],
      ['-0.125', 2, '-0.12'],
      ['-0.135', 2, '-0.14'],
      ['-0.1251', 2, '-0.13'],
      ['-0.005', 2, '0'],
      ['-0.0051', 2, '-0.01'],
      ['0.005', 2, '0'],
      ['0.015', 2, '0.02'],
      ['0.025', 2, '0.02'],
      ['0.5', 0, '0'],
      ['1.5', 0, '2'],
      ['2.5', 0, '2'],
      ['-2.5', 0, '-2'],
      ['-3.5', 0, '-4'],
      ['-0.5', 0, '0'],
      ['2.4999999999999999999', 0, '2'],
      ['99.995', 2, '100'],
      ['1.2', 2, '1.2'],
      ['7', 2, '7'],
      ['125', -1, '120'],
      ['135', -1, '140'],
      ['-125.0001', -1, '-130'],
    ];
    for (const [value, places, expected] of cases) assert.equal(roundHalfEven(d(value), places), expected, value);
  });
  it('is within half a unit of the last place, and even on a tie (seeded)', () => {
    const next = prng(42);
    for (let i = 0; i < 2_000; i++) {
      const a = randomScaled(next);
      const value = d(plainText(a.units, a.scale));
      const places = Math.floor(next() * 6);
      const rounded = roundHalfEven(value, places);
      const error = subtractDecimals(value, rounded);
      const half = d(plainText(5n, places + 1));
      const magnitude = abs(error);
      assert.ok(compareDecimals(magnitude, half) <= 0, `${value} → ${rounded}`);
      if (compareDecimals(magnitude, half) === 0) assert.equal(unitsAt(rounded, places) % 2n, 0n, `${value} tie`);
      assert.ok(!rounded.startsWith('-') || compareDecimals(value, d('0')) < 0);
    }
  });
  it('refuses a places that is not an integer', () => {
    assert.throws(() => roundHalfEven(d('1.25'), 1.5), RangeError);
    assert.throws(() => roundHalfEven(d('1.25'), Number.NaN), RangeError);
  });
});

describe('costOf and emissionsOf', () => {
  it('price a quantity in EUR/MWh exactly, unrounded', () => {
    assert.equal(costOf(d('2.5'), d('85.42')), '0.21355');
    assert.equal(costOf(d('0.25'), d('-12.34')), '-0.003085', 'negative prices');
    assert.equal(costOf(d('1000000'), d('9999.99')), '9999990');
    assert.equal(costOf(d('123456789.123'), d('9999.99')), '1234566656.66210877');
    assert.equal(costOf(d('0'), d('85.42')), '0');
  });
  it('round costs half-even at 0.01 EUR', () => {
    // 1 kWh at 5 EUR/MWh is 0.005 EUR: a tie, rounded to the even cent.
    assert.equal(roundHalfEven(costOf(d('1'), d('5')), 2), '0');
    assert.equal(roundHalfEven(costOf(d('3'), d('5')), 2), '0.02');
    assert.equal(roundHalfEven(costOf(d('5'), d('5')), 2), '0.02');
    assert.equal(roundHalfEven(costOf(d('1'), d('-5')), 2), '0');
    assert.equal(roundHalfEven(costOf(d('3'), d('-5')), 2), '-0.02');
    assert.equal(roundHalfEven(costOf(d('1000000'), d('9999.99')), 2), '9999990');
  });
  it('weigh emissions in gCO2eq exactly, rounded half-even at 1 g', () => {
    assert.equal(emissionsOf(d('2.5'), d('381.2')), '953');
    assert.equal(emissionsOf(d('0.25'), d('10')), '2.5');
    assert.equal(roundHalfEven(emissionsOf(d('0.25'), d('10')), 0), '2');
    assert.equal(roundHalfEven(emissionsOf(d('0.5'), d('3')), 0), '2');
    assert.equal(roundHalfEven(emissionsOf(d('0.5'), d('1')), 0), '0');
    assert.equal(roundHalfEven(emissionsOf(d('-0.5'), d('5')), 0), '-2');
    assert.equal(emissionsOf(d('1000000'), d('9999.99')), '9999990000');
  });
  it('round only the total: the sum of rounded parts drifts from the rounded total', () => {
    // Three quarter-hours of 1 kWh at 5 EUR/MWh: 0.005 EUR each.
    const parts = [d('1'), d('1'), d('1')].map((kwh) => costOf(kwh, d('5')));
    assert.equal(roundHalfEven(sumDecimals(parts), 2), '0.02');
    assert.equal(sumDecimals(parts.map((p) => roundHalfEven(p, 2))), '0');
    // Over a day of random quarter-hours the two differ, and only the rounded total is within half a cent.
    const next = prng(96);
    let differ = 0;
    for (let day = 0; day < 50; day++) {
      const costs = Array.from({ length: 96 }, () =>
        costOf(
          d(plainText(BigInt(Math.floor(next() * 5_000)), 3)),
          d(plainText(BigInt(Math.floor(next() * 20_000)), 2)),
        ),
      );
      const exact = sumDecimals(costs);
      const total = roundHalfEven(exact, 2);
      const ofRounded = sumDecimals(costs.map((c) => roundHalfEven(c, 2)));
      if (total !== ofRounded) differ++;
      assert.ok(compareDecimals(abs(subtractDecimals(exact, total)), d('0.005')) <= 0);
    }
    assert.ok(differ > 0, 'rounding each part loses cents the rounded total keeps');
  });
});

describe('decimalOfFloat', () => {
  it('gives back the text a double was written as', () => {
    assert.equal(decimalOfFloat(85.42), '85.42');
    assert.equal(decimalOfFloat(-12.5), '-12.5');
    assert.equal(decimalOfFloat(0.1), '0.1');
    assert.equal(decimalOfFloat(0.1 + 0.2), '0.30000000000000004', 'the double, not what one meant');
    assert.equal(decimalOfFloat(100), '100');
    assert.equal(decimalOfFloat(0), '0');
    assert.equal(decimalOfFloat(-0), '0');
  });
  it('expands exponent notation exactly', () => {
    assert.equal(decimalOfFloat(1e-7), '0.0000001');
    assert.equal(decimalOfFloat(-1.2345e-7), '-0.00000012345');
    assert.equal(decimalOfFloat(1.5e21), '1500000000000000000000');
    assert.equal(decimalOfFloat(1e21), '1000000000000000000000');
    assert.equal(decimalOfFloat(Number.MIN_VALUE), `0.${'0'.repeat(323)}5`);
    assert.equal(decimalOfFloat(Number.MAX_VALUE), `17976931348623157${'0'.repeat(292)}`);
  });
  it('round-trips: the text reads back as the same double (seeded)', () => {
    const next = prng(3);
    for (let i = 0; i < 2_000; i++) {
      const x = (next() - 0.5) * 10 ** Math.floor(next() * 60 - 30);
      const text = decimalOfFloat(x);
      assert.ok(text !== undefined && !/e/i.test(text));
      assert.equal(Number(text), x);
    }
  });
  it('has no decimal for NaN and infinities', () => {
    assert.equal(decimalOfFloat(Number.NaN), undefined);
    assert.equal(decimalOfFloat(Number.POSITIVE_INFINITY), undefined);
    assert.equal(decimalOfFloat(Number.NEGATIVE_INFINITY), undefined);
  });
});
