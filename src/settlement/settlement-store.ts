import type { DbCallOptions, DbTransaction, MeterWorkItem, Queryable } from '../storage/index.ts';

/**
 * SQL of the settle role. Settlement periods are 15 minutes: a meter's intervals of 5 minutes add up into their
 * period, one of 30 or 60 minutes is shared equally among its periods (× 0.5, × 0.25: exact). Prices and
 * intensities are the stored doubles read back as the decimals they were written as (`::numeric` keeps 15
 * significant digits: a price of 85.42 EUR/MWh is 85.42). Products are exact numerics; nothing is rounded.
 */

/** A meter day to settle, with what the registry says of the meter. */
export interface SettleDay extends MeterWorkItem {
  /** The bidding zone whose price and intensity apply; `null`: none known (every row stays pending). */
  readonly biddingZone: string | null;
  readonly groupId: string | null;
  /** The day may be written with pending rows (its wait for prices is over); otherwise an incomplete day waits. */
  readonly mayPend: boolean;
}

/** What {@link settleDays} did: rows new or changed, of those the pending and the restated ones, days deferred. */
export interface SettleResult {
  readonly written: number;
  readonly pending: number;
  readonly restated: number;
  /** Indexes (into the given days) of incomplete days that may not pend yet: nothing of them was written. */
  readonly deferred: readonly number[];
}

/**
 * Recomputes the settlement rows of the given days from the validated series and the stored prices and
 * intensities, and writes the rows that are new or changed (a changed row keeps its old version as a revision), in
 * one statement. A day with a period lacking its energy, price or an intensity is written (its rows `pending`)
 * only when `mayPend`; otherwise it is left out and reported as deferred. Prices and intensities are looked up once
 * per zone and period of the batch, not once per meter.
 */
