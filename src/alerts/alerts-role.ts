import type { Component } from '../common/index.ts';
import { periodic, phaseTimer } from '../common/index.ts';
import { alertsTopic } from '../contracts/index.ts';
import type { Log } from '../log/index.ts';
import { produceDeadLetters, produceValues } from '../log/index.ts';
import { METERS_JOB, UNASSIGNED } from '../meters/index.ts';
import type { Logger, Metrics } from '../observability/index.ts';
import type { BdewProfile, BdewProfiles } from '../simulator/index.ts';
import type { Db, DbCallOptions, Queryable } from '../storage/index.ts';
import { loadJobWatermark } from '../storage/index.ts';
import { DAY_MS, HOUR_MS, SLOT_MS } from '../time/index.ts';
import { applySignals, keysInPlay, markPublished, openAlertCounts, takeUnpublished } from './alert-store.ts';
import type { SeriesSubject, SlotValue } from './grid-detectors.ts';
import { carbonSignals, forecastSignals, priceSignals } from './grid-detectors.ts';
import type { Signal } from './lifecycle.ts';
import { alertKey } from './lifecycle.ts';
import type { JudgedMeter, StoredInterval } from './meter-detectors.ts';
import { meterWindowSignals } from './meter-detectors.ts';
import type { PublicationExpectation } from './publication-model.ts';
import { idleSignals, learnPublication, withLastSlots } from './publication-model.ts';
import type { AlertRules } from './settings.ts';
import { queueWebhookDeliveries } from './webhook-store.ts';
import { webhookSender } from './webhook-sender.ts';

export interface AlertsRoleDeps {
  readonly db: Db;
  readonly log: Log;
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly rules: AlertRules;
  readonly profiles: BdewProfiles;
  readonly scrub: (text: string) => string;
  /** How often the detectors look. @default 5000 */
  readonly intervalMs?: number;
  /** How far back the meter detectors start on a database they have never looked at. @default 1 day */
  readonly initialLookbackMs?: number;
  /** How often the expected-publication model is learnt again. @default 15 min */
  readonly modelRefreshMs?: number;
  /** Processing time (tests, the benchmark). @default Date.now */
  readonly now?: () => number;
  /** Webhook delivery settings. @default 8 attempts, 5 s timeout */
  readonly webhooks?: { readonly maxAttempts: number; readonly timeoutMs: number };
}

/** Alert transitions written by a pass, for metrics. */
type Counts = Map<string, number>;

const GRID_PAIRS: readonly { actual: string; forecast: string; types: 'none' | 'wind_solar' }[] = [
  { actual: 'load_actual', forecast: 'load_forecast_day_ahead', types: 'none' },
  { actual: 'generation_actual', forecast: 'wind_solar_forecast_day_ahead', types: 'wind_solar' },
];
/** Solar, wind offshore, wind onshore: the production types with a day-ahead forecast of their own. */
const WIND_SOLAR = ['B16', 'B18', 'B19'];

/**
 * The `alerts` role: the detectors (meter windows closed by the meters job's watermark, validated days, grid slots
 * as they are stored, and idle sources against the expected-publication model), each pass in one transaction with
 * the detector's cursor, so a crash repeats a pass and never skips one; and the outbox publisher, which produces
 * every alert transition to the `alerts` topic (at least once) and queues its webhook deliveries.
 */
