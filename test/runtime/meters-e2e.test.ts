import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { Admin } from '@platformatic/kafka';
import { normaliseDecimal } from '../../src/common/index.ts';
import { silentLogger } from '../../src/observability/index.ts';
import { openDb } from '../../src/storage/index.ts';
import { freePort, kafkaBrokers, tempDir, testDatabaseUrl, uniqueName } from '../helpers/services.ts';
import type { LaunchedGridstream } from '../helpers/cli.ts';
import { launchGridstream } from '../helpers/cli.ts';

/**
 * The meter platform end to end, as a user runs it: `gridstream simulate meters` posts a 200-meter fleet's three
 * days (2026-10-24 to 26 in Europe/Berlin, the 25th has 100 quarters; duplicates, late readings, register meters
 * that wrap) to the ingest gateway; the meters role is killed with SIGKILL while it works through them, twice, and
 * started again; then every meter's 15-minute and daily values, and every group's daily load, read through the API must
 * equal the simulator's ground truth exactly. Once on the embedded log and PGlite, once on Kafka and PostgreSQL.
 */

const KEY = 'gs_e2e_admin_key_Vb7Nq2Xr9Lm4Kt8Wz3Hp6';
const COUNT = 200;
const SEED = 7;
const FAULTS = 'duplicates=1%,late=2%,rollover';
const FROM = '2026-10-24';
const TO = '2026-10-27';
/** Berlin midnight of the 24th and of the 27th in UTC. */
const FROM_UTC = '2026-10-23T22:00:00Z';
const TO_UTC = '2026-10-26T23:00:00Z';
const DAYS = [
  { day: '2026-10-24', start: '2026-10-23T22:00:00Z', end: '2026-10-24T22:00:00Z' },
  { day: '2026-10-25', start: '2026-10-24T22:00:00Z', end: '2026-10-25T23:00:00Z' },
  { day: '2026-10-26', start: '2026-10-25T23:00:00Z', end: '2026-10-26T23:00:00Z' },
];

async function runToEnd(args: readonly string[], env: Record<string, string>): Promise<string> {
  const p = launchGridstream(args, env);
  const code = await p.exited;
  assert.equal(code, 0, `gridstream ${args.join(' ')} failed:\n${p.stderr()}`);
  return p.stderr();
}

async function stopGracefully(p: LaunchedGridstream): Promise<void> {
  p.child.kill('SIGTERM');
  assert.equal(await p.exited, 0, p.stderr());
}

