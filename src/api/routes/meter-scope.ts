import type { Context } from 'hono';
import { z } from 'zod';
import { MeterGroupSchema, MeterIdSchema } from '../../meters/index.ts';
import type { Db, MeterRegistryRow } from '../../storage/index.ts';
import { METER_QUANTITIES, METER_READ_LIMITS, meterGroupInfo, meterValidities } from '../../storage/index.ts';
import { DAY_MS } from '../../time/index.ts';
import { mayAccess } from '../access-scope.ts';
import type { Principal } from '../api-keys.ts';
import { ApiError } from '../errors.ts';
import type { DateParam } from '../params.ts';
import { DATE_EXAMPLES, dateOrInstant, placeDate } from '../params.ts';
import type { ApiEnv } from '../permissions.ts';

/**
 * Scoping shared by the meter quality and settlement routes, the same as the meter reading routes': meter data
 * needs a key, a meter or group the key may not see is answered 404 like one that does not exist, and a range
 * reaching into a validity of another zone or group is 403.
 */

export const isoInstant = z.string().meta({ example: '2026-10-24T22:00:00Z' });
export const meterIdParam = { id: MeterIdSchema.meta({ description: 'The meter id' }) };
export const groupParam = { group: MeterGroupSchema.meta({ description: 'The group' }) };
export const quantityQuery = z.enum(METER_QUANTITIES).default('energy_import').meta({ description: 'Which energy' });

/** `from`/`to` of a meter or group range (bare dates: local midnight of the meter's or group's time zone). */
export const rangeQuery = {
  from: dateOrInstant.meta({
    description: "Start of the range (a bare date is 00:00 in the meter's or group's time zone)",
    examples: DATE_EXAMPLES,
  }),
  to: dateOrInstant.meta({ description: 'End of the range (exclusive)', examples: DATE_EXAMPLES }),
};

/** Meter data is personal data: never read without a key, whatever the public-read setting. */
export function requireKey(principal: Principal): void {
  if (principal.keyId === null)
    throw new ApiError('api.unauthorized', 'meter data needs an API key', {
      headers: { 'www-authenticate': 'Bearer' },
    });
}

function visible(principal: Principal, row: Pick<MeterRegistryRow, 'zone' | 'group'>): boolean {
  return mayAccess(principal, { zones: [row.zone], groups: [row.group] });
}

/** The principal as the audit log and the edit trail name it. */
export function principalName(principal: Principal): string {
  return `key:${principal.keyId ?? 'anonymous'}`;
}

/** Every validity of a meter the key may see (oldest first) and the latest; 404 otherwise. */
export async function visibleMeter(
  db: Db,
  c: Context<ApiEnv>,
  id: string,
): Promise<{ readonly validities: MeterRegistryRow[]; readonly latest: MeterRegistryRow }> {
  const principal = c.get('principal');
  requireKey(principal);
  const validities = await meterValidities(db, id);
  const latest = validities.at(-1);
  if (latest === undefined || !visible(principal, latest)) throw new ApiError('api.not_found', `no meter ${id}`);
  return { validities, latest };
}

/** The validities [from, to) touches; 403 when one of them is of a zone or group the key may not read. */
export function requireRangeVisible(
  principal: Principal,
  id: string,
  validities: readonly MeterRegistryRow[],
  from: number,
  to: number,
): MeterRegistryRow[] {
  const touched = validities.filter(
    (v) =>
      (v.valid_from === null || Date.parse(v.valid_from) < to) &&
      (v.valid_to === null || Date.parse(v.valid_to) > from),
  );
  if (!touched.every((v) => visible(principal, v)))
    throw new ApiError(
      'api.forbidden',
      `part of the range of meter ${id} belongs to a zone or group the key may not read`,
    );
  return touched;
}

/** The zones and time zone of a group the key may see; 404 otherwise. */
export async function visibleGroup(
  db: Db,
  c: Context<ApiEnv>,
  group: string,
): Promise<{ readonly zones: string[]; readonly timeZone: string }> {
  const principal = c.get('principal');
  requireKey(principal);
  const info = await meterGroupInfo(db, group);
  if (info === undefined || !mayAccess(principal, { zones: info.zones, groups: [group] }))
    throw new ApiError('api.not_found', `no group ${group}`);
  return info;
}

/** [from, to) in ms, or the coded 400 that refuses it (empty, or longer than the meter read limit). */
export function rangeOf(q: { from: DateParam; to: DateParam }, timeZone: string): { from: number; to: number } {
  const from = placeDate(q.from, timeZone).getTime();
  const to = placeDate(q.to, timeZone).getTime();
  if (to <= from) throw new ApiError('api.bad_request', 'to must be after from', { param: 'to' });
  if (to - from > METER_READ_LIMITS.days * DAY_MS)
    throw new ApiError('api.range_too_large', `the range may span at most ${METER_READ_LIMITS.days} days`, {
      param: 'to',
    });
  return { from, to };
}

/** UTC ISO text without milliseconds when they are zero. */
export function isoOf(ms: number): string {
  return new Date(ms).toISOString().replace('.000Z', 'Z');
}

/** SQL: a timestamptz column as UTC ISO text. */
export const ISO_SQL = (column: string): string =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`;