export async function settleDays(
  tx: DbTransaction,
  days: readonly SettleDay[],
  options: DbCallOptions = {},
): Promise<SettleResult> {
  if (days.length === 0) return { written: 0, pending: 0, restated: 0, deferred: [] };
  const { rows } = await tx.query<{
    written: number;
    pending: number;
    restated: number;
    deferred: number[] | null;
  }>(
    `WITH d AS (
       SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::text[], $5::text[], $6::text[],
         $7::timestamptz[], $8::timestamptz[], $9::boolean[]) WITH ORDINALITY
         AS d(meter_id, quantity, local_day, time_zone, bidding_zone, group_id, day_start, day_end, may_pend, i)
     ), v AS (
       SELECT d.*, x.ts, x.interval_s, x.value, x.quality
       FROM d JOIN meter_validated x ON x.meter_id = d.meter_id AND x.quantity = d.quantity
         AND x.ts >= d.day_start AND x.ts < d.day_end
     ), p AS (
       SELECT v.i, v.meter_id, v.quantity, v.local_day, v.time_zone, v.bidding_zone, v.group_id, v.may_pend, g.period,
         v.value * (CASE WHEN v.interval_s > 900 THEN 900::numeric / v.interval_s ELSE 1 END) AS energy, v.quality
       FROM v CROSS JOIN LATERAL generate_series(date_bin('15 minutes', v.ts, timestamptz 'epoch'),
         v.ts + make_interval(secs => greatest(v.interval_s, 900) - 900), interval '15 minutes') AS g(period)
     ), e AS (
       SELECT i, meter_id, quantity, local_day, time_zone, bidding_zone, group_id, may_pend, period,
         CASE WHEN bool_or(energy IS NULL) THEN NULL ELSE sum(energy) END AS energy,
         (array_agg(quality ORDER BY array_position(ARRAY['missing', 'estimated', 'substituted', 'measured'],
           quality)))[1] AS quality
       FROM p GROUP BY i, meter_id, quantity, local_day, time_zone, bidding_zone, group_id, may_pend, period
     ), zp AS (
       SELECT DISTINCT bidding_zone, period FROM e WHERE bidding_zone IS NOT NULL
     ), px AS (
       SELECT zp.bidding_zone, zp.period, pr.value::numeric AS price, pr.unit AS price_unit,
         split_part(pr.unit, '/', 1) AS currency, cl.value::numeric AS intensity_lifecycle,
         cd.value::numeric AS intensity_direct
       FROM zp
       LEFT JOIN grid_observations pr ON pr.zone = zp.bidding_zone AND pr.metric = 'price_day_ahead'
         AND pr.production_type = '' AND pr.counterpart_zone = '' AND pr.qualifier = 'sequence=1'
         AND pr.slot_start = zp.period
       LEFT JOIN grid_observations cl ON cl.zone = zp.bidding_zone AND cl.metric = 'carbon_intensity_consumption'
         AND cl.production_type = '' AND cl.counterpart_zone = '' AND cl.qualifier = 'factors=lifecycle'
         AND cl.slot_start = zp.period
       LEFT JOIN grid_observations cd ON cd.zone = zp.bidding_zone AND cd.metric = 'carbon_intensity_consumption'
         AND cd.production_type = '' AND cd.counterpart_zone = '' AND cd.qualifier = 'factors=direct'
         AND cd.slot_start = zp.period
     ), c AS (
       SELECT e.*, px.price, px.price_unit, px.currency, px.intensity_lifecycle, px.intensity_direct,
         e.energy * px.price * 0.001 AS cost, e.energy * px.intensity_lifecycle AS emissions_lifecycle_g,
         e.energy * px.intensity_direct AS emissions_direct_g,
         CASE WHEN e.energy IS NULL OR px.price IS NULL OR px.intensity_lifecycle IS NULL
           OR px.intensity_direct IS NULL THEN 'pending' ELSE 'final' END AS status
       FROM e LEFT JOIN px USING (bidding_zone, period)
     ), incomplete AS (
       SELECT DISTINCT i FROM c WHERE status = 'pending' AND NOT may_pend
     ), calc AS (
       SELECT c.* FROM c WHERE c.i NOT IN (SELECT i FROM incomplete)
     ), old AS (
       SELECT s.*, (s.energy_kwh IS NOT DISTINCT FROM k.energy AND s.quality = k.quality
         AND s.price IS NOT DISTINCT FROM k.price AND s.price_unit IS NOT DISTINCT FROM k.price_unit
         AND s.intensity_lifecycle IS NOT DISTINCT FROM k.intensity_lifecycle
         AND s.intensity_direct IS NOT DISTINCT FROM k.intensity_direct
         AND s.bidding_zone IS NOT DISTINCT FROM k.bidding_zone AND s.group_id IS NOT DISTINCT FROM k.group_id
         AND s.status = k.status) AS same
       FROM calc k JOIN meter_settlement s USING (meter_id, quantity, period)
       ORDER BY s.meter_id, s.quantity, s.period
       FOR UPDATE OF s
     ), rev AS (
       INSERT INTO meter_settlement_revisions (meter_id, quantity, period, energy_kwh, quality, price, cost,
         intensity_lifecycle, intensity_direct, emissions_lifecycle_g, emissions_direct_g, status, revision,
         computed_at)
       SELECT meter_id, quantity, period, energy_kwh, quality, price, cost, intensity_lifecycle, intensity_direct,
         emissions_lifecycle_g, emissions_direct_g, status, revision, computed_at
       FROM old WHERE NOT same
     ), up AS (
       INSERT INTO meter_settlement AS s (meter_id, quantity, period, local_day, time_zone, group_id, bidding_zone,
         energy_kwh, quality, price, price_unit, currency, cost, intensity_lifecycle, intensity_direct,
         emissions_lifecycle_g, emissions_direct_g, status)
       SELECT k.meter_id, k.quantity, k.period, k.local_day, k.time_zone, k.group_id, k.bidding_zone, k.energy,
         k.quality, k.price, k.price_unit, k.currency, k.cost, k.intensity_lifecycle, k.intensity_direct,
         k.emissions_lifecycle_g, k.emissions_direct_g, k.status
       FROM calc k LEFT JOIN old o USING (meter_id, quantity, period)
       WHERE o.meter_id IS NULL OR NOT o.same
       ORDER BY k.meter_id, k.quantity, k.period
       ON CONFLICT (meter_id, quantity, period) DO UPDATE SET local_day = EXCLUDED.local_day,
         time_zone = EXCLUDED.time_zone, group_id = EXCLUDED.group_id, bidding_zone = EXCLUDED.bidding_zone,
         energy_kwh = EXCLUDED.energy_kwh, quality = EXCLUDED.quality, price = EXCLUDED.price,
         price_unit = EXCLUDED.price_unit, currency = EXCLUDED.currency, cost = EXCLUDED.cost,
         intensity_lifecycle = EXCLUDED.intensity_lifecycle, intensity_direct = EXCLUDED.intensity_direct,
         emissions_lifecycle_g = EXCLUDED.emissions_lifecycle_g, emissions_direct_g = EXCLUDED.emissions_direct_g,
         status = EXCLUDED.status, revision = s.revision + 1, computed_at = now()
       RETURNING s.status, s.revision
     )
     SELECT count(*)::integer AS written, (count(*) FILTER (WHERE status = 'pending'))::integer AS pending,
       (count(*) FILTER (WHERE revision > 0))::integer AS restated,
       (SELECT array_agg(i::integer) FROM incomplete) AS deferred
     FROM up`,
    [
      days.map((d) => d.meterId),
      days.map((d) => d.quantity),
      days.map((d) => d.localDay),
      days.map((d) => d.timeZone),
      days.map((d) => d.biddingZone),
      days.map((d) => d.groupId),
      days.map((d) => d.dayStart),
      days.map((d) => d.dayEnd),
      days.map((d) => d.mayPend),
    ],
    options,
  );
  const r = rows[0];
  return {
    written: r?.written ?? 0,
    pending: r?.pending ?? 0,
    restated: r?.restated ?? 0,
    deferred: (r?.deferred ?? []).map((i) => i - 1),
  };
}

