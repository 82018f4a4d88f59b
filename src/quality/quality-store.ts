import type { Decimal } from '../common/index.ts';
import { normaliseDecimal } from '../common/index.ts';
import type { DbCallOptions, DbTransaction, MeterWorkItem, Queryable } from '../storage/index.ts';
import type { RuleFailure, VeeEdit, VeeMethod, VeeQuality } from './vee.ts';

/** SQL of the quality role: the inputs of a day's validation and its stored results (meter_validated). */

const dec = (text: string): Decimal => normaliseDecimal(text) as Decimal;

/** A stored validated value. */
export interface StoredValidated {
  readonly value: Decimal | null;
  readonly quality: VeeQuality;
  readonly method: VeeMethod;
  readonly raw: Decimal | null;
  readonly rules: readonly string[];
}

/** What a batch of days needs, per item index. */
export interface DayInputs {
  readonly measured: Map<number, Map<number, { value: Decimal; receivedAtMs: number }>>;
  readonly previous: Map<number, Map<number, StoredValidated>>;
  readonly edits: Map<number, Map<number, VeeEdit>>;
  readonly registers: Map<number, { ts: number; value: Decimal }[]>;
}

const get = <K, V>(map: Map<K, V>, key: K, make: () => V): V => {
  let v = map.get(key);
  if (v === undefined) map.set(key, (v = make()));
  return v;
};

/** Loads the inputs of the given days, the measured values `contextMs` around each day included. */
export async function loadDayInputs(
  tx: DbTransaction,
  items: readonly MeterWorkItem[],
  contextMs: number,
  options: DbCallOptions = {},
): Promise<DayInputs> {
  const ids = items.map((i) => i.meterId);
  const quantities = items.map((i) => i.quantity);
  const from = items.map((i) => new Date(Date.parse(i.dayStart) - contextMs).toISOString());
  const to = items.map((i) => new Date(Date.parse(i.dayEnd) + contextMs).toISOString());
  const starts = items.map((i) => i.dayStart);
  const ends = items.map((i) => i.dayEnd);
  const out: DayInputs = { measured: new Map(), previous: new Map(), edits: new Map(), registers: new Map() };

  const measured = await tx.query<{ i: number; ts: Date; value: string; received_at: Date }>(
    `SELECT k.i::integer AS i, m.ts, m.value::text AS value, m.received_at
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS k(meter_id, quantity, f, t, i)
     JOIN meter_intervals m ON m.meter_id = k.meter_id AND m.quantity = k.quantity AND m.ts >= k.f AND m.ts < k.t`,
    [ids, quantities, from, to],
    options,
  );
  for (const r of measured.rows)
    get(out.measured, r.i - 1, () => new Map()).set(new Date(r.ts).getTime(), {
      value: dec(r.value),
      receivedAtMs: new Date(r.received_at).getTime(),
    });

  const previous = await tx.query<{
    i: number;
    ts: Date;
    value: string | null;
    quality: VeeQuality;
    method: VeeMethod;
    raw: string | null;
    rules: string[];
  }>(
    `SELECT k.i::integer AS i, v.ts, v.value::text AS value, v.quality, v.method, v.raw::text AS raw, v.rules
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS k(meter_id, quantity, f, t, i)
     JOIN meter_validated v ON v.meter_id = k.meter_id AND v.quantity = k.quantity AND v.ts >= k.f AND v.ts < k.t`,
    [ids, quantities, starts, ends],
    options,
  );
  for (const r of previous.rows)
    get(out.previous, r.i - 1, () => new Map()).set(new Date(r.ts).getTime(), {
      value: r.value === null ? null : dec(r.value),
      quality: r.quality,
      method: r.method,
      raw: r.raw === null ? null : dec(r.raw),
      rules: r.rules,
    });

  const edits = await tx.query<{ i: number; ts: Date; value: string | null; override: boolean }>(
    `SELECT DISTINCT ON (k.i, e.ts) k.i::integer AS i, e.ts, e.value::text AS value, e.override
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS k(meter_id, quantity, f, t, i)
     JOIN meter_interval_edits e ON e.meter_id = k.meter_id AND e.quantity = k.quantity AND e.ts >= k.f AND e.ts < k.t
     ORDER BY k.i, e.ts, e.id DESC`,
    [ids, quantities, starts, ends],
    options,
  );
  for (const r of edits.rows)
    if (r.value !== null)
      get(out.edits, r.i - 1, () => new Map()).set(new Date(r.ts).getTime(), {
        value: dec(r.value),
        override: r.override,
      });

  const registers = await tx.query<{ i: number; ts: Date; value: string }>(
    `SELECT k.i::integer AS i, r.ts, r.value::text AS value
     FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[]) WITH ORDINALITY AS k(meter_id, quantity, f, t, i)
     JOIN meter_register_reads r ON r.meter_id = k.meter_id
       AND r.quantity = replace(k.quantity, 'energy_', 'register_') AND r.ts >= k.f AND r.ts <= k.t
     ORDER BY k.i, r.ts`,
    [ids, quantities, starts, ends],
    options,
  );
  for (const r of registers.rows)
    get(out.registers, r.i - 1, () => []).push({ ts: new Date(r.ts).getTime(), value: dec(r.value) });
  return out;
}

