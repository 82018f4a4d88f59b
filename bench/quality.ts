import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Component } from '../src/common/index.ts';
import { loadConfig } from '../src/config/index.ts';
import type { CanonicalReading } from '../src/contracts/index.ts';
import { rawMetersTopic } from '../src/contracts/index.ts';
import { produceValues } from '../src/log/index.ts';
import type { Meter } from '../src/meters/index.ts';
import { METERS_JOB, insertMeter, metersRole } from '../src/meters/index.ts';
import { createLogger, createMetrics, silentLogger } from '../src/observability/index.ts';
import { VeeRules, qualityRole } from '../src/quality/index.ts';
import type { Infrastructure } from '../src/runtime/index.ts';
import { fleetRegistryRow, openInfrastructure } from '../src/runtime/index.ts';
import { settleRole } from '../src/settlement/index.ts';
import { generateFleet, loadBdewProfiles, parseFaults, simulate, toCanonicalReading } from '../src/simulator/index.ts';
import { SLOT_MS, formatUtc, startOfLocalDay } from '../src/time/index.ts';
import { DEFAULT_METER_SETTINGS, metersDrained } from '../test/helpers/meters.ts';
import { meterPipelineSettled } from '../test/helpers/quality.ts';
import type { Benchmark, Figure } from './figure.ts';
import { figure } from './figure.ts';

/**
 * VEE and settlement throughput (issue #14): a fleet of `--meters` interval meters (DE_LU, Europe/Berlin, BDEW
 * profiles from the simulator, `--faults` as in `gridstream simulate`, none by default) sends `--days` local days of
 * quarter hours plus the next hour (which moves the watermark past the last day); day-ahead prices and both
 * consumption intensities of those days are in grid_observations, so every settled row is final.
 *
 * Two timed runs in one process, each on a fresh data directory (and, in postgres mode, a fresh schema
 * gs_bench_quality_*), with the readings built before the clock starts and produced to raw.meters in chunks of 5000:
 * - baseline: the meters role alone, from the first produce until it has committed all of raw.meters and no window
 *   its watermark passed is pending (the day rows are written and queued for quality);
 * - full: meters + quality + settle roles together, until everything is settled (the test helper
 *   meterPipelineSettled: offsets committed, no due window, quality and settle queues and price changes empty).
 * Then, on the baseline's database, the quality and settle roles are started alone on the queued days: the VEE +
 * settlement stage by itself, in meter days/s and validated intervals/s, compared with what the meters role
 * produced per second in the baseline.
 *
 * `--meters=N --days=D --mode=embedded|postgres|both --faults=none|default|<spec> [--log-dir=DIR]` (DIR: the roles'
 * debug logs, with each batch's time per phase). Embedded: PGlite + embedded
 * log; postgres: PostgreSQL at GRIDSTREAM_BENCH_DATABASE_URL, GRIDSTREAM_TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test, with the embedded log.
 */

const BENCH = 'quality';
const ZONE = 'DE_LU';
const TIME_ZONE = 'Europe/Berlin';
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
const CHUNK = 5000;
const TIMEOUT_MS = 1_800_000;

