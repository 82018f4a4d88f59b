import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { silentLogger } from '../src/observability/index.ts';
import type { SimReading, SimulatedMeter } from '../src/simulator/index.ts';
import { NO_FAULTS, fleetCsv, formatUnits, generateFleet, loadBdewProfiles, simulate } from '../src/simulator/index.ts';
import { toWireReading } from '../src/simulator/index.ts';
import { startOfLocalDay } from '../src/time/index.ts';
import type { Db } from '../src/storage/index.ts';
import { migrate, openDb } from '../src/storage/index.ts';
import type { Benchmark, Figure } from './figure.ts';
import { figure } from './figure.ts';
import { READ_DAYS, reads } from './meters-reads.ts';
import type { Proc } from './meters-processes.ts';
import {
  KEY,
  api,
  deleteTopics,
  freePort,
  launch,
  log,
  progress,
  rssKb,
  runToEnd,
  sleep,
  stop,
  waitReady,
} from './meters-processes.ts';

/**
 * The meter pipeline end to end (issue #13, "Tests and benchmark"): readings of a ≥ 100 000-meter fleet POSTed
 * (gzip NDJSON, a few connections) to the ingest gateway → raw.meters → the `meters` role → database, in
 * distributed mode (Kafka + PostgreSQL: one `run ingest,api` and one `run meters` process) and embedded mode
 * (`gridstream start`: embedded log + PGlite, in one process).
 *
 * - Setup, not measured: the fleet's registry rows (COPY into `meters` in distributed mode; `gridstream meters
 *   import` of the fleet CSV in embedded mode, since PGlite belongs to one process).
 * - The sender keeps at most `--window` readings acknowledged but not yet committed by the meters group (read from
 *   /api/v1/admin/lag): it runs at the pipeline's sustained rate instead of filling the log faster than it drains.
 * - stored/s = meter_intervals rows stored (checked equal to the readings sent: no faults, interval meters only)
 *   ÷ time from the first send until the meters group committed everything. Baseline, same run: COPY of the same
 *   readings into a PostgreSQL table keyed (meter_id, ts) (text, timestamptz, numeric), 5000 rows a transaction.
 * - Latency: from the gateway's acknowledgement of a batch to its last reading being queryable (a SQL poll of
 *   meter_intervals every 50 ms in distributed mode; the API, one request at a time, in embedded mode).
 * - RSS: max VmRSS of each gridstream process over the run.
 * - Reads (distributed only): ≥ 10⁷ extra rows bulk-loaded into meter_intervals (INSERT … SELECT generate_series
 *   on the server, not through the pipeline), then one meter's 30 days via the API at PT15M and P1D.
 *
 * `--meters=N --seconds=S --window=W --mode=distributed|embedded|both --read-meters=R` (R × 30 × 96 bulk rows)
 * `--node-options=…` (NODE_OPTIONS of the gridstream processes).
 */

export const BENCH = 'meters';
export const ZONE = 'DE_LU';
export const TIME_ZONE = 'Europe/Berlin';
export const QUARTER_MS = 900_000;
const DAY_MS = 86_400_000;
const BATCH = 5000;
const SENDERS = 4;
const LATENCY_SAMPLES = 300;
const gzipAsync = promisify(gzip);

const flag = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const intFlag = (name: string, fallback: number): number => {
  const n = Number(flag(name, String(fallback)));
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
};

export const percentile = (xs: readonly number[], p: number): number => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
};
export const iso = (ms: number): string => new Date(ms).toISOString().replace('.000Z', 'Z');

/** The fleet's readings from `from` on, quarter by quarter, in batches of {@link BATCH}. */
function* readingBatches(meters: readonly SimulatedMeter[], from: number): Generator<SimReading[]> {
  const steps = simulate({
    meters,
    profiles: loadBdewProfiles(),
    from,
    to: from + 365 * DAY_MS,
    seed: 1,
    faults: NO_FAULTS,
  });
  for (const step of steps) for (let i = 0; i < step.send.length; i += BATCH) yield step.send.slice(i, i + BATCH);
}

interface Probe {
  readonly meterId: string;
  readonly ts: number;
  readonly ackAt: number;
}

/** Finds which probes are queryable now; returns those found. */
type ProbeCheck = (probes: readonly Probe[]) => Promise<Probe[]>;

