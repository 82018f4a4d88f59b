import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Decimal } from '../../src/common/index.ts';
import { normaliseDecimal } from '../../src/common/index.ts';
import { loadConfig } from '../../src/config/index.ts';
import type { CanonicalReading } from '../../src/contracts/index.ts';
import { rawMetersTopic } from '../../src/contracts/index.ts';
import { produceValues } from '../../src/log/index.ts';
import { METERS_GROUP, METERS_JOB, insertMeter, resolveMeter } from '../../src/meters/index.ts';
import { createMetrics, silentLogger } from '../../src/observability/index.ts';
import { openInfrastructure } from '../../src/runtime/index.ts';
import { costOf, decimalOfFloat, emissionsOf, sumDecimals } from '../../src/settlement/index.ts';
import type { Db } from '../../src/storage/index.ts';
import { loadOffsets, openDb } from '../../src/storage/index.ts';
import { interval, quarters } from '../helpers/meters.ts';
import { tempDir, testDatabaseUrl, uniqueName } from '../helpers/services.ts';

/*
 * Issue #14, exactly once under kill -9. 300 meters in DE_LU (Europe/Berlin) send three local days, Monday
 * 2026-06-01 to Wednesday 06-03 (288 quarter hours from 2026-05-31T22:00Z), plus the next hour to close the last
 * day, in time order into raw.meters of an embedded log. Faults make the quality role estimate: a 30-minute gap
 * (every 5th meter, day 2, linear), a 5-hour gap (every 11th meter, day 3, profile), a spike (every 7th meter, day
 * 1) and a negative import value (every 13th meter, day 1). Day-ahead prices are stored for all three days,
 * intensities for days 1 and 2 only; while the pipeline runs, the price of 08:00–10:00Z on day 2 is corrected once
 * some of those periods are settled, and the intensities of day 3 arrive once some of its rows are settled pending
 * (both restate settled rows).
 *
 * The meters, quality and settle roles run in a child process (the embedded log is owned by one process at a time:
 * the parent writes the input first and lets go of it) against PostgreSQL in a fresh schema. The child is killed
 * with SIGKILL at random moments (6 times, more while the input changes wait for their rows, and once after them;
 * 12 at most), restarted each time, and finally left to finish: until the meters role's offsets
 * stored in the database are at the end of the log, no due window is pending, and meter_work and
 * settlement_input_changes are empty. Then every meter day's settlement must equal an independent recomputation
 * from meter_validated and the known prices and intensities (exact decimals), every total must equal a clean run's
 * on the same input in another schema, and revisions exist only where an input changed.
 */

const CHILD = fileURLToPath(new URL('./children/pipeline-child.ts', import.meta.url));
const METERS = 300;
const START = '2026-05-31T22:00:00Z';
const SLOTS = quarters(START, '2026-06-03T22:00:00Z');
const NEXT_HOUR = quarters('2026-06-03T22:00:00Z', '2026-06-03T23:00:00Z');
const DAY_OF = ['2026-06-01', '2026-06-02', '2026-06-03'];
/** Day 2, 10:00–12:00 local (08:00–10:00Z): the corrected price, +33.5 EUR/MWh. */
const CORRECTED = (i: number): boolean => i >= 96 + 40 && i < 96 + 48;
const CORRECTION = 33.5;
const KILLS = 6;

const meterId = (m: number): string => `K${String(m).padStart(3, '0')}`;

/** What meter `m` sends in slot `i` (global index): `null` for nothing; `fault` when VEE must not keep it. */
function sent(m: number, i: number): { value: string; fault: boolean } | null {
  const day = Math.floor(i / 96);
  const q = i % 96;
  if (m % 5 === 0 && day === 1 && (q === 40 || q === 41)) return null;
  if (m % 11 === 0 && day === 2 && q >= 30 && q < 50) return null;
  if (m % 7 === 0 && day === 0 && q === 60) return { value: '1.5', fault: true }; // a spike
  if (m % 13 === 0 && day === 0 && q === 20) return { value: '-0.3', fault: true };
  // Canonical readings carry normalised decimals ("0.1", never "0.10").
  return { value: normaliseDecimal(((10 + (m % 9) + 2 * (i % 2)) / 100).toFixed(2)) ?? '', fault: false };
}

