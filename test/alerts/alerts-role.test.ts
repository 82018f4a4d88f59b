import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { Signal } from '../../src/alerts/index.ts';
import {
  WEBHOOK_HEADERS,
  alertRulesOf,
  alertsRole,
  applySignals,
  createWebhookRule,
  idleSignals,
  learnPublication,
  listAlerts,
  operatorTransition,
  setWebhookAllowlist,
  verifyWebhook,
  withLastSlots,
} from '../../src/alerts/index.ts';
import { AlertEventSchema } from '../../src/contracts/index.ts';
import { Prng, loadBdewProfiles } from '../../src/simulator/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { postgresInfra } from '../helpers/infra.ts';
import { openTestDb } from '../storage/helpers.ts';

const HOUR = 3_600_000;
const Q = 900_000;
const DAY = 24 * HOUR;

/** Stores one hour of a series (four quarters) as first seen at `seen`, and moves grid_series along. */
async function publish(db: Db, hour: number, seen: number): Promise<void> {
  await db.query(
    `INSERT INTO grid_observations (zone, metric, slot_start, value, unit, source, first_seen, last_updated)
     SELECT 'FI', 'load_actual', s, 9000, 'MW', 'entsoe', $2, $2
     FROM generate_series($1::timestamptz, $1::timestamptz + interval '45 minutes', interval '15 minutes') AS s`,
    [new Date(hour), new Date(seen)],
  );
  await db.query(
    `INSERT INTO grid_series (zone, metric, production_type, counterpart_zone, qualifier, unit, source, first_slot, last_slot, updated_at)
     VALUES ('FI', 'load_actual', '', '', '', 'MW', 'entsoe', $1, $2, $3)
     ON CONFLICT (zone, metric, production_type, counterpart_zone, qualifier)
     DO UPDATE SET last_slot = greatest(grid_series.last_slot, excluded.last_slot), updated_at = excluded.updated_at`,
    [new Date(hour), new Date(hour + 3 * Q), new Date(seen)],
  );
}