export function alertsRole(deps: AlertsRoleDeps): Component[] {
  const { db, logger, metrics, rules } = deps;
  const now = deps.now ?? Date.now;
  let model: { at: number; expectations: PublicationExpectation[] } | null = null;
  const count = (into: Counts, from: Counts): void => {
    for (const [k, v] of from) into.set(k, (into.get(k) ?? 0) + v);
  };

  const detectors = periodic({
    name: 'alerts',
    logger,
    intervalMs: deps.intervalMs ?? 5_000,
    run: async (signal) => {
      const o = { signal };
      const { lap, phases } = phaseTimer();
      const counts: Counts = new Map();
      const t = now();
      count(counts, await db.transaction((tx) => gridPass(tx, rules, o), o));
      lap('grid');
      const meterPass = await db.transaction((tx) => metersPass(tx, deps, t, deps.initialLookbackMs ?? DAY_MS, o), o);
      count(counts, meterPass.counts);
      lap('meters');
      count(counts, await db.transaction((tx) => veePass(tx, rules, t, deps.initialLookbackMs ?? DAY_MS, o), o));
      lap('vee');
      if (model === null || t - model.at >= (deps.modelRefreshMs ?? 15 * 60_000))
        model = { at: t, expectations: await learnPublication(db, rules, t, o) };
      // Delays are learnt every 15 min; the newest slot of each series is looked up at every pass.
      const idle = idleSignals(rules, await withLastSlots(db, model.expectations, o), t);
      count(counts, await db.transaction(async (tx) => applySignals(tx, rules, await inPlay(tx, idle, o), o), o));
      lap('idle');
      for (const [k, v] of counts) {
        const [detector = '', transition = ''] = k.split('|');
        metrics.alertTransitions(detector, transition, v);
      }
      metrics.alertsOpen(await openAlertCounts(db, o));
      if (counts.size > 0 || meterPass.windows > 0)
        logger.debug(
          { transitions: Object.fromEntries(counts), windows: meterPass.windows, ms: phases },
          'alerts pass',
        );
      // More closed windows wait: look again at once.
      return meterPass.more ? 0 : undefined;
    },
  });

  const sender = webhookSender({
    db,
    logger,
    metrics,
    deadLetters: {
      publish: async (letters, options) => {
        await produceDeadLetters(deps.log, letters, options.signal === undefined ? {} : { signal: options.signal });
      },
    },
    maxAttempts: deps.webhooks?.maxAttempts ?? 8,
    timeoutMs: deps.webhooks?.timeoutMs ?? 5_000,
    ...(deps.now === undefined ? {} : { now: deps.now }),
  });
  const outbox = periodic({
    name: 'alerts-outbox',
    logger,
    intervalMs: 1_000,
    run: async (signal) => {
      const o = { signal };
      const sent = await db.transaction(async (tx) => {
        // One publisher at a time, so the transitions of an alert reach its (keyed) topic in order.
        const { rows } = await tx.query<{ locked: boolean }>(
          `SELECT pg_try_advisory_xact_lock(hashtext('gridstream.alerts-outbox:' || current_schema())) AS locked`,
          [],
          o,
        );
        if (rows[0]?.locked !== true) return { sent: 0, queued: 0 };
        const events = await takeUnpublished(tx, 500, o);
        if (events.length === 0) return { sent: 0, queued: 0 };
        await produceValues(
          deps.log,
          alertsTopic,
          events.map((e) => e.event),
          { signal, scrub: deps.scrub },
        );
        const ids = events.map((e) => e.id);
        const queued = await queueWebhookDeliveries(tx, ids, o);
        await markPublished(tx, ids, o);
        return { sent: events.length, queued };
      }, o);
      if (sent.queued > 0) sender.wake();
      return sent.sent >= 500 ? 0 : undefined;
    },
  });
  return [detectors, outbox, sender];
}

/**
 * Quiet verdicts matter only for keys in play (an active run or an unresolved alert, or an active verdict in the
 * same batch): the rest are dropped.
 */
async function inPlay(q: Queryable, signals: readonly Signal[], o: DbCallOptions): Promise<Signal[]> {
  if (!signals.some((s) => !s.active)) return [...signals];
  const detectors = [...new Set(signals.map((s) => s.detector))];
  const keys = await keysInPlay(q, detectors, o);
  for (const s of signals) if (s.active) keys.add(alertKey(s));
  return signals.filter((s) => s.active || keys.has(alertKey(s)));
}

/** The position of a detector's cursor, locked for this transaction (null: it never ran). */
async function cursor(q: Queryable, detector: string, o: DbCallOptions): Promise<number | null> {
  const { rows } = await q.query<{ position: Date }>(
    `SELECT position FROM alert_cursors WHERE detector = $1 FOR UPDATE`,
    [detector],
    o,
  );
  return rows[0]?.position.getTime() ?? null;
}

async function moveCursor(q: Queryable, detector: string, position: number, o: DbCallOptions): Promise<void> {
  await q.query(
    `INSERT INTO alert_cursors (detector, position) VALUES ($1, $2)
     ON CONFLICT (detector) DO UPDATE SET position = excluded.position, updated_at = now()`,
    [detector, new Date(position)],
    o,
  );
}

/** Quarter hours judged per pass: about 200 000 meter values, at most a day. */
const windowsPerPass = (meters: number): number => Math.max(1, Math.min(96, Math.floor(200_000 / Math.max(1, meters))));

/**
 * Closed quarter hours of the meters job: from the cursor to its watermark, held back by the longest declared
 * delivery latency (silence is judged only after it).
 */