const price = (i: number, corrected: boolean): number =>
  40 + (i % 37) * 1.25 + (corrected && CORRECTED(i) ? CORRECTION : 0);
const lifecycle = (i: number): number => 300 + (i % 50) * 0.5;
const direct = (i: number): number => 200 + (i % 30) * 0.25;
const dec = (x: number): Decimal => decimalOfFloat(x) ?? assert.fail(`not a decimal: ${x}`);

function readings(): CanonicalReading[] {
  const out: CanonicalReading[] = [];
  SLOTS.forEach((ts, i) => {
    for (let m = 0; m < METERS; m++) {
      const s = sent(m, i);
      if (s !== null) out.push(interval(meterId(m), ts, s.value));
    }
  });
  for (const ts of NEXT_HOUR) for (let m = 0; m < METERS; m++) out.push(interval(meterId(m), ts, '0.1'));
  return out;
}

async function observations(
  db: Db,
  metric: string,
  qualifier: string,
  unit: string,
  slots: readonly number[],
  value: (i: number) => number,
): Promise<void> {
  await db.query(
    `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
     SELECT 'DE_LU', $1, $2, s, v, $3, 'entsoe' FROM unnest($4::timestamptz[], $5::float8[]) AS x(s, v)`,
    [metric, qualifier, unit, slots.map((i) => SLOTS[i]), slots.map(value)],
  );
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, k) => from + k);

async function intensities(db: Db, slots: readonly number[]): Promise<void> {
  await observations(db, 'carbon_intensity_consumption', 'factors=lifecycle', 'gCO2eq/kWh', slots, lifecycle);
  await observations(db, 'carbon_intensity_consumption', 'factors=direct', 'gCO2eq/kWh', slots, direct);
}

async function correctPrice(db: Db): Promise<void> {
  await db.query(
    `UPDATE grid_observations SET value = value + $1, last_updated = now()
     WHERE zone = 'DE_LU' AND metric = 'price_day_ahead' AND slot_start >= $2 AND slot_start < $3`,
    [CORRECTION, SLOTS[96 + 40], SLOTS[96 + 48]],
  );
}

interface Child {
  readonly process: ChildProcess;
  readonly ready: Promise<void>;
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function startChild(url: string, dataDir: string, schema: string): Child {
  const child = spawn(process.execPath, [CHILD, JSON.stringify({ url, dataDir, schema })], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    err = (err + d).slice(-20_000);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      resolve({ code, signal });
    });
  });
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      if (out.split('\n').includes('ready')) resolve();
    });
    void exit.then((e) => {
      reject(new Error(`child exited (${JSON.stringify(e)}) before it was ready:\n${out}\n${err}`));
    });
  });
  ready.catch(() => undefined);
  return { process: child, ready, exit };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Progress {
  behind: number;
  due: number;
  changes: number;
  quality: number;
  settle: number;
}

/** Where the pipeline stands, in one snapshot of the queue tables, and how many records raw.meters still holds. */
async function progress(db: Db, ends: readonly { partition: number; next: number }[]): Promise<Progress> {
  const stored = await loadOffsets(db, METERS_GROUP, rawMetersTopic.name);
  const behind = ends.reduce((n, e) => n + e.next - (stored.find((s) => s.partition === e.partition)?.offset ?? 0), 0);
  const { rows } = await db.query<Omit<Progress, 'behind'>>(
    `SELECT (SELECT count(*)::integer FROM stream_pending_windows p JOIN stream_jobs j ON j.job = p.job
             WHERE p.job = $1 AND p.window_end <= j.watermark) AS due,
            (SELECT count(*)::integer FROM settlement_input_changes) AS changes,
            (SELECT count(*)::integer FROM meter_work WHERE job = 'quality') AS quality,
            (SELECT count(*)::integer FROM meter_work WHERE job = 'settle') AS settle`,
    [METERS_JOB],
  );
  const r = rows[0] ?? assert.fail('no row');
  return { behind, ...r };
}