for (const kind of ['pglite', 'postgres'] as const) {
  describe(`idle sources against the expected-publication model (${kind})`, () => {
    it('tells "late as usual" from missing: recall ≥ 0.95 and precision ≥ 0.9 on injected outages', async (t) => {
      const handle = await openTestDb(t, kind);
      if (handle === undefined) return;
      const { db } = handle;
      const rules = alertRulesOf({});
      // An hourly series published 40–100 min after each hour ends (late as usual: the spread is the point), for 14
      // days; then 8 days in which the source stops up to 10 times for 3–8 hours and catches up when it comes back.
      const rng = new Prng(17);
      const start = Date.parse('2026-10-01T00:00:00Z');
      const arrivals: { hour: number; seen: number }[] = [];
      const outages: { from: number; to: number }[] = [];
      const testFrom = start + 14 * DAY;
      let down: { from: number; to: number } | undefined;
      for (let hour = start; hour < testFrom + 8 * DAY; hour += HOUR) {
        let seen = hour + HOUR + (40 + rng.int(0, 60)) * 60_000;
        if (hour >= testFrom && down === undefined && outages.length < 10 && rng.next() < 0.1) {
          down = { from: hour + HOUR, to: hour + HOUR + rng.int(3, 8) * HOUR };
          outages.push(down);
        }
        if (down !== undefined && seen >= down.from && seen < down.to) seen = down.to + rng.int(1, 10) * 60_000;
        if (down !== undefined && hour + HOUR >= down.to) down = undefined;
        arrivals.push({ hour, seen });
      }
      arrivals.sort((a, b) => a.seen - b.seen);
      let next = 0;
      // The clock moves in 5-minute steps: what arrived by then is stored, then the detector looks.
      for (let now = start; now < testFrom + 8 * DAY; now += 5 * 60_000) {
        while ((arrivals[next]?.seen ?? Infinity) <= now) {
          const a = arrivals[next++];
          if (a !== undefined) await publish(db, a.hour, a.seen);
        }
        if (now < testFrom) continue;
        const model = await learnPublication(db, rules, now);
        await db.transaction((tx) => applySignals(tx, rules, idleSignals(rules, model, now)));
      }
      const model = await learnPublication(db, rules, testFrom + 8 * DAY);
      const e = model.find((m) => m.metric === 'load_actual');
      assert.equal(e?.resolution, 'PT15M');
      assert.ok(e.samples > 200, JSON.stringify(e));
      // The usual delay: the late end of the spread after the first slot's end (85–145 min); catch-up batches hours
      // late after the injected outages are outliers and do not count (those just after a short one still do).
      assert.ok((e.delayMs ?? 0) > 130 * 60_000 && (e.delayMs ?? 0) <= 3 * HOUR, JSON.stringify(e));
      const alerts = (await listAlerts(db, { zones: null, groups: null }, { limit: 1000 })).filter(
        (a) => a.detector === 'idle_source',
      );
      const spans = alerts.map((a) => ({ from: Date.parse(a.first_seen), to: Date.parse(a.last_seen) }));
      const overlaps = (x: { from: number; to: number }, y: { from: number; to: number }): boolean =>
        x.from < y.to && y.from < x.to;
      const found = outages.filter((o) => spans.some((s) => overlaps(s, o))).length;
      const right = spans.filter((s) => outages.some((o) => overlaps(s, o))).length;
      const report = {
        outages: outages.length,
        alerts: alerts.length,
        found,
        right,
        recall: found / outages.length,
        precision: right / Math.max(1, alerts.length),
      };
      t.diagnostic(`idle source: ${JSON.stringify(report)}`);
      console.log(JSON.stringify({ idleSource: report }));
      assert.ok(outages.length >= 8, `${outages.length} outages`);
      assert.ok(report.recall >= 0.95, JSON.stringify(report));
      assert.ok(report.precision >= 0.9, JSON.stringify(report));
      assert.ok(
        alerts.every((a) => a.state === 'resolved'),
        'every outage ended, and so did its alert',
      );
      assert.match(alerts[0]?.message ?? '', /has not published load_actual for FI/);
    });
  });
}

describe('idle sources between two learnings of the model', () => {
  it('judge the newest stored slot, not the one the model saw when it learnt', async (t) => {
    const handle = await openTestDb(t, 'pglite');
    if (handle === undefined) return;
    const { db } = handle;
    const rules = alertRulesOf({});
    const start = Date.parse('2026-10-01T00:00:00Z');
    let hour = start;
    for (; hour < start + 10 * DAY; hour += HOUR) await publish(db, hour, hour + HOUR + 30 * 60_000);
    const learnt = await learnPublication(db, rules, hour + 30 * 60_000);
    // Six more hours arrive as usual; the model is not learnt again.
    for (const end = hour + 6 * HOUR; hour < end; hour += HOUR) await publish(db, hour, hour + HOUR + 30 * 60_000);
    const now = hour + 30 * 60_000;
    assert.ok(
      idleSignals(rules, learnt, now).every((s) => s.active),
      'the stale model alone would call it idle',
    );
    const fresh = await withLastSlots(db, learnt);
    assert.deepEqual(
      idleSignals(rules, fresh, now).map((s) => s.active),
      [false],
    );
  });
});

