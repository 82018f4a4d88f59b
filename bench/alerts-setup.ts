import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AlertRules } from '../src/alerts/index.ts';
import { alertRulesOf, alertsRole } from '../src/alerts/index.ts';
import type { Component } from '../src/common/index.ts';
import { loadConfig } from '../src/config/index.ts';
import type { CanonicalReading } from '../src/contracts/index.ts';
import { rawMetersTopic } from '../src/contracts/index.ts';
import { produceValues } from '../src/log/index.ts';
import type { Meter } from '../src/meters/index.ts';
import { METERS_JOB, insertMeter, metersRole } from '../src/meters/index.ts';
import { createMetrics, silentLogger } from '../src/observability/index.ts';
import { VeeRules, qualityRole } from '../src/quality/index.ts';
import type { Infrastructure } from '../src/runtime/index.ts';
import { fleetRegistryRow, openInfrastructure } from '../src/runtime/index.ts';
import type { InjectedEvent, InjectedFault, SimulatedMeter } from '../src/simulator/index.ts';
import { generateFleet, loadBdewProfiles, parseFaults, simulate, toCanonicalReading } from '../src/simulator/index.ts';
import { loadJobWatermark } from '../src/storage/index.ts';
import { SLOT_MS } from '../src/time/index.ts';
import { metersDrained } from '../test/helpers/meters.ts';

/**
 * What the alerts benchmark's two parts share: the simulated fleet and its steps, a fresh infrastructure per run
 * (PGlite or a fresh PostgreSQL schema, embedded log), the roles, and the "everything judged" condition.
 */

export const TIME_ZONE = 'Europe/Berlin';
export const TIMEOUT_MS = 600_000;
/** The groups' delivery latency (without one, silence never counts as an outage): as in the detectors' test. */
export const RULES: AlertRules = alertRulesOf({ deliveryLatency: 'PT30M' });

export const flag = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
export const intFlag = (name: string, fallback: number): number => {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive whole number`);
  return n;
};
export const log = (message: string): void => {
  process.stderr.write(`# alerts: ${message}\n`);
};
export const sleep = (ms: number): Promise<void> =>
  new Promise((res) => {
    setTimeout(res, ms);
  });

/** One simulated quarter hour of the whole fleet, as produced to raw.meters. */
export interface Step {
  /** Start of the quarter hour, UTC ms (the greatest event time the step carries). */
  readonly ts: number;
  readonly readings: readonly CanonicalReading[];
}

export interface Workload {
  readonly fleet: readonly SimulatedMeter[];
  readonly meters: readonly Meter[];
  readonly steps: readonly Step[];
  readonly readings: number;
  readonly from: number;
  readonly events: readonly InjectedEvent[];
  readonly faults: readonly InjectedFault[];
}

/** `count` meters in groups of 50, `steps` quarter hours from `from` (UTC ms, in the past), faults as `spec`. */
export function workload(count: number, from: number, steps: number, spec: string): Workload {
  const fleet = generateFleet({ count, seed: 15, registerShare: 0, groups: Math.max(1, Math.ceil(count / 50)) });
  const out: Step[] = [];
  const events: InjectedEvent[] = [];
  const faults: InjectedFault[] = [];
  let readings = 0;
  for (const step of simulate({
    meters: fleet,
    profiles: loadBdewProfiles(),
    from,
    to: from + steps * SLOT_MS,
    seed: 15,
    faults: parseFaults(spec),
    timeZone: TIME_ZONE,
  })) {
    events.push(...step.events);
    faults.push(...step.faults);
    const rs = step.send.map((r) => toCanonicalReading(r));
    readings += rs.length;
    if (rs.length > 0) out.push({ ts: step.ts, readings: rs });
  }
  return {
    fleet,
    meters: fleet.map((m) => fleetRegistryRow(m, { simulated: false })),
    steps: out,
    readings,
    from,
    events,
    faults,
  };
}

export interface Opened {
  readonly infra: Infrastructure;
  remove(): Promise<void>;
}

export const databaseUrl = (): string =>
  process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
  process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
  'postgres://postgres@127.0.0.1:5432/test';