async function metersPass(
  q: Queryable,
  deps: AlertsRoleDeps,
  now: number,
  initialLookbackMs: number,
  o: DbCallOptions,
): Promise<{ counts: Counts; windows: number; more: boolean }> {
  const none = { counts: new Map<string, number>(), windows: 0, more: false };
  const d = deps.rules.detectors;
  if (!d.meter_outage.enabled && !d.meter_reverse_flow.enabled && !d.meter_tamper.enabled) return none;
  const watermark = await loadJobWatermark(q, METERS_JOB, o);
  if (watermark === null) return none;
  const latencies = [
    deps.rules.deliveryLatencyMs ?? 0,
    ...[...deps.rules.groups.values()].map((g) => g.deliveryLatencyMs ?? 0),
  ];
  const horizon = Math.floor(Math.min(Date.parse(watermark), now - Math.max(...latencies)) / SLOT_MS) * SLOT_MS;
  const at = (await cursor(q, 'meters', o)) ?? (await firstWindow(q, horizon - initialLookbackMs, o));
  if (at === null) return none;
  if (at >= horizon) return none;
  const meters = await judgedMeters(q, at, horizon, o);
  const to = Math.min(horizon, at + windowsPerPass(meters.length) * SLOT_MS);
  const intervals = await storedIntervals(q, at, to, o);
  const signals = meterWindowSignals({
    from: at,
    to,
    meters,
    intervals,
    profiles: deps.profiles,
    rules: deps.rules,
    now,
  });
  const counts = await applySignals(q, deps.rules, await inPlay(q, signals, o), o);
  await moveCursor(q, 'meters', to, o);
  return { counts, windows: (to - at) / SLOT_MS, more: to < horizon };
}

/**
 * Where the meter detectors start on a database they never looked at: the first stored interval after `from`
 * (silence before a meter ever delivered is no outage). Null: nothing stored yet.
 */
async function firstWindow(q: Queryable, from: number, o: DbCallOptions): Promise<number | null> {
  const { rows } = await q.query<{ first: Date | null }>(
    `SELECT min(ts) AS first FROM meter_intervals WHERE ts >= $1`,
    [new Date(from)],
    o,
  );
  const first = rows[0]?.first ?? null;
  return first === null ? null : Math.floor(first.getTime() / SLOT_MS) * SLOT_MS;
}

async function judgedMeters(q: Queryable, from: number, to: number, o: DbCallOptions): Promise<JudgedMeter[]> {
  const { rows } = await q.query<{
    meter_id: string;
    group_id: string;
    zone: string;
    register_type: JudgedMeter['registerType'];
    annual: number;
    profile: BdewProfile;
    time_zone: string;
    valid_from: Date | null;
    valid_to: Date | null;
  }>(
    `SELECT meter_id, group_id, zone, register_type, annual_consumption_kwh::float8 AS annual, profile, time_zone,
       valid_from, valid_to
     FROM meters
     WHERE group_id <> $3 AND (valid_from IS NULL OR valid_from < $2) AND (valid_to IS NULL OR valid_to > $1)`,
    [new Date(from), new Date(to), UNASSIGNED],
    o,
  );
  return rows.map((r) => ({
    meterId: r.meter_id,
    group: r.group_id,
    zone: r.zone,
    registerType: r.register_type,
    annualKwh: r.annual,
    profile: r.profile,
    timeZone: r.time_zone,
    validFrom: r.valid_from?.getTime() ?? null,
    validTo: r.valid_to?.getTime() ?? null,
  }));
}

async function storedIntervals(q: Queryable, from: number, to: number, o: DbCallOptions): Promise<StoredInterval[]> {
  const { rows } = await q.query<{
    meter_id: string;
    quantity: StoredInterval['quantity'];
    ts: Date;
    interval_s: number;
    value: number;
  }>(
    `SELECT meter_id, quantity, ts, interval_s, value::float8 AS value FROM meter_intervals
     WHERE ts >= $1 AND ts < $2 AND ts + interval_s * interval '1 second' > $3`,
    [new Date(from - HOUR_MS), new Date(to), new Date(from)],
    o,
  );
  return rows.map((r) => ({
    meterId: r.meter_id,
    quantity: r.quantity,
    ts: r.ts.getTime(),
    intervalS: r.interval_s,
    value: r.value,
  }));
}

/**
 * Validated meter days computed since the cursor: a day whose raw values failed any of the configured rules is an
 * alert of its own (subject meter and local day: days are validated in any order, and each failing day is an
 * event), with the failures per rule as evidence; the day validated clean later (an edit, a late value) resolves it.
 */
