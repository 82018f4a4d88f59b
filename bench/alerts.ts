import { SLOT_MS, startOfLocalDay } from '../src/time/index.ts';
import type { LatencyResult } from './alerts-latency.ts';
import { latencyRun } from './alerts-latency.ts';
import type { Workload } from './alerts-setup.ts';
import {
  TIME_ZONE,
  alertCount,
  alertRoles,
  alertsCaughtUp,
  flag,
  intFlag,
  log,
  open,
  pipelineDrained,
  pipelineRoles,
  produce,
  start,
  workload,
} from './alerts-setup.ts';
import type { Benchmark, Figure } from './figure.ts';
import { figure } from './figure.ts';

/**
 * Alerts (issue #15): how soon an injected fault is visible through the API, and what the detectors cost.
 *
 * Latency (`--runs` runs per `--interval-ms` value): `--meters` BDEW interval meters (groups of 50, DE_LU,
 * Europe/Berlin) send `--steps` quarter hours starting at 18:00 local two days ago (so a local day closes after 6 h
 * and its validation alerts come too), one quarter hour of the whole fleet produced to raw.meters every `--pace-ms`
 * of wall time, with faults `--faults` (default: negated readings, group outages, tampering). The meters, quality and
 * alerts roles and a real API server run in this process on a fresh database; `GET /api/v1/alerts` is polled every
 * `--poll-ms`. Latency of an alert = when a poll first showed it − when the step was produced that lets the meters
 * job's watermark (greatest event time − GRIDSTREAM_METERS_WATERMARK_BOUND_MS) pass the end of the window the alert
 * can open at (its first window plus the detector's minimum duration; a validation alert: the end of its day). The
 * event-time floor before that (the window itself plus the bound) is configuration and not part of the figure.
 *
 * Cost (`--runs` pairs, alternating): `--cost-meters` × `--cost-days` local days (+ 1 h) of the same kind, produced
 * as fast as the log takes them, through (a) meters + quality roles and (b) meters + quality + alerts roles (detector
 * interval `--cost-interval-ms`), each on a fresh database; readings/s from the first produce until the meters role
 * has committed everything, no due window is pending, the quality queue is empty and, in (b), the alerts cursors
 * have reached the watermark and the last validated day. Figure (b), baseline (a), ratio b/a.
 *
 * `--mode=postgres|embedded|both` (postgres: GRIDSTREAM_BENCH_DATABASE_URL, GRIDSTREAM_TEST_DATABASE_URL or
 * postgres://postgres@127.0.0.1:5432/test, fresh schemas gs_bench_alerts_* dropped after; embedded: PGlite);
 * `--part=latency|cost|both`.
 */

const BENCH = 'alerts';
const DAY_MS = 86_400_000;
const DEFAULT_FAULTS = 'negative=0.001,outage=0.01,tamper=0.0003';

/** 18:00 local, two days ago: every step is in the past. */
const latencyFrom = (): number => startOfLocalDay(Date.now() - 2 * DAY_MS, TIME_ZONE) + 18 * 3_600_000;

function emitLatency(
  emit: (f: Figure) => void,
  mode: string,
  run: number,
  w: Workload,
  o: { intervalMs: number; paceMs: number; pollMs: number },
  r: LatencyResult,
): void {
  const params = {
    run,
    interval_ms: o.intervalMs,
    pace_ms: o.paceMs,
    poll_ms: o.pollMs,
    meters: w.meters.length,
    steps: w.steps.length,
    event_time_floor_ms: SLOT_MS + r.boundMs,
    watermark_bound_ms: r.boundMs,
    seen_before_their_step: r.early,
    late_steps: r.lateSteps,
    poll_request_ms_p50: Math.round(r.pollMsMedian),
    wall_s: Math.round(r.wallS),
  };
  const all = r.stats.get('all');
  if (all === undefined || all.n === 0) throw new Error(`${mode} run ${run}: no alert was seen`);
  const notes = `${mode}, detector interval ${o.intervalMs} ms: produce of the step that lets the watermark pass the alert's opening window → first poll of GET /api/v1/alerts showing it; ${all.n} alerts`;
  for (const [what, value] of [
    ['p50', all.p50],
    ['p99', all.p99],
    ['max', all.max],
  ] as const)
    emit({
      ...figure(BENCH, `${mode}_latency_${what}`, value, 'ms', undefined, notes),
      params: { ...params, alerts: all.n },
    });
  for (const [detector, s] of r.stats) {
    if (detector === 'all') continue;
    emit({
      ...figure(
        BENCH,
        `${mode}_${detector}_latency_p50`,
        s.p50,
        'ms',
        undefined,
        `${detector}: p50 ${Math.round(s.p50)} ms, p99 ${Math.round(s.p99)} ms, max ${Math.round(s.max)} ms over ${s.n} alerts${s.n < 20 ? ' (few: p99 is about the max)' : ''}`,
      ),
      params: { ...params, alerts: s.n, p99_ms: Math.round(s.p99), max_ms: Math.round(s.max) },
    });
  }
}