const flag = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const intFlag = (name: string, fallback: number): number => {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
const log = (message: string): void => {
  process.stderr.write(`# quality: ${message}\n`);
};

interface Workload {
  readonly meters: readonly Meter[];
  readonly readings: readonly CanonicalReading[];
  /** Local midnight of the first day and of the day after the last, UTC ms. */
  readonly from: number;
  readonly to: number;
  readonly days: number;
}

function workload(count: number, days: number, faults: string): Workload {
  // Ending at yesterday's local midnight: the extra hour is in the past too (never ahead of receipt).
  const to = startOfLocalDay(Date.now() - DAY_MS, TIME_ZONE);
  const from = startOfLocalDay(to - days * DAY_MS + 2 * HOUR_MS, TIME_ZONE);
  const fleet = generateFleet({ count, seed: 1, registerShare: 0 });
  const readings: CanonicalReading[] = [];
  for (const step of simulate({
    meters: fleet,
    profiles: loadBdewProfiles(),
    from,
    to: to + HOUR_MS,
    seed: 1,
    faults: parseFaults(faults),
    timeZone: TIME_ZONE,
  }))
    for (const r of step.send) readings.push(toCanonicalReading(r));
  const meters = fleet.map((m) => fleetRegistryRow(m, { simulated: false }));
  return { meters, readings, from, to, days };
}

interface Opened {
  readonly infra: Infrastructure;
  remove(): Promise<void>;
}

async function open(mode: string, url: string, run: string): Promise<Opened> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-quality-'));
  const schema = `gs_bench_quality_${process.pid}_${run}`;
  const env: Record<string, string> = { GRIDSTREAM_DATA_DIR: dir };
  if (mode === 'postgres') Object.assign(env, { DATABASE_URL: url, GRIDSTREAM_NAMESPACE: schema });
  let infra: Infrastructure;
  try {
    const logDir = flag('log-dir', '');
    const logger =
      logDir === ''
        ? silentLogger()
        : createLogger({
            level: 'debug',
            format: 'json',
            destination: createWriteStream(join(logDir, `quality-${mode}-${run}.log`)),
          });
    infra = await openInfrastructure(loadConfig(env), logger, createMetrics({ defaultMetrics: false }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    infra,
    async remove() {
      if (mode === 'postgres')
        await infra.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((e: unknown) => {
          log(`drop schema ${schema} failed: ${String(e)}`);
        });
      await infra.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Registry rows and grid observations: setup, not measured. */
async function prepare(infra: Infrastructure, w: Workload): Promise<void> {
  for (let i = 0; i < w.meters.length; i += 500) {
    const slice = w.meters.slice(i, i + 500);
    await infra.db.transaction(async (tx) => {
      for (const m of slice) await insertMeter(tx, m);
    });
  }
  const slots: string[] = [];
  for (let t = w.from; t < w.to; t += SLOT_MS) slots.push(formatUtc(t));
  for (const [metric, qualifier, unit, value] of [
    ['price_day_ahead', 'sequence=1', 'EUR/MWh', (i: number) => 60 + (i % 96)],
    ['carbon_intensity_consumption', 'factors=lifecycle', 'gCO2eq/kWh', (i: number) => 300 + (i % 48)],
    ['carbon_intensity_consumption', 'factors=direct', 'gCO2eq/kWh', (i: number) => 250 + (i % 48)],
  ] as const)
    await infra.db.query(
      `INSERT INTO grid_observations (zone, metric, qualifier, slot_start, value, unit, source)
       SELECT $1, $2, $3, s, v, $4, 'entsoe' FROM unnest($5::timestamptz[], $6::float8[]) AS x(s, v)`,
      [ZONE, metric, qualifier, unit, slots, slots.map((_, i) => value(i))],
    );
}

async function start(components: Component[]): Promise<{ stop(): Promise<void> }> {
  for (const c of components) await c.start();
  return {
    async stop() {
      for (const c of [...components].reverse()) await c.stop({ graceMs: 5000 });
    },
  };
}

const meters = (infra: Infrastructure): Component[] => metersRole({ ...infra, settings: DEFAULT_METER_SETTINGS });
const veeAndSettle = (infra: Infrastructure): Component[] => [
  ...qualityRole({
    ...infra,
    rules: new VeeRules(),
    profiles: loadBdewProfiles(),
    clockToleranceMs: DEFAULT_METER_SETTINGS.clockToleranceMs,
    idleMs: 100,
  }),
  ...settleRole({ ...infra, waitMs: 0, idleMs: 100 }),
];

async function produceAll(infra: Infrastructure, readings: readonly CanonicalReading[]): Promise<void> {
  for (let i = 0; i < readings.length; i += CHUNK) {
    const r = await produceValues(infra.log, rawMetersTopic, readings.slice(i, i + CHUNK));
    if (r.rejected.length > 0) throw new Error(`raw.meters refused ${r.rejected.length} readings`);
  }
}

/** The meters role has committed all of raw.meters and no window its watermark passed is pending. */
async function metersDone(infra: Infrastructure): Promise<void> {
  await metersDrained(infra.log, infra.db, TIMEOUT_MS);
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const { rows } = await infra.db.query<{ due: number }>(
      `SELECT count(*)::integer AS due FROM stream_pending_windows p JOIN stream_jobs j ON j.job = p.job
       WHERE p.job = $1 AND p.window_end <= j.watermark`,
      [METERS_JOB],
    );
    if (rows[0]?.due === 0) return;
    if (Date.now() > deadline) throw new Error(`meters role: ${rows[0]?.due} windows still due`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

interface Counts {
  intervals: number;
  queued: number;
  validatedDays: number;
  validated: number;
  settled: number;
  pending: number;
}

async function counts(infra: Infrastructure): Promise<Counts> {
  const { rows } = await infra.db.query<Counts>(
    `SELECT (SELECT count(*)::integer FROM meter_intervals) AS intervals,
            (SELECT count(*)::integer FROM meter_work WHERE job = 'quality') AS queued,
            (SELECT count(DISTINCT (meter_id, local_day))::integer FROM meter_validated) AS "validatedDays",
            (SELECT count(*)::integer FROM meter_validated) AS validated,
            (SELECT count(*)::integer FROM meter_settlement) AS settled,
            (SELECT count(*)::integer FROM meter_settlement WHERE status = 'pending') AS pending`,
  );
  const c = rows[0];
  if (c === undefined) throw new Error('no counts');
  return c;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

async function runMode(emit: (f: Figure) => void, mode: string, url: string, w: Workload): Promise<void> {
  const n = w.readings.length;
  const size = `${w.meters.length} meters × ${w.days} days + 1 h = ${n} readings`;

  // 1. Baseline: the meters role alone; then the VEE + settle stage alone on the days it queued.
  const base = await open(mode, url, 'base');
  let baseS: number;
  let baseDays: number;
  let stageS: number;
  let stage: Counts;
  try {
    await prepare(base.infra, w);
    const roles = await start(meters(base.infra));
    const t0 = performance.now();
    try {
      await produceAll(base.infra, w.readings);
      await metersDone(base.infra);
      baseS = seconds(t0);
    } finally {
      await roles.stop();
    }
    const before = await counts(base.infra);
    baseDays = before.queued;
    log(`${mode} baseline: ${JSON.stringify(before)} in ${baseS.toFixed(1)} s`);
    const t1 = performance.now();
    const vee = await start(veeAndSettle(base.infra));
    try {
      await meterPipelineSettled(base.infra, TIMEOUT_MS);
      stageS = seconds(t1);
    } finally {
      await vee.stop();
    }
    stage = await counts(base.infra);
    log(`${mode} VEE + settle alone: ${JSON.stringify(stage)} in ${stageS.toFixed(1)} s`);
  } finally {
    await base.remove();
  }

  // 2. Full: meters + quality + settle from the start, on a fresh database.
  const full = await open(mode, url, 'full');
  let fullS: number;
  let after: Counts;
  try {
    await prepare(full.infra, w);
    const roles = await start([...meters(full.infra), ...veeAndSettle(full.infra)]);
    const t0 = performance.now();
    try {
      await produceAll(full.infra, w.readings);
      await meterPipelineSettled(full.infra, TIMEOUT_MS);
      fullS = seconds(t0);
    } finally {
      await roles.stop();
    }
    after = await counts(full.infra);
    log(`${mode} full: ${JSON.stringify(after)} in ${fullS.toFixed(1)} s`);
  } finally {
    await full.remove();
  }

  const expectedDays = w.meters.length * w.days;
  for (const [what, c] of [
    ['VEE + settle alone', stage],
    ['full', after],
  ] as const)
    if (c.validatedDays !== expectedDays || c.pending !== 0 || c.settled !== c.validated)
      throw new Error(`${what}: ${JSON.stringify(c)}, expected ${expectedDays} meter days all settled final`);

  emit(
    figure(
      BENCH,
      `${mode}_full_readings_per_second`,
      n / fullS,
      'readings/s',
      { name: 'meters role alone (no quality, no settle), same readings, same run', value: n / baseS },
      `${mode}: ${size}; first produce → all settled final: ${fullS.toFixed(1)} s (meters role alone → all committed, day rows emitted: ${baseS.toFixed(1)} s); ${after.validatedDays} meter days, ${after.validated} validated intervals, ${after.settled} settlement rows; registry and grid observations loaded before (not measured)`,
    ),
  );
  emit(
    figure(
      BENCH,
      `${mode}_vee_settle_meter_days_per_second`,
      stage.validatedDays / stageS,
      'meter days/s',
      { name: 'meter days the meters role alone emitted per second (baseline run)', value: baseDays / baseS },
      `${mode}: quality + settle roles started alone on ${baseDays} queued meter days of the baseline's database → queues empty: ${stageS.toFixed(1)} s`,
    ),
  );
  emit(
    figure(
      BENCH,
      `${mode}_vee_settle_intervals_per_second`,
      stage.validated / stageS,
      'validated intervals/s',
      { name: 'intervals the meters role alone stored per second (baseline run)', value: n / baseS },
      `${mode}: ${stage.validated} validated intervals and ${stage.settled} settlement rows in ${stageS.toFixed(1)} s`,
    ),
  );
}

export const qualityBenchmark: Benchmark = {
  name: BENCH,
  description:
    'VEE + settlement: readings/s through meters + quality + settle vs the meters role alone, and the VEE + settle stage alone in meter days/s (--meters=N --days=D --mode=embedded|postgres|both --faults=none|default|<spec>)',
  async run(emit) {
    const url =
      process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
      process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
      'postgres://postgres@127.0.0.1:5432/test';
    const mode = flag('mode', 'embedded');
    if (!['embedded', 'postgres', 'both'].includes(mode)) throw new Error('--mode must be embedded, postgres or both');
    const w = workload(intFlag('meters', 2000), intFlag('days', 2), flag('faults', 'none'));
    log(`${w.meters.length} meters, ${w.days} days, ${w.readings.length} readings`);
    if (mode === 'embedded' || mode === 'both') await runMode(emit, 'embedded', url, w);
    if (mode === 'postgres' || mode === 'both') await runMode(emit, 'postgres', url, w);
  },
};