async function veePass(
  q: Queryable,
  rules: AlertRules,
  now: number,
  initialLookbackMs: number,
  o: DbCallOptions,
): Promise<Counts> {
  const d = rules.detectors.meter_vee;
  if (!d.enabled) return new Map();
  const at = (await cursor(q, 'meter_vee', o)) ?? now - initialLookbackMs;
  // `computed_at` is the writer's transaction start: a transaction that commits after a later-starting one is
  // caught by looking 60 s back (a quality transaction takes a second or two); a day seen twice is harmless (the
  // same window is judged again to the same verdict). The day's window comes from all its rows, not only the
  // rows that changed.
  const { rows } = await q.query<{
    meter_id: string;
    local_day: string;
    group_id: string | null;
    zone: string | null;
    day_from: Date;
    day_to: Date;
    failures: Record<string, number> | null;
    last: Date;
  }>(
    `WITH changed AS (
       SELECT v.meter_id, v.quantity, v.local_day, max(v.computed_at) AS last
       FROM meter_validated v WHERE v.computed_at > $1 AND v.computed_at <= $2
       GROUP BY v.meter_id, v.quantity, v.local_day
       ORDER BY last LIMIT 2000),
     days AS (
       SELECT c.meter_id, c.quantity, c.local_day, c.last, max(v.group_id) AS group_id, min(v.ts) AS day_from,
         max(v.ts + v.interval_s * interval '1 second') AS day_to
       FROM changed c JOIN meter_validated v USING (meter_id, quantity, local_day)
       GROUP BY c.meter_id, c.quantity, c.local_day, c.last),
     fails AS (
       SELECT d.meter_id, d.quantity, d.local_day, r.rule, count(*)::int AS n
       FROM days d JOIN meter_validated v USING (meter_id, quantity, local_day)
       CROSS JOIN LATERAL unnest(v.rules) AS r(rule)
       WHERE r.rule = ANY($3::text[])
       GROUP BY d.meter_id, d.quantity, d.local_day, r.rule)
     SELECT d.meter_id, d.local_day::text AS local_day, d.group_id, d.day_from, d.day_to, d.last,
       (SELECT jsonb_object_agg(f.rule, f.n) FROM fails f
        WHERE f.meter_id = d.meter_id AND f.quantity = d.quantity AND f.local_day = d.local_day) AS failures,
       (SELECT m.zone FROM meters m WHERE m.meter_id = d.meter_id ORDER BY m.valid_from DESC NULLS LAST LIMIT 1) AS zone
     FROM days d ORDER BY d.last`,
    [new Date(at - 60_000), new Date(now), d.rules],
    o,
  );
  if (rows.length === 0) return new Map();
  const signals: Signal[] = rows.map((r) => {
    const failures = r.failures ?? {};
    const total = Object.values(failures).reduce((a, b) => a + b, 0);
    const active = total > 0;
    return {
      detector: 'meter_vee',
      subject: `${r.meter_id}|${r.local_day}`,
      active,
      from: r.day_from.getTime(),
      to: r.day_to.getTime(),
      severity: d.severity,
      zone: r.zone,
      group: r.group_id,
      meter: r.meter_id,
      message: active
        ? `meter ${r.meter_id} on ${r.local_day}: ${total} intervals failed validation (${Object.entries(failures)
            .map(([k, v]) => `${k} ${v}`)
            .join(', ')})`
        : `meter ${r.meter_id} on ${r.local_day} validates clean now`,
      values: failures,
    };
  });
  const counts = await applySignals(q, rules, await inPlay(q, signals, o), o);
  await moveCursor(q, 'meter_vee', Math.max(...rows.map((r) => r.last.getTime())), o);
  return counts;
}

/**
 * Grid slots stored since the last pass (queued by triggers on grid_observations): prices, carbon intensity, and
 * actuals against their day-ahead forecast, judged with their history.
 */