interface PipelineResult {
  readonly sent: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
  readonly probesMissing: number;
  readonly ackRate: number;
  /** Share of the senders' time spent waiting for the meters group (the window full). */
  readonly heldBack: number;
}

/**
 * Sends readings for `seconds` through the gateway (never more than `window` readings acknowledged and not yet
 * committed), waits until the meters group has committed everything, and samples the latency.
 */
async function drive(o: {
  readonly base: string;
  readonly ingest: string;
  readonly meters: readonly SimulatedMeter[];
  readonly from: number;
  readonly seconds: number;
  readonly window: number;
  readonly check: ProbeCheck;
  readonly pollMs: number;
  readonly procs: readonly Proc[];
}): Promise<PipelineResult> {
  const batches = readingBatches(o.meters, o.from);
  let acknowledged = 0;
  let inFlight = 0;
  let committed = 0;
  let end = 0;
  const state: { failure: unknown; sampling: boolean } = { failure: undefined, sampling: true };
  const started = performance.now();
  const sendUntil = started + o.seconds * 1000;
  const sampleEveryMs = (o.seconds * 1000) / LATENCY_SAMPLES;
  let lastSample = 0;
  /** Time senders spent held back by the window: near 0 means the sender or the gateway, not the role, set the pace. */
  let windowWaitMs = 0;
  const pending: Probe[] = [];
  const latencies: number[] = [];

  const lagPoller = (async () => {
    while (state.failure === undefined) {
      try {
        ({ committed, end } = await progress(o.base));
      } catch (error) {
        state.failure ??= error;
      }
      for (const p of o.procs) {
        p.maxRssKb = Math.max(p.maxRssKb, rssKb(p.child.pid));
        if (p.child.exitCode !== null) state.failure ??= new Error(`${p.name} exited:\n${p.stderr()}`);
      }
      if (!state.sampling && end >= acknowledged && committed === end) return;
      await sleep(250);
    }
  })();

  const probePoller = (async () => {
    while (state.failure === undefined && (state.sampling || pending.length > 0)) {
      if (pending.length > 0) {
        try {
          const found = new Set(await o.check(pending));
          const at = performance.now();
          for (let i = pending.length - 1; i >= 0; i--) {
            const p = pending[i];
            if (p !== undefined && found.has(p)) {
              latencies.push(at - p.ackAt);
              pending.splice(i, 1);
            }
          }
        } catch (error) {
          state.failure ??= error;
        }
      }
      if (!state.sampling && performance.now() - sendUntil > 120_000) return;
      await sleep(o.pollMs);
    }
  })();

  const sender = async (): Promise<void> => {
    while (state.failure === undefined && performance.now() < sendUntil) {
      if (acknowledged + inFlight - committed > o.window) {
        windowWaitMs += 20;
        await sleep(20);
        continue;
      }
      const next = batches.next();
      if (next.done === true) return;
      const batch: SimReading[] = next.value;
      inFlight += batch.length;
      const body = await gzipAsync(Buffer.from(`${batch.map((r) => JSON.stringify(toWireReading(r))).join('\n')}\n`));
      const res = await fetch(o.ingest, {
        method: 'POST',
        body,
        headers: {
          'content-type': 'application/x-ndjson',
          'content-encoding': 'gzip',
          authorization: `Bearer ${KEY}`,
        },
      });
      const text = await res.text();
      const ackAt = performance.now();
      inFlight -= batch.length;
      if (res.status === 429 || res.status === 503) {
        // Overloaded: the gateway refused the whole body; send it again (it is not counted as sent).
        state.failure ??= new Error(`gateway overloaded (${res.status}); lower --window`);
        return;
      }
      const answer = JSON.parse(text) as { accepted?: number; rejected?: number };
      if (!res.ok || answer.accepted !== batch.length)
        throw new Error(`gateway answered ${res.status}: ${text.slice(0, 300)}`);
      acknowledged += batch.length;
      // The first and the last reading of a batch: the role may store one batch in two transactions.
      if (ackAt - lastSample >= sampleEveryMs) {
        lastSample = ackAt;
        for (const r of [batch[0], batch.at(-1)])
          if (r !== undefined) pending.push({ meterId: r.meterId, ts: r.ts, ackAt });
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: SENDERS }, () => sender()));
  } catch (error) {
    state.failure ??= error;
  }
  const sendSeconds = (performance.now() - started) / 1000;
  const ackRate = acknowledged / sendSeconds;
  const heldBack = windowWaitMs / 1000 / (SENDERS * sendSeconds);
  state.sampling = false;
  log(
    `sent ${acknowledged} readings in ${((performance.now() - started) / 1000).toFixed(1)} s; waiting for the meters group`,
  );
  const deadline = Date.now() + 300_000;
  while (state.failure === undefined && !(end >= acknowledged && committed === end)) {
    if (Date.now() > deadline) state.failure = new Error(`not drained within 300 s: ${committed}/${end} committed`);
    await sleep(50);
  }
  const seconds = (performance.now() - started) / 1000;
  await lagPoller;
  await probePoller;
  if (state.failure !== undefined)
    throw state.failure instanceof Error ? state.failure : new Error(JSON.stringify(state.failure));
  return { sent: acknowledged, seconds, latenciesMs: latencies, probesMissing: pending.length, ackRate, heldBack };
}

