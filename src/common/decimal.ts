import type { Brand } from './brand.ts';

/** A decimal number kept as the exact text the source wrote, normalised: no `+`, no leading or trailing zeros. */
export type Decimal = Brand<string, 'Decimal'>;

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?$/;

/**
 * Normalises a plain decimal (`"15.00"` → `"15"`, `"-0.010"` → `"-0.01"`, `"+.5"` → `"0.5"`, `"-0"` → `"0"`).
 * Returns `undefined` for anything that is not a plain decimal (exponents, `NaN`, empty, spaces inside).
 */
export function normaliseDecimal(text: string): Decimal | undefined {
  const m = DECIMAL.exec(text.trim());
  if (m === null) return undefined;
  const sign = m[1] ?? '';
  let int = m[2] ?? '';
  let frac = m[3] ?? '';
  if (int === '' && frac === '') return undefined;
  int = int.replace(/^0+(?=\d)/, '');
  if (int === '') int = '0';
  frac = frac.replace(/0+$/, '');
  const body = frac === '' ? int : `${int}.${frac}`;
  const negative = sign === '-' && body !== '0';
  return (negative ? `-${body}` : body) as Decimal;
}

/** A decimal as an exact scaled integer: `units / 10^scale` (`"12.50"` → `{ units: 125n, scale: 1 }`). */
export interface ScaledDecimal {
  readonly units: bigint;
  readonly scale: number;
}

/** The exact scaled integer of a normalised decimal. */
export function toScaled(value: Decimal): ScaledDecimal {
  const negative = value.startsWith('-');
  const body = negative ? value.slice(1) : value;
  const [int = '0', frac = ''] = body.split('.');
  const units = BigInt(`${int}${frac}`);
  return { units: negative ? -units : units, scale: frac.length };
}

/** The normalised decimal of `units / 10^scale`. */
export function fromScaled(units: bigint, scale: number): Decimal {
  const negative = units < 0n;
  const digits = (negative ? -units : units).toString().padStart(scale + 1, '0');
  const text = scale === 0 ? digits : `${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
  return normaliseDecimal(negative ? `-${text}` : text) as Decimal;
}

/** `value` with `units` rescaled to `scale` (never fewer digits than it has: only ever adds zeros). */
export function rescale(value: ScaledDecimal, scale: number): bigint {
  if (scale < value.scale) throw new RangeError(`cannot rescale ${value.scale} digits to ${scale}`);
  return value.units * 10n ** BigInt(scale - value.scale);
}

/** Exact `a + b`. */
export function addDecimals(a: Decimal, b: Decimal): Decimal {
  const x = toScaled(a);
  const y = toScaled(b);
  const scale = Math.max(x.scale, y.scale);
  return fromScaled(rescale(x, scale) + rescale(y, scale), scale);
}

/** Exact `a - b`. */
export function subtractDecimals(a: Decimal, b: Decimal): Decimal {
  const x = toScaled(a);
  const y = toScaled(b);
  const scale = Math.max(x.scale, y.scale);
  return fromScaled(rescale(x, scale) - rescale(y, scale), scale);
}

/** -1, 0 or 1 as `a` is less than, equal to or greater than `b` (exactly). */
export function compareDecimals(a: Decimal, b: Decimal): -1 | 0 | 1 {
  const x = toScaled(a);
  const y = toScaled(b);
  const scale = Math.max(x.scale, y.scale);
  const d = rescale(x, scale) - rescale(y, scale);
  return d < 0n ? -1 : d > 0n ? 1 : 0;
}

/** `value × 10^shift`, exactly (unit changes: Wh → kWh is `shift = -3`). */
export function shiftDecimal(value: Decimal, shift: number): Decimal {
  const x = toScaled(value);
  if (shift >= 0) return fromScaled(x.units * 10n ** BigInt(shift), x.scale);
  return fromScaled(x.units, x.scale - shift);
}
