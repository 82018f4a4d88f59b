import type { Db, DbCallOptions, DbTransaction, Queryable } from '../storage/index.ts';
import { sqlStateOf } from '../storage/index.ts';
import type { ReferenceData } from '../reference/index.ts';
import { normaliseDecimal } from '../common/index.ts';
import { isValidTimeZone } from '../time/index.ts';
import { MeterError } from './errors.ts';
import type { Meter, MeterPatch, ParsedMeterInput } from './types.ts';
import { MeterInputSchema, MeterSchema } from './types.ts';

/** What a write did to the registry row it names. */
export type UpsertOutcome = 'inserted' | 'updated' | 'unchanged';

const ISO = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

const COLUMNS = `meter_id, zone, group_id AS "group", time_zone, register_type, interval,
  annual_consumption_kwh::text AS annual_consumption_kwh, profile, lat, lon,
  register_capacity_kwh::text AS register_capacity_kwh, simulated,
  ${ISO('valid_from')} AS valid_from, ${ISO('valid_to')} AS valid_to`;

function toMeter(row: Record<string, unknown>): Meter {
  const m = MeterSchema.parse(row);
  const capacity = m.register_capacity_kwh;
  return {
    ...m,
    annual_consumption_kwh: normaliseDecimal(m.annual_consumption_kwh) ?? m.annual_consumption_kwh,
    register_capacity_kwh: capacity === null ? null : (normaliseDecimal(capacity) ?? capacity),
  };
}

/**
 * A registry row from checked input: the zone must be a gridstream zone, the time zone an IANA zone; without one
 * the zone's time zone from the reference data is taken (refused when the reference table does not know it).
 * @throws MeterError `meters.invalid` naming the field.
 */
export function resolveMeter(input: ParsedMeterInput, reference: ReferenceData): Meter {
  if (!reference.hasZone(input.zone))
    throw new MeterError('meters.invalid', `unknown zone ${input.zone}`, { field: 'zone' });
  const area = reference.zone(input.zone);
  let timeZone = input.time_zone;
  if (timeZone === undefined || timeZone === '') {
    if (!area.timeZoneKnown)
      throw new MeterError('meters.invalid', `zone ${input.zone} has no known time zone: give time_zone`, {
        field: 'time_zone',
      });
    timeZone = area.timeZone;
  } else if (!isValidTimeZone(timeZone))
    throw new MeterError('meters.invalid', `unknown time zone ${timeZone}`, { field: 'time_zone' });
  const lat = input.lat ?? null;
  const lon = input.lon ?? null;
  if ((lat === null) !== (lon === null))
    throw new MeterError('meters.invalid', 'give both lat and lon, or neither', {
      field: lat === null ? 'lat' : 'lon',
    });
  const validFrom = input.valid_from ?? null;
  const validTo = input.valid_to ?? null;
  if (validFrom !== null && validTo !== null && Date.parse(validTo) <= Date.parse(validFrom))
    throw new MeterError('meters.invalid', 'valid_to must be after valid_from', { field: 'valid_to' });
  return {
    meter_id: input.meter_id,
    zone: area.code,
    group: input.group,
    time_zone: timeZone,
    register_type: input.register_type,
    interval: input.interval,
    annual_consumption_kwh: input.annual_consumption_kwh,
    profile: input.profile,
    lat,
    lon,
    register_capacity_kwh: input.register_capacity_kwh ?? null,
    simulated: false,
    valid_from: validFrom,
    valid_to: validTo,
  };
}

/** Input checked by {@link MeterInputSchema} (merged rows and patches from any caller). */
function checkedInput(input: Record<string, unknown>): ParsedMeterInput {
  const parsed = MeterInputSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const field = issue?.path.join('.') ?? '';
  throw new MeterError('meters.invalid', `${field || 'meter'}: ${issue?.message ?? 'invalid'}`, { field });
}

function sameMeter(a: Meter, b: Meter): boolean {
  return (Object.keys(a) as (keyof Meter)[]).every((k) => a[k] === b[k]);
}

function rowParams(m: Meter): unknown[] {
  return [
    m.meter_id,
    m.zone,
    m.group,
    m.time_zone,
    m.register_type,
    m.interval,
    m.annual_consumption_kwh,
    m.profile,
    m.lat,
    m.lon,
    m.valid_from,
    m.valid_to,
    m.register_capacity_kwh,
    m.simulated,
  ];
}