const settledNow = (p: Progress): boolean =>
  p.behind === 0 && p.due === 0 && p.changes === 0 && p.quality === 0 && p.settle === 0;

/** Waits until everything is committed: never "until counts stop changing". */
async function settled(db: Db, ends: readonly { partition: number; next: number }[], child: Child): Promise<void> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const p = await progress(db, ends);
    // The offsets are checked first and the queues after them: a queue row is written with the offsets that
    // produced it, so empty queues seen after the last offset mean nothing is left.
    if (p.behind === 0 && settledNow(await progress(db, ends))) return;
    if (child.process.exitCode !== null) assert.fail('the pipeline exited before it was done');
    if (Date.now() > deadline) assert.fail(`pipeline not settled: ${JSON.stringify(p)}`);
    await sleep(100);
  }
}

interface Run {
  readonly schema: string;
  readonly db: Db;
  readonly kills: { atMs: number; inFlight: boolean; progress: Progress }[];
  readonly ms: number;
}

/**
 * Writes the input into a fresh schema and log, then runs the pipeline in child processes: `kills` times killed
 * with SIGKILL after a random 200–1500 ms and restarted, then left to finish. The price correction and day 3's
 * intensities land while it runs.
 */
async function scenario(t: TestContext, url: string, kills: number): Promise<Run> {
  const began = Date.now();
  const dir = await tempDir('gridstream-kill-');
  const schema = uniqueName('gs_kill').toLowerCase();
  const children: Child[] = [];
  const opened: { db?: Db } = {};
  t.after(async () => {
    for (const c of children)
      if (c.process.exitCode === null && c.process.signalCode === null) c.process.kill('SIGKILL');
    await Promise.all(children.map((c) => c.exit));
    await opened.db?.close().catch(() => undefined);
    const admin = await openDb({ url, dataDir: dir.path, logger: silentLogger() });
    await admin.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
    await dir.remove();
  });
  const dataDir = join(dir.path, 'data');
  const infra = await openInfrastructure(
    loadConfig({ GRIDSTREAM_DATA_DIR: dataDir, DATABASE_URL: url, GRIDSTREAM_NAMESPACE: schema }),
    silentLogger(),
    createMetrics({ defaultMetrics: false }),
  );
  let ends: { partition: number; next: number }[];
  try {
    for (let m = 0; m < METERS; m++) {
      await insertMeter(
        infra.db,
        resolveMeter(
          {
            meter_id: meterId(m),
            zone: 'DE_LU',
            group: `g${m % 5}`,
            interval: 'PT15M',
            register_type: 'import',
            profile: m % 2 === 0 ? 'H0' : 'G0',
            annual_consumption_kwh: '3500',
          } as Parameters<typeof resolveMeter>[0],
          infra.reference,
        ),
      );
    }
    await observations(infra.db, 'price_day_ahead', 'sequence=1', 'EUR/MWh', range(0, 288), (i) => price(i, false));
    await intensities(infra.db, range(0, 192));
    await produceValues(infra.log, rawMetersTopic, readings());
    ends = (await infra.log.offsets(rawMetersTopic.name)).map((e) => ({ partition: e.partition, next: e.next }));
  } finally {
    await infra.close(); // lets go of the log directory for the children
  }
  const db = await openDb({ url, dataDir, schema, logger: silentLogger() });
  opened.db = db;
  const record: Run['kills'] = [];
  // The input changes land once rows they restate are settled (so that restating is exercised, in both runs):
  // the price correction once a corrected period is settled, day 3's intensities once a day 3 row is pending.
  const changes = [
    {
      what: 'price correction',
      due: `SELECT count(*) FROM meter_settlement WHERE period >= '${SLOTS[96 + 40]}' AND period < '${SLOTS[96 + 48]}'`,
      apply: () => correctPrice(db),
    },
    {
      what: 'intensities of day 3',
      due: `SELECT count(*) FROM meter_settlement WHERE period >= '${SLOTS[192]}' AND status = 'pending'`,
      apply: () => intensities(db, range(192, 288)),
    },
  ];
  const changeIfDue = async (): Promise<boolean> => {
    const next = changes[0];
    if (next === undefined || (await count(db, next.due)) === 0) return false;
    changes.shift();
    await next.apply();
    t.diagnostic(`${schema}: ${next.what} stored at ${Date.now() - began} ms`);
    return true;
  };
  // `kills` kills at least; while the input changes wait for their rows, up to 12, and one more after them (the
  // kill lands while they are restated).
  let afterChanges = 0;
  for (let k = 0; kills > 0 && (k < kills || (k < 12 && (changes.length > 0 || afterChanges < 1))); k++) {
    if (changes.length === 0) afterChanges++;
    const child = startChild(url, dataDir, schema);
    children.push(child);
    await child.ready;
    // The first two runs commit something first (else a slow transaction would be killed over and over); the
    // later ones wait until meter days are queued for quality or settle. Then a random 200–1500 ms of work.
    const before = JSON.stringify(await progress(db, ends));
    const wait = Date.now() + 60_000;
    for (;;) {
      const now = await progress(db, ends);
      if (k < 2 ? JSON.stringify(now) !== before : now.quality + now.settle + now.changes > 0 || settledNow(now)) break;
      if (Date.now() > wait) break;
      await sleep(20);
    }
    await changeIfDue();
    await sleep(200 + Math.floor(Math.random() * 1300));
    const p = await progress(db, ends);
    child.process.kill('SIGKILL');
    const exit = await child.exit;
    assert.equal(exit.signal, 'SIGKILL');
    record.push({ atMs: Date.now() - began, inFlight: !settledNow(p), progress: p });
    t.diagnostic(`${schema}: SIGKILL ${k + 1} at ${Date.now() - began} ms, just before it: ${JSON.stringify(p)}`);
  }
  const last = startChild(url, dataDir, schema);
  children.push(last);
  await last.ready;
  const wait = Date.now() + 60_000;
  while (changes.length > 0) {
    if (!(await changeIfDue())) await sleep(20);
    assert.ok(Date.now() < wait, `${changes[0]?.what ?? ''} never became due`);
  }
  await settled(db, ends, last);
  last.process.kill('SIGTERM');
  assert.deepEqual(await last.exit, { code: 0, signal: null });
  return { schema, db, kills: record, ms: Date.now() - began };
}

