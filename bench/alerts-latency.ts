import { ApiServer } from '../src/api/index.ts';
import type { Alert } from '../src/contracts/index.ts';
import { createMetrics, silentLogger } from '../src/observability/index.ts';
import { SLOT_MS } from '../src/time/index.ts';
import type { Workload } from './alerts-setup.ts';
import {
  RULES,
  alertRoles,
  alertsCaughtUp,
  log,
  open,
  pipelineDrained,
  pipelineRoles,
  produce,
  sleep,
  start,
} from './alerts-setup.ts';

const KEY = 'bench-alerts-Zq4Wm8Kx2Pv6Ln3Rt9Hy5Jc';
/** Alerts asked for per poll; a poll whose page is all new asks again for 1000. */
const PAGE = 50;

export interface LatencyOptions {
  readonly mode: string;
  readonly intervalMs: number;
  readonly paceMs: number;
  readonly pollMs: number;
  readonly run: string;
}

export interface Stats {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
}

export interface LatencyResult {
  /** Per detector and `all`. */
  readonly stats: ReadonlyMap<string, Stats>;
  readonly boundMs: number;
  /** Alerts first seen before the step that could make them known (should be none). */
  readonly early: number;
  /** Steps produced later than planned by more than half a pace (the producer fell behind). */
  readonly lateSteps: number;
  readonly pollMsMedian: number;
  readonly wallS: number;
}

/** Nearest-rank percentile of sorted values. */
const rank = (sorted: readonly number[], p: number): number =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)] ?? Number.NaN;

export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { n: s.length, p50: rank(s, 0.5), p99: rank(s, 0.99), max: s.at(-1) ?? Number.NaN };
}

/**
 * The end of the event-time window at which an alert can open at the earliest: its first active window, extended to
 * the detector's minimum duration (the lifecycle opens an alert once active for `minActive`); a validation alert
 * (one per meter and local day) when its day is over.
 */
export function openableAt(a: Alert): number {
  if (a.detector === 'meter_vee') return Date.parse(a.last_seen);
  const minActive = RULES.detectors[a.detector].minActive;
  return Date.parse(a.first_seen) + Math.max(SLOT_MS, minActive);
}

/**
 * One latency run: meters + quality + alerts roles and a real API server on a fresh database; the steps are produced
 * to raw.meters one every `paceMs`, while `GET /api/v1/alerts` is polled every `pollMs`. An alert's latency is the
 * moment its first poll showed it minus the moment the step was produced whose event time lets the meters job's
 * watermark (greatest event time − bound) pass the window the alert can open at.
 */
export async function latencyRun(w: Workload, o: LatencyOptions): Promise<LatencyResult> {
  const opened = await open(o.mode, o.run, w.meters);
  const { infra } = opened;
  const boundMs = infra.config.meters.watermarkBoundMs;
  const server = new ApiServer({
    db: infra.db,
    log: infra.log,
    logger: silentLogger(),
    metrics: createMetrics({ defaultMetrics: false }),
    reference: infra.reference,
    host: '127.0.0.1',
    port: 0,
    adminKey: KEY,
    publicRead: false,
    defaultRatePerMinute: 10_000_000,
    version: 'bench',
    consumerGroups: [],
  });
  const seen = new Map<string, { alert: Alert; at: number }>();
  const producedAt: number[] = [];
  const pollTimes: number[] = [];
  let lateSteps = 0;
  let polling = true;
  /** The poller's failure, if any (it stops the run). */
  const pollErrors: Error[] = [];
  const t0 = performance.now();
  try {
    await server.start();
    const base = `http://127.0.0.1:${server.port}/api/v1/alerts`;
    const get = async (limit: number): Promise<Alert[]> => {
      const r = await fetch(`${base}?limit=${limit}`, { headers: { authorization: `Bearer ${KEY}` } });
      if (r.status !== 200) throw new Error(`GET /api/v1/alerts: HTTP ${r.status} ${await r.text()}`);
      return ((await r.json()) as { alerts: Alert[] }).alerts;
    };
    const poll = async (): Promise<void> => {
      while (polling) {
        const began = performance.now();
        let alerts = await get(PAGE);
        // Newest change first: a page whose oldest entry is new may hide more new ones.
        const last = alerts.at(-1);
        if (alerts.length === PAGE && last !== undefined && !seen.has(last.id)) alerts = await get(1000);
        const at = performance.now();
        for (const a of alerts) if (!seen.has(a.id)) seen.set(a.id, { alert: a, at });
        pollTimes.push(at - began);
        await sleep(Math.max(0, o.pollMs - (performance.now() - began)));
      }
    };
    const roles = await start([...pipelineRoles(infra), ...alertRoles(infra, o.intervalMs, w.from)]);
    const poller = poll().catch((e: unknown) => {
      pollErrors.push(e instanceof Error ? e : new Error(String(e)));
    });
    try {
      const s0 = performance.now();
      for (const [i, step] of w.steps.entries()) {
        const planned = s0 + i * o.paceMs;
        const wait = planned - performance.now();
        if (wait > 0) await sleep(wait);
        else if (-wait > o.paceMs / 2) lateSteps++;
        await produce(infra, step.readings);
        producedAt.push(performance.now());
        if (pollErrors.length > 0) break;
      }
      await pipelineDrained(infra);
      await alertsCaughtUp(infra);
      await sleep(Math.max(1000, 3 * o.pollMs)); // the last alerts written are polled
    } finally {
      polling = false;
      await poller;
      await roles.stop();
    }
    const failed = pollErrors[0];
    if (failed !== undefined) throw failed;
  } finally {
    await server.stop({ graceMs: 2000 });
    await opened.remove();
  }

  const latencies = new Map<string, number[]>([['all', []]]);
  let early = 0;
  for (const { alert, at } of seen.values()) {
    // The first step whose event time T gives a watermark T − bound at or past the window's end.
    const need = openableAt(alert) + boundMs;
    const k = w.steps.findIndex((s) => s.ts >= need);
    const produced = k < 0 ? undefined : producedAt[k];
    if (produced === undefined || at < produced) {
      early++;
      continue;
    }
    const ms = at - produced;
    latencies.get('all')?.push(ms);
    latencies.set(alert.detector, [...(latencies.get(alert.detector) ?? []), ms]);
  }
  const result = new Map([...latencies].map(([k, v]) => [k, stats(v)]));
  const sortedPolls = [...pollTimes].sort((a, b) => a - b);
  log(
    `${o.mode} latency run ${o.run} (interval ${o.intervalMs} ms): ${seen.size} alerts, ${JSON.stringify(Object.fromEntries(result))}${early > 0 ? `, ${early} seen before their step` : ''}`,
  );
  return {
    stats: result,
    boundMs,
    early,
    lateSteps,
    pollMsMedian: rank(sortedPolls, 0.5),
    wallS: (performance.now() - t0) / 1000,
  };
}