async function costRun(mode: string, w: Workload, withAlerts: boolean, intervalMs: number, run: string) {
  const opened = await open(mode, run, w.meters);
  const { infra } = opened;
  try {
    const roles = await start([...pipelineRoles(infra), ...(withAlerts ? alertRoles(infra, intervalMs, w.from) : [])]);
    const t0 = performance.now();
    let seconds: number;
    let drained: number;
    try {
      await produce(
        infra,
        w.steps.flatMap((s) => s.readings),
      );
      await pipelineDrained(infra);
      drained = (performance.now() - t0) / 1000;
      if (withAlerts) await alertsCaughtUp(infra);
      seconds = (performance.now() - t0) / 1000;
    } finally {
      await roles.stop();
    }
    const alerts = await alertCount(infra);
    log(`${mode} cost ${run}: ${seconds.toFixed(1)} s, alerts ${JSON.stringify(alerts)}`);
    return { seconds, drained, alerts };
  } finally {
    await opened.remove();
  }
}

async function runMode(emit: (f: Figure) => void, mode: string): Promise<void> {
  const runs = intFlag('runs', 3);
  const part = flag('part', 'both');
  const faults = flag('faults', DEFAULT_FAULTS);
  if (part === 'latency' || part === 'both') {
    const w = workload(intFlag('meters', 1000), latencyFrom(), intFlag('steps', 48), faults);
    const o = { paceMs: intFlag('pace-ms', 1000), pollMs: intFlag('poll-ms', 100) };
    log(`${mode} latency: ${w.meters.length} meters, ${w.steps.length} steps, ${w.readings} readings`);
    for (const intervalMs of flag('interval-ms', '5000').split(',').map(Number)) {
      if (!Number.isInteger(intervalMs) || intervalMs <= 0) throw new Error('--interval-ms: positive whole numbers');
      for (let run = 1; run <= runs; run++) {
        const r = await latencyRun(w, { ...o, mode, intervalMs, run: `lat${intervalMs}_${run}` });
        emitLatency(emit, mode, run, w, { ...o, intervalMs }, r);
      }
    }
  }
  if (part === 'cost' || part === 'both') {
    const days = intFlag('cost-days', 1);
    const to = startOfLocalDay(Date.now() - DAY_MS, TIME_ZONE);
    const from = startOfLocalDay(to - days * DAY_MS + 2 * 3_600_000, TIME_ZONE);
    const w = workload(intFlag('cost-meters', 2000), from, Math.round((to - from) / SLOT_MS) + 4, faults);
    const intervalMs = intFlag('cost-interval-ms', 1000);
    log(`${mode} cost: ${w.meters.length} meters × ${days} days + 1 h = ${w.readings} readings`);
    for (let run = 1; run <= runs; run++) {
      const a = await costRun(mode, w, false, intervalMs, `base_${run}`);
      const b = await costRun(mode, w, true, intervalMs, `alerts_${run}`);
      const total = Object.values(b.alerts).reduce((x, y) => x + y, 0);
      emit({
        ...figure(
          BENCH,
          `${mode}_readings_per_second_with_alerts`,
          w.readings / b.seconds,
          'readings/s',
          {
            name: 'meters + quality roles without the alerts role, same readings, same run',
            value: w.readings / a.seconds,
          },
          `${mode}: ${w.meters.length} meters × ${days} days + 1 h, faults ${faults}; first produce → drained (and alerts caught up): ${b.seconds.toFixed(1)} s with alerts, ${a.seconds.toFixed(1)} s without; ${total} alerts ${JSON.stringify(b.alerts)}`,
        ),
        params: {
          run,
          meters: w.meters.length,
          days,
          readings: w.readings,
          alerts_interval_ms: intervalMs,
          alerts: total,
          with_alerts_s: Math.round(b.seconds * 10) / 10,
          without_alerts_s: Math.round(a.seconds * 10) / 10,
          // With alerts: when meters and quality were drained, before the alerts role had caught up.
          with_alerts_pipeline_drained_s: Math.round(b.drained * 10) / 10,
        },
      });
    }
  }
}

export const alertsBenchmark: Benchmark = {
  name: BENCH,
  description:
    'alerts: injected fault → visible through GET /api/v1/alerts, p50/p99/max per detector, and readings/s with the alerts role vs without (--mode=postgres|embedded|both --part=latency|cost|both --meters --steps --runs --interval-ms=5000[,1000] --pace-ms --cost-meters --cost-days)',
  async run(emit) {
    const mode = flag('mode', 'postgres');
    if (!['embedded', 'postgres', 'both'].includes(mode)) throw new Error('--mode must be embedded, postgres or both');
    if (!['latency', 'cost', 'both'].includes(flag('part', 'both'))) throw new Error('--part: latency, cost or both');
    if (mode === 'postgres' || mode === 'both') await runMode(emit, 'postgres');
    if (mode === 'embedded' || mode === 'both') await runMode(emit, 'embedded');
  },
};