/** The baseline: COPY of the same readings into a (meter_id, ts)-keyed table, 5000 rows a transaction. */
async function copyBaseline(db: Db, meters: readonly SimulatedMeter[], from: number, count: number): Promise<number> {
  await db.exec(`DROP TABLE IF EXISTS bench_meters_baseline;
    CREATE TABLE bench_meters_baseline (meter_id text NOT NULL, ts timestamptz NOT NULL, value numeric NOT NULL,
      PRIMARY KEY (meter_id, ts))`);
  let ms = 0;
  let done = 0;
  for (const batch of readingBatches(meters, from)) {
    if (done >= count) break;
    const take = batch.slice(0, count - done);
    const text = take.map((r) => `${r.meterId}\t${iso(r.ts)}\t${formatUnits(r.units)}\n`).join('');
    const t0 = performance.now();
    await db.transaction((tx) => tx.copyText('bench_meters_baseline', ['meter_id', 'ts', 'value'], [text]));
    ms += performance.now() - t0;
    done += take.length;
  }
  await db.exec('DROP TABLE bench_meters_baseline');
  return done / (ms / 1000);
}

/** The meters' local midnight `days` ago: the readings are past (never refused as ahead of receipt). */
const midnightDaysAgo = (days: number): number => startOfLocalDay(Date.now() - days * DAY_MS, TIME_ZONE);

function emitPipeline(
  emit: (f: Figure) => void,
  mode: string,
  r: PipelineResult,
  stored: number,
  baseline: number,
  procs: readonly Proc[],
  meters: number,
  window: number,
): void {
  const notes = `${mode}: ${meters} meters, ${r.sent} readings sent (gateway acknowledged ${Math.round(r.ackRate)}/s; senders held back by the window ${Math.round(r.heldBack * 100)} % of their time) in batches of ${BATCH} over ${SENDERS} connections, at most ${window} acknowledged-not-committed; ${stored} rows in meter_intervals; first send → meters group committed all: ${r.seconds.toFixed(1)} s; registry loaded before (not measured)`;
  emit(
    figure(
      BENCH,
      `${mode}_stored_per_second`,
      stored / r.seconds,
      'readings/s',
      {
        name: 'COPY of the same readings into a PostgreSQL table keyed (meter_id, ts), 5000 rows a transaction',
        value: baseline,
      },
      notes,
    ),
  );
  const how =
    mode === 'distributed' ? 'SQL poll of meter_intervals every 50 ms' : 'API GET …/readings, one request at a time';
  const latNotes = `${r.latenciesMs.length} sampled readings (${r.probesMissing} never seen), gateway acknowledgement → queryable (${how}); includes the queue of ≤ ${window} readings`;
  for (const p of [50, 99])
    emit(figure(BENCH, `${mode}_ack_to_queryable_p${p}`, percentile(r.latenciesMs, p), 'ms', undefined, latNotes));
  for (const p of procs)
    emit(
      figure(
        BENCH,
        `${mode}_max_rss_${p.name}`,
        p.maxRssKb / 1024,
        'MiB',
        undefined,
        `VmRSS max over the run, sampled every 250 ms`,
      ),
    );
}

export interface ReadingsAnswer {
  points: { ts: string; value: string | null }[];
}