interface Totals {
  energy: Decimal;
  cost: Decimal;
  el: Decimal;
  ed: Decimal;
}
const norm = (x: string | null): Decimal => sumDecimals(x === null ? [] : [x as Decimal]);

/** The settlement summed per key (`meter` or `meter|day`), exact decimals normalised. */
async function settlementTotals(db: Db, perDay: boolean): Promise<Map<string, Totals>> {
  const key = perDay ? `meter_id || '|' || to_char(local_day, 'YYYY-MM-DD')` : 'meter_id';
  const { rows } = await db.query<{ k: string; energy: string; cost: string; el: string; ed: string }>(
    `SELECT ${key} AS k, sum(energy_kwh)::text AS energy, sum(cost)::text AS cost,
       sum(emissions_lifecycle_g)::text AS el, sum(emissions_direct_g)::text AS ed
     FROM meter_settlement GROUP BY 1`,
  );
  return new Map(
    rows.map((r) => [r.k, { energy: norm(r.energy), cost: norm(r.cost), el: norm(r.el), ed: norm(r.ed) }]),
  );
}

/** The settlement recomputed in the test: meter_validated × the prices and intensities the test stored. */
async function recomputed(db: Db): Promise<Map<string, Totals>> {
  const { rows } = await db.query<{ meter_id: string; ts: Date; local_day: string; value: string }>(
    `SELECT meter_id, ts, to_char(local_day, 'YYYY-MM-DD') AS local_day, value::text AS value FROM meter_validated`,
  );
  const parts = new Map<string, { energy: Decimal[]; cost: Decimal[]; el: Decimal[]; ed: Decimal[] }>();
  for (const r of rows) {
    const i = (r.ts.getTime() - Date.parse(START)) / 900_000;
    assert.ok(Number.isInteger(i) && i >= 0 && i < 288, `unexpected slot ${r.ts.toISOString()}`);
    assert.equal(r.local_day, DAY_OF[Math.floor(i / 96)]);
    const v = r.value as Decimal;
    const k = `${r.meter_id}|${r.local_day}`;
    let p = parts.get(k);
    if (p === undefined) parts.set(k, (p = { energy: [], cost: [], el: [], ed: [] }));
    p.energy.push(v);
    p.cost.push(costOf(v, dec(price(i, true))));
    p.el.push(emissionsOf(v, dec(lifecycle(i))));
    p.ed.push(emissionsOf(v, dec(direct(i))));
  }
  return new Map(
    [...parts].map(([k, p]) => [
      k,
      { energy: sumDecimals(p.energy), cost: sumDecimals(p.cost), el: sumDecimals(p.el), ed: sumDecimals(p.ed) },
    ]),
  );
}