describe('alert store under concurrency (PostgreSQL)', () => {
  const sig = (i: number, subject: string): Signal => ({
    detector: 'price_negative',
    subject,
    active: true,
    from: Date.parse('2026-11-09T00:00:00Z') + i * Q,
    to: Date.parse('2026-11-09T00:00:00Z') + (i + 1) * Q,
    severity: 'info',
    zone: 'SE_4',
    group: null,
    meter: null,
    message: 'negative',
    values: {},
  });

  it('two workers judging a brand-new key at once open one alert, and an operator and a detector do not deadlock', async (t) => {
    const handle = await openTestDb(t, 'postgres');
    if (handle === undefined) return;
    const { db } = handle;
    const rules = alertRulesOf({});
    const slow = (signals: Signal[], waitMs: number): Promise<unknown> =>
      db.transaction(async (tx) => {
        const r = await applySignals(tx, rules, signals);
        await new Promise((res) => setTimeout(res, waitMs));
        return r;
      });
    const both = await Promise.allSettled([slow([sig(0, 'SE_4')], 300), slow([sig(0, 'SE_4'), sig(1, 'SE_4')], 0)]);
    assert.deepEqual(
      both.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
      JSON.stringify(both),
    );
    const alerts = await listAlerts(db, { zones: null, groups: null }, { limit: 10 });
    assert.equal(alerts.length, 1);
    const id = alerts[0]?.id ?? '';
    const race = await Promise.allSettled([
      slow([sig(2, 'SE_4')], 300),
      db.transaction((tx) => operatorTransition(tx, { zones: null, groups: null }, id, 'resolved', 'ops')),
    ]);
    assert.deepEqual(
      race.map((r) => r.status),
      ['fulfilled', 'fulfilled'],
      JSON.stringify(race),
    );
  });
});

describe('the alerts role (embedded log, PostgreSQL)', () => {
  it('judges stored prices, produces the transition to the alerts topic and sends a signed webhook', async (t) => {
    const infra = await postgresInfra(t);
    if (infra === undefined) return;
    const received: { body: string; headers: Record<string, string | string[] | undefined> }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, headers: req.headers });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    t.after(
      () =>
        new Promise<void>((r) => {
          receiver.close(() => {
            r();
          });
        }),
    );
    const port = (receiver.address() as AddressInfo).port;
    await setWebhookAllowlist(infra.db, [`http://127.0.0.1:${port}`], 'test');
    const secret = 'a-shared-secret-of-enough-length';
    const rule = await createWebhookRule(
      infra.db,
      {
        name: 'prices',
        url: `http://127.0.0.1:${port}/hook`,
        secret,
        min_severity: 'info',
        detectors: ['price_negative'],
      },
      'test',
    );
    assert.ok(rule.ok);

    const role = alertsRole({ ...infra, rules: alertRulesOf({}), profiles: loadBdewProfiles(), intervalMs: 100 });
    for (const c of role) await c.start();
    t.after(async () => {
      for (const c of [...role].reverse()) await c.stop({ graceMs: 5000 });
    });
    // Five hours of SE_4 prices in one statement (as the store role writes a document; the trigger queues them):
    // negative from 01:00 to 02:00, positive for two hours (longer than the detector's clear time), negative again
    // from 04:00. Two alerts: the first resolved, the second open.
    await infra.db.query(
      `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
       SELECT 'SE_4', 'price_day_ahead', 'sequence=1', s,
         CASE WHEN s >= '2023-08-07T01:00:00Z' AND s < '2023-08-07T02:00:00Z' THEN -1.5
              WHEN s >= '2023-08-07T04:00:00Z' THEN -0.5 ELSE 12 END,
         'EUR/MWh', 'entsoe'
       FROM generate_series('2023-08-07T00:00:00Z'::timestamptz, '2023-08-07T04:45:00Z', interval '15 minutes') AS s`,
    );
    const deadline = Date.now() + 30_000;
    while (received.length < 3) {
      if (Date.now() > deadline) assert.fail('no webhook arrived');
      await new Promise((r) => setTimeout(r, 100));
    }
    const events = received.map((r) => AlertEventSchema.parse(JSON.parse(r.body)));
    assert.deepEqual(events.map((e) => `${e.transition} ${e.alert.first_seen}`).sort(), [
      'opened 2023-08-07T01:00:00.000Z',
      'opened 2023-08-07T04:00:00.000Z',
      'resolved 2023-08-07T01:00:00.000Z',
    ]);
    const hook = received.find((r) => AlertEventSchema.parse(JSON.parse(r.body)).transition === 'opened');
    assert.ok(hook !== undefined);
    const ts = hook.headers[WEBHOOK_HEADERS.timestamp];
    const signature = hook.headers[WEBHOOK_HEADERS.signature];
    assert.ok(
      verifyWebhook({ secret, timestamp: String(ts), body: hook.body, signature: String(signature) }),
      'signed with the shared secret',
    );
    const event = AlertEventSchema.parse(JSON.parse(hook.body));
    assert.equal(event.alert.detector, 'price_negative');
    assert.ok(event.alert.evidence.values.price === -1.5 || event.alert.evidence.values.price === -0.5);
    // The same event is on the alerts topic.
    const partitions = await infra.log.offsets('alerts');
    const records = (await Promise.all(partitions.map((p) => infra.log.read('alerts', p.partition, 0, 1000)))).flat();
    const onTopic = records.map((r) => AlertEventSchema.parse(JSON.parse(Buffer.from(r.value).toString())));
    assert.deepEqual(new Set(onTopic.map((e) => e.event_id)), new Set(events.map((e) => e.event_id)));
    const delivered = await infra.db.query<{ state: string; attempts: number }>(
      `SELECT state, attempts FROM webhook_deliveries`,
    );
    assert.deepEqual(delivered.rows, Array(3).fill({ state: 'delivered', attempts: 1 }));
  });
});