/** The advisory lock between settling days and turning price changes into queued days (one per schema). */
const SETTLE_LOCK = `hashtext('gridstream.settle:' || current_schema())`;

/**
 * Taken shared by every transaction that settles days, before it reads prices: {@link requeueChangedInputs} takes
 * it exclusively. A price committed while a day is being settled is then either seen by that settlement or, once
 * the settlement has committed, finds the day and queues it again; never neither.
 */
export async function lockSettling(tx: DbTransaction, options: DbCallOptions = {}): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock_shared(${SETTLE_LOCK})`, [], options);
}

/** Whether any price or intensity change waits to be turned into queued days (a cheap look, no lock). */
export async function hasInputChanges(db: Queryable, options: DbCallOptions = {}): Promise<boolean> {
  const { rows } = await db.query<{ any: boolean }>(
    'SELECT EXISTS (SELECT 1 FROM settlement_input_changes) AS any',
    [],
    options,
  );
  return rows[0]?.any === true;
}

/**
 * Takes (deletes) at most `limit` recorded price and intensity changes and queues the settled days they touch
 * for re-pricing, in the caller's transaction. Returns how many changes it took.
 */
export async function requeueChangedInputs(
  tx: DbTransaction,
  limit: number,
  options: DbCallOptions = {},
): Promise<number> {
  // Exclusive: waits for every settling transaction in flight (they hold the lock shared), so that the days they
  // write are committed, and seen below, before the changes that concern them are taken.
  await tx.query(`SELECT pg_advisory_xact_lock(${SETTLE_LOCK})`, [], options);
  const { rows } = await tx.query<{ n: number }>(
    `WITH taken AS (
       DELETE FROM settlement_input_changes WHERE id IN (
         SELECT id FROM settlement_input_changes ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
       RETURNING zone, slot_from, slot_to
     ), touched AS (
       SELECT DISTINCT s.meter_id, s.quantity, s.local_day, s.time_zone
       FROM taken t JOIN meter_settlement s ON s.bidding_zone = t.zone AND s.period >= t.slot_from
         AND s.period < t.slot_to
     ), queued AS (
       INSERT INTO meter_work AS w (job, meter_id, quantity, local_day, time_zone, day_start, day_end)
       SELECT 'settle', t.meter_id, t.quantity, t.local_day, t.time_zone,
         t.local_day::timestamp AT TIME ZONE t.time_zone, (t.local_day + 1)::timestamp AT TIME ZONE t.time_zone
       FROM touched t
       ORDER BY 2, 3, 4
       ON CONFLICT (job, meter_id, quantity, local_day) DO UPDATE SET due_at = least(w.due_at, now())
     )
     SELECT count(*)::integer AS n FROM taken`,
    [limit],
    options,
  );
  return rows[0]?.n ?? 0;
}