async function api<T>(base: string, path: string): Promise<T> {
  const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${KEY}` } });
  const text = await res.text();
  assert.equal(res.status, 200, `${path}: ${text.slice(0, 500)}`);
  return JSON.parse(text) as T;
}

async function waitReady(base: string, proc: LaunchedGridstream, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (proc.child.exitCode !== null) assert.fail(`gridstream exited while starting:\n${proc.stderr()}`);
    assert.ok(Date.now() < deadline, `not up within ${timeoutMs} ms:\n${proc.stderr()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface LagAnswer {
  groups: {
    group: string;
    topic: string;
    lag: number;
    partitions: { partition: number; end: number; committed: number | null }[];
  }[];
}

/** The meters group's progress on raw.meters: records in the log and records it has committed. */
async function metersProgress(base: string): Promise<{ end: number; committed: number }> {
  const lag = await api<LagAnswer>(base, '/api/v1/admin/lag');
  const g = lag.groups.find((x) => x.group.endsWith('gridstream-meters') && x.topic.endsWith('raw.meters'));
  assert.ok(g !== undefined, JSON.stringify(lag));
  return {
    end: g.partitions.reduce((n, p) => n + p.end, 0),
    committed: g.partitions.reduce((n, p) => n + (p.committed ?? 0), 0),
  };
}

/**
 * Waits until the meters group has committed every record raw.meters holds (it commits to the log only after the
 * database transaction holding its output and offsets): then the database is final for what was sent.
 */
async function committedAll(base: string, records: number, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const p = await metersProgress(base);
    assert.ok(p.end >= records, `raw.meters holds ${p.end} records, the gateway acknowledged ${records}`);
    if (p.committed === p.end) return;
    assert.ok(Date.now() < deadline, `meters role still behind: ${JSON.stringify(p)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

interface Truth {
  meterId: string;
  group: string;
  ts: string;
  value: string;
}

const norm = (v: string | null): string | null => (v === null ? null : (normaliseDecimal(v) ?? v));
const addDecimal = (a: bigint, v: string): bigint => a + BigInt(Math.round(Number(v) * 10_000));
const fromUnits = (u: bigint): string => norm((Number(u) / 10_000).toFixed(4)) ?? '';

interface ReadingsAnswer {
  meter_id: string;
  resolution: string;
  points: { ts: string; value: string | null; quality: string; final: boolean }[];
}

/** Compares what the API answers for every meter and group with the ground truth. */
async function checkAgainstTruth(
  base: string,
  truthFile: string,
): Promise<{ meters: number; quarters: number; groups: number }> {
  const truth = readFileSync(truthFile, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Truth);
  const byMeter = new Map<string, Truth[]>();
  for (const t of truth) byMeter.set(t.meterId, [...(byMeter.get(t.meterId) ?? []), t]);
  assert.equal(byMeter.size, COUNT);
  const groupDays = new Map<string, bigint>();
  const range = `from=${FROM_UTC}&to=${TO_UTC}`;
  for (const [meterId, rows] of byMeter) {
    const quarter = await api<ReadingsAnswer>(
      base,
      `/api/v1/meters/${encodeURIComponent(meterId)}/readings?${range}&resolution=PT15M`,
    );
    const want = rows.map((r) => [r.ts, norm(r.value)]).sort();
    const got = quarter.points.map((p) => [p.ts.replace('.000Z', 'Z'), norm(p.value)]).sort();
    assert.deepEqual(got, want, `15-minute values of ${meterId}`);
    const daily = await api<ReadingsAnswer>(
      base,
      `/api/v1/meters/${encodeURIComponent(meterId)}/readings?${range}&resolution=P1D`,
    );
    const wantDays = DAYS.map((d) => {
      const units = rows.filter((r) => r.ts >= d.start && r.ts < d.end).reduce((n, r) => addDecimal(n, r.value), 0n);
      const key = `${rows[0]?.group ?? ''} ${d.start}`;
      groupDays.set(key, (groupDays.get(key) ?? 0n) + units);
      return [d.start, fromUnits(units)];
    });
    assert.deepEqual(
      daily.points.map((p) => [p.ts.replace('.000Z', 'Z'), norm(p.value)]),
      wantDays,
      `daily sums of ${meterId}`,
    );
  }
  const groups = [...new Set(truth.map((t) => t.group))];
  for (const group of groups) {
    const load = await api<ReadingsAnswer>(
      base,
      `/api/v1/groups/${encodeURIComponent(group)}/load?${range}&resolution=P1D`,
    );
    assert.deepEqual(
      load.points.map((p) => [p.ts.replace('.000Z', 'Z'), norm(p.value)]),
      DAYS.map((d) => [d.start, fromUnits(groupDays.get(`${group} ${d.start}`) ?? 0n)]),
      `daily load of ${group}`,
    );
  }
  return { meters: byMeter.size, quarters: truth.length, groups: groups.length };
}

/**
 * Sends the fleet through the gateway of `sender` (a process with the ingest and api roles), returns the ground
 * truth file and how many readings the gateway acknowledged.
 */
async function sendFleet(
  dir: string,
  env: Record<string, string>,
  ingest: string,
): Promise<{ truth: string; accepted: number }> {
  const fleet = join(dir, 'fleet.csv');
  const truth = join(dir, 'truth.ndjson');
  const keyFile = join(dir, 'key');
  writeFileSync(keyFile, `${KEY}\n`);
  const common = ['simulate', 'meters', '--count', String(COUNT), '--seed', String(SEED), '--faults', FAULTS];
  // The fleet (the same count, seed and faults give the same meters), imported before its readings arrive.
  await runToEnd([...common, '--from', FROM, '--to', '2026-10-24T00:15:00+02:00', '--fleet', fleet], env);
  await runToEnd(['meters', 'import', fleet], env);
  const summary = await runToEnd(
    [...common, '--from', FROM, '--to', TO, '--target', ingest, '--key-file', keyFile, '--truth', truth],
    env,
  );
  const line = summary
    .trim()
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{'));
  const stats = JSON.parse(line ?? '{}') as { accepted?: number; rejected?: number };
  assert.equal(stats.rejected, 0, summary);
  assert.ok((stats.accepted ?? 0) > COUNT * 288, summary);
  return { truth, accepted: stats.accepted ?? 0 };
}

/**
 * Kills `meters` with SIGKILL once it has committed more than `after` records of the backlog, and checks it was
 * mid-load.
 */
async function killMidLoad(
  base: string,
  meters: LaunchedGridstream,
  after = 0,
): Promise<{ end: number; committed: number }> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const p = await metersProgress(base);
    if (p.committed > after) {
      assert.ok(p.committed < p.end, `the meters role had finished before the kill: ${JSON.stringify(p)}`);
      meters.child.kill('SIGKILL');
      await meters.exited;
      return p;
    }
    assert.ok(Date.now() < deadline, 'the meters role made no progress');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function embedded(t: TestContext): Promise<void> {
  const dir = await tempDir('gridstream-e2e-');
  t.after(() => dir.remove());
  const port = await freePort();
  const ingestPort = await freePort();
  const env = {
    GRIDSTREAM_DATA_DIR: join(dir.path, 'data'),
    GRIDSTREAM_PORT: String(port),
    GRIDSTREAM_INGEST_PORT: String(ingestPort),
    GRIDSTREAM_ADMIN_KEY: KEY,
    GRIDSTREAM_SIMULATED_METERS: '0',
    GRIDSTREAM_REPLAY_INTERVAL_MS: '600000',
  };
  const base = `http://127.0.0.1:${port}`;
  // 1. Only the gateway and the API: every reading is acknowledged into the durable log first.
  const gateway = launchGridstream(['run', 'ingest,api'], env);
  t.after(() => gateway.child.kill('SIGKILL'));
  await waitReady(base, gateway);
  const { truth, accepted } = await sendFleet(dir.path, env, `http://127.0.0.1:${ingestPort}/ingest/meters`);
  await stopGracefully(gateway);
  // 2. The whole platform, killed with SIGKILL while the meters role works through the backlog.
  const first = launchGridstream(['start'], env);
  t.after(() => first.child.kill('SIGKILL'));
  await waitReady(base, first);
  const killed = await killMidLoad(base, first);
  // 3. Started again, and killed again further on: it resumes from the offsets stored with its output.
  const again = launchGridstream(['start'], env);
  t.after(() => again.child.kill('SIGKILL'));
  await waitReady(base, again);
  const killedAgain = await killMidLoad(base, again, killed.committed);
  t.diagnostic(
    `acknowledged ${accepted} readings; SIGKILL after ${killed.committed} and again after ${killedAgain.committed} of ${killed.end} were committed`,
  );
  const second = launchGridstream(['start'], env);
  t.after(() => second.child.kill('SIGKILL'));
  await waitReady(base, second);
  await committedAll(base, accepted);
  const checked = await checkAgainstTruth(base, truth);
  t.diagnostic(
    `equal to the truth: ${checked.quarters} quarter hours of ${checked.meters} meters, ${checked.groups} groups`,
  );
  await stopGracefully(second);
}

async function distributed(t: TestContext, brokers: string[], url: string): Promise<void> {
  const dir = await tempDir('gridstream-e2e-');
  t.after(() => dir.remove());
  const port = await freePort();
  const ingestPort = await freePort();
  const namespace = uniqueName('e2e')
    .replace(/[^a-z0-9_]/g, '_')
    .toLowerCase();
  const env = {
    GRIDSTREAM_DATA_DIR: join(dir.path, 'data'),
    GRIDSTREAM_PORT: String(port),
    GRIDSTREAM_INGEST_PORT: String(ingestPort),
    GRIDSTREAM_ADMIN_KEY: KEY,
    GRIDSTREAM_NAMESPACE: namespace,
    DATABASE_URL: url,
    KAFKA_BROKERS: brokers.join(','),
  };
  const base = `http://127.0.0.1:${port}`;
  // At the end (hooks run in the order registered, so this one stops every process first): the namespace's schema
  // and topics go.
  const procs: LaunchedGridstream[] = [];
  t.after(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    const admin = await openDb({ url, dataDir: dir.path, logger: silentLogger() });
    await admin.exec(`DROP SCHEMA IF EXISTS ${namespace} CASCADE`);
    await admin.close();
    const kafka = new Admin({ clientId: 'gridstream-test-cleanup', bootstrapBrokers: brokers });
    try {
      const topics = (await kafka.listTopics()).filter((name) => name.startsWith(`${namespace}.`));
      if (topics.length > 0) await kafka.deleteTopics({ topics });
    } finally {
      await kafka.close();
    }
  });
  const front = launchGridstream(['run', 'ingest,api'], env);
  procs.push(front);
  t.after(() => front.child.kill('SIGKILL'));
  await waitReady(base, front);
  const { truth, accepted } = await sendFleet(dir.path, env, `http://127.0.0.1:${ingestPort}/ingest/meters`);
  const meters = launchGridstream(['run', 'meters'], env);
  procs.push(meters);
  t.after(() => meters.child.kill('SIGKILL'));
  const killed = await killMidLoad(base, meters);
  const restarted = launchGridstream(['run', 'meters'], env);
  procs.push(restarted);
  t.after(() => restarted.child.kill('SIGKILL'));
  const killedAgain = await killMidLoad(base, restarted, killed.committed);
  t.diagnostic(
    `acknowledged ${accepted} readings; SIGKILL after ${killed.committed} and again after ${killedAgain.committed} of ${killed.end} were committed`,
  );
  const again = launchGridstream(['run', 'meters'], env);
  procs.push(again);
  t.after(() => again.child.kill('SIGKILL'));
  await committedAll(base, accepted);
  const checked = await checkAgainstTruth(base, truth);
  t.diagnostic(
    `equal to the truth: ${checked.quarters} quarter hours of ${checked.meters} meters, ${checked.groups} groups`,
  );
  await stopGracefully(again);
  await stopGracefully(front);
}

describe('meter platform end to end: simulator → gateway → log → meters role (SIGKILL twice mid-load) → API', () => {
  it('embedded (embedded log, PGlite): the API answers the ground truth exactly', { timeout: 900_000 }, async (t) => {
    await embedded(t);
  });

  it('distributed (Kafka, PostgreSQL): the API answers the ground truth exactly', { timeout: 900_000 }, async (t) => {
    const brokers = kafkaBrokers(t);
    const url = testDatabaseUrl(t);
    if (brokers === undefined || url === undefined) return;
    await distributed(t, brokers, url);
  });
});