describe('the alerts role on carbon intensity (embedded log, PostgreSQL)', () => {
  it("judges each basis of a zone's intensity on its own: a jump in one opens one alert, on its own key", async (t) => {
    const infra = await postgresInfra(t);
    if (infra === undefined) return;
    // Four weeks of two real-looking bases 150 g apart (lifecycle above direct), slowly varying, then one day
    // with a 3-hour jump in the direct basis only.
    const from = Date.parse('2026-10-01T00:00:00Z');
    const days = 29;
    await infra.db.query(
      `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
       SELECT 'DE_LU', 'carbon_intensity_production', q.qualifier, s,
         q.base + 40 * sin(extract(epoch FROM s) / 43200 * pi())
           + CASE WHEN q.qualifier = 'factors=direct' AND s >= $2 AND s < $2::timestamptz + interval '3 hours'
                  THEN 400 ELSE 0 END,
         'gCO2eq/kWh', 'gridstream'
       FROM generate_series($1::timestamptz, $1::timestamptz + ($3 || ' days')::interval - interval '15 minutes',
                            interval '15 minutes') AS s,
            (VALUES ('factors=direct', 350.0), ('factors=lifecycle', 500.0)) AS q(qualifier, base)
       ORDER BY s`,
      [new Date(from), new Date(from + (days - 1) * DAY + 10 * HOUR), String(days)],
    );
    const role = alertsRole({ ...infra, rules: alertRulesOf({}), profiles: loadBdewProfiles(), intervalMs: 100 });
    for (const c of role) await c.start();
    t.after(async () => {
      for (const c of [...role].reverse()) await c.stop({ graceMs: 5000 });
    });
    const deadline = Date.now() + 30_000;
    for (;;) {
      const left = await infra.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM alert_grid_changes`);
      if (left.rows[0]?.n === 0) break;
      if (Date.now() > deadline) assert.fail('grid changes not taken');
      await new Promise((r) => setTimeout(r, 100));
    }
    // The pass that took the changes has committed its alerts with them (one transaction).
    const alerts = (await listAlerts(infra.db, { zones: null, groups: null }, { limit: 100 })).filter(
      (a) => a.detector === 'carbon_out_of_range',
    );
    assert.deepEqual(
      alerts.map((a) => [a.subject, a.first_seen]),
      [
        [
          'DE_LU|carbon_intensity_production|factors=direct',
          new Date(from + (days - 1) * DAY + 10 * HOUR).toISOString(),
        ],
      ],
    );
  });
});
