import type { Context } from 'hono';
import { z } from 'zod';
import { METRICS } from '../contracts/index.ts';
import { ApiError } from './errors.ts';

const ISO_OR_DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/;

/** A moment: `2025-10-21` (midnight UTC) or an ISO 8601 timestamp with offset. */
export const instant = z
  .string()
  .regex(ISO_OR_DATE, 'expected a date (YYYY-MM-DD) or an ISO 8601 timestamp with a time zone (…Z)')
  .refine((s) => !Number.isNaN(Date.parse(s.length === 10 ? `${s}T00:00:00Z` : s)), 'not a real date')
  .transform((s) => new Date(s.length === 10 ? `${s}T00:00:00Z` : s));

export const zoneCode = z.string().regex(/^[A-Z][A-Z0-9_]{0,39}$/, 'expected a zone code such as DE_LU or FR');
export const zoneList = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(zoneCode).min(1, 'expected at least one zone').max(100));
export const metric = z.enum(METRICS, { message: `expected one of ${METRICS.join(', ')}` });
export const productionTypes = z
  .string()
  .transform((s) =>
    s
      .split(',')
      .map((x) => x.trim())
      .filter((x) => x !== ''),
  )
  .pipe(z.array(z.string().regex(/^([AB]\d{2}|[a-z][a-z_]*)$/, 'expected production types such as B16,B19')).max(40));
export const resolution = z.enum(['PT15M', 'PT1H', 'P1D'], { message: 'expected PT15M, PT1H or P1D' });
export const positiveInt = (max: number) =>
  z.coerce.number({ message: 'expected a number' }).int('expected a whole number').min(0).max(max);

/**
 * Validates the query string against `shape`; the first problem is a 400 naming its parameter. Unknown
 * parameters are refused too (a misspelt `form=` should not silently mean "no filter").
 */
export function queryOf<S extends z.ZodRawShape>(c: Context, shape: S): z.infer<z.ZodObject<S>> {
  const raw = c.req.query();
  for (const name of Object.keys(raw)) {
    if (!(name in shape)) throw new ApiError('bad_request', `unknown parameter "${name}"`, { param: name });
  }
  const result = z.object(shape).safeParse(raw);
  if (!result.success) {
    const issue = result.error.issues[0];
    const param = String(issue?.path[0] ?? '');
    const detail =
      issue?.code === 'invalid_type' && raw[param] === undefined ? 'is required' : (issue?.message ?? 'is invalid');
    throw new ApiError('bad_request', `parameter "${param}" ${detail}`, { param });
  }
  return result.data;
}

/** Refuses a range whose end is not after its start, or longer than `maxDays`. */
export function checkRange(from: Date, to: Date, maxDays: number): void {
  if (to <= from) throw new ApiError('bad_request', 'parameter "to" must be after "from"', { param: 'to' });
  if (to.getTime() - from.getTime() > maxDays * 86_400_000) {
    throw new ApiError('bad_request', `parameter "to": the range may span at most ${maxDays} days at this resolution`, {
      param: 'to',
    });
  }
}