async function runDistributed(emit: (f: Figure) => void, url: string, brokers: string): Promise<void> {
  const count = intFlag('meters', 100_000);
  const seconds = intFlag('seconds', 60);
  const window = intFlag('window', 40_000);
  const readMeters = intFlag('read-meters', Math.ceil(10_000_000 / (READ_DAYS * 96)));
  const ns = `gs_bench_meters_${process.pid}_${Date.now() % 100_000}`;
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-meters-'));
  const db = await openDb({ url, dataDir: dir, schema: ns, logger: silentLogger() });
  const procs: Proc[] = [];
  try {
    await db.query('SELECT 1').catch((error: unknown) => {
      throw new Error(`PostgreSQL is required (GRIDSTREAM_BENCH_DATABASE_URL): ${String(error)}`, { cause: error });
    });
    await migrate(db);
    const from = midnightDaysAgo(3);
    const fleet = generateFleet({ count, seed: 1, registerShare: 0 });
    log(`distributed: COPY ${count} registry rows into ${ns}.meters (setup)`);
    // 2000 rows a transaction: the registry's trigger takes an advisory lock per row, held until commit.
    for (let i = 0; i < fleet.length; i += 2000) {
      const text = fleet
        .slice(i, i + 2000)
        .map((m) => `${m.meterId}\t${ZONE}\t${m.group}\t${TIME_ZONE}\timport\tPT15M\t${m.annualKwh}\t${m.profile}\n`)
        .join('');
      await db.transaction((tx) =>
        tx.copyText(
          'meters',
          [
            'meter_id',
            'zone',
            'group_id',
            'time_zone',
            'register_type',
            'interval',
            'annual_consumption_kwh',
            'profile',
          ],
          [text],
        ),
      );
    }
    const port = await freePort();
    const ingestPort = await freePort();
    const env = {
      GRIDSTREAM_DATA_DIR: join(dir, 'data'),
      GRIDSTREAM_PORT: String(port),
      GRIDSTREAM_INGEST_PORT: String(ingestPort),
      GRIDSTREAM_ADMIN_KEY: KEY,
      GRIDSTREAM_NAMESPACE: ns,
      DATABASE_URL: url,
      KAFKA_BROKERS: brokers,
      // The reads send more than the default 600 requests a minute.
      GRIDSTREAM_RATE_LIMIT_PER_MINUTE: '100000',
    };
    const base = `http://127.0.0.1:${port}`;
    const front = launch('ingest_api', ['run', 'ingest,api'], env);
    procs.push(front);
    await waitReady(base, procs);
    const role = launch('meters', ['run', 'meters'], env);
    procs.push(role);
    await sleep(3000);
    log(`distributed: sending for ${seconds} s`);
    const r = await drive({
      base,
      ingest: `http://127.0.0.1:${ingestPort}/ingest/meters`,
      meters: fleet,
      from,
      seconds,
      window,
      pollMs: 50,
      procs,
      check: async (probes) => {
        const { rows } = await db.query<{ meter_id: string; ts: Date }>(
          `SELECT meter_id, ts FROM meter_intervals WHERE quantity = 'energy_import'
             AND (meter_id, ts) IN (SELECT * FROM unnest($1::text[], $2::timestamptz[]))`,
          [probes.map((p) => p.meterId), probes.map((p) => iso(p.ts))],
        );
        const got = new Set(rows.map((x) => `${x.meter_id} ${new Date(x.ts).getTime()}`));
        return probes.filter((p) => got.has(`${p.meterId} ${p.ts}`));
      },
    });
    const stored = Number(
      (await db.query<{ n: string }>('SELECT count(*)::text AS n FROM meter_intervals')).rows[0]?.n,
    );
    log(`distributed: ${stored} stored; baseline COPY of ${r.sent} readings`);
    const baseline = await copyBaseline(db, fleet, from, r.sent);
    emitPipeline(emit, 'distributed', r, stored, baseline, procs, count, window);
    if (stored !== r.sent) throw new Error(`meter_intervals holds ${stored} rows, ${r.sent} readings were sent`);
    if (readMeters > 0) await reads(emit, db, base, from, readMeters);
    for (const p of procs) await stop(p);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await db.exec(`DROP SCHEMA IF EXISTS ${ns} CASCADE`).catch((e: unknown) => {
      log(`drop schema failed: ${String(e)}`);
    });
    await db.close();
    await deleteTopics(brokers, ns);
    await rm(dir, { recursive: true, force: true });
  }
}

