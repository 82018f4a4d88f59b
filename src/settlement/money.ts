import { type Decimal, fromScaled, normaliseDecimal, rescale, shiftDecimal, toScaled } from '../common/index.ts';

/*
 * Exact decimal arithmetic for settlement. Every value is a normalised `Decimal` text and every operation goes
 * through bigint scaled integers, never through a float: 0.1 kWh × 3 is 0.3 kWh, a cost is exact to the last
 * digit of the inputs, and only a total is rounded (to whole cents, whole grams) at the very end.
 */

/**
 * Exact `a × b` (the scale of the product is the sum of the scales: `"1.5" × "0.25"` → `"0.375"`).
 * @example multiplyDecimals('0.1' as Decimal, '3' as Decimal) // '0.3'
 */
export function multiplyDecimals(a: Decimal, b: Decimal): Decimal {
  const x = toScaled(a);
  const y = toScaled(b);
  return fromScaled(x.units * y.units, x.scale + y.scale);
}

/**
 * Exact sum of `values`; `"0"` for none. Sum the exact parts first and round only the total
 * ({@link roundHalfEven}): the sum of rounded parts drifts from the rounded total.
 */
export function sumDecimals(values: Iterable<Decimal>): Decimal {
  let units = 0n;
  let scale = 0;
  for (const value of values) {
    const x = toScaled(value);
    if (x.scale > scale) {
      units = rescale({ units, scale }, x.scale);
      scale = x.scale;
    }
    units += rescale(x, scale);
  }
  return fromScaled(units, scale);
}

/**
 * `value` rounded to `places` decimal places, ties to the even neighbour (banker's rounding), symmetric around
 * zero: `"0.125"` → `"0.12"`, `"0.135"` → `"0.14"`, `"-0.125"` → `"-0.12"`, `"-0.005"` → `"0"` (never `"-0"`).
 * The result is normalised, so `"1.2"` at 2 places stays `"1.2"`. A negative `places` rounds to tens, hundreds, …
 * (`"125"` at -1 → `"120"`).
 * @throws RangeError when `places` is not a safe integer
 */
export function roundHalfEven(value: Decimal, places: number): Decimal {
  if (!Number.isSafeInteger(places)) throw new RangeError(`places must be an integer, got ${places}`);
  const x = toScaled(value);
  if (x.scale <= places) return value;
  const divisor = 10n ** BigInt(x.scale - places);
  const negative = x.units < 0n;
  const magnitude = negative ? -x.units : x.units;
  let quotient = magnitude / divisor;
  const twiceRemainder = (magnitude % divisor) * 2n;
  if (twiceRemainder > divisor || (twiceRemainder === divisor && quotient % 2n === 1n)) quotient += 1n;
  const units = negative ? -quotient : quotient;
  return places >= 0 ? fromScaled(units, places) : fromScaled(units * 10n ** BigInt(-places), 0);
}

/**
 * The exact cost of `kwh` at a price in EUR/MWh (the unit of ENTSO-E day-ahead prices): `kwh × price / 1000`,
 * in EUR, unrounded. @example costOf('2.5', '85.42') // '0.21355'
 */
export function costOf(kwh: Decimal, pricePerMwh: Decimal): Decimal {
  return shiftDecimal(multiplyDecimals(kwh, pricePerMwh), -3);
}

/** The exact emissions of `kwh` at a carbon intensity in gCO2eq/kWh: `kwh × g`, in grams, unrounded. */
export function emissionsOf(kwh: Decimal, gPerKwh: Decimal): Decimal {
  return multiplyDecimals(kwh, gPerKwh);
}

const EXPONENT = /^(-?\d+(?:\.\d+)?)e([+-]\d+)$/;

/**
 * The decimal text a stored double was written as (a PostgreSQL `double precision` price such as `85.42`): the
 * shortest text that reads back as the same double (`String(x)`), with exponent notation expanded exactly
 * (`1e-7` → `"0.0000001"`, `1.5e21` → `"1500000000000000000000"`). `-0` is `"0"`. `undefined` for `NaN` and
 * `±Infinity`.
 */
export function decimalOfFloat(x: number): Decimal | undefined {
  if (!Number.isFinite(x)) return undefined;
  const text = String(x);
  const m = EXPONENT.exec(text);
  if (m === null) return normaliseDecimal(text);
  const mantissa = normaliseDecimal(m[1] ?? '');
  return mantissa === undefined ? undefined : shiftDecimal(mantissa, Number(m[2]));
}