/** Measured values (quality `measured` in the validated series) at the given instants, per item index. */
export async function loadHistory(
  tx: DbTransaction,
  wanted: readonly {
    readonly index: number;
    readonly meterId: string;
    readonly quantity: string;
    readonly ts: number;
  }[],
  options: DbCallOptions = {},
): Promise<Map<number, Map<number, Decimal>>> {
  const out = new Map<number, Map<number, Decimal>>();
  if (wanted.length === 0) return out;
  const { rows } = await tx.query<{ i: number; ts: Date; value: string }>(
    `SELECT k.i::integer AS i, v.ts, v.value::text AS value
     FROM unnest($1::integer[], $2::text[], $3::text[], $4::timestamptz[]) AS k(i, meter_id, quantity, ts)
     JOIN meter_validated v ON v.meter_id = k.meter_id AND v.quantity = k.quantity AND v.ts = k.ts
     WHERE v.quality = 'measured'`,
    [
      wanted.map((w) => w.index),
      wanted.map((w) => w.meterId),
      wanted.map((w) => w.quantity),
      wanted.map((w) => new Date(w.ts).toISOString()),
    ],
    options,
  );
  for (const r of rows) get(out, r.i, () => new Map()).set(new Date(r.ts).getTime(), dec(r.value));
  return out;
}

/** A validated value to store. */
export interface ValidatedRow {
  readonly meterId: string;
  readonly quantity: string;
  readonly ts: number;
  readonly intervalS: number;
  readonly localDay: string;
  readonly value: Decimal | null;
  readonly quality: VeeQuality;
  readonly method: VeeMethod;
  readonly raw: Decimal | null;
  readonly failures: readonly RuleFailure[];
  readonly groupId: string | null;
}

/**
 * Stores validated values (the caller passes only new or changed ones): a replaced value goes to
 * meter_validated_revisions with its revision, and the row's revision goes up by one.
 */
export async function writeValidated(
  tx: DbTransaction,
  rows: readonly ValidatedRow[],
  options: DbCallOptions = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: result } = await tx.query<{ n: number }>(
    `WITH n AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::integer[], $5::date[], $6::numeric[],
         $7::text[], $8::text[], $9::numeric[], $10::text[], $11::jsonb[], $12::text[])
         AS n(meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw, rules, details, group_id)
     ), old AS (
       SELECT v.* FROM meter_validated v JOIN n USING (meter_id, quantity, ts)
       ORDER BY v.meter_id, v.quantity, v.ts
       FOR UPDATE OF v
     ), rev AS (
       INSERT INTO meter_validated_revisions (meter_id, quantity, ts, value, quality, method, raw, rules, revision,
         computed_at)
       SELECT meter_id, quantity, ts, value, quality, method, raw, rules, revision, computed_at FROM old
     ), up AS (
       INSERT INTO meter_validated AS v (meter_id, quantity, ts, interval_s, local_day, value, quality, method, raw,
         rules, details, group_id)
       SELECT n.meter_id, n.quantity, n.ts, n.interval_s, n.local_day, n.value, n.quality, n.method, n.raw,
         CASE WHEN n.rules = '' THEN '{}'::text[] ELSE string_to_array(n.rules, ',') END, n.details, n.group_id
       -- Joined so that the old rows are read (and locked) before this insert changes them.
       FROM n LEFT JOIN old o USING (meter_id, quantity, ts)
       ORDER BY n.meter_id, n.quantity, n.ts
       ON CONFLICT (meter_id, quantity, ts) DO UPDATE SET interval_s = EXCLUDED.interval_s,
         local_day = EXCLUDED.local_day, value = EXCLUDED.value, quality = EXCLUDED.quality,
         method = EXCLUDED.method, raw = EXCLUDED.raw, rules = EXCLUDED.rules, details = EXCLUDED.details,
         group_id = EXCLUDED.group_id, revision = v.revision + 1, computed_at = now()
       RETURNING 1
     )
     SELECT count(*)::integer AS n FROM up`,
    [
      rows.map((r) => r.meterId),
      rows.map((r) => r.quantity),
      rows.map((r) => new Date(r.ts).toISOString()),
      rows.map((r) => r.intervalS),
      rows.map((r) => r.localDay),
      rows.map((r) => r.value),
      rows.map((r) => r.quality),
      rows.map((r) => r.method),
      rows.map((r) => r.raw),
      rows.map((r) => [...new Set(r.failures.map((f) => f.rule))].join(',')),
      rows.map((r) =>
        r.failures.length === 0 ? null : JSON.stringify(Object.fromEntries(r.failures.map((f) => [f.rule, f.detail]))),
      ),
      rows.map((r) => r.groupId),
    ],
    options,
  );
  return result[0]?.n ?? 0;
}

/** Appends an operator's edit (value `null`: withdraws the one in force). Returns its id. */
export async function insertEdit(
  q: Queryable,
  edit: {
    readonly meterId: string;
    readonly quantity: string;
    readonly ts: string;
    readonly value: Decimal | null;
    readonly override: boolean;
    readonly reason: string;
    readonly principal: string;
  },
  options: DbCallOptions = {},
): Promise<{ id: string; at: string }> {
  const { rows } = await q.query<{ id: string; at: Date }>(
    `INSERT INTO meter_interval_edits (meter_id, quantity, ts, value, override, reason, principal)
     VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id::text AS id, at`,
    [edit.meterId, edit.quantity, edit.ts, edit.value, edit.override, edit.reason, edit.principal],
    options,
  );
  const row = rows[0];
  return { id: row?.id ?? '', at: new Date(row?.at ?? 0).toISOString() };
}