/** A fresh data directory (and in postgres mode a fresh schema gs_bench_alerts_*), with the registry loaded. */
export async function open(mode: string, run: string, meters: readonly Meter[]): Promise<Opened> {
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-alerts-'));
  const schema = `gs_bench_alerts_${process.pid}_${run}`;
  const env: Record<string, string> = { GRIDSTREAM_DATA_DIR: dir };
  if (mode === 'postgres') Object.assign(env, { DATABASE_URL: databaseUrl(), GRIDSTREAM_NAMESPACE: schema });
  let infra: Infrastructure;
  try {
    infra = await openInfrastructure(loadConfig(env), silentLogger(), createMetrics({ defaultMetrics: false }));
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const remove = async (): Promise<void> => {
    if (mode === 'postgres')
      await infra.db.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((e: unknown) => {
        log(`drop schema ${schema} failed: ${String(e)}`);
      });
    await infra.close();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < meters.length; i += 500) {
      const slice = meters.slice(i, i + 500);
      await infra.db.transaction(async (tx) => {
        for (const m of slice) await insertMeter(tx, m);
      });
    }
  } catch (error) {
    await remove();
    throw error;
  }
  return { infra, remove };
}

/** The meters and quality roles (no settle role: settlement is not what alerts read). */
export const pipelineRoles = (infra: Infrastructure): Component[] => [
  ...metersRole({ ...infra, settings: infra.config.meters }),
  ...qualityRole({
    ...infra,
    rules: new VeeRules(),
    profiles: loadBdewProfiles(),
    clockToleranceMs: infra.config.meters.clockToleranceMs,
    idleMs: 100,
  }),
];

export const alertRoles = (infra: Infrastructure, intervalMs: number, from: number): Component[] =>
  alertsRole({
    ...infra,
    rules: RULES,
    profiles: loadBdewProfiles(),
    intervalMs,
    // The simulated range lies in the past: the meter detectors start at its first stored interval.
    initialLookbackMs: Date.now() - from + 3_600_000,
  });

export async function start(components: Component[]): Promise<{ stop(): Promise<void> }> {
  for (const c of components) await c.start();
  return {
    async stop() {
      for (const c of [...components].reverse()) await c.stop({ graceMs: 5000 });
    },
  };
}

export async function produce(infra: Infrastructure, readings: readonly CanonicalReading[]): Promise<void> {
  for (let i = 0; i < readings.length; i += 5000) {
    const r = await produceValues(infra.log, rawMetersTopic, readings.slice(i, i + 5000));
    if (r.rejected.length > 0) throw new Error(`raw.meters refused ${r.rejected.length} readings`);
  }
}

/**
 * The meters role has committed all of raw.meters, no window its watermark passed is pending, and the quality queue
 * is empty (every day row emitted is validated).
 */
export async function pipelineDrained(infra: Infrastructure): Promise<void> {
  await metersDrained(infra.log, infra.db, TIMEOUT_MS);
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const { rows } = await infra.db.query<{ due: number; quality: number }>(
      `SELECT (SELECT count(*)::integer FROM stream_pending_windows p JOIN stream_jobs j ON j.job = p.job
               WHERE p.job = $1 AND p.window_end <= j.watermark) AS due,
              (SELECT count(*)::integer FROM meter_work WHERE job = 'quality') AS quality`,
      [METERS_JOB],
    );
    const r = rows[0];
    if (r !== undefined && r.due === 0 && r.quality === 0) return;
    if (Date.now() > deadline) throw new Error(`pipeline not drained: ${JSON.stringify(r)}`);
    await sleep(50);
  }
}

/**
 * The alerts role has judged every window the meters job's watermark closed and every validated day (its cursors,
 * as the detectors' test reads them). Call after {@link pipelineDrained}.
 */
export async function alertsCaughtUp(infra: Infrastructure): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  for (;;) {
    const watermark = Date.parse((await loadJobWatermark(infra.db, METERS_JOB)) ?? '1970-01-01T00:00:00Z');
    const { rows } = await infra.db.query<{ meters: Date | null; vee: Date | null; validated: Date | null }>(
      `SELECT (SELECT position FROM alert_cursors WHERE detector = 'meters') AS meters,
              (SELECT position FROM alert_cursors WHERE detector = 'meter_vee') AS vee,
              (SELECT max(computed_at) FROM meter_validated) AS validated`,
    );
    const r = rows[0];
    const meters = (r?.meters?.getTime() ?? 0) >= Math.floor(watermark / SLOT_MS) * SLOT_MS;
    const vee = r?.validated == null || (r.vee?.getTime() ?? 0) >= r.validated.getTime();
    if (meters && vee) return;
    if (Date.now() > deadline) throw new Error(`alerts not caught up: ${JSON.stringify({ watermark, ...r })}`);
    await sleep(50);
  }
}

export async function alertCount(infra: Infrastructure): Promise<Record<string, number>> {
  const { rows } = await infra.db.query<{ detector: string; n: number }>(
    `SELECT detector, count(*)::integer AS n FROM alerts GROUP BY detector ORDER BY detector`,
  );
  return Object.fromEntries(rows.map((r) => [r.detector, r.n]));
}