/** Turns the database's refusals of a registry row into {@link MeterError}s. */
function refused(error: unknown, m: Meter): unknown {
  const state = sqlStateOf(error);
  if (state === '23P01')
    return new MeterError('meters.overlap', `the validity of meter ${m.meter_id} overlaps another of its validities`, {
      field: 'valid_from',
      cause: error,
    });
  if (state === '23505')
    return new MeterError(
      'meters.overlap',
      `meter ${m.meter_id} already has a validity from ${m.valid_from ?? 'the beginning'}`,
      { field: 'valid_from', cause: error },
    );
  if (state?.startsWith('22') === true || state?.startsWith('23') === true)
    return new MeterError('meters.invalid', `the registry refuses meter ${m.meter_id}`, { cause: error });
  return error;
}

/** The registry row of `meterId` starting at `validFrom` (`null`: since ever), if any. */
export async function findMeterRow(
  q: Queryable,
  meterId: string,
  validFrom: string | null,
): Promise<Meter | undefined> {
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM meters WHERE meter_id = $1 AND valid_from IS NOT DISTINCT FROM $2::timestamptz`,
    [meterId, validFrom],
  );
  return rows[0] === undefined ? undefined : toMeter(rows[0]);
}

/** Every validity of `meterId`, oldest first. */
export async function meterHistory(q: Queryable, meterId: string): Promise<Meter[]> {
  const { rows } = await q.query(`SELECT ${COLUMNS} FROM meters WHERE meter_id = $1 ORDER BY valid_from NULLS FIRST`, [
    meterId,
  ]);
  return rows.map(toMeter);
}

/** Inserts a new validity row. @throws MeterError `meters.overlap` when it overlaps (or repeats) another. */
export async function insertMeter(q: Queryable, m: Meter): Promise<void> {
  try {
    await q.query(
      `INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh,
         profile, lat, lon, valid_from, valid_to, register_capacity_kwh, simulated)
       VALUES ($1, $2, $3, $4, $5, $6, $7::numeric, $8, $9, $10, $11::timestamptz, $12::timestamptz, $13::numeric, $14)`,
      rowParams(m),
    );
  } catch (error) {
    throw refused(error, m);
  }
}

/**
 * Inserts meters the registry has no row of, in one statement (the overlap trigger still checks each row).
 * @returns the ids of `meters` that already have a row (not inserted: write those one by one)
 */
export async function insertNewMeters(q: Queryable, meters: readonly Meter[]): Promise<Set<string>> {
  if (meters.length === 0) return new Set();
  const params = meters.map(rowParams);
  const column = (i: number): unknown[] => params.map((p) => p[i]);
  const { rows } = await q.query<{ meter_id: string }>(
    `WITH n AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::numeric[],
         $8::text[], $9::float8[], $10::float8[], $11::timestamptz[], $12::timestamptz[], $13::numeric[],
         $14::boolean[]) AS n(meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh,
         profile, lat, lon, valid_from, valid_to, register_capacity_kwh, simulated)
     ), ins AS (
       INSERT INTO meters (meter_id, zone, group_id, time_zone, register_type, interval, annual_consumption_kwh,
         profile, lat, lon, valid_from, valid_to, register_capacity_kwh, simulated)
       SELECT * FROM n WHERE NOT EXISTS (SELECT 1 FROM meters m WHERE m.meter_id = n.meter_id)
       ORDER BY meter_id
     )
     SELECT DISTINCT meter_id FROM meters WHERE meter_id IN (SELECT meter_id FROM n)`,
    Array.from({ length: 14 }, (_, i) => column(i)),
  );
  return new Set(rows.map((r) => r.meter_id));
}

/** Replaces the row identified by (meter_id, valid_from) with `m`. */
async function replaceMeter(q: Queryable, m: Meter): Promise<void> {
  try {
    await q.query(
      `UPDATE meters SET zone = $2, group_id = $3, time_zone = $4, register_type = $5, interval = $6,
         annual_consumption_kwh = $7::numeric, profile = $8, lat = $9, lon = $10, valid_to = $12::timestamptz,
         register_capacity_kwh = $13::numeric, simulated = $14, updated_at = now()
       WHERE meter_id = $1 AND valid_from IS NOT DISTINCT FROM $11::timestamptz`,
      rowParams(m),
    );
  } catch (error) {
    throw refused(error, m);
  }
}

/**
 * Writes `m` as the row (meter_id, valid_from): inserted when new, updated when any field differs, left alone
 * when equal — so that importing the same file twice changes nothing.
 */
export async function upsertMeter(q: Queryable, m: Meter): Promise<UpsertOutcome> {
  const existing = await findMeterRow(q, m.meter_id, m.valid_from);
  if (existing === undefined) {
    await insertMeter(q, m);
    return 'inserted';
  }
  if (sameMeter(existing, m)) return 'unchanged';
  await replaceMeter(q, m);
  return 'updated';
}

/**
 * Runs `fn` in a transaction; what `fn` throws (a {@link MeterError}, a caller's access check) comes out as itself,
 * rolled back, not wrapped by the Db.
 */
export async function meterTransaction<T>(
  db: Db,
  fn: (tx: DbTransaction) => Promise<T>,
  options: { readonly signal?: AbortSignal } = {},
): Promise<T> {
  let thrown: { readonly error: unknown } | undefined;
  try {
    return await db.transaction(async (tx) => {
      try {
        return await fn(tx);
      } catch (error) {
        thrown = { error };
        throw error;
      }
    }, options);
  } catch (error) {
    throw thrown === undefined ? error : thrown.error;
  }
}

/** The row a change addresses: the one starting at `validFrom`, or without it the latest validity. */
async function targetRow(q: Queryable, meterId: string, validFrom: string | null | undefined): Promise<Meter> {
  const row =
    validFrom === undefined ? (await meterHistory(q, meterId)).at(-1) : await findMeterRow(q, meterId, validFrom);
  if (row === undefined)
    throw new MeterError(
      'meters.not_found',
      validFrom === undefined
        ? `no meter ${meterId}`
        : `meter ${meterId} has no validity from ${validFrom ?? 'the beginning'}`,
    );
  return row;
}

/**
 * Changes fields of one validity of `meterId` (the latest unless `validFrom` names another), including closing it
 * with `valid_to`. Returns the row before and after.
 */
export async function updateMeter(
  db: Db,
  reference: ReferenceData,
  meterId: string,
  patch: MeterPatch,
  options: { readonly validFrom?: string | null; readonly check?: (before: Meter) => void } = {},
): Promise<{ before: Meter; after: Meter }> {
  return meterTransaction(db, async (tx) => {
    const before = await targetRow(tx, meterId, options.validFrom);
    options.check?.(before);
    const zoneChanged = patch.zone !== undefined && patch.zone !== before.zone;
    const resolved = resolveMeter(
      checkedInput({
        ...before,
        ...patch,
        // A new zone brings its own time zone unless one is given.
        time_zone: patch.time_zone ?? (zoneChanged ? undefined : before.time_zone),
        interval: patch.interval ?? before.interval,
        annual_consumption_kwh: patch.annual_consumption_kwh ?? before.annual_consumption_kwh,
        meter_id: meterId,
        valid_from: before.valid_from,
      }),
      reference,
    );
    // Whether a meter is simulated is not an input: it stays what it was.
    const after: Meter = { ...resolved, simulated: before.simulated };
    if (!sameMeter(before, after)) await replaceMeter(tx, after);
    return { before, after };
  });
}

/**
 * A meter exchange: closes the validity of `meterId` open at `at` and opens the next from `at`, with the same
 * fields unless `changes` gives others (the new device's profile, register type…), in one transaction.
 * @throws MeterError `meters.not_found` when no validity of the meter is open at `at`.
 */
export async function exchangeMeter(
  db: Db,
  reference: ReferenceData,
  meterId: string,
  at: string,
  changes: MeterPatch = {},
  options: { readonly check?: (current: Meter, next: Meter) => void } = {},
): Promise<{ closed: Meter; opened: Meter }> {
  return meterTransaction(db, async (tx) => {
    const { rows } = await tx.query(
      `SELECT ${COLUMNS} FROM meters
       WHERE meter_id = $1 AND tstzrange(valid_from, valid_to, '[)') @> $2::timestamptz
         AND valid_from IS DISTINCT FROM $2::timestamptz`,
      [meterId, at],
    );
    const current = rows[0] === undefined ? undefined : toMeter(rows[0]);
    if (current === undefined)
      throw new MeterError('meters.not_found', `no validity of meter ${meterId} is open at ${at}`, {
        field: 'at',
      });
    const zoneChanged = changes.zone !== undefined && changes.zone !== current.zone;
    const next = resolveMeter(
      checkedInput({
        ...current,
        ...changes,
        time_zone: changes.time_zone ?? (zoneChanged ? undefined : current.time_zone),
        interval: changes.interval ?? current.interval,
        annual_consumption_kwh: changes.annual_consumption_kwh ?? current.annual_consumption_kwh,
        meter_id: meterId,
        valid_from: at,
        valid_to: changes.valid_to ?? current.valid_to,
      }),
      reference,
    );
    const opened: Meter = { ...next, simulated: current.simulated };
    const closed: Meter = { ...current, valid_to: at };
    options.check?.(current, opened);
    await replaceMeter(tx, closed);
    await insertMeter(tx, opened);
    return { closed, opened };
  });
}

/** Filters of {@link listMeters}. */
export interface MeterFilter {
  readonly group?: string;
  readonly zone?: string;
  readonly meterId?: string;
  /** Only rows of these zones (a key limited to zones); `null`: all. */
  readonly zones?: readonly string[] | null;
  /** Only validities open now (valid_to NULL or in the future). */
  readonly current?: boolean;
  /** Only meters after this meter id (the next page). */
  readonly after?: string;
  /** Most meters, each with every matching validity. @default all */
  readonly limit?: number;
}

/** Registry rows by meter id and validity. */
export async function listMeters(q: Queryable, filter: MeterFilter = {}): Promise<Meter[]> {
  const matches = `($1::text IS NULL OR group_id = $1) AND ($2::text IS NULL OR zone = $2)
    AND ($3::text IS NULL OR meter_id = $3) AND ($4::text[] IS NULL OR zone = ANY($4::text[]))
    AND (NOT $5::boolean OR ((valid_to IS NULL OR valid_to > now()) AND (valid_from IS NULL OR valid_from <= now())))`;
  // A page holds whole meters (every matching validity of each), so that paging by meter id loses none.
  const { rows } = await q.query(
    `WITH page AS (
       SELECT DISTINCT meter_id FROM meters WHERE ${matches} AND ($6::text IS NULL OR meter_id > $6)
       ORDER BY meter_id LIMIT $7
     )
     SELECT ${COLUMNS} FROM meters WHERE meter_id IN (SELECT meter_id FROM page) AND ${matches}
     ORDER BY meter_id, valid_from NULLS FIRST`,
    [
      filter.group ?? null,
      filter.zone ?? null,
      filter.meterId ?? null,
      filter.zones === undefined || filter.zones === null ? null : [...filter.zones],
      filter.current ?? false,
      filter.after ?? null,
      filter.limit ?? null,
    ],
  );
  return rows.map(toMeter);
}

/** Every validity of each of `meterIds` (one query, for a batch of readings), oldest first per meter. */
export async function metersByIds(
  q: Queryable,
  meterIds: readonly string[],
  options: DbCallOptions = {},
): Promise<Map<string, Meter[]>> {
  const out = new Map<string, Meter[]>();
  if (meterIds.length === 0) return out;
  const { rows } = await q.query(
    `SELECT ${COLUMNS} FROM meters WHERE meter_id = ANY($1::text[]) ORDER BY meter_id, valid_from NULLS FIRST`,
    [meterIds],
    options,
  );
  for (const row of rows) {
    const m = toMeter(row);
    const list = out.get(m.meter_id);
    if (list === undefined) out.set(m.meter_id, [m]);
    else list.push(m);
  }
  return out;
}

/** The validity of a meter's history in force at `tsMs` (valid_from ≤ ts < valid_to), if any. */
export function meterAt(history: readonly Meter[] | undefined, tsMs: number): Meter | undefined {
  return history?.find(
    (m) =>
      (m.valid_from === null || Date.parse(m.valid_from) <= tsMs) &&
      (m.valid_to === null || tsMs < Date.parse(m.valid_to)),
  );
}