async function gridPass(q: Queryable, rules: AlertRules, o: DbCallOptions): Promise<Counts> {
  const { rows } = await q.query<{ zone: string; metric: string; slot_from: Date; slot_to: Date }>(
    `DELETE FROM alert_grid_changes WHERE id IN (
       SELECT id FROM alert_grid_changes ORDER BY id LIMIT 500 FOR UPDATE SKIP LOCKED)
     RETURNING zone, metric, slot_from, slot_to`,
    [],
    o,
  );
  if (rows.length === 0) return new Map();
  // One range per zone and metric.
  const ranges = new Map<string, { zone: string; metric: string; from: number; to: number }>();
  for (const r of rows) {
    const k = `${r.zone}|${r.metric}`;
    const prev = ranges.get(k);
    const from = r.slot_from.getTime();
    const to = r.slot_to.getTime();
    ranges.set(
      k,
      prev === undefined
        ? { zone: r.zone, metric: r.metric, from, to }
        : { ...prev, from: Math.min(prev.from, from), to: Math.max(prev.to, to) },
    );
  }
  const signals: Signal[] = [];
  const pairsDone = new Set<string>();
  for (const r of ranges.values()) {
    if (r.metric === 'price_day_ahead') {
      const prices = await series(q, r.zone, 'price_day_ahead', null, r.from, r.to, o, `AND qualifier = 'sequence=1'`);
      for (const [key, values] of prices) signals.push(...priceSignals(rules, r.zone, key.split('|')[0] ?? '', values));
      continue;
    }
    if (r.metric.startsWith('carbon_intensity_')) {
      const d = rules.detectors.carbon_out_of_range;
      // One series per basis of emission factors and source (`factors=direct`, `source=electricitymaps`…).
      for (const [key, values] of await series(q, r.zone, r.metric, '', r.from - d.lookback, r.to, o)) {
        const qualifier = key.slice(key.indexOf('|') + 1);
        const subject: SeriesSubject = {
          zone: r.zone,
          subject: `${r.zone}|${r.metric}|${qualifier}`,
          label: `${r.metric.replace(/_/g, ' ')} (${qualifier === '' ? 'default' : qualifier}) of ${r.zone}`,
        };
        signals.push(...carbonSignals(rules, subject, values, { from: r.from, to: r.to }));
      }
      continue;
    }
    const pair = GRID_PAIRS.find((p) => p.actual === r.metric || p.forecast === r.metric);
    if (pair === undefined) continue;
    const lookback = rules.detectors.forecast_deviation.lookback;
    for (const type of pair.types === 'none' ? [''] : WIND_SOLAR) {
      const k = `${r.zone}|${pair.actual}|${type}|${r.from}|${r.to}`;
      if (pairsDone.has(k)) continue;
      pairsDone.add(k);
      const plain = `AND qualifier = ''`;
      const actual = (await series(q, r.zone, pair.actual, type, r.from - lookback, r.to, o, plain))
        .values()
        .next().value;
      if (actual === undefined) continue;
      const forecast =
        (await series(q, r.zone, pair.forecast, type, r.from - lookback, r.to, o, plain)).values().next().value ?? [];
      const subject: SeriesSubject = {
        zone: r.zone,
        subject: type === '' ? `${r.zone}|${pair.actual}` : `${r.zone}|${pair.actual}|${type}`,
        label:
          type === ''
            ? `${pair.actual.replace(/_/g, ' ')} of ${r.zone}`
            : `${pair.actual.replace(/_/g, ' ')} ${type} of ${r.zone}`,
      };
      signals.push(...forecastSignals(rules, subject, actual, forecast, { from: r.from, to: r.to }));
    }
  }
  return applySignals(q, rules, await inPlay(q, signals, o), o);
}

/**
 * A series' values in [from, to), in slot order, per `unit|qualifier` (production type '' = none; null = any; the
 * first production type wins a slot when several match).
 */
async function series(
  q: Queryable,
  zone: string,
  metric: string,
  productionType: string | null,
  from: number,
  to: number,
  o: DbCallOptions,
  extra = '',
): Promise<Map<string, SlotValue[]>> {
  const { rows } = await q.query<{ unit: string; qualifier: string; slot_start: Date; value: number }>(
    `SELECT DISTINCT ON (unit, qualifier, slot_start) unit, qualifier, slot_start, value FROM grid_observations
     WHERE zone = $1 AND metric = $2 AND ($3::text IS NULL OR production_type = $3) AND counterpart_zone = ''
       AND slot_start >= $4 AND slot_start < $5 ${extra}
     ORDER BY unit, qualifier, slot_start, production_type`,
    [zone, metric, productionType, new Date(from), new Date(to)],
    o,
  );
  const out = new Map<string, SlotValue[]>();
  for (const r of rows) {
    const key = `${r.unit}|${r.qualifier}`;
    const list = out.get(key);
    const v = { slot: r.slot_start.getTime(), value: r.value };
    if (list === undefined) out.set(key, [v]);
    else list.push(v);
  }
  return out;
}
