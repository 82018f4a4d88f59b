/**
 * Narrowing of JSON answers (`unknown`) into typed values. The dashboard does not ship zod (it would double the
 * bundle): these few checks stand at the boundary instead, and a mismatch names the path that did not fit.
 */
export class DecodeError extends Error {
  override readonly name = 'DecodeError';
}

export type Decoder<T> = (value: unknown, at: string) => T;

function fail(at: string, expected: string, value: unknown): never {
  const got = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  throw new DecodeError(`${at}: expected ${expected}, got ${got}`);
}

export function record(value: unknown, at: string): Readonly<Record<string, unknown>> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(at, 'an object', value);
  return value as Readonly<Record<string, unknown>>;
}

export function str(value: unknown, at: string): string {
  if (typeof value !== 'string') fail(at, 'a string', value);
  return value;
}

export function num(value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) fail(at, 'a number', value);
  return value;
}

/** A number, or a numeric string (PostgreSQL bigint columns arrive as strings). */
export function numeric(value: unknown, at: string): number {
  if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  return num(value, at);
}

export function bool(value: unknown, at: string): boolean {
  if (typeof value !== 'boolean') fail(at, 'a boolean', value);
  return value;
}

/** An ISO 8601 instant as epoch milliseconds. */
export function instant(value: unknown, at: string): number {
  const ms = Date.parse(str(value, at));
  if (Number.isNaN(ms)) fail(at, 'an ISO 8601 instant', value);
  return ms;
}

export function nullable<T>(decode: Decoder<T>): Decoder<T | null> {
  return (value, at) => (value === null || value === undefined ? null : decode(value, at));
}

export function array<T>(decode: Decoder<T>): Decoder<T[]> {
  return (value, at) => {
    if (!Array.isArray(value)) fail(at, 'an array', value);
    return value.map((item: unknown, i) => decode(item, `${at}[${i}]`));
  };
}

/** Field `name` of an object, decoded. */
export function field<T>(obj: Readonly<Record<string, unknown>>, name: string, decode: Decoder<T>, at: string): T {
  return decode(obj[name], `${at}.${name}`);
}
