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