async function runEmbedded(emit: (f: Figure) => void, url: string): Promise<void> {
  const count = intFlag('meters', 100_000);
  const seconds = intFlag('seconds', 60);
  const window = intFlag('window', 40_000);
  const dir = await mkdtemp(join(tmpdir(), 'gridstream-bench-meters-'));
  const schema = `gs_bench_meters_base_${process.pid}`;
  const pg = await openDb({ url, dataDir: dir, schema, logger: silentLogger() });
  const procs: Proc[] = [];
  try {
    await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}`).catch((error: unknown) => {
      throw new Error(`PostgreSQL is required for the baseline: ${String(error)}`, { cause: error });
    });
    const from = midnightDaysAgo(3);
    const fleet = generateFleet({ count, seed: 1, registerShare: 0 });
    const port = await freePort();
    const ingestPort = await freePort();
    const env = {
      GRIDSTREAM_DATA_DIR: join(dir, 'data'),
      GRIDSTREAM_PORT: String(port),
      GRIDSTREAM_INGEST_PORT: String(ingestPort),
      GRIDSTREAM_ADMIN_KEY: KEY,
      GRIDSTREAM_SIMULATED_METERS: '0',
      GRIDSTREAM_REPLAY_INTERVAL_MS: '600000',
    };
    log(`embedded: gridstream meters import of ${count} meters (setup)`);
    await writeFile(join(dir, 'fleet.csv'), fleetCsv(fleet, ZONE, TIME_ZONE));
    await runToEnd(['meters', 'import', join(dir, 'fleet.csv')], env);
    const base = `http://127.0.0.1:${port}`;
    const proc = launch('start', ['start'], env);
    procs.push(proc);
    await waitReady(base, procs);
    log(`embedded: sending for ${seconds} s`);
    const r = await drive({
      base,
      ingest: `http://127.0.0.1:${ingestPort}/ingest/meters`,
      meters: fleet,
      from,
      seconds,
      window,
      pollMs: 50,
      procs,
      check: async (probes) => {
        const found: Probe[] = [];
        for (const p of probes.slice(0, 20)) {
          const a = await api<ReadingsAnswer>(
            base,
            `/api/v1/meters/${p.meterId}/readings?from=${iso(p.ts)}&to=${iso(p.ts + QUARTER_MS)}&resolution=PT15M`,
          );
          if (a.points.some((x) => x.value !== null)) found.push(p);
        }
        return found;
      },
    });
    await stop(proc);
    const pglite = await openDb({ dataDir: join(dir, 'data'), logger: silentLogger() });
    let stored: number;
    try {
      stored = Number(
        (await pglite.query<{ n: string }>('SELECT count(*)::text AS n FROM meter_intervals')).rows[0]?.n,
      );
    } finally {
      await pglite.close();
    }
    log(`embedded: ${stored} stored; baseline COPY of ${r.sent} readings`);
    const baseline = await copyBaseline(pg, fleet, from, r.sent);
    emitPipeline(emit, 'embedded', r, stored, baseline, procs, count, window);
    if (stored !== r.sent) throw new Error(`meter_intervals holds ${stored} rows, ${r.sent} readings were sent`);
  } finally {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await pg.exec(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch((e: unknown) => {
      log(`drop schema failed: ${String(e)}`);
    });
    await pg.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export const metersBenchmark: Benchmark = {
  name: BENCH,
  description:
    'meter pipeline end to end (gateway → log → meters role → database), distributed and embedded: stored readings/s vs PostgreSQL COPY, ack→queryable latency, RSS, 30-day API reads (--meters=N --seconds=S --window=W --mode=both|distributed|embedded --read-meters=R)',
  needs: ['kafka', 'postgres'],
  async run(emit) {
    const url =
      process.env['GRIDSTREAM_BENCH_DATABASE_URL'] ??
      process.env['GRIDSTREAM_TEST_DATABASE_URL'] ??
      'postgres://postgres@127.0.0.1:5432/test';
    const mode = flag('mode', 'both');
    if (mode === 'both' || mode === 'distributed') {
      const brokers = process.env['KAFKA_BROKERS'];
      if (brokers === undefined || brokers === '')
        throw new Error('KAFKA_BROKERS is required (npm run bench starts it)');
      await runDistributed(emit, url, brokers);
    }
    if (mode === 'both' || mode === 'embedded') await runEmbedded(emit, url);
  },
};