async function count(db: Db, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT (${sql})::integer AS n`, params);
  return rows[0]?.n ?? assert.fail('no count');
}

async function checkRun(t: TestContext, run: Run): Promise<Map<string, Totals>> {
  const { db } = run;
  // Every quarter hour of every meter validated once, settled once, all final.
  assert.equal(await count(db, 'SELECT count(*) FROM meter_validated'), METERS * 288);
  assert.equal(await count(db, `SELECT count(*) FROM meter_settlement WHERE status = 'final'`), METERS * 288);
  assert.equal(await count(db, 'SELECT count(*) FROM meter_validated_revisions'), 0);
  // Measured values are exactly what was sent; gaps, spikes and negative values are estimated.
  const { rows } = await db.query<{ meter_id: string; ts: Date; value: string; quality: string; rules: string[] }>(
    'SELECT meter_id, ts, value::text AS value, quality, rules FROM meter_validated',
  );
  let measured = 0;
  const estimated = new Map<string, number>();
  for (const r of rows) {
    const m = Number(r.meter_id.slice(1));
    const i = (r.ts.getTime() - Date.parse(START)) / 900_000;
    const s = sent(m, i);
    const at = `${r.meter_id} ${r.ts.toISOString()}`;
    if (s === null || s.fault) {
      assert.notEqual(r.quality, 'measured', at);
      const why = r.rules.join('+');
      estimated.set(why, (estimated.get(why) ?? 0) + 1);
    } else {
      assert.deepEqual([r.quality, norm(r.value)], ['measured', norm(s.value)], at);
      measured++;
    }
  }
  // (a) every meter day's settlement equals the recomputation from stored inputs.
  const perDay = await settlementTotals(db, true);
  assert.equal(perDay.size, METERS * 3);
  assert.deepEqual(perDay, await recomputed(db));
  // (c) revisions only where an input changed: the corrected price (day 2) or day 3, settled pending before its
  // intensities arrived; at most one each, and every row's revision number counts its kept revisions.
  const misplaced = await count(
    db,
    `SELECT count(*) FROM meter_settlement_revisions
     WHERE NOT ((period >= $1 AND period < $2) OR period >= $3)`,
    [SLOTS[96 + 40], SLOTS[96 + 48], SLOTS[192]],
  );
  assert.equal(misplaced, 0, 'settlement revisions of periods whose inputs never changed');
  assert.equal(
    await count(
      db,
      `SELECT count(*) FROM meter_settlement s WHERE s.revision <> (SELECT count(*) FROM meter_settlement_revisions r
       WHERE r.meter_id = s.meter_id AND r.quantity = s.quantity AND r.period = s.period)`,
    ),
    0,
  );
  assert.ok((await count(db, 'SELECT max(revision) FROM meter_settlement')) <= 1);
  const oldPrice = await count(
    db,
    `SELECT count(*) FROM meter_settlement_revisions r JOIN meter_settlement s USING (meter_id, quantity, period)
     WHERE r.period >= $1 AND r.period < $2 AND (r.price + $3 <> s.price OR r.status <> 'final')`,
    [SLOTS[96 + 40], SLOTS[96 + 48], CORRECTION],
  );
  assert.equal(oldPrice, 0, 'a restated price period kept something else than the old price');
  const restatedPrice = await count(
    db,
    'SELECT count(*) FROM meter_settlement_revisions WHERE period >= $1 AND period < $2',
    [SLOTS[96 + 40], SLOTS[96 + 48]],
  );
  const restatedPending = await count(
    db,
    `SELECT count(*) FROM meter_settlement_revisions WHERE period >= $1 AND status = 'pending'`,
    [SLOTS[192]],
  );
  assert.ok(restatedPrice > 0 && restatedPending > 0, 'the input changes restated settled rows');
  t.diagnostic(
    `${run.schema}: ${measured} measured values as sent, estimated by rule: ` +
      `${JSON.stringify(Object.fromEntries(estimated))}; ${perDay.size} meter days equal to the recomputation; ` +
      `revisions: ${restatedPrice} for the corrected price, ${restatedPending} pending rows made final; ${run.ms} ms`,
  );
  return settlementTotals(db, false);
}

describe('exactly once under kill -9 (issue #14): meters, quality and settle roles on PostgreSQL', () => {
  it('SIGKILL at random moments loses and doubles no cent and no gram', { timeout: 300_000 }, async (t) => {
    const url = testDatabaseUrl(t);
    if (url === undefined) return;
    const killed = await scenario(t, url, KILLS);
    const clean = await scenario(t, url, 0);
    // (d) the kills landed while work was in flight.
    const inFlight = killed.kills.filter((k) => k.inFlight).length;
    t.diagnostic(`${killed.kills.length} kills, ${inFlight} with work in flight (records behind or days queued)`);
    assert.ok(inFlight >= 2, `only ${inFlight} kills landed while work was queued`);
    assert.ok(
      killed.kills.filter((k) => k.progress.quality + k.progress.settle > 0).length >= 2,
      'at least two kills with meter_work non-empty',
    );
    const a = await checkRun(t, killed);
    const b = await checkRun(t, clean);
    // (b) the same totals per meter as the clean run, exactly; and row by row the same validated values and
    // settlement periods (the killed run's schema is on the search path, the clean one's named).
    assert.equal(a.size, METERS);
    assert.deepEqual(a, b);
    const validatedDiff = await count(
      killed.db,
      `SELECT count(*) FROM meter_validated a FULL JOIN ${clean.schema}.meter_validated b USING (meter_id, quantity, ts)
       WHERE a.value IS DISTINCT FROM b.value OR a.quality IS DISTINCT FROM b.quality
         OR a.method IS DISTINCT FROM b.method OR a.rules IS DISTINCT FROM b.rules`,
    );
    assert.equal(validatedDiff, 0, 'meter_validated differs from the clean run');
    const settlementDiff = await count(
      killed.db,
      `SELECT count(*) FROM meter_settlement a FULL JOIN ${clean.schema}.meter_settlement b
         USING (meter_id, quantity, period)
       WHERE a.energy_kwh IS DISTINCT FROM b.energy_kwh OR a.price IS DISTINCT FROM b.price
         OR a.cost IS DISTINCT FROM b.cost OR a.emissions_lifecycle_g IS DISTINCT FROM b.emissions_lifecycle_g
         OR a.emissions_direct_g IS DISTINCT FROM b.emissions_direct_g OR a.status IS DISTINCT FROM b.status`,
    );
    assert.equal(settlementDiff, 0, 'meter_settlement differs from the clean run');
    const all = sumDecimals([...a.values()].map((x) => x.cost));
    t.diagnostic(
      `per-meter totals equal to the clean run's: ${METERS} meters, ` +
        `${sumDecimals([...a.values()].map((x) => x.energy))} kWh, ${all} EUR, ` +
        `${sumDecimals([...a.values()].map((x) => x.el))} g lifecycle, ${sumDecimals([...a.values()].map((x) => x.ed))} g direct`,
    );
  });
});
